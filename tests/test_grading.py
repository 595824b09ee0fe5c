"""course grade: full marks, zero, timeouts and broken files, with the submissions never modified.

One grading run (module fixture, two workers: the submission that loops sleeps beside the others)
covers a folder of submissions of the smallest exercise notebook, against a copy of the solutions
whose hidden tests import check modules in both ``from`` forms; the tests then read its gradebook.
The unit tests at the end need no kernel.
"""

import csv
import hashlib
import json
import shutil
from pathlib import Path

import nbformat
import pytest

from course_tools import cli
from course_tools.grading import (
    arm,
    assemble,
    checks_file,
    find_solution,
    forbidden_uses,
    grade_main,
    review,
    review_code,
    written_answers,
)

REPO = Path(__file__).resolve().parents[1]
NAME = "03_shape_arithmetic_exercises.ipynb"  # the fastest exercise: no data, no training
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


def patch_the_check_module(notebook):
    """A wrong Task 1 answer that switches off the check it will meet: the module's task and `check`."""
    notebook.cells[cell_index(notebook, "task1-answer")].source = (
        "import course_utils.exercise_checks.shape_arithmetic as module\n"
        "module.tasks.functions[1] = lambda nb: None\n"
        "check = lambda task: None\n"
        "def conv_output_size(size, kernel_size, stride=1, padding=0):\n    return size"
    )


def print_megabytes(notebook):
    cell = notebook.cells[cell_index(notebook, "task1-answer")]
    cell.source = "for i in range(100_000):\n    print('spam', i)\nprint('x' * 5_000_000)\n" + cell.source


def solutions_whose_hidden_tests_import_parts(folder: Path) -> Path:
    """``folder``/solutions: the solution, and its hidden tests with both ``from`` forms of importing
    the check modules (`from course_utils.exercise_checks import part`, `from ...part import x`)."""
    solutions = folder / "solutions"
    (solutions / "hidden_tests").mkdir(parents=True)
    shutil.copy(SOLUTION, solutions)
    hidden = (REPO / "solutions" / "hidden_tests" / "shape_arithmetic.py").read_text()
    parts = (
        "from course_utils.exercise_checks import mistakes, shape_arithmetic\nassert mistakes and shape_arithmetic\n"
    )
    first = "from course_utils.exercise_checks import Tasks\n"
    assert first in hidden
    (solutions / "hidden_tests" / "shape_arithmetic.py").write_text(hidden.replace(first, parts + first))
    return solutions


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
    variant(folder, "heidi", patch_the_check_module)
    before = {p.name: sha256(p) for p in folder.iterdir()}
    out, work = tmp / "gradebook.csv", tmp / "work"
    # Two workers: carol's submission sleeps through its time limit while the others are graded.
    solutions = solutions_whose_hidden_tests_import_parts(tmp)
    options = ["--timeout", str(TIMEOUT), "--workers", "2", "--solutions", str(solutions)]
    code = cli.main(["grade", str(folder), *options, "--out", str(out), "--work", str(work)])
    with open(out, newline="", encoding="utf-8") as f:
        rows = {Path(row["submission"]).name.split("_")[0]: row for row in csv.DictReader(f)}
    return {"code": code, "rows": rows, "before": before, "folder": folder, "work": work, "out": out}


@pytest.mark.kernel
def test_grading_succeeds_and_never_modifies_a_submission(graded):
    assert graded["code"] == 0
    after = {p.name: sha256(p) for p in graded["folder"].iterdir()}
    assert after == graded["before"]
    assert len(graded["rows"]) == 8


@pytest.mark.kernel
def test_gradebook_columns(graded):
    with open(graded["out"], newline="", encoding="utf-8") as f:
        header = next(csv.reader(f))
    assert header == [
        "student_id",
        "name",
        "section",
        "exercise",
        "submission",
        "status",
        "seconds",
        "submitted_at",
        "late_days",
        "penalty",
        "task1",
        "task2",
        "task3",
        "task4",
        "written",
        "total",
        "max",
        "feedback",
        "review",
    ]


@pytest.mark.kernel
def test_full_solution_gets_full_marks(graded):
    row = graded["rows"]["alice"]
    assert (row["status"], row["exercise"], row["total"]) == ("ok", "shape_arithmetic", "4")
    assert [row[f"task{t}"] for t in range(1, 5)] == ["1"] * 4  # points earned
    assert row["feedback"] == "" and row["review"] == ""


