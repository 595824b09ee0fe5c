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


def plot_history(history, title: str | None = None):
    """Learning curves: loss and accuracy per epoch, training vs validation, best epoch marked."""
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.6))
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


def show_feature_maps(maps, title: str = "feature maps", ncols: int = 10):
    """Activations ``[channels, H, W]`` (or ``[1, channels, H, W]``) of one image, one panel per channel."""
    maps = maps.detach().cpu()
    maps = maps[0] if maps.dim() == 4 else maps
    fig, axes = _grid(len(maps), ncols, 1.2)
    for i, ax in enumerate(axes):
        if i >= len(maps):
            break
        im = ax.imshow(maps[i], cmap="viridis", vmin=min(0.0, maps.min().item()), vmax=maps.max().item())
        ax.set_title(f"channel {i}", fontsize=8)
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


# --- Lessons 1-3: the figures of data exploration, optimizers and shape arithmetic ---


def _mark_centre(ax, row: float, col: float, label: str = "centre of mass"):
    """A red x at a centre of mass (row, column) and a blue + at pixel (14, 14), where MNIST centres it."""
    ax.plot(col, row, "x", color="crimson", markersize=12, mew=3, label=label)
    ax.plot(14, 14, "+", color="tab:blue", markersize=14, mew=2, label="pixel (14, 14)")


def plot_box_and_centre(image, box, centre, heights, widths, centres, title: str = "one training image"):
    """How MNIST was made, in three panels (lesson 1).

    Left: ``image`` with its bounding ``box`` (top, left, height, width) and its ``centre`` of mass
    (row, column). Middle: how many images have each box height, width and longer side (``heights``
    and ``widths`` hold one size per image). Right: where the centres of mass of all images lie
    (``centres`` = (rows, columns)), around pixel (14, 14).
    """
    top, left, height, width = (int(v) for v in box)
    row, col = (float(v) for v in centre)
    fig, (ax_digit, ax_sizes, ax_com) = plt.subplots(1, 3, figsize=(13, 4.2))
    ax_digit.imshow(_as_image(image), cmap="gray_r")
    box = dict(fill=False, edgecolor="tab:orange", linewidth=2, label=f"bounding box ({height} rows x {width} columns)")
    ax_digit.add_patch(plt.Rectangle((left - 0.5, top - 0.5), width, height, **box))
    _mark_centre(ax_digit, row, col, f"centre of mass (row {row:.1f}, column {col:.1f})")
    ax_digit.set(title=title, xlabel="column", ylabel="row")
    ax_digit.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), fontsize=8)

    heights, widths = torch.as_tensor(heights), torch.as_tensor(widths)
    sides = (("height", heights), ("width", widths), ("longer side", torch.maximum(heights, widths)))
    for shift, (name, values) in zip((-0.28, 0.0, 0.28), sides, strict=True):
        ax_sizes.bar(np.arange(29) + shift, torch.bincount(values, minlength=29).numpy(), width=0.28, label=name)
    ax_sizes.set_yscale("log")
    ax_sizes.set(xlabel="bounding-box size (pixels)", ylabel="number of images (log scale)")
    ax_sizes.set_title("the longer side is (almost) always 20")
    ax_sizes.legend()

    rows, cols = (torch.as_tensor(v).numpy() for v in centres)
    near = [13.25, 14.75]  # half a pixel around the centre pixel, and a quarter more
    *_, counts = ax_com.hist2d(cols, rows, bins=40, range=[near, near], cmap="Blues", cmin=1)
    ax_com.add_patch(plt.Rectangle((13.5, 13.5), 1, 1, fill=False, ec="crimson", ls="--", label="pixel (14, 14)"))
    ax_com.set(xlim=near, ylim=near[::-1], aspect="equal")  # rows grow downwards, as in the image
    ax_com.set(xlabel="centre of mass: column", ylabel="centre of mass: row")
    ax_com.set_title(f"centres of mass of {len(rows):,} images")
    ax_com.legend(loc="upper right", fontsize=8)
    fig.colorbar(counts, ax=ax_com, label="number of images")
    fig.tight_layout()
    return fig


