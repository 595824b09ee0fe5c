"""Dask distributed for ``course sweep`` and ``course grade``: the client, the cluster, the worker checks.

Both commands submit one task per run (per submission) to a Dask ``Client`` and write what the
tasks return (records, executed notebooks, logs) on this machine.

- No address: a ``LocalCluster`` on this machine, bound to 127.0.0.1 only (the scheduler runs
  whatever its clients send), with ``workers`` worker processes of one thread each.
- ``--scheduler tcp://HOST:PORT`` (or ``tls://``), else ``$DASK_SCHEDULER_ADDRESS``: that cluster,
  unchanged. Its workers need the course installed (the same ``course_utils`` version) and the
  data (``COURSE_DATA_DIR``): for a sweep, the datasets this machine has; for grading, those the
  graded exercises load (`datasets_loaded`: their solutions, checks and hidden tests).

Before anything is submitted, `check_workers` asks every worker (``client.run``) what it has,
and one clear error names each worker that lacks something. Faults: a task that raises is
tried again ``RETRIES`` times; a task whose worker dies is moved to another worker, at most
``distributed.scheduler.allowed-failures`` times (3 by default), then reported as failed.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import logging
import os
import socket
import uuid
from contextlib import contextmanager

ADDRESS_VARIABLE = "DASK_SCHEDULER_ADDRESS"
RETRIES = 2  # tries again of a task that raised (a worker's disk full, say); a run's own failure is no raise
CONNECT_SECONDS = 30  # to reach a scheduler, and then for its first worker to be there
INSTALL = "pip install -r requirements-instructors.txt"
LOADERS = {"load_data", "load_split", "make_dataloader", "ensure_split"}  # course_utils' loaders: dataset first


class ClusterError(RuntimeError):
    """No Dask, no scheduler at the address, no workers, or a worker that cannot run the course."""


def scheduler_address(given: str | None = None) -> str | None:
    """``--scheduler``, else ``$DASK_SCHEDULER_ADDRESS``, else None (a local cluster)."""
    return given or os.environ.get(ADDRESS_VARIABLE) or None


@contextmanager
def dask_client(address: str | None = None, workers: int = 1, echo=print):
    """A ``distributed.Client``: of the scheduler at ``address``, else of a new local cluster."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ClusterError(f"course sweep and course grade run on Dask: {INSTALL}") from None
    dashboard = importlib.util.find_spec("bokeh") is not None
    cluster = None
    if address:
        try:
            client = Client(address, timeout=CONNECT_SECONDS)
        except (OSError, TimeoutError) as err:
            raise ClusterError(f"no Dask scheduler answers at {address}: {err}") from None
    else:
        import dask

        saved = dict(os.environ)  # Dask's nannies set OMP_NUM_THREADS=1 & co. in the process that runs them
        with dask.config.set({"distributed.worker.profile.enabled": False}):  # a sampling thread per worker
            cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,  # one run at a time in each worker process
                processes=True,
                host="127.0.0.1",  # never reachable from another machine
                dashboard_address="127.0.0.1:0",  # the scheduler's HTTP server (the dashboard, with bokeh)
                memory_limit=0,  # the kernels are processes of their own; no nanny restarts for memory
                silence_logs=logging.ERROR,
            )
        client = Client(cluster)
        _restore(saved)
    try:
        if dashboard:
            echo(f"Dask dashboard: {client.dashboard_link}")
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
            _restore(saved)  # a nanny that restarted a killed worker set them again


def _restore(saved: dict) -> None:
    """Put back the environment variables a local cluster's nannies changed in this process."""
    for name in [name for name in os.environ if name not in saved]:
        del os.environ[name]
    os.environ.update({name: value for name, value in saved.items() if os.environ.get(name) != value})


def describe_worker(datasets: list[str]) -> dict:
    """Run on each worker (``client.run``): its host, cores, course version and data problems."""
    report = {"host": socket.gethostname(), "problems": []}
    report["cores"] = cores_here()
    try:
        import course_utils

        report["course_utils"] = course_utils.__version__
    except ImportError:
        report["course_utils"] = None
    for module in ("papermill", "nbclient", "ipykernel", "psutil", "torch"):
        if importlib.util.find_spec(module) is None:
            report["problems"].append(f"{module} not installed")
    if datasets:
        from course_utils.datafiles import data_root, verify_split

        given = os.environ.get("COURSE_DATA_DIR")
        where = f"COURSE_DATA_DIR={given}" if given else "COURSE_DATA_DIR not set"
        for dataset in datasets:
            problems = verify_split(dataset, True) + verify_split(dataset, False)
            if problems:
                report["problems"].append(f"{dataset} not usable at {data_root()} ({where}): {problems[0]}")
    return report


