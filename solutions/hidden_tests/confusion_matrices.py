"""Hidden tests of exercises 6: what `course grade` runs after each task's visible checks.

The same requirements as the visible checks, on other inputs: other toys (four classes, a class never
predicted, thresholds that defer nothing or everything, confidences that tie), the validation set,
and another target.
"""

import torch
from sklearn.metrics import confusion_matrix as sklearn_confusion_matrix

from course_utils.checks import check_equal
from course_utils.exercise_checks import Tasks
from course_utils.exercise_checks.confusion_matrices import (
    confusion_matrix_counts,
    deferral_column,
    lowest_threshold_for_a_target,
    precision_and_recall,
)
from course_utils.exercise_checks.confusion_matrices_reference import toy_probs

hidden = Tasks("confusion_matrices")


@hidden(1, "confusion matrix", answers=["confusion_matrix"])
def another_toy_and_the_validation_set(nb):
    confusion_matrix_counts(nb, y_true=(2, 2, 2, 1, 0, 1, 2), y_pred=(2, 0, 1, 1, 0, 0, 2))
    reference = sklearn_confusion_matrix(nb.val_true, nb.val_pred, labels=range(10)).tolist()
    check_equal(nb.confusion_matrix(nb.val_true, nb.val_pred).tolist(), reference, "the validation set's matrix")


FOUR_TRUE = torch.tensor([0, 1, 2, 3, 3, 1])
FOUR_PROBS = toy_probs([0.4, 0.9, 0.3, 0.6, 0.8, 0.55], [0, 2, 2, 3, 1, 1], n_classes=4)


@hidden(2, "confusion with deferral", answers=["confusion_with_deferral"])
def thresholds_that_defer_nothing_or_everything(nb):
    deferral_column(nb, FOUR_TRUE, FOUR_PROBS, threshold=0.0)
    deferral_column(nb, FOUR_TRUE, FOUR_PROBS, threshold=1.5)
    deferral_column(nb, FOUR_TRUE, FOUR_PROBS, threshold=0.55)


@hidden(3, "precision and recall", answers=["precision_recall"])
def other_matrices(nb):
    precision_and_recall(
        nb, square=torch.tensor([[5, 1, 0], [2, 6, 2], [0, 0, 4]]), deferred=torch.tensor([[3, 0, 1], [2, 0, 2]])
    )


@hidden(4, "the lowest threshold", answers=["lowest_threshold"])
def confidences_that_tie(nb):
    y_true = torch.tensor([0, 2, 1, 1, 0, 1])  # by confidence: right, wrong, right, right, right, wrong
    probs = toy_probs([0.9, 0.9, 0.8, 0.8, 0.6, 0.6], [0, 1, 1, 1, 0, 2])
    lowest_threshold_for_a_target(nb, y_true, probs, target=0.7)