@pytest.mark.kernel
def test_untouched_exercise_gets_zero_with_a_reason_per_task(graded):
    """Also test_exercises.py's proof that an untouched exercise fails only as unfinished, for this
    exercise (which quick mode does not change): test_exercises.py grades the others."""
    row = graded["rows"]["bob"]
    assert (row["status"], row["total"]) == ("ok", "0")
    assert [row[f"task{t}"] for t in range(1, 5)] == ["0"] * 4
    assert "task1: not attempted (Task 1: conv_output_size)" in row["feedback"]
    assert row["feedback"].endswith("task4: not attempted (Task 4: receptive_field)")  # nothing else
    lines = row["feedback"].split("; ")
    assert len(lines) == 4, lines  # one line per task, no other note
    for task, line in enumerate(lines, start=1):
        assert line.startswith(f"task{task}: not attempted (Task {task}: "), lines
    executed = nbformat.read(next(graded["work"].glob(f"*bob_{NAME}")), as_version=4)
    errors = [o for c in executed.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert "NotDoneYet" in {e.ename for e in errors}  # a NotImplementedError, shown in one line
    for error in errors:  # a cell after a task says so in one line
        assert error.ename in ("NotDoneYet", "NotImplementedError") or "must pass first" in error.evalue, error.evalue
        assert error.ename == "CheckFailed" or error.evalue.startswith("Task "), error.evalue
        assert len(error.traceback) == 1 or error.ename == "NotImplementedError", error.traceback  # one line


@pytest.mark.kernel
def test_infinite_loop_is_stopped_and_earlier_tasks_still_count(graded):
    row = graded["rows"]["carol"]
    assert row["status"] == "timeout"
    assert (row["task1"], row["task2"], row["task3"], row["total"]) == ("1", "0", "0", "1")
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
    assert (row["task1"], row["task2"], row["task3"], row["task4"]) == ("0", "1", "1", "1")
    assert "task1: a check cell was deleted" in row["feedback"]


@pytest.mark.kernel
def test_megabytes_of_printing_are_capped(graded):
    row = graded["rows"]["grace"]
    assert (row["status"], row["total"]) == ("ok", "4")
    executed = next(graded["work"].glob(f"*grace_{NAME}"))
    assert executed.stat().st_size < 1_000_000
    assert "output beyond" in executed.read_text(encoding="utf-8")


@pytest.mark.kernel
def test_a_patched_check_module_or_check_changes_nothing(graded):
    row = graded["rows"]["heidi"]
    assert (row["task1"], row["task2"], row["task3"], row["task4"]) == ("0", "1", "1", "1")
    assert "task1: no padding: conv_output_size(28, 5, stride=1, padding=0): expected 24, got 28" in row["feedback"]
    assert "rebinds check" in row["review"] and "assigns module.tasks" in row["review"]


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
    assert check == "check(task=1)" and "pass  # no more checks" not in sources
    armed = [source for source in sources if check in source]
    assert len(armed) == 1  # the solution's check, armed (see below), with the hidden tests of Task 1 after it
    assert ".verdicts(1, namespace" in armed[0] and armed[0].index(check) < armed[0].index("(failed=False)")
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


def test_the_exercise_id_wins_over_another_lesson_s_file_name():
    exercise = nbformat.read(EXERCISE, as_version=4)
    assert exercise.metadata["course"]["exercise_id"] == "shape_arithmetic"
    del exercise.metadata["course"]["generated_from"]
    renamed = Path("04_two_conv_net_exercises.ipynb")  # renumbered lessons: another exercise's name
    assert find_solution(renamed, exercise, REPO / "solutions") == SOLUTION
    exercise.metadata["course"]["exercise_id"] = "no such exercise"  # unknown id: the name decides
    assert find_solution(renamed, exercise, REPO / "solutions") == REPO / "solutions" / renamed.name


def test_check_cells_are_armed_with_fresh_checks_and_a_token_answers_untouched():
    runnable, _ = assemble(nbformat.read(SOLUTION, as_version=4), nbformat.read(EXERCISE, as_version=4), "/x/checks.py")
    checks = [c for c in runnable.cells if c.metadata.get("grading", {}).get("role") == "check"]
    answers = [c for c in runnable.cells if c.metadata.get("grading", {}).get("role") == "answer"]
    assert len(checks) == len(answers) == 4
    tokens = {c.metadata["grading"]["token"] for c in checks}
    assert len(tokens) == 4  # one per cell
    for cell in checks:
        assert "spec_from_file_location" in cell.source and "'/x/checks.py'" in cell.source
        assert "'check': ('exercise', 'check')" in cell.source and "set_custom_exc((), None)" in cell.source
        assert (
            cell.source.rstrip()
            .split("\n")[-1]
            .startswith(f'print("[grader: cell complete {cell.metadata["grading"]["token"]}]")')
        )
    assert not any("_grader_arm" in c.source for c in answers)


def test_an_armed_check_ignores_no_op_checks_in_the_namespace():
    namespace = {"check_equal": lambda *args, **kwargs: None}  # what a student left behind
    source = arm('check_equal(1, 2, "one")', {"check_equal": "check_equal"}, "tok", checks_file())
    with pytest.raises(AssertionError, match="one: expected 2, got 1"):  # CheckFailed, from a fresh copy
        exec(compile(source, "check", "exec"), namespace)


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("import course_utils.checks as c\nc.check_equal = print", "assigns c.check_equal"),
        ("from course_utils import checks\nsetattr(checks, 'check_close', print)", "calls setattr on checks"),
        ("from course_utils.checks import check_equal", "imports course_utils.checks"),
        ("import sys\nsys.modules['course_utils.checks'] = None", "uses sys.modules"),
        ("import builtins\nbuiltins.print = len", "imports builtins"),
        ("__builtins__['len'] = max", "uses __builtins__ (builtins)"),
        ("import sys\nsys.excepthook = print", "uses sys.excepthook (exception hooks)"),
        ("get_ipython().set_custom_exc((Exception,), print)", "uses get_ipython().set_custom_exc"),
        ("from IPython.core.interactiveshell import InteractiveShell", "imports InteractiveShell"),
        ("import importlib, course_utils\nimportlib.reload(course_utils)", "uses importlib.reload"),
        ("print(open('build/grading/001-x.log').read())", "mentions 'build/grading'"),
        ("import course_tools.grading", "imports course_tools (the grader)"),
        ("import sys\nsys._getframe(1).f_globals['real'] = 0", "the caller's frames"),
        ("exec('print(1)')", "calls exec"),
        ("check_shape = lambda *a: None", "rebinds check_shape"),
        ("class Anything:\n    def __eq__(self, other):\n        return True", "defines __eq__"),
        ("!cat ../course_utils/checks.py\nx = 1", "mentions 'checks.py'"),
        ("def broken(:\n    sys.modules.clear()", "mentions 'sys.modules'"),  # no AST: the text
    ],
)
def test_review_flags_code_that_touches_the_grading(code, reason):
    reasons = review_code(code, frozenset({"check_equal", "check_shape", "checks"}))
    assert any(reason in r for r in reasons), reasons


