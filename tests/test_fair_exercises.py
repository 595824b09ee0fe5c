"""Fair exercises: one bug costs one task, visible checks catch the classic bugs, copies fail.

The kernel tests grade edited copies of the real solutions with `course_tools.grading.grade_one`,
against solutions run in quick mode (and, where the test says so, without the hidden tests, so
that only what a student sees can have failed the task). The other tests run a task's cells in
this process: setup, one answer, then its check cell (``check(task=N)``) or its hidden tests.
"""

import re
import shutil
from pathlib import Path

import nbformat
import pytest
from solution_cells import cell, edit, run_cells, run_hidden

from course_tools.grading import grade_one
from course_utils.checks import CheckFailed

REPO = Path(__file__).resolve().parents[1]
TIMEOUT = 120  # seconds per graded notebook; each needs under 15 here


def solution(name: str):
    return nbformat.read(REPO / "solutions" / name, as_version=4)


def grade(tmp_path: Path, name: str, student, hidden: bool = True):
    """Grade ``student`` against the solution ``name`` in quick mode; the gradebook row and executed notebook."""
    solutions = tmp_path / "solutions"
    solutions.mkdir(parents=True)
    reference = solution(name)
    edit(reference, "code-01", "quick: bool = False", "quick: bool = True")
    nbformat.write(reference, solutions / name)
    if hidden:
        exercise = reference.metadata["course"]["exercise_id"]
        (solutions / "hidden_tests").mkdir()
        shutil.copy(REPO / "solutions" / "hidden_tests" / f"{exercise}.py", solutions / "hidden_tests")
    submission = tmp_path / name
    nbformat.write(student, submission)
    executed = tmp_path / f"executed_{name}"
    row = grade_one(submission, solutions, executed, TIMEOUT)
    assert row.status == "ok", row.feedback
    return row, nbformat.read(executed, as_version=4)


def feedback(row, task: int) -> str:
    return next(line for line in row.feedback if line.startswith(f"task{task}: "))


# --- graded: one bug, one lost task --------------------------------------------------------


@pytest.mark.kernel
def test_a_wrong_conv_output_size_costs_task_1_only(tmp_path):
    student = solution("03_shape_arithmetic_exercises.ipynb")
    edit(student, "task1-answer", "size + 2 * padding - kernel_size", "size + padding - kernel_size")
    row, _ = grade(tmp_path, "03_shape_arithmetic_exercises.ipynb", student)
    assert row.tasks == {1: False, 2: True, 3: True, 4: True}, row.feedback
    assert "padding p adds p pixels on EACH side" in feedback(row, 1)


@pytest.mark.kernel
def test_two_conv_bugs_fail_their_own_task_on_a_visible_check(tmp_path):
    """x.flatten(), no zero_grad and no model.eval(): Tasks 1-3 fail without hidden tests; Task 4 passes.
    An answer that raises inside PyTorch fails its task with one line, not "not attempted"."""
    student = solution("04_two_conv_net_exercises.ipynb")
    edit(student, "task1-answer", "x.flatten(start_dim=1)", "x.flatten()")
    edit(student, "task2-answer", "    optimizer.zero_grad()\n", "")
    edit(student, "task3-answer", "    model.eval()\n", "")
    row, _ = grade(tmp_path, "04_two_conv_net_exercises.ipynb", student, hidden=False)
    assert row.tasks == {1: False, 2: False, 3: False, 4: True}, row.feedback
    assert "x.flatten(start_dim=1)" in feedback(row, 1)
    assert "weights after three steps" in feedback(row, 2) and "optimizer.zero_grad()" in feedback(row, 2)
    assert "behaves differently in training mode" in feedback(row, 3) and "model.eval()" in feedback(row, 3)
    edit(student, "task2-answer", "cross_entropy(model(xb), yb)", "cross_entropy(yb, model(xb))")
    row, executed = grade(tmp_path / "swapped", "04_two_conv_net_exercises.ipynb", student, hidden=False)
    assert row.tasks[2] is False and "not attempted" not in feedback(row, 2)
    assert "your code raised NotImplementedError" in feedback(row, 2) and "logits first" in feedback(row, 2)
    errors = [o for c in executed.cells if c.get("id") == "task2-check" for o in c.outputs if o.output_type == "error"]
    assert len(errors[0].traceback) == 1  # one red line


