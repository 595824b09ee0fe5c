"""Exercises 9 (deeper networks): classic bugs fail a visible check with the hint that names them,
other correct answers pass every check (hidden tests included), a renamed answer gets one line,
and Task 5's checks run with the course's vgg_block, so a broken Task 2 costs Task 2 only.

The cells run in this process, the notebook's setup in quick mode (loading MNIST: a few seconds).
"""

import re
from pathlib import Path

import pytest
from conftest import verified_data_root
from solution_cells import assert_bug_fails_with_hint, check_task, quick_exercise, run_cells, solution_answer

from course_utils.checks import CheckFailed

SOLUTION = Path(__file__).resolve().parents[1] / "solutions" / "09_deeper_networks_exercises.ipynb"


@pytest.fixture(scope="module")
def exercise():
    """The solution notebook and a namespace with its setup run in quick mode (no answers yet)."""
    verified_data_root("mnist")
    return quick_exercise(SOLUTION, "code-03")


POOL_AT_THE_END = (
    "    layers.append(nn.MaxPool2d(2))\n    if dropout > 0:\n        layers.append(nn.Dropout2d(dropout))\n"
)
BRANCH5 = """            nn.Conv2d(reduce_5x5, reduce_5x5, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(reduce_5x5, out_5x5, 3, padding=1),"""
SHIFT_FILL = "value=x[i].min().item()"
LAST_RELU = "nn.Conv2d(reduce_5x5, out_5x5, 3, padding=1),\n            nn.ReLU(),\n"
OUT_CHANNELS = "self.out_channels = out_1x1 + out_3x3 + out_5x5 + out_pool"
CLASSIFIER = "nn.Linear(previous * size * size, hidden),\n        nn.ReLU(),"
ENDS = "        nn.Linear(hidden, 10),\n    )"
DROPOUT_ONLY_ABOVE_0 = """    return nn.Sequential(
        *blocks,
        nn.Flatten(),
        nn.Dropout(dropout),
        nn.Linear(previous * size * size, hidden),
        nn.ReLU(),
        nn.Dropout(dropout),
        nn.Linear(hidden, 10),
    )"""
IF_ABOVE_0 = """    first, second = ([nn.Dropout(dropout)], [nn.Dropout(dropout)]) if dropout > 0 else ([], [])
    return nn.Sequential(
        *blocks, nn.Flatten(), *first, nn.Linear(previous * size * size, hidden), nn.ReLU(), *second,
        nn.Linear(hidden, 10),
    )"""

