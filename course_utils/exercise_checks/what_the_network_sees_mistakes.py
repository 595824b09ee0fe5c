"""Which mistake a wrong answer of exercises 11 made, and a hint only when it is that mistake.

`MISTAKES` turns the course's answers (in `what_the_network_sees_reference.py`) into classic mistakes
with keyword arguments; an answer that computes exactly what one computes is shown its hint. A shape
or an error gets a hint only when it is the one a named mistake gives; otherwise the message says
what differs, and nothing more.
"""

import torch

from course_utils.checks import check_shape, explain_errors, fail
from course_utils.exercise_checks.what_the_network_sees_reference import TOP_DOWN, integrated_gradients_reference

PATH_ERRORS = {"does not require grad": "the path's images need requires_grad_(True) before the forward pass"}
STEP_ERRORS = {
    "does not require grad": "x must require gradients at every step: x = x.detach().requires_grad_(True)",
    "'NoneType' object has no attribute": "x.grad is None: x must be a leaf, x = x.detach().requires_grad_(True)",
    "leaf Variable that requires grad": "change x inside torch.no_grad(), or make a new one: x = (x - ...).detach()",
}


class explain_by_message(explain_errors):
    """`explain_errors` with the hint its error's message asks for; any other error names your line."""

    def __init__(self, what: str, hints: dict):
        super().__init__(what)
        self.hints = hints

    def __exit__(self, kind, error, traceback):
        __tracebackhide__ = True
        self.hint = next((hint for fragment, hint in self.hints.items() if fragment in str(error)), None)
        return self.hint is not None and super().__exit__(kind, error, traceback)


MISTAKES = {  # task: [(keyword arguments that make the reference a classic mistake, the hint that names it)]
    1: [
        ({"size": True}, "keep the attributions' sign, no .abs(): a negative one is a pixel that argues against"),
        ({"times": "nothing"}, "multiply the average gradient by (image - baseline): that is what makes them add up"),
        ({"times": "image"}, "multiply by (image - baseline), not by the image alone: the baseline is not 0"),
        ({"probability": True}, "take the gradient of the logit, model(path)[:, target], not of the softmax"),
        ({"reduce": "sum"}, "average the gradients over the steps (.mean(dim=0)), do not add them up"),
        ({"reduce": "none"}, "average the gradients over the steps, .mean(dim=0)"),  # [0] keeps the first step
        ({"alphas": "left"}, "use the midpoints alpha = (k + 0.5) / steps, for k = 0, ..., steps - 1"),
        ({"alphas": "right"}, "use the midpoints alpha = (k + 0.5) / steps, for k = 0, ..., steps - 1"),
        (
            {"alphas": "linspace"},
            "alpha = (k + 0.5) / steps, the midpoints of the steps: torch.linspace(0, 1, steps) starts on the "
            "baseline, ends on the image, and spaces the points 1 / (steps - 1) apart",
        ),
    ],
    2: [
        ({"descending": False}, "delete the MOST attributed pixels first: argsort(descending=True)"),
        ({"by_size": True}, "rank the pixels by the attribution itself, not its size: negative ones go last"),
        ({"probability": True}, "the target's logit, not a probability (no softmax)"),
    ],
    3: [
        ({"order": TOP_DOWN[::-1]}, "randomize from the top: the last layer (classifier.3) first, as TOP_DOWN lists"),
        ({"cumulative": False}, "keep the layers randomized so far: stage k has the top k layers random, not one"),
        ({"against": "previous"}, "compare every stage's maps with the ORIGINAL model's maps, not the stage before"),
    ],
    4: [
        ({"direction": +1}, "step AGAINST the gradient, x - eps * sign: the label's logit must go down"),
        ({"loss": True}, "use the gradient of the label's logit, model(x[None])[0, label], not of the loss"),
        ({"signs": False}, "move each pixel by eps times the SIGN of its gradient: gradient.sign()"),
        ({"accumulate": True}, "reset the image's gradient at each step: backward() adds to x.grad"),
        ({"clamp": "end"}, "clamp after EVERY step, not once at the end"),
        ({"stop": False}, "stop right after the first step at which the prediction is no longer the label"),
        ({"counted": "index"}, "steps is the number of steps taken (step + 1 after the loop's index)"),
    ],
}


def same(got, expected) -> bool:
    """Equal up to float rounding: tensors, numbers, lists of numbers, or (image, steps) pairs."""
    if isinstance(expected, tuple):
        return isinstance(got, tuple) and len(got) == len(expected) and all(map(same, got, expected))
    try:
        got, expected = torch.as_tensor(got, dtype=torch.float64), torch.as_tensor(expected, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError):
        return False
    return got.shape == expected.shape and torch.allclose(got, expected, rtol=1e-4, atol=1e-5)


def likely_mistake(task: int, got, reference, *args, default: str) -> str:
    """The hint of the classic mistake of ``task`` that computes ``got`` from ``args``, else ``default``."""
    for mistake, hint in MISTAKES[task]:
        if same(got, reference(*args, **mistake)):
            return hint
    return default


def check_shape_hinted(got, expected: tuple, what: str, hint_for) -> None:
    """`check_shape`, with the hint ``hint_for(got)`` names (None: no hint rather than a guess)."""
    __tracebackhide__ = True
    if hasattr(got, "shape") and tuple(got.shape) != tuple(expected):
        fail(what, f"expected shape {tuple(expected)}, got {tuple(got.shape)}", hint_for(got))
    check_shape(got, expected, what)


def attributions_shape_hint(got, *args) -> str | None:
    """Task 1: [1, 28, 28] holding the right values has kept the channel; a first axis of `steps`, or the
    first step's values alone, were not averaged over the steps."""
    if got.ndim == 3 and len(got) == 1 and same(got[0], integrated_gradients_reference(*args)):
        return "one value per pixel: drop the channel, [0]"
    if (got.ndim >= 1 and len(got) == args[4]) or same(got, integrated_gradients_reference(*args, reduce="none")):
        return "average the gradients over the steps, .mean(dim=0)"
    return None


def curve_shape_hint(got) -> str | None:
    """Task 2: 10 values per copy (or the 10 logits of one) are not the target's logit of each copy; another
    length of one value per copy is another list of k."""
    if got.ndim == 2 or tuple(got.shape) == (10,):
        return "the target's logit of each copy: model(batch)[:, target]"
    return "k up to 784: range(0, 785, step)" if got.ndim == 1 else None


def copies_hint(got, ends) -> str | None:
    """Task 2, first or last value wrong: the copies are to blame only when the values are logits of the
    untouched or the filled image (one end right, or the two swapped); other values say what differs."""
    near = [[abs(float(value) - end) <= 1e-4 for end in ends] for value in got[[0, -1]]]
    logits = near[0][0] or near[1][1] or near[0][1] or near[1][0]
    return "the first copy is the untouched image, the last has all 784 pixels set to fill" if logits else None


def pair_hint(result, image) -> str | None:
    """Task 4: (steps, nudged) has an int first, or the image's shape second."""
    first, second = result
    if isinstance(first, int) or tuple(getattr(second, "shape", ())) == tuple(image.shape):
        return "the pair is (nudged, steps): the image first"
    return None
