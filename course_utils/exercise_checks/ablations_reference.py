"""What the checks of exercises 5 compare with (`ablations.py` holds the checks themselves).

- Task 1: the course's build of the one-conv network with both poolings, and the same network built
  with one classic mistake each: a hint names a mistake only when your logits are exactly its logits.
- Task 2: a stand-in for `fit` that records what it was handed, then trains as `fit` does.
- Task 4: made-up experiments (no training: an accuracy that depends on the model's size and the
  seed's luck), the table the course computes from them, and the ratio computed with classic mistakes.
"""

import inspect
import time

import pandas as pd
import torch
from torch import nn

from course_utils import fit, set_seed

SIZES = "the conv (5x5, padding 1) gives 26 x 26, one pooling 13 x 13, the second 6 x 6 (pooling rounds down)"
ORDER = "conv -> ReLU -> max pool -> max pool -> flatten -> linear 50 -> ReLU -> linear 10, no softmax"


def course_build(conv_relu=True, hidden_relu=True, pool=nn.MaxPool2d, last=()) -> nn.Sequential:
    """Task 1's network as the course builds it; the arguments build it with one classic mistake."""
    relu = lambda wanted: nn.ReLU() if wanted else nn.Identity()  # noqa: E731
    layers = [nn.Conv2d(1, 10, 5, padding=1), relu(conv_relu), pool(2), pool(2), nn.Flatten()]
    return nn.Sequential(*layers, nn.Linear(360, 50), relu(hidden_relu), nn.Linear(50, 10), *last)


MISTAKES = [  # a build with one classic mistake, and the hint that names it
    ({"last": [nn.ReLU()]}, "no ReLU after the last linear layer: the network returns raw logits"),
    ({"last": [nn.Softmax(dim=1)]}, "no softmax at the end: the network returns raw logits"),
    ({"hidden_relu": False}, "put a ReLU after the first linear layer (the 50 hidden units)"),
    ({"conv_relu": False}, "put a ReLU after the convolution"),
    ({"pool": nn.AvgPool2d}, "max pooling (nn.MaxPool2d), not average pooling"),
]


