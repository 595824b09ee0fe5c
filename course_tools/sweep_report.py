"""What a sweep's runs say: one row per configuration with a 95% confidence interval, and figures
that show every swept factor.

The runs of one configuration differ only in their seed. For each metric the summary gives their
number n, mean and standard deviation (divided by n - 1), and a 95% confidence interval for the
configuration's true mean: mean +- t * std / sqrt(n), with t the 97.5% point of Student's
t-distribution with n - 1 degrees of freedom (4.30 for n = 3, 2.78 for n = 5). Unlike the std,
which measures how far single runs scatter, the interval says how well n runs pin the mean down.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

# Columns of the results table that are not metrics.
NOT_METRICS = {"status", "seconds", "error", "notebook", "stale", "quick"}
SMALL_MULTIPLES = ("x", "hue", "col", "row")  # how many factors a figure can show, in this order


def t_interval(values, confidence: float = 0.95) -> tuple[float, float]:
    """The confidence interval of the mean of ``values`` (Student's t); NaN for fewer than 2 values."""
    from scipy import stats

    values = [float(v) for v in values if not pd.isna(v)]
    n = len(values)
    if n < 2:
        return (math.nan, math.nan)
    mean = sum(values) / n
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    half = float(stats.t.ppf((1 + confidence) / 2, n - 1)) * std / math.sqrt(n)
    return (mean - half, mean + half)


def replicate_factors(swept: list[str]) -> list[str]:
    """The swept names whose values are repeats of one configuration: the seeds."""
    return [name for name in swept if name == "seed" or name.endswith("_seed")]


def configuration_factors(table: pd.DataFrame, swept: list[str]) -> list[str]:
    """The swept names that define a configuration: all but the seeds."""
    return [name for name in swept if name not in replicate_factors(swept) and name in table]


def metric_columns(table: pd.DataFrame, swept: list[str]) -> list[str]:
    ok = table[table["status"] == "ok"]
    return [c for c in ok.columns if c not in NOT_METRICS | set(swept) and pd.api.types.is_numeric_dtype(ok[c])]


def mixed_metrics(table: pd.DataFrame, swept: list[str]) -> dict[str, list[str]]:
    """Metrics that are numbers in some runs and text in others (a record edited by hand, say): they
    cannot be averaged, so they are left out of the summary; ``{metric: [the runs holding text]}``."""
    ok = table[table["status"] == "ok"]
    mixed = {}
    for column in ok.columns:
        if column in NOT_METRICS | set(swept) or pd.api.types.is_numeric_dtype(ok[column]):
            continue
        is_number = ok[column].map(lambda v: isinstance(v, int | float) and not isinstance(v, bool))
        if is_number.any() and not is_number.all():
            mixed[column] = list(ok.loc[~is_number, "notebook"].astype(str))
    return mixed


def summarize(table: pd.DataFrame, swept: list[str]) -> pd.DataFrame:
    """One row per configuration: its factors, n (finished runs), failed, and for each metric its
    mean, std and 95% interval (``<metric> ci95 low`` / ``high``)."""
    factors = configuration_factors(table, swept)
    metrics = metric_columns(table, swept)
    groups = table.groupby(factors, sort=False, dropna=False) if factors else [((), table)]
    rows = []
    for key, runs in groups:
        ok = runs[runs["status"] == "ok"]
        row = dict(zip(factors, key if isinstance(key, tuple) else (key,), strict=True))
        row |= {"n": len(ok), "failed": len(runs) - len(ok)}
        row["stale"] = int(runs["stale"].sum()) if "stale" in runs else 0
        for metric in metrics:
            values = ok[metric].dropna()
            low, high = t_interval(values)
            row |= {
                f"{metric} mean": values.mean() if len(values) else math.nan,
                f"{metric} std": values.std(ddof=1) if len(values) > 1 else math.nan,
                f"{metric} ci95 low": low,
                f"{metric} ci95 high": high,
            }
        rows.append(row)
    return pd.DataFrame(rows)


def format_summary(summary: pd.DataFrame, swept: list[str], table: pd.DataFrame) -> str:
    """The summary as text: per configuration, each metric as ``mean [low, high]``."""
    factors = configuration_factors(table, swept)
    metrics = metric_columns(table, swept)
    shown = pd.DataFrame({f: summary[f] for f in factors} | {"n": summary["n"]})
    for column in ("failed", "stale"):  # shown when any configuration has one
        if column in summary and summary[column].any():
            shown[column] = summary[column]
    for metric in metrics:
        digits = _decimals(summary[f"{metric} mean"])
        shown[f"{metric}: mean [95% CI]"] = [
            f"{m:.{digits}f}{_interval_text(lo, hi, digits)}"
            for m, lo, hi in zip(
                summary[f"{metric} mean"], summary[f"{metric} ci95 low"], summary[f"{metric} ci95 high"], strict=True
            )
        ]
    note = "95% CI: mean +- t(0.975, n-1) * std / sqrt(n), Student's t; none where n < 2"
    return shown.to_string(index=False) + "\n" + note


def _interval_text(low: float, high: float, digits: int) -> str:
    if pd.isna(low):
        return " [n < 2]"
    if low == high:
        return " (the same in every run)"
    return f" [{low:.{digits}f}, {high:.{digits}f}]"


def _decimals(means: pd.Series) -> int:
    """Four decimals for a fraction such as an accuracy, two for percentages, none for counts."""
    size = means.abs().max()
    return 4 if size <= 1 else 0 if size >= 1000 else 2


def layout(table: pd.DataFrame, swept: list[str]) -> dict | None:
    """Which factor goes where (x, hue, col, row) in a sweep's figures, the factors swept over one
    value (named in the title) and the runs per point; None when more factors vary than fit."""
    ok = table[table["status"] == "ok"]
    factors = configuration_factors(ok, swept)
    varying = [f for f in factors if ok[f].nunique() > 1]
    if len(varying) > len(SMALL_MULTIPLES):
        return None
    roles = dict(zip(SMALL_MULTIPLES, varying, strict=False))
    counts = ok.groupby(varying).size() if varying else pd.Series([len(ok)])
    return {
        "roles": roles or {"x": "all_runs"},
        "fixed": [f"{f}={ok[f].iloc[0]}" for f in factors if f not in varying],
        "runs per point": (int(counts.min()), int(counts.max())),
    }


def draw_metric(table: pd.DataFrame, metric: str, plan: dict):
    """One metric's figure (a seaborn FacetGrid) as `layout` planned it."""
    import seaborn as sns

    ok = table[table["status"] == "ok"]
    roles = plan["roles"]
    data = ok.assign(**{f: ok[f].astype(str) for f in roles.values() if f in ok}, all_runs="all runs")
    hues = data[roles["hue"]].nunique() if "hue" in roles else 0
    grid = sns.catplot(
        data=data,
        y=metric,
        kind="point",
        errorbar=t_interval,
        capsize=0.1,
        height=3.6,
        aspect=1.3,
        linestyles=(["-", "--", ":", "-."] * hues)[:hues] if hues else "none",  # more than colour tells them apart
        dodge=0.25 if hues else False,  # equal means side by side, not hidden behind each other
        markers=(["o", "s", "^", "D", "v", "P"] * hues)[:hues] if hues else "o",
        **roles,
    )
    for ax in grid.axes.flat:
        ax.grid(alpha=0.3)
    low, high = plan["runs per point"]
    n = f"n={low}" if low == high else f"n={low}-{high}"
    interval = (
        "95% confidence interval (t)"
        if low > 1
        else "95% confidence interval (t) where n > 1"
        if high > 1
        else "no interval (one run per point)"
    )
    title = f"{metric}: mean and {interval}\n{n} runs per point" + "".join(f", {f}" for f in plan["fixed"])
    grid.figure.suptitle(title, fontsize=10)
    grid.tight_layout()  # the grid's own: it keeps the room seaborn left for the legend
    return grid


def plot_sweep(table: pd.DataFrame, swept: list[str], out_dir: Path | str, echo=print) -> list[Path]:
    """For each metric, the mean of every configuration with its 95% interval, saved as
    ``figures/<metric>.png``. Factors go on x, as hue, then in columns and rows of small multiples; a factor
    swept over one value is named in the title. With more than four varying factors no figure is
    drawn (the summary has every configuration)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if (table["status"] != "ok").all():
        return []
    plan = layout(table, swept)
    if plan is None:
        varying = [f for f in configuration_factors(table, swept) if table[f].nunique() > 1]
        echo(f"{len(varying)} factors vary: too many for one figure; summary.csv has every configuration")
        return []
    folder = Path(out_dir) / "figures"  # this sweep's figures only: those of an earlier one are removed
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    paths = []
    for metric in metric_columns(table, swept):
        grid = draw_metric(table, metric, plan)
        path = folder / f"{metric}.png"
        grid.figure.savefig(path, dpi=110, bbox_inches="tight")
        plt.close(grid.figure)
        paths.append(path)
    return paths
