"""The checks of exercises 1's Task 2 (the pixels' mean and std, whole and batch by batch), and the
mistakes their hints name: a mean and a std given the other way round, the variance for the std,
pixels not scaled, a mean of the batches' means... `data_exploration.py` registers `pixel_statistics`
as Task 2; a hint names a mistake only when the answer is exactly what that mistake gives.
"""

import math
import weakref

import torch

from course_utils.checks import check_close, check_equal, check_own_work, explain_errors, fail
from course_utils.data import normalization_stats

SCALE = "scale the pixels to [0, 1] first: divide by 255"
BY_256 = "divide by 255, the largest pixel value, not by 256"
SWAPPED = "mean first, then std: return mean, std"
NO_MEAN = "subtract the mean: the variance is mean(x**2) - mean**2, not mean(x**2)"
PER_IMAGE = "N counts the pixels, 28 x 28 an image: add batch.numel()"
NEGATIVE = "is it Q/N - mean**2 (the mean squared)? are N, S, Q over the same pixels, as floats? (uint8 squares wrap)"


def scaling(right: float) -> list:
    """The mistakes of scaling a statistic whose right value is ``right``: (what each gives, its hint)."""
    return [(255 * right, SCALE), (255 / 256 * right, BY_256)]


def close_unless(value: float, expected: float, what: str, mistakes: list, atol: float = 1e-4) -> None:
    """check_close, with the hint of the mistake whose result (or function computing it) ``value`` matches."""
    wrong = abs(value - expected) > atol + 1e-5 * abs(expected)
    found = (h for w, h in mistakes if wrong and math.isclose(value, w() if callable(w) else w, rel_tol=1e-3))
    check_close(value, expected, what, atol=atol, hint=next(found, None))


def two_floats(result, name: str) -> tuple[float, float]:
    """``(mean, std)`` as the task asks: two Python floats."""
    what = f"{name} returns (mean, std), two Python floats"
    if not isinstance(result, tuple | list) or len(result) != 2:
        got = f"a tensor of shape {tuple(result.shape)}" if hasattr(result, "shape") else repr(result)[:60]
        fail(what, f"got {got}", "return mean, std")
    many = max(v.numel() if hasattr(v, "numel") else getattr(v, "size", 1) for v in result) > 1
    numbers = any(hasattr(v, "item") for v in result)  # tensors, or NumPy's numbers
    hint = "one number over all the pixels, not one per image or per position" if many else None
    hint = hint or ("turn a one-number tensor or NumPy number into a Python float with .item() or float(...)" * numbers)
    check_equal([type(v).__name__ for v in result], ["float", "float"], what, hint=hint)
    return result


def in_order(mean: float, std: float, right_mean: float, right_std: float, name: str) -> None:
    """Fail when ``(mean, std)`` is the right pair the other way round."""
    if math.isclose(mean, right_std, rel_tol=1e-3) and math.isclose(std, right_mean, rel_tol=1e-3):
        hint = SWAPPED + " (torch.std_mean gives them the other way round)" * (name == "pixel_stats")
        fail(f"{name} returns (mean, std)", f"got ({mean:.6g}, {std:.6g}), the std first", hint)


def pixel_statistics(nb):
    """Task 2: pixel_stats on 12,000 images (9.4 million pixels, enough to tell every mistake apart), then
    streaming_stats on batches of very different sizes."""
    images = nb.images[:12_000]
    check_own_work(nb.pixel_stats, normalization_stats, "pixel_stats is your own")
    mean, std = two_floats(nb.pixel_stats(images), "pixel_stats")
    right_mean, right_std = normalization_stats(images)
    in_order(mean, std, right_mean, right_std, "pixel_stats")
    variance = (right_std**2, "that is the variance, not the mean: torch.var_mean returns the variance first")
    close_unless(mean, right_mean, "mean pixel value of 12,000 images", [*scaling(right_mean), variance])
    averaged_std = lambda dim: (images.float() / 255).std(dim=dim).mean().item()  # noqa: E731 (a classic mistake)
    one = "take one std over all pixels at once, not one per "
    mistakes = [(lambda: averaged_std((1, 2)), one + "image"), (lambda: averaged_std(0), one + "pixel position")]
    mistakes += [(right_std**2, "that is the variance: take its square root, or use .std()")]
    mistakes += [(math.sqrt(right_std**2 + right_mean**2), NO_MEAN), *scaling(right_std)]
    close_unless(std, right_std, "their standard deviation", mistakes)
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


