"""The checks of exercises 1 (exploring MNIST by hand): ``check(task=N)``: toy inputs on which every classic
mistake changes the answer, then MNIST; a hint only when the answer looks like the mistake it names."""

import math
import weakref

import torch

from course_utils.checks import check_close, check_dtype, check_equal, check_own_work, check_shape, explain_errors, fail
from course_utils.data import normalization_stats
from course_utils.exercise_checks import Tasks

tasks = Tasks("data_exploration")
check = tasks.check
SCALE = "scale the pixels to [0, 1] first: divide by 255"


def check_tensor(value, what: str, hint: str) -> None:
    if not isinstance(value, torch.Tensor):
        fail(what, f"expected a tensor, got a {type(value).__name__}", hint)


def close_unless(value: float, expected: float, what: str, mistakes: list, atol: float = 1e-4) -> None:
    """check_close, with the hint of the mistake whose result (or function computing it) ``value`` matches."""
    wrong = abs(value - expected) > atol + 1e-5 * abs(expected)
    found = (h for w, h in mistakes if wrong and math.isclose(value, w() if callable(w) else w, rel_tol=1e-3))
    check_close(value, expected, what, atol=atol, hint=next(found, None))


@tasks(1, "class counts and a balanced sample", answers=["class_counts", "balanced_subset"])
def counts_and_balanced_sample(nb):
    class_counts, labels = nb.class_counts, nb.labels
    toy = class_counts(torch.tensor([0, 1, 1, 9, 9, 9]))
    check_tensor(toy, "class_counts returns a tensor", hint="torch.bincount returns one; so does torch.tensor(list)")
    check_dtype(toy, torch.int64, "counts are whole numbers (int64)", hint="count in an int64 tensor, or use .long()")
    check_equal(toy.tolist(), [1, 2, 0, 0, 0, 0, 0, 0, 0, 3], "counts of [0, 1, 1, 9, 9, 9]")
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
    check_dtype(picked, torch.int64, f"{what}: positions are whole numbers (int64)")
    classes, hint = toy_labels[picked].tolist(), "pick per_class of the positions of each class d"
    check_equal(sorted(classes), [0, 0, 0, 1, 1, 1, 2, 2, 2], f"{what}: the classes of the positions", hint=hint)
    repeats = "torch.randperm never repeats a position; random draws such as torch.randint can"
    check_equal(len(set(picked.tolist())), 9, f"{what}: different positions", hint=repeats)
    draw = lambda seed: balanced_subset(labels, 100, torch.Generator().manual_seed(seed))  # noqa: E731
    first = draw(0)
    check_equal(torch.bincount(labels[first], minlength=10).tolist(), [100] * 10, "100 MNIST images of each digit")
    check_equal(len(set(first.tolist())), 1000, "1,000 different positions in MNIST's labels", hint=repeats)
    first_ones = set(torch.cat([(labels == d).nonzero().flatten()[:100] for d in range(10)]).tolist())
    shuffle = "shuffle the positions of each class with torch.randperm(n, generator=generator), then take per_class"
    check_equal(set(first.tolist()) != first_ones, True, "drawn at random, not the first 100 of each", hint=shuffle)
    same, other = torch.equal(first, draw(0)), torch.equal(first, draw(1))
    given = "draw with the generator you are given: torch.randperm(n, generator=generator)"
    check_equal(same, True, "the same seed gives the same sample", hint=given)
    check_equal(other, False, "another seed gives another sample", hint=given)


def two_floats(result, name: str) -> tuple[float, float]:
    """``(mean, std)`` as the task asks: two Python floats."""
    what = f"{name} returns (mean, std), two Python floats"
    if not isinstance(result, tuple | list) or len(result) != 2:
        got = f"a tensor of shape {tuple(result.shape)}" if hasattr(result, "shape") else repr(result)[:60]
        fail(what, f"got {got}", "return mean, std")
    many = max(v.numel() if hasattr(v, "numel") else getattr(v, "size", 1) for v in result) > 1
    tensors = any(hasattr(v, "item") for v in result)
    hint = "one number over all the pixels, not one per image or per position" if many else None
    hint = hint or ("turn a one-number tensor into a Python float with .item() or float(...)" * tensors)
    check_equal([type(v).__name__ for v in result], ["float", "float"], what, hint=hint)
    return result


NEGATIVE = "is it Q/N - mean**2 (the mean squared)? are N, S, Q over the same pixels, as floats? (uint8 squares wrap)"


@tasks(2, "pixel statistics, whole and batch by batch", answers=["pixel_stats", "streaming_stats"])
def pixel_statistics(nb):
    images = nb.images[:12_000]  # enough pixels (9.4 million) to tell every mistake apart, and quick
    check_own_work(nb.pixel_stats, normalization_stats, "pixel_stats is your own")
    mean, std = two_floats(nb.pixel_stats(images), "pixel_stats")
    right_mean, right_std = normalization_stats(images)
    close_unless(mean, right_mean, "mean pixel value of 12,000 images", [(255 * right_mean, SCALE)])
    averaged_std = lambda dim: (images.float() / 255).std(dim=dim).mean().item()  # noqa: E731 (a classic mistake)
    one = "take one std over all pixels at once, not one per "
    mistakes = [(lambda: averaged_std((1, 2)), one + "image"), (lambda: averaged_std(0), one + "pixel position")]
    close_unless(std, right_std, "their standard deviation", [*mistakes, (255 * right_std, SCALE)])
    check_streaming(nb.streaming_stats, images)


