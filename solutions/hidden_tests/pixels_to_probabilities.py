"""Hidden tests of exercises 2: what `course grade` runs after each task's visible checks.

The same requirements as the visible checks, on other inputs (other logits, batches of one, other settings).
"""

import torch
import torch.nn.functional as F

from course_utils.checks import check_close
from course_utils.exercise_checks import Tasks
from course_utils.exercise_checks.pixels_to_probabilities import course_gradient, course_softmax, course_targets

hidden = Tasks("pixels_to_probabilities")


@hidden(1, "softmax with a temperature", answers=["softmax"])
def other_logits(nb):
    check_close(nb.softmax(torch.zeros(3, 4)), torch.full((3, 4), 0.25), "equal logits give equal probabilities")
    one = torch.tensor([[5.0, 1.0, -2.0]])
    check_close(nb.softmax(one, temperature=2.0), torch.softmax(one / 2, dim=1), "a batch of one", atol=1e-6)
    wide = torch.randn(4, 200, generator=torch.Generator().manual_seed(1)) * 20  # divided by 0.1: up to +-1000
    check_close(nb.softmax(wide, temperature=0.1), torch.softmax(wide / 0.1, dim=1), "200 classes", atol=1e-4)


@hidden(2, "cross-entropy with label smoothing", answers=["soft_targets", "cross_entropy"])
def other_batches(nb):
    check_close(nb.soft_targets(torch.tensor([0, 4]), 5, 0.5), course_targets(torch.tensor([0, 4]), 5, 0.5), "K=5")
    draw = torch.Generator().manual_seed(2)
    large, labels = torch.randn(6, 10, generator=draw) * 100, torch.randint(0, 10, (6,), generator=draw)
    with nb.lend(softmax=course_softmax, soft_targets=course_targets):
        check_close(nb.cross_entropy(large, labels), F.cross_entropy(large, labels), "large logits", rtol=1e-4)
        expected = F.cross_entropy(large[:1], labels[:1], label_smoothing=0.2)
        check_close(nb.cross_entropy(large[:1], labels[:1], smoothing=0.2), expected, "a batch of one", rtol=1e-4)


@hidden(3, "the gradient of the loss", answers=["cross_entropy_grad"])
def other_gradients(nb):
    with nb.lend(softmax=course_softmax, soft_targets=course_targets), torch.no_grad():
        expected = [[-0.375, 0.125, 0.125, 0.125], [0.125, 0.125, 0.125, -0.375]]
        check_close(nb.cross_entropy_grad(torch.zeros(2, 4), torch.tensor([0, 3])), expected, "equal logits")
        logits, labels = torch.randn(1, 7, generator=torch.Generator().manual_seed(3)) * 3, torch.tensor([5])
        gradient = nb.cross_entropy_grad(logits, labels, smoothing=0.3)
        check_close(gradient, course_gradient(logits, labels, 0.3), "a batch of one, smoothing 0.3", atol=1e-6)


@hidden(4, "a step of gradient descent", answers=["sgd_step"])
def another_batch(nb):
    weight, bias = torch.randn(10, 784, generator=torch.Generator().manual_seed(4)) * 0.01, torch.zeros(10)
    x, y = nb.data.train_x[100:130].flatten(start_dim=1), nb.data.train_y[100:130]
    grad_logits = course_gradient(x @ weight.T + bias, y)
    expected_weight, expected_bias = weight - 0.3 * grad_logits.T @ x, bias - 0.3 * grad_logits.sum(dim=0)
    with nb.lend(cross_entropy_grad=course_gradient), torch.no_grad():
        new_weight, new_bias = nb.sgd_step(weight, bias, x, y, 0.3)
    check_close(new_weight, expected_weight, "the weight after a step on 30 other images", atol=1e-6)
    check_close(new_bias, expected_bias, "the bias after a step on 30 other images", atol=1e-6)
