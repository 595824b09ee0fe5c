"""The checks of exercises 11 (testing the explanations, and fooling the network): ``check(task=N)``.

Each answer runs on the notebook's trained network and test images, and is compared with the course's
own (in `what_the_network_sees_reference.py`) after a property you can check by hand: integrated
gradients add up to the change of the logit; a deletion curve starts at the untouched image's logit;
the sanity check leaves the model alone; a nudge keeps every pixel between paper and full ink and,
once its count of steps is right, moves none by more than eps per step. No task calls your earlier
answers. A hint names a classic mistake only when your answer computes exactly what it computes
(`what_the_network_sees_mistakes.py` lists them).
"""

import copy

import torch
from torch import nn

from course_utils.checks import (
    check_between,
    check_close,
    check_equal,
    check_own_work,
    check_shape,
    explain_errors,
    fail,
)
from course_utils.exercise_checks import Tasks
from course_utils.exercise_checks.what_the_network_sees_mistakes import (
    PATH_ERRORS,
    STEP_ERRORS,
    attributions_shape_hint,
    check_shape_hinted,
    copies_hint,
    curve_shape_hint,
    explain_by_message,
    likely_mistake,
    pair_hint,
    same,
)
from course_utils.exercise_checks.what_the_network_sees_reference import (
    TOP_DOWN,
    cascading_randomization_reference,
    deletion_curve_reference,
    hardest,
    integrated_gradients_reference,
    levels,
    logit,
    nudge_reference,
    predicted,
    random_network,
    rank_correlation_reference,
    saliency_reference,
    signed_gradient,
)

tasks = Tasks("what_the_network_sees")
check = tasks.check


@tasks(1, "integrated gradients", answers=["integrated_gradients"])
def integrated_gradients(nb):
    model, data, ours = nb.model, nb.data, nb.integrated_gradients
    paper, grey, _ = levels(data)
    image, target, blank = data.test_x[0].clone(), int(data.test_y[0]), torch.full((1, 28, 28), paper)
    with explain_by_message("integrated_gradients", PATH_ERRORS):
        got = ours(model, image, target, blank, 64)
    args = (model, image, target, blank, 64)
    check_shape_hinted(got, (28, 28), "attributions of one image", lambda got: attributions_shape_hint(got, *args))
    check_equal(got.requires_grad, False, "the attributions carry no gradient history", hint="return them .detach()ed")
    unchanged = torch.equal(image, data.test_x[0])
    check_equal(unchanged, True, "the image is left unchanged", hint="never change it in place: build a new tensor")
    hint = likely_mistake(1, got, integrated_gradients_reference, *args, default="see the task's formula")
    check_close(
        got.sum().item(),
        logit(model, image, target) - logit(model, blank, target),
        "the attributions add up to logit(image) - logit(baseline), within 2% (completeness)",
        rtol=0.02,
        hint=hint,
    )
    expected = integrated_gradients_reference(*args)
    check_close(got, expected, "the attributions compared with the course's", rtol=1e-3, atol=1e-5, hint=hint)
    args = (model, data.test_x[1], 3, torch.full((1, 28, 28), grey), 16)
    with explain_by_message("integrated_gradients", PATH_ERRORS):
        got = ours(*args)
    hint = likely_mistake(1, got, integrated_gradients_reference, *args, default="use the arguments passed in")
    expected = integrated_gradients_reference(*args)
    check_close(got, expected, "another image, class 3, a grey baseline, 16 steps", rtol=1e-3, atol=1e-5, hint=hint)
    check_own_work(ours, integrated_gradients_reference, "integrated_gradients is your own")


