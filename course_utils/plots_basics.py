"""Figures of the first two lessons: how MNIST was made, 2-D maps of its images, optimizers on a toy loss.

Lesson 1 counts classes and pixel values (`plot_class_balance`, `plot_pixel_values`), checks MNIST's
preparation (`plot_box_and_centre`, `show_centre_of_mass`) and draws PCA and
t-SNE pictures (`plot_embeddings`); lesson 2 follows optimizers down a valley (`plot_optimizer_paths`).
Each function draws one figure and returns it, as in `course_utils.plots`.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch

from course_utils.plots import _as_image

from .style import BLUE, ORANGE, PALETTE, RED


def plot_class_balance(train_pct, test_pct, n_train: int, n_test: int):
    """Side-by-side bars: the share (%) of each digit 0-9 in the training and the test split (lesson 1)."""
    fig, ax = plt.subplots(figsize=(8, 3.4))
    digits = np.arange(10)
    ax.bar(digits - 0.2, np.asarray(train_pct), width=0.4, label=f"training ({n_train:,} images)")
    ax.bar(digits + 0.2, np.asarray(test_pct), width=0.4, label=f"test ({n_test:,} images)")
    ax.axhline(10, color="gray", linestyle=":", label="perfectly balanced (10%)")
    ax.set(xticks=digits, xlabel="digit", ylabel="share of the split (%)", ylim=(0, 13.5))  # room for the legend
    ax.set_title("Class balance: every digit makes up roughly a tenth of each split")
    ax.legend(loc="upper center", ncol=3, fontsize=8)
    fig.tight_layout()
    return fig


def plot_pixel_values(value_counts):
    """How many pixels take each value 0-255 (``value_counts``, 256 counts), on a log scale (lesson 1)."""
    fig, ax = plt.subplots(figsize=(8, 3.4))
    ax.bar(np.arange(256), np.asarray(value_counts), width=1.0, color=BLUE)
    ax.set(yscale="log", xlim=(-2, 257), xticks=np.arange(0, 256, 32).tolist() + [255])
    ax.set(xlabel="pixel value (0 = background, 255 = full ink)", ylabel="number of pixels (log scale)")
    ax.set_title("Pixel values over the training split")
    fig.tight_layout()
    return fig


def _mark_centre(ax, row: float, col: float, label: str = "centre of mass"):
    """A red x at a centre of mass (row, column) and a blue + at pixel (14, 14), where MNIST centres it."""
    ax.plot(col, row, "x", color=RED, markersize=12, mew=3, label=label)
    ax.plot(14, 14, "+", color=BLUE, markersize=14, mew=2, label="pixel (14, 14)")


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
    box = dict(fill=False, edgecolor=ORANGE, linewidth=2, label=f"bounding box ({height} rows x {width} columns)")
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
    ax_com.add_patch(plt.Rectangle((13.5, 13.5), 1, 1, fill=False, ec=RED, ls="--", label="pixel (14, 14)"))
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
            ax.scatter(xy[here, 0], xy[here, 1], s=6, alpha=0.6, color=PALETTE[digit], label=str(digit))
        medians = np.array([np.median(xy[labels == digit], axis=0) for digit in present])
        for digit, (cx, cy), (tx, ty) in zip(present, medians, _spread_labels(medians, ax), strict=True):
            ax.plot([cx, tx], [cy, ty], color="black", linewidth=0.8)  # from the class median to its label
            ax.plot(cx, cy, "o", color="black", markersize=3)
            box = dict(boxstyle="round,pad=0.15", facecolor="white", alpha=0.7, edgecolor=PALETTE[digit])
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
    for (name, (path, losses)), color in zip(paths.items(), PALETTE, strict=False):
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
