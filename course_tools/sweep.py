"""Parameter sweeps: run a notebook over a grid of parameters, on Dask workers, resumably.

``course sweep notebooks/04_two_conv_net.ipynb -p n_conv 1 2 -p seed 0 1 2`` runs the six
combinations, keeps each executed notebook in the output folder, and collects parameters and
recorded metrics into ``results.csv`` plus a figure of each metric (mean +- std over seeds).
Each run is one task of a Dask cluster (`course_tools.cluster`): a local one on this machine by
default, or the one at ``--scheduler ADDRESS``. The task runs the notebook on its worker and
returns the record and the executed notebook; this machine writes them. A finished run leaves a
small JSON record; running the same sweep again skips those runs.
"""

from __future__ import annotations

import itertools
import json
import os
import tempfile
import time
from pathlib import Path

import pandas as pd

from . import course_folder
from .cluster import check_workers, dask_client, my_threads, run_all, scheduler_address, threads_per_worker
from .runner import (
    RunResult,
    child_environment,
    effective_parameters,
    execute,
    format_metrics,
    validate_parameters,
)


def grid(values: dict[str, list]) -> list[dict]:
    """The cartesian product of parameter values, as a list of ``{name: value}`` dicts."""
    names = list(values)
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*values.values())]


def available_cores() -> int:
    """The cores a sweep may use: ``OMP_NUM_THREADS`` when it is set (say, by a test runner
    that shares the machine), else every core this process may run on."""
    limit = os.environ.get("OMP_NUM_THREADS", "")
    if limit.isdigit() and int(limit) > 0:
        return int(limit)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def run_id(params: dict) -> str:
    """A file-name-safe id such as ``n_conv=1__seed=0``."""

    def safe(value):
        return "".join(c if c.isalnum() or c in ".-" else "_" for c in str(value))

    return "__".join(f"{k}={safe(v)}" for k, v in params.items()) or "defaults"


def run_on_worker(name: str, text: str, folder: str, params: dict, threads: dict, timeout: int | None) -> dict:
    """One run, as a Dask task: the notebook ``text`` executed on this worker. The kernel works in
    ``folder`` (the notebook's folder on the client) if this machine has it, else in the folder of
    that name of this machine's course, else in a temporary folder. Returns the record and the
    executed notebook's text; nothing stays on the worker."""
    here = Path(folder)
    with tempfile.TemporaryDirectory(prefix="course-sweep-") as tmp:
        source, output = Path(tmp, name), Path(tmp, f"{run_id(params)}.ipynb")
        source.write_text(text, encoding="utf-8")
        if not here.is_dir():  # another machine: its own checkout's folder of that name, if any
            here = course_folder(here.name)
        cwd = here if here.is_dir() else tmp
        env = child_environment(my_threads(threads), dask_worker=True)
        result = execute(source, output, params, timeout=timeout, cwd=cwd, env=env)
        executed = output.read_text(encoding="utf-8") if output.exists() else None
    return {"record": result.to_dict(), "executed": executed}