def test_review_leaves_ordinary_answers_alone():
    ordinary = (
        "import torch\nfrom torch import nn\nimport numpy as np\n%matplotlib inline\n"
        "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        setattr(self, 'fc', nn.Linear(2, 2))\n        self.fc.weight.data[:] = 0\n"
        "def check(x):\n    return np.log(x)\nmodel = Net()\nmodel.fc.bias = None\n"
        "model.eval()\nfast = torch.compile(model)\n"
    )
    assert review_code(ordinary, frozenset({"check_equal"})) == []
    assert review_code("Anything = type('int', (), {'__eq__': lambda s, o: True})") == [
        "builds a class with type(name, bases, dict)"
    ]


def forbid_verdict(*student_cells):
    """forbidden_uses for a toy solution whose task 2 must not be the course's vgg_block."""
    answer = nbformat.v4.new_code_cell("def vgg_block():\n    ### BEGIN SOLUTION\n    pass\n    ### END SOLUTION")
    answer.metadata["course"] = {"task": 2, "role": "answer", "title": "vgg_block"}
    answer.metadata["course"]["forbid"] = ["course_utils.models.vgg_block"]
    first = nbformat.v4.new_code_cell("x = 1")
    first.metadata["course"] = {"task": 1, "role": "answer", "title": "one"}
    solution = nbformat.v4.new_notebook(cells=[first, answer])
    student = nbformat.v4.new_notebook(
        cells=[_copy_cell(first, student_cells[0]), _copy_cell(answer, student_cells[1])]
    )
    student.cells += [nbformat.v4.new_code_cell(extra) for extra in student_cells[2:]]  # added after task 2
    runnable, _ = assemble(solution, student, "/x/checks.py")
    return forbidden_uses(solution, runnable)


def _copy_cell(cell, source):
    copy = nbformat.from_dict(json.loads(json.dumps(cell)))
    copy.source = source
    return copy


