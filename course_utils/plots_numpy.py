"""Figures of lesson 7, a CNN from scratch in NumPy: im2col's windows and matrix, and where a
NumPy network's time goes.

Each function draws one figure and returns it, as in `course_utils.plots`.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .style import BLUE, BROWN, GREEN, ORANGE, PINK, PURPLE, RED, YELLOW


def show_im2col(image, cols, k: int = 3):
    """A small image with its k x k windows outlined, beside its im2col matrix (lesson 7).

    ``image`` is 2-D (say 4x4) and ``cols`` its im2col matrix: one row per window, in reading
    order, and one column per position (u, v) inside the window. Every number is written in its
    cell; a window's outline and its row of the matrix share a colour.
    """
    from matplotlib.patches import Rectangle

    image, cols = np.asarray(image), np.asarray(cols)
    positions = list(np.ndindex(image.shape[0] - k + 1, image.shape[1] - k + 1))
    colors = [RED, BLUE, GREEN, ORANGE, PURPLE, BROWN, PINK, YELLOW]
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