def show_centre_of_mass(image, centre, title: str | None = None):
    """One image (dark = ink) with its centre of mass (red x; ``centre`` = (row, column)) and pixel (14, 14)."""
    fig, ax = plt.subplots(figsize=(3.4, 3.6))
    ax.imshow(_as_image(image), cmap="gray_r")
    _mark_centre(ax, float(centre[0]), float(centre[1]), "its centre of mass")
    ax.set_title(title, fontsize=10)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.06), fontsize=8)
    ax.axis("off")
    return fig


def _spread_labels(centres, ax, min_gap: float = 0.1, rounds: int = 200):
    """Label positions near ``centres``, at least ``min_gap`` apart (in units of the axes' width and height)."""
    low = np.array([ax.get_xlim()[0], ax.get_ylim()[0]])
    span = np.array([np.ptp(ax.get_xlim()), np.ptp(ax.get_ylim())])
    spots = (np.asarray(centres, dtype=float) - low) / span  # from 0 to 1 across the axes
    for _ in range(rounds):  # push every pair that is too close apart, a little at a time
        for a in range(len(spots)):
            for b in range(a + 1, len(spots)):
                gap = spots[b] - spots[a]
                distance = np.hypot(*gap)
                if distance < min_gap:
                    push = (gap / distance if distance > 0 else np.array([1.0, 0.0])) * (min_gap - distance) / 2
                    spots[a] -= push
                    spots[b] += push
    return spots * span + low


def plot_embeddings(panels, labels, title: str | None = None):
    """2-D pictures of the same images side by side, each point coloured by its label (0-9).

    ``panels`` lists ``(points [n, 2], panel title, axis name)``. Each class's median point is marked
    with a black dot and joined to a big label, nudged so that no two labels overlap.
    """
    labels = np.asarray(labels)
    fig, axes = plt.subplots(1, len(panels), figsize=(6.5 * len(panels), 5.6), squeeze=False)
    present = [digit for digit in range(10) if (labels == digit).any()]
    for ax, (xy, panel_title, axis_name) in zip(axes[0], panels, strict=True):
        xy = np.asarray(xy)
        for digit in present:
            here = labels == digit
            ax.scatter(xy[here, 0], xy[here, 1], s=6, alpha=0.6, color=plt.cm.tab10(digit), label=str(digit))
        medians = np.array([np.median(xy[labels == digit], axis=0) for digit in present])
        for digit, (cx, cy), (tx, ty) in zip(present, medians, _spread_labels(medians, ax), strict=True):
            ax.plot([cx, tx], [cy, ty], color="black", linewidth=0.8)  # from the class median to its label
            ax.plot(cx, cy, "o", color="black", markersize=3)
            box = dict(boxstyle="round,pad=0.15", facecolor="white", alpha=0.7, edgecolor=plt.cm.tab10(digit))
            ax.text(tx, ty, str(digit), fontsize=15, fontweight="bold", ha="center", va="center", bbox=box)
        ax.set(title=panel_title, xlabel=f"{axis_name} 1", ylabel=f"{axis_name} 2")
    axes[0, -1].legend(title="digit", markerscale=3, loc="center left", bbox_to_anchor=(1.01, 0.5))
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_optimizer_paths(paths, loss, xlim=(-4.5, 1.5), ylim=(-1.3, 1.3)):
    """Optimizers on a loss of two weights (lesson 2): their paths over its contour lines, and the loss per step.

    ``paths`` maps a name to ``(weights visited [steps + 1, 2], loss after each step)``; ``loss(w)``
    gives the loss of ``w = (w1, w2)`` (NumPy arrays work), for the contour lines. The minimum is at (0, 0).
    """
    fig, (ax_path, ax_loss) = plt.subplots(1, 2, figsize=(13, 4.2), gridspec_kw={"width_ratios": [1.7, 1]})
    w1, w2 = np.meshgrid(np.linspace(*xlim, 300), np.linspace(*ylim, 200))
    ax_path.contour(w1, w2, loss((w1, w2)), levels=np.geomspace(0.05, 80, 12), colors="lightgray")
    for (name, (path, losses)), color in zip(paths.items(), plt.cm.tab10.colors, strict=False):
        ax_path.plot(path[:, 0], path[:, 1], "o-", color=color, markersize=3, linewidth=1, label=name)
        ax_loss.plot(losses, color=color, label=name)
    ax_path.plot(0, 0, "*", color="black", markersize=12)
    ax_path.set(aspect="equal", xlabel="$w_1$ (gentle direction)", ylabel="$w_2$ (steep)")
    ax_path.set_title("Paths on the valley (star: the minimum)")
    ax_path.legend(fontsize=8, loc="upper right")
    ax_loss.set_yscale("log")
    ax_loss.set(xlabel="step", ylabel="loss", title="Loss after each step (colours as on the left)")
    ax_loss.grid(alpha=0.3, which="both")
    fig.tight_layout()
    return fig


