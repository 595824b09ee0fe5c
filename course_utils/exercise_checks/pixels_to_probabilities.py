"""The checks of exercises 2 (from pixels to probabilities, by hand): ``check(task=N)``.

Every function is compared with what PyTorch computes: `torch.softmax`, `F.cross_entropy` with its
``label_smoothing``, the gradient autograd finds, a step of `torch.optim.SGD`. Tasks 2-4 run with the
course's versions of the earlier tasks lent in their place (`nb.lend`), so one mistake costs one task.
A hint is shown only when the answer looks like the mistake it names.
"""

import math
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import nn

from course_utils import iterate_batches, set_seed
from course_utils.checks import check_between, check_close, check_own_work, check_shape, fail
from course_utils.exercise_checks import Tasks

tasks = Tasks("pixels_to_probabilities")
check = tasks.check
KEEPDIM = "keep the reduced dimension: .max(dim=1, keepdim=True) and .sum(dim=1, keepdim=True) give [N, 1]"
OVERFLOW = "exp(1000) is inf and inf / inf is nan; exp(-1000) is 0 and 0 / 0 is nan: subtract EACH ROW's largest logit"
SHAPES = {
    "must match the size": "each gradient has the shape of what it updates: G.T @ x is [10, 784], G.sum(dim=0) [10]",
    "cannot be multiplied": "the logits are x @ weight.T + bias: [N, 784] times [784, 10]",
}
TARGETS = "q = (1 - smoothing) * one_hot + smoothing / K: smoothing / K for every class, 1 - smoothing more for y"


def course_softmax(logits, temperature=1.0):  # Task 1's answer, PyTorch's way
    return torch.softmax(logits / temperature, dim=1)


def course_targets(labels, n_classes, smoothing=0.0):  # Task 2's soft_targets
    return (1 - smoothing) * F.one_hot(labels, n_classes).float() + smoothing / n_classes


def course_gradient(logits, labels, smoothing=0.0):  # Task 3's answer, by autograd
    with torch.enable_grad():
        watched = logits.detach().clone().requires_grad_()
        F.cross_entropy(watched, labels, label_smoothing=smoothing).backward()
    return watched.grad


def matches(value, wrong) -> bool:
    """Whether ``value`` is what a classic mistake would give (then its hint applies)."""
    value = torch.as_tensor(value).double()
    return value.shape == wrong.shape and torch.allclose(value, wrong.double(), rtol=1e-4, atol=1e-6)


@contextmanager
def explained(what: str, hints: dict):
    """A RuntimeError of the student's code whose message points to a classic mistake gets that mistake's hint."""
    try:
        yield
    except RuntimeError as error:
        hint = next((h for words, h in hints.items() if words in str(error)), None)
        if hint is None:
            raise
        fail(what, f"your code raised RuntimeError: {str(error).splitlines()[0]}", hint)


def softmax_of(softmax, logits, what: str, **temperature):
    """The student's softmax; a size mismatch (a row's max or sum without keepdim=True) gets its hint."""
    with explained(what, {"must match the size": KEEPDIM}):
        return softmax(logits, **temperature)


@tasks(1, "softmax with a temperature", answers=["softmax"])
def softmax_with_temperature(nb):
    softmax = nb.softmax
    check_own_work(softmax, (torch.softmax, F.softmax), "softmax is your own")
    torch.manual_seed(nb.seed)
    logits = torch.randn(8, 10) * 3  # 8 rows of 10: a row's max without keepdim=True does not line up
    probabilities = softmax_of(softmax, logits, "softmax of 8 x 10 logits")
    check_shape(probabilities, (8, 10), "softmax of 8 x 10 logits", hint="one probability per logit: keep the shape")
    divide = "divide each row by its own sum: .sum(dim=1, keepdim=True)"
    check_close(probabilities.sum(dim=1), torch.ones(8), "each row adds up to 1", atol=1e-5, hint=divide)
    check_close(probabilities, torch.softmax(logits, dim=1), "compared with torch.softmax", atol=1e-6)
    for temperature in (0.5, 4.0):
        what = f"temperature {temperature}, compared with torch.softmax(logits / {temperature})"
        got = softmax_of(softmax, logits, what, temperature=temperature)
        wrong = [torch.softmax(logits * temperature, dim=1), torch.softmax(logits, dim=1)]
        hint = "divide the logits by the temperature: softmax(logits / temperature)"
        hint = hint if any(matches(got, w) for w in wrong) else None
        check_close(got, torch.softmax(logits / temperature, dim=1), what, atol=1e-6, hint=hint)
    large = torch.tensor([[1000.0, 999.0, 0.0], [-1000.0, -999.0, -1001.0]])
    for what, z, temperature in [("logits of +-1000", large, 1.0), ("temperature 0.01: logits / 0.01", logits, 0.01)]:
        got = softmax_of(softmax, z, what, temperature=temperature)
        hint = OVERFLOW if not torch.as_tensor(got).isfinite().all() else None
        check_close(got, torch.softmax(z / temperature, dim=1), f"{what}, without overflow", atol=1e-4, hint=hint)


