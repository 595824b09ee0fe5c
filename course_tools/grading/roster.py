"""Who submitted what, and when: the roster, the collection of submissions, deadlines and the late policy.

``course grade SUBMISSIONS --roster roster.csv [--policy grading.toml] [--deadline WHEN]`` uses
this module; it runs no student code and needs no kernel.

The roster (``read_roster``) is a CSV file, UTF-8 (a byte-order mark is fine, as Excel writes),
one student a line, with a header naming the columns in any order::

    student_id,name,email,section,sis_login,canvas_id
    s1001,Ada Quill,ada.quill@example.edu,A,aquill,40001
    s1002,Ben Marsh,ben.marsh@example.edu,B,bmarsh,40002

``student_id``, ``name``, ``email`` and ``section`` are required (a value may be empty but the
student id); ``sis_login`` and ``canvas_id`` (Canvas's numeric user id) are optional. Headers are
read case-insensitively with common aliases ("ID", "Student ID", "SIS User ID" for the student
id; "Student" or "Full name" for the name; "E-mail"; "Login"...). A Canvas gradebook export
(Grades > Export) is a roster too: its columns Student, ID (Canvas's user id), SIS User ID (the
student id; where it is empty, the Canvas ID stands in), SIS Login ID and Section are read, its
"Points Possible" row and Canvas's "Test Student" skipped. Two students with the same id,
e-mail, login or Canvas id are an error.

The collection (``collect``): the files given, and every ``*.ipynb`` under the folders given,
searched recursively (hidden folders and ``.ipynb_checkpoints`` skipped). With a roster, a file
belongs to the student whom the first of these that names anyone names:

1. a folder: the given folder itself or a folder on the file's path below it, the outermost
   that names anyone: the student id, the login, the e-mail or the e-mail's part before the @
   (``submissions/s1001/ablations.ipynb``, ``week1/ada.quill@example.edu/ablations.ipynb``);
2. Canvas's "Download Submissions" file name: ``{lastfirst}[_LATE]_{canvas user id}_{file
   id}_{the student's file name}`` (``quillada_LATE_40001_7730021_ablations.ipynb``), matched by
   the Canvas user id when the roster has Canvas ids (a gradebook export does), else by the
   name: lowercase, letters and digits only, last name first or first name first;
3. the start of the file name: the student id, the login or the e-mail's part before the @,
   followed by ``_`` or ``-`` (``s1001_ablations.ipynb``, ``aquill-ablations.ipynb``).

File names (2 and 3) count only for a file given, or lying directly in a folder given: there a
collector (Canvas, a script) chose the name. Deeper down the names, and the folders below the
outermost one that names a student, are the students' own: a file ``s1002_x.ipynb`` (or a
folder ``s1002/``) inside ``s1001/`` is s1001's, and in a layout whose folders name no one
(Moodle's ``Full Name_123_assignsubmission_file_/``) a file named after another student matches
no one rather than that student. So give the folder that holds Canvas's files itself (``course
grade downloads/ablations``, or ``downloads/*/``), not a folder above it. The outermost folder
is trusted, so where the collector's folders name no one, a student who hands in a folder
named after another student is not caught: have such a collector name its folders by student
id, or rename them.

Case never matters. A file that the deciding rule matches to two students (a folder ``ben``
that is one student's login and another's e-mail name; two students of the same name in
Canvas's file names) is an error that stops the run before anything is graded (``course
grade`` exits 2 and records nothing): the roster, not a student, makes it, and grading on
would grade one of the two students' work under the wrong name or not at all. The error names
the file, both students and the key; fix the roster or rename the folder, then grade again.
A file matching no one is listed as unmatched: ``course grade`` grades it under no student
and lists it after every run (a roster line added later claims it), ``course similarity``
compares it named by its path. Every student's files are ordered by submission time, the
latest last.

When was it submitted: a ``manifest.csv`` in a given folder (or a manifest given explicitly,
which wins) with columns ``file,submitted_at`` says so: ``file`` relative to the manifest's
folder, ``submitted_at`` ISO 8601 (``2026-10-01T23:12:05+02:00``; without a zone, local time).
A file it does not list has its modification time: a collector that copies or unzips files
should write the manifest, since copying changes the time.

The late policy (``read_policy``) is one TOML file, every key optional::

    [late]
    deadline = "2026-10-01T23:59:00+02:00"   # every exercise's, unless [deadlines] names it
    penalty_per_day = 0.10                   # fraction of the points per day started
    cutoff_days = 3                          # later than this: no points (omit: no cut-off)
    grace_minutes = 15                       # the deadline, in effect, is this much later

    [deadlines]                              # per exercise id
    ablations = "2026-10-08T23:59:00+02:00"

``--deadline`` replaces ``[late].deadline``. Times are ISO 8601; one without a time zone is in
this machine's local time zone; a date alone (``2026-10-01``) means 23:59:59 that day. A
submission up to ``grace_minutes`` after its deadline is on time; later, its late days count
from the deadline plus the grace, and every day started costs ``penalty_per_day`` of its points
(1 minute late = 1 day = 10 %, 24 h 1 min = 2 days = 20 %), never more than all of them; past
``cutoff_days`` it gets no points. A misspelled key, a negative penalty or a time that does not
parse is an error: a policy that is silently ignored would grade everyone on time.

Every bad input raises ``RosterError``, a one-line message naming the file, the line and the
value, and what to do; nothing is written here.
"""

