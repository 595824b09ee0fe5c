"""The checks of exercises 10 (Beyond MNIST): ``check(task=N)``.

Each task's function runs on toy examples small enough to work out by hand, chosen so that every
classic mistake changes the answer (a class without images, a pair confused more one way than the
other), then on the test set, compared with scikit-learn or the standard library. A hint is shown
only when the answer is what its mistake gives (see `mistakes`); any other wrong answer is told what
differs. The hidden tests of `course grade` call the same ``*_case`` functions on other inputs.
"""

import statistics

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import confusion_matrix, precision_score, recall_score

from course_utils.checks import fail, passed
from course_utils.exercise_checks import Tasks
from course_utils.exercise_checks.mistakes import kind, known_mistake, same, shown

tasks = Tasks("beyond_mnist")
check = tasks.check


# --- Task 1: accuracy per class ---------------------------------------------------------------------
MINLENGTH = "torch.bincount(..., minlength=n_classes): without minlength the counts stop at the largest label present"
TRUE_IMAGES = "divide by the number of TRUE images of each class (dividing by its predictions gives its precision)"
NOT_ZERO = "0 / 0 is nan: divide the counts without clamping or replacing the zeros (0 claims all its images wrong)"


def per_class_case(per_class_accuracy, y_true, y_pred, n_classes: int, what: str):
    """``per_class_accuracy`` on one example, compared with scikit-learn's recall (nan: a class without images)."""
    y_true, y_pred = torch.as_tensor(y_true), torch.as_tensor(y_pred)
    got = per_class_accuracy(y_true, y_pred, n_classes=n_classes)
    if not isinstance(got, torch.Tensor):
        fail(what, f"expected a tensor, got {kind(got)}", "torch.as_tensor(...) turns a list or an array into one")
    if not got.is_floating_point():
        fail(what, f"expected a float tensor, got {got.dtype}", "divide with `/`, which gives floats (not `//`)")
    if tuple(got.shape) != (n_classes,):
        without_minlength = (int(y_true.max()) + 1,)  # what torch.bincount(y_true) returns
        hint = MINLENGTH if tuple(got.shape) == without_minlength else None
        fail(what, f"expected one value per class, shape ({n_classes},), got {tuple(got.shape)}", hint)
    recall = recall_score(y_true, y_pred, labels=range(n_classes), average=None, zero_division=np.nan)
    precision = precision_score(y_true, y_pred, labels=range(n_classes), average=None, zero_division=np.nan)
    empty, values = np.isnan(recall), got.detach().numpy()  # empty: the classes without images
    if not same(values[~empty], recall[~empty]):
        hint = known_mistake(values, {TRUE_IMAGES: precision, "a share from 0 to 1, not a percentage": 100 * recall})
        fail(what, f"on the classes with images expected {shown(recall[~empty])}, got {shown(values[~empty])}", hint)
    if not np.isnan(values[empty]).all():
        hint = NOT_ZERO if (values[empty] == 0).all() else None
        empty_ones = f"classes {np.flatnonzero(empty).tolist()} have no images"
        fail(what, f"{empty_ones}: expected nan, got {shown(values[empty])}", hint)
    passed(what)
    return got


@tasks(1, "accuracy per class", answers=["per_class_accuracy"])
def accuracy_per_class(nb):
    # Classes 0 to 4: class 2 has no images, nor has 4 (above the largest label), and class 0 is
    # predicted less often than it occurs, so dividing by the predictions gives another answer.
    toy = "a toy of 5 classes, 2 and 4 without images"
    per_class_case(nb.per_class_accuracy, [0, 0, 0, 1, 1, 3], [0, 0, 1, 1, 2, 3], 5, toy)
    per_class_case(nb.per_class_accuracy, nb.test_true, nb.test_pred, 10, "the test set, compared with recall_score")


# --- Task 2: the most confused pairs ----------------------------------------------------------------
ORDER = "name each pair in the order of `classes` (an owl read as a fox is the pair ('fox', 'owl'))"
ONCE = "keep each pair once: the part of cm + cm.T above the diagonal, .triu(diagonal=1)"
BOTH = "count both directions: cm[i, j] + cm[j, i], as in cm + cm.T"


def labels_from(matrix) -> tuple:
    """Labels and predictions whose confusion matrix is ``matrix`` (rows: true class, columns: predicted)."""
    matrix, classes = torch.as_tensor(matrix), torch.arange(len(matrix))
    return classes.repeat_interleave(matrix.sum(dim=1)), torch.cat([classes.repeat_interleave(row) for row in matrix])


