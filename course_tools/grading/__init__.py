"""Grading submitted exercise notebooks: ``course grade SUBMISSIONS... [--roster CSV] [--policy TOML]
[--deadline WHEN] [--db PATH] [--regrade] [--solutions DIR] [--timeout S] [--out CSV]``.

Grading runs the students' code: read docs/security.md first. How a run goes, how one
submission is graded (steps 1-6, which the modules' docstrings refer to), the gradebook's
columns, the hand scores and what a submission cannot do: docs/grading.md.

The package, one job a module (listed in docs/grading.md): ``course grade`` itself is
`command.grade_main`, the Dask run `dask_run`, one submission `submission.grade_one`; this
module re-exports the names tests and tools use.
"""

from .assemble import arm, assemble, check_sources, checks_file, find_solution, guarded_names
from .command import WRITTEN_ANSWERS, grade_main
from .dask_run import grade_on_worker
from .files import _replace, check_copy  # noqa: F401 - tests write through them
from .isolate import OUTPUT_CAP, run_isolated
from .reading import forbidden_uses, review, review_code, written_answers
from .scoring import (  # noqa: F401
    _answer_tasks,
    _hint,
    _names,
    _tasks_behind,
    feedback_lines,
    forfeit,
    marking_scheme,
    score,
    shorten,
)
from .sheets import write_gradebook, write_written_answers
from .submission import Row, expand, grade_of, grade_one

__all__ = [  # the grader's parts, for tests and tools
    "Row",
    "arm",
    "assemble",
    "check_sources",
    "checks_file",
    "expand",
    "find_solution",
    "forbidden_uses",
    "WRITTEN_ANSWERS",
    "grade_of",
    "grade_main",
    "grade_on_worker",
    "grade_one",
    "guarded_names",
    "OUTPUT_CAP",
    "review",
    "review_code",
    "run_isolated",
    "score",
    "write_gradebook",
    "write_written_answers",
    "written_answers",
]
