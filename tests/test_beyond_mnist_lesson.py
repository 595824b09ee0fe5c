"""Exercises 10 (Beyond MNIST) are fair: classic bugs fail a visible check with their hint, other
correct answers pass every check, hidden tests included.

The cells run in this process (setup in quick mode: one epoch on 1,000 Fashion-MNIST images, a few
seconds), as in tests/test_fair_exercises.py.
"""

from pathlib import Path

import pytest
from conftest import verified_data_root
from solution_cells import assert_bug_fails_with_hint, check_task, quick_exercise, solution_answer

SOLUTION = Path(__file__).resolve().parents[1] / "solutions" / "10_beyond_mnist_exercises.ipynb"


@pytest.fixture(scope="module")
def exercise():
    """The solution notebook and a namespace with its setup run in quick mode (no answers yet)."""
    verified_data_root("fashion_mnist")
    return quick_exercise(SOLUTION, "code-04", "code-19")  # setup, the sweep table


BUGS = [
    (1, "torch.bincount(y_true, minlength", "torch.bincount(y_pred, minlength", False, "TRUE images"),
    (1, "return correct / total", "return correct / total.clamp(min=1)", True, "without clamping"),
    (2, "(cm + cm.T).triu(diagonal=1)", "cm.triu(diagonal=1)", False, "count both directions"),
    (2, "(classes[p // n], classes[p % n], c)", "(classes[p % n], classes[p // n], c)", False, "order of `classes`"),
    (2, "zip(counts.tolist(), positions.tolist()", "zip(counts, positions.tolist()", False, "plain Python value"),
    (3, "group_of[members] = n_classes + number", "group_of[members] = number", False, "must differ"),
    (3, "torch.arange(n_classes)", "torch.full((n_classes,), -1)", False, "a group of its own"),
    (4, 'ok = results[results["status"] == "ok"]', "ok = results", False, 'status is "ok"'),
    (4, '"MNIST": 100 * (', '"MNIST": (', False, "times 100 (points)"),
    (
        4,
        'return gaps.agg(["mean", "std", "min", "max"]).T',
        'return pd.DataFrame({"mean": gaps.mean(), "std": gaps.std(ddof=0), "min": gaps.min(), "max": gaps.max()})',
        False,
        "divides by n - 1",
    ),
]


@pytest.mark.parametrize("task, old, new, hidden, hint", BUGS, ids=[f"task{b[0]}-{b[4][:16]}" for b in BUGS])
def test_a_classic_bug_fails_its_task_with_a_hint(exercise, task, old, new, hidden, hint):
    assert_bug_fails_with_hint(exercise, task, old, new, hidden, hint)


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
