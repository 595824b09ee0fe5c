"""The checks of exercises 1 (exploring MNIST by hand): ``check(task=N)``: toy inputs on which every classic
mistake changes the answer, then MNIST; a hint only when the answer looks like the mistake it names.
Task 2's checks are in `data_exploration_stats.py`."""

import torch

from course_utils.checks import check_close, check_dtype, check_equal, check_shape, fail
from course_utils.exercise_checks import Tasks
from course_utils.exercise_checks.data_exploration_stats import BY_256, SCALE, pixel_statistics

tasks = Tasks("data_exploration")
check = tasks.check


def check_tensor(value, what: str, hint: str) -> None:
    if not isinstance(value, torch.Tensor):
        fail(what, f"expected a tensor, got a {type(value).__name__}", hint)


UNIQUE = (
    "a class that never occurs still gets its 0 (unique counts only the labels present): "
    "use torch.bincount(labels, minlength=n_classes)"
)


@tasks(1, "class counts and a balanced sample", answers=["class_counts", "balanced_subset"])
def counts_and_balanced_sample(nb):
    class_counts, labels = nb.class_counts, nb.labels
    toy = class_counts(torch.tensor([0, 1, 1, 9, 9, 9]))
    check_tensor(toy, "class_counts returns a tensor", hint="torch.bincount returns one; so does torch.tensor(list)")
    check_dtype(toy, torch.int64, "counts are whole numbers (int64)", hint="count in an int64 tensor, or use .long()")
    hint = UNIQUE if toy.tolist() == [1, 2, 3] else None  # the counts of the labels present only
    check_equal(toy.tolist(), [1, 2, 0, 0, 0, 0, 0, 0, 0, 3], "counts of [0, 1, 1, 9, 9, 9]", hint=hint)
    short = class_counts(torch.tensor([0, 1, 1, 3]), n_classes=6)
    minlength = "a class that never occurs still gets its 0: with torch.bincount, pass minlength=n_classes"
    hint = {10: "use n_classes, not 10", 4: minlength}.get(len(short))  # 4: the largest label + 1
    check_equal(len(short), 6, "number of counts of [0, 1, 1, 3] with n_classes=6 (no 4 or 5 there)", hint=hint)
    check_equal(short.tolist(), [1, 2, 0, 1, 0, 0], "counts of [0, 1, 1, 3] with n_classes=6")
    counts = class_counts(labels)
    check_equal(int(counts.sum()), len(labels), "sum of the counts of MNIST's training labels")
    check_equal(int(counts[1]), 6_742, "number of 1s in the training set")
    balanced_subset = nb.balanced_subset
    toy_labels = torch.tensor([2, 0, 1, 2, 2, 0, 1, 2, 0, 2, 1, 0, 2])  # four 0s, three 1s, six 2s
    picked = balanced_subset(toy_labels, 3, torch.Generator().manual_seed(0), n_classes=3)
    what = f"balanced_subset({toy_labels.tolist()}, 3, generator, n_classes=3)"
    check_tensor(picked, what, hint="join the positions picked from each class into one tensor with torch.cat")
    if picked.dtype == torch.bool or sorted(picked.tolist()) == [0, 0, 0, 1, 1, 1, 2, 2, 2]:
        got = "a mask of True and False" if picked.dtype == torch.bool else f"the labels {sorted(picked.tolist())}"
        fail(what, f"got {got}", "return positions in labels: (labels == d).nonzero().flatten() finds those of d")
    flat = "one position per sample, a 1-D tensor: flatten the positions, (labels == d).nonzero().flatten()"
    stacked = "join the classes' positions into one row with torch.cat, not torch.stack"
    count = "per_class positions for each of the n_classes classes"
    shape_hint = (stacked if tuple(picked.shape) == (3, 3) else flat) if picked.ndim != 1 else count
    check_shape(picked, (9,), f"{what}: 3 positions for each of 3 classes", hint=shape_hint)
    check_dtype(picked, torch.int64, f"{what}: positions are whole numbers (int64)", hint=".long() converts to int64")
    classes, hint = toy_labels[picked].tolist(), "pick per_class of the positions of each class d"
    check_equal(sorted(classes), [0, 0, 0, 1, 1, 1, 2, 2, 2], f"{what}: the classes of the positions", hint=hint)
    repeats = "torch.randperm never repeats a position; random draws such as torch.randint can"
    check_equal(len(set(picked.tolist())), 9, f"{what}: different positions", hint=repeats)
    twelve = torch.arange(36) % 12  # three of each of 12 classes: 10 and 11 too
    picked = balanced_subset(twelve, 2, torch.Generator().manual_seed(0), n_classes=12)
    what = "balanced_subset(torch.arange(36) % 12, 2, generator, n_classes=12)"
    hint = "use n_classes, not 10" if tuple(picked.shape) == (20,) else count
    check_shape(picked, (24,), f"{what}: 2 positions for each of 12 classes", hint=hint)
    check_equal(sorted(twelve[picked].tolist()), sorted(list(range(12)) * 2), f"{what}: the classes of the positions")
    draw = lambda seed: balanced_subset(labels, 100, torch.Generator().manual_seed(seed))  # noqa: E731
    first = draw(0)
    check_equal(torch.bincount(labels[first], minlength=10).tolist(), [100] * 10, "100 MNIST images of each digit")
    check_equal(len(set(first.tolist())), 1000, "1,000 different positions in MNIST's labels", hint=repeats)
    first_ones = set(torch.cat([(labels == d).nonzero().flatten()[:100] for d in range(10)]).tolist())
    shuffle = "shuffle all of a class's positions, torch.randperm(len(positions), generator=...), then take per_class"
    check_equal(set(first.tolist()) != first_ones, True, "drawn at random, not the first 100 of each", hint=shuffle)
    same, other = torch.equal(first, draw(0)), torch.equal(first, draw(1))
    given = "draw with the generator you are given: torch.randperm(n, generator=generator)"
    check_equal(same, True, "the same seed gives the same sample", hint=given)
    given += ", not one of your own, and do not seed it again"  # the same sample whatever the seed
    check_equal(other, False, "another seed gives another sample", hint=given)