BUGS = [  # (task, the solution's text, the bug, a fragment of the hint that names it)
    (1, "n * (channels * channels * 3 * 3 + channels)", "n * channels * channels * 3 * 3", "one bias per output"),
    (1, "kernel_size = 2 * n + 1", "kernel_size = 2 * n", "k = 2n + 1"),
    (1, "return n * (kernel_size - 1) + 1", "return n * kernel_size", "start from 1 pixel"),
    (1, "return n * (kernel_size - 1) + 1", "return 2 * n + 1", "adds kernel_size - 1 pixels"),
    (2, "layers.append(nn.MaxPool2d(2))", "pass", "one nn.MaxPool2d(2) for the whole block"),
    (
        2,
        "        layers.append(nn.ReLU())\n    layers.append(nn.MaxPool2d(2))",
        "        layers.append(nn.ReLU())\n        layers.append(nn.MaxPool2d(2))",
        "not one per convolution",
    ),
    (2, "padding=1, bias=not batchnorm)", "padding=1)", "bias=not batchnorm"),
    (2, "in_channels if i == 0 else out_channels", "in_channels", "the others out_channels"),
    (2, "layers.append(nn.BatchNorm2d(out_channels))", "layers.append(nn.BatchNorm2d(in_channels))", "BatchNorm2d(out"),
    (2, "nn.Dropout2d(dropout)", "nn.Dropout(dropout)", "nn.Dropout zeroes single numbers"),
    (
        2,
        "    if dropout > 0:\n        layers.append(nn.Dropout2d",
        "    if True:\n        layers.append(nn.Dropout2d",
        "only then",
    ),
    (
        2,
        POOL_AT_THE_END,
        "    if dropout > 0:\n        layers.append(nn.Dropout2d(dropout))\n    layers.append(nn.MaxPool2d(2))\n",
        "the right layers in another order",
    ),
    (2, "3, padding=1, bias=not batchnorm", "3, bias=not batchnorm", "check the kernel size, padding and stride"),
    (3, "self.branch_pool(x)], dim=1)", "self.branch_pool(x)], dim=0)", "torch.cat([...], dim=1)"),
    (3, BRANCH5, "            nn.Conv2d(reduce_5x5, out_5x5, 5, padding=2),", "take the place of the 5x5"),
    (3, "nn.Conv2d(reduce_5x5, out_5x5, 3, padding=1)", "nn.Conv2d(reduce_5x5, out_5x5, 3)", "padding=1 for each 3x3"),
    (3, "nn.MaxPool2d(3, stride=1, padding=1)", "nn.MaxPool2d(3, padding=1)", "its stride is 3 by default"),
    (
        3,
        "nn.Conv2d(reduce_3x3, out_3x3, 3, padding=1), nn.ReLU()",
        "nn.Conv2d(reduce_3x3, out_3x3, 3, padding=1)",
        "the last convolution of the branch needs its ReLU too",
    ),
    (3, LAST_RELU, "nn.Conv2d(reduce_5x5, out_5x5, 3, padding=1),\n", "the last convolution of the branch needs its"),
    (
        3,
        "nn.Conv2d(reduce_5x5, reduce_5x5, 3, padding=1),\n            nn.ReLU(),\n",
        "nn.Conv2d(reduce_5x5, reduce_5x5, 3, padding=1),\n",
        "the one after convolution 2 of the branch is missing",
    ),
    (3, "self.branch_pool = ", "self.pool_branch = ", "name it self.branch_pool, as the table does (the checks found"),
    (
        3,
        "self.branch1 = nn.Sequential(nn.Conv2d(in_channels, out_1x1, 1), nn.ReLU())",
        "self.branch1 = [nn.Conv2d(in_channels, out_1x1, 1), nn.ReLU()]",
        "self.branch1 is a list: make it an nn.Sequential",
    ),
    (3, OUT_CHANNELS, "pass", "Inception has no attribute out_channels: set self.out_channels"),
    (
        3,
        "out_1x1 + out_3x3 + out_5x5 + out_pool",
        "out_1x1 + reduce_3x3 + out_3x3 + reduce_5x5 + out_5x5 + out_pool",
        "expected 64, got 88: only the branches' output widths (out_...) reach the output, not the reduce_ widths",
    ),
    (
        3,
        "[self.branch1(x), self.branch3(x), self.branch5(x), self.branch_pool(x)]",
        "[self.branch1(x), self.branch5(x), self.branch3(x), self.branch_pool(x)]",
        "stacked in that order",
    ),
    (3, "out_1x1 + out_3x3 + out_5x5 + out_pool", "out_1x1 + out_3x3 + out_5x5", "of all four branches"),
    (4, "torch.randint(-max_shift, max_shift + 1,", "torch.randint(-max_shift, max_shift,", "never returns high"),
    (4, "(len(x), 2), generator=generator)", "(len(x), 2))", "draw every random number from the generator"),
    (4, "(len(x), 2), generator=generator)", "(1, 2), generator=generator).repeat(len(x), 1)", "not one for the whole"),
    (4, "(len(x), 2), generator=generator)", "(len(x), 1), generator=generator).repeat(1, 2)", "independently"),
    (4, SHIFT_FILL, "value=0.0", "not 0"),
    (4, SHIFT_FILL, "value=x.min().item()", "not the batch's x.min()"),
    (4, SHIFT_FILL, 'mode="replicate"', "not a copy of its border (F.pad's mode='replicate')"),
    (4, SHIFT_FILL, 'mode="reflect"', "not a mirror image of its border"),
    (4, SHIFT_FILL, "value=x[i].max().item()", "the pixels that came in are 1.0, the dot's value"),
    (
        4,
        "shifted[i] = padded[..., top : top + height, left : left + width]",
        "shifted[i] = x[i].roll((dy, dx), dims=(-2, -1))",
        "torch.roll wraps",
    ),
    (4, "shifted = torch.empty_like(x)", "shifted = x", "not into x"),
    (4, "shifted = torch.empty_like(x)", "shifted = torch.empty(x.shape)", "torch.empty_like(x)"),
    (4, "height, width = x.shape[-2:]", "height = width = x.shape[-1]", "2-channel and 20 x 30"),
    (5, "previous, size = [], in_channels, image_size", "previous, size = [], 1, image_size", "the first taking in_"),
    (5, "previous, size = [], in_channels, image_size", "previous, size = [], in_channels, 28", "halved (//) once"),
    (5, "convs_per_block=convs_per_block, batchnorm=batchnorm", "batchnorm=batchnorm", "pass on convs_per_block"),
    (5, "size == 0:", "size <= 1:", "only when the size reaches 0"),
    (5, "    if size == 0:\n        raise", "    if False:\n        raise", "raise ValueError when the maps would"),
    (5, "nn.Flatten(),\n        nn.Dropout(dropout),", "nn.Flatten(),", "nn.Dropout is missing between Flatten and Li"),
    (5, "hidden),\n        nn.ReLU(),", "hidden),", "nn.ReLU is missing between Linear and Dropout"),
    (5, CLASSIFIER, "nn.ReLU(),\n        nn.Linear(previous * size * size, hidden),", "the right layers in another"),
    (5, ENDS, "        nn.Linear(hidden, 10),\n        nn.Softmax(dim=1),\n    )", "applies the softmax itself"),
    (5, DROPOUT_ONLY_ABOVE_0, IF_ABOVE_0, "keep both nn.Dropout(dropout) layers even when dropout is 0"),
    (5, "nn.Linear(hidden, 10)", "nn.Linear(hidden, 1)", "nn.Linear(hidden, 10)"),
]