def run_sweep(
    notebook: Path | str,
    values: dict[str, list[str]],
    out_dir: Path | str,
    workers: int = 1,
    timeout: int | None = None,
    quick: bool = False,
    echo=print,
    scheduler: str | None = None,
) -> pd.DataFrame:
    """Run every combination of ``values`` (strings, checked and typed here) and collect results.

    ``scheduler``: a Dask scheduler's address (else ``$DASK_SCHEDULER_ADDRESS``, else a local
    cluster of ``workers`` processes). On the local cluster each run gets
    ``available_cores() // workers`` torch threads: two runs that each try to use every core
    fight over them and both crawl.
    """
    notebook, out_dir = Path(notebook), Path(out_dir)
    typed = {name: [validate_parameters(notebook, {name: v})[name] for v in vals] for name, vals in values.items()}
    if quick:
        validate_parameters(notebook, {"quick": "True"})
    runs = grid(typed)
    if quick:
        runs = [r | {"quick": True} for r in runs]
    out_dir.mkdir(parents=True, exist_ok=True)
    records, todo = {}, []
    for params in runs:
        done = out_dir / f"{run_id(params)}.json"
        if done.exists() and json.loads(done.read_text()).get("status") == "ok":
            records[run_id(params)] = json.loads(done.read_text())
        else:
            todo.append(params)
    if records:
        echo(f"resuming: {len(records)} of {len(runs)} runs already finished in {out_dir}")
    if todo:
        address = scheduler_address(scheduler)
        workers = max(1, min(workers, len(todo)))
        with dask_client(address, workers, echo) as client:
            # a cluster's workers must have the data; a local one shares this machine's (or downloads it)
            reports = check_workers(client, datasets=_datasets_here() if address else [])
            local = None if address else max(1, available_cores() // workers)
            threads = threads_per_worker(client, reports, local)
            text = notebook.read_text(encoding="utf-8")
            folder = str(notebook.resolve().parent)
            jobs = {run_id(p): (notebook.name, text, folder, p, threads, timeout) for p in todo}
            params_of = {run_id(p): p for p in todo}
            start = time.perf_counter()
            from tqdm.auto import tqdm

            bar = tqdm(total=len(todo), desc="sweep", unit="run", disable=None)  # None: only in a terminal
            for i, (rid, result, error) in enumerate(run_all(client, run_on_worker, jobs), 1):
                record = _keep(notebook, out_dir, rid, params_of[rid], result, error)
                records[rid] = record
                elapsed = time.perf_counter() - start
                left = elapsed / i * (len(todo) - i)
                bar.update()
                message = (
                    f"[{i}/{len(todo)}] {record['run']}: {record['status']} in "
                    f"{record['seconds']:.0f}s"
                    + (f" {format_metrics(record['metrics'], ' ')}" if record["metrics"] else "")
                    + (f" ({record['error']})" if record["error"] else "")
                    + f" | elapsed {elapsed:.0f}s, about {left:.0f}s left"
                )
                bar.write(message) if not bar.disable else echo(message)
            bar.close()
    table = results_table([records[run_id(p)] for p in runs])
    table.to_csv(out_dir / "results.csv", index=False)
    return table


def _keep(notebook: Path, out_dir: Path, rid: str, params: dict, result: dict | None, error: str | None) -> dict:
    """Write a finished task's executed notebook, then its JSON record (which marks it done)."""
    output = out_dir / f"{rid}.ipynb"
    if result is None:  # no result came back: the task raised, or its workers kept dying
        record = RunResult(str(notebook), str(output), effective_parameters(notebook, params), "failed", error=error)
        record = record.to_dict()
    else:
        record = result["record"] | {"notebook": str(notebook), "output": str(output)}
        if result["executed"] is not None:
            output.write_text(result["executed"], encoding="utf-8")
    record |= {"run": rid, "swept": params}
    (out_dir / f"{rid}.json").write_text(json.dumps(record, indent=1, default=str))
    return record


def _datasets_here() -> list[str]:
    """The datasets every worker of a sweep must have: those this machine has, else MNIST."""
    from course_utils.datafiles import DATASETS, verify_split

    here = [name for name in DATASETS if not verify_split(name, True) + verify_split(name, False)]
    return here or ["mnist"]


def results_table(records: list[dict]) -> pd.DataFrame:
    """One row per run: the swept parameters, status, seconds, metrics and error."""
    rows = []
    for r in records:
        rows.append(
            {
                **r["swept"],
                "status": r["status"],
                "seconds": r["seconds"],
                **r["metrics"],
                "error": r["error"] or "",
                "notebook": Path(r["output"]).name,
            }
        )
    return pd.DataFrame(rows)


def plot_sweep(table: pd.DataFrame, swept: list[str], out_dir: Path | str) -> list[Path]:
    """For each recorded metric, a figure of mean +- std over seeds against the swept parameters."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    ok = table[table["status"] == "ok"]
    fixed = {"status", "seconds", "error", "notebook", *swept}
    metrics = [c for c in ok.columns if c not in fixed and pd.api.types.is_numeric_dtype(ok[c])]
    factors = [p for p in swept if p != "seed" and ok[p].nunique() > 1] if len(ok) else []
    paths = []
    for metric in metrics:
        fig, ax = plt.subplots(figsize=(6, 4))
        x = factors[0] if factors else None
        hue = factors[1] if len(factors) > 1 else None
        if x is None:
            ok_plot = ok.assign(run="all runs")
            x = "run"
        else:
            ok_plot = ok.assign(**{x: ok[x].astype(str)})
        if hue:
            ok_plot = ok_plot.assign(**{hue: ok_plot[hue].astype(str)})
        sns.pointplot(
            data=ok_plot,
            x=x,
            y=metric,
            hue=hue,
            errorbar="sd",
            capsize=0.1,
            ax=ax,
            linestyles="none" if hue is None else "-",
        )
        n_seeds = ok["seed"].nunique() if "seed" in ok else 1
        ax.set_title(f"{metric}: mean +- std over {n_seeds} seed(s)")
        ax.grid(alpha=0.3)
        fig.tight_layout()
        path = Path(out_dir) / f"{metric}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)
    return paths


__all__ = ["grid", "run_id", "run_sweep", "results_table", "plot_sweep", "RunResult"]
