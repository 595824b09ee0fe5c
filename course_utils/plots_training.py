"""Figures of the training experiments in lessons 5, 8 and 9: accuracy against parameters,
learning curves over seeds, early stopping, augmented images, and the train-validation accuracy gap.

Each function draws one figure and returns it, as in `course_utils.plots`.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import seaborn as sns
import torch

from course_utils.plots import show_images

from .style import BLUE, GREEN, ORANGE, RED


def plot_accuracy_vs_parameters(
    runs, title: str = "more parameters did not mean more accuracy", column: str = "test accuracy (%)"
):
    """One marker per run: accuracy against trainable parameters (log axis), one colour per configuration.

    ``runs`` has the columns ``configuration``, ``seed``, ``parameters`` and ``column`` (lesson 5).
    The runs of a configuration are shifted slightly sideways, so that equal accuracies do not hide each other.
    """
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for k, (name, group) in enumerate(runs.groupby("configuration", sort=False)):
        shift = 1 + 0.015 * (group["seed"] - group["seed"].mean())  # a small sideways shift per seed, on the log axis
        ax.scatter(group["parameters"] * shift, group[column], s=60, marker="os^Dv<>"[k % 7], label=name)
    ax.set_xscale("log")
    ax.set_xlim(22_000, 110_000)
    ax.set_xticks([25_000, 30_000, 40_000, 60_000, 85_000], ["25k", "30k", "40k", "60k", "85k"])
    ax.minorticks_off()
    ax.set(xlabel="trainable parameters (log scale)", ylabel=column, title=title)
    ax.legend(loc="lower right", fontsize=9)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_learning_curves(curves, title: str = "validation accuracy against epochs"):
    """Validation accuracy (%) against epochs, mean ± std over seeds, one colour per configuration (lesson 5).

    ``curves`` has the columns ``configuration``, ``seed``, ``epoch`` and ``val_acc`` (a fraction), epoch 0 being
    the untrained network. Left: every epoch, with the 10% of guessing; right: from epoch 1, zoomed in.
    """
    curves = curves.assign(val_pct=100 * curves["val_acc"])
    fig, (ax_all, ax_zoom) = plt.subplots(1, 2, figsize=(11, 4))
    for ax, first in ((ax_all, 0), (ax_zoom, 1)):
        shown = curves[curves["epoch"] >= first]
        sns.lineplot(
            data=shown, x="epoch", y="val_pct", hue="configuration", errorbar="sd", marker="o", ax=ax, legend=first == 0
        )  # one legend is enough: the colours are the same in both panels
        ax.set_xticks(range(first, int(curves["epoch"].max()) + 1))
        ax.set_ylabel("validation accuracy (%)")
        ax.grid(alpha=0.3)
    ax_all.axhline(10, color="gray", linestyle=":", label="guessing (10%)")
    ax_all.legend(loc="center right", fontsize=9)
    ax_all.set_title("from the untrained network (epoch 0)")
    ax_zoom.set_title("the same curves from epoch 1, zoomed in (same colours)")
    fig.suptitle(f"{title} (mean ± std over seeds)")
    fig.tight_layout()
    return fig


def plot_early_stopping(history, full_run, patience: int, title: str | None = None):
    """Loss and accuracy of a run that stopped early (``history``, from ``fit(..., patience=...)``),
    over the same run continued to the end (``full_run``, faint dashes): the kept epoch is a star,
    the stop a cross, and the epochs without a new low are shaded."""
    best, last = history.attrs["best_epoch"], len(history)
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4))
    for ax, metric, scale, label in ((ax_loss, "loss", 1, "cross-entropy loss"), (ax_acc, "acc", 100, "accuracy (%)")):
        for split, color, marker in (("train", BLUE, "o"), ("val", ORANGE, "s")):  # not told apart by hue alone
            name = "training" if split == "train" else "validation"
            values = scale * full_run[f"{split}_{metric}"]
            ax.plot(full_run["epoch"], values, "--", color=color, alpha=0.35, label=f"{name}, had it continued")
            values = scale * history[f"{split}_{metric}"]
            ax.plot(history["epoch"], values, f"{marker}-", color=color, ms=4, label=f"{name}, with early stopping")
        kept = scale * history[f"val_{metric}"].iloc[best - 1]
        ax.plot(best, kept, "*", color=GREEN, ms=18, label=f"best epoch ({best}): weights kept")
        stop = f"stopped after epoch {last}" if history.attrs["stopped_early"] else f"last epoch ({last})"
        ax.plot(last, scale * history[f"val_{metric}"].iloc[last - 1], "X", color=RED, ms=12, label=stop)
        if history.attrs["stopped_early"]:
            ax.axvspan(best, last, color="gray", alpha=0.12, label=f"{last - best} epochs without a new low")
        ax.set(xlabel="epoch", ylabel=label)
        ax.grid(alpha=0.3)
    ax_loss.axhline(history["val_loss"].min(), color=GREEN, linestyle=":", label="lowest validation loss")
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
        ax.contour(original[0, 0], levels=[outline], colors=RED, linewidths=0.8)
        ax.set_title("original" if i == 0 else f"#{i}", fontsize=10, color=RED if i == 0 else "gray")
    first = fig.axes[0]
    first.axis("on")
    first.set(xticks=[], yticks=[])
    for spine in first.spines.values():
        spine.set_color(RED)
        spine.set_linewidth(3)
    fig.tight_layout()
    return fig


def plot_accuracy_gap(history, zoom: float = 1.5):
    """Training minus validation accuracy per epoch, in points, as bars (blue: training is the lower one).

    The axis is zoomed to +-``zoom`` points around 0; a bar that runs off it has its value written on it.
    """
    gap = 100 * (history["train_acc"] - history["val_acc"])
    fig, ax = plt.subplots(figsize=(10, 2.6))
    ax.bar(history["epoch"], gap, color=[BLUE if g < 0 else ORANGE for g in gap])
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


def plot_loss_and_push(p_true, losses: dict, pushes: dict, untrained: float = 0.1):
    """Two panels against the true class's probability ``p_true`` (lesson 8): each loss of one image
    (``losses``: label -> values) and each loss's push on the true logit (``pushes``: label -> values).

    The confidently wrong region (``p_true`` below ``untrained``) is shaded, and ``untrained`` (an
    untrained network's ``1 / classes``) is a dotted line.
    """
    fig, (ax_loss, ax_push) = plt.subplots(1, 2, figsize=(11, 3.8))
    p = torch.as_tensor(p_true).numpy()
    for ax, curves in ((ax_loss, losses), (ax_push, pushes)):
        for label, values in curves.items():
            ax.plot(p, torch.as_tensor(values).detach().numpy(), label=label)
        ax.axvspan(0, untrained, color=RED, alpha=0.08, label="confidently wrong")
        ax.axvline(untrained, color="gray", linestyle=":", label=f"untrained network (1/{round(1 / untrained)})")
        ax.set_xlabel("predicted probability of the true class $p_y$")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=9)
    ax_loss.set(ylim=(0, 4), ylabel="loss of one image")
    ax_push.set_ylabel(r"push on the true logit, $-\partial L / \partial z_y$")
    fig.suptitle("the squared error pushes least exactly where the network is most wrong")
    fig.tight_layout()
    return fig
