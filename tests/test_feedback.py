"""Feedback pages and LMS exports (`course_tools.grading.feedback`, `.export`), from records built here.

No kernel runs: the grades are `records.Grade` objects made in the test, one of them from the
course's real solution and hidden tests (exercises 3), to show that no solution text reaches a page.
"""

from __future__ import annotations

import ast
import csv
import re
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

from course_tools.grading.export import ExportError, parse_assignment_ids, write_export
from course_tools.grading.feedback import FeedbackError, render_page, safe_name, write_feedback
from course_tools.grading.reading import written_answers
from course_tools.grading.records import CheckResult, Grade, Student, TaskResult, WrittenAnswer

REPO = Path(__file__).resolve().parents[1]
HOSTILE = '<script>alert("x")</script><img src=x onerror="alert(1)">'

ALICE = Student("s001", "Alice Ng", "alice@example.edu", "A", sis_login="ang", canvas_id="101")
BOB = Student("s002", "Bob O'Neil", "bob@example.edu", "B", canvas_id="102")
CARA = Student("s003", "Cara, Diaz", "cara@example.edu", "A")


def a_grade(student_id="s001", exercise="shape_arithmetic", **changes) -> Grade:
    grade = Grade(
        exercise=exercise,
        student_id=student_id,
        submission=f"submissions/{student_id or 'stray'}/03_shape_arithmetic_exercises.ipynb",
        status="ok",
        submitted_at="2026-03-02T09:30:00+01:00",
        late_days=1.5,
        penalty=0.2,
        tasks=[
            TaskResult(1, True, 2.0, 2.0, checks=[CheckResult("conv_output_size", "visible", True)]),
            TaskResult(
                2,
                False,
                0.5,
                2.0,
                hint="feature_shapes: wrong after the pool",
                checks=[
                    CheckResult("shapes through the network", "visible", False, hint="wrong after the pool"),
                    CheckResult("other_images", "hidden", True, points=0.5, max_points=1.0),
                ],
            ),
        ],
        written=[
            WrittenAnswer(2, "Why does padding keep the size?", HOSTILE, False, score=None),
            WrittenAnswer(
                3, "What does a 1x1 kernel do?", "mixes channels", False, score=0.5, comment="half " + HOSTILE
            ),
        ],
        feedback=["task 2: feedback_shapes: wrong after the pool", "note " + HOSTILE],
        review=["touches sys.modules"],
    )
    for name, value in changes.items():
        setattr(grade, name, value)
    return grade