tasks(2, "pixel statistics, whole and batch by batch", answers=["pixel_stats", "streaming_stats"])(pixel_statistics)


def course_means(images, labels, n_classes=10):
    """The course's answer to class_means, to compare with."""
    return torch.stack([(images[labels == d].float() / 255).mean(dim=0) for d in range(n_classes)])


TOY_PIXELS = [[0, 51, 255, 255, 0, 0], [255, 255, 0] + [0] * 3, [0, 0, 0, 102, 255, 255], [255, 0, 51, 0, 0, 255]]
TOY_IMAGES = torch.tensor([*TOY_PIXELS, [0, 255, 0] * 2], dtype=torch.uint8).reshape(5, 2, 3)  # not square
# 3 is nearest to 1; 2 is 1 times two (nearest by angle); (1, 3) is flat position 7, and divmod(7, n) is (0, 7) for
# n = 10 (n_classes), (1, 1) for 6 (pixels per image); for 2 or 3 (the height, the width), reshaping changes it
TOY_MEANS = torch.tensor([[0.9] * 6, [0.1, 0.2] * 3, [0.2, 0.4] * 3, [0.1, 0.25, 0.1, 0.2, 0.1, 0.2]]).reshape(4, 2, 3)
ROWS = "flat position k of an [n, n] table is row k // n, column k % n, with n = len(means), here 4"
EMPTY = "a class with no images has a nan mean (the mean of nothing): loop over range(n_classes), 0 to n_classes - 1"
PAIR_HINTS = {
    (0, 7): ROWS,
    (1, 1): ROWS,
    (0, 0): "a class paired with itself: the nearest pair is argmin, with t.fill_diagonal_(float('inf')) first",
    (1, 2): "2 is 1 times two: the same direction, but not the nearest in Euclidean distance (torch.cdist)",
    (3, 1): "return the smaller class first: (min(i, j), max(i, j))",
}


