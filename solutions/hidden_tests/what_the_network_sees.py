"""Hidden tests of exercises 11: what `course grade` runs after each task's visible checks.

The same requirements as the visible checks, on other inputs: other images, classes, baselines,
fills, step sizes and random networks.
"""

import copy

import torch
from torch import nn

from course_utils.checks import check_close, check_equal
from course_utils.exercise_checks import Tasks
from course_utils.exercise_checks.what_the_network_sees_reference import (
    TOP_DOWN,
    cascading_randomization_reference,
    deletion_curve_reference,
    hardest,
    integrated_gradients_reference,
    levels,
    nudge_reference,
    random_network,
    rank_correlation_reference,
    signed_gradient,
)

hidden = Tasks("what_the_network_sees")


@hidden(1, "integrated gradients", answers=["integrated_gradients"])
def other_paths(nb):
    model, data, ours = nb.model, nb.data, nb.integrated_gradients
    paper, _, ink = levels(data)
    for args in [
        (model, data.test_x[7], 5, torch.full((1, 28, 28), ink), 7),  # a full-ink baseline, 7 steps
        (model, data.test_x[8], int(data.test_y[8]), torch.full((1, 28, 28), paper), 1),  # one step: alpha = 1/2
    ]:
        expected = integrated_gradients_reference(*args)
        check_close(ours(*args), expected, f"{args[4]} steps, class {args[2]}", rtol=1e-3, atol=1e-5)
    same = ours(model, data.test_x[9], 2, data.test_x[9].clone(), 8)
    check_close(same, torch.zeros(28, 28), "the image as its own baseline: every attribution is 0", atol=1e-6)


@hidden(2, "a deletion curve", answers=["deletion_curve"])
def other_steps(nb):
    model, data, ours = nb.model, nb.data, nb.deletion_curve
    _, _, ink = levels(data)
    attribution = torch.randn(28, 28, generator=torch.Generator().manual_seed(1))
    image = data.test_x[4].clone()
    args = (model, image, 6, attribution, ink, 100)  # 100 does not divide 784: k = 0, 100, ..., 700
    check_close(ours(*args), deletion_curve_reference(*args), "steps of 100, a full-ink fill", atol=1e-4)
    check_equal(torch.equal(image, data.test_x[4]), True, "the image is left unchanged")


def gradient_times_input(model, images, targets):
    """Another attribution method: the signed gradient times the pixel's value."""
    return signed_gradient(model, images, targets) * images[:, 0]


@hidden(3, "the cascading randomization check", answers=["cascading_randomization"])
def another_random_network(nb):
    model, data = nb.model, nb.data
    args = (model, random_network(2), data.test_x[20:25], data.test_y[20:25], gradient_times_input)
    before = copy.deepcopy(model.state_dict())
    try:
        with nb.lend(rank_correlation=rank_correlation_reference, TOP_DOWN=TOP_DOWN):
            got = nb.cascading_randomization(*args)
        unchanged = all(torch.equal(value, before[name]) for name, value in model.state_dict().items())
    finally:
        model.load_state_dict(before)
    check_equal(unchanged, True, "the trained model is left unchanged")
    expected = cascading_randomization_reference(*args)
    check_close(got, expected, "another random network, other images, gradient times input", atol=1e-5)


@hidden(4, "an adversarial nudge", answers=["nudge"])
def other_images(nb):
    model, data, ours = nb.model, nb.data, nb.nudge
    paper, _, ink = levels(data)
    for index in hardest(model, data, 0.2, range(50, 100))[:2]:
        image, label = data.test_x[index].clone(), int(data.test_y[index])
        nudged, steps = ours(model, image, label, 0.2, 20)
        expected, expected_steps = nudge_reference(model, image, label, 0.2, 20, paper, ink)
        check_equal(steps, expected_steps, f"steps of eps = 0.2 for test image {index}")
        check_close(nudged, expected, f"the nudged test image {index}", atol=1e-5)
        check_equal(torch.equal(image, data.test_x[index]), True, "the image is left unchanged")
    with_dropout = nn.Sequential(copy.deepcopy(model), nn.Dropout(0.5)).train()  # dropout on the logits
    nudged, _ = ours(with_dropout, image, label, 0.2, 20)
    check_close(nudged, expected, "a network with dropout, in training mode", atol=1e-5)
