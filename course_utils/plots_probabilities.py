"""Figures of lesson 2, from pixels to probabilities: softmax, the loss, gradient descent, training, weights.

Each function draws one figure and returns it, as in `course_utils.plots`. `running_mean` smooths the
noisy loss of single mini-batches for the training curves.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import torch

from course_utils.plots import _as_image

from .style import BLUE, GREEN, GREY, ORANGE, RED


def running_mean(values, window: int = 50) -> np.ndarray:
    """The mean of the last ``window`` values at every step (fewer at the start): a smoother curve."""
    sums = np.cumsum(np.insert(np.asarray(values, dtype=float), 0, 0.0))
    starts = np.maximum(np.arange(1, len(values) + 1) - window, 0)
    return (sums[1:] - sums[starts]) / (np.arange(1, len(values) + 1) - starts)


def plot_softmax(logits, probabilities, marked=()):
    """Ten logits (left) and their softmax probabilities (right); the ``marked`` digits' probabilities are written."""
    fig, (ax_z, ax_p) = plt.subplots(1, 2, figsize=(10, 3.2))
    digits = np.arange(len(logits))
    ax_z.bar(digits, torch.as_tensor(logits).numpy(), color=GREY)
    ax_z.axhline(0, color="black", linewidth=0.8)
    ax_z.set_title("logits: any real numbers")
    probabilities = torch.as_tensor(probabilities)
    ax_p.bar(digits, probabilities.numpy(), color=BLUE)
    for k in marked:
        ax_p.text(k, probabilities[k].item() + 0.01, f"{probabilities[k]:.0%}", ha="center", fontsize=9)
    ax_p.set_title("softmax: positive, adding up to 1")
    for ax, label in ((ax_z, "logit $z_k$"), (ax_p, "probability $p_k$")):
        ax.set(xticks=digits, xlabel="digit $k$", ylabel=label)
    fig.tight_layout()
    return fig


def plot_cross_entropy(marks):
    """The cross-entropy $-\\ln p_y$ against $p_y$; ``marks`` maps some values of $p_y$ to words written beside them."""
    p = np.linspace(0.004, 1, 500)
    fig, ax = plt.subplots(figsize=(8, 3.6))
    ax.plot(p, -np.log(p), color=BLUE)
    for value, words in marks.items():
        loss = -math.log(value)
        offset = (-60, 35) if value > 0.5 else (20, -10) if loss > 4 else (25, 5)  # keep the words off the curve
        ax.plot(value, loss, "o", color=RED)
        text = f"{words}\n$p_y$ = {value:g}, loss {loss:.2f}"
        ax.annotate(text, (value, loss), xytext=offset, textcoords="offset points", fontsize=9)
    ax.set(xlabel="$p_y$, the probability given to the true class", ylabel="cross-entropy $-\\ln p_y$")
    ax.set_title("The loss is 0 for a certain right answer and grows without bound for a certain wrong one")
    ax.set_ylim(0, 5.6)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_gradient_descent_1d(runs):
    """Gradient descent on $L(w) = w^2$, one panel per run; ``runs`` lists (learning rate, words, w's visited)."""
    fig, axes = plt.subplots(1, len(runs), figsize=(3.25 * len(runs), 3.2), sharey=True, squeeze=False)
    curve = np.linspace(-1.6, 1.6, 200)
    for ax, (step_size, words, path) in zip(axes[0], runs, strict=True):
        path = np.asarray(path)
        ax.plot(curve, curve**2, color="lightgray")
        ax.plot(path, path**2, "o-", color=RED, markersize=4, linewidth=1)
        ax.plot(path[0], path[0] ** 2, "s", color="black", markersize=6)
        ax.set_title(f"learning rate {step_size}: {words}", fontsize=10)
        ax.set(xlabel="weight $w$", xlim=(-1.7, 1.7), ylim=(-0.1, 2.6))
    axes[0, 0].set_ylabel("loss $L(w) = w^2$")
    steps = len(runs[0][2]) - 1
    fig.suptitle(f"{steps} steps of gradient descent from w = {runs[0][2][0]:g} (black square)")
    fig.tight_layout()
    return fig


