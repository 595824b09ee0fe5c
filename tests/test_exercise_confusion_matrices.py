"""Exercises 6 (confusion matrices, and a machine that knows when to ask) are fair: classic bugs fail a
visible check with the hint that names them, other correct answers pass every check, hidden tests
included, a renamed answer gets one line, and a broken earlier task costs only itself.

The cells run in this process, the setup in quick mode (one epoch on 1,000 images, a few seconds), as
in tests/test_fair_exercises.py.
"""

from pathlib import Path

import pytest
from conftest import verified_data_root
from solution_cells import assert_bug_fails_with_hint, check_task, quick_exercise, run_cells, solution_answer

from course_utils.checks import CheckFailed

SOLUTION = Path(__file__).resolve().parents[1] / "solutions" / "06_confusion_matrices_exercises.ipynb"


@pytest.fixture(scope="module")
def exercise():
    """The solution notebook and a namespace with its setup run in quick mode (no answers yet)."""
    verified_data_root("mnist")
    return quick_exercise(SOLUTION, "code-03")


DEFERRAL = "    return confusion_matrix(y_true, predicted, n + 1)[:n]\n"
STOP_AT_FIRST_MISS = """    found = None
    for threshold in confidence.unique().flip(0):  # from the most confident down
        answered = confidence >= threshold
        if (predicted[answered] == y_true[answered]).double().mean() < target:
            break
        found = threshold.item(), answered.double().mean().item()
    return found
"""
LOOP = STOP_AT_FIRST_MISS.split("\n", 1)[0]
BUGS = [  # (task, text of the solution's answer, the bug that replaces it, the hint the check must give)
    (1, "pair = y_true * n_classes + y_pred", "pair = y_pred * n_classes + y_true", "rows are the TRUE classes"),
    (1, "torch.bincount(pair, minlength=n_classes**2)", "torch.bincount(pair)", "minlength=n_classes ** 2"),
    (1, ".reshape(n_classes, n_classes)", ".reshape(n_classes, n_classes).float()", "keep bincount's integer"),
    (2, "confidence >= threshold", "confidence > threshold", "confidence >= threshold"),
    (2, "predicted = torch.where(", "unused = torch.where(", "not to its prediction's column"),
    (2, "n + 1)[:n]", "n + 1)", "keep the first n rows"),
    (2, "n + 1)[:n]", "n + 1)[:n].float()", "keep bincount's integer"),
    (
        2,
        DEFERRAL,
        "    kept = predicted < n\n    return confusion_matrix(y_true[kept], predicted[kept], n + 1)[:n]\n",
        "every image counts once",
    ),
    (3, "return precision, recall", "return recall, precision", "precision by the COLUMN sums"),
    (3, "cm[:, :n].sum(dim=0)", "cm.sum(dim=0)", "the n prediction columns, cm[:, :n]"),
    (3, "cm.sum(dim=1).clamp(min=1)", "cm[:, :n].sum(dim=1).clamp(min=1)", "include the deferred column"),
    (3, "cm[:, :n].sum(dim=0).clamp(min=1)", "cm[:, :n].sum(dim=0)", "sums.clamp(min=1)"),
    (4, "in confidence.unique():", "in confidence.unique().flip(0):", "the LOWEST threshold"),
    (4, "answered = confidence >= threshold", "answered = confidence > threshold", "confidence >= threshold"),
    (4, "if accuracy >= target:", "if accuracy > target:", "accuracy >= target"),
    (4, ".double().mean()\n        if", ".double().sum() / len(y_true)\n        if", "the ANSWERED images"),
    (4, "answered.double().mean().item()", "answered.double().sum().item()", "a fraction of all the images"),
    (4, "return threshold.item(),", "return threshold,", "Python floats"),
]


@pytest.mark.parametrize("task, old, new, hint", BUGS, ids=[f"task{b[0]}-{b[3][:24]}" for b in BUGS])
def test_a_classic_bug_fails_a_visible_check_with_its_hint(exercise, task, old, new, hint):
    assert_bug_fails_with_hint(exercise, task, old, new, hidden=False, hint=hint, recheck=False)