@pytest.mark.parametrize(
    "cells",
    [
        ("x = 1", "from course_utils.models import vgg_block"),
        ("x = 1", "from course_utils import vgg_block as mine\nblock = mine(3, 8)"),
        ("import course_utils.models as m", "block = m.vgg_block(3, 8)"),
        ("import course_utils as cu", "def make():\n    return cu.vgg_block(3, 8)"),
        ("from course_utils import models", "vgg = getattr(models, 'vgg_block')"),
        ("from course_utils.models import vgg_block", "block = vgg_block(3, 8)"),  # imported in task 1
        ("x = 1", "pass", "from course_utils.models import *"),  # in a cell added after the answer
    ],
)
def test_the_course_s_own_answer_fails_its_task(cells):
    message = "the answer uses the course's own vgg_block (course_utils.models.vgg_block); write your own"
    assert forbid_verdict(*cells) == {2: message}


def test_names_the_solution_imported_count_and_other_packages_attributes_do_not():
    setup = nbformat.v4.new_code_cell(
        "import torch\nfrom course_utils import models\nfrom course_utils.models import vgg_block"
    )
    answer = nbformat.v4.new_code_cell("def block():\n    ### BEGIN SOLUTION\n    pass\n    ### END SOLUTION")
    answer.metadata["course"] = {"task": 1, "role": "answer", "forbid": ["course_utils.models.vgg_block"]}
    solution = nbformat.v4.new_notebook(cells=[setup, answer])
    for source, flagged in [
        ("def block():\n    return vgg_block(3, 8)", True),  # the name the setup cell imported
        ("def block():\n    return vars(models)['vgg_block'](3, 8)", True),
        ("def block():\n    return torch.nn.vgg_block", False),  # another package's attribute
        ("def vgg_block(a, b):\n    return a\ndef block():\n    return vgg_block(3, 8)", False),  # their own
    ]:
        runnable, _ = assemble(solution, nbformat.v4.new_notebook(cells=[_copy_cell(answer, source)]), "/x/checks.py")
        assert bool(forbidden_uses(solution, runnable)) == flagged, source


def test_the_review_skips_cells_identical_to_the_solution_s():
    """A notebook without cell ids brings the setup cell back as a student cell: it is not theirs."""
    setup = nbformat.v4.new_code_cell("from course_utils.checks import check_equal\nimport sys")
    runnable = nbformat.v4.new_notebook(cells=[nbformat.from_dict(json.loads(json.dumps(setup)))])
    runnable.cells[0].metadata["grading"] = {"from": "student", "task": None}
    assert review(runnable, frozenset({"check_equal"}))  # as a student's own cell it would be flagged
    assert review(runnable, frozenset({"check_equal"}), {setup.source}) == []


def test_names_forbidden_from_other_libraries_are_found_too():
    answer = nbformat.v4.new_code_cell("def confusion(a, b):\n    ### BEGIN SOLUTION\n    pass\n    ### END SOLUTION")
    answer.metadata["course"] = {"task": 1, "role": "answer", "forbid": ["sklearn.metrics.confusion_matrix"]}
    solution = nbformat.v4.new_notebook(cells=[answer])
    for source, verdict in [
        ("from sklearn.metrics import confusion_matrix as cm\ndef confusion(a, b):\n    return cm(a, b)", 1),
        ("import sklearn.metrics as m\ndef confusion(a, b):\n    return m.confusion_matrix(a, b)", 1),
        ("from course_utils import confusion_matrix\ndef confusion(a, b):\n    return 0", 0),  # other package
    ]:
        runnable, _ = assemble(solution, nbformat.v4.new_notebook(cells=[_copy_cell(answer, source)]), "/x/checks.py")
        expected = {1: "the answer uses confusion_matrix (sklearn.metrics.confusion_matrix); write your own"}
        assert forbidden_uses(solution, runnable) == (expected if verdict else {}), source


@pytest.mark.parametrize(
    "cells",
    [
        ("x = 1", "def vgg_block(a, b):\n    return [a, b]\nblock = vgg_block(3, 8)"),
        ("from course_utils.models import vgg_block", "def vgg_block(a, b):\n    return a\nprint(vgg_block(1, 2))"),
        (
            "x = 1",
            "class Net:\n    def vgg_block(self):\n        return 1\n    def forward(self):\n"
            "        return self.vgg_block()",
        ),
        ("from course_utils.models import ConvNet", "def vgg_block():\n    return ConvNet()"),
    ],
)
def test_the_student_s_own_function_of_that_name_is_fine(cells):
    assert forbid_verdict(*cells) == {}


