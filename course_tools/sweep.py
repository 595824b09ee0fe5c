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
import tempfile
import time
from collections import Counter
from pathlib import Path

import pandas as pd

from . import course_folder
from .cluster import (
    available_cores,
    check_workers,
    dask_client,
    my_threads,
    run_all,
    scheduler_address,
    threads_per_worker,
)
from .provenance import fingerprint, fingerprint_parts, git_commit, now, what_changed, where_it_ran
from .runner import (
    ParameterError,
    RunResult,
    child_environment,
    effective_parameters,
    execute,
    format_metrics,
    validate_parameters,
)
from .sweep_report import mixed_metrics, plot_sweep, summarize
from .tracking import tracking_uri


def grid(values: dict[str, list]) -> list[dict]:
    """The cartesian product of parameter values, as a list of ``{name: value}`` dicts."""
    names = list(values)
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*values.values())]


def run_id(params: dict) -> str:
    """A file-name-safe id such as ``n_conv=1__seed=0``."""

    def safe(value):
        return "".join(c if c.isalnum() or c in ".-" else "_" for c in str(value))

    return "__".join(f"{k}={safe(v)}" for k, v in params.items()) or "defaults"


def run_on_worker(name: str, text: str, folder: str, params: dict, threads: dict, timeout: int | None) -> dict:
    """One run, as a Dask task: the notebook ``text`` executed on this worker. The kernel works in
    ``folder`` (the notebook's folder on the client) if this machine has it, else in the folder of
    that name of this machine's course, else in a temporary folder. Returns the record, where and
    when it ran, and the executed notebook's text; nothing stays on the worker."""
    started = now()
    here = Path(folder)
    with tempfile.TemporaryDirectory(prefix="course-sweep-") as tmp:
        source, output = Path(tmp, name), Path(tmp, f"{run_id(params)}.ipynb")
        source.write_text(text, encoding="utf-8")
        if not here.is_dir():  # another machine: its own checkout's folder of that name, if any
            here = course_folder(here.name)
        cwd = here if here.is_dir() else tmp
        mine = my_threads(threads)
        env = child_environment(mine, dask_worker=True)
        result = execute(source, output, params, timeout=timeout, cwd=cwd, env=env)
        executed = output.read_text(encoding="utf-8") if output.exists() else None
    return {"record": result.to_dict(), "executed": executed, "provenance": where_it_ran(mine, started)}


class SweepFolderError(ValueError):
    """The output folder holds another notebook's runs."""


