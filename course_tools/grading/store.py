"""The semester's gradebook, kept in SQLite between runs: ``course grade --db PATH`` (default
``build/grading/gradebook.sqlite``, beside the executed copies).

Every graded submission is recorded under a key, the sha256 of all that its grading depended on
(`result_key`: the submission's bytes, its solution, the check files with the hidden tests, the
course package, the time limit and the sandbox mode). A rerun grades only submissions whose key
is not in the store; ``--regrade`` grades them all again. Each graded submission is saved in a
transaction of its own, so a killed grader (or worker) loses nothing it had graded. The CSV
gradebook, the written answers file, the feedback pages and the LMS exports are all written from
here (`Gradebook.grades`).

What is not in the key is applied when the gradebook is read: who the submission belongs to, its
lateness (the late policy of the run that last saw it: changing the policy re-scores without
rerunning anything) and the instructor's scores for written answers.

Schema (``PRAGMA application_id`` = `APPLICATION_ID`, ``PRAGMA user_version`` = `SCHEMA_VERSION`):

- ``students(position, student_id PRIMARY KEY, name, email, section, sis_login, canvas_id)``:
  the roster last used, in its order.
- ``results(key PRIMARY KEY, result, graded_at)``: one graded run; ``result`` is a `Grade` as JSON
  without the student's part (student, file, time, lateness, hand scores).
- ``submissions(path PRIMARY KEY, student_id, exercise, solution, key, submitted_at, late_days,
  penalty)``: every file graded (its absolute path) that still exists, with the result it has now
  ('' student: no roster line matched; lateness under the policy of the run that last saw it).
- ``scores(owner, exercise, task, question, score, comment, answer)``, primary key the first four:
  the instructor's scores (NULL: a comment only) of written answers; ``owner`` is the student id
  (the file's path for a submission without one), ``answer`` the text that was scored.
- ``settings(name PRIMARY KEY, value)``: what later runs reuse, e.g. ``policy``, the late policy
  last given, as JSON.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sqlite3
from collections.abc import Iterable
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from .records import CheckResult, Grade, Student, TaskResult, WrittenAnswer

DEFAULT_DB = Path("build/grading/gradebook.sqlite")

APPLICATION_ID = 0x434E4E47  # "CNNG": marks the file as this course's gradebook

SCHEMA_VERSION = 1

CHANGED_NOTE = "answer changed since scored"  # added to the comment; delete it (or re-score) to confirm

SCHEMA = """
CREATE TABLE students (
    position INTEGER NOT NULL, student_id TEXT PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL,
    section TEXT NOT NULL, sis_login TEXT NOT NULL, canvas_id TEXT NOT NULL);
CREATE TABLE results (key TEXT PRIMARY KEY, result TEXT NOT NULL, graded_at TEXT NOT NULL);
CREATE TABLE submissions (
    path TEXT PRIMARY KEY, student_id TEXT NOT NULL, exercise TEXT NOT NULL, solution TEXT NOT NULL,
    key TEXT NOT NULL REFERENCES results(key), submitted_at TEXT NOT NULL,
    late_days REAL NOT NULL DEFAULT 0, penalty REAL NOT NULL DEFAULT 0);
CREATE TABLE scores (
    owner TEXT NOT NULL, exercise TEXT NOT NULL, task TEXT NOT NULL, question TEXT NOT NULL,
    score REAL, comment TEXT NOT NULL, answer TEXT NOT NULL,
    PRIMARY KEY (owner, exercise, task, question));
CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

TABLES = {"students", "results", "submissions", "scores", "settings"}


class GradebookError(Exception):
    """A --db file that is not a gradebook of this course; the message is one line: what and how to fix."""


@dataclasses.dataclass
class Placement:
    """Where a graded result belongs: one submitted file, its student, exercise and lateness."""

    path: str
    key: str
    exercise: str  # the exercise id ('' when no solution matched)
    solution: str = ""  # the solution's file name (orders the exercises as the lessons do)
    student_id: str = ""
    submitted_at: str = ""  # ISO 8601
    late_days: float = 0.0
    penalty: float = 0.0


