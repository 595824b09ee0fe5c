"""Re-execute committed notebooks in place, from a fresh kernel, with their default parameters.

Authors run this (``course lessons``, or ``make lessons``) after editing a lesson, so the
stored outputs - the ones students see on GitHub and nbval compares against - come from one
clean top-to-bottom run. Each notebook records what ran it in ``metadata.course.executed``
(date, torch, Python, the CPU's instruction set), which the course site shows on every page,
and each figure gets the description its cell keeps (``course_tools.alt_text``).

    course lessons                           # every lesson and solution
    course lessons notebooks/03_*.ipynb      # just these
"""

import datetime
import platform
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from . import course_folder, named_or_every_notebook
from .alt_text import DESCRIBED_FOLDERS, apply_alt, problems
from .runner import QUIET_KERNEL


def execution_record() -> dict:
    """What executed the notebooks: the date, torch's and Python's versions, the CPU's capability.

    The kernel runs in this environment, so this process reports the same versions. (PyTorch is
    imported here, not when ``course`` starts: only executing a notebook pays for it.)
    """
    record = {"date": datetime.date.today().isoformat(), "python": platform.python_version()}
    try:
        import torch

        record["torch"] = torch.__version__
        record["cpu_capability"] = torch.backends.cpu.get_cpu_capability()  # e.g. AVX512, AVX2
    except Exception as err:  # an environment without torch still executes plain notebooks
        record["torch"] = f"not importable ({type(err).__name__})"
    return record


def execute_in_place(path: Path, timeout: int = 900, record: dict | None = None) -> float:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    try:
        NotebookClient(
            nb,
            timeout=timeout,
            kernel_name="python3",
            extra_arguments=QUIET_KERNEL,
            resources={"metadata": {"path": str(path.parent)}},
        ).execute()
    except Exception:
        # Keep the source as it was; leave the half-run copy where the author can look at it.
        failed = course_folder("build") / "failed" / path.name
        failed.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, failed)
        print(f"  FAILED: the partly executed copy is in {failed}", flush=True)
        raise
    # Drop the volatile per-run metadata, so a re-run only changes what really changed.
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    apply_alt(nb)  # each figure's description, from its cell's metadata into the outputs
    for problem in problems(nb) if path.parent.name in DESCRIBED_FOLDERS else []:
        print(f"  figure description: {problem}", flush=True)
    course = nb.metadata.setdefault("course", {})
    course["executed"] = record if record is not None else execution_record()
    nbformat.write(nb, path)
    return time.perf_counter() - start


def lessons_main(args: list[str]) -> int:
    paths = named_or_every_notebook(args, "course lessons")
    if paths is None:
        return 2
    record = execution_record()
    for path in paths:
        print(f"executing {path} ...", flush=True)
        try:
            seconds = execute_in_place(path.resolve(), record=record)
        except Exception as err:  # stop here: later notebooks may need this one's results
            reason = getattr(err, "ename", type(err).__name__) + ": " + str(getattr(err, "evalue", err))
            print(f"  {path} was left as it was: {reason.splitlines()[0]}", file=sys.stderr)
            return 1
        print(f"  done in {seconds:.0f}s", flush=True)
    return 0
