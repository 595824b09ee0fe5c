"""The comparisons behind Tasks 3 and 4 of exercises 12 (a histogram, and Otsu's level from it).

Every count is compared with the task's own definition of a pixel's bin (its value times the number
of bins, rounded down; 1.0 in the last bin), every level with the score of every split, computed as
lesson 12's `otsu_score` does, on the pixels the counts stand for. Every answer is called on a copy
of its input, which must come back unchanged (`on_a_copy`, used by all four tasks). See
`course_utils.exercise_checks.draw_your_own_digit` for the tasks.
"""

import numpy as np

from course_utils.checks import _not_implemented, fail, passed
from course_utils.exercise_checks.mistakes import kind, known_mistake, must_match, same


def on_a_copy(function, given, what: str, unchanged: str, **arguments):
    """``function(a copy of given, **arguments)``, which must return something and leave the copy as it
    was: an answer that changed its input in place would change the notebook's digits, and our toys."""
    __tracebackhide__ = True
    copy = np.array(given)
    got = function(copy, **arguments)
    _not_implemented(got, what)  # None: "did your function forget to `return` its result?"
    if copy.shape != np.shape(given) or not np.array_equal(copy, given):
        thing = "counts" if np.ndim(given) == 1 else "image"
        fail(what, f"your function changed the {thing} it was given", unchanged)
    return got


# --- Task 3: a histogram of grey levels -------------------------------------------------------------
CLIP = "the value 1.0 belongs in the last bin: clip each pixel's bin to bins - 1 (np.minimum)"
ROUNDED = "a pixel's bin is value * bins rounded DOWN (.astype(int) or np.floor), not rounded to the nearest"
MINLENGTH = "np.bincount(..., minlength=bins): without it the counts stop at the highest bin that holds a pixel"
NEW_COUNTS = "do not change the image you were given: image * bins makes a new array (image *= bins changes the image)"
HISTOGRAM_CASES = [  # (what, image, bins): 2 x 4 and 2 x 3 images
    ("a toy with its top bins empty, 8 bins", np.array([[0.0, 0.1, 0.12, 0.26], [0.3, 0.49, 0.5, 0.55]]), 8),
    ("a toy holding 1.0, 4 bins", np.array([[1.0, 0.9, 0.0], [0.5, 1.0, 0.25]]), 4),
    ("a toy in 10 bins, with 0.3 and 0.7 in bins 3 and 7", np.array([[0.3, 0.7, 0.05], [0.95, 0.29, 0.3]]), 10),
]


def counted(image, bins: int) -> np.ndarray:
    """The task's histogram: a pixel's bin is floor(value * bins), and 1.0's is the last, bins - 1.

    Not np.histogram: it compares each value with its bin edges, np.linspace(0, 1, bins + 1), and the
    edge 3 / 10 comes out as 0.30000000000000004 there, so it counts 0.3 in bin 2 of 10, not in bin 3."""
    index = np.minimum(np.floor(np.asarray(image) * bins).astype(int), bins - 1)
    return np.bincount(index.ravel(), minlength=bins)


def histogram_case(grey_histogram, image, bins: int, what: str) -> np.ndarray:
    """``grey_histogram(image, bins)`` compared with the task's definition of the bins."""
    try:
        got = on_a_copy(grey_histogram, image, what, NEW_COUNTS, bins=bins)
    except ValueError as error:
        if "too deep" not in str(error):
            raise
        fail(
            what,
            f"your code raised ValueError: {error}",
            "np.bincount counts a 1-D array: flatten the image (.ravel())",
        )
    expected = counted(image, bins)
    if isinstance(got, np.ndarray) and got.shape == expected.shape and not np.issubdtype(got.dtype, np.integer):
        fail(what, f"expected whole counts (an int array), got dtype {got.dtype}", "count in ints: np.zeros(bins, int)")
    index = (image * bins).astype(int)  # each pixel's bin, but 1.0's is bins, one too many
    rounded, too_few = np.round(image * bins).astype(int), (image * (bins - 1)).astype(int)
    mistakes = [  # what each mistake counts instead
        (CLIP, np.bincount(index.ravel(), minlength=bins)),
        (MINLENGTH, np.bincount(np.minimum(index, bins - 1).ravel())),
        (ROUNDED, np.bincount(np.minimum(rounded, bins - 1).ravel(), minlength=bins)),
        ("multiply by bins, not bins - 1: bin k starts at k / bins", np.bincount(too_few.ravel(), minlength=bins)),
    ]
    must_match(got, expected, what, mistakes)
    passed(what)
    return got


# --- Task 4: Otsu's level from the counts -----------------------------------------------------------
LEVEL = "return the level k / bins (a float between 0 and 1), not the split's number k"
ONE_OFF = "one bin off: the dark group is the bins below k (counts[:k]), and the level is k / bins"
NAN = "a split that leaves a group empty scores 0: 0 / 0 gives nan, and np.argmax picks a nan first"
LARGEST = "keep the split with the LARGEST score"
OWN_COUNTS = "do not change the counts you were given: counts * centres and np.cumsum(counts) make new arrays"
OTSU_CASES = [  # (what, counts): two humps, no empty bin; then empty bins at both ends
    ("two humps in 8 bins", [1, 5, 9, 2, 1, 6, 3, 2]),
    ("empty bins at both ends", [0, 0, 7, 3, 1, 4, 9, 0, 0, 0]),
]


def scores(counts) -> np.ndarray:
    """The score of every split k = 0 .. bins (lesson 12's otsu_score on the pixels the counts stand for)."""
    counts = np.asarray(counts)
    pixels = np.repeat((np.arange(len(counts)) + 0.5) / len(counts), counts)  # each at its bin's centre
    dark_sizes = np.concatenate([[0], np.cumsum(counts)])
    result = np.zeros(len(counts) + 1)
    for k, size in enumerate(dark_sizes):
        dark, light = pixels[:size], pixels[size:]
        result[k] = len(dark) * len(light) * (dark.mean() - light.mean()) ** 2 if len(dark) and len(light) else 0.0
    return result


def otsu_case(otsu_level, counts, what: str) -> float:
    """``otsu_level(counts)`` must be a level k / bins whose split scores the most."""
    counts, bins = np.asarray(counts), len(counts)
    score = scores(counts)
    best = [k for k in range(1, bins) if score[k] >= score.max() * (1 - 1e-9)]  # the best splits (ties: all)
    got = on_a_copy(otsu_level, counts, what, OWN_COUNTS)
    if not isinstance(got, float):
        hint = LEVEL if got in best else "float(...) turns a number into one"
        fail(what, f"expected a Python float, got {kind(got)}", hint)
    if not any(same(got, k / bins) for k in best):
        empty = [k for k in range(1, bins) if min(counts[:k].sum(), counts[k:].sum()) == 0]
        mistakes = [(LEVEL, k) for k in best] + [(ONE_OFF, (k + step) / bins) for k in best for step in (-1, 1)]
        mistakes += [(NAN, empty[0] / bins)] if empty else []
        mistakes.append((LARGEST, min(range(1, bins), key=lambda k: score[k]) / bins))
        expected = " or ".join(f"{k / bins:.4g}" for k in best)
        fail(what, f"expected the level {expected} (the best split), got {got:.4g}", known_mistake(got, mistakes))
    passed(what)
    return got