def test_a_deleted_written_answer_is_assembled_as_the_exercise_s_stub_never_the_model_answer():
    solution, student = nbformat.read(SOLUTION, as_version=4), nbformat.read(EXERCISE, as_version=4)
    student.cells = [c for c in student.cells if c.get("id") != "md-15"]  # the written answer's cell
    runnable, _ = assemble(solution, student)
    (question,) = [c for c in runnable.cells if c.get("id") == "md-15"]
    assert question.metadata["grading"]["from"] == "solution"
    assert "_Write your answer here._" in question.source and "**Question.**" in question.source
    assert "fc1 holds" not in question.source and "BEGIN SOLUTION" not in question.source


def test_written_answers_are_extracted_and_placeholders_recognised():
    solution = nbformat.read(SOLUTION, as_version=4)
    (left,) = written_answers(solution, nbformat.read(EXERCISE, as_version=4))
    assert (left.task, left.answer, left.placeholder, left.max_points) == (3, "_Write your answer here._", True, 1.0)
    assert left.question == (
        "Which layer holds most of the parameters, and why? "
        "If the network had to be much smaller, which change to the architecture would save the most?"
    )  # the whole question: an instructor grades the answer against all of it
    (done,) = written_answers(solution, solution)
    assert done.answer.startswith("fc1 holds") and not done.placeholder
    below = nbformat.read(EXERCISE, as_version=4)  # answered in a new markdown cell under the question
    question = next(i for i, c in enumerate(below.cells) if "_Write your answer here._" in c.source)
    below.cells.insert(question + 1, nbformat.v4.new_markdown_cell("fc1: 500 x 50 weights."))
    (typed_below,) = written_answers(solution, below)
    assert (typed_below.answer, typed_below.placeholder) == ("fc1: 500 x 50 weights.", False)


def test_solutions_option_points_the_grader_at_another_folder(tmp_path, capsys):
    submission = tmp_path / NAME
    shutil.copy(EXERCISE, submission)
    (tmp_path / "private").mkdir()
    argv = ["grade", str(submission), "--solutions", str(tmp_path / "private"), "--work", str(tmp_path / "w")]
    assert cli.main(argv) == 2
    assert f"no solution notebooks in {tmp_path / 'private'}" in capsys.readouterr().err


def test_the_executed_copy_replaces_a_link_planted_in_its_place(tmp_path):
    """A submission cannot make the grader write through a symbolic link in --work."""
    from course_tools.grading import _replace

    victim = tmp_path / "victim.ipynb"
    victim.write_text("a student's work")
    planted = tmp_path / "002-next.ipynb"
    planted.symlink_to(victim)
    _replace(planted, "executed copy")
    assert victim.read_text() == "a student's work"
    assert not planted.is_symlink() and planted.read_text() == "executed copy"


@pytest.mark.parametrize("path", sorted((REPO / "solutions").glob("*.ipynb")), ids=lambda p: p.name[:2])
def test_a_correct_solution_handed_in_is_neither_flagged_nor_refused(path):
    """The reference answers themselves: no review note and no forbidden use (no false alarms)."""
    from course_tools.grading import guarded_names

    solution = nbformat.read(path, as_version=4)
    runnable, missing = assemble(solution, nbformat.read(path, as_version=4), "/x/checks.py")
    assert missing == {} and forbidden_uses(solution, runnable) == {}
    assert review(runnable, guarded_names(solution, checks_file().read_text())) == []


def test_rebinding_a_course_function_the_checks_compare_with_is_flagged():
    from course_tools.grading import guarded_names

    solution = nbformat.read(REPO / "solutions" / NAME, as_version=4)
    names = guarded_names(solution, checks_file().read_text())
    assert "count_parameters" in names and "shapes" not in names  # a module name is an ordinary variable
    assert review_code("count_parameters = lambda model: 0", names) == ["rebinds count_parameters"]


def test_written_answers_are_named_after_another_gradebook(tmp_path, capsys):
    """Two runs with different --out in one folder keep their written answers apart."""
    submission = tmp_path / NAME
    shutil.copy(EXERCISE, submission)
    empty = tmp_path / "empty.ipynb"
    empty.write_text("")
    for out in ("gradebook.csv", "week2.csv"):
        assert cli.main(["grade", str(empty), "--out", str(tmp_path / out), "--work", str(tmp_path / "w")]) == 0
    assert (tmp_path / "written_answers.csv").exists() and (tmp_path / "week2_written_answers.csv").exists()


