"""course grade over a semester: a roster, deadlines, the SQLite store, cached regrades and hand scores.

One grading run (module fixture) grades a class of five of the cheapest exercise (shape
arithmetic: no data, no training): a full solution, an untouched exercise, the full solution
again but late (the same bytes: graded once), a corrupt file, one student with nothing submitted
and one file no roster line matches. Every later run is served from the store, with the cluster
patched to fail: no kernel starts. The bad inputs fail before anything is graded.
"""

import csv
import hashlib
import shutil
from pathlib import Path

import pytest

from course_tools import cli, cluster
from course_tools.grading import Row
from course_tools.grading.records import Grade, Student, TaskResult, WrittenAnswer
from course_tools.grading.sheets import read_scores
from course_tools.grading.store import CHANGED_NOTE, Gradebook, GradebookError, Placement, Score

REPO = Path(__file__).resolve().parents[1]
NAME = "03_shape_arithmetic_exercises.ipynb"
SOLUTION, EXERCISE = REPO / "solutions" / NAME, REPO / "exercises" / NAME
ROSTER = "student_id,name,email,section\n" + "".join(f"s{n},Student {n},s{n}@example.edu,A\n" for n in range(1, 6))
DEADLINE = "2026-10-02T00:00:00+00:00"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def by_student(path: Path) -> dict[str, dict]:
    return {row["student_id"] or Path(row["submission"]).parent.name: row for row in read_csv(path)}


