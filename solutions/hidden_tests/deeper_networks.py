"""Hidden tests of exercises 9: what `course grade` runs after each task's visible checks.

The same requirements as the visible checks, on other inputs (other sizes, channels and seeds).
"""

import torch
from torch import nn

from course_utils import count_parameters, models
from course_utils.checks import check_equal, check_parameter_count, check_shape
from course_utils.exercise_checks import Tasks
from course_utils.exercise_checks.deeper_networks_inception import inception_shapes
from course_utils.exercise_checks.deeper_networks_shift import dot_shifts, dots, seeded

hidden = Tasks("deeper_networks")


@hidden(1, "small kernels", answers=["stacked_params", "single_params", "stacked_receptive_field"])
def other_sizes(nb):
    check_equal(nb.stacked_params(16, 1), nb.single_params(16, 1), "one 3x3 convolution either way")
    check_equal(nb.single_params(16, 5), count_parameters(nn.Conv2d(16, 16, 11)), "an 11x11 kernel on 16 channels")
    check_equal(nb.stacked_params(5, 6), count_parameters(nn.Conv2d(5, 5, 3)) * 6, "six 3x3 convolutions, 5 channels")
    check_equal(nb.stacked_receptive_field(4, kernel_size=1), 1, "1x1 convolutions never widen the field")
    check_equal(nb.stacked_receptive_field(3, kernel_size=7), 19, "three 7x7 convolutions")


@hidden(2, "vgg_block", answers=["vgg_block"])
def other_blocks(nb):
    block = nb.vgg_block(16, 32, convs_per_block=3, batchnorm=False, dropout=0.1)
    check_shape(block(torch.zeros(2, 16, 7, 9)), (2, 32, 3, 4), "a 7x9 input")
    check_equal([type(layer).__name__ for layer in block][-2:], ["MaxPool2d", "Dropout2d"], "the block ends")
    check_equal(sum(isinstance(layer, nn.BatchNorm2d) for layer in nb.vgg_block(3, 4)), 2, "batchnorm by default")
    check_equal(sum(isinstance(layer, nn.Dropout2d) for layer in nb.vgg_block(3, 4)), 0, "no dropout by default")
    check_parameter_count(
        nb.vgg_block(3, 64, convs_per_block=3),
        count_parameters(models.vgg_block(3, 64, convs_per_block=3)),
        "three convolutions on 3 channels",
    )


@hidden(3, "Inception", answers=["Inception"])
def a_bigger_block(nb):
    sizes = (64, 32, 32, 48, 16, 32, 16)  # the second block of lesson 9's Inception network
    bigger = nb.Inception(*sizes)
    for name, shapes in inception_shapes(*sizes).items():
        check_equal([tuple(p.shape) for p in getattr(bigger, name).parameters()], shapes, f"{name} of a bigger block")
    check_equal(bigger.out_channels, 128, "its out_channels")
    for size in (7, 5):
        check_shape(bigger(torch.zeros(2, 64, size, size)), (2, 128, size, size), f"a {size}x{size} input")


@hidden(4, "random_shift", answers=["random_shift"])
def other_shifts(nb):
    shifts = dot_shifts(nb.random_shift(dots(), max_shift=1, generator=seeded(nb.seed + 7)))
    check_equal(len(shifts), 500, "with max_shift=1, every dot stays")
    check_equal(len(set(map(tuple, shifts.tolist()))), 9, "all 9 shifts (dy, dx) from -1 to 1 occur")
    digits = nb.data.val_x[:64]
    inner = torch.zeros(28, 28, dtype=torch.bool)
    inner[3:-3, 3:-3] = True
    background = digits.amin(dim=(1, 2, 3), keepdim=True)
    clean = digits[((digits != background) & ~inner).sum(dim=(1, 2, 3)) == 0]  # no ink near the border
    moved = nb.random_shift(clean, max_shift=3, generator=seeded(nb.seed + 1))
    check_equal(
        torch.allclose(
            (moved - background[: len(clean)]).sum(dim=(1, 2, 3)),
            (clean - background[: len(clean)]).sum(dim=(1, 2, 3)),
            rtol=1e-4,
            atol=1e-3,
        ),
        True,
        f"{len(clean)} real digits keep all their ink",
    )


@hidden(5, "small_vgg", answers=["small_vgg"])
def other_networks(nb):
    with nb.lend(vgg_block=models.vgg_block):
        check_parameter_count(
            nb.small_vgg(hidden=64), count_parameters(models.VGGNet((16, 32), hidden=64)), "hidden=64"
        )
        model = nb.small_vgg((8, 16, 32, 64), image_size=64, in_channels=3)  # 64 -> 32 -> 16 -> 8 -> 4
        check_shape(model(torch.zeros(2, 3, 64, 64)), (2, 10), "four blocks on 64 x 64 colour images")
        try:
            nb.small_vgg((8, 8, 8), image_size=4)  # 4 -> 2 -> 1 -> 0
            raised = "no error"
        except ValueError:
            raised = "ValueError"
        check_equal(raised, "ValueError", "three blocks on 4 x 4 images")
