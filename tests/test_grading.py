"""course grade: full marks, zero, timeouts and broken files, with the submissions never modified.

One grading run (module fixture) covers a folder of submissions of the smallest exercise
notebook; the tests then read its gradebook. The unit tests at the end need no kernel.
"""

import csv
import hashlib
import shutil
from pathlib import Path

import nbformat
import pytest

from course_tools import cli
from course_tools.grading import assemble, find_solution, grade_main

REPO = Path(__file__).resolve().parents[1]
NAME = "02_shape_arithmetic_exercises.ipynb"  # the fastest exercise: no data, no training
SOLUTION, EXERCISE = REPO / "solutions" / NAME, REPO / "exercises" / NAME
TIMEOUT = 10  # seconds per submission: the full solution needs about 2


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def cell_index(notebook, cell_id: str) -> int:
    return next(i for i, c in enumerate(notebook.cells) if c.get("id") == cell_id)


def variant(folder: Path, student: str, edit) -> Path:
    """A copy of the solution, edited by ``edit(notebook)``, saved as a student's submission."""
    notebook = nbformat.read(SOLUTION, as_version=4)
    edit(notebook)
    path = folder / f"{student}_{NAME}"
    nbformat.write(notebook, path)
    return path


def loop_forever(notebook):
    # Sleeping, not spinning: the time limit must stop it all the same, without taking a core
    # from the tests running beside it.
    notebook.cells[cell_index(notebook, "task2-answer")].source = "import time\nwhile True:\n    time.sleep(0.1)"


def delete_check(notebook):
    del notebook.cells[cell_index(notebook, "task1-check")]


def print_megabytes(notebook):
    cell = notebook.cells[cell_index(notebook, "task1-answer")]
    cell.source = "for i in range(100_000):\n    print('spam', i)\nprint('x' * 5_000_000)\n" + cell.source


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("grading")
    folder = tmp / "submissions"
    folder.mkdir()
    shutil.copy(SOLUTION, folder / f"alice_{NAME}")  # the full solution
    shutil.copy(EXERCISE, folder / f"bob_{NAME}")  # the untouched exercise
    variant(folder, "carol", loop_forever)
    (folder / f"dave_{NAME}").write_bytes(SOLUTION.read_bytes()[:500])  # truncated: not valid JSON
    (folder / f"erin_{NAME}").write_bytes(b"")
    variant(folder, "frank", delete_check)
    variant(folder, "grace", print_megabytes)
    before = {p.name: sha256(p) for p in folder.iterdir()}
    out, work = tmp / "gradebook.csv", tmp / "work"
    code = cli.main(["grade", str(folder), "--timeout", str(TIMEOUT), "--out", str(out), "--work", str(work)])
    with open(out, newline="", encoding="utf-8") as f:
        rows = {Path(row["submission"]).name.split("_")[0]: row for row in csv.DictReader(f)}
    return {"code": code, "rows": rows, "before": before, "folder": folder, "work": work, "out": out}


@pytest.mark.kernel
def test_grading_succeeds_and_never_modifies_a_submission(graded):
    assert graded["code"] == 0
    after = {p.name: sha256(p) for p in graded["folder"].iterdir()}
    assert after == graded["before"]
    assert len(graded["rows"]) == 7


@pytest.mark.kernel
def test_gradebook_columns(graded):
    with open(graded["out"], newline="", encoding="utf-8") as f:
        header = next(csv.reader(f))
    assert header == [
        "submission",
        "exercise",
        "status",
        "seconds",
        "task1",
        "task2",
        "task3",
        "task4",
        "total",
        "out_of",
        "feedback",
    ]


@pytest.mark.kernel
def test_full_solution_gets_full_marks(graded):
    row = graded["rows"]["alice"]
    assert (row["status"], row["exercise"], row["total"], row["out_of"]) == ("ok", NAME, "4", "4")
    assert [row[f"task{t}"] for t in range(1, 5)] == ["pass"] * 4
    assert row["feedback"] == ""


