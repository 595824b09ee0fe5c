"""Exercises 2 (from pixels to probabilities) are fair: the classic bugs fail a visible check of their own
task with the hint that names them, other correct answers pass everything, and one bug costs one task.

The in-process tests run the solution's cells in quick mode (setup once, then one answer and its check,
``check(task=N)``, or its hidden tests from ``solutions/hidden_tests/``); the kernel test grades a
submission with two bugs.
"""

import re
import shutil
from pathlib import Path

import nbformat
import pytest
from solution_cells import (
    assert_bug_fails_with_hint,
    cell,
    check_task,
    edit,
    quick_exercise,
    run_cells,
    solution_answer,
)

from course_tools.grading import grade_one
from course_utils.checks import CheckFailed

REPO = Path(__file__).resolve().parents[1]
NAME = "02_pixels_to_probabilities_exercises.ipynb"
ANSWERS = ["task1-answer", "task2-answer", "task3-answer", "task4-answer"]
CHECKS = ["task1-check", "task2-check", "task3-check", "task4-check"]
SHIFT = "    shifted = scaled - scaled.max(dim=1, keepdim=True).values"
LOG_P = "    log_probabilities = shifted - shifted.exp().sum(dim=1, keepdim=True).log()"
SMOOTHED = "smoothing / n_classes)\n    targets[torch.arange(len(labels)), labels] += 1 - smoothing"
CROSS_ENTROPY = """    shifted = logits - logits.max(dim=1, keepdim=True).values
    log_probabilities = shifted - shifted.exp().sum(dim=1, keepdim=True).log()
    targets = soft_targets(labels, logits.shape[1], smoothing)
    return -(targets * log_probabilities).sum(dim=1).mean()"""
COLUMNS = """    log_p = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    return -log_p[:, labels].mean()"""
AUTOGRAD = """    watched = logits.clone().requires_grad_()
    F.cross_entropy(watched, labels, label_smoothing=smoothing).backward()
    return watched.grad"""
STEP = "    return weight - lr * grad_weight, bias - lr * grad_bias"

BUGS = [  # (task, text in the solution's answer, the mistake, the hint the check must give)
    (1, SHIFT, "    shifted = scaled", "subtract EACH ROW's largest"),
    (1, SHIFT, "    shifted = scaled - scaled.max()", "logits of +-1000"),
    (1, SHIFT, "    shifted = scaled - scaled.max()", "subtract EACH ROW's largest"),
    (1, "exps.sum(dim=1, keepdim=True)", "exps.sum()", "each row adds up to 1"),
    (1, "scaled.max(dim=1, keepdim=True)", "scaled.max(dim=1)", "keepdim=True"),
    (1, "exps.sum(dim=1, keepdim=True)", "exps.sum(dim=1)", "keepdim=True"),
    (1, "logits / temperature", "logits * temperature", "divide the logits by the temperature"),
    (1, "scaled = logits / temperature", "scaled = logits", "divide the logits by the temperature"),
    (2, LOG_P, "    log_probabilities = softmax(logits).log()", "confident mistake"),
    (2, LOG_P, "    log_probabilities = softmax(logits).log()", "log(softmax(...)) takes -ln 0 = inf"),
    (2, "sum(dim=1).mean()", "sum()", "average over the batch"),
    (2, CROSS_ENTROPY, COLUMNS, "values[torch.arange(N), labels]"),
    (
        2,
        SMOOTHED,
        "smoothing / (n_classes - 1))\n    targets[torch.arange(len(labels)), labels] = 1 - smoothing",
        "smoothing / K for",
    ),
    (2, "+= 1 - smoothing", "+= 1", "smoothing / K for every class"),
    (2, SMOOTHED, "0.0)\n    targets[torch.arange(len(labels)), labels] += 1", "smoothing / K for every class"),
    (3, " / len(labels)", "", "divide (softmax - targets) by N"),
    (3, "    return (softmax(logits) - targets) / len(labels)", AUTOGRAD, "without autograd"),
    (3, "(softmax(logits) - targets)", "(targets - softmax(logits))", "mind the sign"),
    (
        3,
        "soft_targets(labels, logits.shape[1], smoothing)",
        "soft_targets(labels, logits.shape[1])",
        "are soft_targets(",
    ),
    (4, "weight - lr * grad_weight", "weight + lr * grad_weight", "step against the gradient: weight"),
    (4, "bias - lr * grad_bias", "bias + lr * grad_bias", "step against the gradient: bias"),
    (4, "grad_logits.T @ x", "x.T @ grad_logits", "G.T @ x"),
    (4, "grad_logits.sum(dim=0)", "grad_logits.mean(dim=0)", "not .mean()"),
    (4, STEP, "    weight -= lr * grad_weight\n    bias -= lr * grad_bias", "changing them in place returns None"),
    (4, STEP, "    return weight - 0.1 * grad_weight, bias - 0.1 * grad_bias", "use the lr argument"),
]

