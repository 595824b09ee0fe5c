"""Exercises 12 (sturdier preprocessing) are fair: classic bugs fail a visible check with the hint
that names them (and no other hint), other correct answers pass every check, hidden tests included,
and a renamed answer gets one line that says what to do. An answer that changes its input in place
is refused, and spoils neither the notebook's digits nor the checks' toys; an answer that returns
None is asked whether it forgot to `return`. No markdown cell of the course holds a control character
(a LaTeX `\\frac` written without a raw string becomes a form feed and "rac").

The cells run in this process (setup in quick mode: one epoch on 1,000 MNIST images, a few
seconds), with the checks of course_utils/exercise_checks/draw_your_own_digit.py (and _otsu.py) and
the hidden tests of solutions/hidden_tests/draw_your_own_digit.py.
"""

import re
from pathlib import Path

import nbformat
import numpy as np
import pytest
from conftest import verified_data_root
from solution_cells import assert_bug_fails_with_hint, check_task, quick_exercise, run_cells, solution_answer

from course_utils.checks import CheckFailed
from course_utils.exercise_checks import draw_your_own_digit, draw_your_own_digit_otsu
from course_utils.exercise_checks.draw_your_own_digit import CLOUD, LINE, TOY, crop_case, deskew_case, slant_case
from course_utils.exercise_checks.draw_your_own_digit_otsu import HISTOGRAM_CASES, OTSU_CASES, histogram_case, otsu_case

ROOT = Path(__file__).resolve().parents[1]
SOLUTION = ROOT / "solutions" / "12_draw_your_own_digit_exercises.ipynb"


@pytest.fixture(scope="module")
def exercise():
    """The solution notebook and a namespace with its setup run in quick mode (no answers yet)."""
    verified_data_root("mnist")
    return quick_exercise(SOLUTION, "code-03")


