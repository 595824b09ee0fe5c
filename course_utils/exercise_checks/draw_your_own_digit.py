"""The checks of exercises 12 (sturdier preprocessing for your own digits): ``check(task=N)``.

Each function runs first on toy images small enough to work out by hand, wider than they are tall
so that mixing up rows and columns changes the shape, then on the made-up digits and the photo,
compared with another way of computing the same thing: a loop that follows the task's definition
word for word, NumPy's `np.cov`, scipy's `affine_transform`, the task's own bins. Each function gets a
copy of its input and must leave it unchanged (or it would change the notebook's made-up digits). A
hint is shown only when the answer is what its mistake gives (see `mistakes`); other wrong answers
are told what differs. The hidden tests of `course grade` call the same ``*_case`` functions on other
inputs.
"""

import numpy as np
from scipy import ndimage

from course_utils.checks import fail, passed
from course_utils.digits import BlankImageError, otsu_threshold
from course_utils.exercise_checks import Tasks
from course_utils.exercise_checks.draw_your_own_digit_otsu import (
    HISTOGRAM_CASES,
    OTSU_CASES,
    counted,
    histogram_case,
    on_a_copy,
    otsu_case,
)
from course_utils.exercise_checks.mistakes import kind, known_mistake, must_match, same

tasks = Tasks("draw_your_own_digit")
check = tasks.check


# --- Task 1: crop to most of the ink ----------------------------------------------------------------
TOY = np.zeros((6, 9))  # 6 rows, 9 columns: a digit in rows 1-3, columns 2-6, and a stray dot
TOY[1:4, 2:7] = [[1, 1, 0.5, 1, 1], [1, 0.5, 0.5, 0.5, 1], [1, 1, 0.5, 1, 1]]  # 12.5 in all
TOY[5, 8] = 0.2  # the dot: 1.6% of the ink, brighter than the lesson's level 0.1
STRAY = "the stray dot holds less than dust of the ink: drop rows and columns from both ends, up to dust in all"
PLUS_ONE = "keep the last row and column too: a[first : last + 1] (a slice stops before its end)"
AXES = "ink.sum(axis=1) is one number per ROW (it adds along each row); ink.sum(axis=0) one per column"
MASK = "return the pixels of ink itself (a slice of it), not a mask of the ink"
GREATER = "keep from the first row whose running total is MORE than dust * ink.sum(): >, not >= (0 >= 0 is True)"
AS_IT_IS = "do not change the image you were given: find the rows and columns to keep, return a slice of it as it is"
CROP_CASES = [  # (what, dust, the rows and columns to keep, [(hint, what a mistake keeps)])
    ("a toy with a stray dot, dust=0.02", 0.02, np.s_[1:4, 2:7],
     [(STRAY, np.s_[1:6, 2:9]), (PLUS_ONE, np.s_[1:3, 2:6]), (PLUS_ONE, np.s_[1:3, 2:7]),
      (PLUS_ONE, np.s_[1:4, 2:6]), (AXES, np.s_[2:7, 1:4])]),
    ("the toy with dust=0: only empty rows and columns go", 0, np.s_[1:6, 2:9],
     [("use the dust argument: with dust=0 the dot stays", np.s_[1:4, 2:7]), (GREATER, np.s_[:, :])]),
]  # fmt: skip


def crop_case(crop_to_most_ink, image, dust: float, expected, what: str, mistakes=()) -> np.ndarray:
    """``crop_to_most_ink(image, dust)`` must be ``expected``; ``mistakes``: [(hint, what the mistake returns)]."""
    got = on_a_copy(crop_to_most_ink, image, what, AS_IT_IS, dust=dust)
    if isinstance(got, np.ndarray) and got.shape == expected.shape and set(np.unique(got)) <= {0, 1}:
        mistakes = [*mistakes, (MASK, got)] if not same(got, expected) else mistakes
    if isinstance(got, np.ndarray) and got.shape == image.shape != expected.shape and same(got, image):
        found = f"nothing was cropped: expected shape {expected.shape}, got the whole image, {got.shape}"
        fail(what, found, known_mistake(got, mistakes))
    must_match(got, expected, what, mistakes)
    passed(what)
    return got


def peeled(ink, dust: float) -> np.ndarray:
    """The task's definition, one row (or column) at a time: peel while what is peeled stays within dust."""
    total, bounds = ink.sum(), []
    for mass in (ink.sum(axis=1), ink.sum(axis=0)):
        first, last, dropped = 0, len(mass) - 1, 0.0
        while dropped + mass[first] <= dust * total:
            dropped, first = dropped + mass[first], first + 1
        dropped = 0.0
        while dropped + mass[last] <= dust * total:
            dropped, last = dropped + mass[last], last - 1
        bounds.append(slice(first, last + 1))
    return ink[tuple(bounds)]


def blank_case(crop_to_most_ink, shape) -> None:
    what = "an image without ink raises BlankImageError"
    try:
        got = crop_to_most_ink(np.zeros(shape))  # a new array: nothing of ours to spoil
        outcome = f"no error (it returned {kind(got)})"
    except BlankImageError:
        return passed(what)
    except Exception as error:
        outcome = f"{type(error).__name__}: {str(error)[:80]}"
    fail(what, f"got {outcome}", "when the image holds no ink at all (ink.sum() == 0), raise BlankImageError()")


@tasks(1, "crop to most of the ink", answers=["crop_to_most_ink"])
def crop_to_most_ink(nb):
    for what, dust, keep, mistakes in CROP_CASES:
        crop_case(nb.crop_to_most_ink, TOY, dust, TOY[keep], what, [(hint, TOY[wrong]) for hint, wrong in mistakes])
    blank_case(nb.crop_to_most_ink, (4, 7))
    dotted = nb.font_digits[7].copy()
    dotted[106:108, 2:4] = 1.0  # a stray dot in the bottom-left corner
    expected = peeled(dotted, 0.02)
    crop_case(nb.crop_to_most_ink, dotted, 0.02, expected, "a made-up 7 with a stray dot, compared with peeling")


