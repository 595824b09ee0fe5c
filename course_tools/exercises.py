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
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat

BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"  # refused: hidden tests are files
MARKERS = {BEGIN_SOLUTION: END_SOLUTION}
CHECK_LINES = 2  # the most non-blank lines a check cell may hold
MARKDOWN_STUB = "_Write your answer here._"
SOLUTION_ALT = "What the solution draws here: "  # before each figure description in an exercise
REGENERATE = "course exercises"


class MarkerError(ValueError):
    """Markers that do not pair up, or a task cell without the metadata its stub needs."""


def without_markers(source: str) -> str:
    """The source with its solution marker lines removed (the solution itself kept): what the site shows."""
    strip_regions(source, [])  # unpaired markers are refused here as everywhere
    return "\n".join(line for line in source.split("\n") if line.strip() not in (BEGIN_SOLUTION, END_SOLUTION))


def has_solution(source: str) -> bool:
    """True when ``source`` holds a solution region."""
    return any(line.strip() == BEGIN_SOLUTION for line in source.split("\n"))


def code_stub(task: int, title: str) -> list[str]:
    """The lines that replace a solution region in a code cell."""
    return ["# YOUR CODE HERE", f"raise NotImplementedError({json.dumps(f'Task {task}: {title}')})"]


def strip_regions(source: str, stub: list[str]) -> str:
    """Replace every solution region by ``stub`` (indented like its marker)."""
    kept, inside = [], None  # inside: the END marker we are waiting for, or None
    for number, line in enumerate(source.split("\n"), start=1):
        marker = line.strip()
        if marker in (BEGIN_HIDDEN, END_HIDDEN):
            raise MarkerError(f"line {number}: {marker!r}: hidden tests are no longer regions of a cell")
        if inside is None and marker in MARKERS:
            inside = MARKERS[marker]
            if marker == BEGIN_SOLUTION:
                indent = line[: len(line) - len(line.lstrip())]
                kept += [indent + stub_line for stub_line in stub]
        elif inside is not None and marker == inside:
            inside = None
        elif marker in MARKERS or marker in MARKERS.values():
            raise MarkerError(
                f"line {number}: unexpected {marker!r}" + (f" (still waiting for {inside!r})" if inside else "")
            )
        elif inside is None:
            kept.append(line)
    if inside is not None:
        raise MarkerError(f"a region is never closed: {inside!r} is missing")
    return "\n".join(kept)


def make_exercise(solution: nbformat.NotebookNode, name: str = "notebook") -> nbformat.NotebookNode:
    """The exercise version of a solution notebook (a new notebook; ``solution`` is untouched)."""
    exercise = nbformat.from_dict(json.loads(json.dumps(solution)))  # a deep copy
    cells = []
    for index, cell in enumerate(exercise.cells):
        where = f"{name}, cell {index}"
        info = cell.metadata.get("course", {})
        stub = [MARKDOWN_STUB]
        if cell.cell_type == "code" and has_solution(cell.source):
            if "task" not in info or "title" not in info or info.get("role") != "answer":
                raise MarkerError(
                    f"{where} has a solution region, so its metadata needs "
                    f'"course": {{"task": N, "title": "...", "role": "answer"}}; '
                    f"it has {info or 'none'}"
                )
            stub = code_stub(info["task"], info["title"])
        try:
            source = strip_regions(cell.source, stub)
        except MarkerError as err:
            where_to = f"; put them in {hidden_tests_of(solution)}" if "hidden tests" in str(err) else ""
            raise MarkerError(f"{where}: {err}{where_to}") from None
        lines = len([line for line in source.split("\n") if line.strip()])
        if info.get("role") == "check" and lines > CHECK_LINES:
            raise MarkerError(
                f"{where} is a check cell of {lines} lines; a check cell is one call, check(task={info.get('task')}): "
                f"move its checking into {checks_module_of(solution)}"
            )
        cell.source = source
        cell.metadata.pop("execution", None)
        if isinstance(info.get("alt"), list):  # the student's code draws the figure, the words are the solution's
            info["alt"] = [SOLUTION_ALT + alt if isinstance(alt, str) and alt.strip() else alt for alt in info["alt"]]
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cells.append(cell)
    exercise.cells = cells
    exercise_id = solution.metadata.get("course", {}).get("exercise_id")
    if not exercise_id:
        raise MarkerError(f"{name}: the notebook's metadata needs course.exercise_id (a stable name the grader uses)")
    exercise.metadata["course"] = {
        "exercise_id": exercise_id,
        "generated_from": f"solutions/{name}",
        "note": f"generated by `{REGENERATE}`: edit the solution, not this file",
    }
    return exercise


def checks_module_of(solution) -> str:
    """Where the check functions of a solution's exercise live (see `course_utils.exercise_checks`)."""
    return f"course_utils/exercise_checks/{solution.metadata.get('course', {}).get('exercise_id', '<id>')}.py"


def hidden_tests_of(solution) -> str:
    """Where the hidden tests of a solution's exercise live (`course grade --solutions DIR` reads them there)."""
    return f"solutions/hidden_tests/{solution.metadata.get('course', {}).get('exercise_id', '<id>')}.py"


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
