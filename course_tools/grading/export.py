"""Exporting the gradebook to an LMS: ``course export --format canvas|csv|moodle [--db PATH] [--out FILE]``.

Written from the gradebook's records (`records.Grade`, `records.Student`), one row per roster
student, in roster order; a student with no grade at all still gets a row. Each exercise's value
is ``Grade.points``: the task points plus the instructor's scores for written answers, less the
late penalty. A grade with status ``missing`` (nothing submitted) is 0. A cell is left BLANK only
where the gradebook holds no result at all for that student and exercise (the exercise was never
graded for them): the export does not invent a 0 for work nobody looked at. Rounded to 2 decimals.

Left out, and counted on the command line: submissions no roster line matched (student id '')
and grades whose student id is not on the roster.

The formats:

- ``canvas``: Canvas's gradebook import CSV (Grades > Import). Columns ``Student, ID, SIS User
  ID, SIS Login ID, Section``, then one column per exercise, and a second row ``Points
  Possible`` with each exercise's maximum, as Canvas's own gradebook export writes it. Student =
  the roster's name as written (Canvas's exports show "Last, First", but Canvas matches the rows
  by the id columns, not the name); ID = the roster's ``canvas_id``; SIS User ID =
  ``student_id`` (blank where it is the Canvas id, as for a roster read from a Canvas export
  without SIS ids); SIS Login ID = ``sis_login``, else the email; Section = ``section``. Canvas
  matches an exercise column to an existing assignment by its name, or by the assignment's id in
  parentheses: give it with ``--assignment-id EXERCISE=ID`` (the number at the end of the
  assignment's address), e.g. ``shape_arithmetic (48213)``; a column Canvas cannot match becomes
  a new assignment, which Canvas's import preview shows before anything is saved.
- ``csv``: plain: ``student_id, name, email, section``, one column of points per exercise,
  ``total`` and ``max`` (the sum of every exercise's maximum, also for a student with blanks).
- ``moodle``: for Moodle's "Import grades from CSV": ``ID number, Email address, Full name``,
  then one column per exercise; in Moodle map "Email address" (or "ID number") to the user and
  each exercise column to its grade item.

Exercises come in course order (the number of their solution notebook); an exercise's maximum is
the largest ``max_points`` among its grades.

The output is written whole to a temporary file, then renamed onto ``--out`` (default
``build/export/<format>.csv``). An existing file there is replaced only when it is an earlier
export of that format (its header says so), or with ``--replace``; never the gradebook itself nor
a notebook, whatever the flags.
"""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .records import Grade, Student

DEFAULT_OUT = Path("build/export")

FORMATS = ("canvas", "csv", "moodle")
FIXED_COLUMNS = {
    "canvas": ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"],
    "csv": ["student_id", "name", "email", "section"],
    "moodle": ["ID number", "Email address", "Full name"],
}
# Files an export never writes onto, even with --replace: a gradebook, a notebook (a submission).
PROTECTED_SUFFIXES = (".sqlite", ".sqlite3", ".db", ".ipynb")


class ExportError(Exception):
    """An export that cannot be written as asked; the message says why and what to do."""


@dataclass
class Exported:
    """What `write_export` wrote: the file, how many students it has rows for, and what it left out."""

    path: Path
    students: int
    exercises: list[str]
    left_out: dict[str, int] = field(default_factory=dict)  # reason -> number of grades

    def summary(self) -> str:
        lines = [f"wrote {self.path}: {self.students} students, exercises {', '.join(self.exercises) or '(none)'}"]
        lines += [f"left out {n} grade(s): {reason}" for reason, n in self.left_out.items() if n]
        return "\n".join(lines)