@dataclasses.dataclass
class Score:
    """An instructor's score of one written answer (see the ``scores`` table)."""

    owner: str
    exercise: str
    task: str
    question: str
    score: float | None  # None: a comment without a score yet
    comment: str = ""
    answer: str = ""  # the text that was scored


def result_key(submission: bytes, solution: str, checks: dict[str, bytes], course: str, timeout: int, sandbox) -> str:
    """The sha256 of everything a submission's grading depends on (see the module docstring)."""
    digest = hashlib.sha256()
    parts = [submission, solution.encode(), course.encode(), str(timeout).encode(), repr(sandbox).encode()]
    parts += [key.encode() + b"\0" + text for key, text in sorted(checks.items())]
    for part in parts:  # each part hashed on its own: no two different splits give one key
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()


# Modules of the grading package that never change a submission's result: editing them regrades nothing.
# A module missing here is hashed: a new module costs a regrade at worst, never a stale grade.
NOT_IN_RESULTS = {"export.py", "feedback.py", "records.py", "roster.py", "sheets.py", "similarity.py", "store.py"}


def course_hash() -> str:
    """The course package as grading sees it: course_utils (`provenance.course_utils_hash`) and the
    grader's own source (but `NOT_IN_RESULTS`)."""
    from ..provenance import course_utils_hash

    digest = hashlib.sha256(course_utils_hash().encode())
    for path in sorted(Path(__file__).parent.glob("*.py")):
        if path.name not in NOT_IN_RESULTS:
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _build(cls, data: dict):
    """A dataclass from its JSON dict, leaving out fields an older or newer record does not share."""
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{key: value for key, value in data.items() if key in names})


def grade_from_json(text: str) -> Grade:
    data = json.loads(text)
    tasks = []
    for task in data.get("tasks", []):
        task["checks"] = [_build(CheckResult, check) for check in task.get("checks", [])]
        tasks.append(_build(TaskResult, task))
    data["tasks"], data["written"] = tasks, [_build(WrittenAnswer, w) for w in data.get("written", [])]
    return _build(Grade, data)


def grade_to_json(grade: Grade) -> str:
    return json.dumps(dataclasses.asdict(grade), ensure_ascii=False)


def same_answer(one: str, other: str) -> bool:
    """The same written answer, however a spreadsheet re-wrapped its lines or spaces."""
    return one.split() == other.split()


def without_note(comment: str) -> str:
    """The instructor's comment without the grader's `CHANGED_NOTE`."""
    parts = [part.strip() for part in comment.split(";")]
    return "; ".join(part for part in parts if part and part != CHANGED_NOTE)