BOTH_AXES = "    top, bottom = first_and_last(ink.sum(axis=1))\n    left, right = first_and_last(ink.sum(axis=0))"
FIRST_LAST = (
    "        first = int(np.argmax(np.cumsum(mass) > dust * total))\n"
    "        last = len(mass) - 1 - int(np.argmax(np.cumsum(mass[::-1]) > dust * total))"
)
CENTRED_ROWS = (
    "    rows = np.arange(image.shape[0])[:, None] - row_cm  # distances from the centre of mass\n"
    "    cols = np.arange(image.shape[1])[None, :] - col_cm"
)
NEW_ROWS = (
    "        upright[r] = np.interp(columns + shear * (r - row_cm), columns, image[r], left=0, right=0)\n"
    "    return upright"
)
IN_PLACE = [  # (task, old, new, hint): answers that change the image they are given
    (1, "    total = ink.sum()\n", "    ink[ink < 0.05] = 0  # faint pixels are noise\n    total = ink.sum()\n",
     "return a slice of it as it is"),
    (2, "    row_cm, col_cm = ndimage.center_of_mass(image)\n", "    image /= image.sum()\n"
     "    row_cm, col_cm = ndimage.center_of_mass(image)\n", "image /= ... changes the image"),
    (2, "    upright = np.zeros(image.shape)\n", "    upright = image\n",
     "return a new array; do not change the image you were given: start from out = np.zeros_like(image)"),
    (3, "    index = np.minimum((image * bins).astype(int), bins - 1)", "    image *= bins\n"
     "    index = np.minimum(image.astype(int), bins - 1)", "image *= bins changes the image"),
]  # fmt: skip
BUGS = [  # (task, text of the solution's answer, the bug put in its place, the hint that must name it)
    (1, "ink[top : bottom + 1, left : right + 1]", "ink[top:bottom, left:right]", "keep the last row and column"),
    (1, BOTH_AXES, BOTH_AXES.replace("axis=1", "axis=2").replace("axis=0", "axis=1").replace("axis=2", "axis=0"),
     "one number per ROW"),
    (1, "last = len(mass) - 1 - int(np.argmax(np.cumsum(mass[::-1]) > dust * total))", "last = len(mass) - 1",
     "the stray dot holds less than dust"),
    (1, FIRST_LAST, FIRST_LAST.replace("dust * total", "0"), "the stray dot holds less than dust"),
    (1, FIRST_LAST, FIRST_LAST.replace("dust * total", "0.02 * total"), "use the dust argument"),
    (1, "    if total == 0:\n        raise BlankImageError()\n", "", "raise BlankImageError()"),
    (1, "return ink[top : bottom + 1, left : right + 1]", "return ink[top : bottom + 1, left : right + 1] > 0.1",
     "not a mask"),
    (1, "np.cumsum(mass) > dust * total", "np.cumsum(mass) >= dust * total",
     "nothing was cropped: expected shape (5, 7), got the whole image, (6, 9): keep from the first row whose running "
     "total is MORE than dust * ink.sum(): >, not >="),
    (1, FIRST_LAST, FIRST_LAST.replace(" > ", " >= "), "MORE than dust * ink.sum(): >, not >="),
    *IN_PLACE,
    (2, NEW_ROWS, NEW_ROWS.replace("upright[r]", "image[r]").replace("\n    return upright", ""),
     "got None: did your function forget to `return` its result?"),
    (2, "(image * rows * cols).sum() / (image * rows**2).sum()", "((image > 0) * rows * cols).sum() / "
     "((image > 0) * rows**2).sum()", "weight every position by its pixel's value"),
    (2, "(image * rows**2).sum()", "(image * cols**2).sum()", "the spread of the ROWS"),
    (2, CENTRED_ROWS, CENTRED_ROWS.replace(" - row_cm", "").replace(" - col_cm", ""), "from the centre of mass"),
    (2, "columns + shear * (r - row_cm)", "columns - shear * (r - row_cm)", "shift the other way"),
    (2, "columns + shear * (r - row_cm)", "columns + shear * r", "around the centre row"),
    (3, "np.minimum((image * bins).astype(int), bins - 1)", "(image * bins).astype(int)", "1.0 belongs in the last"),
    (3, "np.bincount(index.ravel(), minlength=bins)", "np.bincount(index.ravel())", "minlength=bins"),
    (3, "index.ravel()", "index", "flatten the image"),
    (3, "(image * bins).astype(int)", "np.round(image * bins).astype(int)", "rounded DOWN"),
    (3, "(image * bins)", "(image * (bins - 1))", "multiply by bins, not bins - 1"),
    (3, "np.bincount(index.ravel(), minlength=bins)", "np.bincount(index.ravel(), minlength=bins) * 1.0",
     "count in ints"),
    (4, "return float((np.argmax(scores) + 1) / bins)", "return int(np.argmax(scores) + 1)", "not the split's number"),
    (4, "return float((np.argmax(scores) + 1) / bins)", "return float(np.argmax(scores) / bins)", "one bin off"),
    (4, "sum_dark / np.maximum(n_dark, 1), sum_light / np.maximum(n_light, 1)", "sum_dark / n_dark, "
     "sum_light / n_light", "np.argmax picks a nan first"),
    (4, "np.argmax(scores)", "np.argmin(scores)", "the LARGEST score"),
    (4, "return float(", "return np.float32(", "float(...) turns a number into one"),
]  # fmt: skip


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.parametrize("task, old, new, hint", BUGS, ids=[f"task{b[0]}-{b[3][:20]}" for b in BUGS])
def test_a_classic_bug_fails_a_visible_check_with_its_hint(exercise, task, old, new, hint):
    assert_bug_fails_with_hint(exercise, task, old, new, False, hint)


