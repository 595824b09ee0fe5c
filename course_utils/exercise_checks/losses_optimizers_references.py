"""What the checks of exercises 8 (`losses_optimizers.py`) compare with, and the stand-ins they use.

PyTorch's own functions where it has them, the course's few lines where it has none (the focal loss,
lesson 8's squared error, early stopping), a small problem for Adam, and stand-ins that let Task 5's
check watch a training loop at work. Nothing here fails a check.
"""

import copy
from types import SimpleNamespace

import torch
import torch.nn.functional as F
from torch import nn


def label_smoothing_loss(logits, labels, eps):
    """F.cross_entropy(logits, labels, label_smoothing={})"""
    return F.cross_entropy(logits, labels, label_smoothing=eps)


def course_focal_loss(logits, labels, gamma):
    """the course's -(1 - p_y)**{} ln p_y, averaged over the images"""
    ce = F.cross_entropy(logits, labels, reduction="none")  # -ln p_y of every image, by PyTorch
    return ((1 - torch.exp(-ce)) ** gamma * ce).mean()


def softmax_mse(logits, labels):
    """Lesson 8's squared error on one-hot targets, summed over the classes, averaged over the images."""
    targets = F.one_hot(labels, logits.shape[1]).to(logits.dtype)
    return ((logits.softmax(dim=1) - targets) ** 2).sum(dim=1).mean()


def push(loss_fn, p_true: float) -> float:
    """How hard ``loss_fn`` pushes the true class's logit up, -d loss / d z_y, for one image of 10 classes
    whose true class (0) gets probability ``p_true`` and the nine others share the rest evenly."""
    z = torch.zeros(1, 10, dtype=torch.float64)
    z[0, 0] = torch.log(torch.tensor(9 * p_true / (1 - p_true), dtype=torch.float64))
    z.requires_grad_(True)
    loss_fn(z, torch.tensor([0])).backward()
    return -z.grad[0, 0].item()


def focal_push(p: float, gamma: float = 2.0) -> float:
    """The focal loss's push, worked out by hand: (1 - p)**gamma * ((1 - p) - gamma * p * ln p)."""
    return (1 - p) ** gamma * ((1 - p) - gamma * p * torch.log(torch.tensor(p, dtype=torch.float64)).item())


def with_gradient(values, grads):
    """A parameter holding ``values`` whose .grad holds ``grads``, as backward() leaves it."""
    parameter = values.clone().requires_grad_(True)
    parameter.grad = grads.clone()
    return parameter


def tiny_problem(seed: int):
    """A linear model and a fixed batch: small enough to compare optimizers number for number."""
    torch.manual_seed(seed)
    model = nn.Linear(4, 2)
    x, y = torch.randn(32, 4), torch.randn(32, 2) * 3
    return model, lambda: F.mse_loss(model(x), y)


RUN = [1.0, 0.8, 0.9, 0.85, 0.7, 0.75, 0.7, 0.72, 0.5, 0.6, 0.6, 0.6]  # made-up validation losses, one per epoch
STOPS = [False] * 7 + [True]  # patience 3: best 0.7 at epoch 5; 0.75, 0.7 (equal) and 0.72 bring no improvement
DELTA_RUN, DELTA_STOPS = [1.0, 0.97, 0.9, 0.88, 0.87, 0.86], [False] * 4 + [True]  # patience 2, min_delta 0.05


def run_stopper(stopper, losses) -> tuple[list, nn.Module]:
    """Call ``stopper.step`` once per epoch of ``losses`` until it says stop; (its decisions, the model).
    The model is one weight, set to the epoch's number, so that the saved state tells which epoch it was."""
    model, decisions = nn.Linear(1, 1, bias=False), []
    for epoch, val_loss in enumerate(losses, start=1):
        with torch.no_grad():
            model.weight.fill_(epoch)  # an in-place change, like an optimizer step
        decisions.append(bool(stopper.step(val_loss, model)))
        if decisions[-1]:
            break
    return decisions, model


class CourseEarlyStopping:
    """Task 4, the course's way: Task 5's check runs the training loop with it, so that only Task 5 counts."""

    def __init__(self, patience, min_delta=0.0):
        self.patience, self.min_delta, self.losses, self.best_state = patience, min_delta, [], None
        self.best_loss, self.best_epoch, self.epoch, self.waited = float("inf"), 0, 0, 0

    def step(self, val_loss, model):
        self.losses.append(val_loss)
        self.epoch = len(self.losses)
        if val_loss < self.best_loss - self.min_delta:
            self.best_loss, self.best_epoch = val_loss, self.epoch
            self.best_state = {name: tensor.clone() for name, tensor in model.state_dict().items()}
        self.waited = self.epoch - self.best_epoch
        return self.patience <= self.waited


def tiny_data(data):
    """64 training images and 8 validation images of ``data``: enough to watch a training loop."""
    return SimpleNamespace(
        train_x=data.train_x[:64], train_y=data.train_y[:64], val_x=data.val_x[:8], val_y=data.val_y[:8]
    )


class ScriptedEvaluation:
    """A stand-in for ``evaluate(model, x, y)``: it reports the made-up validation losses of RUN, one per
    call, writes down whether it was given the validation images, and keeps a copy of the weights."""

    def __init__(self, val_x):
        self.val_x, self.on_validation, self.states = val_x, [], []

    def __call__(self, model, x, y, batch_size=1000, loss_fn=None):
        self.on_validation.append(x is self.val_x or (x.shape == self.val_x.shape and torch.equal(x, self.val_x)))
        self.states.append(copy.deepcopy(model.state_dict()))
        return LossAndAccuracy((RUN[min(len(self.states), len(RUN)) - 1], 0.5))


class LossAndAccuracy(tuple):
    """What `ScriptedEvaluation` returns: a tuple, named so that an error from using it as one number says so."""


class CountingModel(nn.Module):
    """A linear model that keeps every batch of images it trains on, in order, and counts in ``stale`` the
    backward passes that added their gradients to those of an earlier one (no zero_grad in between)."""

    def __init__(self):
        super().__init__()
        self.linear, self.seen, self.stale = nn.Linear(784, 10), [], 0
        self.linear.weight.register_hook(self._arrives)  # a leaf's hook runs before the gradient is added to .grad

    def _arrives(self, grad):
        left = self.linear.weight.grad  # what the gradient is about to be added to
        self.stale += left is not None and bool(left.any())

    @property
    def batches(self) -> int:
        return len(self.seen)

    @property
    def first(self):
        return self.seen[0] if self.seen else None

    def forward(self, x):
        if torch.is_grad_enabled():  # a training step, not an evaluation
            self.seen.append(x.detach().clone())
        return self.linear(x.flatten(start_dim=1))
