"""Figures of lesson 3, shape arithmetic: a convolution by numbers, strides in 1-D, receptive fields, edges.

Each function draws one figure and returns it, as in `course_utils.plots`.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from course_utils.plots import _as_image
from course_utils.shapes import conv_output_size

from .style import PALETTE, RED


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
        # a NumPy array: matplotlib's np.array(tensor, copy=False) warns that torch's __array__ takes no copy
        ax.imshow(np.asarray(values), cmap=cmap, vmin=0 if cmap == "gray_r" else -high, vmax=high)
        _write_values(ax, values, dark)
        ax.set_title(title, fontsize=10)
    row, col = at
    red = dict(fill=False, edgecolor=RED, linewidth=3)
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
            centre, colour = (taps[0] + taps[-1]) / 2, PALETTE[i % len(PALETTE)]
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
    ``(kernel, name, what it finds)``, its values written in (white on the darkest cells). Right: its output
    ``edges[i]``, red positive, blue negative, white 0.
    """
    fig, axes = plt.subplots(2, 3, figsize=(12, 7.6))
    limit = edges.abs().max().item()  # one symmetric colour scale, so 0 is white in both maps
    axes[0, 0].imshow(_as_image(image), cmap="gray_r")
    row, col = patch_at
    axes[0, 0].add_patch(plt.Rectangle((col - 0.5, row - 0.5), 3, 3, fill=False, edgecolor=RED, linewidth=2))
    axes[0, 0].set_title(title)
    im = axes[1, 0].imshow(edges.pow(2).sum(dim=0).sqrt(), cmap="Greys")
    fig.colorbar(im, ax=axes[1, 0], shrink=0.8, label="edge strength")
    axes[1, 0].set_title(r"edge strength $\sqrt{y_x^2 + y_y^2}$" + f" ({edges.shape[1]}x{edges.shape[2]})")
    for i, (kernel, name, what) in enumerate(kernels):
        im = axes[i, 1].imshow(kernel, cmap="RdBu_r", vmin=-2, vmax=2)
        _write_values(axes[i, 1], kernel, lambda v: abs(v) >= 2)  # white on the darkest cells
        axes[i, 1].set_title(f"kernel {name} ({kernel.shape[0]}x{kernel.shape[1]})")
        fig.colorbar(im, ax=axes[i, 1], shrink=0.8, label="weight")
        im = axes[i, 2].imshow(edges[i], cmap="RdBu_r", vmin=-limit, vmax=limit)
        axes[i, 2].set_title(f"output with {name}: {what} ({edges.shape[1]}x{edges.shape[2]})")
        fig.colorbar(im, ax=axes[i, 2], shrink=0.8, label="output value")
    for ax in axes[:, [0, 2]].flat:
        ax.set(xlabel="column", ylabel="row")
    fig.tight_layout()
    return fig