def _write_values(ax, values, dark):
    """Write each value of a small 2-D array in its cell, in white where ``dark(value)`` (a dark cell)."""
    for a in range(values.shape[0]):
        for b in range(values.shape[1]):
            v = float(values[a, b]) + 0.0  # + 0.0 turns -0 into 0
            ax.text(b, a, f"{v:.0f}", ha="center", va="center", fontsize=12, color="white" if dark(v) else "black")
    ax.set_xticks(range(values.shape[1]))
    ax.set_yticks(range(values.shape[0]))


def show_conv_example(image, kernel, feature_map, pooled, at=(1, 0)):
    """A convolution and a 2x2 max-pooling on a tiny image, every number written in its cell (lesson 3).

    Red boxes: the image patch that gives output ``at`` (row, column), and that output. Black lines:
    the 2x2 blocks the pooling takes the largest number of.
    """
    fig, axes = plt.subplots(1, 4, figsize=(13, 3.6), gridspec_kw={"width_ratios": [6, 3, 4, 2]})
    n, k, m, q = image.shape[0], kernel.shape[0], feature_map.shape[0], pooled.shape[0]
    strong = lambda v: abs(v) > 2.5  # noqa: E731  (a dark red or blue cell gets white numbers)
    panels = [
        (image, f"image ({n}x{n})\nred: the patch for output {tuple(at)}", "gray_r", 1, lambda v: v > 0.5),
        (kernel, f"kernel K ({k}x{k})", "RdBu_r", 3, strong),
        (feature_map, f"feature map ({m}x{m})\nblack lines: the 2x2 pooling blocks", "RdBu_r", 3, strong),
        (pooled, f"after 2x2 max-pooling ({q}x{q})", "RdBu_r", 3, strong),
    ]
    for ax, (values, title, cmap, high, dark) in zip(axes, panels, strict=True):
        ax.imshow(values, cmap=cmap, vmin=0 if cmap == "gray_r" else -high, vmax=high)
        _write_values(ax, values, dark)
        ax.set_title(title, fontsize=10)
    row, col = at
    red = dict(fill=False, edgecolor="crimson", linewidth=3)
    axes[0].add_patch(plt.Rectangle((col - 0.5, row - 0.5), k, k, **red))
    axes[2].add_patch(plt.Rectangle((col - 0.5, row - 0.5), 1, 1, **red))
    for edge in range(2, feature_map.shape[0], 2):
        axes[2].axhline(edge - 0.5, color="black", linewidth=2)
        axes[2].axvline(edge - 0.5, color="black", linewidth=2)
    fig.tight_layout()
    return fig