def course_order(exercises) -> list[str]:
    """Exercise ids in the course's order (the number of their solution notebook,
    ``03_shape_arithmetic_exercises.ipynb``), then any the course does not have, alphabetically."""
    from .. import course_folder

    numbered = {}
    for path in course_folder("solutions").glob("[0-9]*_exercises.ipynb"):
        number, _, rest = path.stem.partition("_")
        numbered[rest.removesuffix("_exercises")] = int(number) if number.isdigit() else 999
    return sorted(set(exercises), key=lambda e: (numbered.get(e, 1000), e))


def _points(value: float) -> str:
    return f"{round(value, 2):g}"


def _exercise_maxima(grades: list[Grade], exercises: list[str]) -> dict[str, float]:
    return {e: max((g.max_points for g in grades if g.exercise == e), default=0.0) for e in exercises}


def _rows(
    fmt: str, grades: list[Grade], students: list[Student], assignment_ids: dict[str, str]
) -> tuple[list[list[str]], list[str], dict[str, int]]:
    """The CSV's rows (header first), the exercises, and what was left out (reason -> count)."""
    roster = {s.student_id for s in students}
    left_out = {
        "unmatched submissions (no roster line matched them; see `course grade`'s list)": sum(
            1 for g in grades if not g.student_id
        ),
        "student ids not on the roster": sum(1 for g in grades if g.student_id and g.student_id not in roster),
        "submissions of no known exercise (no solution matched them)": sum(
            1 for g in grades if g.student_id in roster and not g.exercise
        ),
    }
    grades = [g for g in grades if g.exercise]
    kept = [g for g in grades if g.student_id in roster]
    exercises = course_order(g.exercise for g in grades)
    maxima = _exercise_maxima(grades, exercises)
    by_pair: dict[tuple[str, str], Grade] = {}
    for grade in kept:
        if (grade.student_id, grade.exercise) in by_pair:
            raise ExportError(
                f"the gradebook has two grades for student {grade.student_id!r} in {grade.exercise!r}: "
                "keep one (regrade with `course grade`) and export again"
            )
        by_pair[grade.student_id, grade.exercise] = grade

    def cell(student: Student, exercise: str) -> str:
        grade = by_pair.get((student.student_id, exercise))
        return "" if grade is None else _points(grade.points)

    if fmt == "canvas":
        header = FIXED_COLUMNS[fmt] + [f"{e} ({assignment_ids[e]})" if assignment_ids.get(e) else e for e in exercises]
        rows = [header, ["Points Possible", "", "", "", ""] + [_points(maxima[e]) for e in exercises]]
        for s in students:
            # A roster without SIS ids takes Canvas's id as the student id (`roster`): no SIS User ID then.
            sis_id = "" if s.student_id == s.canvas_id else s.student_id
            ids = [s.name, s.canvas_id, sis_id, s.sis_login or s.email, s.section]
            rows.append(ids + [cell(s, e) for e in exercises])
    elif fmt == "csv":
        rows = [FIXED_COLUMNS[fmt] + exercises + ["total", "max"]]
        total_max = _points(sum(maxima.values()))
        for s in students:
            cells = [cell(s, e) for e in exercises]
            total = _points(sum(float(c) for c in cells if c))
            rows.append([s.student_id, s.name, s.email, s.section] + cells + [total, total_max])
    else:
        rows = [FIXED_COLUMNS[fmt] + exercises]
        for s in students:
            rows.append([s.student_id, s.email, s.name] + [cell(s, e) for e in exercises])
    return rows, exercises, left_out


def _is_earlier_export(path: Path, fmt: str) -> bool:
    try:
        with path.open(newline="", encoding="utf-8") as f:
            header = next(csv.reader(f), [])
    except (OSError, UnicodeDecodeError, csv.Error):
        return False
    fixed = FIXED_COLUMNS[fmt]
    return header[: len(fixed)] == fixed