class OneAtATime:
    """The batches as a generator (read only once); ``kept``: a batch was still held two batches later."""

    def __init__(self, batches):
        self.kept, self.generator = False, self._read(batches)

    def _read(self, batches):
        given = []
        for batch in batches:
            fresh = batch.clone()
            given.append(weakref.ref(fresh))
            self.kept |= any(earlier() is not None for earlier in given[:-2])
            yield fresh


def check_streaming(streaming_stats, images) -> None:
    full, blank = torch.full((4, 28, 28), 255, dtype=torch.uint8), torch.zeros(1, 28, 28, dtype=torch.uint8)
    batches = [blank, images[:3000], images[3000:3007], full]  # sizes and brightness that differ a lot
    right_mean, right_std = normalization_stats(torch.cat(batches))
    what = "streaming_stats of batches of 1, 3,000, 7 and 4 images"
    try:
        result = streaming_stats(list(batches))
    except ValueError as error:
        if "math domain error" in str(error):  # math.sqrt of a negative number
            fail(f"{what}: the standard deviation", "the variance came out negative: math.sqrt failed", NEGATIVE)
        raise
    std = result[1] if isinstance(result, tuple | list) and len(result) == 2 else 0.0
    if isinstance(std, complex) or (isinstance(std, float | torch.Tensor) and bool(torch.as_tensor(std).isnan().any())):
        if isinstance(result[0], float | int) and abs(result[0] - right_mean) > 1e-4:  # the mean's hint first
            images = (784 * right_mean, "N counts the pixels, 28 x 28 an image: add pixels.numel()")
            close_unless(result[0], right_mean, f"{what}: the mean", [(255 * right_mean, SCALE), images])
        fail(f"{what}: the standard deviation", "the variance came out negative: it has no real square root", NEGATIVE)
    mean, std = two_floats(result, "streaming_stats")
    batch_means = [(b.double() / 255).mean().item() for b in batches]
    mistakes = [
        (sum(batch_means) / 4, "weight each batch by its number of pixels: keep running totals, not a mean per batch"),
        (255 * right_mean, SCALE),
    ]
    close_unless(mean, right_mean, f"{what}: the mean", mistakes)
    batch_stds = sum((b.double() / 255).std().item() for b in batches) / 4
    mistakes = [
        (batch_stds, "the std of all pixels is not the mean of the batches' stds: keep the total of the squares"),
        (right_std**2, "that is the variance: take its square root"),
        (255 * right_std, SCALE),
    ]
    close_unless(std, right_std, f"{what}: the standard deviation", mistakes)
    once = "a generator has no len() and can be read only once: update every total in one loop over the batches"
    one_pass = OneAtATime(batches)
    with explain_errors(f"{what}, given as a generator", hint=once):
        again = streaming_stats(one_pass.generator)
    check_close(again, (mean, std), f"{what}, given as a generator (read only once)", atol=1e-6, hint=once)
    keep = "keep running totals (the number of pixels, their sum, the sum of their squares), not the batches"
    check_equal(one_pass.kept, False, f"{what}: each batch is let go once its totals are added", hint=keep)


def course_means(images, labels, n_classes=10):
    """The course's answer to class_means, to compare with."""
    return torch.stack([(images[labels == d].float() / 255).mean(dim=0) for d in range(n_classes)])


TOY_PIXELS = [[0, 51, 255, 255, 0, 0], [255, 255, 0] + [0] * 3, [0, 0, 0, 102, 255, 255], [255, 0, 51, 0, 0, 255]]
TOY_IMAGES = torch.tensor([*TOY_PIXELS, [0, 255, 0] * 2], dtype=torch.uint8).reshape(5, 2, 3)  # not square
# 3 is nearest to 1; 2 is 1 times two (nearest by angle); (1, 3) is flat position 7, and divmod(7, 10) is (0, 7)
TOY_MEANS = torch.tensor([[0.9] * 6, [0.1, 0.2] * 3, [0.2, 0.4] * 3, [0.1, 0.25, 0.1, 0.2, 0.1, 0.2]]).reshape(4, 2, 3)
PAIR_HINTS = {
    (0, 7): "flat position k of an [n, n] table is row k // n, column k % n, with n = len(means), here 4",
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
    hint = "use n_classes, not 10" if len(toy) == 10 else "do not flatten the mean images" if toy.dim() == 2 else hint
    check_shape(toy, (2, 2, 3), f"{what}: the shape", hint=hint)
    expected = course_means(TOY_IMAGES, toy_labels, n_classes=2).double()
    check_close(toy, expected, what, atol=1e-5, hint=SCALE if torch.allclose(toy.double(), 255 * expected) else None)
    means = nb.class_means(images, labels)
    check_shape(means, (10, 28, 28), "mean images of the ten digits")
    check_dtype(means, torch.float32, "the mean images are float32")
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
    diagonal = "a class paired with itself: the nearest pair is argmin, with t.fill_diagonal_(float('inf')) first"
    check_equal(pair, (1, 3), what, hint=diagonal if pair[0] == pair[1] else PAIR_HINTS.get(pair))
    pair = closest_pair(reference)
    check_equal(pair[0] < pair[1], True, f"closest pair of MNIST's mean digits, {pair}, has i < j",
                hint="return the smaller class first: (min(i, j), max(i, j))")  # fmt: skip
    print(f"On average, the two most similar digits are {pair[0]} and {pair[1]}.")
