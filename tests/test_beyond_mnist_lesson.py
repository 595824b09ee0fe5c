"""Exercises 10 (Beyond MNIST) are fair: classic bugs fail a visible check with the hint that names
them (and no other hint), other correct answers pass every check, hidden tests included.

The cells run in this process (setup in quick mode: one epoch on 1,000 Fashion-MNIST images, a few
seconds), with the checks of course_utils/exercise_checks/beyond_mnist.py and the hidden tests of
solutions/hidden_tests/beyond_mnist.py.
"""

import re
from pathlib import Path

import pytest
from conftest import verified_data_root
from solution_cells import assert_bug_fails_with_hint, check_task, quick_exercise, run_cells, solution_answer

from course_utils.checks import CheckFailed
from course_utils.exercise_checks import beyond_mnist

SOLUTION = Path(__file__).resolve().parents[1] / "solutions" / "10_beyond_mnist_exercises.ipynb"


@pytest.fixture(scope="module")
def exercise():
    """The solution notebook and a namespace with its setup run in quick mode (no answers yet)."""
    verified_data_root("fashion_mnist")
    return quick_exercise(SOLUTION, "code-04", "code-19")  # setup, the sweep table


COUNTS = (
    "    total = torch.bincount(y_true, minlength=n_classes).double()\n"
    "    correct = torch.bincount(y_true[y_pred == y_true], minlength=n_classes).double()"
)
MNIST_GAP = '100 * (ok["mnist_vgg_acc"] - ok["mnist_small_acc"])'
BUGS = [  # (task, text of the solution's answer, the bug put in its place, the hint that must name it)
    (1, "torch.bincount(y_true, minlength", "torch.bincount(y_pred, minlength", "TRUE images"),
    (1, "return correct / total", "return correct / total.clamp(min=1)", "0 / 0 is nan"),
    (1, "return correct / total", "return torch.nan_to_num(correct / total)", "0 / 0 is nan"),
    (1, COUNTS, COUNTS.replace(", minlength=n_classes", ""), "minlength=n_classes"),
    (1, "return correct / total", "return 100 * correct / total", "not a percentage"),
    (1, "return correct / total", "return (correct / total).tolist()", "torch.as_tensor"),
    (2, "(cm + cm.T).triu(diagonal=1)", "cm.triu(diagonal=1)", "count both directions"),
    (2, "(cm + cm.T).triu(diagonal=1)", "(cm + cm.T).fill_diagonal_(0)", "keep each pair once"),
    (2, "(cm + cm.T).triu(diagonal=1)", "(cm + cm.T).triu()", "leave out the diagonal"),
    (2, "(classes[p // n], classes[p % n], c)", "(classes[p % n], classes[p // n], c)", "order of `classes`"),
    (2, "(classes[p // n], classes[p % n], c)", "(p // n, p % n, c)", "classes[i]"),
    (2, "zip(counts.tolist(), positions.tolist()", "zip(counts, positions.tolist()", "int(count)"),
    (3, "group_of[members] = n_classes + number", "group_of[members] = number", "must differ"),
    (3, "torch.arange(n_classes)", "torch.full((n_classes,), -1)", "a group of its own"),
    (3, ".float().mean().item()", ".float().mean()", ".item() turns a one-number tensor"),
    (4, 'ok = results[results["status"] == "ok"]', "ok = results", 'status is "ok"'),
    (4, '"MNIST": 100 * (', '"MNIST": (', "the gap is in points"),
    (4, MNIST_GAP, '100 * (ok["mnist_small_acc"] - ok["mnist_vgg_acc"])', "not the reverse"),
    (4, '"min", "max"]).T', '"min", "max"])', "turn the table round with .T"),
    (
        4,
        'return gaps.agg(["mean", "std", "min", "max"]).T',
        'return pd.DataFrame({"mean": gaps.mean(), "std": gaps.std(ddof=0), "min": gaps.min(), "max": gaps.max()})',
        "divides by n - 1",
    ),
]