def counts_images(streaming_stats) -> bool:
    """Whether N counts images, not pixels: on 3 images with one pixel lit, the mean comes out 1/3, not 1/2352
    (and, unlike on the check's batches, the variance stays positive)."""
    probe = torch.zeros(3, 28, 28, dtype=torch.uint8)
    probe[0, 0, 0] = 255
    try:
        mean = streaming_stats([probe])[0]
        return math.isclose(float(mean), 1 / 3, rel_tol=1e-3)
    except Exception:
        return False


def check_streaming(streaming_stats, images) -> None:
    full, blank = torch.full((4, 28, 28), 255, dtype=torch.uint8), torch.zeros(1, 28, 28, dtype=torch.uint8)
    batches = [blank, images[:3000], images[3000:3007], full]  # sizes and brightness that differ a lot
    right_mean, right_std = normalization_stats(torch.cat(batches))
    what = "streaming_stats of batches of 1, 3,000, 7 and 4 images"
    try:
        result = streaming_stats(list(batches))
    except ValueError as error:
        if "math domain error" in str(error):  # math.sqrt of a negative number
            problem = "the variance came out negative: math.sqrt failed"
            if counts_images(streaming_stats):
                fail(f"{what}: the standard deviation", problem + ", and the mean is 784 times too big", PER_IMAGE)
            fail(f"{what}: the standard deviation", problem, NEGATIVE)
        raise
    std = result[1] if isinstance(result, tuple | list) and len(result) == 2 else 0.0
    if isinstance(std, complex) or (isinstance(std, float | torch.Tensor) and bool(torch.as_tensor(std).isnan().any())):
        if isinstance(result[0], float | int) and abs(result[0] - right_mean) > 1e-4:  # the mean's hint first
            close_unless(
                result[0], right_mean, f"{what}: the mean", [*scaling(right_mean), (784 * right_mean, PER_IMAGE)]
            )
        fail(f"{what}: the standard deviation", "the variance came out negative: it has no real square root", NEGATIVE)
    mean, std = two_floats(result, "streaming_stats")
    in_order(mean, std, right_mean, right_std, "streaming_stats")
    batch_means = [(b.double() / 255).mean().item() for b in batches]
    per_batch = "weight each batch by its number of pixels: keep running totals, not a mean per batch"
    close_unless(mean, right_mean, f"{what}: the mean", [(sum(batch_means) / 4, per_batch), *scaling(right_mean)])
    batch_stds = sum((b.double() / 255).std().item() for b in batches) / 4
    mistakes = [
        (batch_stds, "the std of all pixels is not the mean of the batches' stds: keep the total of the squares"),
        (right_std**2, "that is the variance: take its square root"),
        (math.sqrt(right_std**2 + right_mean**2), NO_MEAN),
        *scaling(right_std),
    ]
    close_unless(std, right_std, f"{what}: the standard deviation", mistakes)
    once = "a generator has no len() and can be read only once: update every total in one loop over the batches"
    one_pass = OneAtATime(batches)
    with explain_errors(f"{what}, given as a generator", hint=once):
        again = streaming_stats(one_pass.generator)
    check_close(again, (mean, std), f"{what}, given as a generator (read only once)", atol=1e-6, hint=once)
    keep = "keep running totals (the number of pixels, their sum, the sum of their squares), not the batches"
    check_equal(one_pass.kept, False, f"{what}: each batch is let go once its totals are added", hint=keep)
