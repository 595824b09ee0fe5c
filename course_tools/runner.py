"""Executing lesson notebooks with papermill: typed parameter validation, runs, and summaries.

This is the engine behind ``course run`` and ``course sweep``. Papermill alone only warns
about an unknown parameter and passes any string through; here every ``-p NAME VALUE`` is
checked against the notebook's ``parameters`` cell (its names, declared types and defaults)
*before* anything executes.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

TRUE_WORDS, FALSE_WORDS = {"true", "1", "yes", "y", "on"}, {"false", "0", "no", "n", "off"}


# The kernel's own log (not the notebook's output): without this, every run prints ipykernel's
# warning that a local kernel talks over unencrypted TCP, once per notebook. No IPython history
# database either: nobody reads a batch run's history, and closing it (sqlite, a saving thread)
# made each kernel's shutdown, which the run waits for, about a second longer.
QUIET_KERNEL = ["--IPKernelApp.log_level=ERROR", "--HistoryManager.enabled=False"]


class ParameterError(ValueError):
    """A parameter the notebook does not declare, or a value of the wrong type."""


def notebook_parameters(path: Path | str) -> dict[str, dict]:
    """The notebook's declared parameters: ``{name: {"type", "default", "help"}}``."""
    import papermill

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no notebook at {path}")
    declared = papermill.inspect_notebook(str(path))
    return {
        name: {"type": p["inferred_type_name"], "default": p["default"], "help": p["help"]}
        for name, p in declared.items()
    }


def describe_parameters(path: Path | str) -> str:
    """A table of a notebook's parameters for error messages and ``--help``."""
    params = notebook_parameters(path)
    if not params:
        return f"{Path(path).name} declares no parameters (no cell tagged 'parameters')"
    width = max(len(n) for n in params)
    type_width = max(len(p["type"]) for p in params.values())
    default_width = max(len(str(p["default"])) for p in params.values())
    lines = [f"parameters of {Path(path).name}:"]
    for name, p in params.items():
        lines.append(
            f"  {name:<{width}}  {p['type']:<{type_width}} default {str(p['default']):<{default_width}}  {p['help']}"
        )
    return "\n".join(lines)


def convert_value(name: str, text, type_name: str):
    """Turn a command-line string into the declared type, or raise a `ParameterError`."""
    if not isinstance(text, str):  # already typed (from Python code)
        text = str(text)
    optional = type_name.startswith("Optional[")
    base = type_name[len("Optional[") : -1] if optional else type_name
    if optional and text.lower() == "none":
        return None
    try:
        if base == "int":
            return int(text)
        if base == "float":
            return float(text)
        if base == "bool":
            if text.lower() in TRUE_WORDS:
                return True
            if text.lower() in FALSE_WORDS:
                return False
            raise ValueError
        return text  # str, or a type we cannot check: passed through unchanged
    except ValueError:
        raise ParameterError(
            f"parameter {name} is declared as {type_name}, but {text!r} is not a valid {base}"
        ) from None


def validate_parameters(path: Path | str, overrides: dict) -> dict:
    """Check ``overrides`` (name -> string) against the notebook; return them typed."""
    declared = notebook_parameters(path)
    typed = {}
    for name, text in overrides.items():
        if name not in declared:
            raise ParameterError(f"{Path(path).name} has no parameter {name!r}\n" + describe_parameters(path))
        try:
            typed[name] = convert_value(name, text, declared[name]["type"])
        except ParameterError as err:
            raise ParameterError(f"{err}\n{describe_parameters(path)}") from None
    return typed


def effective_parameters(path: Path | str, typed_overrides: dict) -> dict:
    """Every parameter's value for a run: the defaults, with the overrides applied."""
    import ast

    values = {}
    for name, p in notebook_parameters(path).items():
        try:
            values[name] = ast.literal_eval(p["default"])
        except (ValueError, SyntaxError):
            values[name] = p["default"]
    values.update(typed_overrides)
    return values


