"""Hidden tests of exercises 10: what `course grade` runs after each task's visible checks.

The same checks as the visible ones (the ``*_case`` functions of
`course_utils.exercise_checks.beyond_mnist`), on other inputs: other classes without images, other
confusion matrices, other groups, another results table.
"""

import pandas as pd

from course_utils.exercise_checks import Tasks
from course_utils.exercise_checks.beyond_mnist import (
    TOY_PRED,
    TOY_TRUE,
    gap_case,
    labels_from,
    merged_case,
    pairs_case,
    per_class_case,
)

hidden = Tasks("beyond_mnist")


@hidden(1, "accuracy per class", answers=["per_class_accuracy"])
def other_classes_without_images(nb):
    per_class_case(nb.per_class_accuracy, [0, 0], [0, 1], 3, "one class with images, next to two without")
    per_class_case(nb.per_class_accuracy, [5, 5, 1, 1, 1, 3], [5, 1, 1, 1, 0, 3], 7, "7 classes, 4 without images")


@hidden(2, "most confused pairs", answers=["most_confused_pairs"])
def other_matrices(nb):
    one_way = labels_from([[0, 0], [1, 0]])  # a b read as an a, never the other way
    pairs_case(nb.most_confused_pairs, *one_way, ["a", "b"], 1, "a pair confused one way only, the later class first")
    five = [  # both ways: b-e 7, a-c 6, d-e 4, b-d 3, a-b 1
        [9, 0, 4, 0, 0],
        [1, 9, 0, 0, 6],
        [2, 0, 9, 0, 0],
        [0, 3, 0, 9, 2],
        [0, 1, 0, 2, 9],
    ]
    pairs_case(nb.most_confused_pairs, *labels_from(five), list("abcde"), 4, "the four most confused of five classes")


@hidden(3, "merged accuracy", answers=["merged_accuracy"])
def other_groups(nb):
    merged_case(nb.merged_accuracy, "a group of one class changes nothing", TOY_TRUE, TOY_PRED, [[3]], 4, 2 / 6)
    merged_case(nb.merged_accuracy, "a group of the highest classes", [5, 6, 0], [6, 6, 5], [[5, 6]], 7, 2 / 3)
    merged_case(nb.merged_accuracy, "groups given in any order", [3, 2, 1, 0], [0, 1, 2, 0], [[3, 0], [2, 1]], 4, 1.0)


@hidden(4, "gap summary", answers=["gap_summary"])
def another_table(nb):
    two_runs = pd.DataFrame(
        {
            "seed": [7, 8, 9],
            "status": ["ok", "failed", "ok"],
            "mnist_small_acc": [0.98, 0.10, 0.97],
            "mnist_vgg_acc": [0.99, 0.20, 0.99],
            "fashion_small_acc": [0.80, 0.10, 0.90],
            "fashion_vgg_acc": [0.85, 0.20, 0.92],
        }
    )
    gap_case(nb.gap_summary, two_runs, "a table of two finished runs and a failed one")