@pytest.fixture(scope="module")
def semester(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("semester")
    subs = tmp / "submissions"
    for folder in ("s1", "s2", "s3", "s5", "stranger"):
        (subs / folder).mkdir(parents=True)
    shutil.copy(SOLUTION, subs / "s1" / NAME)
    shutil.copy(EXERCISE, subs / "s2" / NAME)
    shutil.copy(SOLUTION, subs / "s3" / NAME)  # the same bytes as s1's: one kernel run for both
    (subs / "s5" / NAME).write_bytes(SOLUTION.read_bytes()[:300])  # corrupt: no kernel
    (subs / "stranger" / NAME).write_bytes(b"")  # matches no one; s4 submits nothing
    (subs / "manifest.csv").write_text(
        "file,submitted_at\n"
        f"s1/{NAME},2026-10-01T12:00:00+00:00\n"
        f"s2/{NAME},2026-10-01T12:00:00+00:00\n"
        f"s3/{NAME},2026-10-02T12:00:00+00:00\n"  # half a day late: 1 day started, 10 %
    )
    (tmp / "roster.csv").write_text(ROSTER)
    (tmp / "policy.toml").write_text(f'[late]\ndeadline = "{DEADLINE}"\npenalty_per_day = 0.1\n')
    base = ["grade", str(subs), "--timeout", "20", "--out", str(tmp / "gradebook.csv"), "--work", str(tmp / "work")]
    code = cli.main([*base, "--roster", str(tmp / "roster.csv"), "--policy", str(tmp / "policy.toml")])
    return {"tmp": tmp, "subs": subs, "code": code, "base": base, "db": tmp / "work" / "gradebook.sqlite"}


@pytest.fixture
def no_cluster(monkeypatch):
    """Any attempt to grade (a Dask cluster, hence a kernel) fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("a cluster was started although every result is in the store")

    monkeypatch.setattr(cluster, "dask_client", refuse)


@pytest.mark.kernel
def test_a_class_is_graded_with_missing_late_and_unmatched_rows(semester, capsys):
    assert semester["code"] == 0
    rows = by_student(semester["tmp"] / "gradebook.csv")
    assert list(rows) == ["s1", "s2", "s3", "s4", "s5", "stranger"]  # roster order, the unmatched last
    s1, s2, s3, s4, s5 = (rows[f"s{n}"] for n in range(1, 6))
    assert (s1["status"], s1["name"], s1["exercise"], s1["late_days"], s1["total"]) == (
        "ok",
        "Student 1",
        "shape_arithmetic",
        "0",
        "4",
    )
    assert [s1[f"task{t}"] for t in range(1, 5)] == ["1"] * 4 and [s2[f"task{t}"] for t in range(1, 5)] == ["0"] * 4
    assert (s3["late_days"], s3["penalty"], s3["total"]) == ("0.5", "0.1", "3.6")  # 4 points less 10 %
    assert (s4["status"], s4["total"], s4["submission"], s4["task1"]) == ("missing", "0", "", "0")
    assert s4["max"] == s1["max"]  # the exercise's points, to earn
    assert (s5["status"], s5["exercise"]) == ("error", "shape_arithmetic")  # named by its file
    assert rows["stranger"]["student_id"] == "" and rows["stranger"]["status"] == "error"


@pytest.mark.kernel
def test_a_regrade_of_the_unchanged_class_starts_no_kernel(semester, no_cluster, capsys):
    before = read_csv(semester["tmp"] / "gradebook.csv")
    assert cli.main(semester["base"]) == 0  # the roster and policy are the store's
    printed = capsys.readouterr().out
    assert "5 of 5 submissions unchanged since graded: reused" in printed
    assert "matched no roster line" in printed and "nothing submitted by 1 student: s4" in printed
    after = read_csv(semester["tmp"] / "gradebook.csv")
    assert after == before  # s3 still late: the policy last given is the store's
    # grading one student's folder leaves the others' rows as they were
    assert cli.main([*semester["base"][:1], str(semester["subs"] / "s2"), *semester["base"][2:]]) == 0
    assert read_csv(semester["tmp"] / "gradebook.csv") == before
    # a changed deadline re-scores without a rerun: no deadline, nobody late
    assert cli.main([*semester["base"], "--policy", str(semester["tmp"] / "nothing.toml")]) == 2  # no such file
    (semester["tmp"] / "empty.toml").write_text("")
    assert cli.main([*semester["base"], "--policy", str(semester["tmp"] / "empty.toml")]) == 0
    assert by_student(semester["tmp"] / "gradebook.csv")["s3"]["total"] == "4"


@pytest.mark.kernel
def test_a_file_removed_drops_out_of_the_gradebook(semester, no_cluster):
    (semester["subs"] / "stranger" / NAME).unlink()
    assert cli.main(semester["base"]) == 0
    assert "stranger" not in by_student(semester["tmp"] / "gradebook.csv")


@pytest.mark.kernel
def test_hand_scores_are_read_back_and_never_lost(semester, no_cluster, capsys):
    written = semester["tmp"] / "written_answers.csv"
    rows = read_csv(written)
    (mine,) = [row for row in rows if row["student_id"] == "s1"]
    mine["score"], mine["comment"] = "0.5", "half: names fc1, no reason"
    with open(written, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    assert cli.main(semester["base"]) == 0
    s1 = by_student(semester["tmp"] / "gradebook.csv")["s1"]
    assert (s1["written"], s1["total"]) == ("0.5", "4.5")
    (kept,) = [row for row in read_csv(written) if row["student_id"] == "s1"]
    assert (kept["score"], kept["comment"]) == ("0.5", "half: names fc1, no reason")
    # a score emptied in the file is kept; a bad one is refused, naming its row, and nothing changes
    text = written.read_text(encoding="utf-8")
    written.write_text(text.replace(",0.5,", ",,"), encoding="utf-8")
    assert cli.main(semester["base"]) == 0
    assert by_student(semester["tmp"] / "gradebook.csv")["s1"]["written"] == "0.5"
    written.write_text(text.replace(",0.5,", ",7,"), encoding="utf-8")
    before, store = written.read_bytes(), sha256(semester["db"])
    assert cli.main(semester["base"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.endswith("(s1, shape_arithmetic, task 3): score 7 is not from 0 to 1; correct it and run again")
    assert written.read_bytes() == before and sha256(semester["db"]) == store


@pytest.mark.kernel
def test_a_corrupt_store_is_refused_and_left_as_it_was(semester, no_cluster, capsys):
    garbage = semester["tmp"] / "garbage.sqlite"
    garbage.write_bytes(b"not a database, " * 64)
    assert cli.main([*semester["base"], "--db", str(garbage)]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and "is not a gradebook" in error
    assert garbage.read_bytes() == b"not a database, " * 64


@pytest.mark.parametrize(
    ("roster", "extra", "message"),
    [
        ("student_id,name,email,section\ns1,A,,\ns1,B,,\n", [], "s1"),  # a duplicate id
        (ROSTER, ["--deadline", "next friday"], "--deadline"),
    ],
)
def test_bad_roster_or_deadline_fails_before_grading(tmp_path, no_cluster, capsys, roster, extra, message):
    (tmp_path / "s1").mkdir()
    shutil.copy(EXERCISE, tmp_path / "s1" / NAME)
    (tmp_path / "roster.csv").write_text(roster)
    argv = ["grade", str(tmp_path / "s1"), "--roster", str(tmp_path / "roster.csv"), "--work", str(tmp_path / "w")]
    assert cli.main([*argv, "--out", str(tmp_path / "gradebook.csv"), *extra]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: ") and message in error and error.count("\n") == 1
    assert not (tmp_path / "gradebook.csv").exists()


def test_a_file_matching_two_students_fails_before_grading(tmp_path, no_cluster, capsys):
    (tmp_path / "subs" / "ben").mkdir(parents=True)
    shutil.copy(EXERCISE, tmp_path / "subs" / "ben" / NAME)  # "ben": s1's e-mail name, s2's login
    (tmp_path / "roster.csv").write_text("student_id,name,email,section,sis_login\ns1,A,ben@x.edu,,\ns2,B,,,ben\n")
    argv = ["grade", str(tmp_path / "subs"), "--roster", str(tmp_path / "roster.csv"), "--work", str(tmp_path / "w")]
    assert cli.main(argv) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"error: {tmp_path / 'subs' / 'ben' / NAME} matches students s1 (A) and s2 (B)")
    assert error.count("\n") == 1


def test_a_killed_run_keeps_every_submission_it_graded(tmp_path, monkeypatch):
    """The store saves each result as it comes: a run stopped after the first keeps the first."""
    subs = tmp_path / "subs"
    subs.mkdir()
    for student in ("ann", "bob"):
        shutil.copy(SOLUTION if student == "ann" else EXERCISE, subs / f"{student}_{NAME}")

    class FakeClient:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    def one_then_killed(client, function, jobs):
        key = next(iter(jobs))
        row = Row(submission="", exercise=NAME, status="ok", tasks={1: True, 2: False})
        yield key, {"row": row, "executed": None, "log": None, "checks": {}}, None
        raise KeyboardInterrupt  # the grader is stopped

    monkeypatch.setattr(cluster, "dask_client", lambda *args: FakeClient())
    monkeypatch.setattr(cluster, "check_workers", lambda *args, **kwargs: {})
    monkeypatch.setattr(cluster, "threads_per_worker", lambda *args: {})
    monkeypatch.setattr(cluster, "run_all", one_then_killed)
    with pytest.raises(KeyboardInterrupt):
        cli.main(["grade", str(subs), "--work", str(tmp_path / "w"), "--out", str(tmp_path / "g.csv")])
    with Gradebook(tmp_path / "w" / "gradebook.sqlite") as gradebook:
        (grade,) = gradebook.grades()
    assert (grade.status, grade.exercise, [t.points for t in grade.tasks]) == ("ok", "shape_arithmetic", [1.0, 0.0])


def test_another_programs_database_is_refused(tmp_path):
    import sqlite3

    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE accounts (name TEXT)")
    before = sha256(other)
    with pytest.raises(GradebookError, match="another program's SQLite database"):
        Gradebook(other)
    assert sha256(other) == before


def test_a_changed_answer_keeps_its_score_and_says_so(tmp_path):
    path = tmp_path / "gradebook.sqlite"
    question = "Which layer holds most of the parameters?"
    with Gradebook(path) as gradebook:
        gradebook.set_roster([Student("s1", "Ann")])
        grade = Grade("shape_arithmetic", tasks=[TaskResult(1, True, 1.0, 1.0)], status="ok")
        grade.written = [WrittenAnswer(3, question, "fc1, by far", placeholder=False, max_points=2.0)]
        gradebook.record("k1", grade, [Placement("a.ipynb", "k1", "shape_arithmetic", student_id="s1")])
        gradebook.save_scores([Score("s1", "shape_arithmetic", "3", question, 1.5, "ok", "fc1,\nby  far")])
        (scored,) = gradebook.grades()
        assert (scored.written[0].score, scored.written[0].comment, scored.points) == (1.5, "ok", 2.5)
        grade.written[0].answer = "conv1"  # resubmitted with another answer
        gradebook.record("k2", grade, [Placement("a.ipynb", "k2", "shape_arithmetic", student_id="s1")])
        (changed,) = gradebook.grades()
        assert (changed.written[0].score, changed.written[0].comment) == (1.5, f"ok; {CHANGED_NOTE}")
        # the instructor deletes the note: the new answer is confirmed at its score
        sheet = tmp_path / "written_answers.csv"
        sheet.write_text(
            "student_id,submission,exercise,task,question,answer,score,max_points,comment\n"
            f"s1,a.ipynb,shape_arithmetic,3,{question},conv1,1.5,2,ok\n"
        )
        gradebook.save_scores(read_scores(sheet, gradebook.grades(), gradebook.scores()))
        (confirmed,) = gradebook.grades()
        assert (confirmed.written[0].score, confirmed.written[0].comment) == (1.5, "ok")