@pytest.mark.parametrize("task, old, new, hint", BUGS, ids=[f"task{b[0]}-{b[3][:24]}" for b in BUGS])
def test_a_classic_bug_fails_a_visible_check_with_its_hint(exercise, task, old, new, hint):
    assert_bug_fails_with_hint(exercise, task, old, new, False, hint)


UNKNOWN_BUGS = [  # (task, old, new, what the message must say, hints it must not carry): not a known mistake
    (
        3,
        "out_1x1 + out_3x3 + out_5x5 + out_pool",
        "out_1x1 + out_3x3 + out_5x5 + out_pool + 1",
        "out_channels: 16 + 24 + 16 + 8: expected 64, got 65",
        ["set self.out_channels", "reduce_ widths", "all four branches"],
    ),
    (
        3,
        "nn.Conv2d(reduce_5x5, out_5x5, 3, padding=1),\n            nn.ReLU(),",
        "nn.Conv2d(reduce_5x5, out_5x5, 3, padding=1),\n            nn.Sigmoid(),",
        "branch5's maps, compared with its weights run as the table says",
        ["ReLU too", "is missing"],
    ),
    (  # the top-left pixel: the background of a dot, the border of a frame (1.0 comes in, but not by torch.roll)
        4,
        SHIFT_FILL,
        "value=x[i].flatten()[0].item()",
        "frames whose incoming rows and columns are the image's own minimum: expected 500, got",
        ["torch.roll", "border", "not 0", "x.min()"],
    ),
    (
        5,
        "nn.ReLU(),\n        nn.Dropout(dropout),",
        "nn.Sigmoid(),\n        nn.Dropout(dropout),",
        "got ['Flatten', 'Dropout', 'Linear', 'Sigmoid', 'Dropout', 'Linear']",
        ["is missing", "another order", "softmax", "keep both"],
    ),
]


@pytest.mark.parametrize("task, old, new, message, wrong", UNKNOWN_BUGS, ids=[f"task{b[0]}" for b in UNKNOWN_BUGS])
def test_a_mistake_the_checks_do_not_know_is_told_what_differs_and_no_wrong_hint(
    exercise, task, old, new, message, wrong
):
    answer = solution_answer(exercise, task)
    assert answer.count(old) == 1, old
    with pytest.raises(CheckFailed, match=re.escape(message)) as failed:
        check_task(exercise, task, answer.replace(old, new))
    assert [hint for hint in wrong if hint in str(failed.value)] == [], str(failed.value)
    check_task(exercise, task, solution_answer(exercise, task), hidden=True)