def plot_conv_1d(examples, size: int = 7, kernel: int = 3):
    """Which input pixels each output of a 1-D convolution reads, one row per setting (lesson 3).

    ``examples`` lists ``(title, padding, stride, dilation)``; padding pixels (zeros) are hatched.
    """
    from course_utils.shapes import conv_output_size

    fig, axes = plt.subplots(len(examples), 1, figsize=(9, 2.1 * len(examples) + 0.1), squeeze=False)
    for ax, (title, p, s, d) in zip(axes[:, 0], examples, strict=True):
        n_out = conv_output_size(size, kernel, stride=s, padding=p, dilation=d)
        for col in range(-p, size + p):
            padded = not 0 <= col < size
            cell = dict(facecolor="0.9", hatch="///") if padded else dict(facecolor="white")
            ax.add_patch(plt.Rectangle((col - 0.42, 0.6), 0.84, 0.84, edgecolor="black", **cell))
            words = dict(facecolor="white", edgecolor="none", pad=1) if padded else None
            ax.text(col, 1.02, "0" if padded else f"$x_{col}$", ha="center", va="center", fontsize=10, bbox=words)
        for i in range(n_out):
            taps = [i * s - p + t * d for t in range(kernel)]  # the input positions output i reads
            centre, colour = (taps[0] + taps[-1]) / 2, plt.cm.tab10(i)
            for t in taps:
                ax.plot([centre, t], [-0.58, 0.58], color=colour, linewidth=1.5)
            ax.add_patch(plt.Rectangle((centre - 0.42, -1.42), 0.84, 0.84, facecolor=colour, alpha=0.35, ec="black"))
            ax.text(centre, -1.0, f"$y_{i}$", ha="center", va="center", fontsize=10)
        ax.text(-3.3, 1.02, "input", va="center")
        ax.text(-3.3, -1.0, "output", va="center")
        formula = f"N = floor(({size} + 2*{p} - {d}*({kernel}-1) - 1) / {s}) + 1 = {n_out}"
        ax.set_title(f"{title} (k={kernel}, p={p}, s={s}, d={d}):  {formula}", fontsize=10)
        ax.set(xlim=(-3.5, size + 1.5), ylim=(-1.6, 1.6))
        ax.axis("off")
    fig.tight_layout()
    return fig


def plot_receptive_fields(image, footprints, fields):
    """Receptive fields drawn on a digit (left) and their sizes per layer (right) (lesson 3).

    ``footprints`` maps a layer name to the rows and columns its middle unit sees, ``(r0, r1, c0, c1)``;
    ``fields`` is the table of `course_utils.shapes.receptive_fields` (columns ``layer``, ``receptive field``).
    """
    from matplotlib import patheffects

    colours = ["#e41a1c", "#ff7f00", "#00b4d8", "#4daf4a", "#984ea3", "#a65628"]  # bright, visible on black ink
    fig, (ax_img, ax_rf) = plt.subplots(1, 2, figsize=(11, 4.6), gridspec_kw={"width_ratios": [1, 1.2]})
    ax_img.imshow(_as_image(image), cmap="gray_r")
    halo = [patheffects.withStroke(linewidth=5, foreground="white")]
    for name, colour in zip(fields["layer"], colours, strict=False):
        r0, r1, c0, c1 = footprints[name]
        inset = 0.25 if name.startswith("conv") else 0.0  # a conv box shares two edges with the pooling box after it
        height, width = r1 - r0 + 1, c1 - c0 + 1
        look = dict(fill=False, linewidth=2.5, edgecolor=colour, path_effects=halo, label=f"{name}: {height}x{width}")
        corner = (c0 - 0.5 + inset, r0 - 0.5 + inset)
        ax_img.add_patch(plt.Rectangle(corner, width - 2 * inset, height - 2 * inset, **look))
    ax_img.set(title="receptive field of the middle unit of each layer", xlabel="column", ylabel="row")
    ax_img.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9)

    sizes = list(fields["receptive field"])
    ax_rf.bar(fields["layer"], sizes, color=colours[: len(sizes)])
    for i, value in enumerate(sizes):
        ax_rf.text(i, value + 0.4, f"{value}x{value}", ha="center")
    ax_rf.axhline(28, color="gray", linestyle=":", label="image size (28)")
    ax_rf.set(ylim=(0, 31), xlabel="layer", ylabel="receptive field (pixels per side)")
    ax_rf.set_title("receptive fields grow with depth")
    ax_rf.legend(loc="upper left")
    fig.tight_layout()
    return fig


