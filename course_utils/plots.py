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
    """A grid of images with their labels; with ``predictions``, wrong ones are titled in red.

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
            text = f"pred {classes[pred]}{conf}\ntrue {classes[true]}"
            ax.set_title(text, fontsize=9, color="black" if pred == true else "crimson")
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


def plot_accuracy_when_changed(changes, title: str | None = None, chance: float | None = None):
    """Accuracy against how much the images were changed, one column per kind of change.

    ``changes`` lists ``(name, xlabel, values, accuracies, examples)``: accuracies are 0-1, one per
    value, and ``examples`` one image per value (the same digit changed that much), drawn in a strip
    under the curve. Values that decrease (e.g. a shrinking scale) run left to right as given.
    ``chance`` draws a dotted line at the accuracy of a random guess (0.1 for ten classes).
    """
    fig, axes = plt.subplots(
        2, len(changes), figsize=(6 * len(changes), 5.4), gridspec_kw=dict(height_ratios=[3, 1]), squeeze=False
    )
    for column, (name, xlabel, values, accuracies, examples) in enumerate(changes):
        ax, strip_ax = axes[0, column], axes[1, column]
        ax.plot(values, [100 * a for a in accuracies], "o-")
        if chance is not None:
            ax.axhline(100 * chance, color="gray", linestyle=":", label=f"a random guess ({chance:.0%})")
            ax.legend(fontsize=8, loc="center left")
        if values[0] > values[-1]:
            ax.invert_xaxis()
        ax.set(xlabel=xlabel, ylabel="test accuracy (%)", ylim=(0, 102), title=name)
        ax.set_xticks(values)
        ax.grid(alpha=0.3)
        images = [_as_image(image) for image in examples]
        side = images[0].shape[-1]
        strip_ax.imshow(np.concatenate(images, axis=1), cmap="gray_r")
        for i in range(1, len(images)):  # a line between neighbours: where one frame ends
            strip_ax.axvline(i * side - 0.5, color="tab:blue", linewidth=1)
        strip_ax.set_xticks([side * i + side / 2 - 0.5 for i in range(len(values))], [str(v) for v in values])
        strip_ax.set_yticks([])
        strip_ax.set_title("the first test digit, changed that much", fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def show_im2col(image, cols, k: int = 3):
    """A small image with its k x k windows outlined, beside its im2col matrix (lesson 7).

    ``image`` is 2-D (say 4x4) and ``cols`` its im2col matrix: one row per window, in reading
    order, and one column per position (u, v) inside the window. Every number is written in its
    cell; a window's outline and its row of the matrix share a colour.
    """
    from matplotlib.patches import Rectangle

    image, cols = np.asarray(image), np.asarray(cols)
    positions = list(np.ndindex(image.shape[0] - k + 1, image.shape[1] - k + 1))
    colors = ["tab:red", "tab:blue", "tab:green", "tab:orange", "tab:purple", "tab:brown", "tab:pink", "tab:olive"]
    fig, (ax_image, ax_cols) = plt.subplots(
        1, 2, figsize=(11, 3.6), gridspec_kw={"width_ratios": [image.shape[1], k * k]}
    )
    span = image.max() - image.min()  # light greys, so that the written numbers stay readable
    ax_image.imshow(image, cmap="Greys", vmin=image.min() - span / 2, vmax=image.max() + 1.7 * span)
    for index, (row, col) in enumerate(positions):
        color = colors[index % len(colors)]
        inset = 0.06 + 0.08 * index  # shrink each outline a little so that overlapping ones stay visible
        corner, side = (col - 0.5 + inset, row - 0.5 + inset), k - 2 * inset
        ax_image.add_patch(Rectangle(corner, side, side, fill=False, lw=2.5, edgecolor=color))
        ax_cols.add_patch(Rectangle((-0.5, index - 0.5), k * k, 1, color=color, alpha=0.25))
    ax_cols.imshow(np.zeros(cols.shape), cmap="Greys", vmin=0, vmax=1)
    for ax, values in ((ax_image, image), (ax_cols, cols)):
        for (row, col), value in np.ndenumerate(values):
            ax.text(col, row, f"{value:g}", ha="center", va="center", fontsize=12)
    ax_image.set(xticks=range(image.shape[1]), yticks=range(image.shape[0]), xlabel="column", ylabel="row")
    ax_image.set_title(f"{image.shape[0]}×{image.shape[1]} image: {len(positions)} windows of {k}×{k}")
    ax_cols.set(xticks=range(k * k), xticklabels=[f"{u},{v}" for u, v in np.ndindex(k, k)])
    ax_cols.set(yticks=range(len(positions)), yticklabels=[f"window ({r},{c})" for r, c in positions])
    ax_cols.set(xlabel="position (u, v) inside the window", title="im2col matrix: one row per window")
    fig.tight_layout()
    return fig


def plot_layer_times(seconds, names, title: str | None = None, xlabel: str = "milliseconds"):
    """Each layer's forward and backward time as stacked bars, with its share of the total written beside it.

    ``seconds`` has one row per layer and two columns: the forward and the backward pass.
    """
    ms = 1000 * np.asarray(seconds)
    totals = ms.sum(axis=1)
    rows = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(8, 3.8))
    ax.barh(rows, ms[:, 0], label="forward")
    ax.barh(rows, ms[:, 1], left=ms[:, 0], label="backward")
    for row, total in zip(rows, totals, strict=True):
        ax.text(total, row, f" {total / totals.sum():.0%}", va="center")  # the layer's share of the time
    ax.set(yticks=rows, yticklabels=names, xlim=(0, 1.12 * totals.max()), xlabel=xlabel, title=title)
    ax.invert_yaxis()  # the first layer on top
    ax.legend()
    ax.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    return fig


def plot_early_stopping(history, full_run, patience: int, title: str | None = None):
    """Loss and accuracy of a run that stopped early (``history``, from ``fit(..., patience=...)``),
    over the same run continued to the end (``full_run``, faint dashes): the kept epoch is a star,
    the stop a cross, and the epochs without a new low are shaded."""
    best, last = history.attrs["best_epoch"], len(history)
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4))
    for ax, metric, scale, label in ((ax_loss, "loss", 1, "cross-entropy loss"), (ax_acc, "acc", 100, "accuracy (%)")):
        for split, color in (("train", "tab:blue"), ("val", "tab:orange")):
            name = "training" if split == "train" else "validation"
            values = scale * full_run[f"{split}_{metric}"]
            ax.plot(full_run["epoch"], values, "--", color=color, alpha=0.35, label=f"{name}, had it continued")
            values = scale * history[f"{split}_{metric}"]
            ax.plot(history["epoch"], values, "o-", color=color, ms=4, label=f"{name}, with early stopping")
        kept = scale * history[f"val_{metric}"].iloc[best - 1]
        ax.plot(best, kept, "*", color="green", ms=18, label=f"best epoch ({best}): weights kept")
        stop = f"stopped after epoch {last}" if history.attrs["stopped_early"] else f"last epoch ({last})"
        ax.plot(last, scale * history[f"val_{metric}"].iloc[last - 1], "X", color="crimson", ms=12, label=stop)
        if history.attrs["stopped_early"]:
            ax.axvspan(best, last, color="gray", alpha=0.12, label=f"{last - best} epochs without a new low")
        ax.set(xlabel="epoch", ylabel=label)
        ax.grid(alpha=0.3)
    ax_loss.axhline(history["val_loss"].min(), color="green", linestyle=":", label="lowest validation loss")
    ax_loss.set_ylim(0, 3 * full_run["val_loss"].min())
    ax_acc.set_ylim(max(0, 100 * full_run["val_acc"].iloc[min(2, last - 1) :].min() - 5), 100.5)
    ax_loss.legend(fontsize=8)
    fig.suptitle(title or f"early stopping with patience {patience}")
    fig.tight_layout()
    return fig


def show_augmentations(original, varied, title: str = "a training image and random augmentations of it"):
    """One image (framed in red) and augmented copies of it, each with the original's outline in red.

    ``original`` is one image ``[1, 1, H, W]`` (or ``[1, H, W]``), ``varied`` a batch of its augmentations.
    """
    original = original.reshape(1, 1, *original.shape[-2:])
    fig = show_images(
        torch.cat([original, varied.reshape(-1, 1, *original.shape[-2:])]), ncols=6, size=2.0, title=title
    )
    outline = (original.max() + original.min()).item() / 2  # the level halfway between background and ink
    for i, ax in enumerate(fig.axes[: len(varied) + 1]):
        ax.contour(original[0, 0], levels=[outline], colors="crimson", linewidths=0.8)
        ax.set_title("original" if i == 0 else f"#{i}", fontsize=10, color="crimson" if i == 0 else "gray")
    first = fig.axes[0]
    first.axis("on")
    first.set(xticks=[], yticks=[])
    for spine in first.spines.values():
        spine.set_color("crimson")
        spine.set_linewidth(3)
    fig.tight_layout()
    return fig


def plot_accuracy_gap(history, zoom: float = 1.5):
    """Training minus validation accuracy per epoch, in points, as bars (blue: training is the lower one).

    The axis is zoomed to +-``zoom`` points around 0; a bar that runs off it has its value written on it.
    """
    gap = 100 * (history["train_acc"] - history["val_acc"])
    fig, ax = plt.subplots(figsize=(10, 2.6))
    ax.bar(history["epoch"], gap, color=["tab:blue" if g < 0 else "tab:orange" for g in gap])
    ax.axhline(0, color="black", linewidth=0.8)
    low = max(gap.min(), -zoom) - 0.1
    ax.set_ylim(low, max(gap.max(), 0.3) + 0.1)
    for epoch, g in zip(history["epoch"], gap, strict=True):
        if g < low:
            ax.text(epoch, low + 0.05, f"{g:.1f}", ha="center", va="bottom", color="white", fontsize=9)
    ax.set(xticks=history["epoch"], xlabel="epoch", ylabel="points")
    ax.set_title("training minus validation accuracy (below 0: training accuracy is the lower one)")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_accuracy_vs_parameters(runs, title: str = "more parameters did not mean more accuracy"):
    """One marker per run: test accuracy against trainable parameters (log axis), one colour per configuration.

    ``runs`` has the columns ``configuration``, ``seed``, ``parameters`` and ``test accuracy (%)`` (lesson 5).
    The runs of a configuration are shifted slightly sideways, so that equal accuracies do not hide each other.
    """
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for k, (name, group) in enumerate(runs.groupby("configuration", sort=False)):
        shift = 1 + 0.015 * (group["seed"] - group["seed"].mean())  # a small sideways shift per seed, on the log axis
        ax.scatter(group["parameters"] * shift, group["test accuracy (%)"], s=60, marker="os^Dv<>"[k % 7], label=name)
    ax.set_xscale("log")
    ax.set_xlim(22_000, 110_000)
    ax.set_xticks([25_000, 30_000, 40_000, 60_000, 85_000], ["25k", "30k", "40k", "60k", "85k"])
    ax.minorticks_off()
    ax.set(xlabel="trainable parameters (log scale)", ylabel="test accuracy (%)", title=title)
    ax.legend(loc="lower right", fontsize=9)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_confusion_matrices(panels: dict, frames=(), size: tuple = (9, 7.5)):
    """Row-normalized confusion matrices side by side, ``{panel title: (matrix, class names)}``.

    Each group of class names in ``frames`` gets a red square on every panel where its classes sit
    next to each other (in any order); where they are scattered, no square is drawn.
    """
    fig, axes = plt.subplots(1, len(panels), figsize=(size[0] * len(panels), size[1]))
    for ax, (title, (matrix, names)) in zip(np.atleast_1d(axes), panels.items(), strict=True):
        plot_confusion_matrix(matrix, list(names), normalize=True, ax=ax, title=title)
        ax.tick_params(axis="x", labelrotation=45)
        ax.tick_params(axis="y", labelrotation=0)
        for group in frames:
            where = sorted(list(names).index(c) for c in group if c in names)
            if len(where) == len(group) and where[-1] - where[0] == len(group) - 1:  # side by side
                corner, side = (where[0], where[0]), len(group)
                ax.add_patch(plt.Rectangle(corner, side, side, fill=False, edgecolor="tab:red", linewidth=2.5))
    fig.tight_layout()
    return fig


def show_image_rows(rows: dict, n: int = 9, title: str | None = None, label_width: float = 2.6):
    """One row of up to ``n`` images per entry of ``rows`` (``{row label: images}``), the label on the left.

    A row with fewer than ``n`` images leaves its last places empty.
    """
    fig, axes = plt.subplots(len(rows), n, figsize=(0.95 * n + label_width, 1.05 * len(rows)), squeeze=False)
    for row, (label, images) in zip(axes, rows.items(), strict=True):
        for j, ax in enumerate(row):
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_frame_on(j < len(images))
            if j < len(images):
                ax.imshow(_as_image(images[j]), cmap="gray_r")
        row[0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def show_titled_row(images, titles, title: str | None = None):
    """A single row of images, each with its own title (e.g. what a network read in it)."""
    fig, axes = plt.subplots(1, len(images), figsize=(1.5 * len(images), 2.2), squeeze=False)
    for ax, image, text in zip(axes[0], images, titles, strict=True):
        ax.imshow(_as_image(image), cmap="gray_r")
        ax.set_title(text, fontsize=9)
        ax.axis("off")
    if title:
        fig.suptitle(title, y=1.05)
    fig.tight_layout()
    return fig