@tasks(2, "a deletion curve", answers=["deletion_curve"])
def deletion_curve(nb):
    model, data, ours = nb.model, nb.data, nb.deletion_curve
    paper, grey, _ = levels(data)
    image, target = data.test_x[0].clone(), int(data.test_y[0])
    attribution = signed_gradient(model, image[None], [target])[0]  # with its sign: some pixels argue against
    with explain_errors("deletion_curve"):
        got = ours(model, image, target, attribution, paper, 16)
    if not isinstance(got, torch.Tensor):  # a list of logits, say: one tensor holds them
        listed = "torch.stack(values) or torch.tensor(values)" if isinstance(got, (list, tuple)) else None
        fail("what deletion_curve returns", f"expected a tensor, got a {type(got).__name__}", listed)
    check_shape_hinted(got, (50,), "logits after deleting k = 0, 16, ..., 784 pixels", curve_shape_hint)
    check_equal(got.requires_grad, False, "the logits carry no gradient history", hint="use torch.no_grad()")
    check_equal(torch.equal(image, data.test_x[0]), True, "the image is left unchanged", hint="delete in image.clone()")
    args = (model, image, target, attribution, paper, 16)
    mistake = likely_mistake(2, got, deletion_curve_reference, *args, default="")  # softmax: the copies are right
    ends = [logit(model, image, target), logit(model, torch.full_like(image, paper), target)]
    what = "the first and last logits: nothing deleted, then every pixel"
    check_close(got[[0, -1]], ends, what, atol=1e-4, hint=mistake or copies_hint(got, ends))
    hint = mistake or "copy k sets the k pixels with the largest attribution to fill"
    check_close(got, deletion_curve_reference(*args), "the curve compared with the course's", atol=1e-4, hint=hint)
    noise = torch.rand(28, 28, generator=torch.Generator().manual_seed(0))  # attributions with no ties
    args = (model, data.test_x[1], 3, noise, grey, 49)
    with explain_errors("deletion_curve"):
        got = ours(*args)
    hint = likely_mistake(2, got, deletion_curve_reference, *args, default="use the arguments passed in")
    what = "another image, class 3, random attributions, a grey fill, steps of 49"
    check_close(got, deletion_curve_reference(*args), what, atol=1e-4, hint=hint)
    check_own_work(ours, deletion_curve_reference, "deletion_curve is your own")


def run_cascade(nb, model, random_model, images, targets, method):
    """The student's answer with the course's rank_correlation; their model's weights are restored after."""
    before = copy.deepcopy(model.state_dict())
    try:
        given = {"rank_correlation": rank_correlation_reference, "TOP_DOWN": TOP_DOWN}  # the setup cell's
        with explain_errors("cascading_randomization"), nb.lend(**given):
            got = nb.cascading_randomization(model, random_model, images, targets, method)
        unchanged = all(torch.equal(value, before[name]) for name, value in model.state_dict().items())
    finally:
        model.load_state_dict(before)  # the later tasks need the trained network
    check_equal(unchanged, True, "the trained model is left unchanged", hint="randomize a copy: copy.deepcopy(model)")
    return got


@tasks(3, "the cascading randomization check", answers=["cascading_randomization"])
def cascading_randomization(nb):
    model, data = nb.model, nb.data
    random_model, images, targets = random_network(1), data.test_x[:6], data.test_y[:6]
    saved = copy.deepcopy(random_model.state_dict())
    got = run_cascade(nb, model, random_model, images, targets, saliency_reference)
    same_random = all(torch.equal(value, saved[name]) for name, value in random_model.state_dict().items())
    check_equal(same_random, True, "random_model is left unchanged", hint="load its weights INTO the copy of model")
    check_equal(type(got).__name__, "list", "what cascading_randomization returns", hint="a list: correlations.append")
    check_equal(len(got), 4, "one correlation per stage", hint="stages 1 to 4, one per layer of TOP_DOWN (not stage 0)")
    check_equal([type(c).__name__ for c in got], ["float"] * 4, "each is a Python float", hint="convert with float()")
    args = (model, random_model, images, targets, saliency_reference)
    default = "stage k: the top k layers of TOP_DOWN from random_model, its maps ranked against the original maps"
    hint = likely_mistake(3, got, cascading_randomization_reference, *args, default=default)
    expected = cascading_randomization_reference(*args)
    check_close(got, expected, "the four correlations compared with the course's", atol=1e-5, hint=hint)
    images, targets = data.test_x[6:12], data.test_y[6:12]
    got = run_cascade(nb, model, random_model, images, targets, signed_gradient)
    expected = cascading_randomization_reference(model, random_model, images, targets, signed_gradient)
    what, hint = "other images, with the signed gradient as the method", "compute every map with the method passed in"
    check_close(got, expected, what, atol=1e-5, hint=hint)
    check_own_work(nb.cascading_randomization, cascading_randomization_reference, "cascading_randomization is yours")