POOL = "nn.MaxPool2d(3, stride=1, padding=1)"
STRIDE_3 = "its stride is 3 by default"
PASSED_ON = "convs_per_block=convs_per_block, batchnorm=batchnorm"
PASS_ON_ONLY = "pass on only convs_per_block and batchnorm (the task's classifier has its own dropout)"
OWN_MISTAKE = [  # (task, old, new, the message with the hint for this mistake, hints of other mistakes: absent)
    (
        3,
        POOL,
        "nn.MaxPool2d(3, stride=1)",
        "got (8, 8, 12, 8): nn.MaxPool2d(3, stride=1, padding=1): padding=1 is missing",
        [STRIDE_3],
    ),
    (
        3,
        POOL,
        "nn.MaxPool2d(3, padding=1)",
        f"got (8, 8, 5, 4): nn.MaxPool2d(3, stride=1, padding=1): {STRIDE_3}",
        ["missing"],
    ),
    (
        3,
        POOL,
        "nn.MaxPool2d(3)",
        f"got (8, 8, 4, 3): nn.MaxPool2d(3, stride=1, padding=1): {STRIDE_3}, and padding=1",
        [],
    ),
    (
        3,
        "nn.Conv2d(in_channels, reduce_3x3, 1)",
        "nn.Conv2d(in_channels, reduce_3x3, 1, padding=1)",
        "got (8, 24, 16, 12): no padding for the 1x1 convolution (it would grow the maps by 2)",
        ["padding=1 for the 3x3"],
    ),
    (
        3,
        "nn.Conv2d(reduce_3x3, out_3x3, 3, padding=1)",
        "nn.Conv2d(reduce_3x3, out_3x3, 3)",
        "got (8, 24, 12, 8): padding=1 for the 3x3 convolution",
        ["1x1"],
    ),
    (
        3,
        "nn.Conv2d(in_channels, out_1x1, 1)",
        "nn.Conv2d(in_channels, out_1x1, 1, padding=1)",
        "got (8, 16, 16, 12): no padding for the 1x1 convolution",
        ["padding=1 for"],
    ),
    (5, PASSED_ON, "convs_per_block, batchnorm, dropout", "small_vgg calls vgg_block(1, 16, 2, True, 0.0)", []),
    (
        5,
        PASSED_ON,
        PASSED_ON + ", dropout=dropout",
        f"got an unexpected keyword argument 'dropout'): {PASS_ON_ONLY}",
        [],
    ),
]


@pytest.mark.parametrize("task, old, new, message, wrong", OWN_MISTAKE, ids=[f"task{b[0]}-{b[2]}" for b in OWN_MISTAKE])
def test_a_hint_is_given_only_for_its_own_mistake(exercise, task, old, new, message, wrong):
    """Maps too small by 2 are a missing padding, not the pooling's stride; maps grown by 2 a padded 1x1
    convolution; a dropout passed on to vgg_block fails check(task=5), as it would fail training_check."""
    answer = solution_answer(exercise, task)
    assert answer.count(old) == 1, old
    with pytest.raises(CheckFailed, match=re.escape(message)) as failed:
        check_task(exercise, task, answer.replace(old, new))
    assert [hint for hint in wrong if hint in str(failed.value)] == [], str(failed.value)
    if task == 5:
        assert PASS_ON_ONLY in str(failed.value)
    check_task(exercise, task, answer, hidden=True)


def test_the_pass_lines_of_task_2_name_only_layers_that_are_there(exercise, capsys):
    check_task(exercise, 2, solution_answer(exercise, 2))
    out = capsys.readouterr().out
    assert (
        "vgg_block(1, 16, convs_per_block=2, batchnorm=True, dropout=0.0): no Dropout2d when dropout=0: passed" in out
    )
    assert "the p of the Dropout2d in vgg_block(8, 8, convs_per_block=3, batchnorm=False, dropout=0.25): passed" in out
    assert "the p of the Dropout2d in vgg_block(1, 16" not in out


