"""The exercise markers and every transformation that reads them: the one place that parses them.

A solution notebook marks what students must not see with marker lines, each alone on its line
(the format, for authors, is at the top of `course_tools.exercises`)::

    ### BEGIN SOLUTION
    ...
    ### END SOLUTION

``### BEGIN HIDDEN TESTS`` regions are refused: hidden tests are files of their own
(``solutions/hidden_tests/<id>.py``).

In nbgrader's spirit, each transformation does one thing, and a product is a plain list of them:

- on a cell's source: `solution_regions` (the one parser: pairs the markers, or `MarkerError`),
  `has_solution`, `strip_solution` (each region becomes a stub), `without_markers` (the marker
  lines go, the solution stays), `solution_lines`, and, for text that need not pair up (a
  student's answer), `drop_marker_lines` and `around_solution`;
- on a cell, `EXERCISE_STEPS`: what `make_exercise` does to each cell of a solution to make the
  exercise (``course exercises`` writes it, `course_tools.exercises`);
- on a notebook: `make_exercise`, and `publish_solution` (a solution as the site shows it).

Who calls what: ``course exercises`` and ``course release`` call `make_exercise`; the site calls
`publish_solution`; the grader calls `has_solution`, `around_solution` and `drop_marker_lines`
(written answers, points) and the similarity report `strip_solution` and `without_markers`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import nbformat

BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"  # refused: hidden tests are files
MARKDOWN_STUB = "_Write your answer here._"
CHECK_LINES = 2  # the most non-blank lines a check cell may hold
SOLUTION_ALT = "What the solution draws here: "  # before each figure description in an exercise
REGENERATE = "course exercises"  # the command that writes exercises/ from solutions/


class MarkerError(ValueError):
    """Markers that do not pair up, or a task cell without the metadata its stub needs."""


# ---------------------------------------------------------------------------- a cell's source
@dataclass(frozen=True)
class Region:
    """One solution region of a source: the indexes of its BEGIN and END lines, and BEGIN's indentation."""

    begin: int
    end: int
    indent: str


def solution_regions(source: str) -> list[Region]:
    """The solution regions of ``source``, in order; `MarkerError` when the markers do not pair up
    or a hidden-test region is found."""
    regions, begin = [], None  # begin: the index of the BEGIN line of the open region, or None
    lines = source.split("\n")
    for index, line in enumerate(lines):
        marker = line.strip()
        if marker in (BEGIN_HIDDEN, END_HIDDEN):
            raise MarkerError(f"line {index + 1}: {marker!r}: hidden tests are no longer regions of a cell")
        if begin is None and marker == BEGIN_SOLUTION:
            begin = index
        elif begin is not None and marker == END_SOLUTION:
            opening = lines[begin]
            regions.append(Region(begin, index, opening[: len(opening) - len(opening.lstrip())]))
            begin = None
        elif marker in (BEGIN_SOLUTION, END_SOLUTION):
            waiting = f" (still waiting for {END_SOLUTION!r})" if begin is not None else ""
            raise MarkerError(f"line {index + 1}: unexpected {marker!r}{waiting}")
    if begin is not None:
        raise MarkerError(f"a region is never closed: {END_SOLUTION!r} is missing")
    return regions


def has_solution(source: str) -> bool:
    """True when ``source`` opens a solution region (whether or not its markers pair up)."""
    return any(line.strip() == BEGIN_SOLUTION for line in source.split("\n"))


def strip_solution(source: str, stub: list[str]) -> str:
    """``source`` with every solution region replaced by ``stub``, indented like its BEGIN line."""
    lines, kept, start = source.split("\n"), [], 0
    for region in solution_regions(source):
        kept += lines[start : region.begin] + [region.indent + stub_line for stub_line in stub]
        start = region.end + 1
    return "\n".join(kept + lines[start:])


def without_markers(source: str) -> str:
    """``source`` without its marker lines, the solution itself kept: what the site shows.
    Unpaired markers are refused here as everywhere."""
    solution_regions(source)
    return drop_marker_lines(source)


def drop_marker_lines(text: str) -> str:
    """``text`` without any solution marker line, paired or not (a student may have kept one, or half)."""
    return "\n".join(line for line in text.split("\n") if line.strip() not in (BEGIN_SOLUTION, END_SOLUTION))


def solution_lines(source: str) -> list[str]:
    """The lines inside the solution regions of ``source``, as written."""
    lines = source.split("\n")
    return [line for region in solution_regions(source) for line in lines[region.begin + 1 : region.end]]


def around_solution(source: str) -> tuple[str, str]:
    """The text before the first BEGIN line of ``source`` and after its last END line, stripped
    (a written answer's question, and what follows the answer). Lenient, as the grader reads it:
    with no END line, nothing follows. ``source`` must hold a BEGIN line (`has_solution`)."""
    lines = [line.strip() for line in source.split("\n")]
    begin = lines.index(BEGIN_SOLUTION)
    end = max((i for i, line in enumerate(lines) if line == END_SOLUTION), default=len(lines))
    original = source.split("\n")
    return "\n".join(original[:begin]).strip(), "\n".join(original[end + 1 :]).strip()


