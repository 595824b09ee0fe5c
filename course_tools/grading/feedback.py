"""Feedback pages for students: ``course feedback [--db PATH] [--out DIR]`` (default build/feedback/).

One HTML page per student and exercise, ``<out>/<student id>/<exercise>.html`` (a submission no
roster line matched is filed under its file name's stem), and ``<out>/index.html`` for the
instructor: every roster student's points per exercise with links to the pages, the unmatched
submissions, and the review notes (why a person should read a submission), which the students'
pages leave out. Folder and file names keep only letters, digits, ``.``, ``_`` and ``-``; two
names that would clash get a short suffix.

A page shows the student's name and id, the exercise, its status, when it was submitted and how
late (with the penalty), the points per task and the total out of the maximum; per task each
visible check's verdict and hint and each hidden test BY NAME with its verdict and hint (never its
code); the written answers with the instructor's score and comment ("not graded yet" until the
score is filled in); and the run's feedback lines. Pages are written from the gradebook's records
only, which hold no solution text; a test renders a real grade and searches the pages for every
line of the solution's answers and of the hidden tests.

Safe to open and to send: everything a student wrote (and everything from the roster) is escaped,
so a ``<script>`` in an answer shows as text; the pages load nothing (inline CSS, no JavaScript,
fonts or images, and a Content-Security-Policy that blocks every request); they follow the
system's light or dark mode; verdicts are words and marks (✓ passed, ✗ failed), not colour alone.

Send each student their own folder (or the page): the pages hold no other student's data.

Writes only inside ``out``: every page is first written to a temporary file beside it, then
renamed onto its name. An existing HTML file there that this command did not write (it lacks the
page's ``generator`` mark) is never overwritten: the command refuses before writing anything.
Pages of earlier runs that this run does not rewrite stay (delete ``out`` to start clean).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from datetime import datetime
from html import escape
from pathlib import Path

from .records import CheckResult, Grade, Student, TaskResult, WrittenAnswer

DEFAULT_OUT = Path("build/feedback")
GENERATOR = "course feedback"
INDEX = "index.html"
STATUS_WORDS = {
    "ok": "graded: the notebook ran to its end",
    "timeout": "stopped: the notebook ran past the time limit",
    "error": "could not be run to its end",
    "missing": "nothing submitted",
}

STYLE = """
:root { color-scheme: light dark; --fg: #1b1b1b; --bg: #ffffff; --muted: #555555; --line: #c8c8c8;
  --pass: #1a6b2f; --fail: #a4262c; --code: #f3f3f3; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e8e8e8; --bg: #161616; --muted: #b0b0b0; --line: #4a4a4a;
    --pass: #7bd88f; --fail: #ff9a9a; --code: #242424; }
}
body { font-family: system-ui, sans-serif; line-height: 1.5; color: var(--fg); background: var(--bg);
  margin: 0 auto; padding: 1.5rem; max-width: 60rem; }
h1 { font-size: 1.6rem; margin-top: 0; }
h2 { font-size: 1.3rem; margin-top: 2rem; border-bottom: 1px solid var(--line); }
h3 { font-size: 1.1rem; margin-top: 1.5rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; width: 100%; }
caption { text-align: left; color: var(--muted); padding-bottom: 0.25rem; }
th, td { border: 1px solid var(--line); padding: 0.3rem 0.6rem; text-align: left; vertical-align: top; }
thead th { background: var(--code); }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 1rem; }
dt { font-weight: 600; }
dd { margin: 0; }
.passed { color: var(--pass); font-weight: 600; }
.failed { color: var(--fail); font-weight: 600; }
.muted { color: var(--muted); }
pre { background: var(--code); padding: 0.6rem; white-space: pre-wrap; overflow-wrap: anywhere; }
blockquote { margin: 0.5rem 0; padding-left: 0.8rem; border-left: 3px solid var(--line); }
a { color: inherit; }
"""


class FeedbackError(Exception):
    """Feedback pages that cannot be written as asked; the message says why and what to do."""


def safe_name(text: str) -> str:
    """``text`` as one folder or file name: letters, digits, ``.``, ``_``, ``-``; never hidden or empty."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", text).lstrip(".")[:80]
    return name or "_"


def _number(value: float) -> str:
    return f"{round(value, 2):g}"


def _verdict(passed: bool) -> str:
    return '<span class="passed">✓ passed</span>' if passed else '<span class="failed">✗ failed</span>'