def run_sweep(
    notebook: Path | str,
    values: dict[str, list[str]],
    out_dir: Path | str,
    workers: int = 1,
    timeout: int | None = None,
    quick: bool = False,
    echo=print,
    scheduler: str | None = None,
    reuse_stale: bool = False,
    mlflow: str | None = None,
) -> pd.DataFrame:
    """Run every combination of ``values`` (strings, checked and typed here) and collect results:
    ``results.csv`` (one row per run) and ``summary.csv`` (one row per configuration, with 95%
    intervals) in ``out_dir``.

    A run already in ``out_dir`` is reused only if its fingerprint (`course_tools.provenance`)
    matches: a changed notebook, course package, library or parameter reruns it, unless
    ``reuse_stale`` (then it is kept and marked stale). ``scheduler``: a Dask scheduler's address
    (else ``$DASK_SCHEDULER_ADDRESS``, else a local cluster of ``workers`` processes). On the
    local cluster each run gets ``available_cores() // workers`` torch threads: two runs that
    each try to use every core fight over them and both crawl. ``mlflow``: a tracking URI (else
    ``$MLFLOW_TRACKING_URI``) to log every run to.
    """
    notebook, out_dir = Path(notebook), Path(out_dir)
    typed = {name: [validate_parameters(notebook, {name: v})[name] for v in vals] for name, vals in values.items()}
    for name, vals in typed.items():  # 0.1 and 0.10 are one run: counted twice, they would fake precision
        twice = sorted({str(v) for v in vals if vals.count(v) > 1})
        if twice:
            raise ParameterError(f"-p {name} gives {', '.join(twice)} more than once: give each value once")
    if quick:
        validate_parameters(notebook, {"quick": "True"})
    runs = grid(typed)
    if quick:
        runs = [r | {"quick": True} for r in runs]
    refuse_other_notebook(out_dir, notebook)
    uri = tracking_uri(mlflow)
    tracker = None
    if uri:  # checked before any run, so that a wrong URI costs nothing
        from .tracking import SweepTracker

        tracker = SweepTracker(uri, experiment=f"{notebook.stem} sweep in {out_dir.resolve()}")
    out_dir.mkdir(parents=True, exist_ok=True)
    defaults, made_from = effective_parameters(notebook, {}), fingerprint_parts(notebook, {})
    parts = {run_id(p): made_from | {"parameters": dict(sorted((defaults | p).items()))} for p in runs}
    records, todo, changed, kept, rerun = {}, [], Counter(), Counter(), 0
    for params in runs:
        rid = run_id(params)
        record = read_record(out_dir / f"{rid}.json", echo)
        if record is None or record["status"] != "ok":
            todo.append(params)
        elif record.get("fingerprint", {}).get("id") == fingerprint(parts[rid]):
            records[rid] = record | {"stale": False}
        else:
            reasons = what_changed(record.get("fingerprint", {}).get("parts"), parts[rid])
            if reuse_stale:
                records[rid] = record | {"stale": True}
                kept.update(reasons)
            else:
                todo.append(params)
                changed.update(reasons)
                rerun += 1
    fresh = sum(not r["stale"] for r in records.values())
    if fresh:
        echo(f"resuming: {fresh} of {len(runs)} runs already finished in {out_dir}, made from the same code")
    if changed:
        echo(f"rerunning {rerun} finished runs because something changed: {_counted(changed)}")
    if kept:
        echo(
            f"--reuse-stale: keeping {len(records) - fresh} runs made from other code ({_counted(kept)}); "
            "they are marked stale in results.csv and summary.csv"
        )
    if todo:
        commit = git_commit()
        earlier = {run_id(p): (read_record(out_dir / f"{run_id(p)}.json", echo) or {}).get("mlflow") for p in todo}
        for rid, record in _execute(notebook, todo, workers, timeout, scheduler, echo):
            record = keep(out_dir, rid, record, parts[rid], commit) | {"replaces mlflow": earlier.get(rid)}
            records[rid] = record | {"stale": False}
            tracker = _tracked(tracker, out_dir, rid, records[rid], echo)
    for rid in list(records):
        if tracker and records[rid].get("mlflow", {}).get("uri") != uri:  # finished before --mlflow was given
            tracker = _tracked(tracker, out_dir, rid, records[rid], echo)
    table = results_table([records[run_id(p)] for p in runs])
    for metric, where in mixed_metrics(table, list(values)).items():
        echo(f"{metric} is text, not a number, in {', '.join(where)}: left out of summary.csv and the figures")
    table.to_csv(out_dir / "results.csv", index=False)
    summarize(table, list(values)).to_csv(out_dir / "summary.csv", index=False)
    return table


def _execute(notebook: Path, todo: list[dict], workers: int, timeout, scheduler, echo):
    """Run ``todo`` on a Dask cluster; yield ``(run id, record)`` as each run ends."""
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
            record = _as_record(notebook, rid, params_of[rid], result, error)
            yield rid, record
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


def _as_record(notebook: Path, rid: str, params: dict, result: dict | None, error: str | None) -> dict:
    """A finished task as a record (with the executed notebook's text under ``executed``)."""
    if result is None:  # no result came back: the task raised, or its workers kept dying
        record = RunResult(str(notebook), "", effective_parameters(notebook, params), "failed", error=error).to_dict()
        return record | {
            "notebook path": str(notebook.resolve()),
            "run": rid,
            "swept": params,
            "executed": None,
            "provenance": {},
        }
    return result["record"] | {
        "notebook": str(notebook),
        "notebook path": str(notebook.resolve()),
        "run": rid,
        "swept": params,
        "executed": result["executed"],
        "provenance": result["provenance"],
    }


