"""Figures and tables of lesson 13, where the time goes: speeds as bars on a linear scale, the batch-size curve
with the straight line (a fixed cost per step plus a cost per image) fitted to it, what torch.compile cost
and bought, and the table of every measurement.

Each function draws one figure and returns it, as in `course_utils.plots`.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .style import BLUE, GREEN, GREY, ORANGE


def plot_speed_bars(panels: dict, title: str | None = None):
    """Side-by-side horizontal bar charts of speeds, ``{panel title: {name: images per second}}``.

    Linear scales from zero, so a bar 100 times longer means 100 times as fast; each bar is labelled
    with its value, so a bar too short to see still reads.
    """
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 1.2 + 0.8 * max(map(len, panels.values()))))
    thousands = plt.FuncFormatter(lambda value, _: f"{value:,.0f}")  # 1,200,000 rather than 1.2 and "1e6"
    for i, (ax, (panel, rates)) in enumerate(zip(np.atleast_1d(axes), panels.items(), strict=True)):
        bars = ax.barh(list(rates), list(rates.values()), color=[GREY, BLUE, GREEN][: len(rates)])
        ax.bar_label(bars, labels=[f" {r:,.0f}" for r in rates.values()])
        ax.set(title=panel, xlabel="images per second", xlim=(0, 1.3 * max(rates.values())))
        ax.xaxis.set_major_formatter(thousands)
        ax.xaxis.set_major_locator(plt.MaxNLocator(4))
        if i:
            ax.set_yticks([])
    if title:
        fig.suptitle(title, y=1.02)
    fig.tight_layout()
    return fig


def plot_batch_sizes(images_per_s: dict, fixed_ms: float, per_image_ms: float, fitted, title: str | None = None):
    """Training speed against batch size, with a straight line of milliseconds per step fitted to ``fitted``.

    Left: milliseconds per step (linear axes) and the line ``fixed_ms + batch * per_image_ms``, solid over
    the batch sizes it was fitted to, dashed beyond. Right: images per second, measured and as the line
    predicts them (``1000 * batch / (fixed_ms + batch * per_image_ms)``).
    """
    batches = np.array(list(images_per_s))
    rates = np.array(list(images_per_s.values()))
    step_ms = 1000 * batches / rates
    fig, (ax_ms, ax_rate) = plt.subplots(1, 2, figsize=(11, 3.8))
    line = f"line: {fixed_ms:.2f} ms + {1000 * per_image_ms:.0f} µs per image"
    inside = np.linspace(0, max(fitted), 50)
    beyond = np.linspace(max(fitted), batches.max(), 50)
    ax_ms.plot(inside, fixed_ms + inside * per_image_ms, "-", color=ORANGE, label=f"{line} (fitted)")
    ax_ms.plot(beyond, fixed_ms + beyond * per_image_ms, "--", color=ORANGE, label="the line, extended")
    ax_ms.plot(batches, step_ms, "o", color=BLUE, label="measured")
    for b, ms in zip(batches, step_ms, strict=True):
        if b >= max(fitted):  # the small batches sit too close together to label
            ax_ms.annotate(f"{ms:.1f} ms", (b, ms), textcoords="offset points", xytext=(-6, 6), ha="right", fontsize=9)
    ax_ms.annotate(
        f"fixed cost {fixed_ms:.2f} ms",
        (0, fixed_ms),
        xytext=(0.25 * batches.max(), 0.05 * step_ms.max()),
        arrowprops={"arrowstyle": "->", "color": "gray"},
        fontsize=9,
    )
    ax_ms.set(xlabel="batch size (images per step)", ylabel="milliseconds per training step", xlim=(0, None))
    ax_ms.set_ylim(0, 1.15 * step_ms.max())
    ax_ms.set_title("time per step", fontsize=10)
    sizes = np.geomspace(batches.min(), batches.max(), 100)
    predicted = 1000 * sizes / (fixed_ms + sizes * per_image_ms)
    ax_rate.plot(sizes, predicted, "--", color=ORANGE, label="as the line predicts")
    ax_rate.plot(batches, rates, "o-", color=BLUE, label="measured")
    for b, rate in zip(batches, rates, strict=True):
        ax_rate.annotate(f"{rate:,.0f}", (b, rate), textcoords="offset points", xytext=(0, -14), ha="center")
    ax_rate.set_xscale("log", base=2)
    ax_rate.set_xticks(batches, [str(b) for b in batches])
    ax_rate.set(xlabel="batch size (log scale)", ylabel="training images per second", ylim=(0, 1.25 * rates.max()))
    ax_rate.set_title("images per second", fontsize=10)
    for ax in (ax_ms, ax_rate):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper left")
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


def speed_table(rows: dict):
    """``{experiment: (images per second, baseline)}`` as a table with the speed-up over each row's baseline."""
    return pd.DataFrame(
        [(name, round(rate), f"{rate / baseline:.2f}x") for name, (rate, baseline) in rows.items()],
        columns=["(section) experiment", "images/s", "speed-up"],
    ).set_index("(section) experiment")