def _when(iso: str) -> str:
    if not iso:
        return "not submitted"
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return escape(iso)
    zone = moment.strftime("%z")
    zone = f" UTC{zone[:3]}:{zone[3:]}" if zone else ""
    return escape(moment.strftime("%Y-%m-%d %H:%M") + zone)


def _lateness(grade: Grade) -> str:
    if grade.late_days <= 0:
        return "on time"
    late = f"{_number(grade.late_days)} day{'' if grade.late_days == 1 else 's'} late"
    if grade.penalty >= 1:
        return f"{late}: past the cut-off, no points"
    if grade.penalty > 0:
        return f"{late}: {_number(grade.penalty * 100)}% of the points taken off"
    return f"{late}, no penalty"


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        # Nothing may load, even if a page held something it should not: no script, image, font, frame.
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="generator" content="{GENERATOR}">\n'
        f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n"
        f"<body>\n<main>\n{body}</main>\n</body>\n</html>\n"
    )


def _check_row(check: CheckResult) -> str:
    kind = "hidden test" if check.kind == "hidden" else "check"
    points = f"{_number(check.points)} of {_number(check.max_points)}" if check.max_points else ""
    hint = escape(check.hint) if check.hint else '<span class="muted">none</span>'
    return (
        f'<tr><th scope="row">{escape(check.name)}</th><td>{kind}</td><td>{_verdict(check.passed)}</td>'
        f"<td>{points}</td><td>{hint}</td></tr>\n"
    )


def _task_section(task: TaskResult) -> str:
    head = (
        f"<h3>Task {task.task}</h3>\n<p>{_verdict(task.passed)}: {_number(task.points)} of {_number(task.max_points)}"
    )
    head += " points" + (f". {escape(task.hint)}" if task.hint else "") + "</p>\n"
    if not task.checks:
        return head
    return (
        head + f"<table>\n<caption>Checks of task {task.task}</caption>\n<thead><tr>"
        '<th scope="col">Check</th><th scope="col">Kind</th><th scope="col">Verdict</th>'
        '<th scope="col">Points</th><th scope="col">Hint</th></tr></thead>\n<tbody>\n'
        + "".join(_check_row(c) for c in task.checks)
        + "</tbody>\n</table>\n"
    )


def _written_section(answer: WrittenAnswer) -> str:
    if answer.score is None:
        score = '<span class="muted">not graded yet</span>'
    else:
        score = f"{_number(answer.score)} of {_number(answer.max_points)} points"
    text = "(no answer written)" if answer.placeholder or not answer.answer.strip() else answer.answer
    comment = f"<p><strong>Comment:</strong> {escape(answer.comment)}</p>\n" if answer.comment else ""
    return (
        f"<h3>Question of task {escape(str(answer.task))}</h3>\n<blockquote>{escape(answer.question)}</blockquote>\n"
        f"<p><strong>Your answer:</strong></p>\n<pre>{escape(text)}</pre>\n<p><strong>Score:</strong> {score}</p>\n"
        + comment
    )