def keep(out_dir: Path, rid: str, record: dict, parts: dict, commit: str | None) -> dict:
    """Write a run's executed notebook, then its JSON record (which marks it done)."""
    output = out_dir / f"{rid}.ipynb"
    executed = record.pop("executed")
    if executed is not None:
        output.write_text(executed, encoding="utf-8")
    record |= {"output": str(output), "fingerprint": {"id": fingerprint(parts), "parts": parts}}
    record["provenance"] = {"git commit": commit} | record["provenance"]
    write_record(out_dir / f"{rid}.json", record)
    return record


def write_record(path: Path, record: dict) -> None:
    """Write through a temporary file, so that a killed sweep never leaves half a record."""
    partial = path.with_suffix(".json.partial")
    kept = {k: v for k, v in record.items() if k not in ("stale", "replaces mlflow")}  # this sweep's, not the run's
    partial.write_text(json.dumps(kept, indent=1, default=str))
    partial.replace(path)


RECORD_KEYS = {
    "run": str,
    "status": str,
    "seconds": (int, float),
    "metrics": dict,
    "swept": dict,
    "parameters": dict,
    "notebook": str,
    "output": str,
    "error": (str, type(None)),
}


def read_record(path: Path, echo=print) -> dict | None:
    """A run's record, or None when there is none. A record that is not one (edited by hand, cut
    short) is said so in one line and put aside as ``<name>.unreadable``: its run is run again."""
    if not path.exists():
        return None
    try:
        record = json.loads(path.read_text())
        wrong = [k for k, kind in RECORD_KEYS.items() if k not in record or not isinstance(record[k], kind)]
        if wrong:
            raise ValueError(f"{', '.join(wrong)} missing or of the wrong type")
    except (ValueError, AttributeError, UnicodeDecodeError) as err:
        aside = path.with_name(path.name + ".unreadable")
        path.replace(aside)
        echo(f"{path} is not a run record ({err}); moved to {aside.name}, and that run is run again")
        return None
    return record


def _counted(reasons: Counter) -> str:
    return ", ".join(f"{reason} ({n})" for reason, n in reasons.most_common())


def refuse_other_notebook(out_dir: Path, notebook: Path) -> None:
    """Raise `SweepFolderError` if ``out_dir`` holds runs of a notebook other than ``notebook`` (another
    file, even of the same name: records keep the notebook's full path)."""
    here, others = str(notebook.resolve()), Counter()
    for path in out_dir.glob("*.json") if out_dir.is_dir() else []:
        try:
            record = json.loads(path.read_text())
            recorded = str(record.get("notebook path") or record.get("notebook") or "")
        except (ValueError, AttributeError, UnicodeDecodeError):
            continue  # not a record: read_record says so if it is one of this sweep's
        if recorded and (recorded != here if "notebook path" in record else Path(recorded).name != notebook.name):
            others[recorded] += 1
    if others:
        name, count = others.most_common(1)[0]
        raise SweepFolderError(
            f"{out_dir} holds {count} run(s) of {name}, not of {here}: "
            "sweep into another folder (--out DIR), or delete that one to start over"
        )


def _tracked(tracker, out_dir: Path, rid: str, record: dict, echo):
    """Log a run to MLflow and note it in its record; on failure say so once and stop logging
    (the runs stay in ``out_dir``; running the sweep again with the URI logs them)."""
    if tracker is None:
        return None
    try:
        record["mlflow"] = {"uri": tracker.uri, "run": tracker.log(record)}
    except Exception as err:
        from .tracking import first_line

        echo(
            f"MLflow logging stopped ({type(err).__name__}: {first_line(err, 160)}); every run stays in {out_dir}; "
            "run the sweep again with the URI to log them"
        )
        return None
    write_record(out_dir / f"{rid}.json", record)
    return tracker


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
                "stale": bool(r.get("stale", False)),
                "notebook": Path(r["output"]).name,
            }
        )
    return pd.DataFrame(rows)


__all__ = ["grid", "run_id", "run_sweep", "results_table", "plot_sweep", "summarize", "RunResult"]