@dataclass
class RunResult:
    notebook: str
    output: str
    parameters: dict
    status: str = "ok"  # "ok" or "failed"
    seconds: float = 0.0
    metrics: dict = field(default_factory=dict)
    error: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def child_environment(threads: int | None = None, dask_worker: bool = False) -> dict:
    """The environment of a kernel (or grading runner) this process starts; ``os.environ`` of this
    process (a Dask worker that runs one run after another, say) is never changed.

    ``threads``: the OMP/MKL threads (torch reads them at import), so parallel runs share the
    cores. ``dask_worker``: leave out what Dask's nanny set for its worker process (its
    ``distributed.nanny.pre-spawn-environ``): with ``MALLOC_TRIM_THRESHOLD_=65536`` a lesson
    trains about 15% slower.
    """
    env = dict(os.environ)
    if dask_worker:
        import dask

        for name, value in (dask.config.get("distributed.nanny.pre-spawn-environ", None) or {}).items():
            if env.get(name) == str(value):
                del env[name]
    if threads:
        env |= {var: str(threads) for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    return env


def kernel_manager(env: dict):
    """A kernel manager class whose kernels get the environment ``env``.

    A killed sweep worker leaves no kernel behind. ``JPY_PARENT_PID`` makes the kernel exit
    when its parent dies, but only once the kernel has started polling, and only when the
    orphan is handed to process 1; on Linux the kernel also gets SIGKILL from the system the
    moment its parent dies, whenever that is and whoever adopts it.
    """
    from jupyter_client import AsyncKernelManager

    class KernelManager(AsyncKernelManager):
        async def _async_pre_start_kernel(self, **kw):
            kw["env"] = {**env, "JPY_PARENT_PID": str(os.getpid())}
            cmd, kw = await super()._async_pre_start_kernel(**kw)
            die_with_parent = _die_with(os.getpid())
            if die_with_parent is not None:
                kw["preexec_fn"] = die_with_parent
            return cmd, kw

    return KernelManager


def _die_with(parent: int):
    """Linux: a function for the child, between fork and exec, that asks for SIGKILL when
    ``parent`` (strictly: the thread that forks, which waits for the run) dies; None elsewhere."""
    import sys

    if not sys.platform.startswith("linux"):
        return None
    import ctypes
    import signal

    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before fork: the child only calls it
    set_death_signal = 1  # PR_SET_PDEATHSIG

    def die_with_parent():
        prctl(set_death_signal, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before we asked
            os._exit(1)

    return die_with_parent


def execute(
    path: Path | str,
    output: Path | str,
    parameters: dict,
    timeout: int | None = None,
    threads: int | None = None,
    cwd: Path | str | None = None,
    env: dict | None = None,
) -> RunResult:
    """Execute one notebook into ``output`` with papermill; never raises for a failing notebook.

    ``threads``: the kernel's OMP/MKL threads, so parallel runs share the cores; ``env``: the
    kernel's whole environment (default `child_environment`); ``cwd``: the kernel's working
    folder (default: the notebook's).
    """
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from course_utils.notebook import read_metrics

    path, output = Path(path).resolve(), Path(output).resolve()
    if output == path:
        raise ValueError(f"refusing to overwrite the source notebook {path}")
    output.parent.mkdir(parents=True, exist_ok=True)
    env = env if env is not None else child_environment(threads)
    result = RunResult(notebook=str(path), output=str(output), parameters=effective_parameters(path, parameters))
    start = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(path),
            str(output),
            parameters=parameters,
            cwd=str(cwd or path.parent),
            kernel_name="python3",
            kernel_manager_class=kernel_manager(env),
            progress_bar=False,
            execution_timeout=timeout,
            extra_arguments=QUIET_KERNEL,
        )
    except PapermillExecutionError as err:
        result.status = "failed"
        result.error = f"cell {err.exec_count}: {err.ename}: {err.evalue}"
    except Exception as err:  # a dead kernel, a timeout, an unreadable notebook
        result.status = "failed"
        result.error = f"{type(err).__name__}: {err}"
    result.seconds = round(time.perf_counter() - start, 1)
    if output.exists():
        try:
            result.metrics = read_metrics(nbformat.read(str(output), as_version=4))
        except Exception:  # a half-written output still leaves the run's status
            pass
    return result


def format_metrics(metrics: dict, separator: str = ", ") -> str:
    """``name=value`` pairs, floats to four decimals: how runs and sweeps print what a run recorded."""
    return separator.join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in metrics.items())


def format_table(results: list[RunResult]) -> str:
    """A plain-text table of runs: notebook, status, seconds, metrics (and the error if any)."""
    rows = [("notebook", "status", "seconds", "metrics")]
    for r in results:
        rows.append((Path(r.notebook).name, r.status, f"{r.seconds:.1f}", format_metrics(r.metrics) or "-"))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    for r in results:
        if r.error:
            lines.append(f"FAILED {Path(r.notebook).name}: {r.error}")
    return "\n".join(lines)
