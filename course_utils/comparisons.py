"""Training runs compared over seeds and settings (lessons 5 and 8): spreads, yardsticks, tables, a sweep.

A comparison trains the same network under several settings, each with a few seeds, and keeps
every history `fit` returns in a dict keyed by the settings: ``runs[("MSE", "sgd", 0.1, 0)]``.
`history_table` turns such a dict into one long table (a column per setting), `seed_summary`
gives each setting's mean and range over the seeds, and `plot_lr_sweep` draws accuracy against
the learning rate. Lesson 5: `spread_steps` shows the mean and standard deviation step by step, and
`yardstick_table` sets each gap between two configurations against its seed-to-seed yardstick.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns


def history_table(runs: dict, names, keys=None) -> pd.DataFrame:
    """The histories ``runs[key]`` (all of them, or those of ``keys``) stacked into one table.

    Each key is a tuple of settings, such as ``(loss, optimizer, lr, seed)``; ``names`` names its
    parts, which become columns, so the table has one row per (run, epoch).
    """
    keys = list(runs) if keys is None else keys
    return pd.concat(
        [runs[key].assign(**dict(zip(names, key, strict=True))) for key in keys],
        ignore_index=True,
    )


def seed_summary(table: pd.DataFrame, by, value: str, columns: str | None = None, digits: int = 1):
    """``value``'s mean over seeds and its range, as text such as ``"95.8 (95.0-96.6)"``, per ``by`` group.

    With two or three seeds a standard deviation says little; the range shows every seed's result.
    ``columns`` (e.g. ``"epoch"``) spreads that column's values over the table's columns.
    """

    def mean_and_range(values):
        return f"{values.mean():.{digits}f} ({values.min():.{digits}f}-{values.max():.{digits}f})"

    table = table.astype({name: str for name in by if table[name].dtype.kind == "f"})  # 0.1, not 0.1000
    summary = table.groupby(list(by) + ([columns] if columns else []), sort=False)[value].agg(mean_and_range)
    if not columns:
        return summary.to_frame(f"{value}: mean (lowest-highest seed)")
    rows = summary.index.droplevel(columns).unique()  # in the order of the runs, not sorted
    table = summary.unstack(columns).reindex(rows).rename(columns=lambda c: f"{columns} {c}")
    return table.rename_axis(columns="mean (lowest-highest seed)")


def plot_lr_sweep(table: pd.DataFrame, y: str, zoom=(90, 98), chance: float | None = 10, title: str | None = None):
    """``y`` against the learning rate (column ``lr``), a line per ``optimizer``: mean over seeds, bars
    from the lowest to the highest seed. Drawn twice: every run (left, where a run that diverged sits
    at ``chance``) and zoomed in on the best runs (right, ``zoom`` is its y range)."""
    rates = sorted(table["lr"].unique())
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.3))
    for ax, ylim in zip(axes, [(0, 100), zoom], strict=True):
        sns.lineplot(
            data=table, x="lr", y=y, hue="optimizer", errorbar=("pi", 100), marker="o", err_style="bars", ax=ax
        )
        ax.set_xscale("log")
        ax.set_xticks(rates, labels=[f"{rate:g}" for rate in rates], rotation=45)
        ax.minorticks_off()
        ax.set(ylim=ylim, xlabel="learning rate (log scale)")
        ax.grid(alpha=0.3)
    if chance is not None:
        axes[0].axhline(chance, color="gray", linestyle=":", label=f"chance ({chance:g}%)")
    axes[0].legend(fontsize=9, loc="lower left")
    axes[1].get_legend().remove()
    axes[0].set_title("every run: too large a rate and training diverges")
    axes[1].set_title(f"zoomed in on {zoom[0]}-{zoom[1]}%: the best rates")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def spread_steps(values: pd.Series, digits: int = 2) -> pd.DataFrame:
    """The mean and the standard deviation of ``values`` (one per seed), step by step: the steps are
    printed, and the table of each value, its deviation from the mean and its square is returned."""
    n, mean = len(values), values.mean()
    steps = pd.DataFrame({"a_i": values, "a_i - mean": values - mean, "(a_i - mean)²": (values - mean) ** 2})
    print(f"n = {n} runs; mean = ({' + '.join(f'{v:.{digits}f}' for v in values)}) / {n} = {mean:.{digits}f}")
    squares = steps["(a_i - mean)²"].sum()
    print(
        f"sum of the squared deviations = {squares:.4f}; divided by n - 1 = {n - 1}: {squares / (n - 1):.4f}; "
        f"σ = √{squares / (n - 1):.4f} = {math.sqrt(squares / (n - 1)):.{digits}f}"
    )
    return steps.round({"a_i": digits, "a_i - mean": digits, "(a_i - mean)²": 4})


def yardstick_table(pairs: dict, bands) -> pd.DataFrame:
    """Each comparison ``name: (a, b)`` (the results of two configurations, one per seed) against its yardstick.

    The gap is ``a``'s mean minus ``b``'s; σ is the two configurations' standard deviations averaged as
    squares; the yardstick is σ√(2/n), how much a gap between two means of n runs moves by luck alone.
    ``bands`` is a list of ``(upper limit, verdict)`` for the ratio |gap| / yardstick, lowest first.
    """
    rows = []
    for name, (a, b) in pairs.items():
        sigma = math.sqrt((a.std() ** 2 + b.std() ** 2) / 2)
        gap, yardstick = a.mean() - b.mean(), sigma * math.sqrt(2 / len(a))
        ratio = abs(gap) / yardstick
        verdict = next(label for limit, label in bands if ratio < limit)
        rows.append({"comparison": name, "gap": gap, "σ": sigma, "yardstick σ√(2/n)": yardstick})
        rows[-1].update({"|gap| / yardstick": ratio, "verdict": verdict})
    return pd.DataFrame(rows).set_index("comparison").round(2)