def plot_training_loss(losses, steps_per_epoch: int, title: str):
    """The loss of every mini-batch, its running mean over 50 steps, and ln 10, the loss of guessing."""
    fig, ax = plt.subplots(figsize=(9, 3.4))
    steps = np.arange(1, len(losses) + 1)
    ax.plot(steps, losses, color=BLUE, alpha=0.25, linewidth=0.7, label="loss of each mini-batch")
    ax.plot(steps, running_mean(losses), color=BLUE, label="running mean over 50 steps")
    ax.axhline(math.log(10), color="gray", linestyle=":", label="ln 10: guessing")
    ax.set(xlabel=f"step ({steps_per_epoch} steps per epoch)", ylabel="cross-entropy", ylim=(0, 2.8), title=title)
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_relu(h, values, slopes):
    """A function of ``h`` (left, the ReLU) and its derivative (right), given as the values at the points ``h``."""
    fig, (ax_f, ax_d) = plt.subplots(1, 2, figsize=(9, 3))
    h = torch.as_tensor(h).detach().numpy()
    ax_f.plot(h, torch.as_tensor(values).detach().numpy(), color=BLUE)
    ax_f.set_title("ReLU(h) = max(h, 0)")
    ax_d.plot(h, torch.as_tensor(slopes).detach().numpy(), color=ORANGE)
    ax_d.set_title("its derivative (by autograd): 0 or 1")
    for ax in (ax_f, ax_d):
        ax.set_xlabel("$h$")
        ax.axhline(0, color="black", linewidth=0.6)
        ax.axvline(0, color="black", linewidth=0.6)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_loss_curves(curves, title: str):
    """Training losses side by side, as running means over 50 steps on a log scale; ``curves`` maps name -> losses."""
    fig, ax = plt.subplots(figsize=(9, 3.4))
    for (name, losses), color in zip(curves.items(), (BLUE, GREEN, ORANGE), strict=False):
        ax.plot(np.arange(1, len(losses) + 1), running_mean(losses), color=color, label=name)
    ax.set(xlabel="step", ylabel="training loss (running mean)", yscale="log", title=title)
    ax.legend()
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    return fig


def plot_predictions(images, labels, probabilities, shown, notes=None):
    """Digits (top) above bar charts of their ten probabilities (bottom), one column per index in ``shown``.

    The bar of the predicted digit is green when it is right, red when it is wrong. ``notes`` maps an
    index to words added to its title.
    """
    notes = notes or {}
    fig, axes = plt.subplots(2, len(shown), figsize=(3 * len(shown), 5), gridspec_kw={"height_ratios": [1.2, 1]})
    for column, index in enumerate(shown):
        true, chances = int(labels[index]), torch.as_tensor(probabilities[index])
        predicted = int(chances.argmax())
        axes[0, column].imshow(_as_image(images[index]), cmap="gray_r")
        axes[0, column].axis("off")
        note = f" ({notes[index]})" if index in notes else ""
        axes[0, column].set_title(f"test image {index}{note}\ntrue label {true}", fontsize=10)
        colors = [BLUE] * len(chances)
        colors[predicted] = GREEN if predicted == true else RED
        axes[1, column].bar(range(len(chances)), chances.numpy(), color=colors)
        mark = "✓" if predicted == true else "✗"  # the verdict in a mark too, not in colour alone
        axes[1, column].text(predicted, float(chances[predicted]) + 0.02, mark, ha="center", fontsize=12)
        axes[1, column].set(xticks=range(len(chances)), ylim=(0, 1.05), xlabel="digit")
    axes[1, 0].set_ylabel("probability")
    fig.suptitle("From pixels to probabilities: the MLP's softmax output (green ✓: prediction right, red ✗: wrong)")
    fig.tight_layout()
    return fig


def plot_weight_templates(mean_images, weights):
    """Each digit's average image (top row) above the weights of linear classifiers, one row per model.

    ``weights`` maps a row name to the ten rows of a weight matrix as ``[10, 28, 28]`` pictures. Red: ink
    there raises the digit's score; blue: it lowers it; white: 0. Each row has its own colour scale (its
    colour bar), which ends at the 99th percentile of its absolute weights so that a few extreme ones do
    not wash out the rest.
    """
    fig, axes = plt.subplots(1 + len(weights), 10, figsize=(13, 1.45 * (1 + len(weights))), layout="constrained")
    for k in range(10):
        axes[0, k].imshow(_as_image(mean_images[k]), cmap="gray_r")
        axes[0, k].set_title(str(k))
    axes[0, 0].set_ylabel("average image", rotation=0, ha="right", va="center", fontsize=9)
    for row, (name, pictures) in enumerate(weights.items(), start=1):
        pictures = torch.as_tensor(pictures).detach().cpu()
        limit = pictures.abs().flatten().quantile(0.99).item()
        for k in range(10):
            im = axes[row, k].imshow(pictures[k].numpy(), cmap="RdBu_r", vmin=-limit, vmax=limit)
        axes[row, 0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=9)
        bar = fig.colorbar(im, ax=axes[row, :].tolist(), shrink=0.9, pad=0.01, ticks=[-limit, 0, limit])
        bar.ax.set_yticklabels(["lowers", "0", "raises"], fontsize=8)
    for ax in axes.flat:
        ax.set(xticks=[], yticks=[])
    fig.suptitle("The ten rows of W as 28 x 28 pictures. Red: ink there raises the digit's score; blue: lowers it")
    return fig
