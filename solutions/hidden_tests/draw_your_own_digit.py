"""Hidden tests of exercises 12: what `course grade` runs after each task's visible checks.

The same checks as the visible ones (the ``*_case`` functions of
`course_utils.exercise_checks.draw_your_own_digit`), on other inputs: a tall toy with its dot at the
top left, other slants, other bin counts, other histograms. The ``*_case`` functions hand every answer a
copy of its input, which must come back unchanged.
"""

import numpy as np

from course_utils.exercise_checks import Tasks
from course_utils.exercise_checks.draw_your_own_digit import (
    GREATER,
    blank_case,
    crop_case,
    deskew_case,
    histogram_case,
    otsu_case,
    peeled,
    slant_case,
)

hidden = Tasks("draw_your_own_digit")


@hidden(1, "crop to most of the ink", answers=["crop_to_most_ink"])
def other_images(nb):
    tall = np.zeros((10, 4))
    tall[3:9, 1:3], tall[0, 0] = 1.0, 0.1  # 12 of ink in rows 3-8, and a dot at the top left
    crop_case(nb.crop_to_most_ink, tall, 0.02, tall[3:9, 1:3], "a tall toy with a dot at the top left")
    crop_case(nb.crop_to_most_ink, tall, 0.0, tall[0:9, 0:3], "the tall toy with dust=0", [(GREATER, tall)])
    crop_case(nb.crop_to_most_ink, np.ones((3, 5)), 0.02, np.ones((3, 5)), "ink touching every edge")
    blank_case(nb.crop_to_most_ink, (5, 3))
    for index in (10, 11, 12):
        dotted = nb.font_digits[index].copy()
        dotted[3:5, 104:106] = 1.0  # a dot at the top right
        what = f"made-up digit {index} with a dot, dust=0.05"
        crop_case(nb.crop_to_most_ink, dotted, 0.05, peeled(dotted, 0.05), what)


@hidden(2, "slant and deskew", answers=["slant", "deskew"])
def other_slants(nb):
    backslash = np.zeros((4, 9))
    backslash[range(4), [2, 4, 6, 8]] = 0.5  # two columns right per row down: slant 2
    slant_case(nb.slant, backslash, "a line going two columns right per row down")
    grey = np.random.default_rng(3).uniform(0, 1, size=(7, 11))
    slant_case(nb.slant, grey, "a random grey image")
    upright = np.zeros((4, 9))
    upright[:, 5] = 0.5
    deskew_case(nb.deskew, backslash, "the line deskewed stands upright in its centre column", upright)
    for index in (20, 21):
        slant_case(nb.slant, nb.font_digits[index], f"the slant of made-up digit {index}")
        deskew_case(nb.deskew, nb.font_digits[index], f"made-up digit {index} deskewed")


@hidden(3, "a histogram of grey levels", answers=["grey_histogram"])
def other_bins(nb):
    rng = np.random.default_rng(4)
    image = rng.uniform(0, 1, size=(7, 5))
    image[0, 0], image[6, 4] = 1.0, 0.0
    histogram_case(nb.grey_histogram, image, 16, "a random 7 x 5 image in 16 bins")
    histogram_case(nb.grey_histogram, rng.uniform(0, 0.3, size=(3, 8)), 32, "a dark image in 32 bins")
    histogram_case(nb.grey_histogram, np.arange(21).reshape(3, 7) / 20, 10, "twentieths 0 to 1 in 10 bins")
    histogram_case(nb.grey_histogram, nb.flat, 64, "the photo in 64 bins")


@hidden(4, "Otsu's level from the counts", answers=["otsu_level"])
def other_histograms(nb):
    otsu_case(nb.otsu_level, [0, 3, 0, 0, 0, 8, 1, 0, 0, 0, 0, 0], "two humps with empty bins between")
    otsu_case(nb.otsu_level, np.random.default_rng(5).integers(0, 50, size=64), "random counts in 64 bins")
    otsu_case(nb.otsu_level, np.histogram(nb.flat, bins=64, range=(0, 1))[0], "the photo in 64 bins")