class Gradebook:
    """The SQLite gradebook at ``path`` (opened, or created with its folder); a context manager.

    A file that is no gradebook of ours (not SQLite, another program's database, a newer schema)
    raises `GradebookError` and is left as it was.
    """

    def __init__(self, path: Path | str = DEFAULT_DB):
        self.path = Path(path)
        if self.path.is_dir():
            raise GradebookError(f"--db {self.path} is a folder; give the gradebook's file, e.g. {DEFAULT_DB}")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: no implicit transactions; `_transaction` opens each one itself
        self._db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        try:
            self._open()
        except sqlite3.DatabaseError as err:
            self._db.close()
            raise GradebookError(
                f"--db {self.path} is not a gradebook (SQLite: {err}); move it away or give another --db"
            ) from None
        except GradebookError:
            self._db.close()
            raise

    def _open(self) -> None:
        app = self._db.execute("PRAGMA application_id").fetchone()[0]  # reading only: garbage fails here
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        tables = {row[0] for row in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if app == 0 and version == 0 and not tables:  # a new (or empty) file
            with self._transaction():
                self._db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                for statement in SCHEMA.split(";"):
                    if statement.strip():
                        self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            return
        if app != APPLICATION_ID or not TABLES <= tables:
            raise GradebookError(
                f"--db {self.path} is another program's SQLite database, not a course gradebook; give another --db"
            )
        if version > SCHEMA_VERSION:
            raise GradebookError(
                f"--db {self.path} was written by a newer course (gradebook schema {version}, this one reads "
                f"{SCHEMA_VERSION}); upgrade the course (pip install -e .)"
            )

    def __enter__(self) -> Gradebook:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _transaction(self):
        """One transaction: all of it is saved, or (on an exception, or a killed process) none of it."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _rows(self, query: str, parameters=()) -> list[tuple]:
        try:
            return self._db.execute(query, parameters).fetchall()
        except sqlite3.DatabaseError as err:  # a file damaged after it was opened
            raise GradebookError(f"--db {self.path} cannot be read (SQLite: {err}); restore it from a copy") from None

    # --- reading ------------------------------------------------------------------------------

    def students(self) -> list[Student]:
        """The roster last used (empty: none was given)."""
        columns = "student_id, name, email, section, sis_login, canvas_id"
        return [Student(*row) for row in self._rows(f"SELECT {columns} FROM students ORDER BY position")]

    def setting(self, name: str) -> str | None:
        found = self._rows("SELECT value FROM settings WHERE name = ?", (name,))
        return found[0][0] if found else None

    def set_setting(self, name: str, value: str) -> None:
        with self._transaction():
            self._db.execute("INSERT OR REPLACE INTO settings VALUES (?, ?)", (name, value))

    def known(self, keys: Iterable[str]) -> set[str]:
        """Those of ``keys`` that have a recorded result."""
        keys = list(keys)
        found = set()
        for start in range(0, len(keys), 500):  # SQLite's limit on a query's parameters
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            found |= {row[0] for row in self._rows(f"SELECT key FROM results WHERE key IN ({marks})", chunk)}
        return found

    def scores(self) -> dict[tuple[str, str, str, str], Score]:
        """The instructor's scores by (owner, exercise, task, question)."""
        rows = self._rows("SELECT owner, exercise, task, question, score, comment, answer FROM scores")
        return {tuple(row[:4]): Score(*row) for row in rows}

    def grades(self) -> list[Grade]:
        """The current grade of every student and exercise (see the module docstring).

        With a roster: one per student and exercise graded so far (the latest submission when a
        student handed in two), ``missing`` for a student with nothing submitted, then the
        submissions no roster line matched (student ''); without one: one per submission.
        Hand scores and the late penalty are applied.
        """
        rows = self._rows(
            "SELECT s.path, s.student_id, s.exercise, s.solution, s.submitted_at, s.late_days, s.penalty, r.result "
            "FROM submissions s JOIN results r ON r.key = s.key ORDER BY s.path"
        )
        chosen, order = {}, {}  # (student or path, exercise) -> (submitted_at, Grade)
        for path, student_id, exercise, solution, submitted_at, late_days, penalty, result in rows:
            grade = grade_from_json(result)
            grade.exercise, grade.student_id, grade.submission = exercise, student_id, path
            grade.submitted_at, grade.late_days, grade.penalty = submitted_at, late_days, penalty
            owner = (student_id or path, exercise)
            if owner not in chosen or chosen[owner][0] <= submitted_at:
                chosen[owner] = (submitted_at, grade)
            order[exercise] = min(order.get(exercise, solution), solution)
        grades = [grade for _, grade in chosen.values()]
        self._apply_scores(grades)
        roster = self.students()
        if roster:
            grades += self._missing(roster, {(g.student_id, g.exercise) for g in grades}, grades, order)
        position = {student.student_id: number for number, student in enumerate(roster)}
        unknown = len(position)

        def place(grade: Grade):
            who = position.get(grade.student_id, unknown + (not grade.student_id))
            return (who, grade.student_id, order.get(grade.exercise, ""), grade.exercise, grade.submission)

        return sorted(grades, key=place)

    def _apply_scores(self, grades: list[Grade]) -> None:
        scores = self.scores()
        for grade in grades:
            for answer in grade.written:
                owner = grade.student_id or grade.submission
                found = scores.get((owner, grade.exercise, str(answer.task), answer.question))
                if found is None:
                    continue
                answer.score, answer.comment = found.score, found.comment
                if found.score is not None and not same_answer(found.answer, answer.answer):
                    answer.comment = "; ".join(filter(None, [found.comment, CHANGED_NOTE]))

    @staticmethod
    def _missing(roster: list[Student], have: set, grades: list[Grade], order: dict) -> list[Grade]:
        """A ``missing`` grade (0 points, the exercise's tasks to earn) for each student without a
        submission of an exercise graded so far."""
        templates = {}
        for grade in sorted(grades, key=lambda g: g.status != "ok"):  # an ok run lists every task
            if grade.exercise and grade.tasks:
                templates.setdefault(grade.exercise, grade)
        missing = []
        for exercise in sorted(e for e in order if e):
            template = templates.get(exercise)
            for student in roster:
                if (student.student_id, exercise) in have:
                    continue
                tasks = [
                    TaskResult(task=t.task, passed=False, points=0.0, max_points=t.max_points, hint="nothing submitted")
                    for t in (template.tasks if template else [])
                ]
                written = [
                    WrittenAnswer(w.task, w.question, answer="", placeholder=True, max_points=w.max_points)
                    for w in (template.written if template else [])
                ]
                missing.append(
                    Grade(
                        exercise=exercise,
                        student_id=student.student_id,
                        status="missing",
                        tasks=tasks,
                        written=written,
                        feedback=["nothing submitted"],
                    )
                )
        return missing

    # --- writing (course grade) ---------------------------------------------------------------

    def set_roster(self, students: list[Student]) -> None:
        """Replace the roster (the one `students` returns from now on)."""
        with self._transaction():
            self._db.execute("DELETE FROM students")
            self._db.executemany(
                "INSERT INTO students VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (n, s.student_id, s.name, s.email, s.section, s.sis_login, s.canvas_id)
                    for n, s in enumerate(students)
                ],
            )

    def record(self, key: str, result: Grade | None, placements: list[Placement]) -> None:
        """Save a graded result (None: only place already recorded ones) and the files it belongs to,
        in one transaction. A file already placed under a student stays theirs when ``placements``
        name no student for it."""
        with self._transaction():
            if result is not None:
                self._db.execute(
                    "INSERT OR REPLACE INTO results VALUES (?, ?, ?)",
                    (key, grade_to_json(result), datetime.now(UTC).isoformat(timespec="seconds")),
                )
            # a file this run matched to no one keeps the student an earlier run found for it
            # (a folder given alone names no student: `course grade submissions/s1002`)
            self._db.executemany(
                "INSERT INTO submissions VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (path) DO UPDATE SET "
                "student_id = CASE excluded.student_id WHEN '' THEN student_id ELSE excluded.student_id END, "
                "exercise = excluded.exercise, solution = excluded.solution, key = excluded.key, "
                "submitted_at = excluded.submitted_at, late_days = excluded.late_days, penalty = excluded.penalty",
                [
                    (p.path, p.student_id, p.exercise, p.solution, p.key, p.submitted_at, p.late_days, p.penalty)
                    for p in placements
                ],
            )

    def submitted_times(self) -> dict[str, str]:
        """{path: submitted_at} of every file placed."""
        return dict(self._rows("SELECT path, submitted_at FROM submissions"))

    def forget_absent(self) -> int:
        """Drop the files that are gone from disk (deleted, moved): the gradebook lists what exists.
        Their results stay recorded: a file put back (or moved) is served from the store."""
        gone = [(row[0],) for row in self._rows("SELECT path FROM submissions") if not Path(row[0]).is_file()]
        with self._transaction():
            self._db.executemany("DELETE FROM submissions WHERE path = ?", gone)
        return len(gone)

    def save_scores(self, scores: list[Score]) -> None:
        with self._transaction():
            self._db.executemany(
                "INSERT OR REPLACE INTO scores VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(s.owner, s.exercise, s.task, s.question, s.score, without_note(s.comment), s.answer) for s in scores],
            )