from __future__ import annotations

import csv
import math
import os
import re
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from .records import Student

MANIFEST_NAME = "manifest.csv"


class RosterError(ValueError):
    """A roster, manifest, submission folder or late policy that cannot be used, in one line."""


# ---------------------------------------------------------------------------------------------
# The roster

# Normalized header (lowercase, words separated by one space) -> the Student field it fills.
COLUMN_ALIASES = {
    "student_id": ("student id", "id", "sis user id", "sis id", "student number", "matriculation number"),
    "name": ("name", "student", "student name", "full name"),
    "email": ("email", "e mail", "email address", "e mail address", "mail"),
    "section": ("section", "sections", "group"),
    "sis_login": ("sis login", "sis login id", "login", "login id", "username", "user name"),
    "canvas_id": ("canvas id", "canvas user id"),
}
REQUIRED_COLUMNS = ("student_id", "name", "email", "section")
CANVAS_COLUMNS = {"student": "name", "id": "canvas_id", "sis user id": "student_id", "sis login id": "sis_login"}
CANVAS_NOT_STUDENTS = {"points possible", "student, test", "test student"}
UNIQUE_FIELDS = ("student_id", "email", "sis_login", "canvas_id")


def _header_key(text: str) -> str:
    return " ".join(re.sub(r"[_\-.]", " ", text).lower().split())


def _is_canvas_export(headers: list[str]) -> bool:
    return {"student", "id", "sis user id"} <= set(headers)


def _columns(headers: list[str], where: str) -> dict[str, int]:
    """{Student field: column index} for a header row, or RosterError for a missing or doubled column."""
    aliases = {alias: name for name, names in COLUMN_ALIASES.items() for alias in (name.replace("_", " "), *names)}
    if _is_canvas_export(headers):
        aliases |= CANVAS_COLUMNS
    columns: dict[str, int] = {}
    for index, header in enumerate(headers):
        name = aliases.get(header)
        if name is None:
            continue
        if name in columns:
            raise RosterError(
                f"{where}: columns {columns[name] + 1} and {index + 1} are both {name!r}; rename or delete one of them"
            )
        columns[name] = index
    required = ("student_id", "name") if _is_canvas_export(headers) else REQUIRED_COLUMNS
    missing = [name for name in required if name not in columns]
    if missing:
        raise RosterError(
            f"{where}: missing column {', '.join(missing)}; the header must name "
            f"{','.join(REQUIRED_COLUMNS)} (optional: sis_login,canvas_id), or be a Canvas gradebook export"
        )
    return columns


