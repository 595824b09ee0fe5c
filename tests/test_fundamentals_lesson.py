"""Exercises 2 (from pixels to probabilities) are fair: the classic bugs fail their own task, with a hint.

The in-process tests run the solution's cells in quick mode (setup, answers, then checks) with one
answer replaced by a buggy version; the kernel test grades a submission with two bugs.
"""

import re
from pathlib import Path

import nbformat
import pytest
from solution_cells import cell, edit

from course_tools.grading import grade_one
from course_utils.checks import CheckFailed

REPO = Path(__file__).resolve().parents[1]
NAME = "02_pixels_to_probabilities_exercises.ipynb"
ANSWERS = ["task1-answer", "task2-answer", "task3-answer", "task4-answer"]
CHECKS = ["task1-check", "task2-check", "task3-check", "task4-check"]


def solution():
    notebook = nbformat.read(REPO / "solutions" / NAME, as_version=4)
    edit(notebook, "code-01", "quick: bool = False", "quick: bool = True")
    return notebook


def run(notebook, *cell_ids, namespace=None) -> dict:
    namespace = {} if namespace is None else namespace
    for cell_id in cell_ids:
        exec(compile(cell(notebook, cell_id).source, cell_id, "exec"), namespace)
    return namespace


@pytest.fixture(scope="module")
def prepared():
    """The quick-mode setup and the solution's own answers, run once."""
    import matplotlib

    matplotlib.use("Agg")
    notebook = solution()
    return notebook, run(notebook, "code-01", "code-03", *ANSWERS)


def test_the_solution_passes_every_check_in_quick_mode(prepared):
    notebook, namespace = prepared
    run(notebook, *CHECKS, namespace=namespace)


BUGS = [  # (answer, old, new, the check that must fail, words its message must contain)
    (
        "task1-answer",
        "    shifted = logits - logits.max(dim=1, keepdim=True).values",
        "    shifted = logits",
        "task1-check",
        "subtract EACH ROW's largest",
    ),
    (
        "task1-answer",
        "    shifted = logits - logits.max(dim=1, keepdim=True).values",
        "    shifted = logits - logits.max()",
        "task1-check",
        "logits of +-1000",
    ),
    ("task1-answer", "exps.sum(dim=1, keepdim=True)", "exps.sum()", "task1-check", "each row adds up to 1"),
    (
        "task2-answer",
        "    log_probabilities = shifted - shifted.exp().sum(dim=1, keepdim=True).log()",
        "    log_probabilities = softmax(logits).log()",
        "task2-check",
        "confident mistake",
    ),
    ("task2-answer", "labels].mean()", "labels].sum()", "task2-check", "averaged with .mean()"),
    ("task3-answer", " / len(labels)", "", "task3-check", "divide (softmax - one_hot) by N"),
    (
        "task3-answer",
        "    return (softmax(logits) - one_hot) / len(labels)",
        "    watched = logits.clone().requires_grad_()\n"
        "    F.cross_entropy(watched, labels).backward()\n"
        "    return watched.grad",
        "task3-check",
        "not autograd",
    ),
    ("task4-answer", "weight - lr * grad_weight", "weight + lr * grad_weight", "task4-check", "step against it"),
    ("task4-answer", "grad_logits.T @ x", "x.T @ grad_logits", "task4-check", "G.T @ x"),
    ("task1-answer", "logits.max(dim=1, keepdim=True)", "logits.max(dim=1)", "task1-check", "keepdim=True"),
    ("task3-answer", "(softmax(logits) - one_hot)", "(one_hot - softmax(logits))", "task3-check", "mind the sign"),
    (
        "task4-answer",
        "    return weight - lr * grad_weight, bias - lr * grad_bias",
        "    weight -= lr * grad_weight\n    bias -= lr * grad_bias",
        "task4-check",
        "returns nothing gives None",
    ),
]


@pytest.mark.parametrize("answer, old, new, check, words", BUGS, ids=lambda v: v if v in ANSWERS else None)
def test_a_classic_bug_fails_its_own_check_with_a_hint(prepared, answer, old, new, check, words):
    notebook, namespace = prepared
    buggy = solution()
    edit(buggy, answer, old, new)
    run(buggy, answer, namespace=namespace)
    try:
        with pytest.raises(CheckFailed, match=re.escape(words)):
            run(notebook, check, namespace=namespace)
    finally:
        run(notebook, answer, namespace=namespace)  # the right answer again


@pytest.mark.parametrize("broken", ["task1-answer", "task3-answer"])
def test_a_broken_earlier_answer_leaves_the_later_checks_passing(prepared, broken):
    notebook, namespace = prepared
    buggy = solution()
    body = {"task1-answer": "    return exps / exps.sum(dim=1, keepdim=True)", "task3-answer": "    return (softmax("}
    old = body[broken]
    line = next(line for line in cell(buggy, broken).source.split("\n") if line.startswith(old))
    edit(buggy, broken, line, "    return 0 * logits")
    run(buggy, broken, namespace=namespace)
    try:
        with pytest.raises(CheckFailed):
            run(notebook, broken.replace("answer", "check"), namespace=namespace)
        later = CHECKS[int(broken[4]) :]
        run(notebook, *later, namespace=namespace)
    finally:
        run(notebook, broken, namespace=namespace)


@pytest.mark.kernel
def test_two_bugs_cost_two_tasks_when_graded(tmp_path):
    solutions = tmp_path / "solutions"
    solutions.mkdir()
    nbformat.write(solution(), solutions / NAME)
    student = nbformat.read(REPO / "solutions" / NAME, as_version=4)
    shift = "    shifted = logits - logits.max(dim=1, keepdim=True).values"
    edit(student, "task1-answer", shift, "    shifted = logits")
    edit(student, "task3-answer", " / len(labels)", "")
    submission = tmp_path / NAME
    nbformat.write(student, submission)
    row = grade_one(submission, solutions, tmp_path / f"executed_{NAME}", 120)
    assert row.status == "ok", row.feedback
    assert row.tasks == {1: False, 2: True, 3: False, 4: True}, row.feedback
