"""The checks of exercises 3 (shape arithmetic): ``check(task=N)``.

Every answer is compared with what PyTorch itself computes: real `nn.Conv2d` layers for Task 1,
`layer_table` of a real `ConvNet` for Task 2, `count_parameters` for Task 3, and the course's
`receptive_fields` for Task 4. Later tasks run with the course's versions of earlier answers
(`EARLIER_ANSWERS`, lent to the notebook), so a mistake costs one task.
"""

import inspect
import io
import textwrap
import tokenize

import torch
from torch import nn

from course_utils import ConvNet, count_parameters, layer_table, receptive_fields, shapes
from course_utils.checks import check_equal, check_own_work, explain_errors
from course_utils.exercise_checks import Tasks
from course_utils.exercise_checks.mistakes import explain, known_mistake
from course_utils.exercise_checks.shape_arithmetic_mistakes import (
    EARLIER_ANSWERS,
    ORDER,
    count_mistakes,
    field_mistakes,
    shape_form_hint,
    shape_mistakes,
    size_mistakes,
    total_mistakes,
)

tasks = Tasks("shape_arithmetic")
check = tasks.check

CONFIGURATIONS = [  # (input size, kernel size, stride, padding, what it tests)
    (28, 5, 1, 0, "no padding"),
    (28, 5, 1, 1, "padding 1"),
    (28, 3, 1, 1, "a 3x3 kernel with padding 1"),
    (28, 3, 2, 1, "stride 2"),
    (27, 4, 3, 0, "a stride that does not divide evenly"),
    (26, 2, 2, 0, "2x2 max-pooling"),
]
FORMULA = "N = floor((M + 2p - k) / s) + 1"


def real_conv_size(size, kernel_size, stride, padding) -> int:
    """The output size of a real nn.Conv2d on a size x size image."""
    conv = nn.Conv2d(1, 1, kernel_size, stride=stride, padding=padding)
    return conv(torch.zeros(1, 1, size, size)).shape[-1]


def divides_with_slash(function) -> bool:
    """Whether the function's code divides with / (or /=), not only with //."""
    try:
        source = textwrap.dedent(inspect.getsource(function))
        return any(t.string in ("/", "/=") for t in tokenize.generate_tokens(io.StringIO(source).readline))
    except (OSError, TypeError, SyntaxError, tokenize.TokenError):  # no source to read: say nothing about /
        return False


def below_one(got) -> str | None:
    """A hint for a size below 1 (a negative size): the arguments in the wrong order, most often."""
    try:
        return f"got a size below 1: {ORDER}" if float(got) < 1 else None
    except (TypeError, ValueError):
        return None


@tasks(1, "conv_output_size", answers=["conv_output_size"])
def output_size(nb):
    calls, results = [], []
    for size, kernel_size, stride, padding, _ in CONFIGURATIONS:
        calls.append(f"conv_output_size({size}, {kernel_size}, stride={stride}, padding={padding})")
        with explain_errors(calls[-1]):
            results.append(nb.conv_output_size(size, kernel_size, stride=stride, padding=padding))
    # A mistake's hint only when the answers equal that mistake's on every configuration (two can agree on one).
    mistakes = [size_mistakes(*configuration[:4]) for configuration in CONFIGURATIONS]
    pairs = list(zip(results, mistakes, strict=True))
    hint = next((h for h in mistakes[0] if all(known_mistake(r, {h: m[h]}) for r, m in pairs)), None)
    for configuration, call, got in zip(CONFIGURATIONS, calls, results, strict=True):
        expected = real_conv_size(*configuration[:4])
        check_equal(got, expected, f"{configuration[4]}: {call}", hint=hint or below_one(got) or f"use {FORMULA}")
    odd = next((type(got) for got in results if type(got) is not int), int)  # every value is right by now
    as_int = "return a Python int: compute with plain numbers, or convert with int(...)"
    if odd is float:
        slash = divides_with_slash(nb.conv_output_size)
        as_int = "/ gives a float, even for a whole number: divide with // alone" if slash else None
        as_int = as_int or "return a Python int, not a float: drop float(...) and any 1.0, or convert with int(...)"
    check_equal(odd.__name__, "int", "the result is a whole number (an int)", hint=as_int)
    check_own_work(nb.conv_output_size, (shapes.conv_output_size, shapes.pool_output_size), "your own function")


