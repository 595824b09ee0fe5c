"""What the checks of exercises 6 compare with (`confusion_matrices.py` holds the checks themselves).

The course's own answer to each task, written as plainly as possible, and toy inputs small enough to
check by hand. Task 4's reference takes switches that make it commit one classic mistake each: a hint
names a mistake only when your answer is exactly what that mistake gives.
"""

import torch


def course_confusion(y_true, y_pred, n_classes: int) -> torch.Tensor:
    """Task 1: entry [i, j] counts the samples of true class i predicted as j."""
    return torch.bincount(y_true * n_classes + y_pred, minlength=n_classes**2).reshape(n_classes, n_classes)


def course_deferral(y_true, probs, threshold: float) -> torch.Tensor:
    """Task 2: [n, n + 1]; an image whose largest probability is under ``threshold`` goes to column n."""
    n = probs.shape[1]
    confidence, predicted = probs.max(dim=1)
    predicted = torch.where(confidence >= threshold, predicted, torch.full_like(predicted, n))
    return course_confusion(y_true, predicted, n + 1)[:n]


def course_precision_recall(cm) -> tuple:
    """Task 3: precision over the n prediction columns, recall over the whole row (deferred images included)."""
    cm, n = cm.double(), len(cm)
    correct = cm.diagonal()
    return correct / cm[:, :n].sum(dim=0).clamp(min=1), correct / cm.sum(dim=1).clamp(min=1)


def course_lowest_threshold(
    y_true,
    probs,
    target,
    strict_target=False,
    strict_answer=False,
    all_images=False,
    stop_at_first_miss=False,
    highest=False,
):
    """Task 4: the lowest confidence t for which the images answered (confidence >= t) reach ``target``
    accuracy, and the fraction answered. The switches commit one classic mistake each."""
    confidence, predicted = probs.max(dim=1)
    candidates = confidence.unique().tolist()  # every threshold that changes what is answered, lowest first
    found = None
    for t in candidates if not (highest or stop_at_first_miss) else candidates[::-1]:
        answered = confidence > t if strict_answer else confidence >= t
        right = int((predicted[answered] == y_true[answered]).sum())
        accuracy = right / (len(y_true) if all_images else max(int(answered.sum()), 1))
        if accuracy > target if strict_target else accuracy >= target:
            found = (t, int(answered.sum()) / len(y_true))
            if not stop_at_first_miss:
                return found
        elif stop_at_first_miss and found:
            return found
    return found


THRESHOLD_MISTAKES = [  # a switch of course_lowest_threshold, and the hint that names its mistake
    ({"highest": True}, "the LOWEST threshold that reaches the target: the machine should answer as many as it can"),
    ({"stop_at_first_miss": True}, "accuracy can rise again as the threshold falls: try every threshold"),
    ({"strict_target": True}, "reaching the target counts: accuracy >= target"),
    ({"strict_answer": True}, "an image whose confidence equals the threshold is answered: confidence >= threshold"),
    ({"all_images": True}, "the accuracy of the ANSWERED images: divide the right answers by how many were answered"),
]


def same(values, expected) -> bool:
    """Whether two sequences of numbers agree (within check_close's default tolerance)."""
    try:
        values, expected = (torch.as_tensor(v, dtype=torch.float64) for v in (values, expected))
    except (TypeError, ValueError, RuntimeError):  # not numbers: not the same
        return False
    return values.shape == expected.shape and torch.allclose(values, expected, rtol=1e-5, atol=1e-6)


def toy_probs(confidences, predicted, n_classes=3) -> torch.Tensor:
    """Probabilities whose largest entry is ``confidences[i]``, at class ``predicted[i]`` (the rest shared out)."""
    probs = torch.empty(len(confidences), n_classes, dtype=torch.float64)
    for row, (confidence, k) in enumerate(zip(confidences, predicted, strict=True)):
        probs[row] = (1 - confidence) / (n_classes - 1)
        probs[row, k] = confidence
    return probs


# Task 2's toy: seven images of three classes; at threshold 0.5, image 2 (confidence exactly 0.5) is answered.
DEFERRAL_TRUE = torch.tensor([0, 0, 1, 1, 2, 2, 2])
DEFERRAL_PROBS = torch.tensor(
    [
        [0.7, 0.2, 0.1],
        [0.4, 0.35, 0.25],
        [0.1, 0.5, 0.4],
        [0.8, 0.1, 0.1],
        [0.3, 0.3, 0.4],
        [0.05, 0.05, 0.9],
        [0.2, 0.6, 0.2],
    ]
)
DEFERRAL_EXPECTED = [[1, 0, 0, 1], [1, 1, 0, 0], [0, 1, 1, 1]]

# Task 4's toy: ten images; sorted by confidence, right (1) or wrong (0): 1 1 0 1 1 0 1 1 0 0. The accuracy of
# the most confident m images is 1, 1, .67, .75, .8, .67, .71, .75, .67, .6: with target .75 the lowest
# threshold answers 8 images (exactly .75); a mistake that stops at the first drop answers 2.
ORDER = [3, 7, 0, 9, 5, 1, 8, 2, 6, 4]  # the images, shuffled: sorting is part of the task
CONFIDENCES = torch.tensor([0.99, 0.97, 0.93, 0.9, 0.85, 0.8, 0.7, 0.6, 0.55, 0.5], dtype=torch.float64)[ORDER].tolist()
PREDICTED = [0, 1, 2, 0, 1, 2, 0, 1, 2, 0]
RIGHT = torch.tensor([1, 1, 0, 1, 1, 0, 1, 1, 0, 0])[ORDER].tolist()
THRESHOLD_TRUE = torch.tensor([p if right else (p + 1) % 3 for p, right in zip(PREDICTED, RIGHT, strict=True)])
THRESHOLD_PROBS = toy_probs(CONFIDENCES, PREDICTED)
