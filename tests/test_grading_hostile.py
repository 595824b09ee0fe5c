"""course grade against hostile submissions, on a tiny toy exercise (no data, no training).

The toy solution has two tasks: ``double`` (with a hidden test) and ``conv_output_size`` (its
answer must not be the course's own ``course_utils.shapes`` one; its check calls
``checks.check_equal`` through the module), and one written answer. Its check cells hold their
checks themselves (the grader arms whatever a solution's check cell is). Instructors keep the
hidden test in a private folder (``hidden_tests/toy.py``); the public copy has none.

One grading run (``graded``, module fixture) covers most submissions; two more runs cover the
public solutions and a submission that times out while a double-forked child sleeps. They grade
in the sandbox where it works (`course_tools.grading.sandbox`; its own attacks are in
test_grading_sandbox.py), except the timed-out one, which tests the defenses of a grader without
it: the child subreapers and the process-tree kill.
"""

import csv
import os
import secrets
import sys
import time
from pathlib import Path

import nbformat
import psutil
import pytest

from course_tools import cli
from course_tools.notebook_transforms import make_exercise

TOY = "01_toy_exercises.ipynb"
OTHER = "02_other_exercises.ipynb"  # another exercise, whose file name a submission borrows
TAG = f"600.{secrets.randbelow(10**6):06d}"  # `sleep 600.xxxxxx`: the children the submissions leave

SETUP = "from course_utils import checks\nfrom course_utils.checks import check_equal, explain_errors"
DOUBLE = "def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION"
DOUBLE_CHECK = 'with explain_errors("double"):\n    check_equal(double(2), 4, "double(2)")'
HIDDEN_TESTS = """from course_utils.checks import check_equal
from course_utils.exercise_checks import Tasks

hidden = Tasks("{exercise}")


@hidden(1, "double", answers=["double"])
def another_number(nb):
    check_equal(nb.double(5), 10, "double(5)")
"""
SIZE = "def conv_output_size(size, kernel):\n    ### BEGIN SOLUTION\n    return size - kernel + 1\n    ### END SOLUTION"
SIZE_CHECK = 'checks.check_equal(conv_output_size(28, 5), 24, "conv_output_size(28, 5)")'
QUESTION = "**Question.** Why does doubling twice multiply by four?\n\n**Your answer:**\n\n"
WRITTEN = QUESTION + "### BEGIN SOLUTION\nBecause 2 x 2 = 4.\n### END SOLUTION"


def cell(kind, source, cell_id, **course):
    new = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
    made = new(source, id=cell_id)
    if course:
        made.metadata["course"] = course
    return made


def toy_solution(exercise_id="toy"):
    cells = [
        cell("code", SETUP, "setup"),
        cell("code", DOUBLE, "task1-answer", task=1, title="double", role="answer"),
        cell("code", DOUBLE_CHECK, "task1-check", task=1, title="double", role="check"),
        cell(
            "code",
            SIZE,
            "task2-answer",
            task=2,
            title="conv_output_size",
            role="answer",
            forbid=["course_utils.shapes.conv_output_size"],
        ),
        cell("code", SIZE_CHECK, "task2-check", task=2, title="conv_output_size", role="check"),
        cell("markdown", WRITTEN, "written"),
    ]
    return nbformat.v4.new_notebook(cells=cells, metadata={"course": {"exercise_id": exercise_id}})


def submission(folder: Path, name: str, answers: dict, written: str | None = None, exercise=None) -> Path:
    """The toy exercise with the answer cells' sources replaced (``answers``: cell id -> source)."""
    notebook = exercise or make_exercise(toy_solution(), TOY)
    for made in notebook.cells:
        made.source = answers.get(made.id, made.source)
        if made.id == "written" and written is not None:
            made.source = QUESTION + written
    path = folder / name
    nbformat.write(notebook, path)
    return path