def plot_edge_maps(image, kernels, edges, patch_at, title: str):
    """Two edge-detecting kernels at work on a digit (lesson 3), one row per kernel.

    Left: the input (``title``; red box: the 3x3 patch at ``patch_at`` = (row, column)) above the edge
    strength, the length of the two outputs taken as a vector. Middle: each kernel, given in ``kernels`` as
    ``(kernel, name, what it finds)``. Right: its output ``edges[i]``, red positive, blue negative, white 0.
    """
    fig, axes = plt.subplots(2, 3, figsize=(12, 7.6))
    limit = edges.abs().max().item()  # one symmetric colour scale, so 0 is white in both maps
    axes[0, 0].imshow(_as_image(image), cmap="gray_r")
    row, col = patch_at
    axes[0, 0].add_patch(plt.Rectangle((col - 0.5, row - 0.5), 3, 3, fill=False, edgecolor="crimson", linewidth=2))
    axes[0, 0].set_title(title)
    im = axes[1, 0].imshow(edges.pow(2).sum(dim=0).sqrt(), cmap="Greys")
    fig.colorbar(im, ax=axes[1, 0], shrink=0.8, label="edge strength")
    axes[1, 0].set_title(r"edge strength $\sqrt{y_x^2 + y_y^2}$" + f" ({edges.shape[1]}x{edges.shape[2]})")
    for i, (kernel, name, what) in enumerate(kernels):
        im = axes[i, 1].imshow(kernel, cmap="RdBu_r", vmin=-2, vmax=2)
        _write_values(axes[i, 1], kernel, lambda v: False)
        axes[i, 1].set_title(f"kernel {name} ({kernel.shape[0]}x{kernel.shape[1]})")
        fig.colorbar(im, ax=axes[i, 1], shrink=0.8, label="weight")
        im = axes[i, 2].imshow(edges[i], cmap="RdBu_r", vmin=-limit, vmax=limit)
        axes[i, 2].set_title(f"output with {name}: {what} ({edges.shape[1]}x{edges.shape[2]})")
        fig.colorbar(im, ax=axes[i, 2], shrink=0.8, label="output value")
    for ax in axes[:, [0, 2]].flat:
        ax.set(xlabel="column", ylabel="row")
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


# --- Lesson 11: what the network sees ---


def plot_hidden_and_logits(hidden, logits):
    """One image's hidden units (bars, after ReLU) beside its logits (the largest in red, the top two labelled)."""
    hidden, scores = hidden.detach().cpu().flatten(), logits.detach().cpu().flatten()
    fig, (ax_hidden, ax_logits) = plt.subplots(1, 2, figsize=(12, 3), gridspec_kw={"width_ratios": [3, 1]})
    ax_hidden.bar(range(len(hidden)), hidden, color="tab:gray")
    ax_hidden.set(xlabel="hidden unit", ylabel="activation", title=f"the {len(hidden)} hidden units (after ReLU)")
    ax_logits.bar(range(len(scores)), scores, color=["tab:gray"] * len(scores))
    ax_logits.patches[int(scores.argmax())].set_color("tab:red")
    for digit in scores.topk(2).indices.tolist():
        where = "bottom" if scores[digit] >= 0 else "top"
        ax_logits.text(digit, scores[digit], f"{scores[digit]:.1f}", ha="center", va=where, fontsize=8)
    ax_logits.axhline(0, color="black", linewidth=0.6)
    ax_logits.set(xlabel="digit", ylabel="logit", title=f"the {len(scores)} logits", xticks=range(len(scores)))
    ax_logits.margins(y=0.15)
    fig.tight_layout()
    return fig