def report_compile(what: str, compile_seconds: dict, by_compile: dict, difference: dict, cold=False) -> None:
    """Print what compiling cost and bought for ``what`` ("evaluation" or "training"), if it was measured."""
    seconds = compile_seconds.get(what)
    if seconds is None:
        return
    guess = "under 2 s: probably read from the disk cache" if seconds < 2 else "compiled here"
    print(f"compiling for {what}: {seconds:5.1f} s ({'compiled here, disk cache off' if cold else guess})")
    if what in by_compile:
        eager, compiled = by_compile[what]["eager"], by_compile[what]["compiled"]
        speeds = f"eager {eager:>8,.0f} images/s, compiled {compiled:>8,.0f} images/s"
        print(f"{what}: {speeds} ({compiled / eager:.2f} times as fast)")
        verdict = "gained" if compiled > 1.05 * eager else "lost" if compiled < 0.95 * eager else "changed little"
        print(f"    for {what}, compiling {verdict} in this run")
        print(f"largest difference between the compiled and eager outputs: {difference[what]:.1e}")
        if cold:  # what the compile cost, in the currency of this run: images eager trains meanwhile
            meanwhile = round(seconds * eager, -3)
            print(f"in {seconds:.1f} s of compiling, eager {what} gets through about {meanwhile:,.0f} images")


def measurements_table(tutorial, training32, by_batch, by_layout, by_threads, side, by_compile, batch_size, layout):
    """Every measurement of lesson 13, one row each, named by its section, batch size and memory layout.

    Training speeds are compared with the tutorial's (``tutorial`` images/s); compiled evaluation with eager.
    """
    eval_eager = by_compile.get("evaluation", {}).get("eager")
    rows = {  # experiment: (images per second, the speed it is compared with)
        "(2) tutorial (DataLoader), batch 32, NCHW": (tutorial, tutorial),
        "(2) in-memory, batch 32, NCHW": (training32["in-memory tensors"], tutorial),
        **{f"(3) in-memory, batch {b}, NCHW": (rate, tutorial) for b, rate in by_batch.items()},
        **{f"(4) in-memory, batch {batch_size}, {name[-5:-1]}": (rate, tutorial) for name, rate in by_layout.items()},
        **{f"(5) batch {b}, {layout}, {n} thread(s)": (rate, tutorial) for (n, b), rate in by_threads.items()},
        **{f"(5) batch {b}, {layout}, {way}": (rate, tutorial) for (way, b), rate in side.items()},
        **{
            f"(6) training, batch {batch_size}, {layout}, {how}": (r, tutorial)
            for how, r in by_compile.get("training", {}).items()
        },
        **{
            f"(6) evaluation, batch {batch_size}, {layout}, {how}": (r, eval_eager)
            for how, r in by_compile.get("evaluation", {}).items()
        },
    }
    table = speed_table(rows)
    table["compared with"] = ["eager evaluation" if "evaluation" in name else "the tutorial" for name in table.index]
    return table