def code_stub(task, title: str) -> list[str]:
    """The lines that replace a solution region in a code cell."""
    return ["# YOUR CODE HERE", f"raise NotImplementedError({json.dumps(f'Task {task}: {title}')})"]


# ---------------------------------------------------------------------------- a solution's cells, made exercise
def checks_module_of(exercise_id: str) -> str:
    """Where the check functions of an exercise live (see `course_utils.exercise_checks`)."""
    return f"course_utils/exercise_checks/{exercise_id}.py"


def hidden_tests_of(exercise_id: str) -> str:
    """Where the hidden tests of an exercise live (`course grade --solutions DIR` reads them there)."""
    return f"solutions/hidden_tests/{exercise_id}.py"


@dataclass(frozen=True)
class Place:
    """Where a cell is, for error messages: its notebook, its index, and the exercise's id."""

    notebook: str
    index: int
    exercise_id: str  # "<id>" while the notebook names none

    def __str__(self) -> str:
        return f"{self.notebook}, cell {self.index}"


def stub_solution(cell, place: Place) -> None:
    """Replace each solution region by its stub: a code cell's says which task to write, a markdown
    cell's (a written answer) is `MARKDOWN_STUB`."""
    info = cell.metadata.get("course", {})
    stub = [MARKDOWN_STUB]
    if cell.cell_type == "code" and has_solution(cell.source):
        if "task" not in info or "title" not in info or info.get("role") != "answer":
            raise MarkerError(
                f"{place} has a solution region, so its metadata needs "
                f'"course": {{"task": N, "title": "...", "role": "answer"}}; '
                f"it has {info or 'none'}"
            )
        stub = code_stub(info["task"], info["title"])
    try:
        cell.source = strip_solution(cell.source, stub)
    except MarkerError as err:
        where_to = f"; put them in {hidden_tests_of(place.exercise_id)}" if "hidden tests" in str(err) else ""
        raise MarkerError(f"{place}: {err}{where_to}") from None


def refuse_long_check(cell, place: Place) -> None:
    """A check cell is one call, ``check(task=N)``: its checking lives in the exercise's checks module."""
    info = cell.metadata.get("course", {})
    lines = len([line for line in cell.source.split("\n") if line.strip()])
    if info.get("role") == "check" and lines > CHECK_LINES:
        raise MarkerError(
            f"{place} is a check cell of {lines} lines; a check cell is one call, check(task={info.get('task')}): "
            f"move its checking into {checks_module_of(place.exercise_id)}"
        )


def clear_outputs(cell, place: Place) -> None:
    """No outputs, execution counts or execution times: the student runs the exercise."""
    cell.metadata.pop("execution", None)
    if cell.cell_type == "code":
        cell.outputs, cell.execution_count = [], None


def credit_figure_alt(cell, place: Place) -> None:
    """A figure's description describes the solution's run; the student's code draws the figure, so it says whose."""
    info = cell.metadata.get("course", {})
    if isinstance(info.get("alt"), list):
        info["alt"] = [SOLUTION_ALT + alt if isinstance(alt, str) and alt.strip() else alt for alt in info["alt"]]


EXERCISE_STEPS: list[Callable[[nbformat.NotebookNode, Place], None]] = [
    stub_solution,
    refuse_long_check,  # on the stubbed source: the lines a student sees
    clear_outputs,
    credit_figure_alt,
]


# ---------------------------------------------------------------------------- whole notebooks
def _copy(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    return nbformat.from_dict(json.loads(json.dumps(notebook)))


def make_exercise(solution: nbformat.NotebookNode, name: str = "notebook") -> nbformat.NotebookNode:
    """The exercise version of a solution notebook: `EXERCISE_STEPS` on each cell of a copy, and the
    metadata saying where it came from (``solution`` is untouched)."""
    exercise = _copy(solution)
    exercise_id = solution.metadata.get("course", {}).get("exercise_id")
    for index, cell in enumerate(exercise.cells):
        for step in EXERCISE_STEPS:
            step(cell, Place(name, index, exercise_id or "<id>"))
    if not exercise_id:
        raise MarkerError(f"{name}: the notebook's metadata needs course.exercise_id (a stable name the grader uses)")
    exercise.metadata["course"] = {
        "exercise_id": exercise_id,
        "generated_from": f"solutions/{name}",
        "note": f"generated by `{REGENERATE}`: edit the solution, not this file",
    }
    return exercise


def publish_solution(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A solution as the site shows it: no solution marker lines. The notebook passed in is not changed."""
    published = _copy(notebook)
    for index, cell in enumerate(published.cells):
        try:
            cell.source = without_markers(cell.source)
        except MarkerError as err:
            raise MarkerError(f"cell {index}: {err}") from None
    return published
