"""The gradebook's CSV files, written from the store (`store.Gradebook.grades`), and the hand scores read back.

``gradebook.csv`` (``--out``): one row per student and exercise (without a roster: per
submission), columns ``student_id, name, section, exercise, submission, status`` (ok / timeout /
error / missing), ``seconds, submitted_at, late_days, penalty`` (the fraction of the points taken
off), one ``taskN`` column per task with the points earned in it (empty when the exercise has no
such task), ``written`` (the hand-given scores; empty until one is given), ``total`` (all points,
less the late penalty), ``max``, ``feedback`` and ``review``.

``written_answers.csv`` beside it: one row per written answer of every submission, columns
``student_id, name, submission, exercise, task, question, answer, placeholder`` (``yes`` when
left as the stub), ``score``, ``max_points``, ``comment``. The instructor fills in ``score`` (a
number from 0 to ``max_points``) and ``comment``; the next ``course grade`` reads them into the
store first, then rewrites the file from it, so a score once given is never lost: an emptied score
cell keeps the recorded score. When the student's answer changed since it was scored, the comment
says ``answer changed since scored``; change the score, or delete that note, to confirm it.

Read back as a spreadsheet saves it: cells separated by ``,``, ``;`` (a comma-decimal locale, where
``0,5`` is a score too) or tabs. A file whose first line lacks a column read (`READ_COLUMNS`) is
refused, never rewritten; so is a score or comment on a row that names no answer of the gradebook
(a row is found by its ``student_id``, else by its ``submission``: a spreadsheet that dropped an
id's leading zeros still finds it). A cell the grader writes that starts with ``= + - @``, a tab,
a carriage return or ``'`` gets a ``'`` in front, so a spreadsheet never runs a student's text
as a formula; reading takes it off.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from .files import _replace
from .records import Grade, Student
from .store import CHANGED_NOTE, Score, without_note

WRITTEN_COLUMNS = [
    "student_id",
    "name",
    "submission",
    "exercise",
    "task",
    "question",
    "answer",
    "placeholder",
    "score",
    "max_points",
    "comment",
]

READ_COLUMNS = ("student_id", "submission", "exercise", "task", "question", "answer", "score", "comment")

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "'")  # "'" too: a text starting with it reads back the same


class ScoreError(ValueError):
    """A hand score that cannot be used, in one line naming the row."""


def number(value: float) -> str:
    """A number as a spreadsheet reads it: ``1``, ``0.5``, ``2.25``."""
    return f"{round(value, 4):g}"


def inert(value):
    """A cell a spreadsheet shows as text, never runs as a formula: ``'`` before a text that starts
    like one (`FORMULA_STARTS`; a number, ``-0.5``, stays a number)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and _float(value) is None:
        return "'" + value
    return value


def _plain(value):
    """A cell as `inert` found it."""
    return value[1:] if isinstance(value, str) and value.startswith("'") else value


def _csv_text(columns: list[str], rows: list[dict]) -> str:
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=columns)
    writer.writeheader()
    writer.writerows({name: inert(value) for name, value in row.items()} for row in rows)
    return text.getvalue()


def gradebook_rows(grades: list[Grade], students: list[Student]) -> tuple[list[str], list[dict]]:
    """The columns and rows of ``gradebook.csv`` (see the module docstring)."""
    people = {student.student_id: student for student in students}
    n_tasks = max((t.task for g in grades for t in g.tasks if isinstance(t.task, int)), default=0)
    columns = ["student_id", "name", "section", "exercise", "submission", "status", "seconds", "submitted_at"]
    columns += ["late_days", "penalty", *[f"task{t}" for t in range(1, n_tasks + 1)]]
    columns += ["written", "total", "max", "feedback", "review"]
    rows = []
    for grade in grades:
        student = people.get(grade.student_id, Student(grade.student_id, ""))
        scored = [w.score for w in grade.written if w.score is not None]
        rows.append(
            {
                "student_id": grade.student_id,
                "name": student.name,
                "section": student.section,
                "exercise": grade.exercise,
                "submission": grade.submission,
                "status": grade.status,
                "seconds": grade.seconds if grade.status != "missing" else "",
                "submitted_at": grade.submitted_at,
                "late_days": number(grade.late_days),
                "penalty": number(grade.penalty),
                **{f"task{t.task}": number(t.points) for t in grade.tasks},
                "written": number(sum(scored)) if scored else "",
                "total": number(grade.points),
                "max": number(grade.max_points),
                "feedback": "; ".join(grade.feedback),
                "review": "; ".join(grade.review),
            }
        )
    return columns, rows


