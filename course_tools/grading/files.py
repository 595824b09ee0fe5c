"""Writing the grader's files safely: by renaming a new file onto the old name, never through a link.

A submission runs with the grader's permissions and may plant a symbolic link where the grader
will write next (an executed copy in ``--work``, the gradebook); a rename replaces the link
instead of following it, and a run killed half-way leaves the previous file whole.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def _replace(path: Path, text: str) -> None:
    """Write ``path`` by renaming a new file onto it: a link planted there is replaced, not followed."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".grading-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def check_copy(executed_path: Path, key: str) -> Path:
    """Where the grader keeps its copy of a check file beside an executed notebook: ``NAME.checks.py``,
    ``NAME.exercise.py`` (the exercise's check module), ``NAME.hidden.py`` (hidden tests)..."""
    return executed_path.with_name(f"{executed_path.stem}.{key}.py")
