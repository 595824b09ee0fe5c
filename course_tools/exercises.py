"""Exercises and solutions from one source: ``course exercises`` writes exercises/ from solutions/.

Instructors edit only ``solutions/*.ipynb``: complete notebooks that run top to bottom and
pass their own checks. Marker lines, each alone on its line, say what students must not see:

    def conv_output_size(size, kernel, stride=1, padding=0):
        ### BEGIN SOLUTION
        return (size + 2 * padding - kernel) // stride + 1
        ### END SOLUTION

becomes, in ``exercises/``,

    def conv_output_size(size, kernel, stride=1, padding=0):
        # YOUR CODE HERE
        raise NotImplementedError("Task 2: conv_output_size")

The rules:

- A code cell's region between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` becomes that
  stub, indented like its BEGIN line. A cell may hold several regions, at any indentation.
- The task number and name come from the cell's metadata. Every cell of a task carries
  ``cell.metadata["course"] = {"task": 2, "title": "conv_output_size", "role": "answer"}``,
  with ``"role": "check"`` on the check cells that follow the answer (the grader reads them).
- A check cell is one call, ``check(task=N)`` (two lines at most, e.g. ``result = check(task=N)``):
  the checks of exercise ``<id>`` are the functions of ``course_utils/exercise_checks/<id>.py``,
  and its hidden tests those of ``solutions/hidden_tests/<id>.py`` (`course_utils.exercise_checks`).
  A longer check cell, or a ``### BEGIN HIDDEN TESTS`` region (the old way), is refused.
- In a markdown cell the text between the solution markers (a written answer) becomes
  ``_Write your answer here._``.
- The solution's metadata names the exercise: ``course.exercise_id`` (e.g. ``"shape_arithmetic"``),
  copied into the exercise, so the grader finds the right solution even after lessons are renumbered.
- Outputs and execution counts are cleared. Cell ids and metadata are kept, so the grader can
  match a student's cells to the solution's.
- A figure's description (``course.alt``, `course_tools.alt_text`) describes the solution's run.
  In JupyterLab the kernel gives it to the figure a student's cell draws (`course_utils.figure_alt`),
  and a student's code may draw something else: the exercise's copy says whose figure it describes
  (``"What the solution draws here: ..."``).

``course exercises`` rewrites ``exercises/``; ``course exercises --check`` only compares, and
fails when the committed exercises differ from what the solutions generate (CI runs it). The
output depends on nothing but the solution file, so the same input gives the same bytes.

This module writes and compares the files; the markers are parsed, and each cell transformed, in
`course_tools.notebook_transforms` (``make_exercise``), which the site and the grader use too.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat

from .notebook_transforms import REGENERATE, MarkerError, make_exercise


def exercise_text(solution_path: Path) -> str:
    """The exact text ``course exercises`` writes for one solution notebook."""
    solution = nbformat.reads(Path(solution_path).read_text(encoding="utf-8"), as_version=4)
    exercise = make_exercise(solution, Path(solution_path).name)
    nbformat.validate(exercise)
    return nbformat.writes(exercise) + "\n"


def build_all(check: bool = False, root: Path | str | None = None) -> int:
    """Generate ``exercises/`` from ``solutions/`` (or, with ``check``, report any difference).

    Returns 0 when exercises/ is (or now is) up to date, 1 when ``check`` finds a difference,
    2 when a solution cannot be converted (unpaired markers, missing metadata).
    """
    from . import course_folder

    root = Path(root) if root else course_folder("solutions").parent
    solutions_dir, exercises_dir = root / "solutions", root / "exercises"
    if exercises_dir.resolve() == solutions_dir.resolve():
        print("error: exercises/ and solutions/ are the same folder; refusing to write", file=sys.stderr)
        return 2
    solutions = sorted(solutions_dir.glob("*.ipynb"))
    if not solutions:
        print(f"error: no solution notebooks in {solutions_dir}", file=sys.stderr)
        return 2
    problems = []
    for solution in solutions:
        target = exercises_dir / solution.name
        try:
            text = exercise_text(solution)
        except (MarkerError, nbformat.ValidationError, json.JSONDecodeError) as err:
            print(f"error: solutions/{solution.name}: {err}", file=sys.stderr)
            return 2
        current = target.read_bytes() if target.exists() else None
        if current == text.encode("utf-8"):
            continue
        if check:
            problems.append(
                f"exercises/{solution.name} "
                + ("is missing" if current is None else f"differs from what solutions/{solution.name} generates")
            )
        elif target.resolve().is_relative_to(solutions_dir.resolve()):
            print(f"error: exercises/{solution.name} points into solutions/; refusing to overwrite it", file=sys.stderr)
            return 2
        else:
            exercises_dir.mkdir(exist_ok=True)
            target.write_bytes(text.encode("utf-8"))
            print(f"wrote exercises/{solution.name}")
    names = {s.name for s in solutions}
    for stale in sorted(exercises_dir.glob("*.ipynb")):
        if stale.name not in names:
            problems.append(f"exercises/{stale.name} has no solutions/{stale.name} (delete it if obsolete)")
    if check and problems:
        print("exercises/ is out of date with solutions/:")
        print("\n".join(f"  {p}" for p in problems))
        print(f"Regenerate with `{REGENERATE}` (or `make exercises`), then commit exercises/.")
        return 1
    for problem in problems:
        print(f"warning: {problem}")
    print(f"exercises/ is up to date with solutions/ ({len(solutions)} notebook{'s' * (len(solutions) != 1)})")
    return 0