def logits_with_weights_of(model, reference: nn.Sequential, x) -> torch.Tensor:
    """``reference``'s logits for ``x`` once it holds the weights of ``model``'s conv and linear layers."""
    ours = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    theirs = [m for m in reference.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    for mine, course in zip(ours, theirs, strict=True):
        course.load_state_dict(mine.state_dict())
    with torch.no_grad():
        return reference(x)


def hint_for_logits(model, x) -> str:
    """The hint of the classic mistake whose logits ``model`` computes, or the order of the layers."""
    with torch.no_grad():
        got = model(x)
    for mistake, hint in MISTAKES:
        if torch.allclose(got, logits_with_weights_of(model, course_build(**mistake), x), atol=1e-5):
            return hint
    return f"the layers, in this order: {ORDER}"


class _Reached(BaseException):
    """Stops a forward pass at the first linear layer (a BaseException: no check takes it for an error)."""


def shape_reaching(layer: nn.Module, model: nn.Module, x) -> tuple:
    """The shape of what reaches ``layer`` when ``model`` runs on ``x`` (``()`` if nothing does)."""
    reached = {}

    def stop(layer, inputs):
        reached["shape"] = tuple(inputs[0].shape)
        raise _Reached

    handle = layer.register_forward_pre_hook(stop)
    try:
        model(x)
    except _Reached:
        pass
    finally:
        handle.remove()
    return reached.get("shape", ())


class RecordingFit:
    """Stands in for `fit`: records its arguments and the model's first weights, pauses, then trains."""

    def __init__(self, pause: float):
        self.pause, self.calls = pause, []

    def __call__(self, *args, **kwargs):
        arguments = inspect.signature(fit).bind(*args, **kwargs)
        arguments.apply_defaults()
        model = arguments.arguments["model"]
        self.calls.append({**arguments.arguments, "first weights": first_weights(model)})
        time.sleep(self.pause)  # training takes time: a timer around fit must measure at least this long
        return fit(*args, **kwargs)


def first_weights(model) -> torch.Tensor:
    return next(model.parameters()).detach().clone()


def seeded_weights(build, seed: int) -> torch.Tensor:
    """The first weights of ``build()`` after ``set_seed(seed)``: what a reproducible experiment starts from."""
    set_seed(seed)
    return first_weights(build())


MADE_UP = {2: (0.88, 0.010), 3: (0.915, 0.010), 5: (0.93, 0.005), 9: (0.91, 0.020), 17: (0.92, 0.008)}


def made_up_result(parameters: int, seed: int) -> dict:
    """A made-up experiment: the mean and the spread over seeds depend on the model's size."""
    mean, spread = MADE_UP[parameters]
    shift = (seed * 7 % 5 - 2) / 2  # -1, -0.5, 0, 0.5 or 1: the seed's luck
    return {"parameters": parameters, "val_acc": mean + spread * shift, "seconds": parameters * (2 + shift) / 10}


def course_table(sizes: dict, seeds: list):
    """The course's table of the made-up experiments of ``{variant: nn.Linear's inputs}``, indexed by
    variant, best first; and every run's results, grouped by variant."""
    runs = pd.DataFrame([{"variant": v, **made_up_result(n + 1, s)} for v, n in sizes.items() for s in seeds])
    groups = runs.groupby("variant", sort=False)
    table = groups.agg(parameters=("parameters", "first"), mean=("val_acc", "mean"), std=("val_acc", "std"))
    table["seconds"] = groups["seconds"].mean()
    return table.sort_values("mean", ascending=False), groups


def ratios(
    table, baseline, n, sigma=lambda a, b: ((a**2 + b**2) / 2) ** 0.5, yardstick=lambda s, n: s * (2 / n) ** 0.5
):
    """|gap to the baseline's mean| / yardstick σ√(2/n), for each row of ``table`` (indexed by variant)."""
    gaps = (table["mean"] - table.loc[baseline, "mean"]).abs()
    return (gaps / yardstick(sigma(table["std"], table.loc[baseline, "std"]), n)).tolist()


RATIO_MISTAKES = [  # the ratio computed another way, and the hint that names it
    ({"sigma": lambda a, b: (a + b) / 2}, "average the two standard deviations as squares: σ = √((σa² + σb²) / 2)"),
    ({"yardstick": lambda s, n: s}, "divide the gap by the yardstick σ√(2/n), not by σ alone"),
    (
        {"yardstick": lambda s, n: s / n**0.5},
        "the yardstick is σ√(2/n), not σ/√n: the gap carries the luck of two means",
    ),
]


def std_hint(got: list, groups, order: list) -> str:
    """The hint for a wrong std column: n - 1 when ``got`` is the standard deviation that divides by n."""
    if same(got, groups["val_acc"].std(ddof=0).reindex(order).tolist()):
        return (
            "the sample standard deviation divides by n - 1, as pandas' .std() and statistics.stdev do "
            "(np.std divides by n: np.std(values, ddof=1))"
        )
    return "the standard deviation of the val_acc of the variant's runs"


def ratio_hint(got: list, expected, baseline: str, n: int) -> str:
    """The hint for a wrong ratio column: the classic mistake whose ratios ``got`` are, if any."""
    hint = next((hint for kinds, hint in RATIO_MISTAKES if same(got, ratios(expected, baseline, n, **kinds))), None)
    if same(got, ratios(expected, expected.index[0], n)):
        hint = "the baseline is the first variant of the dict (next(iter(variants))), not the best row"
    if same([abs(r) for r in got], ratios(expected, baseline, n)) and min(got) < 0:
        hint = "the ratio is |gap| / yardstick: take the gap's absolute value, abs(...)"
    return hint or "|mean - the baseline's mean| / (σ√(2/n)), σ = √((σ² + σ_baseline²) / 2), n = len(seeds)"


def same(values, expected) -> bool:
    """Whether two lists of numbers agree (within check_close's default tolerance)."""
    try:
        values, expected = (torch.tensor(v, dtype=torch.float64) for v in (values, expected))
    except (TypeError, ValueError, RuntimeError):  # not numbers: not the same
        return False
    return values.shape == expected.shape and torch.allclose(values, expected, rtol=1e-5, atol=1e-6)