def test_stopping_at_the_first_threshold_that_misses_is_named(exercise):
    answer = solution_answer(exercise, 4)
    body = answer[answer.index("    for threshold") : answer.index("    ### END SOLUTION")]
    with pytest.raises(CheckFailed, match="accuracy can rise again as the threshold falls"):
        check_task(exercise, 4, answer.replace(body, STOP_AT_FIRST_MISS))
    check_task(exercise, 4, answer, hidden=True)


OTHER_CORRECT_ANSWERS = {
    1: """
def confusion_matrix(y_true, y_pred, n_classes=10):
    one_hot = torch.nn.functional.one_hot
    return one_hot(y_true, n_classes).T @ one_hot(y_pred, n_classes)  # a matrix product counts the pairs
""",
    2: """
def confusion_with_deferral(y_true, probs, threshold):
    n = probs.shape[1]
    cm = torch.zeros(n, n + 1, dtype=torch.long)
    sure = probs.max(dim=1).values >= threshold
    column = probs.argmax(dim=1).masked_fill(~sure, n)
    cm.index_put_((y_true, column), torch.ones_like(y_true), accumulate=True)
    return cm
""",
    3: """
def precision_recall(cm):
    n = cm.shape[0]
    correct = cm.diagonal().float()
    precision = (correct / cm[:, :n].sum(dim=0)).nan_to_num(0.0)  # 0 / 0 is nan: precision 0
    recall = correct / cm.sum(dim=1)
    return precision, recall
""",
    4: """
def lowest_threshold(y_true, probs, target):
    confidence, predicted = probs.max(dim=1)
    order = confidence.argsort(descending=True)
    sorted_confidence, right = confidence[order], (predicted == y_true)[order].double()
    accuracy = right.cumsum(0) / torch.arange(1, len(right) + 1)  # of the m most confident images
    last_of_a_tie = torch.ones_like(right, dtype=torch.bool)
    last_of_a_tie[:-1] = sorted_confidence[1:] != sorted_confidence[:-1]
    m = int(((accuracy >= target) & last_of_a_tie).nonzero().max()) + 1
    return float(sorted_confidence[m - 1]), m / len(y_true)
""",
}


@pytest.mark.parametrize("task", sorted(OTHER_CORRECT_ANSWERS))
def test_another_correct_answer_passes_every_check(exercise, task):
    """Runs after the bug tests above, in their namespace: the solution passing every check here also proves
    that no planted bug left anything behind that fails it (they run only its answer again, not its checks)."""
    check_task(exercise, task, OTHER_CORRECT_ANSWERS[task], hidden=True)
    check_task(exercise, task, solution_answer(exercise, task), hidden=True)


def test_a_renamed_answer_gets_one_line_saying_which_name_the_check_needs(exercise):
    renamed = solution_answer(exercise, 2).replace("def confusion_with_deferral(", "def deferral_matrix(")
    exercise[1].pop("confusion_with_deferral", None)
    with pytest.raises(CheckFailed, match="`confusion_with_deferral` is not defined yet: run the cell") as error:
        check_task(exercise, 2, renamed)
    assert "\n" not in str(error.value)
    check_task(exercise, 2, solution_answer(exercise, 2), hidden=True)


def test_a_broken_confusion_matrix_costs_task_1_only(exercise):
    """Tasks 2 and 4 may call Task 1's and Task 2's answers: their checks lend them the course's."""
    notebook, namespace = exercise
    broken = "def confusion_matrix(y_true, y_pred, n_classes=10):\n    return torch.zeros(n_classes, n_classes)"
    run_cells(notebook, "task1-answer", namespace=namespace, task1_answer=broken)
    with pytest.raises(CheckFailed):
        run_cells(notebook, "task1-check", namespace=namespace)
    for task in (2, 3, 4):
        check_task(exercise, task, solution_answer(exercise, task), hidden=True)
    run_cells(notebook, "task1-answer", namespace=namespace)