def _read_rows(path: Path, what: str) -> list[tuple[int, list[str]]]:
    """(line number, cells) for every line of a CSV file; the header is the first."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise RosterError(f"{what} {path}: no such file; give the path of the CSV file") from None
    except IsADirectoryError:
        raise RosterError(f"{what} {path} is a folder; give the path of the CSV file") from None
    except UnicodeDecodeError as error:
        raise RosterError(
            f"{what} {path}: not UTF-8 (byte {error.start}); save it as 'CSV UTF-8' and try again"
        ) from None
    first_line = text.split("\n", 1)[0]
    # a spreadsheet in a comma-decimal locale writes ';' between cells
    delimiter = max(",;\t", key=first_line.count)
    reader = csv.reader(text.splitlines(keepends=True), delimiter=delimiter)
    rows, start = [], 1
    try:
        for cells in reader:
            rows.append((start, cells))
            start = reader.line_num + 1
    except csv.Error as error:
        raise RosterError(f"{what} {path}, line {start}: {error}; check its quotes") from None
    return rows


def read_roster(path) -> list[Student]:
    """The students of a roster CSV file (or a Canvas gradebook export), in the file's order."""
    path = Path(path)
    rows = [(number, cells) for number, cells in _read_rows(path, "roster") if any(c.strip() for c in cells)]
    if not rows:
        raise RosterError(f"roster {path} is empty; its first line must be the header {','.join(REQUIRED_COLUMNS)}")
    header_line, header = rows[0]
    headers = [_header_key(cell) for cell in header]
    columns = _columns(headers, f"roster {path}, line {header_line}")
    canvas = _is_canvas_export(headers)
    students, lines = [], []
    for number, cells in rows[1:]:
        values = {name: cells[index].strip() if index < len(cells) else "" for name, index in columns.items()}
        if canvas and (values["name"].lower() in CANVAS_NOT_STUDENTS or not values["name"]):
            continue
        if canvas and not values["student_id"]:
            values["student_id"] = values.get("canvas_id", "")  # a school without SIS ids: Canvas's own
        if not values["student_id"]:
            raise RosterError(
                f"roster {path}, line {number}: {values['name'] or 'this student'} has no student id; "
                "fill it in or delete the line"
            )
        if canvas and not values.get("email") and "@" in values.get("sis_login", ""):
            values["email"] = values["sis_login"]
        students.append(Student(**values))
        lines.append(number)
    _check_unique(students, lines, path)
    return students


def _check_unique(students: list[Student], lines: list[int], path: Path) -> None:
    for name in UNIQUE_FIELDS:
        first_line: dict[str, int] = {}
        for student, number in zip(students, lines, strict=True):
            value = getattr(student, name).casefold()
            if not value:
                continue
            if value in first_line:
                raise RosterError(
                    f"roster {path}: lines {first_line[value]} and {number} have the same {name} "
                    f"{getattr(student, name)!r}; each student needs their own, so fix or delete one"
                )
            first_line[value] = number


# ---------------------------------------------------------------------------------------------
# Collecting submissions


@dataclass
class Submission:
    """One submitted file: whose (``student_id`` '' when no roster line matched, or without a roster)
    and when (time-zone aware). Submissions sort by time, the latest last."""

    path: Path
    student_id: str
    submitted_at: datetime
    time_source: str = "mtime"  # "manifest" when a manifest gave the time, else the file's modification time

    def __lt__(self, other: Submission) -> bool:
        return (self.submitted_at, str(self.path)) < (other.submitted_at, str(other.path))


@dataclass
class Collection:
    """What ``collect`` found: the submissions, ordered by student then time (the latest last),
    and the files no roster line matched (always empty without a roster)."""

    submissions: list[Submission]
    unmatched: list[Path] = field(default_factory=list)

    def by_student(self) -> dict[str, list[Submission]]:
        """{student id: their submissions, the latest last}."""
        grouped: dict[str, list[Submission]] = {}
        for submission in self.submissions:
            grouped.setdefault(submission.student_id, []).append(submission)
        return grouped

    def missing(self, students: list[Student]) -> list[Student]:
        """The students with nothing submitted."""
        submitted = {submission.student_id for submission in self.submissions}
        return [student for student in students if student.student_id not in submitted]


# lastfirst[_LATE]_canvasuserid_fileid_originalname: Canvas's "Download Submissions" zip
CANVAS_FILE_NAME = re.compile(r"^(?P<name>[^_]+?)(?:_late)?_(?P<user_id>\d+)_(?P<file_id>\d+)_(?P<original>.+)$", re.I)


def name_keys(name: str) -> set[str]:
    """The ways Canvas may write a student's name into a file name: lowercase letters and digits
    only, last name first ("Quill, Ada" or "Ada Quill" -> quillada) or as written (adaquill)."""

    def squash(text: str) -> str:
        return "".join(character for character in text.casefold() if character.isalnum())

    if "," in name:  # "Last, First", Canvas's sortable name
        last, first = name.split(",", 1)
    else:  # Canvas takes the last word for the last name
        *first_words, last = name.split() or [""]
        first = " ".join(first_words)
    return {key for key in (squash(last + first), squash(first + last)) if key}


