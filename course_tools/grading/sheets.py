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


class ScoreError(ValueError):
    """A hand score that cannot be used, in one line naming the row."""


def number(value: float) -> str:
    """A number as a spreadsheet reads it: ``1``, ``0.5``, ``2.25``."""
    return f"{round(value, 4):g}"


def _csv_text(columns: list[str], rows: list[dict]) -> str:
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
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


def read_scores(path: Path, grades: list[Grade], recorded: dict) -> list[Score]:
    """The scores and comments filled in ``written_answers.csv`` at ``path``, merged with the ones
    ``recorded`` in the store (`Gradebook.scores`): what to save. `ScoreError` for a score that is
    not a number from 0 to the answer's points."""
    if not path.is_file():
        return []
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ScoreError(f"{path} is not UTF-8 text; save it as 'CSV UTF-8' and run again") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if "score" not in (reader.fieldnames or []):
        return []  # written by a grader without hand scores: nothing filled in yet
    answers = {
        (grade.student_id or grade.submission, grade.exercise, str(answer.task), answer.question): answer
        for grade in grades
        for answer in grade.written
    }
    scores = []
    for line, row in enumerate(reader, start=2):  # a spreadsheet's row numbers: the header is row 1
        key = (_owner(row), (row.get("exercise") or "").strip(), (row.get("task") or "").strip(), row.get("question"))
        given, comment = (row.get("score") or "").strip(), (row.get("comment") or "").strip()
        old = recorded.get(key)
        where = f"{path}, row {line} ({key[0]}, {key[1]}, task {key[2] or '-'})"
        maximum = answers[key].max_points if key in answers else _float(row.get("max_points"))
        value = _score(given, maximum, where) if given else None
        if value is None and old is None and not without_note(comment):
            continue
        seen = row.get("answer") or ""  # what the instructor read when scoring
        if old is not None and value is None:  # an emptied cell keeps the recorded score
            value = old.score
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
    most = f" to {number(maximum)}" if maximum is not None else ""
    if value is None or value != value:  # not a number (nan neither)
        raise ScoreError(f"{where}: score {given!r} is not a number; write a number from 0{most} or leave it empty")
    if value < 0 or (maximum is not None and value > maximum):
        raise ScoreError(f"{where}: score {given} is not from 0{most}; correct it and run again")
    return value