OTHER_CORRECT_ANSWERS = [
    (
        1,
        "def softmax(logits, temperature=1.0):\n"
        "    z = logits / temperature\n"
        "    return (z - torch.logsumexp(z, dim=1, keepdim=True)).exp()\n",
    ),
    (
        2,
        "def soft_targets(labels, n_classes, smoothing=0.0):\n"
        "    return (1 - smoothing) * F.one_hot(labels, n_classes).float() + smoothing / n_classes\n\n\n"
        "def cross_entropy(logits, labels, smoothing=0.0):\n"
        "    log_p = logits - torch.logsumexp(logits, dim=1, keepdim=True)\n"
        "    picked = log_p[torch.arange(len(labels)), labels]  # ln p_y of each image\n"
        "    return (-(1 - smoothing) * picked - smoothing * log_p.mean(dim=1)).mean().item()\n",
    ),
    (
        3,
        "def cross_entropy_grad(logits, labels, smoothing=0.0):\n"
        "    n, k = logits.shape\n"
        "    one_hot = F.one_hot(labels, k).to(logits.dtype)\n"
        "    return (softmax(logits) - (1 - smoothing) * one_hot - smoothing / k) / n\n",
    ),
    (
        4,
        "def sgd_step(weight, bias, x, y, lr):\n"
        "    g = cross_entropy_grad(torch.addmm(bias, x, weight.T), y)\n"
        '    return weight - lr * torch.einsum("nk,nd->kd", g, x), bias - lr * g.sum(0)\n',
    ),
]


@pytest.fixture(scope="module")
def exercise():
    """The quick-mode setup and the solution's own answers, run once."""
    notebook, namespace = quick_exercise(REPO / "solutions" / NAME, "code-03")
    run_cells(notebook, *ANSWERS, namespace=namespace)
    return notebook, namespace


def test_the_solution_passes_every_check_in_quick_mode(exercise):
    notebook, namespace = exercise
    run_cells(notebook, *CHECKS, namespace=namespace)
    assert [cell(notebook, c).source for c in CHECKS[:3]] == [f"check(task={t})" for t in (1, 2, 3)]


@pytest.mark.parametrize("task, old, new, hint", BUGS, ids=[f"task{b[0]}-{b[3][:24]}" for b in BUGS])
def test_a_classic_bug_fails_a_visible_check_with_its_hint(exercise, task, old, new, hint):
    assert_bug_fails_with_hint(exercise, task, old, new, hidden=False, hint=hint)


@pytest.mark.parametrize("task, answer", OTHER_CORRECT_ANSWERS, ids=[f"task{a[0]}" for a in OTHER_CORRECT_ANSWERS])
def test_another_correct_answer_passes_the_visible_and_hidden_checks(exercise, task, answer):
    try:
        check_task(exercise, task, answer, hidden=True)
    finally:
        check_task(exercise, task, solution_answer(exercise, task), hidden=True)


@pytest.mark.parametrize(
    "task, name", [(1, "softmax"), (2, "soft_targets"), (3, "cross_entropy_grad"), (4, "sgd_step")]
)
def test_a_renamed_answer_gets_one_line_that_says_what_to_do(exercise, task, name):
    notebook, namespace = exercise
    answer = solution_answer(exercise, task)
    namespace.pop(name, None)
    with pytest.raises(CheckFailed, match=re.escape(f"`{name}` is not defined yet: run the cell where Task {task}")):
        check_task(exercise, task, answer.replace(f"def {name}(", f"def my_{name}("))
    check_task(exercise, task, answer)


@pytest.mark.parametrize("broken", ["task1-answer", "task2-answer", "task3-answer"])
def test_a_broken_earlier_answer_leaves_the_later_checks_passing(exercise, broken):
    notebook, namespace = exercise
    answer = cell(notebook, broken).source
    last = answer.rstrip().split("\n")[-2]  # the last line of the (last) solution region
    assert last.startswith("    return ")
    run_cells(notebook, broken, namespace=namespace, **{broken.replace("-", "_"): answer.replace(last, "    return 0")})
    try:
        with pytest.raises(CheckFailed):
            run_cells(notebook, broken.replace("answer", "check"), namespace=namespace)
        run_cells(notebook, *CHECKS[int(broken[4]) :], namespace=namespace)
    finally:
        run_cells(notebook, broken, namespace=namespace)


def test_the_weights_picture_after_a_broken_task_4_says_task_4_must_pass_first(exercise):
    notebook, namespace = exercise
    saved = namespace.pop("weight", None)
    try:
        with pytest.raises(CheckFailed, match="Task 4 must pass first"):
            run_cells(notebook, "code-11b", namespace=namespace)
    finally:
        namespace["weight"] = saved


def test_the_exercise_s_stubs_stop_each_check_as_not_attempted(exercise):
    notebook, namespace = exercise
    stubs = nbformat.read(REPO / "exercises" / NAME, as_version=4)
    for task in (1, 2, 3, 4):
        run_cells(stubs, f"task{task}-answer", namespace=namespace)
        with pytest.raises(NotImplementedError, match=f"^Task {task}: "):
            run_cells(notebook, f"task{task}-check", namespace=namespace)
        run_cells(notebook, f"task{task}-answer", namespace=namespace)


@pytest.mark.kernel
def test_two_bugs_cost_two_tasks_when_graded(tmp_path):
    solutions = tmp_path / "solutions"
    (solutions / "hidden_tests").mkdir(parents=True)
    reference = nbformat.read(REPO / "solutions" / NAME, as_version=4)
    edit(reference, "code-01", "quick: bool = False", "quick: bool = True")
    nbformat.write(reference, solutions / NAME)
    shutil.copy(REPO / "solutions" / "hidden_tests" / "pixels_to_probabilities.py", solutions / "hidden_tests")
    student = nbformat.read(REPO / "solutions" / NAME, as_version=4)
    edit(student, "task1-answer", SHIFT, "    shifted = scaled")
    edit(student, "task3-answer", " / len(labels)", "")
    submission = tmp_path / NAME
    nbformat.write(student, submission)
    row = grade_one(submission, solutions, tmp_path / f"executed_{NAME}", 120)
    assert row.status == "ok", row.feedback
    assert row.tasks == {1: False, 2: True, 3: False, 4: True}, row.feedback
