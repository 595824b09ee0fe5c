"""Re-execute committed notebooks in place, from a fresh kernel, with their default parameters.

Authors run this (``make lessons``) after editing a lesson, so the stored outputs - the ones
students see on GitHub and nbval compares against - come from one clean top-to-bottom run.

    python scripts/execute_lessons.py                    # every lesson and solution
    python scripts/execute_lessons.py notebooks/03_*.ipynb
"""

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[1]


def execute_in_place(path: Path, timeout: int = 900) -> float:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    try:
        NotebookClient(nb, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    except Exception:
        # Keep the source as it was; leave the half-run copy where the author can look at it.
        failed = REPO / "build" / "failed" / path.name
        failed.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, failed)
        print(f"  FAILED: the partly executed copy is in {failed.relative_to(REPO)}", flush=True)
        raise
    # Drop the volatile per-run metadata, so a re-run only changes what really changed.
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    nbformat.write(nb, path)
    return time.perf_counter() - start


def main(args: list[str]) -> int:
    paths = [Path(a) for a in args] or sorted((REPO / "notebooks").glob("[0-9]*.ipynb")) + sorted(
        (REPO / "solutions").glob("[0-9]*.ipynb"))
    for path in paths:
        print(f"executing {path.relative_to(REPO) if path.is_absolute() else path} ...", flush=True)
        print(f"  done in {execute_in_place(path.resolve()):.0f}s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