GOOD = {
    "task1-answer": "def double(x):\n    return x + x",
    "task2-answer": "def conv_output_size(size, kernel):\n    return size - kernel + 1",
}
LITTER = f"""import subprocess
open("pwned.txt", "w").write("here")  # a relative path
subprocess.Popen(["setsid", "sh", "-c", "sleep {TAG} > /dev/null 2>&1 &"])  # detached: a new session, reparented
"""
FORK_AND_HANG = f"""import os, time
if os.fork() == 0:  # double fork, the grandchild in a session of its own
    os.setsid()
    if os.fork() == 0:
        os.execvp("sleep", ["sleep", "{TAG}"])
    os._exit(0)
time.sleep(0.5)
while True:
    time.sleep(0.1)
"""
NOTHING = "def conv_output_size(size, kernel):\n    return 0"
HOSTILE = {
    "alice": (
        {"task1-answer": LITTER + GOOD["task1-answer"], "task2-answer": GOOD["task2-answer"]},
        "Since 2 * 2 = 4.",
    ),
    "bob": (
        {"task1-answer": "def double(x):\n    return 4 if x == 2 else 0", "task2-answer": GOOD["task2-answer"]},
        None,
    ),
    "carol": (  # (a) the checks module's functions replaced by no-ops
        {
            "task1-answer": "import course_utils.checks\ncourse_utils.checks.check_equal = lambda *a, **k: None\n"
            "def double(x):\n    return 0",
            "task2-answer": NOTHING,
        },
        "",
    ),
    "dave": (  # (b) every exception swallowed, installed from inside the checked function
        {
            "task1-answer": "def double(x):\n    get_ipython().set_custom_exc((Exception,), lambda *a, **k: None)\n"
            "    return 0",
            "task2-answer": "get_ipython().set_custom_exc((Exception,), lambda *a, **k: None)\n" + NOTHING,
        },
        None,
    ),
    "erin": (  # (c) the check functions rebound in the notebook
        {
            "task1-answer": "check_equal = lambda *a, **k: None\ndef double(x):\n    return 0",
            "task2-answer": "class checks:\n    check_equal = staticmethod(lambda *a, **k: None)\n" + NOTHING,
        },
        None,
    ),
    "frank": (  # the course's own function as the answer
        {"task1-answer": GOOD["task1-answer"], "task2-answer": "from course_utils.shapes import conv_output_size"},
        None,
    ),
}


def read_csv(path: Path) -> dict:
    with open(path, newline="", encoding="utf-8") as f:
        return {Path(row["submission"]).name.split("_")[0]: row for row in csv.DictReader(f)}


def leftover_sleeps() -> list:
    found = []
    for process in psutil.process_iter(["cmdline", "status"]):
        if process.info["status"] != psutil.STATUS_ZOMBIE and TAG in " ".join(process.info["cmdline"] or []):
            found.append(process)
    return found


# Orphans are found through the child subreaper, which only Linux has (elsewhere: grade in a container).
LINUX_ONLY = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs PR_SET_CHILD_SUBREAPER")


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A course folder (public solutions/) to grade from, and the instructor's private solutions."""
    root = tmp_path_factory.mktemp("hostile")
    public, private = root / "course" / "solutions", root / "private"
    public.mkdir(parents=True)
    private.mkdir()
    for folder in (public, private):
        nbformat.write(toy_solution(), folder / TOY)
        nbformat.write(toy_solution("other"), folder / OTHER)
    (private / "hidden_tests").mkdir()  # the public copy: the solutions without the hidden tests
    for exercise in ("toy", "other"):
        (private / "hidden_tests" / f"{exercise}.py").write_text(HIDDEN_TESTS.format(exercise=exercise))
    return root


def grade(root: Path, folder: Path, name: str, *options) -> dict:
    """``course grade folder`` run from the course folder; the gradebook and written answers."""
    out, work = root / name / "gradebook.csv", root / name / "work"
    here = os.getcwd()
    os.chdir(root / "course")
    try:
        code = cli.main(["grade", str(folder), "--out", str(out), "--work", str(work), *options])
    finally:
        os.chdir(here)
    return {"code": code, "rows": read_csv(out), "written": out.parent / "written_answers.csv", "work": work}


@pytest.fixture(scope="module")
def graded(course):
    folder = course / "submissions"
    folder.mkdir()
    for student, (answers, written) in HOSTILE.items():
        name = f"{student}_{OTHER}" if student == "alice" else f"{student}_{TOY}"  # alice: the other's name
        submission(folder, name, answers, written)
    options = ["--solutions", str(course / "private"), "--timeout", "60", "--workers", "2"]
    result = grade(course, folder, "private", *options)
    result["folder"] = folder
    result["sleeps"] = leftover_sleeps()
    return result


def verdicts(row) -> tuple:
    return row["task1"], row["task2"], row["total"]