def show_window(image, noisy, window, titles=("the digit", "noise outside the window")):
    """An image beside a copy of it, with ``window = (top, bottom, left, right)`` (inclusive) boxed in red."""
    from matplotlib.patches import Rectangle

    top, bottom, left, right = window
    image, noisy = _as_image(image), _as_image(noisy)
    fig, axes = plt.subplots(1, 2, figsize=(6, 3))
    for ax, picture, title in zip(axes, (image, noisy), titles, strict=True):
        ax.imshow(picture, cmap="gray_r", vmin=image.min(), vmax=image.max())
        box = Rectangle((left - 0.5, top - 0.5), right - left + 1, bottom - top + 1, fill=False, edgecolor="crimson")
        ax.add_patch(box)
        ax.set(xlim=(-0.5, 27.5), ylim=(27.5, -0.5), xticks=range(0, 28, 4), yticks=range(0, 28, 4), title=title)
        ax.tick_params(labelsize=8)
    fig.tight_layout()
    return fig


def outline_ink(ax, ink):
    """Draw the outline of a digit's ink (``[28, 28]``, 0 = paper, 1 = full ink) in cyan over a map."""
    ax.contour(_as_image(ink), levels=[0.5], colors="cyan", linewidths=0.8)


def show_maps(inks, maps, title: str | None = None, digits_in_rows: bool = False, size: float = 1.5):
    """Digits and maps computed from them (saliency, ...), each map on its own colour scale with the ink's outline.

    ``inks`` is ``[N, 28, 28]`` (0 = paper, 1 = ink); ``maps`` a dict ``{name: [N, 28, 28]}``. The digits fill
    the top row and each kind of map a row below it; with ``digits_in_rows`` each digit is a row instead, its
    maps side by side. Bright means large.
    """
    inks = [_as_image(ink) for ink in inks]
    panels = [("digit", inks)] + [(name, [_as_image(m) for m in kind]) for name, kind in maps.items()]
    shape = (len(inks), len(panels)) if digits_in_rows else (len(panels), len(inks))
    fig, axes = plt.subplots(*shape, figsize=(size * shape[1], size * shape[0] + 0.5), squeeze=False)
    axes = axes if digits_in_rows else axes.T  # axes[digit, kind]
    for k, (name, pictures) in enumerate(panels):
        for i, picture in enumerate(pictures):
            ax = axes[i, k]
            ax.imshow(picture, cmap="gray_r" if k == 0 else "inferno")
            if k > 0:
                outline_ink(ax, inks[i])
            ax.set(xticks=[], yticks=[])
        if digits_in_rows:
            axes[0, k].set_title(name, fontsize=9)
        else:
            axes[0, k].set_ylabel(name, fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def show_occlusion(ax, drops, ink, patch: int, stride: int, title: str | None = None):
    """An occlusion map (``[n, n]`` drops of a logit) over the image area its squares cover, with the ink's outline.

    Each value is drawn at the centre of its square; red: covering hurt the class, blue: it helped, white: no change.
    """
    drops = torch.as_tensor(drops).detach().cpu()
    first, last = (patch - 1) / 2, (patch - 1) / 2 + (len(drops) - 1) * stride  # centres of the squares
    extent = (first - stride / 2, last + stride / 2, last + stride / 2, first - stride / 2)
    limit = drops.abs().max().item() or 1.0
    ax.imshow(drops, cmap="RdBu_r", vmin=-limit, vmax=limit, extent=extent)
    outline_ink(ax, ink)
    ax.set(xlim=(-0.5, 27.5), ylim=(27.5, -0.5), xticks=[], yticks=[])
    if title:
        ax.set_title(title, fontsize=9)
    return ax


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
