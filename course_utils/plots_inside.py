"""Figures of lesson 11, what the network sees: one digit's hidden units and logits, a receptive field's
window, saliency maps beside the digits they explain, and occlusion maps over the image.

Each function draws one figure (or one panel, given ``ax``) and returns it, as in `course_utils.plots`.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import torch

from course_utils.plots import _as_image

from .style import GREY, RED


def plot_hidden_and_logits(hidden, logits):
    """One image's hidden units (bars, after ReLU) beside its logits (the largest in red, the top two labelled)."""
    hidden, scores = hidden.detach().cpu().flatten(), logits.detach().cpu().flatten()
    fig, (ax_hidden, ax_logits) = plt.subplots(1, 2, figsize=(12, 3), gridspec_kw={"width_ratios": [3, 1]})
    ax_hidden.bar(range(len(hidden)), hidden, color=GREY)
    ax_hidden.set(xlabel="hidden unit", ylabel="activation", title=f"the {len(hidden)} hidden units (after ReLU)")
    ax_logits.bar(range(len(scores)), scores, color=[GREY] * len(scores))
    ax_logits.patches[int(scores.argmax())].set_color(RED)
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
        box = Rectangle((left - 0.5, top - 0.5), right - left + 1, bottom - top + 1, fill=False, edgecolor=RED)
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
