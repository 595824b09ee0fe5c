"""The training loop: `train_epoch` and `fit` a model, `evaluate` it, `predict` with it.

`train_epoch` is the loop you would write by hand: for every mini-batch the same five steps
(forward, loss, zero_grad, backward, step). `fit` runs it once per epoch and adds bookkeeping:
a validation pass after each epoch, a history table, an optional learning-rate schedule, and
early stopping that keeps the weights of the best validation epoch.

Example:
    >>> history = fit(model, data, epochs=10, lr=1e-3, batch_size=128)   # doctest: +SKIP
    >>> history[["epoch", "train_loss", "val_loss", "val_acc"]]           # doctest: +SKIP
"""

from __future__ import annotations

import copy
import time

import pandas as pd
import torch
from torch import nn
from tqdm.auto import tqdm

from .data import Data, iterate_batches
from .validate import whole_number


def to_device(x: torch.Tensor, device) -> torch.Tensor:
    """Move a batch of images to ``device``, in the memory layout its convolutions run fastest on."""
    # channels_last: the CPU's convolutions run faster on it (docs/authors.md, Performance; lesson 13).
    if device.type == "cpu" and x.dim() == 4:
        return x.to(device).contiguous(memory_format=torch.channels_last)
    return x.to(device)


def model_device(model: nn.Module) -> torch.device:
    """The device a model's weights are on."""
    return next(model.parameters()).device


@torch.no_grad()
def evaluate(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1000, loss_fn=None
) -> tuple[float, float]:
    """Average loss and accuracy (a fraction in [0, 1]) of ``model`` on ``(x, y)``."""
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    device, was_training = model_device(model), model.training
    model.eval()
    total_loss, correct = 0.0, 0
    for xb, yb in iterate_batches(x, y, batch_size):
        xb, yb = to_device(xb, device), yb.to(device)
        logits = model(xb)
        total_loss += loss_fn(logits, yb).item() * len(yb)
        correct += (logits.argmax(dim=1) == yb).sum().item()
    model.train(was_training)
    return total_loss / len(y), correct / len(y)


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, batch_size: int = 1000) -> tuple[torch.Tensor, torch.Tensor]:
    """Predicted labels and class probabilities (softmax) for ``x``, on the CPU."""
    device, was_training = model_device(model), model.training
    model.eval()
    probs = [
        torch.softmax(model(to_device(xb, device)), dim=1).cpu()
        for xb, _ in iterate_batches(x, torch.zeros(len(x)), batch_size)
    ]
    model.train(was_training)
    probs = torch.cat(probs)
    return probs.argmax(dim=1), probs


def make_optimizer(
    name: str, params, lr: float, momentum: float = 0.9, weight_decay: float = 0.0
) -> torch.optim.Optimizer:
    """ "adam", "adamw" (Adam with decoupled weight decay), "sgd" (plain) or "momentum" (SGD with momentum)."""
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, weight_decay=weight_decay)
    if name == "momentum":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    raise ValueError(f"unknown optimizer {name!r}; use 'adam', 'adamw', 'sgd' or 'momentum'")


def train_epoch(model: nn.Module, batches, optimizer, loss_fn, scheduler=None, on_step=None) -> tuple[float, float]:
    """One pass over ``batches`` of ``(images, labels)``: the five steps for every mini-batch.

    Returns the epoch's mean loss and accuracy on the training batches (measured while training).
    """
    model.train()  # dropout and batch norm behave as in training
    total_loss, correct, seen = 0.0, 0, 0
    for xb, yb in batches:
        logits = model(xb)  # 1. forward pass
        loss = loss_fn(logits, yb)  # 2. loss
        optimizer.zero_grad()  # 3. clear the last batch's gradients (backward adds to .grad)
        loss.backward()  # 4. backpropagation: the gradient of the loss for every weight
        optimizer.step()  # 5. move every weight a small step against its gradient
        if scheduler is not None:
            scheduler.step()
        total_loss += loss.item() * len(yb)
        correct += (logits.argmax(dim=1) == yb).sum().item()
        seen += len(yb)
        if on_step is not None:
            on_step()
    return total_loss / seen, correct / seen


