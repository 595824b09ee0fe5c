"""Figures of lesson 12, your own digits: accuracy when digits move or shrink, MNIST's preprocessing
step by step, a photo's histogram and Otsu's threshold, the lighting evened out, inks found at
several levels, and a digit beside the network's ten probabilities.

Each function draws one figure and returns it, as in `course_utils.plots`; digits are drawn as dark
ink on light paper with `plots.show_digit`.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from scipy import ndimage

from .plots import _as_image, show_digit
from .style import BLUE, ORANGE, RED


def show_preprocessing(panels, box=None, centre=(14, 14)):
    """A row of images, ``panels = [(image, title), ...]``, from the drawing to what the network gets.

    ``box = (top, left, height, width)`` outlines the ink's bounding box on the first image; on the
    last, a cross marks its centre of mass and a plus the pixel ``centre``.
    """
    fig, axes = plt.subplots(1, len(panels), figsize=(2.8 * len(panels), 3.4))
    for ax, (image, title) in zip(axes, panels, strict=True):
        show_digit(ax, image, title)
    if box is not None:
        top, left, height, width = box
        outline = plt.Rectangle((left - 0.5, top - 0.5), width, height, fill=False, color=ORANGE, lw=2)
        axes[0].add_patch(outline)
    last = np.asarray(panels[-1][0], dtype=float)
    mass = ndimage.center_of_mass(last - last.min())  # normalized images: the background counts as no ink
    axes[-1].plot(mass[1], mass[0], "x", color=RED, ms=10, mew=2, label="centre of mass")
    axes[-1].plot(centre[1], centre[0], "+", color=BLUE, ms=14, mew=2, label=f"pixel {tuple(centre)}")
    axes[-1].legend(fontsize=7, loc="lower center", bbox_to_anchor=(0.5, -0.35))
    fig.tight_layout()
    return fig


def _histogram(ax, values, level, xlabel: str, log: bool = False):
    """A grey histogram of ``values`` (0-1) with a dashed line at Otsu's ``level``."""
    ax.hist(np.ravel(values), bins=100, range=(0, 1), color="gray", log=log)
    ax.axvline(level, color=RED, linestyle="--", label=f"Otsu's level {level:.2f}")
    ax.set(xlabel=xlabel, ylabel="pixels (log scale)" if log else "pixels")
    ax.legend(fontsize=8)


def show_photo_threshold(photo, grey, level, levels, scores):
    """The photo; its grey histogram with Otsu's score at each of ``levels`` (orange, its own axis from
    0, no numbers: only its shape matters); and the pixels darker than ``level``."""
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.6))
    axes[0].imshow(photo)
    axes[0].set_title("the photo")
    _histogram(axes[1], grey, level, "grey level")
    twin = axes[1].twinx()
    twin.plot(levels, scores, color=ORANGE)
    twin.set_ylim(bottom=0)  # a score of 0 sits on the histogram's 0
    twin.set_yticks([])
    axes[1].set_title("histogram (grey) and Otsu's score (orange)")
    dark = np.asarray(grey) < level
    show_digit(axes[2], dark, f"darker than {level:.2f}: {dark.mean():.0%} of the photo", 12)
    fig.tight_layout()
    return fig


def show_evened_lighting(paper, flat, level, ink):
    """The paper's estimated brightness, the photo divided by it, that one's histogram (log scale)
    with Otsu's ``level``, and the ink found."""
    fig, axes = plt.subplots(1, 4, figsize=(15, 3.4))
    titles = ("the paper's brightness, estimated", "photo / paper: evenly lit")
    for ax, image, title in zip(axes[:2], (paper, flat), titles, strict=True):
        ax.imshow(image, cmap="gray", vmin=0, vmax=1)
        ax.set_title(title)
    _histogram(axes[2], flat, level, "grey level (photo / paper)", log=True)
    show_digit(axes[3], ink, "darker than the level: the ink", 12)
    fig.tight_layout()
    return fig


def show_inks(inks: dict, title: str | None = None):
    """One panel per ``{name: True/False ink mask}``, titled with its ink pixels and separate blobs."""
    fig, axes = plt.subplots(1, len(inks), figsize=(3.4 * len(inks), 3.0), squeeze=False)
    for ax, (name, mask) in zip(axes[0], inks.items(), strict=True):
        mask = np.asarray(mask, dtype=bool)
        blobs = ndimage.label(mask)[1]
        show_digit(ax, mask, f"{name}\n{int(mask.sum())} ink pixels, {blobs} blob{'s' * (blobs != 1)}")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def show_prediction(images: dict, probabilities, title: str | None = None):
    """``{title: image}`` side by side, then the network's ten probabilities as bars, the largest
    highlighted and labelled with its value."""
    p = 100 * np.asarray(probabilities, dtype=float).ravel()
    widths = [1] * len(images) + [2.2]
    fig, axes = plt.subplots(1, len(widths), figsize=(2.8 * sum(widths), 3), gridspec_kw=dict(width_ratios=widths))
    for ax, (name, image) in zip(axes[:-1], images.items(), strict=True):
        show_digit(ax, image, name)
    best = int(p.argmax())
    bars = axes[-1].bar(range(10), p, color=[ORANGE if k == best else BLUE for k in range(10)])
    axes[-1].bar_label(bars, labels=[f"{v:.0f}%" if k == best else "" for k, v in enumerate(p)])
    axes[-1].set(xticks=range(10), xlabel="digit", ylabel="probability (%)", ylim=(0, 112))
    axes[-1].set_title(title or f"the network says {best} ({p[best]:.0f}% sure)")
    fig.tight_layout()
    return fig


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
            strip_ax.axvline(i * side - 0.5, color=BLUE, linewidth=1)
        strip_ax.set_xticks([side * i + side / 2 - 0.5 for i in range(len(values))], [str(v) for v in values])
        strip_ax.set_yticks([])
        strip_ax.set_title("the first test digit, changed that much", fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