class _Matcher:
    """Finds whose a file is, by the rules of the module's docstring."""

    def __init__(self, students: list[Student]):
        self.folders: dict[str, set[str]] = {}
        self.prefixes: dict[str, set[str]] = {}
        self.canvas_ids: dict[str, set[str]] = {}
        self.names: dict[str, set[str]] = {}
        for student in students:
            local_part = student.email.split("@", 1)[0]
            for key in (student.student_id, student.sis_login, student.email, local_part):
                self._add(self.folders, key, student.student_id)
            for key in (student.student_id, student.sis_login, local_part):
                self._add(self.prefixes, key, student.student_id)
            if student.canvas_id:
                self._add(self.canvas_ids, student.canvas_id, student.student_id)
            else:  # a student Canvas knows only by name
                for key in name_keys(student.name):
                    self._add(self.names, key, student.student_id)
        self.longest_prefix = max(map(len, self.prefixes), default=0)

    @staticmethod
    def _add(index: dict[str, set[str]], key: str, student_id: str) -> None:
        if key.strip():
            index.setdefault(key.strip().casefold(), set()).add(student_id)

    def students_of(self, folders: tuple[str, ...], file_name: str, names_count: bool = True) -> tuple[set[str], str]:
        """(the students the first rule that names anyone names, what named them); ``folders`` from
        the given folder down, ``names_count``: whether the file name may say whose it is."""
        for folder in folders:  # the outermost first: a student's own folders lie deeper
            found = self.folders.get(folder.casefold())
            if found:
                return set(found), f"folder {folder!r}"  # a copy: the caller may change it
        if not names_count:
            return set(), ""
        canvas = CANVAS_FILE_NAME.match(file_name)
        if canvas:
            found = self.canvas_ids.get(canvas["user_id"], set()) | self.names.get(canvas["name"].casefold(), set())
            if found:
                return found, f"Canvas's name {canvas['name']!r} and user id {canvas['user_id']}"
        lowered, found, keys = file_name.casefold(), set(), []
        for end in (match.start() for match in re.finditer(r"[_-]", lowered[: self.longest_prefix + 1])):
            if lowered[:end] in self.prefixes:
                found |= self.prefixes[lowered[:end]]
                keys.append(repr(file_name[:end]))
        return found, f"file name start {' and '.join(keys)}" if found else ""


def _notebooks_below(folder: Path) -> list[Path]:
    """Every ``*.ipynb`` under ``folder``, hidden folders and ``.ipynb_checkpoints`` left out."""
    found = []
    for root, folders, files in os.walk(folder):
        folders[:] = sorted(name for name in folders if not name.startswith("."))
        found += [Path(root, name) for name in sorted(files) if name.endswith(".ipynb") and not name.startswith(".")]
    return found


def _files(paths) -> list[tuple[Path, tuple[str, ...]]]:
    """(file, the folders that may name its student) for every file found, each once: for a file
    in a folder given, that folder's name then the folders below it; for a file given, none."""
    found, seen = [], set()
    for given in map(Path, paths):
        if given.is_dir():
            entries = [(path, (given.name, *path.relative_to(given).parent.parts)) for path in _notebooks_below(given)]
        elif given.is_file():
            entries = [(given, ())]
        else:
            raise RosterError(f"{given}: no such file or folder; give the submissions' files or folders")
        for path, folders in entries:
            if path.resolve() not in seen:
                seen.add(path.resolve())
                found.append((path, folders))
    return found


