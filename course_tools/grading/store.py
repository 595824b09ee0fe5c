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
  penalty, sha256)``: every file graded (its absolute path), with the result it has now ('' student:
  no roster line matched; lateness under the policy of the run that last saw it; ``sha256`` of the
  bytes graded, '' for a file placed by schema 1). A file is dropped only when a run grading its
  folder finds it gone (`forget_absent`): an unmounted drive never turns a grade into ``missing``.
- ``scores(owner, exercise, task, question, score, comment, answer)``, primary key the first four:
  the instructor's scores (NULL: a comment only) of written answers; ``owner`` is the student id
  (the file's path for a submission without one), ``answer`` the text that was scored.
- ``settings(name PRIMARY KEY, value)``: what later runs reuse, e.g. ``policy``, the late policy
  last given, as JSON.

Opening runs ``PRAGMA quick_check``: a damaged file is refused (`GradebookError`), and so is any
SQLite error while reading or writing later. `Gradebook.backup` copies the store to
``gradebook.sqlite.bak`` beside it (``course grade`` does before it changes anything): restore a
damaged store by copying that file back.
"""

from __future__ import annotations

import ast
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

SCHEMA_VERSION = 2  # 2: submissions.sha256

CHANGED_NOTE = "answer changed since scored"  # added to the comment; delete it (or re-score) to confirm

SCHEMA = """
CREATE TABLE students (
    position INTEGER NOT NULL, student_id TEXT PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL,
    section TEXT NOT NULL, sis_login TEXT NOT NULL, canvas_id TEXT NOT NULL);
CREATE TABLE results (key TEXT PRIMARY KEY, result TEXT NOT NULL, graded_at TEXT NOT NULL);
CREATE TABLE submissions (
    path TEXT PRIMARY KEY, student_id TEXT NOT NULL, exercise TEXT NOT NULL, solution TEXT NOT NULL,
    key TEXT NOT NULL REFERENCES results(key), submitted_at TEXT NOT NULL,
    late_days REAL NOT NULL DEFAULT 0, penalty REAL NOT NULL DEFAULT 0, sha256 TEXT NOT NULL DEFAULT '');
CREATE TABLE scores (
    owner TEXT NOT NULL, exercise TEXT NOT NULL, task TEXT NOT NULL, question TEXT NOT NULL,
    score REAL, comment TEXT NOT NULL, answer TEXT NOT NULL,
    PRIMARY KEY (owner, exercise, task, question));
CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

TABLES = {"students", "results", "submissions", "scores", "settings"}

UNFINISHED = "-unfinished"  # a key's suffix for a run that gave no result (a grader error): graded again next run


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
    sha256: str = ""  # of the bytes graded: a file rewritten in place is a new submission (`Gradebook.placed`)


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


COURSE_TOOLS = Path(__file__).resolve().parents[1]

# Where grading a submission starts: `submission.grade_one`, and `dask_run.grade_on_worker` around it.
RESULT_ROOTS = ("grading/submission.py", "grading/dask_run.py")

# course_tools modules that never change a submission's result (they choose what to grade, print,
# or write the gradebook): editing them regrades nothing, and their imports are not followed.
# Every other module grading imports is hashed: a new one costs a regrade at worst, never a stale grade.
NOT_IN_RESULTS = {
    f"grading/{name}.py"
    for name in ("__init__", "command", "export", "feedback", "records", "roster", "sheets", "similarity", "store")
}


def _imported(path: Path) -> set[str]:
    """The course_tools modules (and names) a module's source imports, anywhere in it: an import
    inside a function (as `grade_on_worker` does) counts too."""
    package = ["course_tools", *path.relative_to(COURSE_TOOLS).parent.parts]
    names = set()
    for node in ast.walk(ast.parse(path.read_bytes())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: level 1 is the module's own package
                base = ".".join(package[: len(package) - node.level + 1] + ([node.module] if node.module else []))
            names |= {base} | {f"{base}.{alias.name}" for alias in node.names}
    return {name for name in names if name.split(".")[0] == "course_tools"}


def _module_file(name: str) -> Path | None:
    relative = COURSE_TOOLS.joinpath(*name.split(".")[1:])
    for candidate in (relative.with_name(relative.name + ".py"), relative / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None  # a name imported from a module, not a module


def result_modules() -> list[Path]:
    """The course_tools source files a submission's result depends on: those `RESULT_ROOTS` import,
    at any depth, but `NOT_IN_RESULTS`. Read from the files, not from ``sys.modules``: every
    process computes the same list."""
    todo, found = [COURSE_TOOLS / root for root in RESULT_ROOTS], set()
    while todo:
        path = todo.pop()
        if path in found or path.relative_to(COURSE_TOOLS).as_posix() in NOT_IN_RESULTS:
            continue
        found.add(path)
        todo += [module for name in _imported(path) if (module := _module_file(name))]
    return sorted(found)


def course_hash() -> str:
    """The course package as grading sees it: course_utils (`provenance.course_utils_hash`) and the
    course_tools modules grading runs (`result_modules`)."""
    from ..provenance import course_utils_hash

    digest = hashlib.sha256(course_utils_hash().encode())
    for path in result_modules():
        digest.update(path.relative_to(COURSE_TOOLS).as_posix().encode() + b"\0" + path.read_bytes())
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


def moment(text: str) -> datetime:
    """An ISO 8601 time as an aware datetime, to compare times written with different offsets
    (``+02:00`` and UTC); a naive one is this machine's local time, '' the earliest of all."""
    if not text:
        return datetime.min.replace(tzinfo=UTC)
    when = datetime.fromisoformat(text)
    return when if when.tzinfo else when.astimezone()


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
                f"--db {self.path} is not a gradebook, or a damaged one (SQLite: {err}); restore it from "
                f"{self.backup_path} if it was one, else move it away or give another --db"
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
        try:
            problems = [row[0] for row in self._db.execute("PRAGMA quick_check").fetchall()]
        except sqlite3.DatabaseError as err:  # damaged beyond what quick_check reports
            problems = [str(err)]
        if problems != ["ok"]:
            raise GradebookError(
                f"--db {self.path} is damaged (SQLite: {problems[0]}); restore it from {self.backup_path} "
                "or another copy"
            )
        if version < 2:  # schema 1 had no sha256 of the bytes placed
            with self._transaction():
                self._db.execute("ALTER TABLE submissions ADD COLUMN sha256 TEXT NOT NULL DEFAULT ''")
                self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def __enter__(self) -> Gradebook:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    @property
    def backup_path(self) -> Path:
        return self.path.with_name(self.path.name + ".bak")

    def backup(self) -> Path:
        """Copy the store to `backup_path` (SQLite's online backup: a consistent copy); the copy."""
        target = sqlite3.connect(self.backup_path)
        try:
            with self._checked("backed up"):
                self._db.backup(target)
        finally:
            target.close()
        return self.backup_path

    @contextmanager
    def _checked(self, doing: str):
        """A SQLite error (a file damaged after it was opened, a full disk) as one `GradebookError` line."""
        try:
            yield
        except sqlite3.DatabaseError as err:
            raise GradebookError(
                f"--db {self.path} cannot be {doing} (SQLite: {err}); restore it from {self.backup_path} "
                "or another copy"
            ) from None

    @contextmanager
    def _transaction(self):
        """One transaction: all of it is saved, or (on an exception, or a killed process) none of it."""
        with self._checked("written"):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                if self._db.in_transaction:  # SQLite rolls back by itself after some errors
                    self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _rows(self, query: str, parameters=()) -> list[tuple]:
        with self._checked("read"):
            return self._db.execute(query, parameters).fetchall()

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
            if owner not in chosen or chosen[owner][0] <= moment(submitted_at):
                chosen[owner] = (moment(submitted_at), grade)
            order[exercise] = min(order.get(exercise, solution), solution)
        grades = [grade for _, grade in chosen.values()]
        self._apply_scores(grades)
        templates = self._templates(grades)
        for grade in grades:  # a file that never ran (empty, not a notebook) still had the exercise's points to earn
            if not grade.tasks and grade.exercise in templates:
                reason = grade.feedback[0] if grade.feedback else grade.status
                grade.tasks, written = self._nothing_earned(templates[grade.exercise], reason)
                grade.written = grade.written or written
        roster = self.students()
        if roster:
            grades += self._missing(roster, {(g.student_id, g.exercise) for g in grades}, templates, order)
        position = {student.student_id: number for number, student in enumerate(roster)}
        unknown = len(position)

        def place(grade: Grade):
            who = position.get(grade.student_id, unknown + (not grade.student_id))
            return (who, grade.student_id, order.get(grade.exercise, ""), grade.exercise, grade.submission)

        return sorted(grades, key=place)

    def unapplied_scores(self, grades: list[Grade]) -> list[Score]:
        """The recorded scores (and comments) of answers none of ``grades`` has: kept, but counted
        nowhere (the student's id changed, their file is gone); `course grade` lists them."""
        answers = {
            (grade.student_id or grade.submission, grade.exercise, str(answer.task), answer.question)
            for grade in grades
            for answer in grade.written
        }
        return [score for key, score in sorted(self.scores().items()) if key not in answers]

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
    def _templates(grades: list[Grade]) -> dict[str, Grade]:
        """{exercise: a graded run that lists its tasks and written answers} (an ok run lists every task)."""
        templates = {}
        for grade in sorted(grades, key=lambda g: g.status != "ok"):
            if grade.exercise and grade.tasks:
                templates.setdefault(grade.exercise, grade)
        return templates

    @staticmethod
    def _nothing_earned(template: Grade, hint: str) -> tuple[list[TaskResult], list[WrittenAnswer]]:
        """The template's tasks and written answers at 0 points, with ``hint``: the maximum stays the exercise's."""
        tasks = [
            TaskResult(task=t.task, passed=False, points=0.0, max_points=t.max_points, hint=hint)
            for t in template.tasks
        ]
        written = [
            WrittenAnswer(w.task, w.question, answer="", placeholder=True, max_points=w.max_points)
            for w in template.written
        ]
        return tasks, written

    @classmethod
    def _missing(cls, roster: list[Student], have: set, templates: dict, order: dict) -> list[Grade]:
        """A ``missing`` grade (0 points, the exercise's tasks to earn) for each student without a
        submission of an exercise graded so far."""
        missing = []
        for exercise in sorted(e for e in order if e):
            template = templates.get(exercise)
            for student in roster:
                if (student.student_id, exercise) in have:
                    continue
                tasks, written = cls._nothing_earned(template, "nothing submitted") if template else ([], [])
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
        name no student for it; a file placed under no student before, and under one now, brings
        along the hand scores given to it (their owner was its path)."""
        with self._transaction():
            if result is not None:
                self._db.execute(
                    "INSERT OR REPLACE INTO results VALUES (?, ?, ?)",
                    (key, grade_to_json(result), datetime.now(UTC).isoformat(timespec="seconds")),
                )
            # a file this run matched to no one keeps the student an earlier run found for it
            # (a folder given alone names no student: `course grade submissions/s1002`)
            self._db.executemany(
                "INSERT INTO submissions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (path) DO UPDATE SET "
                "student_id = CASE excluded.student_id WHEN '' THEN student_id ELSE excluded.student_id END, "
                "exercise = excluded.exercise, solution = excluded.solution, key = excluded.key, "
                "submitted_at = excluded.submitted_at, late_days = excluded.late_days, penalty = excluded.penalty, "
                "sha256 = excluded.sha256",
                [
                    (p.path, p.student_id, p.exercise, p.solution, p.key, p.submitted_at, p.late_days, p.penalty)
                    + (p.sha256,)
                    for p in placements
                ],
            )
            # OR IGNORE: a score the student already has under their id wins over the path's
            self._db.executemany(
                "UPDATE OR IGNORE scores SET owner = ? WHERE owner = ?",
                [(p.student_id, p.path) for p in placements if p.student_id],
            )

    def submitted_times(self) -> dict[str, str]:
        """{path: submitted_at} of every file placed."""
        return dict(self._rows("SELECT path, submitted_at FROM submissions"))

    def placed(self) -> dict[str, tuple[str, str]]:
        """{path: (sha256 of the bytes placed, submitted_at)} of every file placed ('' sha256: schema 1)."""
        rows = self._rows("SELECT path, sha256, submitted_at FROM submissions")
        return {path: (sha256, when) for path, sha256, when in rows}

    def absent(self) -> list[str]:
        """The files placed that are not on disk now (deleted, moved, or on a drive not mounted)."""
        paths = [row[0] for row in self._rows("SELECT path FROM submissions ORDER BY path")]
        return [path for path in paths if not Path(path).is_file()]

    def forget_absent(self, folders: Iterable[Path | str]) -> list[str]:
        """Drop the files gone from disk that were under ``folders`` (this run's, searched and found
        without them): the gradebook lists what they hold. A file elsewhere that is not on disk
        keeps its grade (`absent` lists it). The results stay recorded: a file put back is served
        from the store. Returns the paths dropped."""
        folders = [Path(folder).absolute() for folder in folders if Path(folder).is_dir()]
        gone = [path for path in self.absent() if any(Path(path).is_relative_to(f) for f in folders)]
        with self._transaction():
            self._db.executemany("DELETE FROM submissions WHERE path = ?", [(path,) for path in gone])
        return gone

    def save_scores(self, scores: list[Score]) -> None:
        with self._transaction():
            self._db.executemany(
                "INSERT OR REPLACE INTO scores VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(s.owner, s.exercise, s.task, s.question, s.score, without_note(s.comment), s.answer) for s in scores],
            )