def smoothed_loss(logits, labels, true_class: float, other: float):  # the loss with a classic mistake's targets q
    q = torch.full_like(logits, other)
    q[torch.arange(len(labels)), labels] = true_class
    return -(q * torch.log_softmax(logits, dim=1)).sum(dim=1).mean()


@tasks(2, "cross-entropy with label smoothing", answers=["soft_targets", "cross_entropy"])
def cross_entropy_with_smoothing(nb):
    targets = nb.soft_targets(torch.tensor([2, 0]), 4, smoothing=0.2)
    what = "soft_targets([2, 0], 4, smoothing=0.2)"
    check_shape(targets, (2, 4), f"{what}: the shape", hint="one row of K targets per label")
    wrong = [[0.2 / 3] * 4, [0.05] * 4, [0.0] * 4]  # smoothing / (K - 1); no (1 - smoothing); one-hot, no smoothing
    wrong[0][2], wrong[1][2], wrong[2][2] = 0.8, 1.05, 1.0
    hint = TARGETS if any(matches(targets[0], torch.tensor(w)) for w in wrong) else None
    check_close(targets, [[0.05, 0.05, 0.85, 0.05], [0.85, 0.05, 0.05, 0.05]], what, atol=1e-6, hint=hint)
    check_close(nb.soft_targets(torch.tensor([1]), 3), [[0.0, 1.0, 0.0]], "soft_targets([1], 3): one-hot", atol=0)
    torch.manual_seed(nb.seed)
    logits, labels = torch.randn(16, 10) * 2, torch.randint(0, 10, (16,))
    with nb.lend(softmax=course_softmax, soft_targets=course_targets):  # a mistake in Task 1 costs only Task 1
        loss = nb.cross_entropy(logits, labels)
        hints = {
            "average over the batch: .mean(), not .sum()": 16 * F.cross_entropy(logits, labels),
            "take each row's own class, values[torch.arange(N), labels] (values[:, labels] takes every row's "
            "entries of every label)": -torch.log_softmax(logits, dim=1)[:, labels].mean(),
        }
        hint = next((h for h, wrong in hints.items() if matches(loss, wrong)), None)
        check_close(loss, F.cross_entropy(logits, labels), "compared with F.cross_entropy", rtol=1e-5, hint=hint)
        check_close(nb.cross_entropy(torch.zeros(4, 10), labels[:4]), math.log(10), "ten equal logits cost ln 10")
        smoothed = nb.cross_entropy(logits, labels, smoothing=0.1)
        wrong = [smoothed_loss(logits, labels, 0.9, 0.1 / 9), smoothed_loss(logits, labels, 1.01, 0.01)]
        hint = TARGETS if any(matches(smoothed, w) for w in wrong) else None
        expected, what = F.cross_entropy(logits, labels, label_smoothing=0.1), "smoothing 0.1, compared with F"
        check_close(smoothed, expected, f"{what}.cross_entropy(..., label_smoothing=0.1)", rtol=1e-5, hint=hint)
        mistake = torch.tensor([[0.0, 200.0, -50.0]])
        for smoothing in (0.0, 0.3):
            loss = nb.cross_entropy(mistake, torch.tensor([0]), smoothing=smoothing)
            hint = "log(softmax(...)) takes -ln 0 = inf here: ln p = z - m - ln(sum(exp(z - m))), m the row's maximum"
            what = f"a confident mistake: logits (0, 200, -50), true class 0, smoothing {smoothing}"
            expected = F.cross_entropy(mistake, torch.tensor([0]), label_smoothing=smoothing)
            check_close(loss, expected, what, rtol=1e-5, hint=hint if not torch.as_tensor(loss).isfinite() else None)