def render_page(grade: Grade, student: Student | None) -> str:
    """One student's feedback page for one exercise, as HTML."""
    name = student.name if student else "(no roster line matched this submission)"
    exercise = grade.exercise or "(no exercise: no solution matched this notebook)"
    who = student.student_id if student else Path(grade.submission).name
    task_points = sum(t.points for t in grade.tasks)
    written_points = sum(w.score or 0.0 for w in grade.written)
    total = f"{_number(grade.points)} of {_number(grade.max_points)}"
    if grade.penalty > 0:
        total += f" (before the late penalty: {_number(task_points + written_points)})"
    body = [
        f"<h1>Feedback on {escape(exercise)} for {escape(name)}</h1>\n<dl>\n",
        f"<dt>Student</dt><dd>{escape(name)}</dd>\n",
        f"<dt>{'Student id' if student else 'Submission'}</dt><dd>{escape(who)}</dd>\n",
        f"<dt>Exercise</dt><dd>{escape(exercise)}</dd>\n",
        f"<dt>Status</dt><dd>{escape(STATUS_WORDS.get(grade.status, grade.status))}</dd>\n",
        f"<dt>Submitted</dt><dd>{_when(grade.submitted_at)}</dd>\n",
        f"<dt>Lateness</dt><dd>{escape(_lateness(grade))}</dd>\n",
        f"<dt>Points</dt><dd>{total}</dd>\n</dl>\n",
    ]
    if grade.tasks:
        body.append(
            "<h2>Points per task</h2>\n<table>\n<caption>Points per task, before any late penalty</caption>\n"
            '<thead><tr><th scope="col">Task</th><th scope="col">Verdict</th><th scope="col">Points</th></tr></thead>\n'
            "<tbody>\n"
        )
        for t in grade.tasks:
            body.append(
                f'<tr><th scope="row">Task {t.task}</th><td>{_verdict(t.passed)}</td>'
                f"<td>{_number(t.points)} of {_number(t.max_points)}</td></tr>\n"
            )
        body.append(
            f'</tbody>\n<tfoot><tr><th scope="row">Tasks</th><td></td>'
            f"<td>{_number(task_points)} of {_number(sum(t.max_points for t in grade.tasks))}</td></tr></tfoot>\n"
            "</table>\n<h2>Checks and hidden tests</h2>\n"
        )
        body += [_task_section(t) for t in grade.tasks]
    if grade.written:
        body.append("<h2>Written answers</h2>\n")
        body += [_written_section(w) for w in grade.written]
    if grade.feedback:
        body.append("<h2>Notes from the run</h2>\n<ul>\n")
        body += [f"<li>{escape(line)}</li>\n" for line in grade.feedback]
        body.append("</ul>\n")
    return _page(f"{exercise}: feedback for {name}", "".join(body))


def render_index(pages: dict[tuple[str, str], tuple[str, Grade]], students: list[Student], exercises) -> str:
    """The instructor's index: ``pages`` maps (folder, exercise) to (relative link, grade)."""
    if not students:
        body = [
            "<h1>Feedback pages</h1>\n",
            f"<p>{len(pages)} page(s). The gradebook has no roster (grade with --roster roster.csv), so each "
            "submission's page is in a folder named after its file.</p>\n",
        ]
        return _page("Feedback pages", "".join(body) + _others_and_review(pages, set()))
    body = [
        "<h1>Feedback pages</h1>\n",
        f"<p>{len(pages)} page(s); each student's pages are in a folder named after their id.</p>\n",
        "<h2>Students on the roster</h2>\n<table>\n<caption>Points per exercise (links open the pages)</caption>\n"
        '<thead><tr><th scope="col">Student</th><th scope="col">Id</th><th scope="col">Section</th>',
    ]
    body += [f'<th scope="col">{escape(e)}</th>' for e in exercises]
    body.append("</tr></thead>\n<tbody>\n")
    by_student = {}
    for (_, exercise), (link, grade) in pages.items():
        by_student.setdefault(grade.student_id, {})[exercise] = (link, grade)
    roster = {s.student_id for s in students}
    for s in students:
        body.append(
            f'<tr><th scope="row">{escape(s.name)}</th><td>{escape(s.student_id)}</td><td>{escape(s.section)}</td>'
        )
        for e in exercises:
            entry = by_student.get(s.student_id, {}).get(e)
            if entry is None:
                body.append('<td><span class="muted">no grade</span></td>')
            else:
                link, grade = entry
                text = f"{_number(grade.points)} / {_number(grade.max_points)} ({grade.status})"
                body.append(f'<td><a href="{escape(link)}">{escape(text)}</a></td>')
        body.append("</tr>\n")
    body.append("</tbody>\n</table>\n")
    return _page("Feedback pages", "".join(body) + _others_and_review(pages, roster))


def _others_and_review(pages, roster: set[str]) -> str:
    """The index's tables of submissions off the roster (or of no exercise) and of those to review."""
    body = []
    others = [(link, g) for link, g in pages.values() if g.student_id not in roster or not g.exercise]
    if others:
        body.append(
            "<h2>Other submissions</h2>\n<table>\n"
            "<caption>Submissions no roster line or no solution matched</caption>\n"
            '<thead><tr><th scope="col">Submission</th><th scope="col">Exercise</th>'
            '<th scope="col">Points</th></tr></thead>\n<tbody>\n'
        )
        for link, g in others:
            label = g.student_id or g.submission or "(unknown)"
            body.append(
                f'<tr><th scope="row">{escape(label)}</th><td>{escape(g.exercise or "none")}</td>'
                f'<td><a href="{escape(link)}">{_number(g.points)} / {_number(g.max_points)} ({escape(g.status)})</a>'
                "</td></tr>\n"
            )
        body.append("</tbody>\n</table>\n")
    flagged = [(link, g) for link, g in pages.values() if g.review]
    if flagged:
        body.append(
            "<h2>To review</h2>\n"
            "<p>Why a person should read these submissions (not shown on the students' pages).</p>\n<ul>\n"
        )
        for link, g in flagged:
            who = g.student_id or g.submission
            body.append(
                f'<li><a href="{escape(link)}">{escape(who)}, {escape(g.exercise)}</a>: '
                f"{escape('; '.join(g.review))}</li>\n"
            )
        body.append("</ul>\n")
    return "".join(body)


