"""Grading one submission: `grade_one` assembles, runs and scores it into a `Row`, the gradebook's
line of one run, and `grade_of` turns that into the `records.Grade` the store keeps. See
docs/grading.md, "How one submission is graded".
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .assemble import _sha256, assemble, check_sources, exercise_id, find_solution, guarded_names
from .files import _replace, check_copy
from .isolate import run_isolated
from .reading import forbidden_uses, review, written_answers
from .records import Grade, TaskResult, WrittenAnswer
from .sandbox import problem as no_sandbox_here
from .scoring import feedback_lines, forfeit, marking_scheme, score


@dataclass
class Row:
    """One line of the gradebook."""

    submission: str
    exercise: str = ""
    status: str = "error"
    seconds: float = 0.0
    tasks: dict = field(default_factory=dict)  # task number -> passed?
    feedback: list = field(default_factory=list)
    review: list = field(default_factory=list)  # why a person should read this submission
    written: list = field(default_factory=list)  # written answers: records.WrittenAnswer
    task_results: list = field(default_factory=list)  # records.TaskResult per task: points, each check's verdict
    retry: bool = False  # the grader failed, not the submission (a grader error, no sandbox): never kept as a result


def expand(paths) -> list[Path]:
    """Submission files: files as given, folders replaced by their ``*.ipynb`` (sorted)."""
    found = []
    for path in map(Path, paths):
        found += sorted(path.glob("*.ipynb")) if path.is_dir() else [path]
    return found


def grade_one(
    path: Path,
    solutions_dir: Path,
    executed_path: Path,
    timeout: int,
    sandbox=None,
    checks_source: dict | None = None,
    solution_texts: dict | None = None,
    env: dict | None = None,
) -> Row:
    """Grade one submission into a `Row`; never raises, never writes to ``path``.

    ``sandbox``: a `sandbox.Sandbox` to run the notebook in, or None (no sandbox).
    ``checks_source`` (default: read now, `check_sources`) holds the check files the check cells
    load, {key: bytes}, from copies beside the executed notebook; ``solution_texts`` ({path:
    text}, read once by `grade_main`) keeps a submission that writes to the solutions from
    changing how the next ones are graded.
    """
    row = Row(submission=str(path))
    start = time.monotonic()
    try:
        raw = path.read_bytes()
        if not raw.strip():
            row.feedback.append("the file is empty")
            return row
        try:
            student = nbformat.reads(raw.decode("utf-8"), as_version=4)
            student.cells  # noqa: B018 - a JSON file that is no notebook fails here
        except Exception as err:
            row.feedback.append(f"not a valid notebook ({type(err).__name__}: {' '.join(str(err).split())[:200]})")
            return row
        solution_path = find_solution(path, student, solutions_dir)
        if solution_path is None:
            row.feedback.append(f"no matching solution notebook in {solutions_dir}")
            return row
        row.exercise = solution_path.name
        text = (solution_texts or {}).get(solution_path) or solution_path.read_text(encoding="utf-8")
        solution = nbformat.reads(text, as_version=4)
        sources = checks_source or check_sources(exercise_id(solution.metadata), solutions_dir)
        scheme = marking_scheme(solution, sources.get("hidden", b"").decode("utf-8"))  # what each task is worth
        copies = {key: check_copy(executed_path, key) for key in sources}
        for key, copy in copies.items():
            _replace(copy, sources[key].decode("utf-8"))  # never through a link planted there
        runnable, missing = assemble(solution, student, {key: copy.resolve() for key, copy in copies.items()})
        row.written = written_answers(solution, student)
        exercise_source = sources.get("exercise", b"").decode("utf-8")
        check_names = guarded_names(solution, sources["checks"].decode("utf-8"), exercise_source)
        row.review = review(runnable, check_names, {c.source for c in solution.cells if c.cell_type == "code"})
        for task, problem in forbidden_uses(solution, runnable).items():
            missing.setdefault(task, []).append(problem)
        log = executed_path.with_suffix(".log")
        executed, result = run_isolated(runnable, timeout, log, sandbox, env, readable=list(copies.values()))
        row.retry = bool(result.get("retry")) or (executed is None and sandbox is not None and no_sandbox_here())
        if executed is None:  # the run stopped before the runner could send the notebook back
            executed = runnable
        executed.metadata["grading"] = result
        _replace(executed_path, nbformat.writes(executed))
        row.status = result["status"]
        row.task_results, notes = score(executed, missing, scheme)
        row.tasks = {result.task: result.passed for result in row.task_results}
        row.feedback = feedback_lines(row.task_results, notes)
        if row.status != "ok":
            row.feedback.insert(0, result.get("message", row.status))
        elif result.get("message"):
            row.feedback.append(result["message"])
        changed = [c.name for key, c in copies.items() if _sha256(c) != hashlib.sha256(sources[key]).hexdigest()]
        if changed:
            row.tasks = dict.fromkeys(row.tasks, False)
            forfeit(row.task_results, "the grader's copy of the checks was changed while this submission ran")
            row.feedback.insert(0, "the grader's copy of the checks was changed while this submission ran")
            row.review.append(f"changed the grader's copy of the checks ({', '.join(changed)})")
    except Exception as err:  # a bug or an odd file must not stop the other submissions
        row.status, row.retry = "error", True
        row.feedback.append(f"grader error: {type(err).__name__}: {err}")
    finally:
        row.seconds = round(time.monotonic() - start, 1)
    return row


def grade_of(row: Row) -> Grade:
    """A graded row as the store keeps it: its run's part of a `Grade` (the student's part is added
    from the collection). Each task is worth 1 point until the row brings its own `TaskResult`s."""
    tasks = list(getattr(row, "task_results", None) or [])
    if not tasks:
        hints = {line.split(":", 1)[0]: line.split(":", 1)[1].strip() for line in row.feedback if ":" in line}
        tasks = [
            TaskResult(task, passed, float(passed), 1.0, "" if passed else hints.get(f"task{task}", ""))
            for task, passed in sorted(row.tasks.items())
        ]
    written = [answer if isinstance(answer, WrittenAnswer) else WrittenAnswer(**answer) for answer in row.written]
    return Grade(
        exercise=row.exercise,
        status=row.status,
        seconds=row.seconds,
        tasks=tasks,
        written=written,
        feedback=list(row.feedback),
        review=list(row.review),
    )