def _parse_time(text: str, where: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise RosterError(f"{where}: {text!r} is not an ISO 8601 time; write e.g. 2026-10-01T23:12:05+02:00") from None
    return moment if moment.tzinfo else moment.astimezone()  # naive: this machine's local time


def read_manifest(manifest: Path) -> dict[Path, datetime]:
    """{resolved file: submitted at} from a manifest CSV (columns ``file,submitted_at``)."""
    manifest = Path(manifest)
    rows = [(number, cells) for number, cells in _read_rows(manifest, "manifest") if any(c.strip() for c in cells)]
    if not rows:
        return {}
    headers = [_header_key(cell) for cell in rows[0][1]]
    if "file" not in headers or "submitted at" not in headers:
        raise RosterError(f"manifest {manifest}, line {rows[0][0]}: the header must be file,submitted_at")
    file_column, time_column = headers.index("file"), headers.index("submitted at")
    times: dict[Path, datetime] = {}
    lines: dict[Path, int] = {}
    for number, cells in rows[1:]:
        where = f"manifest {manifest}, line {number}"
        name = cells[file_column].strip() if file_column < len(cells) else ""
        path = (manifest.parent / name).resolve()
        if not name or not path.is_file():
            raise RosterError(f"{where}: no such file {name!r} beside the manifest; fix the name or delete the line")
        if path in times:
            raise RosterError(f"{where}: {name!r} is listed on line {lines[path]} too; keep one of the two lines")
        times[path] = _parse_time(cells[time_column] if time_column < len(cells) else "", where)
        lines[path] = number
    return times


def collect(paths, students: list[Student] | None, manifest: Path | None = None) -> Collection:
    """The submissions in ``paths`` (files, and folders searched recursively), each matched to its
    student when there is a roster; RosterError, naming the first, when files match two students."""
    paths = [Path(path) for path in paths]
    times: dict[Path, datetime] = {}
    for folder in paths:
        if (folder / MANIFEST_NAME).is_file():
            times |= read_manifest(folder / MANIFEST_NAME)
    if manifest is not None:
        times |= read_manifest(Path(manifest))  # the one named on the command line wins
    matcher = _Matcher(students) if students is not None else None
    submissions, unmatched, ambiguous = [], [], []
    for path, folders in _files(paths):
        student_id = ""
        if matcher is not None:
            # a file given, or directly in a folder given (its name, and no folder below it)
            names_count = len(folders) <= 1
            owners, reason = matcher.students_of(folders, path.name, names_count)
            if len(owners) > 1:
                ambiguous.append((path, owners, reason))
                continue
            if not owners:
                unmatched.append(path)
                continue
            student_id = owners.pop()
        submitted_at = times.get(path.resolve())
        source = "manifest"
        if submitted_at is None:
            submitted_at, source = datetime.fromtimestamp(path.stat().st_mtime, UTC), "mtime"
        submissions.append(Submission(path, student_id, submitted_at, source))
    if ambiguous:
        raise RosterError(_ambiguity(ambiguous, students or []))
    submissions.sort(key=lambda submission: (submission.student_id, submission.submitted_at, str(submission.path)))
    return Collection(submissions, unmatched)


def _ambiguity(ambiguous: list[tuple[Path, set[str], str]], students: list[Student]) -> str:
    """The one line that says which file matches which two students, and how many more do."""
    names = {student.student_id: student.name for student in students}
    path, owners, reason = ambiguous[0]
    both = " and ".join(f"{owner} ({names[owner]})" for owner in sorted(owners))
    more = f" ({len(ambiguous) - 1} more files match two students too)" if len(ambiguous) > 1 else ""
    return (
        f"{path} matches students {both} by its {reason}{more}; nothing is graded: fix the roster so "
        "that the key names one student, or rename the file or its folder, then grade again"
    )


# ---------------------------------------------------------------------------------------------
# Deadlines and the late policy

LATE_KEYS = {"deadline", "penalty_per_day", "cutoff_days", "grace_minutes"}
POLICY_TABLES = {"late", "deadlines"}
TIME_EXAMPLE = "2026-10-01T23:59:00+02:00 or 2026-10-01"


@dataclass
class LatePolicy:
    """When each exercise is due and what lateness costs (see the module's docstring)."""

    deadline: datetime | None = None  # every exercise's, unless ``deadlines`` names it; None: never late
    deadlines: dict[str, datetime] = field(default_factory=dict)  # exercise id -> its deadline
    penalty_per_day: float = 0.0  # fraction of the points, per day started
    cutoff_days: float | None = None  # later than this many days: penalty 1.0
    grace_minutes: float = 0.0

    def deadline_for(self, exercise: str) -> datetime | None:
        return self.deadlines.get(exercise, self.deadline)

    def lateness(self, exercise: str, submitted_at: datetime | str) -> tuple[float, float]:
        """(late days, penalty): 0 late days when on time, else the days (fractional) after the
        deadline plus the grace; the penalty is the fraction of the points taken off: every day
        started costs ``penalty_per_day``, at most 1; 1.0 past ``cutoff_days``.
        ``submitted_at`` may be ISO 8601 text (``Grade.submitted_at``); naive is local time."""
        deadline = self.deadline_for(exercise)
        if deadline is None:
            return 0.0, 0.0
        if isinstance(submitted_at, str):
            submitted_at = datetime.fromisoformat(submitted_at)
        if submitted_at.tzinfo is None:
            submitted_at = submitted_at.astimezone()
        late_days = (submitted_at - deadline - timedelta(minutes=self.grace_minutes)) / timedelta(days=1)
        if late_days <= 0:
            return 0.0, 0.0
        if self.cutoff_days is not None and late_days > self.cutoff_days:
            return late_days, 1.0
        return late_days, round(min(1.0, math.ceil(late_days) * self.penalty_per_day), 6)

    def summary(self) -> str:
        """The policy in one line, for the grader to print."""
        if self.deadline is None and not self.deadlines:
            return "no deadline: every submission is on time"
        due = [f"due {self.deadline.isoformat()}"] if self.deadline else []
        due += [f"{exercise} due {moment.isoformat()}" for exercise, moment in sorted(self.deadlines.items())]
        terms = [f"{self.penalty_per_day:.0%} off per day started"]
        if self.cutoff_days is not None:
            terms.append(f"nothing after {self.cutoff_days:g} days")
        if self.grace_minutes:
            terms.append(f"{self.grace_minutes:g} minutes' grace")
        return "; ".join(due) + "; " + ", ".join(terms)


def parse_deadline(value, where: str) -> datetime:
    """An aware datetime from an ISO 8601 text (or a TOML date/time): a naive time is this
    machine's local time; a date alone is 23:59:59 that day."""
    if isinstance(value, str):
        text = value.strip()
        try:
            value = date.fromisoformat(text)
        except ValueError:
            try:
                value = datetime.fromisoformat(text)
            except ValueError:
                raise RosterError(
                    f"{where}: {value!r} is not an ISO 8601 date or time; write e.g. {TIME_EXAMPLE} "
                    "(a time without a zone is this machine's local time)"
                ) from None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.astimezone()
    if isinstance(value, date):
        return datetime.combine(value, time(23, 59, 59)).astimezone()
    raise RosterError(f"{where}: {value!r} is not a date or time; write e.g. {TIME_EXAMPLE}")


def _number(table: dict, key: str, where: str, most: float | None = None) -> float | None:
    value = table.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0 or (most and value > most):
        limit = f" and at most {most}" if most else ""
        hint = " (a fraction: 0.10 takes 10 % a day)" if key == "penalty_per_day" else ""
        raise RosterError(f"{where}: {key} = {value!r} must be a number at least 0{limit}{hint}")
    return float(value)


def _unknown(keys, known: set[str], where: str, what: str = "key") -> None:
    unknown = sorted(set(keys) - known)
    if unknown:
        raise RosterError(f"{where}: unknown {what} {unknown[0]!r}; the {what}s are {', '.join(sorted(known))}")


def read_policy(config: Path | None, deadline: str | None, exercises=None) -> LatePolicy:
    """The late policy of a TOML file (None: no file), ``deadline`` (``--deadline``) replacing its
    ``[late].deadline``. ``exercises``, when given, are the exercise ids ``[deadlines]`` may name."""
    table: dict = {}
    if config is not None:
        config = Path(config)
        try:
            table = tomllib.loads(config.read_text(encoding="utf-8-sig"))
        except FileNotFoundError:
            raise RosterError(f"late policy {config}: no such file; give the path of the TOML file") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
            raise RosterError(
                f"late policy {config}: not valid TOML ({error}); see docs/examples/grading.toml"
            ) from None
    where = f"late policy {config}"
    _unknown(table, POLICY_TABLES, where)
    late, deadlines = table.get("late", {}), table.get("deadlines", {})
    for name, value in (("late", late), ("deadlines", deadlines)):
        if not isinstance(value, dict):
            raise RosterError(f"{where}: {name} must be a table, [{name}]")
    _unknown(late, LATE_KEYS, f"{where}, [late]")
    if exercises is not None:
        _unknown(deadlines, set(exercises), f"{where}, [deadlines]", "exercise")
    if deadline is not None:
        default = parse_deadline(deadline, "--deadline")
    elif "deadline" in late:
        default = parse_deadline(late["deadline"], f"{where}, [late] deadline")
    else:
        default = None
    policy = LatePolicy(
        deadline=default,
        deadlines={name: parse_deadline(value, f"{where}, [deadlines] {name}") for name, value in deadlines.items()},
        penalty_per_day=_number(late, "penalty_per_day", f"{where}, [late]", most=1) or 0.0,
        cutoff_days=_number(late, "cutoff_days", f"{where}, [late]"),
        grace_minutes=_number(late, "grace_minutes", f"{where}, [late]") or 0.0,
    )
    if policy.penalty_per_day and policy.deadline is None and not policy.deadlines:
        raise RosterError(f"{where}: a penalty_per_day but no deadline; add [late] deadline or give --deadline")
    return policy