@pytest.mark.kernel
def test_the_exercise_id_wins_over_the_file_name_and_a_good_answer_gets_full_marks(graded):
    assert graded["code"] == 0
    alice = graded["rows"]["alice"]
    assert (alice["exercise"], alice["status"], *verdicts(alice)) == ("toy", "ok", "1", "1", "2")
    assert (alice["feedback"], alice["review"]) == ("", "")


@pytest.mark.kernel
def test_hidden_tests_of_the_private_solutions_run(graded, course):
    bob = graded["rows"]["bob"]
    assert verdicts(bob) == ("0", "1", "1")
    assert "task1: double(5): expected 10, got 0" in bob["feedback"]
    bob_alone = graded["folder"] / f"bob_{TOY}"
    public = grade(course, bob_alone, "public", "--timeout", "60")  # default: the course's solutions/
    assert verdicts(public["rows"]["bob"]) == ("1", "1", "2")  # the visible check alone is fooled


@pytest.mark.kernel
def test_checks_switched_off_fail_the_task_and_are_flagged(graded):
    rows = graded["rows"]
    for student in ("carol", "dave", "erin"):
        assert verdicts(rows[student]) == ("0", "0", "0"), (student, rows[student]["feedback"])
    assert "assigns course_utils.checks.check_equal" in rows["carol"]["review"]
    assert "task2: conv_output_size(28, 5): expected 24, got 0" in rows["carol"]["feedback"]
    assert "set_custom_exc" in rows["dave"]["review"]
    assert "task1: an error was raised but not shown" in rows["dave"]["feedback"]
    assert "rebinds check_equal" in rows["erin"]["review"] and "rebinds checks" in rows["erin"]["review"]
    assert "cell 1 (task 1 answer)" in rows["erin"]["review"]


@pytest.mark.kernel
def test_the_course_s_own_function_fails_its_task(graded):
    frank = graded["rows"]["frank"]
    assert verdicts(frank) == ("1", "0", "1")
    assert (
        "task2: the answer uses the course's own conv_output_size (course_utils.shapes.conv_output_size); "
        "write your own" in frank["feedback"]
    )


@pytest.mark.kernel
def test_written_answers_are_listed_with_placeholders_flagged(graded):
    with open(graded["written"], newline="", encoding="utf-8") as f:
        rows = {Path(r["submission"]).name.split("_")[0]: r for r in csv.DictReader(f)}
    assert list(rows["alice"])[2:8] == ["submission", "exercise", "task", "question", "answer", "placeholder"]
    assert len(rows) == len(HOSTILE)
    assert (rows["alice"]["exercise"], rows["alice"]["task"]) == ("toy", "2")
    assert rows["alice"]["question"] == "Why does doubling twice multiply by four?"
    assert (rows["alice"]["answer"], rows["alice"]["placeholder"]) == ("Since 2 * 2 = 4.", "no")
    assert (rows["bob"]["answer"], rows["bob"]["placeholder"]) == ("_Write your answer here._", "yes")
    assert (rows["carol"]["answer"], rows["carol"]["placeholder"]) == ("", "yes")


@pytest.mark.kernel
@LINUX_ONLY
def test_relative_writes_and_detached_children_do_not_outlive_the_submission(graded, course):
    assert graded["sleeps"] == []
    for folder in (graded["folder"], course / "course", graded["work"], Path.cwd()):
        assert not (folder / "pwned.txt").exists()
    assert "pwned.txt" not in os.listdir(Path(__file__).resolve().parents[1])


@pytest.mark.kernel
@LINUX_ONLY
def test_a_timed_out_submission_leaves_no_double_forked_child(course):
    folder = course / "hanging"
    folder.mkdir()
    submission(folder, f"grace_{TOY}", {"task1-answer": FORK_AND_HANG, "task2-answer": GOOD["task2-answer"]})
    start = time.monotonic()
    result = grade(course, folder, "hanging-out", "--timeout", "8", "--no-sandbox")  # the home-made defenses
    row = result["rows"]["grace"]
    assert (row["status"], row["task1"], row["task2"]) == ("timeout", "0", "0")
    assert "task1: the time limit ran out in this task" in row["feedback"]  # so the answer did fork
    assert time.monotonic() - start < 60
    assert leftover_sleeps() == []


@pytest.fixture(scope="module", autouse=True)
def _no_sleep_left_behind():
    yield
    for process in leftover_sleeps():  # if a test failed, do not leave them for the next run
        process.kill()
