"""Figures of the training experiments in lessons 5, 8 and 9: accuracy against parameters,
early stopping, augmented images, and the train-validation accuracy gap.

Each function draws one figure and returns it, as in `course_utils.plots`.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import torch

from course_utils.plots import show_images


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