def pairs_case(most_confused_pairs, y_true, y_pred, classes: list, k: int, what: str) -> list:
    """``most_confused_pairs`` on one example, compared with scikit-learn's confusion matrix."""
    top = most_confused_pairs(y_true, y_pred, classes, k)
    cm = confusion_matrix(y_true, y_pred, labels=range(len(classes)))
    if not isinstance(top, list):
        fail(what, f"expected a list, got {kind(top)}", "return a list of (name_a, name_b, count) tuples")
    if len(top) != k:
        fail(what, f"expected {k} pairs, got {len(top)}", "keep only the k largest" if len(top) > k else None)
    for entry in top:
        if not (isinstance(entry, tuple) and len(entry) == 3):
            fail(what, f"expected (name_a, name_b, count) tuples, got {entry!r}", None)
        names = [name for name in entry[:2] if not (isinstance(name, str) and name in classes)]
        if names:  # a number where a name should be: the class's index, not its name
            hint = "name each class: classes[i], not its number i" if hasattr(names[0], "__index__") else None
            fail(what, f"{names[0]!r} is not one of the class names", hint)
        if type(entry[2]) is not int:
            fail(what, f"expected each count a Python int, got {kind(entry[2])}", "int(count), or .tolist()")
    if len({frozenset(entry[:2]) for entry in top}) < k:
        fail(what, "a pair appears twice", ONCE)
    index = {name: i for i, name in enumerate(classes)}
    for a, b, count in top:
        i, j = index[a], index[b]
        if i == j:
            fail(what, f"got the pair ({a!r}, {b!r})", "leave out the diagonal: a class read as itself is right")
        if i > j:
            fail(what, f"got the pair ({a!r}, {b!r})", ORDER)
        if count != cm[i, j] + cm[j, i]:
            hint = BOTH if count in (cm[i, j], cm[j, i]) else None
            fail(what, f"{a} and {b} were confused {cm[i, j] + cm[j, i]} times, got {count}", hint)
    counts = [count for *_, count in top]
    if counts != sorted(counts, reverse=True):
        fail(what, f"got the counts {counts}", "sort the pairs by count, the largest first")
    largest = sorted(np.triu(cm + cm.T, k=1).flatten().tolist(), reverse=True)[:k]
    if counts != largest:
        fail(what, f"expected the counts {largest}, got {counts}")
    passed(what)
    return top


@tasks(2, "most confused pairs", answers=["most_confused_pairs"])
def most_confused(nb):
    toy_cm = [  # rows: the true class, columns: the predicted one; each pair is confused more one way
        [5, 3, 0, 1],  # cat: 3 read as a dog, 1 as an owl
        [1, 4, 2, 0],  # dog
        [0, 0, 6, 0],  # fox
        [2, 0, 5, 3],  # owl: 5 read as a fox
    ]  # both ways: fox-owl 5, cat-dog 4, cat-owl 3, dog-fox 2
    toy = "the three most confused pairs of a toy of cats, dogs, foxes and owls"
    pairs_case(nb.most_confused_pairs, *labels_from(toy_cm), ["cat", "dog", "fox", "owl"], 3, toy)
    top = pairs_case(nb.most_confused_pairs, nb.test_true, nb.test_pred, nb.data.classes, 5, "the test set's top 5")
    for a, b, count in top:
        print(f"{a:>12} and {b:<12} {count:4d} mistakes")


# --- Task 3: mistakes among look-alikes -------------------------------------------------------------
ALONE = "a class in no group is a group of its own: reading it as another class is a mistake"
APART = "a group's number must differ from the number of every class that stays alone (try n_classes + i)"
TOY_TRUE, TOY_PRED = [0, 1, 2, 3, 0, 1], [1, 0, 2, 2, 0, 3]  # right without groups: the 2 and the second 0
MERGED_CASES = [  # (what, y_true, y_pred, groups, n_classes, the answer, {hint: what its mistake gives})
    ("no groups: the plain accuracy", TOY_TRUE, TOY_PRED, [], 4, 2 / 6, {ALONE: 1.0}),
    ("classes 0 and 1 merged", TOY_TRUE, TOY_PRED, [[0, 1]], 4, 4 / 6, {ALONE: 5 / 6}),
    ("two groups, 0 with 1 and 2 with 3", TOY_TRUE, TOY_PRED, [[0, 1], [2, 3]], 4, 5 / 6, {}),
    ("a 0 read as a 2, with 2 and 3 merged, is still a mistake", [0, 3], [2, 3], [[2, 3]], 4, 0.5, {APART: 1.0}),
    ("one group of all classes", TOY_TRUE, TOY_PRED, [[0, 1, 2, 3]], 4, 1.0, {}),
]


