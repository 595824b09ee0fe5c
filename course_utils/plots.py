"""Figures the lessons share: digit grids, learning curves, confusion matrices, filters, feature maps.

Each function draws one figure and returns it (``fig = plot_history(history)``), so a notebook
shows it and a script can ``fig.savefig(...)`` it.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
import torch

from .style import RED, apply

apply()  # the course's palette, for a script that imports this module directly


def _grid(n: int, ncols: int, size: float = 1.6):
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + 0.3), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    return fig, axes.flat


def _as_image(image) -> np.ndarray:
    image = image.detach().cpu().float() if isinstance(image, torch.Tensor) else torch.as_tensor(image).float()
    return image.squeeze().numpy()


def show_images(
    images,
    labels=None,
    predictions=None,
    probabilities=None,
    classes=None,
    ncols: int = 5,
    title: str | None = None,
    size: float = 1.6,
):
    """A grid of images with their labels; with ``predictions``, wrong ones are titled in red, with a ✗.

    ``images`` may be raw uint8 or normalized floats (each image is scaled to its own range),
    shaped ``[N, 28, 28]`` or ``[N, 1, 28, 28]``. ``probabilities`` is the confidence of each
    prediction (0-1).
    """
    classes = classes or [str(i) for i in range(10)]
    fig, axes = _grid(len(images), ncols, size)
    for i, ax in enumerate(axes):
        if i >= len(images):
            break
        ax.imshow(_as_image(images[i]), cmap="gray_r")
        if predictions is not None:
            pred, true = int(predictions[i]), int(labels[i])
            conf = f" ({100 * float(probabilities[i]):.0f}%)" if probabilities is not None else ""
            mark = "" if pred == true else "✗ "  # not colour alone: a mark a colour-blind reader sees
            text = f"{mark}pred {classes[pred]}{conf}\ntrue {classes[true]}"
            ax.set_title(text, fontsize=9, color="black" if pred == true else RED)
        elif labels is not None:
            ax.set_title(classes[int(labels[i])], fontsize=10)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_history(history, title: str | None = None, log_loss: bool = False):
    """Learning curves: loss and accuracy per epoch, training vs validation, best epoch marked.

    ``log_loss=True`` draws the loss on a logarithmic axis, so a large first-epoch loss does not
    flatten the later epochs and a gap of several times between the two curves stays visible.
    """
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.6))
    if log_loss:
        ax_loss.set_yscale("log")
    for ax, metric, label in ((ax_loss, "loss", "cross-entropy loss"), (ax_acc, "acc", "accuracy (%)")):
        scale = 100 if metric == "acc" else 1
        ax.plot(history["epoch"], history[f"train_{metric}"] * scale, "o-", label="training")
        ax.plot(history["epoch"], history[f"val_{metric}"] * scale, "s-", label="validation")
        best = history.attrs.get("best_epoch")
        if best:
            ax.axvline(best, color="gray", linestyle=":", label=f"best epoch ({best})")
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.set_xticks(history["epoch"])
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_confusion_matrix(cm, classes=None, normalize: bool = False, ax=None, title: str | None = None):
    """A seaborn heatmap of a confusion matrix (rows: true class, columns: predicted class).

    With ``normalize=True`` each row is divided by its total and shown in percent, so a cell reads
    "the share of true class i predicted as j" and the diagonal is each class's recall. Empty cells
    (no image) are left blank, so the mistakes stand out.
    """
    cm = np.asarray(cm, dtype=float)
    if normalize:
        cm = 100 * cm / cm.sum(axis=1, keepdims=True)
    classes = classes or [str(i) for i in range(len(cm))]
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 6))
    else:
        fig = ax.figure
    # percentages with one decimal ("<0.1", never a misleading "0.0", for a tiny share), counts whole
    fmt = ".1f" if normalize else ".0f"
    label = lambda v: "" if v == 0 else "<0.1" if normalize and v < 0.05 else f"{v:{fmt}}"  # noqa: E731
    labels = np.array([[label(v) for v in row] for row in cm])
    # A log-like colour scale would hide the diagonal; instead cap the colours so the rare
    # off-diagonal mistakes are visible next to the large diagonal counts.
    off_diagonal_max = (cm - np.diag(np.diag(cm))).max()
    sns.heatmap(
        cm,
        annot=labels,
        fmt="",
        cmap="Blues",
        ax=ax,
        xticklabels=classes,
        yticklabels=classes,
        vmax=max(off_diagonal_max * 3, 1e-9),
        annot_kws={"fontsize": 8},
        cbar_kws={"label": ("% of the true class" if normalize else "number of images") + " (colours capped)"},
    )
    ax.set_xlabel("predicted label")
    ax.set_ylabel("true label")
    ax.set_title(title or ("confusion matrix, row-normalized (%)" if normalize else "confusion matrix"))
    fig.tight_layout()
    return fig


def show_misclassified(images, labels, predictions, probabilities=None, classes=None, n: int = 20, ncols: int = 10):
    """The ``n`` most confident mistakes: the images the model got wrong while sure of itself."""
    labels, predictions = torch.as_tensor(labels), torch.as_tensor(predictions)
    wrong = (predictions != labels).nonzero().flatten()
    if probabilities is not None:
        conf = torch.as_tensor(probabilities)[wrong]
        wrong = wrong[conf.argsort(descending=True)]
    wrong = wrong[:n]
    return show_images(
        images[wrong],
        labels[wrong],
        predictions[wrong],
        None if probabilities is None else torch.as_tensor(probabilities)[wrong],
        classes,
        ncols=ncols,
        title=f"{len(wrong)} most confident mistakes (title: prediction, confidence, truth)",
    )


def show_filters(weight, title: str = "first-layer filters", ncols: int = 10, size: float = 1.2):
    """Convolution kernels of shape ``[out, in, k, k]`` (the first input channel of each) as images.

    Red is a positive weight, blue negative, white zero, on one shared colour scale. ``size`` is each
    panel's width in inches (e.g. ``ncols=5, size=2.2`` draws 5x5 kernels large enough to read).
    """
    weight = weight.detach().cpu()[:, 0]
    limit = weight.abs().max().item()
    fig, axes = _grid(len(weight), ncols, size)
    for i, ax in enumerate(axes):
        if i >= len(weight):
            break
        im = ax.imshow(weight[i], cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.set_title(f"filter {i}", fontsize=8)
    fig.colorbar(im, ax=list(fig.axes), shrink=0.8, label="weight")
    fig.suptitle(title)
    return fig


def show_feature_maps(maps, title: str = "feature maps", ncols: int = 10, size: float = 1.2, ticks: bool = False):
    """Activations ``[channels, H, W]`` (or ``[1, channels, H, W]``) of one image, one panel per channel.

    ``size`` is each panel's width in inches; ``ticks=True`` labels whole-pixel rows and columns
    (0, 4, 8, 12 on a 13x13 map), so a position can be matched with the digit's.
    """
    from matplotlib.ticker import MaxNLocator

    maps = maps.detach().cpu()
    maps = maps[0] if maps.dim() == 4 else maps
    fig, axes = _grid(len(maps), ncols, size)
    for i, ax in enumerate(axes):
        if i >= len(maps):
            break
        im = ax.imshow(maps[i], cmap="viridis", vmin=min(0.0, maps.min().item()), vmax=maps.max().item())
        ax.set_title(f"channel {i}", fontsize=8)
        if ticks:
            ax.axis("on")
            ax.tick_params(labelsize=7, length=2)
            for axis in (ax.xaxis, ax.yaxis):
                axis.set_major_locator(MaxNLocator(nbins=4, integer=True))
    fig.colorbar(im, ax=list(fig.axes), shrink=0.8, label="activation")
    fig.suptitle(f"{title} ({maps.shape[1]}x{maps.shape[2]} each)")
    return fig


def show_digit(ax, image, title: str | None = None, fontsize: int = 9):
    """Draw one image on ``ax`` as dark ink on light paper (a bigger value is darker), with whole-pixel ticks.

    ``image`` is any 2-D array or tensor (ink 0-1, normalized values or True/False), or ``[1, H, W]``.
    """
    from matplotlib.ticker import MaxNLocator

    ax.imshow(_as_image(image), cmap="gray_r")
    for axis in (ax.xaxis, ax.yaxis):  # 0, 5, 10... or 0, 20, 40...: never 2.5
        axis.set_major_locator(MaxNLocator(nbins=5, integer=True, steps=[1, 2, 5, 10]))
    if title:
        ax.set_title(title, fontsize=fontsize)
    return ax