def _folder_name(grade: Grade, taken: dict[str, str]) -> str:
    """The page's folder: the student id, else the submission's stem; a suffix when two differ but clash."""
    key = grade.student_id or f"submission:{grade.submission}"
    base = safe_name(grade.student_id or Path(grade.submission).stem or "unknown")
    name = base
    if taken.get(name.lower(), key) != key:  # compared without case: some file systems ignore it
        name = f"{base}-{hashlib.sha256(key.encode()).hexdigest()[:8]}"
    taken[name.lower()] = key
    return name


def _refuse_foreign(path: Path, out_dir: Path) -> None:
    if not path.resolve().is_relative_to(out_dir):
        raise FeedbackError(f"{path} leads outside {out_dir} (a link?): remove it, or give --out a new folder")
    if path.is_dir():
        raise FeedbackError(f"{path} is a folder where a page goes: remove it, or give --out a new folder")
    if path.is_file() and not path.is_symlink():
        try:
            head = path.read_text(encoding="utf-8", errors="replace")[:2000]
        except OSError as err:
            raise FeedbackError(f"{path} cannot be read ({err}): give --out a new folder") from err
        if f'<meta name="generator" content="{GENERATOR}">' not in head:
            raise FeedbackError(
                f"{path} exists and was not written by `course feedback`: give --out a new folder, it is left alone"
            )


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)  # a link planted at `path` is replaced, not followed
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_feedback(grades: list[Grade], students: list[Student], out_dir) -> list[Path]:
    """Write the feedback pages of ``grades`` and the index into ``out_dir``; return the pages
    written, the index last. Raises FeedbackError, having written nothing, when a page's place is
    taken by something this command did not write."""
    from .export import course_order

    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise FeedbackError(f"{out_dir} is a file: give --out a folder")
    out_dir = out_dir.resolve()
    roster = {s.student_id: s for s in students}
    taken: dict[str, str] = {INDEX.lower(): "index"}
    folders: dict[str, str] = {}
    planned: dict[Path, str] = {}
    pages: dict[tuple[str, str], tuple[str, Grade]] = {}
    for grade in grades:
        key = grade.student_id or f"submission:{grade.submission}"
        folder = folders.get(key) or folders.setdefault(key, _folder_name(grade, taken))
        file = safe_name(grade.exercise or "no_exercise") + ".html"
        if (folder, file) in pages:
            raise FeedbackError(
                f"two grades for {grade.student_id or grade.submission!r} in {grade.exercise!r}: "
                "the gradebook should hold one; regrade with `course grade`"
            )
        pages[folder, file] = (f"{folder}/{file}", grade)
        planned[out_dir / folder / file] = render_page(grade, roster.get(grade.student_id))
    exercises = course_order(g.exercise for g in grades if g.exercise)
    by_exercise = {(f, g.exercise): (link, g) for (f, _), (link, g) in pages.items()}
    planned[out_dir / INDEX] = render_index(by_exercise, students, exercises)
    for path in planned:  # all checked before any is written: a refusal writes nothing
        _refuse_foreign(path, out_dir)
    for path, text in planned.items():
        _write(path, text)
    return list(planned)


def feedback_main(db, out=None) -> int:
    """``course feedback``: write the pages from the gradebook at ``db``; 2 (after one line on stderr) for bad input."""
    import sys

    from .export import ExportError, load_gradebook
    from .store import GradebookError

    out = Path(out) if out else DEFAULT_OUT
    try:
        grades, students = load_gradebook(db)
        written = write_feedback(grades, students, out)
    except (ExportError, FeedbackError, GradebookError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {len(written) - 1} feedback page(s) and the index: {written[-1]}")
    return 0