HINTS = [
    value
    for module in (draw_your_own_digit, draw_your_own_digit_otsu)
    for name, value in vars(module).items()
    if name.isupper() and isinstance(value, str)
]
UNKNOWN_BUGS = [  # (task, old, new, what the message must say): wrong, but not a mistake the checks know
    (1, "ink[top : bottom + 1, left : right + 1]", "ink[top : bottom + 2, left : right + 2]",
     "expected shape (3, 5), got (4, 6)"),
    (1, "return ink[top : bottom + 1, left : right + 1]", "return ink",
     "nothing was cropped: expected shape (3, 5), got the whole image, (6, 9)"),
    (2, "columns + shear * (r - row_cm)", "columns + 2 * shear * (r - row_cm)", "values differ, the first at (row"),
    (3, "return np.bincount(index.ravel(), minlength=bins)", "return np.bincount(index.ravel(), minlength=bins)[::-1]",
     "values differ, the first at index 0: expected 3, got 0"),
    (4, "(np.argmax(scores) + 1) / bins", "(np.argmax(scores) + 3) / bins", "expected the level 0.5 (the best split)"),
]  # fmt: skip


@pytest.mark.parametrize("task, old, new, message", UNKNOWN_BUGS, ids=[f"task{b[0]}" for b in UNKNOWN_BUGS])
def test_a_mistake_the_checks_do_not_know_is_told_what_differs_and_no_hint(exercise, task, old, new, message):
    answer = solution_answer(exercise, task)
    assert answer.count(old) == 1, old
    with pytest.raises(CheckFailed, match=re.escape(message)) as failed:
        check_task(exercise, task, answer.replace(old, new))
    assert [hint for hint in HINTS if hint in str(failed.value)] == [], str(failed.value)
    check_task(exercise, task, answer, hidden=True)


OTHER_CORRECT_ANSWERS = {
    1: """
def crop_to_most_ink(ink, dust=0.02):
    if not ink.any():
        raise BlankImageError("nothing to crop")
    cut = dust * ink.sum()

    def kept(mass):
        start = np.searchsorted(np.cumsum(mass), cut, side="right")
        stop = len(mass) - np.searchsorted(np.cumsum(mass[::-1]), cut, side="right")
        return slice(int(start), int(stop))

    return ink[kept(ink.sum(axis=1)), kept(ink.sum(axis=0))]
""",
    2: """
def slant(image):
    rows, cols = np.indices(image.shape)
    covariance = np.cov(rows.ravel(), cols.ravel(), aweights=image.ravel())
    return float(covariance[0, 1] / covariance[0, 0])


def deskew(image):
    shear, (row_cm, _) = slant(image), ndimage.center_of_mass(image)
    matrix = [[1, 0], [shear, 1]]
    return ndimage.affine_transform(image.astype(float), matrix, offset=[0, -shear * row_cm], order=1)
""",
    3: """
def grey_histogram(image, bins=256):
    counts = np.zeros(bins, dtype=int)
    np.add.at(counts, np.clip(np.floor(image * bins).astype(int), 0, bins - 1).ravel(), 1)
    return counts
""",
    4: """
def otsu_level(counts):
    bins = len(counts)
    values = (np.arange(bins) + 0.5) / bins
    best, best_score = 1, -1.0
    for k in range(1, bins):
        n1, n2 = counts[:k].sum(), counts[k:].sum()
        score = 0.0
        if n1 and n2:
            mean1, mean2 = (counts[:k] * values[:k]).sum() / n1, (counts[k:] * values[k:]).sum() / n2
            score = n1 * n2 * (mean1 - mean2) ** 2
        if score > best_score:
            best, best_score = k, score
    return best / bins
""",
}


@pytest.mark.parametrize("task", sorted(OTHER_CORRECT_ANSWERS))
def test_another_correct_answer_passes_every_check(exercise, task):
    check_task(exercise, task, OTHER_CORRECT_ANSWERS[task], hidden=True)
    check_task(exercise, task, solution_answer(exercise, task), hidden=True)


def test_a_renamed_answer_gets_one_line_saying_what_to_do(exercise):
    notebook, namespace = exercise
    fresh = {name: value for name, value in namespace.items() if name != "crop_to_most_ink"}
    renamed = solution_answer(exercise, 1).replace("def crop_to_most_ink(", "def crop_to_the_ink(")
    with pytest.raises(CheckFailed, match="`crop_to_most_ink` is not defined yet: run the cell where Task 1"):
        run_cells(notebook, "task1-answer", "task1-check", namespace=fresh, task1_answer=renamed)