def write_gradebook(grades: list[Grade], out: Path, students: list[Student] = ()) -> None:
    """``gradebook.csv`` from the store's grades (see the module docstring)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    _replace(out, _csv_text(*gradebook_rows(grades, list(students))))


def write_written_answers(grades: list[Grade], out: Path, students: list[Student] = ()) -> None:
    """``written_answers.csv``: one row per submission and written answer, for grading by hand."""
    names = {student.student_id: student.name for student in students}
    rows = []
    for grade in grades:
        if grade.status == "missing":
            continue
        for answer in grade.written:
            rows.append(
                {
                    "student_id": grade.student_id,
                    "name": names.get(grade.student_id, ""),
                    "submission": grade.submission,
                    "exercise": grade.exercise,
                    "task": answer.task,
                    "question": answer.question,
                    "answer": answer.answer,
                    "placeholder": "yes" if answer.placeholder else "no",
                    "score": "" if answer.score is None else number(answer.score),
                    "max_points": number(answer.max_points),
                    "comment": answer.comment,
                }
            )
    out.parent.mkdir(parents=True, exist_ok=True)
    _replace(out, _csv_text(WRITTEN_COLUMNS, rows))


def _owner(row: dict) -> str:
    return (row.get("student_id") or "").strip() or (row.get("submission") or "").strip()


def _written_rows(path: Path) -> list[dict]:
    """The rows of ``written_answers.csv`` as a spreadsheet saved it (``,``, ``;`` or tabs between
    cells), cells as the grader wrote them (`_plain`); `ScoreError` for a file that cannot be read
    so, or whose first line lacks a column `read_scores` needs."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ScoreError(f"{path} is not UTF-8 text; save it as 'CSV UTF-8' and run again") from None
    if not text.strip():
        return []
    delimiter = max(",;\t", key=text.split("\n", 1)[0].count)  # ';' in a comma-decimal locale
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    reader.fieldnames = [name.strip() for name in reader.fieldnames or []]
    lacking = [name for name in READ_COLUMNS if name not in reader.fieldnames]
    if lacking:
        raise ScoreError(
            f"{path}: its first line lacks the column{'s' * (len(lacking) > 1)} {', '.join(lacking)}, so its "
            f"scores cannot be read; restore the header ({','.join(WRITTEN_COLUMNS)}) or move the file away"
        )
    try:
        return [{name: _plain(value) for name, value in row.items() if name} for row in reader]
    except csv.Error as error:
        raise ScoreError(f"{path}, row {reader.line_num}: {error}; check its quotes") from None


def read_scores(path: Path, grades: list[Grade], recorded: dict) -> list[Score]:
    """The scores and comments filled in ``written_answers.csv`` at ``path``, merged with the ones
    ``recorded`` in the store (`Gradebook.scores`): what to save. `ScoreError` (one line, naming
    the row) for a file that cannot be read, a score that is not a number from 0 to the answer's
    points, or a new score or comment on a row that matches no answer of ``grades``."""
    if not path.is_file():
        return []
    answers, by_file = {}, {}
    for grade in grades:
        for answer in grade.written:
            key = (grade.student_id or grade.submission, grade.exercise, str(answer.task), answer.question)
            answers[key] = answer
            by_file[(grade.submission, *key[1:])] = key
    scores = []
    for line, row in enumerate(_written_rows(path), start=2):  # a spreadsheet's row numbers: the header is row 1
        key = (_owner(row), (row.get("exercise") or "").strip(), (row.get("task") or "").strip(), row.get("question"))
        where = f"{path}, row {line} ({key[0]}, {key[1]}, task {key[2] or '-'})"
        if key not in answers:  # e.g. a spreadsheet dropped the id's leading zeros: its file still names it
            key = by_file.get(((row.get("submission") or "").strip(), *key[1:]), key)
        given, comment = (row.get("score") or "").strip(), (row.get("comment") or "").strip()
        old = recorded.get(key)
        maximum = answers[key].max_points if key in answers else _float(row.get("max_points"))
        value = _score(given, maximum, where) if given else None
        if value is None and old is None and not without_note(comment):
            continue
        seen = row.get("answer") or ""  # what the instructor read when scoring
        if old is not None and value is None:  # an emptied cell keeps the recorded score
            value = old.score
        if key not in answers and (old is None or (value, without_note(comment)) != (old.score, old.comment)):
            raise ScoreError(
                f"{where}: no answer in the gradebook has this student_id (or submission), exercise, task and "
                "question, so its score would count nowhere; correct the row (a spreadsheet may have dropped "
                "the id's leading zeros: import that column as text) or empty its score and comment"
            )
        confirmed = old is None or value != old.score or CHANGED_NOTE not in comment
        scores.append(Score(*key, score=value, comment=comment, answer=seen if confirmed else old.answer))
    return scores


def _float(text) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def _score(given: str, maximum: float | None, where: str) -> float:
    value = _float(given)
    if value is None:  # a comma-decimal locale writes 0,5
        value = _float(given.replace(",", ".", 1))
    most = f" to {number(maximum)}" if maximum is not None else ""
    if value is None or value != value:  # not a number (nan neither)
        raise ScoreError(f"{where}: score {given!r} is not a number; write a number from 0{most} or leave it empty")
    if value < 0 or (maximum is not None and value > maximum):
        raise ScoreError(f"{where}: score {given} is not from 0{most}; correct it and run again")
    return value