@pytest.mark.kernel
def test_a_copied_answer_fails_and_a_plot_after_a_broken_answer_says_one_line(tmp_path):
    student = solution("01_data_exploration_exercises.ipynb")
    cell(student, "task2-answer").source = (
        "from course_utils.data import normalization_stats as pixel_stats\n"
        "from course_utils.data import normalize as standardize"
    )
    edit(student, "task3-answer", "pixels[labels == d].mean(dim=0)", "pixels[labels == d].mean(dim=0).flatten()")
    row, executed = grade(tmp_path, "01_data_exploration_exercises.ipynb", student)
    assert row.tasks == {1: True, 2: False, 3: False}, row.feedback
    assert "course_utils.data.normalization_stats" in feedback(row, 2)
    errors = [o.evalue for c in executed.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert any(
        "pixel_stats is your own: this is the course's own course_utils.data.normalization_stats" in e for e in errors
    )
    plot = next(c for c in executed.cells if "showing your class_means" in c.source)
    errors = [o for o in plot.outputs if o.output_type == "error"]
    assert [e.ename for e in errors] == ["CheckFailed"]
    assert len(errors[0].traceback) == 1 and "Task 3 must pass first" in errors[0].traceback[0]


# --- in this process: visible and hidden checks, and later tasks with earlier bugs ---------


@pytest.fixture(scope="module")
def two_conv():
    """Exercises 4 set up in quick mode, with the solution's own answers to Tasks 1-3."""
    notebook = solution("04_two_conv_net_exercises.ipynb")
    edit(notebook, "code-01", "quick: bool = False", "quick: bool = True")
    return notebook, run_cells(notebook, "code-01", "code-03", "task1-answer", "task2-answer", "task3-answer")


@pytest.mark.parametrize(
    "forgotten, hint",
    [("    model.eval()\n", "model.eval()"), ("    model.train()\n", "model.train()")],
    ids=["eval", "train"],
)
def test_accuracy_without_eval_or_train_fails_the_visible_and_the_hidden_check(two_conv, forgotten, hint):
    notebook, namespace = two_conv
    answer = cell(notebook, "task3-answer").source
    buggy = answer.replace(forgotten, "")
    assert buggy != answer
    run_cells(notebook, "task3-answer", namespace=namespace, task3_answer=buggy)
    with pytest.raises(CheckFailed, match=re.escape(hint)):
        run_cells(notebook, "task3-check", namespace=namespace)
    with pytest.raises(CheckFailed, match=re.escape(hint)):
        run_hidden(notebook, 3, namespace)
    run_cells(notebook, "task3-answer", namespace=namespace)  # the right answer again


@pytest.mark.parametrize(
    "line, message",
    [
        ("    optimizer.zero_grad()\n", r"weights after three steps.*optimizer\.zero_grad\(\)"),
        ("    model.train()\n", r"back in training mode.*call model\.train\(\) first"),
    ],
    ids=["zero_grad", "model.train"],
)
def test_forgetting_a_line_of_train_step_fails_the_visible_check(two_conv, line, message):
    notebook, namespace = two_conv
    buggy = cell(notebook, "task2-answer").source.replace(line, "")
    run_cells(notebook, "task2-answer", namespace=namespace, task2_answer=buggy)
    with pytest.raises(CheckFailed, match=message):
        run_cells(notebook, "task2-check", namespace=namespace)
    run_cells(notebook, "task2-answer", namespace=namespace)


def test_flatten_without_start_dim_gets_the_flatten_hint(two_conv):
    notebook, namespace = two_conv
    buggy = cell(notebook, "task1-answer").source.replace("x.flatten(start_dim=1)", "x.flatten()")
    run_cells(notebook, "task1-answer", namespace=namespace, task1_answer=buggy)
    with pytest.raises(CheckFailed, match=r"forward pass: your code raised RuntimeError.*x\.flatten\(start_dim=1\)"):
        run_cells(notebook, "task1-check", namespace=namespace)
    run_cells(notebook, "task1-answer", namespace=namespace)


# exercise: (the earlier answer broken, the later checks that must still pass); exercises 7's broken im2col
# is tests/test_exercise_numpy_cnn.py's test_a_broken_im2col_costs_task_3_only, on its namespace set up once
BROKEN_EARLIER_ANSWERS = {
    "03_shape_arithmetic_exercises.ipynb": (
        ("task1-answer", "return (size + 2 * padding - kernel_size) // stride + 1", "return 0"),
        ["task2-check", "task3-check"],
    ),
    "09_deeper_networks_exercises.ipynb": (("task2-answer", "layers.append(nn.MaxPool2d(2))", "pass"), ["task5-check"]),
}


@pytest.mark.parametrize("name", sorted(BROKEN_EARLIER_ANSWERS), ids=lambda name: name[:2])
def test_a_broken_earlier_answer_leaves_later_checks_passing(name):
    (answer, old, new), later_checks = BROKEN_EARLIER_ANSWERS[name]
    notebook = solution(name)
    edit(notebook, "code-01", "quick: bool = False", "quick: bool = True")
    edit(notebook, answer, old, new)
    setup = [c.id for c in notebook.cells if c.cell_type == "code" and c.id.startswith("code-")][:2]
    answers = [c.id for c in notebook.cells if c.metadata.get("course", {}).get("role") == "answer"]
    namespace = run_cells(notebook, *setup, *answers)
    with pytest.raises(CheckFailed):
        run_cells(notebook, answer.replace("answer", "check"), namespace=namespace)
    run_cells(notebook, *later_checks, namespace=namespace)


@pytest.mark.parametrize(
    "wrong, right, message",
    [
        (
            "    optimizer = torch.optim.Adam(model.parameters(), lr=lr)\n",
            "",
            "one Adam optimizer for the whole training",
        ),
        ("shuffle=True", "shuffle=False", "the order of the training batches: expected 'shuffled'"),
        ("accuracy(model, data.val_x, data.val_y)", "accuracy(model, data.train_x, data.train_y)", "validation set"),
    ],
    ids=["optimizer-per-batch", "no-shuffle", "training-accuracy"],
)
def test_training_loop_mistakes_that_still_learn_fail_task_4(two_conv, wrong, right, message):
    """Each of these still reaches 87-96% (a student found them passing): the check must say what is wrong."""
    notebook, namespace = two_conv
    answer = cell(notebook, "task4-answer").source
    buggy = answer.replace(wrong, right)
    if not right:  # the optimizer moves into the batch loop
        buggy = buggy.replace(
            "            train_step(model, optimizer, xb, yb)",
            "            optimizer = torch.optim.Adam(model.parameters(), lr=lr)\n"
            "            train_step(model, optimizer, xb, yb)",
        )
    assert buggy != answer
    run_cells(notebook, "task4-answer", namespace=namespace, task4_answer=buggy)
    with pytest.raises(CheckFailed, match=re.escape(message)):
        run_cells(notebook, "task4-check", namespace=namespace)
    run_cells(notebook, "task4-answer", namespace=namespace)


# --- every exercise: its classic bugs, each failing a visible check with its hint -------------

BUG_TESTS = {  # exercise id -> the test module whose BUGS plant each classic bug and run the VISIBLE check
    "pixels_to_probabilities": "test_fundamentals_lesson",
    "beyond_mnist": "test_beyond_mnist_lesson",
    "speed": "test_speed_lesson",
}


@pytest.mark.parametrize("path", sorted((REPO / "solutions").glob("*.ipynb")), ids=lambda p: p.stem[:2])
def test_every_exercise_has_classic_bugs_for_every_task_failing_a_visible_check(path):
    """Issue 29: a bug that fails a hidden test must fail a visible check too: each exercise's test module
    lists the classic bugs of every task (``BUGS``) and asserts each fails a visible check with its hint."""
    import importlib
    import inspect

    notebook = nbformat.read(path, as_version=4)
    exercise = notebook.metadata["course"]["exercise_id"]
    module = importlib.import_module(BUG_TESTS.get(exercise, f"test_exercise_{exercise}"))
    tasks = {c.metadata["course"]["task"] for c in notebook.cells if "task" in c.metadata.get("course", {})}
    assert {bug[0] for bug in module.BUGS} == tasks, f"{module.__name__}: classic bugs for tasks"
    tests = [test for name, test in vars(module).items() if name.startswith("test_") and callable(test)]
    visible = [test for test in tests if "BUGS" in inspect.getsource(test) or "hidden=False" in inspect.getsource(test)]
    assert visible, f"{module.__name__} has no test that runs its BUGS against the visible checks"