def test_the_toys_are_wider_than_tall_so_swapped_axes_change_the_shape():
    assert draw_your_own_digit.TOY.shape[1] > draw_your_own_digit.TOY.shape[0]
    assert draw_your_own_digit.LINE.shape[1] > draw_your_own_digit.LINE.shape[0]


def test_an_answer_that_changes_its_input_spoils_neither_the_notebook_nor_the_toys(exercise):
    """Every check hands the answer a copy: the in-place answers above fail, and what they were given
    from the notebook (the made-up digits, the photo) and from the checks (the toys) is as it was."""
    notebook, namespace = exercise
    toys = [TOY, LINE, CLOUD, *(image for _, image, _ in HISTOGRAM_CASES)]
    before = [value.copy() for value in (*toys, namespace["font_digits"], namespace["flat"])]
    for task, old, new, hint in IN_PLACE:
        answer = solution_answer(exercise, task)
        with pytest.raises(CheckFailed, match=re.escape(hint)) as failed:
            check_task(exercise, task, answer.replace(old, new))
        assert "your function changed the image it was given" in str(failed.value)
        check_task(exercise, task, answer, hidden=True)
    after = (*toys, namespace["font_digits"], namespace["flat"])
    assert all(np.array_equal(old, new) for old, new in zip(before, after, strict=True))


CASES = {  # each task's check, called with an answer of our own
    "crop": lambda answer: crop_case(answer, TOY, 0.02, TOY[1:4, 2:7], "crop"),
    "slant": lambda answer: slant_case(answer, CLOUD, "slant"),
    "deskew": lambda answer: deskew_case(answer, LINE, "deskew"),
    "histogram": lambda answer: histogram_case(answer, HISTOGRAM_CASES[0][1], 8, "histogram"),
    "otsu": lambda answer: otsu_case(answer, np.array(OTSU_CASES[0][1]), "otsu"),
}


def in_place(given, **_):
    given.flat[0] += 1  # the first pixel (or count) is changed where it lies
    return given


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_check_refuses_an_answer_that_changes_its_input_or_returns_none(case):
    changed = r"your function changed the (image|counts) it was given: .*do not change the \1 you were given"
    with pytest.raises(CheckFailed, match=changed):
        CASES[case](in_place)
    with pytest.raises(CheckFailed, match=re.escape(": got None: did your function forget to `return` its result?")):
        CASES[case](lambda given, **_: None)


def test_the_histograms_follow_the_task_s_bins_where_np_histogram_does_not(exercise):
    """np.histogram counts 0.3 in bin 2 of 10 (its edge 3 / 10 is 0.30000000000000004); the task, and
    so the checks, count floor(0.3 * 10) = 3, as the solution does."""
    toy = HISTOGRAM_CASES[2][1]
    assert HISTOGRAM_CASES[2][2] == 10 and 0.3 in toy
    assert not np.array_equal(draw_your_own_digit_otsu.counted(toy, 10), np.histogram(toy, bins=10, range=(0, 1))[0])
    check_task(exercise, 3, solution_answer(exercise, 3), hidden=True)
    numpy_counts = "def grey_histogram(image, bins=256):\n    return np.histogram(image, bins=bins, range=(0, 1))[0]\n"
    with pytest.raises(CheckFailed, match="a toy in 10 bins"):
        check_task(exercise, 3, numpy_counts)


CONTROL = re.compile(r"[\t\x0b\x0c\x08\x07\r]")  # what "\t", "\v", "\f", "\b", "\a", "\r" become in a plain string


def test_no_markdown_cell_holds_a_control_character():
    notebooks = sorted([*ROOT.glob("solutions/*.ipynb"), *ROOT.glob("notebooks/*.ipynb")])
    found = [
        f"{path.relative_to(ROOT)} {cell.get('id')}: {sorted(set(CONTROL.findall(cell.source)))}"
        for path in notebooks
        for cell in nbformat.read(path, as_version=4).cells
        if cell.cell_type == "markdown" and CONTROL.search(cell.source)
    ]
    assert notebooks and found == [], "write LaTeX in a raw string (r'\\frac'), or double its backslashes"