@pytest.mark.kernel
def test_untouched_exercise_gets_zero_with_a_reason_per_task(graded):
    row = graded["rows"]["bob"]
    assert (row["status"], row["total"]) == ("ok", "0")
    assert [row[f"task{t}"] for t in range(1, 5)] == ["fail"] * 4
    assert "task1: not attempted (Task 1: conv_output_size)" in row["feedback"]
    assert row["feedback"].endswith("task4: not attempted (Task 4: receptive_field)")  # nothing else


@pytest.mark.kernel
def test_infinite_loop_is_stopped_and_earlier_tasks_still_count(graded):
    row = graded["rows"]["carol"]
    assert row["status"] == "timeout"
    assert (row["task1"], row["task2"], row["task3"], row["total"]) == ("pass", "fail", "fail", "1")
    assert row["feedback"].startswith(f"timed out after {TIMEOUT} s; task2: the time limit ran out in this task")
    assert "task3: not run (the time limit ran out earlier)" in row["feedback"]
    assert float(row["seconds"]) < TIMEOUT + 60


@pytest.mark.kernel
def test_corrupt_and_empty_files_get_error_rows(graded):
    corrupt, empty = graded["rows"]["dave"], graded["rows"]["erin"]
    assert (corrupt["status"], corrupt["total"]) == ("error", "0")
    assert "not a valid notebook" in corrupt["feedback"]
    assert (empty["status"], empty["feedback"]) == ("error", "the file is empty")


@pytest.mark.kernel
def test_deleted_check_cell_is_recorded_and_its_task_failed(graded):
    row = graded["rows"]["frank"]
    assert (row["task1"], row["task2"], row["task3"], row["task4"]) == ("fail", "pass", "pass", "pass")
    assert "task1: a check cell was deleted" in row["feedback"]


@pytest.mark.kernel
def test_megabytes_of_printing_are_capped(graded):
    row = graded["rows"]["grace"]
    assert (row["status"], row["total"]) == ("ok", "4")
    executed = next(graded["work"].glob(f"*grace_{NAME}"))
    assert executed.stat().st_size < 1_000_000
    assert "output beyond" in executed.read_text(encoding="utf-8")


# --- without a kernel ---------------------------------------------------------------------


def test_edited_checks_are_replaced_hidden_tests_restored_and_added_cells_kept():
    solution = nbformat.read(SOLUTION, as_version=4)
    student = nbformat.read(EXERCISE, as_version=4)
    student.cells[cell_index(student, "task1-check")].source = "pass  # no more checks"
    answer = cell_index(student, "task1-answer")
    student.cells[answer].source = "def conv_output_size(*args, **kwargs):\n    return helper()"
    student.cells.insert(answer, nbformat.v4.new_code_cell("def helper():\n    return 26"))
    runnable, missing = assemble(solution, student)
    sources = [c.source for c in runnable.cells]
    assert missing == {}
    check = solution.cells[cell_index(solution, "task1-check")].source
    assert check in sources and "### BEGIN HIDDEN TESTS" in check and "pass  # no more checks" not in sources
    assert sources.index("def helper():\n    return 26") < sources.index(student.cells[answer + 1].source)
    assert not any("### BEGIN SOLUTION" in s for s in sources)  # the answers are the student's


def test_find_solution_by_name_metadata_or_name_inside(tmp_path):
    solutions = REPO / "solutions"
    exercise = nbformat.read(EXERCISE, as_version=4)
    plain = nbformat.v4.new_notebook()
    assert find_solution(Path(NAME), plain, solutions) == SOLUTION
    assert find_solution(Path("homework.ipynb"), exercise, solutions) == SOLUTION  # metadata
    assert find_solution(Path(f"alice-{NAME[:-6]}-final.ipynb"), plain, solutions) == SOLUTION
    assert find_solution(Path("homework.ipynb"), plain, solutions) is None


def test_missing_paths_and_an_output_over_a_submission_are_refused(tmp_path, capsys):
    assert grade_main([str(tmp_path / "nope.ipynb")], work=str(tmp_path / "w")) == 2
    submission = tmp_path / NAME
    shutil.copy(EXERCISE, submission)
    before = sha256(submission)
    assert grade_main([str(submission)], out=str(submission), work=str(tmp_path / "w")) == 2
    assert sha256(submission) == before
    assert "is one of the submissions" in capsys.readouterr().err
