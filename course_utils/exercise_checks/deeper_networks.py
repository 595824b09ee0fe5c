"""The checks of exercises 9 (deeper networks by hand): ``check(task=N)``, and ``training_check(task=5)``.

Every piece is compared with what PyTorch's layers really do, or with the course's own pieces
(`models.vgg_block`, `receptive_fields`): parameters counted on real `nn.Conv2d` layers, output
shapes, and your weights run the way the task's text says. Task 5 is checked with the course's
`vgg_block` standing in for yours, so that a mistake in Task 2 costs Task 2 only. Tasks 1 and 5 are
checked here; Task 2 in `deeper_networks_vgg_block.py`, Task 3 in `deeper_networks_inception.py`, Task 4 in
`deeper_networks_shift.py`.
"""

import inspect
import warnings

import torch
from torch import nn

from course_utils import count_parameters, fit, lesson_checks, models, receptive_fields, set_seed
from course_utils.checks import (
    check_between,
    check_equal,
    check_own_work,
    check_parameter_count,
    check_shape,
    explain_errors,
    fail,
)
from course_utils.exercise_checks import Tasks
from course_utils.exercise_checks.deeper_networks_inception import inception_with_two_3x3
from course_utils.exercise_checks.deeper_networks_shift import random_shift_task
from course_utils.exercise_checks.deeper_networks_vgg_block import vgg_block_with_dropout

tasks = Tasks("deeper_networks")
check = tasks.check
training = Tasks("deeper_networks")  # Task 5's second check cell, the short training run: training_check(task=5)
training_check = training.check
tasks(2, "vgg_block", answers=["vgg_block"])(vgg_block_with_dropout)
tasks(3, "Inception", answers=["Inception"])(inception_with_two_3x3)
tasks(4, "random_shift", answers=["random_shift"])(random_shift_task)


@tasks(1, "small kernels", answers=["stacked_params", "single_params", "stacked_receptive_field"])
def small_kernels(nb):
    for channels, n in [(32, 2), (32, 3), (3, 2), (64, 4)]:  # counted on real layers, not with a formula
        stack = nn.Sequential(*[nn.Conv2d(channels, channels, 3, padding=1) for _ in range(n)])
        what = f"stacked_params({channels}, {n}): {n} stacked 3x3 convolutions of {channels} channels"
        hint = "each layer has channels x channels x 3 x 3 weights plus one bias per output channel; n layers"
        check_equal(nb.stacked_params(channels, n), count_parameters(stack), what, hint=hint)
        k = 2 * n + 1
        what = f"single_params({channels}, {n}): one {k}x{k} convolution of {channels} channels"
        hint = "one layer: channels x channels x k x k weights with k = 2n + 1, plus channels biases"
        check_equal(nb.single_params(channels, n), count_parameters(nn.Conv2d(channels, channels, k)), what, hint=hint)
    for n, kernel_size in [(2, 3), (3, 3), (4, 3), (2, 5)]:  # compared with lesson 3's receptive_fields
        layers = [(f"conv {i}", kernel_size, 1) for i in range(n)]
        check_equal(
            nb.stacked_receptive_field(n, kernel_size=kernel_size),
            int(receptive_fields(layers)["receptive field"].iloc[-1]),
            f"stacked_receptive_field({n}, kernel_size={kernel_size})",
            hint="start from 1 pixel; each stride-1 layer adds kernel_size - 1 pixels",
        )


CLASSIFIER = ["Flatten", "Dropout", "Linear", "ReLU", "Dropout", "Linear"]
BLOCKS = "one vgg_block per entry of channels, the first taking in_channels, each later one the channels of the block "
BLOCKS += "before it; pass on convs_per_block and batchnorm"
PASS_ON_ONLY = "pass on only convs_per_block and batchnorm (the task's classifier has its own dropout)"
SIZE = "the first Linear takes channels[-1] x size x size inputs, size = image_size halved (//) once per block"


def classifier_hint(got: list) -> str | None:
    """A hint for the layers after the last block, when they are a recognisable mistake; None: what differs."""
    layers = "the classifier is " + ", ".join(CLASSIFIER)
    if sorted(got) == sorted(CLASSIFIER):
        return f"the right layers in another order: {layers}"
    if got[: len(CLASSIFIER)] == CLASSIFIER:
        return "end with nn.Linear(hidden, 10), nothing after it: the cross-entropy loss applies the softmax itself"
    if got == [layer for layer in CLASSIFIER if layer != "Dropout"]:
        return "keep both nn.Dropout(dropout) layers even when dropout is 0 (they then do nothing)"
    for i, layer in enumerate(CLASSIFIER):
        if got == CLASSIFIER[:i] + CLASSIFIER[i + 1 :]:
            where = "at the start" if i == 0 else "at the end" if i == 5 else f"between {got[i - 1]} and {got[i]}"
            return f"nn.{layer} is missing {where}: {layers}"
    return None


def error_of(function, *args, **kwargs) -> str:
    """The name of the error the call raises, or "no error"."""
    try:
        with warnings.catch_warnings():  # e.g. nn.Linear(0, 128): "Initializing zero-element tensors is a no-op"
            warnings.simplefilter("ignore")
            function(*args, **kwargs)
    except Exception as error:
        return type(error).__name__
    return "no error"