def fit(
    model: nn.Module,
    data: Data,
    epochs: int = 10,
    lr: float = 3e-3,
    batch_size: int = 128,
    optimizer: str = "adam",
    schedule: str = "one-cycle",
    loss_fn=None,
    patience: int | None = None,
    seed: int = 0,
    progress: bool = True,
    augment=None,
    weight_decay: float = 0.0,
) -> pd.DataFrame:
    """Train ``model`` on ``data.train_*``, validate on ``data.val_*`` after every epoch.

    - ``schedule="one-cycle"`` warms the learning rate up to ``lr`` and anneals it towards zero
      (``torch.optim.lr_scheduler.OneCycleLR``); ``"constant"`` keeps it at ``lr``.
    - ``patience=k`` stops after k epochs without a lower validation loss.
    - ``augment(x_batch, generator)`` transforms each training batch (e.g.
      `course_utils.data.random_shift_rotate`); validation and test images are never augmented.
    - Whatever happens, the model ends with the weights of its best validation epoch.

    Returns the history: one row per epoch with train/val loss and accuracy, the learning rate
    and the seconds it took. ``history.attrs["best_epoch"]`` names the epoch whose weights were kept.
    """
    whole_number(epochs, "epochs", minimum=1)
    whole_number(batch_size, "batch_size", minimum=1)
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    device = model_device(model)
    if device.type == "cpu":
        model.to(memory_format=torch.channels_last)
    opt = make_optimizer(optimizer, model.parameters(), lr, weight_decay=weight_decay)
    steps_per_epoch = -(-len(data.train_y) // batch_size)
    scheduler = None
    if schedule == "one-cycle":
        scheduler = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, epochs=epochs, steps_per_epoch=steps_per_epoch)
    elif schedule != "constant":
        raise ValueError(f'schedule must be "one-cycle" or "constant", got {schedule!r}')
    generator = torch.Generator().manual_seed(seed)

    def epoch_batches():  # shuffled, augmented if asked, on the model's device
        for xb, yb in iterate_batches(data.train_x, data.train_y, batch_size, True, generator):
            xb = xb if augment is None else augment(xb, generator=generator)
            yield to_device(xb, device), yb.to(device)

    history, best_loss, best_state, best_epoch, waited = [], float("inf"), None, 0, 0

    # One refresh a second is plenty for a person; tqdm's default (ten) sends thousands of
    # widget messages in a long cell, more than a headless runner such as nbval buffers.
    bar = tqdm(total=epochs * steps_per_epoch, desc="training", unit="batch", disable=not progress, mininterval=1.0)
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        train_loss, train_acc = train_epoch(model, epoch_batches(), opt, loss_fn, scheduler, on_step=bar.update)
        val_loss, val_acc = evaluate(model, data.val_x, data.val_y, loss_fn=loss_fn)
        history.append(
            {
                "epoch": epoch,
                "train_loss": train_loss,
                "train_acc": train_acc,
                "val_loss": val_loss,
                "val_acc": val_acc,
                "lr": opt.param_groups[0]["lr"],
                "seconds": time.perf_counter() - start,
            }
        )
        bar.set_postfix(val_loss=f"{val_loss:.4f}", val_acc=f"{val_acc:.4f}")
        if val_loss < best_loss:
            best_loss, best_epoch, waited = val_loss, epoch, 0
            best_state = copy.deepcopy(model.state_dict())
        else:
            waited += 1
            if patience is not None and waited >= patience:
                break
    bar.close()
    model.load_state_dict(best_state)
    if progress:
        best = history[best_epoch - 1]
        print(
            f"trained {len(history)} epochs in {sum(h['seconds'] for h in history):.0f}s; kept epoch "
            f"{best_epoch} (val loss {best['val_loss']:.4f}, val accuracy {best['val_acc']:.2%})"
        )
    history = pd.DataFrame(history)
    history.attrs["best_epoch"] = best_epoch
    history.attrs["stopped_early"] = len(history) < epochs
    return history