@tasks(4, "an adversarial nudge", answers=["nudge"])
def adversarial_nudge(nb):
    model, data, ours, eps = nb.model, nb.data, nb.nudge, 0.1
    paper, _, ink = levels(data)
    first, second = hardest(model, data, eps, range(50))[:2]
    image, label = data.test_x[first].clone(), int(data.test_y[first])
    with explain_by_message("nudge", STEP_ERRORS):
        result = ours(model, image, label, eps, 20)
    if not (isinstance(result, tuple) and len(result) == 2):
        fail("what nudge returns", f"expected a pair (nudged, steps), got a {type(result).__name__}", "return x, steps")
    if pair_hint(result, image):  # (steps, nudged)
        kinds = ", ".join(type(item).__name__ for item in result)
        fail("what nudge returns", f"expected (a Tensor, an int), got ({kinds})", pair_hint(result, image))
    nudged, steps = result
    check_equal(type(steps).__name__, "int", "the number of steps is a Python int", hint="count them with an int")
    check_shape(nudged, (1, 28, 28), "the nudged image", hint="the shape of the image, [1, 28, 28]")
    check_equal(nudged.requires_grad, False, "the nudged image carries no gradient history", hint="return x.detach()")
    check_equal(torch.equal(image, data.test_x[first]), True, "the image is left unchanged", hint="nudge image.clone()")
    inside = bool(((nudged >= paper - 1e-6) & (nudged <= ink + 1e-6)).all())
    what = f"every pixel between blank paper ({paper:.2f}) and full ink ({ink:.2f}), in normalized units"
    check_equal(inside, True, what, hint="x.clamp(paper, full_ink) each step")
    if nudged.min() >= -1e-6 and nudged.max() <= 1 + 1e-6:  # the paper (below 0) and the full ink (above 1) are gone
        fail(what, "every pixel is between 0 and 1", "clamp(paper, full_ink), not clamp(0, 1), to_ink's range")
    args = (model, image, label, eps, 20, paper, ink)
    expected, expected_steps = nudge_reference(*args)
    hint = likely_mistake(4, result, nudge_reference, *args, default="")  # "": no classic mistake computes it
    if not hint and steps != expected_steps and same(nudged, expected):
        hint = "the image is right, its count is not: steps is the number of times x changed"
    default = "each step: x = (x - eps * sign of d logit[label] / dx).clamp(paper, full_ink); stop once it flips"
    check_equal(steps, expected_steps, "the number of steps until the prediction flips", hint=hint or default)
    what = "the largest change of a pixel: at most eps per step, times the steps taken"  # the steps are right here
    check_between((nudged - image).abs().max(), 0, steps * eps + 1e-5, what, hint=hint or "eps * gradient.sign()")
    hint = hint or default
    check_equal(predicted(model, nudged) != label, True, "the network reads the nudged image as another digit", hint)
    check_close(nudged, expected, "the nudged image compared with the course's", atol=1e-5, hint=hint)
    args = (model, data.test_x[second], int(data.test_y[second]), eps, 2, paper, ink)  # it takes more than 2 steps
    with explain_by_message("nudge", STEP_ERRORS):
        result = ours(*args[:5])
    check_equal(result[1], 2, "max_steps = 2, on an image that needs more", hint="after max_steps steps, return them")
    hint = likely_mistake(4, result, nudge_reference, *args, default="two steps, as the task describes them")
    check_close(result[0], nudge_reference(*args)[0], "the image after those 2 steps", atol=1e-5, hint=hint)
    with_dropout = nn.Sequential(nn.Dropout(0.5), copy.deepcopy(model)).train()  # a model left in training mode
    with explain_by_message("nudge", STEP_ERRORS):
        result = ours(with_dropout, image, label, eps, 20)
    hint = "call model.eval() first: in training mode, dropout changes the network at every call"
    check_close(result[0], expected, "the nudge of a network with dropout, in training mode", atol=1e-5, hint=hint)
    check_own_work(ours, nudge_reference, "nudge is your own")