@tasks(5, "small_vgg", answers=["small_vgg"])
def small_vgg_for_any_image(nb):
    """Runs your small_vgg with a spy in place of vgg_block: the course's block, noting how it was called
    (and refusing what the course's block does not take: the dropout is the classifier's, not the blocks')."""
    calls, course_call = [], inspect.signature(models.vgg_block)

    def course_vgg_block(*args, **kwargs):
        """Takes what the course's vgg_block takes (what training_check and the grader build with), no more."""
        try:
            call = course_call.bind(*args, **kwargs)
        except TypeError as error:
            arguments = ", ".join([*map(repr, args), *(f"{name}={value!r}" for name, value in kwargs.items())])
            takes = "the course's vgg_block(in_channels, out_channels, convs_per_block, batchnorm), which the checks"
            fail(
                f"small_vgg calls vgg_block({arguments})",
                f"{takes} and the grader build with, refuses it ({error})",
                PASS_ON_ONLY,
            )
        call.apply_defaults()
        calls.append(tuple(call.arguments.values()))
        return models.vgg_block(*call.args, **call.kwargs)

    with nb.lend(vgg_block=course_vgg_block):
        for channels, size, in_channels, convs, batchnorm, hidden in [
            ((16, 32), 28, 1, 2, True, 128),
            ((8, 16, 32), 28, 1, 2, True, 128),  # 28 -> 14 -> 7 -> 3
            ((16, 32, 64), 32, 3, 1, False, 32),  # colour images of 32 x 32: 32 -> 16 -> 8 -> 4
        ]:
            call = f"small_vgg({channels}, {size}, {in_channels}, {convs}, {batchnorm}, hidden={hidden})"
            calls.clear()
            model = nb.small_vgg(channels, size, in_channels, convs, batchnorm, hidden=hidden)
            blocks = [(a, b, convs, batchnorm) for a, b in zip((in_channels, *channels), channels, strict=False)]
            check_equal(calls, blocks, f"{call}'s calls vgg_block(in, out, convs_per_block, batchnorm)", BLOCKS)
            leaves = [type(layer).__name__ for layer in model.modules() if not list(layer.children())]
            after = leaves[len(leaves) - leaves[::-1].index("MaxPool2d") :] if "MaxPool2d" in leaves else leaves
            check_equal(after, CLASSIFIER, f"the layers after the last block of {call}", classifier_hint(after))
            with explain_errors(f"{call} on a batch of 2 images", hint=SIZE):
                out = model(torch.zeros(2, in_channels, size, size))
            check_shape(out, (2, 10), f"{call} on a batch of 2 images", hint="end with nn.Linear(hidden, 10)")
            features = nn.Sequential(*(models.vgg_block(*block) for block in blocks))
            flat = features(torch.zeros(1, in_channels, size, size)).numel()  # the numbers Flatten gives
            expected = count_parameters(features) + (flat + 1) * hidden + (hidden + 1) * 10
            check_parameter_count(model, expected, f"the parameters of {call}")
        calls.clear()
        check_parameter_count(
            nb.small_vgg(),
            count_parameters(models.VGGNet((16, 32))),
            "the parameters of small_vgg(), with its defaults",
        )
        check_equal(calls, [(1, 16, 2, True), (16, 32, 2, True)], "small_vgg()'s calls of vgg_block", BLOCKS)
        model = nb.small_vgg(dropout=0.3)
        dropouts = [layer.p for layer in model.modules() if type(layer) is nn.Dropout]
        check_equal(dropouts, [0.3, 0.3], "small_vgg(dropout=0.3): the p of its nn.Dropout layers")
        check_own_work(model, models.VGGNet, "small_vgg builds its own network")
        check_equal(
            error_of(nb.small_vgg, (8, 8, 8, 8, 8)),
            "ValueError",
            "small_vgg((8, 8, 8, 8, 8)): five blocks take 28 x 28 images to 0 x 0 (28 -> 14 -> 7 -> 3 -> 1 -> 0)",
            hint="raise ValueError when the maps would shrink to 0 x 0",
        )
        call = "small_vgg((8, 8, 8, 8), image_size=16): four blocks take 16 x 16 down to 1 x 1, which still fits"
        with explain_errors(call, hint="raise ValueError only when the size reaches 0"):
            model = nb.small_vgg((8, 8, 8, 8), image_size=16)
        check_shape(model(torch.zeros(2, 1, 16, 16)), (2, 10), call)


@training(5, "small_vgg", answers=["small_vgg"])
def short_training(nb):
    """Trains small_vgg (built with the course's vgg_block) for a moment with fit, AdamW and a one-cycle schedule."""
    set_seed(nb.seed)
    with nb.lend(vgg_block=models.vgg_block):
        model = nb.small_vgg((16, 32), convs_per_block=2, batchnorm=True, dropout=0.1)
    options = dict(optimizer="adamw", weight_decay=1e-4, seed=nb.seed, progress=False)
    history = fit(model, nb.data, epochs=nb.epochs, lr=nb.lr, batch_size=nb.batch_size, **options)
    print(history[["epoch", "train_loss", "val_loss", "val_acc"]].round(4).to_string(index=False))
    check_between(
        history["val_acc"].max(),
        0.5 if nb.quick else 0.85,
        1.0,
        "validation accuracy after training",
        hint="the classifier is: Flatten, Dropout, Linear, ReLU, Dropout, Linear",
    )
    with lesson_checks() as checks:
        checks.record("val_accuracy", round(float(history["val_acc"].max()), 4))
    return history