def test_the_runner_leaves_out_the_iri_grammar_jsonschema_would_build():
    """The runner starts once per submission; nbformat's jsonschema would build rfc3987_syntax's grammar
    there (1.4 s), for formats no notebook schema uses."""
    import subprocess
    import sys

    from course_tools.grading.isolate import RUNNER

    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", RUNNER], capture_output=True, text=True, timeout=60
    )
    assert "usage: python -m course_tools.grading.isolate" in done.stderr  # the runner's module ran, as __main__
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert {"nbformat", "jsonschema"} <= imported  # its import of rfc3987_syntax fails, at once
    assert not any(name.startswith("rfc3987_syntax.") for name in imported), sorted(imported)


def test_feedback_is_cut_at_a_word_boundary():
    from course_tools.grading import shorten

    text = "word " * 100
    cut = shorten(text.strip(), 300)
    assert len(cut) <= 300 and cut.endswith("word...") and shorten("short", 300) == "short"


def test_a_failing_cell_after_a_task_names_the_task_whose_answer_it_used():
    from course_tools.grading import score

    def code(source, task=None, role=None, error=None):
        made = nbformat.v4.new_code_cell(source)
        made.metadata["grading"] = {"task": task, "role": role, "from": "solution" if role != "answer" else "student"}
        made.execution_count = 1
        if error:
            made.outputs = [nbformat.v4.new_output("error", ename="TypeError", evalue=error, traceback=[error])]
        return made

    executed = nbformat.v4.new_notebook(
        cells=[
            code("def means(x):\n    return x", task=1, role="answer"),
            code("check(task=1)", task=1, role="check"),
            code("def plot(x):\n    return x", task=2, role="answer"),
            code("check(task=2)", task=2, role="check"),
            code("show(means(data))", error="bad shape"),  # after Task 2, but it uses Task 1's answer
        ]
    )
    results, notes = score(executed, {})
    assert [(r.task, r.passed, r.points) for r in results] == [(1, True, 1.0), (2, True, 1.0)]
    assert notes == ["the cell after Task 2 (it uses your answers to Task 1) failed: TypeError: bad shape"]
    # Through a helper of the setup: the training cell calls loss_and_grads, which calls Task 1's answer.
    helper = code("def loss_and_grads(x):\n    return means(x)")
    executed.cells[4:4] = [helper]
    executed.cells[-1].source = "train(loss_and_grads)"
    assert score(executed, {})[1] == [
        "the cell after Task 2 (it uses your answers to Task 1) failed: TypeError: bad shape"
    ]
    executed.cells[1].outputs = [nbformat.v4.new_output("error", ename="CheckFailed", evalue="wrong", traceback=["x"])]
    results, notes = score(executed, {})
    assert ([r.passed for r in results], [r.hint for r in results], notes) == ([False, True], ["wrong", ""], [])
    # Task 1's own line says it all


def test_written_answers_are_filed_under_their_own_task_section():
    def markdown(source, cell_id):
        return nbformat.v4.new_markdown_cell(source, id=cell_id)

    def task_cell(task, cell_id):
        made = nbformat.v4.new_code_cell("x = 1", id=cell_id)
        made.metadata["course"] = {"task": task, "role": "check", "title": "t"}
        return made

    answer = "**Question.** Why?\n\n### BEGIN SOLUTION\nBecause.\n### END SOLUTION"
    solution = nbformat.v4.new_notebook(
        cells=[
            markdown("## Task 1: one", "h1"),
            task_cell(1, "c1"),
            markdown(answer, "q1"),
            markdown("## Task 2: two\n\n" + answer, "q2"),
            task_cell(2, "c2"),
            markdown("## Questions to think about\n\n" + answer, "q3"),
        ]
    )
    assert [a.task for a in written_answers(solution, solution)] == [1, 2, ""]


@pytest.mark.kernel
def test_hidden_tests_may_import_check_modules_in_either_from_form(graded):
    """`from course_utils.exercise_checks import part` finds the grader's fresh copy, like `from ...part import x`:
    the full solution, graded against hidden tests that import both ways, gets full marks."""
    row = graded["rows"]["alice"]
    assert (row["status"], row["total"], row["feedback"]) == ("ok", "4", "")
    executed = next(graded["work"].glob(f"*alice_{NAME}"))
    assert executed.with_name(f"{executed.stem}.exercise.mistakes.py").is_file()  # loaded fresh, a part of the checks