@pytest.mark.parametrize("task, old, new, hint", BUGS, ids=[f"task{b[0]}-{b[3][:20]}" for b in BUGS])
def test_a_classic_bug_fails_a_visible_check_with_its_hint(exercise, task, old, new, hint):
    assert_bug_fails_with_hint(exercise, task, old, new, False, hint)


HINTS = [value for name, value in vars(beyond_mnist).items() if name.isupper() and isinstance(value, str)]
UNKNOWN_BUGS = [  # (task, old, new, what the message must say): wrong, but not a mistake the checks know
    (
        1,
        "return correct / total",
        "return (correct + 1) / (total + 1)",
        "expected [0.6667, 0.5, 1], got [0.75, 0.6667, 1]",
    ),
    (2, "classes[p % n], c)", "classes[p % n], c + 1)", "fox and owl were confused 5 times, got 6"),
    (3, "n_classes + number", "n_classes + number % 1", "two groups, 0 with 1 and 2 with 3: expected 0.8333"),
    (4, '"MNIST": 100 * (', '"MNIST": 10 * (', "MNIST, mean: expected 0.602, got 0.0602"),
]


@pytest.mark.parametrize("task, old, new, message", UNKNOWN_BUGS, ids=[f"task{b[0]}" for b in UNKNOWN_BUGS])
def test_a_mistake_the_checks_do_not_know_is_told_what_differs_and_no_hint(exercise, task, old, new, message):
    answer = solution_answer(exercise, task)
    with pytest.raises(CheckFailed, match=re.escape(message)) as failed:
        check_task(exercise, task, answer.replace(old, new))
    wrong_hints = [hint for hint in HINTS if hint in str(failed.value)]
    assert wrong_hints == [], str(failed.value)
    check_task(exercise, task, answer, hidden=True)


OTHER_CORRECT_ANSWERS = {
    1: """
def per_class_accuracy(y_true, y_pred, n_classes=10):
    return torch.stack([(y_pred[y_true == k] == k).float().mean() for k in range(n_classes)])
""",
    2: """
def most_confused_pairs(y_true, y_pred, classes, k=3):
    from sklearn.metrics import confusion_matrix
    cm = confusion_matrix(y_true, y_pred, labels=range(len(classes)))
    n = len(classes)
    pairs = [(classes[i], classes[j], int(cm[i, j] + cm[j, i])) for i in range(n) for j in range(i + 1, n)]
    return sorted(pairs, key=lambda pair: -pair[2])[:k]
""",
    3: """
def merged_accuracy(y_true, y_pred, groups, n_classes=10):
    name = {c: f"class {c}" for c in range(n_classes)}
    for members in groups:
        name.update({c: f"group {members}" for c in members})
    return sum(name[int(t)] == name[int(p)] for t, p in zip(y_true, y_pred)) / len(y_true)
""",
    4: """
def gap_summary(results):
    rows = {}
    for label, prefix in [("MNIST", "mnist"), ("Fashion-MNIST", "fashion")]:
        finished = results.query("status == 'ok'")
        gap = (finished[f"{prefix}_vgg_acc"] - finished[f"{prefix}_small_acc"]) * 100
        rows[label] = {"mean": gap.mean(), "std": gap.std(), "min": gap.min(), "max": gap.max()}
    return pd.DataFrame.from_dict(rows, orient="index")
""",
}


@pytest.mark.parametrize("task", sorted(OTHER_CORRECT_ANSWERS))
def test_another_correct_answer_passes_every_check(exercise, task):
    check_task(exercise, task, OTHER_CORRECT_ANSWERS[task], hidden=True)
    check_task(exercise, task, solution_answer(exercise, task), hidden=True)


def test_a_renamed_answer_gets_one_line_saying_what_to_do(exercise):
    notebook, namespace = exercise
    fresh = {name: value for name, value in namespace.items() if name != "per_class_accuracy"}
    renamed = solution_answer(exercise, 1).replace("def per_class_accuracy(", "def accuracy_per_class(")
    with pytest.raises(CheckFailed, match="`per_class_accuracy` is not defined yet: run the cell where Task 1"):
        run_cells(notebook, "task1-answer", "task1-check", namespace=fresh, task1_answer=renamed)