OTHER_CORRECT_ANSWERS = {
    1: """
def stacked_params(channels, n):
    return n * channels * (9 * channels + 1)


def single_params(channels, n):
    return (2 * n + 1) ** 2 * channels**2 + channels


def stacked_receptive_field(n, kernel_size=3):
    return 1 + sum(kernel_size - 1 for _ in range(n))
""",
    2: """
def vgg_block(in_channels, out_channels, convs_per_block=2, batchnorm=True, dropout=0.0):
    block, channels = nn.Sequential(), in_channels
    for _ in range(convs_per_block):
        block.append(nn.Conv2d(channels, out_channels, kernel_size=(3, 3), padding="same", bias=not batchnorm))
        if batchnorm:
            block.append(nn.BatchNorm2d(out_channels))
        block.append(nn.ReLU(inplace=True))
        channels = out_channels
    block.append(nn.MaxPool2d(kernel_size=2, stride=2))
    if dropout:
        block.append(nn.Dropout2d(p=dropout))
    return block
""",
    3: """
def conv_relu(inputs, outputs, k):
    return [nn.Conv2d(inputs, outputs, k, padding=k // 2), nn.ReLU()]


class Inception(nn.Module):
    def __init__(self, in_channels, out_1x1, reduce_3x3, out_3x3, reduce_5x5, out_5x5, out_pool):
        super().__init__()
        self.branch1 = nn.Sequential(*conv_relu(in_channels, out_1x1, 1))
        self.branch3 = nn.Sequential(*conv_relu(in_channels, reduce_3x3, 1), *conv_relu(reduce_3x3, out_3x3, 3))
        self.branch5 = nn.Sequential(
            *conv_relu(in_channels, reduce_5x5, 1),
            *conv_relu(reduce_5x5, reduce_5x5, 3),
            *conv_relu(reduce_5x5, out_5x5, 3),
        )
        self.branch_pool = nn.Sequential(nn.MaxPool2d(3, 1, 1), *conv_relu(in_channels, out_pool, 1))
        self.out_channels = sum([out_1x1, out_3x3, out_5x5, out_pool])

    def forward(self, x):
        branches = (self.branch1, self.branch3, self.branch5, self.branch_pool)
        return torch.cat([branch(x) for branch in branches], 1)
""",
    4: """
def random_shift(x, max_shift=2, generator=None):
    n, _, h, w = x.shape
    dy = torch.randint(-max_shift, max_shift + 1, (n,), generator=generator)
    dx = torch.randint(-max_shift, max_shift + 1, (n,), generator=generator)
    out, m = [], max_shift
    for image, a, b in zip(x, dy.tolist(), dx.tolist()):
        canvas = torch.full((image.shape[0], h + 2 * m, w + 2 * m), image.min().item(), dtype=x.dtype)
        canvas[:, m + a : m + a + h, m + b : m + b + w] = image
        out.append(canvas[:, m : m + h, m : m + w])
    return torch.stack(out)
""",
    5: """
from collections import OrderedDict


def small_vgg(channels=(16, 32), image_size=28, in_channels=1, convs_per_block=2, batchnorm=True, dropout=0.0,
              hidden=128):
    size = image_size // 2 ** len(channels)
    if size < 1:
        raise ValueError("the image is too small for that many blocks")
    widths = (in_channels, *channels)
    features = nn.Sequential(*[vgg_block(a, b, convs_per_block, batchnorm) for a, b in zip(widths, channels)])
    classifier = nn.Sequential(
        nn.Flatten(), nn.Dropout(dropout), nn.Linear(channels[-1] * size**2, hidden), nn.ReLU(),
        nn.Dropout(dropout), nn.Linear(hidden, 10),
    )
    return nn.Sequential(OrderedDict(features=features, classifier=classifier))
""",
}


@pytest.mark.parametrize("task", sorted(OTHER_CORRECT_ANSWERS))
def test_another_correct_answer_passes_every_check(exercise, task):
    check_task(exercise, task, OTHER_CORRECT_ANSWERS[task], hidden=True)
    check_task(exercise, task, solution_answer(exercise, task), hidden=True)


def test_a_renamed_answer_gets_one_line_that_says_which_cell_to_run(exercise):
    notebook, namespace = exercise
    fresh = dict(namespace)
    fresh.pop("vgg_block", None)
    renamed = solution_answer(exercise, 2).replace("def vgg_block(", "def my_vgg_block(")
    with pytest.raises(
        CheckFailed, match=re.escape("Task 2 (vgg_block): `vgg_block` is not defined yet: run the cell")
    ):
        run_cells(notebook, "task2-answer", "task2-check", namespace=fresh, task2_answer=renamed)


def test_task_5_is_checked_and_trained_with_the_courses_vgg_block(exercise, capsys):
    """A broken Task 2 (no pooling at all) leaves both of Task 5's check cells passing; the training
    check returns the history and records the validation accuracy."""
    notebook, namespace = exercise
    fresh = dict(namespace)
    broken = solution_answer(exercise, 2).replace("layers.append(nn.MaxPool2d(2))", "pass")
    run_cells(notebook, "task2-answer", "task5-answer", namespace=fresh, task2_answer=broken)
    with pytest.raises(CheckFailed, match="the layers of vgg_block"):
        run_cells(notebook, "task2-check", namespace=fresh)
    run_cells(notebook, "task5-check", "task5-train", namespace=fresh)
    assert list(fresh["history"]["epoch"]) == [1]
    assert "val_accuracy = " in capsys.readouterr().out
