"""Figures of lesson 10, beyond MNIST: confusion matrices side by side (with look-alike groups
framed), rows of example images, and one titled row of images.

Each function draws one figure and returns it, as in `course_utils.plots`.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from course_utils.plots import _as_image, plot_confusion_matrix

from .style import RED


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
                ax.add_patch(plt.Rectangle(corner, side, side, fill=False, edgecolor=RED, linewidth=2.5))
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
