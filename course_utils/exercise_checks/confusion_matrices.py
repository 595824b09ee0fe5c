"""The checks of exercises 6 (confusion matrices, and a machine that knows when to ask): ``check(task=N)``.

Each answer is compared with the course's own (`confusion_matrices_reference.py`), first on toy inputs
small enough to check by hand, then on the notebook's real predictions. Tasks 2 and 4 run with the
course's versions of the earlier tasks, so a mistake costs one task.
"""

import torch
from sklearn.metrics import confusion_matrix as sklearn_confusion_matrix
from sklearn.metrics import precision_score, recall_score

from course_utils.checks import check_close, check_equal, check_shape, explain_errors, fail
from course_utils.exercise_checks import Tasks
from course_utils.exercise_checks.confusion_matrices_reference import (
    DEFERRAL_PROBS,
    DEFERRAL_TRUE,
    THRESHOLD_MISTAKES,
    THRESHOLD_PROBS,
    THRESHOLD_TRUE,
    course_confusion,
    course_deferral,
    course_lowest_threshold,
    course_precision_recall,
    same,
)

tasks = Tasks("confusion_matrices")
check = tasks.check

ENTRY = "entry [i, j] counts the samples with y_true == i and y_pred == j"
INTEGERS = "counts are whole numbers: keep bincount's integer tensor (no .float())"


def kind(tensor) -> str:
    """``"integers"`` or ``"floats"``: the kind of number a tensor holds."""
    return "floats" if tensor.dtype.is_floating_point else "integers"


def course_answers(nb, *tasks):
    """Within the block, the answers of the earlier ``tasks`` are the course's: a later task never pays
    for an earlier one."""
    courses = {1: ("confusion_matrix", course_confusion), 2: ("confusion_with_deferral", course_deferral)}
    return nb.lend(**dict(courses[task] for task in tasks), precision_recall=course_precision_recall)


@tasks(1, "confusion matrix", answers=["confusion_matrix"])
def confusion_matrix_counts(nb, y_true=(0, 0, 1, 2, 2, 2), y_pred=(0, 1, 1, 2, 0, 2)):
    toy_true, toy_pred = torch.tensor(y_true), torch.tensor(y_pred)
    expected = course_confusion(toy_true, toy_pred, 3)
    with explain_errors("confusion_matrix", hint="count y_true * n_classes + y_pred with torch.bincount, reshape"):
        toy = nb.confusion_matrix(toy_true, toy_pred, n_classes=3)
    check_shape(toy, (3, 3), "shape of a 3-class toy matrix", hint="reshape(n_classes, n_classes)")
    swapped = torch.equal(torch.as_tensor(toy), expected.T)
    hint = "rows are the TRUE classes and columns the predictions: " + ENTRY if swapped else ENTRY
    check_equal(toy.tolist(), expected.tolist(), "a 3-class toy matrix", hint=hint)
    check_equal(kind(toy), "integers", "the kind of numbers in the matrix", hint=INTEGERS)
    with explain_errors("confusion_matrix with classes that never occur", hint="minlength=n_classes ** 2"):
        wide = nb.confusion_matrix(toy_true, toy_pred, n_classes=5)
    check_equal(
        wide.tolist(),
        course_confusion(toy_true, toy_pred, 5).tolist(),
        "the same toy with n_classes=5: classes 3 and 4 get zero rows and columns",
        hint="torch.bincount(..., minlength=n_classes ** 2): without it, the count stops at the largest pair seen",
    )
    with explain_errors("confusion_matrix on the test set"):
        cm = nb.confusion_matrix(nb.test_true, nb.test_pred)
    reference = sklearn_confusion_matrix(nb.test_true, nb.test_pred, labels=range(10)).tolist()
    check_equal(cm.tolist(), reference, "test-set matrix compared with sklearn.metrics.confusion_matrix")


@tasks(2, "confusion with deferral", answers=["confusion_with_deferral"])
def deferral_column(nb, y_true=DEFERRAL_TRUE, probs=DEFERRAL_PROBS, threshold=0.5):
    n, expected = probs.shape[1], course_deferral(y_true, probs, threshold)
    with course_answers(nb, 1), explain_errors("confusion_with_deferral", hint="probs.max(dim=1): confidence, class"):
        got = nb.confusion_with_deferral(y_true, probs, threshold)
    check_shape(
        got,
        (n, n + 1),
        f"shape for {n} classes: a row per true class, a column per prediction and one for the deferred images",
        hint="keep the first n rows: no image is truly 'deferred'" if got.shape[0] == n + 1 else None,
    )
    check_equal(kind(got), "integers", "the kind of numbers in the matrix", hint=INTEGERS)
    hint = ENTRY + "; column n counts the images whose largest probability is under the threshold"
    if torch.equal(got, course_deferral(y_true, probs, torch.nextafter(torch.tensor(threshold), torch.tensor(2.0)))):
        hint = "an image whose confidence equals the threshold is answered: confidence >= threshold"
    elif torch.equal(got[:, :n], expected[:, :n]) and not got[:, n].any():
        hint = "every image counts once: the deferred ones in the last column"
    elif torch.equal(got[:, :n], course_confusion(y_true, probs.argmax(dim=1), n)):
        hint = "an image under the threshold goes to column n, not to its prediction's column"
    check_equal(got.tolist(), expected.tolist(), f"a toy matrix at threshold {threshold}", hint=hint)
    with course_answers(nb, 1), explain_errors("confusion_with_deferral on the test set"):
        got = nb.confusion_with_deferral(nb.test_true, nb.test_probs, 0.9)
    expected = course_deferral(nb.test_true, nb.test_probs, 0.9)
    check_equal(got.tolist(), expected.tolist(), "the test set's matrix at threshold 0.9")