def check_workers(client, datasets: list[str] = ()) -> dict[str, dict]:
    """Every worker's `describe_worker` report; a `ClusterError` naming each worker that lacks something."""
    import course_utils

    try:
        client.wait_for_workers(1, timeout=CONNECT_SECONDS)
    except Exception:
        address = client.scheduler.address
        raise ClusterError(f"no Dask worker joined the scheduler {address} within {CONNECT_SECONDS} s") from None
    try:
        client.get_versions(check=True)
    except ValueError as err:
        raise ClusterError(f"the Dask versions of this machine and the cluster differ: {err}") from None
    reports = client.run(describe_worker, list(datasets), on_error="return")
    wanted, errors = course_utils.__version__, []
    for worker, report in sorted(reports.items()):
        if isinstance(report, BaseException):  # e.g. course_tools itself is not there to unpickle
            errors.append(f"worker {worker}: course_utils {wanted} not installed ({type(report).__name__}: {report})")
            continue
        if report["course_utils"] != wanted:
            found = "not installed" if report["course_utils"] is None else f"is {report['course_utils']}"
            errors.append(f"worker {worker}: course_utils {wanted} needed, {found}")
        errors += [f"worker {worker}: {problem}" for problem in report["problems"]]
    if errors:
        raise ClusterError(
            "\n".join(errors) + "\n(every worker needs the course installed at this version (pip install -e . "
            f"in a checkout, and {INSTALL}) and the data at COURSE_DATA_DIR)"
        )
    return reports


def datasets_loaded(sources) -> list[str]:
    """The datasets code loads through course_utils' loaders: ``load_data("fashion_mnist")`` loads
    Fashion-MNIST, a call naming none MNIST (the default), one naming it by a variable every dataset
    the code names. ``sources``: Python sources, or notebooks (JSON) whose code cells are read."""
    from course_utils.datafiles import DATASETS

    found = set()
    for code in (cell for source in sources for cell in _code_cells(source)):
        try:
            tree = ast.parse("\n".join("" if line.lstrip()[:1] in "%!" else line for line in code.split("\n")))
        except SyntaxError:  # not Python: it loads nothing the workers could lack
            continue
        named = {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and node.value in DATASETS}
        for call in (node for node in ast.walk(tree) if isinstance(node, ast.Call)):
            if getattr(call.func, "id", getattr(call.func, "attr", None)) not in LOADERS:
                continue
            given = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "dataset"), None)
            if given is None:
                found.add("mnist")
            elif isinstance(given, ast.Constant) and given.value in DATASETS:
                found.add(given.value)
            else:
                found |= named or set(DATASETS)
    return sorted(found)


def _code_cells(source: str | bytes) -> list[str]:
    """A notebook's code cells, or the source itself when it is not a notebook."""
    text = source.decode("utf-8", "replace") if isinstance(source, bytes) else source
    try:
        cells = json.loads(text)["cells"]
    except (ValueError, KeyError, TypeError):
        return [text]
    return ["".join(c.get("source", "")) for c in cells if isinstance(c, dict) and c.get("cell_type") == "code"]


def cores_here() -> int:
    """The cores this process may run on (its CPU affinity, where the system has one)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def available_cores() -> int:
    """The cores a local cluster (a sweep, a grading run) may use: ``OMP_NUM_THREADS`` when it is
    set (say, by a test runner that shares the machine), else `cores_here`."""
    limit = os.environ.get("OMP_NUM_THREADS", "")
    if limit.isdigit() and int(limit) > 0:
        return int(limit)
    return cores_here()


def threads_per_worker(client, reports: dict[str, dict], local: int | None = None) -> dict[str, int]:
    """Torch threads for each worker's runs: ``local`` for a local cluster, else the cores of the
    worker's machine shared among the worker threads on that machine."""
    workers = client.scheduler_info(n_workers=-1)["workers"]
    if local:
        return dict.fromkeys(workers, local)
    on_host = {}
    for address, info in workers.items():
        host = reports.get(address, {}).get("host", info.get("host"))
        on_host[host] = on_host.get(host, 0) + info.get("nthreads", 1)
    return {
        address: max(1, reports[address]["cores"] // on_host[reports[address]["host"]])
        for address in workers
        if address in reports
    }


def my_threads(threads: dict[str, int]) -> int:
    """In a task: the threads `threads_per_worker` gave this worker (a worker that joined later: its cores)."""
    from distributed import get_worker

    worker = get_worker()
    if worker.address in threads:
        return threads[worker.address]
    return max(1, cores_here() // max(1, getattr(getattr(worker, "state", None), "nthreads", 1)))


def run_all(client, function, jobs: dict, retries: int = RETRIES):
    """Submit ``function(*args)`` for each ``{key: args}``; yield ``(key, result, error)`` as each ends.

    ``error`` is None, or why the task gave no result (it raised ``retries + 1`` times, or the
    workers running it died too often).
    """
    from distributed import as_completed

    tag = uuid.uuid4().hex[:8]
    futures = {
        client.submit(function, *args, key=f"course-{tag}-{index}", pure=False, retries=retries): key
        for index, (key, args) in enumerate(jobs.items())
    }
    for future in as_completed(futures):
        key = futures.pop(future)
        try:
            result, error = future.result(), None
        except Exception as err:
            text = " ".join(str(err).split())
            result, error = None, f"{type(err).__name__}: {text[:300]}"
        future.release()
        yield key, result, error