@tasks(3, "the gradient of the loss", answers=["cross_entropy_grad"])
def gradient_of_the_loss(nb):
    torch.manual_seed(nb.seed + 1)
    logits, labels = torch.randn(16, 10) * 2, torch.randint(0, 10, (16,))
    formula = {"does not require grad": "compute (softmax(logits) - targets) / N: the check runs it without autograd"}
    with nb.lend(softmax=course_softmax, soft_targets=course_targets), torch.no_grad():
        with explained("cross_entropy_grad", formula):
            gradient = nb.cross_entropy_grad(logits, labels)
            smoothed = nb.cross_entropy_grad(logits, labels, smoothing=0.1)
    check_shape(gradient, (16, 10), "one derivative per logit", hint="(softmax - targets) has the shape of the logits")
    hint = "subtract the targets, which add up to 1 like the probabilities: each row of the gradient adds up to 0"
    check_close(gradient.sum(dim=1), torch.zeros(16), "each row of the gradient adds up to 0", atol=1e-6, hint=hint)
    expected = course_gradient(logits, labels)
    hints = {"mind the sign: the probabilities MINUS the targets": -expected}
    hints["the loss is the MEAN over the N images of the batch, so divide (softmax - targets) by N"] = 16 * expected
    hint = next((h for h, wrong in hints.items() if matches(gradient, wrong)), None)
    check_close(gradient, expected, "compared with autograd", atol=1e-6, hint=hint)
    wrong = (torch.softmax(logits, dim=1) - F.one_hot(labels, 10)) / 16  # the smoothing left out
    hint = "with smoothing, the targets are soft_targets(labels, K, smoothing)" if matches(smoothed, wrong) else None
    expected = course_gradient(logits, labels, smoothing=0.1)
    check_close(smoothed, expected, "smoothing 0.1, compared with autograd", atol=1e-6, hint=hint)


def stepper(nb):
    """The student's sgd_step, with the course's gradient of the logits (Task 3) and without autograd."""

    def step(weight, bias, x, y, lr):
        with nb.lend(cross_entropy_grad=course_gradient), torch.no_grad(), explained("sgd_step", SHAPES):
            result = nb.sgd_step(weight, bias, x, y, lr)
        if not (isinstance(result, tuple | list) and len(result) == 2):  # silent when right: once per batch
            hint = "return weight - lr * grad_weight, bias - lr * grad_bias (changing them in place returns None)"
            fail("sgd_step returns (new_weight, new_bias)", f"got {type(result).__name__}", hint)
        return result

    return step


@tasks(4, "a step of gradient descent", answers=["sgd_step"])
def gradient_descent(nb):
    step, data = stepper(nb), nb.data
    set_seed(nb.seed)
    layer = nn.Linear(784, 10)
    weight, bias = layer.weight.detach().clone(), layer.bias.detach().clone()
    xb, yb = data.train_x[:64].flatten(start_dim=1), data.train_y[:64]
    grad_logits = course_gradient(layer(xb), yb)
    optimizer = torch.optim.SGD(layer.parameters(), lr=0.1)
    F.cross_entropy(layer(xb), yb).backward()
    optimizer.step()  # PyTorch's step, to compare with
    new_weight, new_bias = step(weight, bias, xb, yb, 0.1)
    check_shape(new_weight, (10, 784), "the new weight", hint="its gradient is G.T @ x: [10, N] times [N, 784]")
    check_shape(new_bias, (10,), "the new bias", hint="sum G over the images of the batch: .sum(dim=0)")
    sgd_bias, sgd_weight = layer.bias.detach(), layer.weight.detach()
    hints = {"step against the gradient: bias - lr * gradient": 2 * bias - sgd_bias}  # bias + lr * gradient
    hints["the bias's gradient is G summed over the batch: .sum(dim=0), not .mean()"] = bias - 0.1 * grad_logits.mean(0)
    hint = next((h for h, wrong in hints.items() if matches(new_bias, wrong)), None)
    check_close(new_bias, sgd_bias, "the bias after one step, compared with torch.optim.SGD", atol=1e-6, hint=hint)
    hint = "step against the gradient: weight - lr * gradient" if matches(new_weight, 2 * weight - sgd_weight) else None
    what = "the weight after one step, compared with torch.optim.SGD"
    check_close(new_weight, sgd_weight, what, atol=1e-6, hint=hint or "the weight's gradient is G.T @ x")
    other_weight, _ = step(weight, bias, xb, yb, 0.02)
    hint = "use the lr argument: it is not always 0.1" if matches(other_weight, new_weight) else None
    what = "a step with lr=0.02 is a fifth as long"
    check_close(weight - other_weight, (weight - new_weight) / 5, what, atol=1e-6, rtol=1e-4, hint=hint)
    # Train a linear classifier with the student's step alone, from all-zero weights.
    weight, bias = torch.zeros(10, 784), torch.zeros(10)
    generator = torch.Generator().manual_seed(nb.seed)
    for _ in range(nb.epochs):
        for xb, yb in iterate_batches(data.train_x.flatten(start_dim=1), data.train_y, nb.batch_size, True, generator):
            weight, bias = step(weight, bias, xb, yb, nb.lr)
    val_accuracy = ((data.val_x.flatten(start_dim=1) @ weight.T + bias).argmax(dim=1) == data.val_y).float().mean()
    print(f"validation accuracy after {nb.epochs} epoch(s) of your gradient descent: {val_accuracy:.2%}")
    what = "validation accuracy of the linear classifier your step trained"
    check_between(val_accuracy, 0.6 if nb.quick else 0.85, 1.0, what)
    return weight, bias