SQUARE = torch.tensor([[3, 1, 0], [1, 2, 0], [1, 0, 2]])  # lesson 6's toy: no deferral column
DEFERRED = torch.tensor([[4, 1, 0, 1], [0, 3, 0, 2], [1, 1, 0, 3]])  # class 2 is never predicted


@tasks(3, "precision and recall", answers=["precision_recall"])
def precision_and_recall(nb, square=SQUARE, deferred=DEFERRED):
    with explain_errors("precision_recall", hint="the diagonal over the column sums and over the row sums"):
        result = nb.precision_recall(square)
    check_equal(isinstance(result, tuple | list) and len(result), 2, "precision_recall returns (precision, recall)")
    precision, recall = result
    expected_precision, expected_recall = course_precision_recall(square)
    check_shape(recall, (len(square),), "recall: one value per class")
    swapped = same(recall, expected_precision)
    row = "recall divides the diagonal by the ROW sums (all the images of each true class)"
    check_close(
        recall, expected_recall, "recall of a square toy matrix", hint=row + ", precision by the COLUMN sums" * swapped
    )
    check_close(
        precision, expected_precision, "precision of a square toy matrix", hint="precision divides by the COLUMN sums"
    )
    n = len(deferred)
    with explain_errors(
        "precision_recall of a matrix with a deferral column",
        hint="precision's column sums are those of the n prediction columns, cm[:, :n]: the last holds no prediction",
    ):
        precision, recall = nb.precision_recall(deferred)
    expected_precision, expected_recall = course_precision_recall(deferred)
    hint = "the recall of k counts every image of class k: the row sums include the deferred column"
    if not same(recall, deferred.diagonal() / deferred[:, :n].sum(dim=1).clamp(min=1)):
        hint = "recall = diagonal / row sums (the whole row)"
    check_close(recall, expected_recall, "recall of a toy with a deferral column", hint=hint)
    hint = "precision = diagonal / the sums of the n prediction columns"
    if torch.as_tensor(precision).isnan().any():
        hint = "a class nobody predicted has a column that sums to 0: give it precision 0 (sums.clamp(min=1))"
    check_close(
        precision, expected_precision, "precision of a toy with a deferral column (class 2 never predicted)", hint=hint
    )
    check_equal(kind(precision), "floats", "the kind of numbers in precision", hint="divide with /")
    matrix = torch.as_tensor(sklearn_confusion_matrix(nb.test_true, nb.test_pred, labels=range(10)))
    with explain_errors("precision_recall on the test set"):
        precision, recall = nb.precision_recall(matrix)
    options = dict(average=None, labels=range(10), zero_division=0)
    check_close(precision, precision_score(nb.test_true, nb.test_pred, **options), "test-set precision (sklearn's)")
    check_close(recall, recall_score(nb.test_true, nb.test_pred, **options), "test-set recall (sklearn's)")


@tasks(4, "the lowest threshold", answers=["lowest_threshold"])
def lowest_threshold_for_a_target(nb, y_true=THRESHOLD_TRUE, probs=THRESHOLD_PROBS, target=0.75):
    expected = course_lowest_threshold(y_true, probs, target)
    with course_answers(nb, 1, 2), explain_errors("lowest_threshold"):
        result = nb.lowest_threshold(y_true, probs, target)
    if result is None:
        mistake = course_lowest_threshold(y_true, probs, target, all_images=True) is None
        hint = THRESHOLD_MISTAKES[-1][1] if mistake else "return (threshold, coverage)"
        fail("lowest_threshold of a toy", f"got None, yet a threshold of {expected[0]} reaches {target}", hint)
    check_equal(isinstance(result, tuple | list) and len(result), 2, "lowest_threshold returns (threshold, coverage)")
    threshold, coverage = result
    check_equal(
        [type(threshold).__name__, type(coverage).__name__],
        ["float", "float"],
        "threshold and coverage are Python floats",
        hint="convert a one-number tensor with .item() (or float(...))",
    )
    hint = "try each image's confidence as the threshold, from the lowest up; keep the first that reaches the target"
    for mistake, named in THRESHOLD_MISTAKES:
        wrong = course_lowest_threshold(y_true, probs, target, **mistake)
        hint = named if wrong is not None and abs(wrong[0] - threshold) < 1e-9 else hint
    check_close(threshold, expected[0], f"the lowest threshold reaching {target:.0%} accuracy on a toy", hint=hint)
    hint = (
        "a fraction of all the images: divide by len(y_true)"
        if abs(coverage - expected[1] * len(y_true)) < 1e-9
        else None
    )
    check_close(coverage, expected[1], "coverage: the fraction of the images answered", hint=hint)
    with course_answers(nb, 1, 2), explain_errors("lowest_threshold on the validation set"):
        threshold, coverage = nb.lowest_threshold(nb.val_true, nb.val_probs, 0.99)
    expected = course_lowest_threshold(nb.val_true, nb.val_probs, 0.99)
    check_close([threshold, coverage], list(expected), "threshold and coverage on the validation set, target 99%")