class Outline(HTMLParser):
    """The parts of a page the accessibility and offline rules are about."""

    def __init__(self):
        super().__init__()
        self.tags, self.headings, self.th_scopes, self.urls, self.html_lang = [], [], [], [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        if tag == "th":
            self.th_scopes.append(attrs.get("scope"))
        if tag == "html":
            self.html_lang = attrs.get("lang")
        self.urls += [v for k, v in attrs.items() if k in ("src", "href", "action", "srcset") and v]


def outline(html: str) -> Outline:
    parser = Outline()
    parser.feed(html)
    return parser


def assert_accessible_and_offline(html: str) -> None:
    page = outline(html)
    assert page.html_lang == "en"
    assert page.headings.count(1) == 1 and page.headings[0] == 1
    assert all(b - a <= 1 for a, b in zip(page.headings, page.headings[1:], strict=False)), page.headings
    assert all(s in ("col", "row") for s in page.th_scopes)
    assert not {"script", "img", "link", "iframe", "object", "embed"} & set(page.tags)
    assert all(not re.match(r"[a-z]+:|//", url) for url in page.urls), page.urls  # relative links only
    assert "@media (prefers-color-scheme: dark)" in html


def test_a_page_shows_the_grade_task_by_task():
    html = render_page(a_grade(), ALICE)
    for text in (
        "Alice Ng",
        "s001",
        "shape_arithmetic",
        "graded: the notebook ran to its end",
        "2026-03-02 09:30 UTC+01:00",
        "1.5 days late: 20% of the points taken off",
        "2 of 2</td>",  # task 1
        "0.5 of 2</td>",  # task 2
        "2.4 of 6 (before the late penalty: 3)",  # (2 + 0.5 + 0.5 written) * 0.8, out of 4 + 2 written
        "shapes through the network",
        "wrong after the pool",
        "other_images</th><td>hidden test</td>",
        "not graded yet",
        "0.5 of 1 points",
        "task 2: feedback_shapes: wrong after the pool",
        "✓ passed",
        "✗ failed",
    ):
        assert text in html, text
    assert "sys.modules" not in html  # review notes are for the instructor's index only
    assert_accessible_and_offline(html)


def test_everything_a_student_or_the_roster_wrote_is_escaped():
    student = Student("s001", "<b>Mallory</b>", section=HOSTILE)
    grade = a_grade(exercise="x<script>", feedback=[HOSTILE])
    grade.tasks[1].checks[0].hint = HOSTILE
    html = render_page(grade, student)
    assert "<script" not in html and "<img" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "onerror=&quot;alert(1)&quot;" in html


def test_missing_and_unmatched_grades_render_too():
    missing = Grade("shape_arithmetic", "s002")
    html = render_page(missing, BOB)
    assert "nothing submitted" in html and "not submitted" in html and "0 of 0" in html
    assert_accessible_and_offline(html)
    stray = render_page(a_grade(student_id="", late_days=0, penalty=0), None)
    assert "no roster line matched" in stray and "on time" in stray
    assert_accessible_and_offline(stray)


def test_feedback_folder_index_and_safe_names(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)  # the course order of exercises comes from solutions/
    grades = [
        a_grade(),
        a_grade(exercise="data_exploration"),
        a_grade(student_id="../../evil"),
        a_grade(student_id="", submission="inbox/one/03_shape_arithmetic_exercises.ipynb"),
        a_grade(student_id="", submission="inbox/two/03_shape_arithmetic_exercises.ipynb"),
    ]
    out = tmp_path / "feedback"
    written = write_feedback(grades, [ALICE, BOB], out)
    assert written[-1] == out.resolve() / "index.html"
    assert all(p.resolve().is_relative_to(out.resolve()) for p in written)
    assert (out / "s001" / "shape_arithmetic.html").is_file() and (out / "s001" / "data_exploration.html").is_file()
    assert (out / safe_name("../../evil") / "shape_arithmetic.html").is_file()
    strays = sorted(p.name for p in out.iterdir() if p.name.startswith("03_shape"))
    assert len(strays) == 2 and strays[0] == "03_shape_arithmetic_exercises"  # the second gets a suffix
    index = (out / "index.html").read_text()
    assert_accessible_and_offline(index)
    assert index.index(">data_exploration<") < index.index(">shape_arithmetic<")  # course order
    assert 'href="s001/shape_arithmetic.html"' in index and "Bob O&#x27;Neil" in index and "no grade" in index
    assert "Other submissions" in index and "touches sys.modules" in index
    assert "<script" not in "".join(p.read_text() for p in written)
    write_feedback([a_grade("")], [], tmp_path / "no_roster")  # `course grade` without --roster
    index = (tmp_path / "no_roster" / "index.html").read_text()
    assert "no roster" in index and 'href="03_shape_arithmetic_exercises/shape_arithmetic.html"' in index
    assert_accessible_and_offline(index)


def test_pages_are_rewritten_but_a_foreign_file_is_never_overwritten(tmp_path):
    out = tmp_path / "feedback"
    write_feedback([a_grade()], [ALICE], out)
    write_feedback([a_grade(status="timeout")], [ALICE], out)  # a second run rewrites its own pages
    assert "ran past the time limit" in (out / "s001" / "shape_arithmetic.html").read_text()
    mine = (out / "index.html").read_text()
    foreign = out / "s002" / "shape_arithmetic.html"
    foreign.parent.mkdir()
    foreign.write_text("<html>the instructor's own notes</html>")
    with pytest.raises(FeedbackError, match="not written by `course feedback`"):
        write_feedback([a_grade(status="error"), a_grade("s002")], [ALICE, BOB], out)
    assert foreign.read_text() == "<html>the instructor's own notes</html>"
    assert (out / "index.html").read_text() == mine  # nothing written at all
    with pytest.raises(FeedbackError, match="is a file"):
        write_feedback([a_grade()], [ALICE], foreign)


def solution_text(exercise_file: str, exercise_id: str) -> list[str]:
    """Every line of the solution's answers (code and written) and of its hidden tests that the
    student's version does not show, at least 12 characters long (shorter ones match by chance)."""
    from course_tools.notebook_transforms import has_solution

    solution = nbformat.read(REPO / "solutions" / exercise_file, as_version=4)
    student = nbformat.read(REPO / "exercises" / exercise_file, as_version=4)
    shown = {line.strip() for cell in student.cells for line in cell.source.split("\n")}
    secret = [
        cell.source
        for cell in solution.cells
        if cell.metadata.get("course", {}).get("role") == "answer"
        or (cell.cell_type == "markdown" and has_solution(cell.source))
    ]
    secret.append((REPO / "solutions" / "hidden_tests" / f"{exercise_id}.py").read_text())
    lines = {line.strip() for text in secret for line in text.split("\n")}
    return sorted(line for line in lines - shown if len(line) >= 12 and "SOLUTION" not in line)


def real_grade(exercise_file: str, exercise_id: str) -> Grade:
    """A grade of the exercise as handed out (stubs), with the real task titles, hidden test
    names and written questions; every check failed with a hint, as the grader records them."""
    solution = nbformat.read(REPO / "solutions" / exercise_file, as_version=4)
    student = nbformat.read(REPO / "exercises" / exercise_file, as_version=4)
    titles = {
        c.metadata["course"]["task"]: c.metadata["course"].get("title", "")
        for c in solution.cells
        if c.metadata.get("course", {}).get("role") == "answer"
    }
    hidden_source = (REPO / "solutions" / "hidden_tests" / f"{exercise_id}.py").read_text()
    hidden = {}
    for node in ast.parse(hidden_source).body:
        if isinstance(node, ast.FunctionDef) and node.decorator_list:
            task = node.decorator_list[0].args[0].value
            hidden.setdefault(task, []).append(node.name)
    tasks = [
        TaskResult(
            task,
            False,
            0.0,
            1.0,
            hint=f"not attempted (Task {task}: {title})",
            checks=[CheckResult(title, "visible", False, hint=f"not attempted (Task {task})")]
            + [CheckResult(name, "hidden", False, hint="not run: the visible check failed") for name in hidden[task]],
        )
        for task, title in sorted(titles.items())
    ]
    written = written_answers(solution, student)
    assert tasks and written and all(t.checks[1:] for t in tasks)
    return Grade(
        exercise_id,
        "s001",
        f"s001/{exercise_file}",
        "ok",
        3.2,
        "2026-03-01T10:00:00+00:00",
        tasks=tasks,
        written=written,
        feedback=[t.hint for t in tasks],
    )


def test_no_solution_text_and_no_hidden_test_code_on_a_real_grade_s_pages(tmp_path):
    secrets = solution_text("03_shape_arithmetic_exercises.ipynb", "shape_arithmetic")
    assert len(secrets) > 20  # the search is worth something
    grade = real_grade("03_shape_arithmetic_exercises.ipynb", "shape_arithmetic")
    written = write_feedback([grade], [ALICE], tmp_path / "feedback")
    pages = "\n".join(p.read_text() for p in written)
    from html import unescape

    text = unescape(pages)
    assert "other_sizes" in text and "receptive_field" in text  # hidden tests by name, tasks by title
    leaked = [line for line in secrets if line in text or line in pages]
    assert not leaked, leaked


# LMS exports


def export_grades() -> list[Grade]:
    return [
        a_grade("s001"),  # 2.4 of 6 after the penalty
        a_grade("s001", exercise="data_exploration", late_days=0, penalty=0),  # 3 of 6
        Grade("shape_arithmetic", "s002"),  # missing: 0
        a_grade(""),  # unmatched: left out
        a_grade("s999"),  # not on the roster: left out
    ]


def read_rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def test_canvas_export_has_canvas_columns_points_possible_and_blanks_only_without_a_grade(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    out = tmp_path / "canvas.csv"
    done = write_export(
        export_grades(), [ALICE, BOB, CARA], out, "canvas", assignment_ids=parse_assignment_ids(["shape_arithmetic=77"])
    )
    rows = read_rows(out)
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "data_exploration",
                       "shape_arithmetic (77)"]  # fmt: skip
    assert rows[1] == ["Points Possible", "", "", "", "", "6", "6"]
    assert rows[2] == ["Alice Ng", "101", "s001", "ang", "A", "3", "2.4"]
    assert rows[3] == ["Bob O'Neil", "102", "s002", "bob@example.edu", "B", "", "0"]  # no grade / missing
    assert rows[4] == ["Cara, Diaz", "", "s003", "cara@example.edu", "A", "", ""]
    assert out.read_bytes().count(b"\r\n") == 5
    write_export([], [Student("40001", "Dee, Jo", canvas_id="40001")], out, "canvas")  # no SIS ids at school
    assert read_rows(out)[2] == ["Dee, Jo", "40001", "", "", ""]
    assert done.students == 3 and list(done.left_out.values()) == [1, 1, 0]
    assert "left out 1 grade(s): unmatched submissions" in done.summary()


def test_plain_and_moodle_exports(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    write_export(export_grades(), [ALICE, BOB, CARA], tmp_path / "plain.csv", "csv")
    rows = read_rows(tmp_path / "plain.csv")
    assert rows[0] == ["student_id", "name", "email", "section", "data_exploration", "shape_arithmetic", "total", "max"]
    assert rows[1] == ["s001", "Alice Ng", "alice@example.edu", "A", "3", "2.4", "5.4", "12"]
    assert rows[3] == ["s003", "Cara, Diaz", "cara@example.edu", "A", "", "", "0", "12"]
    write_export(export_grades(), [ALICE], tmp_path / "moodle.csv", "moodle")
    assert read_rows(tmp_path / "moodle.csv") == [
        ["ID number", "Email address", "Full name", "data_exploration", "shape_arithmetic"],
        ["s001", "alice@example.edu", "Alice Ng", "3", "2.4"],
    ]


def test_an_export_never_overwrites_a_gradebook_a_notebook_or_a_foreign_file(tmp_path):
    db = tmp_path / "gradebook.sqlite"
    db.write_bytes(b"SQLite format 3\x00")
    notebook = tmp_path / "s001.ipynb"
    notebook.write_text("{}")
    notes = tmp_path / "notes.csv"
    notes.write_text("my,own\n")
    grades, roster = export_grades(), [ALICE]
    for target, flags, message in (
        (db, {"replace": True}, "gradebook or a notebook"),
        (notebook, {"replace": True}, "gradebook or a notebook"),
        (tmp_path / "db-alias.csv", {"replace": True, "protect": [tmp_path / "db-alias.csv"]}, "gradebook"),
        (notes, {}, "add --replace"),
        (tmp_path, {}, "is a folder"),
    ):
        with pytest.raises(ExportError, match=message):
            write_export(grades, roster, target, "csv", **flags)
    assert (
        db.read_bytes() == b"SQLite format 3\x00" and notebook.read_text() == "{}" and notes.read_text() == "my,own\n"
    )
    write_export(grades, roster, notes, "csv", replace=True)
    write_export(grades, roster, notes, "csv")  # an earlier export of the format is replaced
    with pytest.raises(ExportError, match="not an earlier canvas export"):
        write_export(grades, roster, notes, "canvas")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gradebook.sqlite", "notes.csv", "s001.ipynb"]


def test_export_refuses_bad_input_with_one_clear_line(tmp_path):
    with pytest.raises(ExportError, match="choose one of canvas, csv, moodle"):
        write_export([], [], tmp_path / "x.csv", "blackboard")
    with pytest.raises(ExportError, match="two grades for student 's001'"):
        write_export([a_grade(), a_grade()], [ALICE], tmp_path / "x.csv", "csv")
    with pytest.raises(ExportError, match="EXERCISE=ID"):
        parse_assignment_ids(["shape_arithmetic"])
    with pytest.raises(ExportError, match="no grades for"):
        write_export([a_grade()], [ALICE], tmp_path / "x.csv", "canvas", assignment_ids={"typo": "1"})
    assert not (tmp_path / "x.csv").exists()


# The commands, on a gradebook made with the store's own API


@pytest.fixture
def gradebook(tmp_path) -> Path:
    from course_tools.grading.store import Gradebook, Placement

    db = tmp_path / "build" / "gradebook.sqlite"
    with Gradebook(db) as book:
        book.set_roster([ALICE, BOB])
        graded = a_grade()
        late = {"submitted_at": graded.submitted_at, "late_days": 1.5, "penalty": 0.2}  # the store keeps them here
        book.record("k1", graded, [Placement(graded.submission, "k1", "shape_arithmetic", "03.ipynb", "s001", **late)])
        stray = a_grade("")
        book.record("k2", stray, [Placement(stray.submission, "k2", "shape_arithmetic", "03.ipynb", "")])
    return db


def test_course_feedback_and_export_from_a_gradebook(gradebook, tmp_path, monkeypatch, capsys):
    from course_tools.cli import main

    monkeypatch.chdir(tmp_path)
    before = gradebook.read_bytes()
    assert main(["feedback", "--db", str(gradebook)]) == 0
    assert "wrote 3 feedback page(s)" in capsys.readouterr().out  # Alice, Bob's missing grade, the stray
    assert "not graded yet" in (tmp_path / "build" / "feedback" / "s001" / "shape_arithmetic.html").read_text()
    assert "nothing submitted" in (tmp_path / "build" / "feedback" / "s002" / "shape_arithmetic.html").read_text()
    assert main(["export", "--format", "canvas", "--db", str(gradebook), "--assignment-id", "shape_arithmetic=9"]) == 0
    out = capsys.readouterr().out
    assert "2 students" in out and "left out 1 grade(s): unmatched submissions" in out
    rows = read_rows(tmp_path / "build" / "export" / "canvas.csv")
    assert rows[1:] == [
        ["Points Possible", "", "", "", "", "6"],
        ["Alice Ng", "101", "s001", "ang", "A", "2.4"],
        ["Bob O'Neil", "102", "s002", "bob@example.edu", "B", "0"],
    ]
    assert main(["export", "--format", "csv", "--db", str(gradebook), "--out", str(gradebook)]) == 2
    assert "is a gradebook or a notebook" in capsys.readouterr().err
    assert gradebook.read_bytes() == before


def test_the_commands_refuse_a_missing_or_foreign_gradebook_in_one_line(tmp_path, capsys):
    from course_tools.cli import main

    absent = tmp_path / "typo.sqlite"
    assert main(["feedback", "--db", str(absent), "--out", str(tmp_path / "fb")]) == 2
    assert main(["export", "--format", "csv", "--db", str(absent), "--out", str(tmp_path / "x.csv")]) == 2
    err = capsys.readouterr().err.strip().split("\n")
    assert len(err) == 2 and all(line.startswith("error: no gradebook at") for line in err)
    assert not absent.exists()  # not created by looking
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"not a database at all" * 100)
    assert main(["export", "--format", "csv", "--db", str(garbage), "--out", str(tmp_path / "x.csv")]) == 2
    assert "not a gradebook" in capsys.readouterr().err
    assert garbage.read_bytes() == b"not a database at all" * 100
    assert not (tmp_path / "fb").exists() and not (tmp_path / "x.csv").exists()