def check_target(out: Path, fmt: str, replace: bool, protect: list[Path] = ()) -> None:
    """Raise ExportError unless ``out`` may be written: not a protected file, not a folder, and
    either new, an earlier export of this format, or ``replace`` given."""
    resolved = out.resolve()
    if any(resolved == Path(p).resolve() for p in protect) or out.suffix.lower() in PROTECTED_SUFFIXES:
        raise ExportError(f"{out} is a gradebook or a notebook, never an export: give --out a new .csv file")
    if out.is_dir():
        raise ExportError(f"{out} is a folder: give --out a file name, e.g. {out / (fmt + '.csv')}")
    if out.exists() and not replace and not _is_earlier_export(out, fmt):
        raise ExportError(
            f"{out} exists and is not an earlier {fmt} export: give another --out, or add --replace to overwrite it"
        )


def write_export(
    grades: list[Grade],
    students: list[Student],
    out,
    format: str,
    *,
    assignment_ids: dict[str, str] | None = None,
    replace: bool = False,
    protect: list[Path] = (),
) -> Exported:
    """Write the ``format`` export (canvas, csv, moodle) of ``grades`` for the roster ``students``
    to ``out``; see the module's docstring. ``protect``: files never to write onto (the gradebook).
    Raises ExportError, having written nothing, for an unknown format, a refused ``out`` or a
    gradebook with two grades for one student and exercise."""
    if format not in FORMATS:
        raise ExportError(f"unknown export format {format!r}: choose one of {', '.join(FORMATS)}")
    out = Path(out)
    check_target(out, format, replace, protect)
    rows, exercises, left_out = _rows(format, grades, students, assignment_ids or {})
    unknown = sorted(set(assignment_ids or {}) - set(exercises))
    if unknown:
        raise ExportError(
            f"--assignment-id names {', '.join(unknown)}, which the gradebook has no grades for "
            f"(its exercises: {', '.join(exercises) or 'none'})"
        )
    text = io.StringIO()
    csv.writer(text, lineterminator="\r\n").writerows(rows)  # RFC 4180, as Canvas's importer reads
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text.getvalue())
        os.replace(tmp, out)  # a link planted at `out` is replaced, not followed
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Exported(out, len(students), exercises, left_out)


def parse_assignment_ids(pairs: list[str]) -> dict[str, str]:
    """``["shape_arithmetic=48213", ...]`` -> ``{"shape_arithmetic": "48213"}``; ExportError for a bad pair."""
    ids = {}
    for pair in pairs or []:
        exercise, sep, number = pair.partition("=")
        if not sep or not exercise or not re.fullmatch(r"\d+", number):
            raise ExportError(
                f"--assignment-id {pair!r}: write EXERCISE=ID with Canvas's numeric assignment id, "
                "e.g. shape_arithmetic=48213"
            )
        ids[exercise] = number
    return ids


def load_gradebook(db) -> tuple[list[Grade], list[Student]]:
    """The grades and the roster of the gradebook at ``db``; ExportError when there is none there
    (`store.Gradebook` would create one) and `store.GradebookError` for a file that is no gradebook."""
    from .store import Gradebook

    db = Path(db)
    if not db.is_file():
        raise ExportError(f"no gradebook at {db}: grade first (`course grade ... --db {db}`), or give --db its path")
    with Gradebook(db) as book:
        return book.grades(), book.students()


def export_main(db, fmt: str, out=None, replace: bool = False, assignment_ids: list[str] = ()) -> int:
    """``course export``: write the export, say what was left out; 2 (after one line on stderr) for bad input."""
    import sys

    from .store import GradebookError

    out = Path(out) if out else DEFAULT_OUT / f"{fmt}.csv"
    try:
        ids = parse_assignment_ids(assignment_ids)
        grades, students = load_gradebook(db)
        if not students:
            raise ExportError(
                f"the gradebook {db} has no roster, so no student ids to export: grade with --roster roster.csv"
            )
        done = write_export(grades, students, out, fmt, assignment_ids=ids, replace=replace, protect=[Path(db)])
    except (ExportError, GradebookError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(done.summary())
    return 0