# --- Task 2: slant and deskew -----------------------------------------------------------------------
LINE = np.zeros((5, 12))
LINE[range(5), [7, 6, 5, 4, 3]] = 1.0  # one column left per row down: slant -1, centre (2, 5)
CLOUD = np.array(  # grey ink where each mistake gives another slant
    [[0, 0, 0, 0.5, 1, 0], [0, 0, 1, 1, 0, 0], [0, 0.5, 1, 0, 0, 0], [1, 0.5, 0, 0, 0, 0.2]]
)


def moments(image, weighted: bool = True) -> np.ndarray:
    """The covariance matrix of the ink's (row, column) positions, each weighted by its pixel (np.cov)."""
    rows, cols = np.indices(image.shape)
    ink = image > 0
    return np.cov(rows[ink], cols[ink], aweights=image[ink] if weighted else None, bias=True)


def true_slant(image) -> float:
    covariance = moments(image)
    return covariance[0, 1] / covariance[0, 0]


WEIGHTED = "weight every position by its pixel's value, not just the positions where there is ink"
PER_ROW = "divide by the spread of the ROWS, sum x (r - r_cm)^2: the slant is columns per row"
CENTRED = "measure rows and columns from the centre of mass (r - r_cm and c - c_cm), not from 0"
NEW_ARRAYS = "do not change the image you were given: image * rows makes a new array (image /= ... changes the image)"


def slant_case(slant, image, what: str) -> float:
    """``slant(image)`` compared with the weighted covariance of np.cov."""
    got = on_a_copy(slant, image, what, NEW_ARRAYS)
    if not isinstance(got, float):
        fail(what, f"expected a Python float, got {kind(got)}", "float(...) turns a NumPy number into one")
    if not same(got, true_slant(image)):
        rows, cols = np.indices(image.shape)
        row_cm, col_cm = ndimage.center_of_mass(image)
        ink, (up, across) = image > 0, (rows - row_cm, cols - col_cm)  # where there is ink; distances
        unweighted, covariance = moments(image, weighted=False), moments(image)
        mistakes = [  # what each mistake gives instead
            (WEIGHTED, unweighted[0, 1] / unweighted[0, 0]),
            (WEIGHTED, (ink * up * across).sum() / (ink * up**2).sum()),
            (PER_ROW, covariance[0, 1] / covariance[1, 1]),
            (CENTRED, (image * rows * cols).sum() / (image * rows**2).sum()),
        ]
        fail(what, f"expected {true_slant(image):.4g}, got {got:.4g}", known_mistake(got, mistakes))
    passed(what)
    return got


REVERSED = "shift the other way: row r samples image[r, c + slant * (r - r_cm)], which turns the slant to 0"
AROUND = "shift each row by slant * (r - r_cm), around the centre row, so the centre of mass stays where it is"
NEW_IMAGE = (
    "return a new array; do not change the image you were given: start from out = np.zeros_like(image) or image.copy()"
)


def deskew_case(deskew, image, what: str, expected=None) -> np.ndarray:
    """``deskew(image)`` against ``expected``, or else scipy's affine_transform with the same linear interpolation."""
    slope, (row_cm, _) = true_slant(image), ndimage.center_of_mass(image)
    if expected is None:
        expected = ndimage.affine_transform(image, [[1, 0], [slope, 1]], offset=[0, -slope * row_cm], order=1)
    got = on_a_copy(deskew, image, what, NEW_IMAGE)
    mistakes = [
        (REVERSED, ndimage.affine_transform(image, [[1, 0], [-slope, 1]], offset=[0, slope * row_cm], order=1)),
        (AROUND, ndimage.affine_transform(image, [[1, 0], [slope, 1]], order=1)),
    ]
    must_match(got, np.asarray(expected, dtype=np.float64), what, mistakes)
    passed(what)
    return got


@tasks(2, "slant and deskew", answers=["slant", "deskew"])
def slant_and_deskew(nb):
    slant_case(nb.slant, LINE, "the slant of a line going one column left per row down")
    slant_case(nb.slant, CLOUD, "the slant of a toy of grey ink")
    slant_case(nb.slant, nb.font_digits[3], "the slant of a made-up 3, compared with np.cov")
    upright = np.zeros((5, 12))
    upright[:, 5] = 1.0  # all the ink in the centre column
    deskew_case(nb.deskew, LINE, "the line deskewed stands upright in its centre column", upright)
    deskew_case(nb.deskew, nb.font_digits[3], "a made-up 3 deskewed, compared with scipy's affine_transform")


# --- Tasks 3 and 4: the histogram and Otsu's level (their comparisons: draw_your_own_digit_otsu.py) -----
@tasks(3, "a histogram of grey levels", answers=["grey_histogram"])
def histogram(nb):
    for what, image, bins in HISTOGRAM_CASES:
        histogram_case(nb.grey_histogram, image, bins, what)
    histogram_case(nb.grey_histogram, nb.flat, 256, "the photo's 43,200 pixels in 256 bins")


@tasks(4, "Otsu's level from the counts", answers=["otsu_level"])
def otsu(nb):
    for what, counts in OTSU_CASES:
        otsu_case(nb.otsu_level, counts, what)
    counts = counted(nb.flat, 256)  # the course's histogram: Task 3 does not count here
    level = otsu_case(nb.otsu_level, counts, "the photo's histogram, compared with every split")
    print(f"your level on the photo: {level:.4f}; the course's digits.otsu_threshold: {otsu_threshold(nb.flat):.4f}")