@tasks(3, "mean images and the closest pair", answers=["class_means", "closest_pair"])
def means_and_closest_pair(nb):
    images, labels, toy_labels = nb.images, nb.labels, torch.tensor([1, 0, 1, 1, 0])
    toy = nb.class_means(TOY_IMAGES, toy_labels, n_classes=2)
    what = "class_means of five 2 x 3 toy images, n_classes=2"
    check_tensor(toy, what, hint="join the mean image of each class into one tensor with torch.stack")
    hint = "one mean image [H, W] per class: [n_classes, H, W]"
    hint = "do not flatten the mean images" if tuple(toy.shape) == (2, 6) else hint
    classes = len(toy) if toy.dim() else 0
    hint = "join the mean images with torch.stack (a new first dimension), not torch.cat" if classes == 4 else hint
    hint = "use n_classes, not 10" if classes == 10 else hint
    check_shape(toy, (2, 2, 3), f"{what}: the shape", hint=hint)
    expected = course_means(TOY_IMAGES, toy_labels, n_classes=2).double()
    hints = [(255 * expected, SCALE), (255 / 256 * expected, BY_256)]
    hint = next((h for w, h in hints if torch.allclose(toy.double(), w, atol=1e-6)), None)
    hint = EMPTY if toy.flatten(start_dim=1).isnan().all(dim=1).any() else hint
    check_close(toy, expected, what, atol=1e-5, hint=hint)
    means = nb.class_means(images, labels)
    check_shape(means, (10, 28, 28), "mean images of the ten digits")
    check_dtype(means, torch.float32, "the mean images are float32", hint="convert with .float() (float32)")
    reference = course_means(images, labels)
    check_close(means, reference, "the ten mean images", atol=1e-5)
    closest_pair, what = nb.closest_pair, "closest_pair of 4 toy mean images of 2 x 3 pixels"
    try:
        pair = closest_pair(TOY_MEANS.clone())
    except Exception as error:
        try:  # the same means as rows of 6 numbers: when that works, the rows are what was missing
            works_on_rows = closest_pair(TOY_MEANS.flatten(start_dim=1)) == (1, 3)
        except Exception:
            works_on_rows = False
        if works_on_rows:
            problem = f"your code raised {type(error).__name__} on means [4, 2, 3], but works on rows [4, 6]"
            fail(what, problem, "flatten each mean image into a row first: means.flatten(start_dim=1)")
        raise
    if not (type(pair) is tuple and len(pair) == 2 and all(type(k) is int for k in pair)):
        numbers = isinstance(pair, tuple | list) and any(hasattr(k, "item") for k in pair)  # tensor or NumPy ints
        hint = "int(k) converts a tensor's or NumPy's number into a Python int" if numbers else "return (i, j)"
        fail(what, f"expected a tuple (i, j) of two Python ints, got {pair!r}"[:200], hint)
    reshaped = closest_pair(TOY_MEANS.reshape(4, 3, 2).clone())  # the same means as 3 x 2 images
    if reshaped != pair:
        problem = f"got {pair}, but {reshaped!r} for the same means as 3 x 2 images"
        fail(what, problem, ROWS + ", not a size of the images")
    check_equal(pair, (1, 3), what, hint=PAIR_HINTS.get(pair))
    # nearest: (0, 1) in Euclidean distance, (0, 2) by the summed absolute differences, (1, 2) by the largest one
    manhattan = torch.tensor([[0.9, 0.9], [0.6, 0.1], [0.0, 0.8]]).reshape(3, 1, 2)
    euclid = "the Euclidean distance: torch.cdist(a, b) (p=2), the square root of the summed squares"
    pair, what = closest_pair(manhattan), "closest_pair of 3 toy mean images of 1 x 2 pixels"
    check_equal(pair, (0, 1), what, hint=euclid if pair == (0, 2) else None)
    pair = closest_pair(reference)
    check_equal(pair[0] < pair[1], True, f"closest pair of MNIST's mean digits, {pair}, has i < j",
                hint="return the smaller class first: (min(i, j), max(i, j))")  # fmt: skip
    print(f"On average, the two most similar digits are {pair[0]} and {pair[1]}.")