@tasks(2, "shapes through the network", answers=["feature_shapes", "flat_features"])
def shapes_through_the_network(nb):
    with nb.lend(conv_output_size=shapes.conv_output_size):  # Task 1's answer: the course's, so only Task 2 counts
        for kernel_size, padding in [(5, 1), (3, 1), (5, 0), (3, 0)]:
            net = ConvNet(kernel_size=kernel_size, padding=padding)
            real = [tuple(shape[1:]) for shape in layer_table(net)["output shape"][[0, 2, 3, 5]]]
            whole = {"whole number": "sizes are whole numbers: use conv_output_size, or // (/ and * 0.5 give floats)"}
            with explain(f"feature_shapes({kernel_size}, {padding})", **whole):
                got = nb.feature_shapes(kernel_size, padding)
            hint = shape_form_hint(got) or known_mistake(got, shape_mistakes(kernel_size, padding))
            check_equal(got, real, f"shapes with {kernel_size}x{kernel_size} kernels and padding {padding}", hint=hint)
            with explain_errors(f"flat_features({kernel_size}, {padding})"):
                flat = nb.flat_features(kernel_size, padding)
            (c2, h2, w2), (_, h, w) = real[2], real[3]
            mistakes = {
                "multiply channels x height x width of the LAST pooled maps (after pool2)": c2 * h2 * w2,
                "multiply by the channels too: channels x height x width": h * w,
                "use the kernel_size and padding you are given: feature_shapes(kernel_size, padding)": 500,
            }
            expected = net.classifier[1].in_features
            hint = known_mistake(flat, mistakes) if flat != expected else None
            check_equal(
                flat,
                expected,
                f"flattened features with {kernel_size}x{kernel_size} kernels, padding {padding}",
                hint=hint,
            )
        got = nb.feature_shapes(5, 1, image=32)
        image = "start from the size you are given, image (28 is only its default)"
        hint = image if got == [(10, 26, 26), (10, 13, 13), (20, 11, 11), (20, 5, 5)] else None
        check_equal(got, [(10, 30, 30), (10, 15, 15), (20, 13, 13), (20, 6, 6)], "a 32x32 image", hint=hint)


@tasks(3, "parameter counts", answers=["conv_params", "linear_params", "convnet_params"])
def parameter_counts(nb):
    layers = {  # (function, arguments) -> the layer it counts
        ("conv_params", (1, 10, 5)): nn.Conv2d(1, 10, 5),
        ("conv_params", (10, 20, 5)): nn.Conv2d(10, 20, 5),
        ("linear_params", (500, 50)): nn.Linear(500, 50),
    }
    for (name, arguments), layer in layers.items():
        with explain_errors(name):
            got = getattr(nb, name)(*arguments)
        hint = known_mistake(got, count_mistakes(name, arguments))
        check_equal(got, count_parameters(layer), f"{name}{arguments}", hint=hint)
    for kernel_size, padding in [(5, 1), (3, 1)]:
        with explain_errors(f"convnet_params({kernel_size}, {padding})"), nb.lend(**EARLIER_ANSWERS):
            total = nb.convnet_params(kernel_size, padding)
        expected = count_parameters(ConvNet(kernel_size=kernel_size, padding=padding))
        hint = known_mistake(total, total_mistakes(kernel_size, padding)) if total != expected else None
        what = f"all parameters with {kernel_size}x{kernel_size} kernels and padding {padding}"
        check_equal(total, expected, what, hint=hint)


def course_receptive_field(layers) -> int:
    if not layers:
        return 1  # no layers: a unit is a single pixel
    return int(receptive_fields([("layer", k, s) for k, s in layers])["receptive field"].iloc[-1])


@tasks(4, "receptive_field", answers=["receptive_field"])
def receptive_field(nb):
    examples = [  # (layers, what they are)
        ([(3, 1), (3, 1)], "two 3x3 convolutions"),
        ([(2, 2), (2, 2)], "two 2x2 poolings"),
        ([(3, 2), (3, 1)], "a strided conv, then a conv"),
        ([(5, 1), (2, 2), (5, 1), (2, 2)], "the course's network after pool2"),
        ([], "no layers at all: a single pixel"),
    ]
    fields = []
    for layers, _ in examples:
        with explain_errors(f"receptive_field({layers})"):
            fields.append(nb.receptive_field([tuple(layer) for layer in layers]))  # a copy: the answer may change it
    # A mistake's hint only when the answers equal that mistake's on every example (two mistakes can agree on one).
    mistakes = [field_mistakes(layers) for layers, _ in examples]
    pairs = list(zip(fields, mistakes, strict=True))
    hint = next((h for h in mistakes[0] if all(known_mistake(f, {h: m[h]}) for f, m in pairs)), None)
    for (layers, what), field in zip(examples, fields, strict=True):
        check_equal(field, course_receptive_field(layers), f"{what}: receptive_field({layers})", hint=hint)