def merged_case(merged_accuracy, what, y_true, y_pred, groups, n_classes, expected, mistakes=None) -> float:
    """``merged_accuracy`` on one example: a Python float, and the right one."""
    got = merged_accuracy(torch.as_tensor(y_true), torch.as_tensor(y_pred), groups, n_classes=n_classes)
    if not isinstance(got, float):
        convert = ".item() turns a one-number tensor into a Python float" if torch.is_tensor(got) else "use float(...)"
        fail(what, f"expected a Python float, got {kind(got)}", convert)
    if not same(got, expected):
        fail(what, f"expected {expected:.4g}, got {got:.4g}", known_mistake(got, mistakes or {}))
    passed(what)
    return got


@tasks(3, "merged accuracy", answers=["merged_accuracy"])
def merged(nb):
    for case in MERGED_CASES:
        merged_case(nb.merged_accuracy, *case)
    # On the test set: the right answers, plus the mix-ups inside the group, off the group's diagonal.
    upper_body = [nb.data.classes.index(c) for c in ["T-shirt/top", "Pullover", "Coat", "Shirt"]]
    cm = confusion_matrix(nb.test_true, nb.test_pred, labels=range(10))
    inside = cm[np.ix_(upper_body, upper_body)].sum() - cm[upper_body, upper_body].sum()
    expected = (np.trace(cm) + inside) / cm.sum()
    what = "the upper-body classes merged, on the test set"
    merged_case(nb.merged_accuracy, what, nb.test_true, nb.test_pred, [upper_body], 10, expected)


# --- Task 4: the gap over seeds --------------------------------------------------------------------
DATASETS, STATISTICS = ["MNIST", "Fashion-MNIST"], ["mean", "std", "min", "max"]
POINTS = "the gap is in points: the VGG network's accuracy minus the two-conv network's, times 100"
REVERSED = "the gap is the VGG network's accuracy minus the two-conv network's, not the reverse"
STATUS = 'keep only the runs whose status is "ok": a failed run may have recorded numbers'
SAMPLE = "use the sample standard deviation, which divides by n - 1 (pandas' .std(); np.std divides by n)"


def gap_case(gap_summary, results: pd.DataFrame, what: str) -> pd.DataFrame:
    """``gap_summary`` on one results table, compared with the standard library's statistics."""
    summary = gap_summary(results.copy())
    if not isinstance(summary, pd.DataFrame):
        fail(what, f"expected a pandas DataFrame, got {kind(summary)}", None)
    rows, columns = list(summary.index), list(summary.columns)
    if rows != DATASETS:
        turn = "turn the table round with .T" if rows == STATISTICS else None
        fail(what, f"expected the rows {DATASETS}, got {rows}", turn)
    if columns != STATISTICS:
        fail(what, f"expected the columns {STATISTICS}, got {columns}", None)
    for dataset, prefix in zip(DATASETS, ["mnist", "fashion"], strict=True):
        runs = zip(results["status"], results[f"{prefix}_vgg_acc"], results[f"{prefix}_small_acc"], strict=True)
        every = [(status, 100 * (vgg - small)) for status, vgg, small in runs if not np.isnan(vgg - small)]
        gaps, with_failed = [gap for status, gap in every if status == "ok"], [gap for _, gap in every]
        statistic = {  # each statistic, and what some mistakes give instead
            "mean": (statistics.mean, {REVERSED: -statistics.mean(gaps), POINTS: statistics.mean(gaps) / 100}),
            "std": (statistics.stdev, {SAMPLE: statistics.pstdev(gaps), POINTS: statistics.stdev(gaps) / 100}),
            "min": (min, {REVERSED: -max(gaps), POINTS: min(gaps) / 100}),
            "max": (max, {REVERSED: -min(gaps), POINTS: max(gaps) / 100}),
        }
        for name, (compute, mistakes) in statistic.items():
            got, expected = summary.loc[dataset, name], compute(gaps)
            if not same(got, expected):
                mistakes[STATUS] = compute(with_failed)
                hint = known_mistake(got, mistakes)
                fail(what, f"{dataset}, {name}: expected {expected:.4g}, got {got:.4g}", hint)
    passed(what)
    return summary


@tasks(4, "gap summary", answers=["gap_summary"])
def gap(nb):
    summary = gap_case(nb.gap_summary, nb.sweep, "the five seeds of the sweep above")
    failed = pd.DataFrame([{"seed": 5, "status": "failed", "mnist_small_acc": 0.5, "mnist_vgg_acc": 0.9}])
    gap_case(nb.gap_summary, pd.concat([nb.sweep, failed], ignore_index=True), "the sweep with a failed run added")
    print(summary.round(2))
