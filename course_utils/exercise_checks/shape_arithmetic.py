"""The checks of exercises 3 (shape arithmetic): ``check(task=N)``.

Every answer is compared with what PyTorch itself computes: real `nn.Conv2d` layers for Task 1,
`layer_table` of a real `ConvNet` for Task 2, `count_parameters` for Task 3, and the course's
`receptive_fields` for Task 4. Later tasks run with the course's versions of earlier answers
(`EARLIER_ANSWERS`, lent to the notebook), so a mistake costs one task.
"""

import inspect

import torch
from torch import nn

from course_utils import ConvNet, count_parameters, layer_table, receptive_fields, shapes
from course_utils.checks import CheckFailed, NotDoneYet, check_equal, explain_errors
from course_utils.exercise_checks import Tasks
from course_utils.exercise_checks.mistakes import explain, known_mistake, own_work
from course_utils.exercise_checks.shape_arithmetic_mistakes import (
    EARLIER_ANSWERS,
    ORDER,
    check_ints,
    count_mistakes,
    defaults,
    field_mistakes,
    one_number,
    shape_form_hint,
    shape_mistakes,
    size_mistakes,
    total_mistakes,
    uses,
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
DEFAULT_CALLS = [((28, 5), {}), ((28, 3), {"padding": 1}), ((28, 3), {"stride": 2})]  # stride=1, padding=0
FORBIDDEN = {  # what each task's answer must not call: the names its answer cell's course.forbid lists
    1: ("course_utils.shapes.conv_output_size", "course_utils.shapes.pool_output_size"),
    2: ("course_utils.shapes.layer_table", "course_utils.models.ConvNet"),
    3: ("course_utils.models.count_parameters", "course_utils.models.ConvNet"),
    4: ("course_utils.shapes.receptive_fields",),
}


def real_conv_size(size, kernel_size, stride, padding) -> int:
    """The output size of a real nn.Conv2d on a size x size image."""
    conv = nn.Conv2d(1, 1, kernel_size, stride=stride, padding=padding)
    return conv(torch.zeros(1, 1, size, size)).shape[-1]


def below_one(got) -> str | None:
    """A hint for a size below 1 (a negative size): the arguments in the wrong order, most often."""
    try:
        return f"got a size below 1: {ORDER}" if float(got) < 1 else None
    except (TypeError, ValueError):
        return None


@tasks(1, "conv_output_size", answers=["conv_output_size"])
def output_size(nb):
    calls, results, expected = [], [], [real_conv_size(*configuration[:4]) for configuration in CONFIGURATIONS]
    with own_work("conv_output_size is your own", *FORBIDDEN[1]):
        for size, kernel_size, stride, padding, _ in CONFIGURATIONS:
            calls.append(f"conv_output_size({size}, {kernel_size}, stride={stride}, padding={padding})")
            with explain(calls[-1], **{"by zero": "divide by the stride, which is never 0 (the padding can be)"}):
                results.append(nb.conv_output_size(size, kernel_size, stride=stride, padding=padding))
        # A mistake's hint only when the answers equal that mistake's on every configuration (two can agree on one).
        mistakes = [size_mistakes(*configuration[:4]) for configuration in CONFIGURATIONS]
        pairs = list(zip(results, mistakes, strict=True))
        hint = next((h for h in mistakes[0] if all(known_mistake(r, {h: m[h]}) for r, m in pairs)), None)
        for configuration, call, got, want in zip(CONFIGURATIONS, calls, results, expected, strict=True):
            form = one_number(got) or hint or below_one(got) or f"use {FORMULA}"
            check_equal(got, want, f"{configuration[4]}: {call}", hint=form)
        given = defaults(nb.conv_output_size)
        none = inspect.Parameter.empty
        empty = [name for name in ("stride", "padding") if given.get(name) is none]
        wrong = [f"{n}={given[n]!r}" for n, d in (("stride", 1), ("padding", 0)) if given.get(n, d) not in (d, none)]
        give = "give stride and padding defaults: def conv_output_size(size, kernel_size, stride=1, padding=0)"
        for arguments, keywords in DEFAULT_CALLS:
            call = f"conv_output_size({', '.join([*map(str, arguments), *(f'{k}={v}' for k, v in keywords.items())])})"
            default = f"the defaults are stride=1, padding=0, not {wrong[0]}" if wrong else None
            hints = {"required positional": give} if empty else {}
            with explain_errors(call, default) if wrong else explain(call, **hints):
                results.append(nb.conv_output_size(*arguments, **keywords))
            want = real_conv_size(*arguments, keywords.get("stride", 1), keywords.get("padding", 0))
            check_equal(results[-1], want, f"the defaults: {call}", hint=default)
        check_ints(results, nb.conv_output_size, "the result is a whole number (an int)")


POOL = "pool_output_size is the lesson's, not imported here: pool with conv_output_size(size, 2, stride=2)"
WHOLE = "sizes are whole numbers: use conv_output_size, or // 2 (/, * 0.5 and // 2.0 give floats)"
NO_POOL = {"name 'pool_output_size' is not defined": POOL}


def outcome(feature_shapes, kernel_size, padding):
    """What ``feature_shapes(kernel_size, padding)`` returns, or the one-line error it raised."""
    try:
        with explain(f"feature_shapes({kernel_size}, {padding})", **NO_POOL, **{"(float)": WHOLE}):
            return feature_shapes(kernel_size, padding)
    except (CheckFailed, NotDoneYet) as error:
        return error


@tasks(2, "shapes through the network", answers=["feature_shapes", "flat_features"])
def shapes_through_the_network(nb):
    configurations = [(5, 1), (3, 1), (5, 0), (3, 0)]
    nets = [ConvNet(kernel_size=kernel_size, padding=padding) for kernel_size, padding in configurations]
    reals = [[tuple(shape[1:]) for shape in layer_table(net)["output shape"][[0, 2, 3, 5]]] for net in nets]
    own = own_work("feature_shapes and flat_features are your own", *FORBIDDEN[2])
    with nb.lend(conv_output_size=shapes.conv_output_size), own:  # Task 1's answer: the course's, so only Task 2 counts
        got_shapes = [outcome(nb.feature_shapes, *configuration) for configuration in configurations]
        # A mistake's hint only when the answers equal that mistake's on every configuration (two can agree on
        # one) where they gave an answer (an error, e.g. padding 0 passed as the stride, is told where it comes).
        mistakes = [shape_mistakes(*configuration) for configuration in configurations]
        pairs = [(got, m) for got, m in zip(got_shapes, mistakes, strict=True) if not isinstance(got, Exception)]
        hint = next((h for h in mistakes[0] if all(known_mistake(g, {h: m[h]}) for g, m in pairs)), None)
        flats = []
        for (kernel_size, padding), net, real, got in zip(configurations, nets, reals, got_shapes, strict=True):
            if isinstance(got, Exception):
                raise got
            what = f"shapes with {kernel_size}x{kernel_size} kernels and padding {padding}"
            check_equal(got, real, what, hint=shape_form_hint(got) or hint)
            with explain(f"flat_features({kernel_size}, {padding})", **NO_POOL):
                flats.append(flat := nb.flat_features(kernel_size, padding))
            (c2, h2, w2), (_, h, w) = real[2], real[3]
            flat_mistakes = {
                "multiply channels x height x width of the LAST pooled maps (after pool2)": c2 * h2 * w2,
                "multiply by the channels too: channels x height x width": h * w,
                "use the kernel_size and padding you are given: feature_shapes(kernel_size, padding)": 500,
            }
            expected = net.classifier[1].in_features
            flat_hint = known_mistake(flat, flat_mistakes) if flat != expected else None
            what = f"flattened features with {kernel_size}x{kernel_size} kernels, padding {padding}"
            check_equal(flat, expected, what, hint=flat_hint)
        got = nb.feature_shapes(5, 1, image=32)
        image = "start from the size you are given, image (28 is only its default)"
        hint = image if got == [(10, 26, 26), (10, 13, 13), (20, 11, 11), (20, 5, 5)] else None
        check_equal(got, [(10, 30, 30), (10, 15, 15), (20, 13, 13), (20, 6, 6)], "a 32x32 image", hint=hint)
        sizes = [size for shapes_ in got_shapes for shape in shapes_ for size in shape]
        check_ints(sizes, nb.feature_shapes, "the shapes hold whole numbers (ints)")
        check_ints(flats, nb.flat_features, "flat_features is a whole number (an int)")


@tasks(3, "parameter counts", answers=["conv_params", "linear_params", "convnet_params"])
def parameter_counts(nb):
    layers = {  # (function, arguments) -> the number of parameters of the layer it counts
        ("conv_params", (1, 10, 5)): count_parameters(nn.Conv2d(1, 10, 5)),
        ("conv_params", (10, 20, 5)): count_parameters(nn.Conv2d(10, 20, 5)),
        ("linear_params", (500, 50)): count_parameters(nn.Linear(500, 50)),
    }
    totals = {(k, p): count_parameters(ConvNet(kernel_size=k, padding=p)) for k, p in [(5, 1), (3, 1)]}
    results = {"conv_params": [], "linear_params": [], "convnet_params": []}
    with own_work("your counts are your own", *FORBIDDEN[3]):
        for (name, arguments), expected in layers.items():
            with explain_errors(name):
                results[name].append(got := getattr(nb, name)(*arguments))
            xor = "^ is XOR in Python, not a power: square with kernel_size ** 2" if uses(nb.conv_params, "^") else None
            hint = known_mistake(got, count_mistakes(name, arguments)) or (xor if name == "conv_params" else None)
            check_equal(got, expected, f"{name}{arguments}", hint=hint)
        for (kernel_size, padding), expected in totals.items():
            with explain_errors(f"convnet_params({kernel_size}, {padding})"), nb.lend(**EARLIER_ANSWERS):
                results["convnet_params"].append(total := nb.convnet_params(kernel_size, padding))
            hint = known_mistake(total, total_mistakes(kernel_size, padding)) if total != expected else None
            what = f"all parameters with {kernel_size}x{kernel_size} kernels and padding {padding}"
            check_equal(total, expected, what, hint=hint)
        for name, values in results.items():
            check_ints(values, getattr(nb, name), f"{name} counts whole parameters (an int)")


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
    expected = [course_receptive_field(layers) for layers, _ in examples]
    fields = []
    with own_work("receptive_field is your own", *FORBIDDEN[4]):
        for layers, _ in examples:
            with explain_errors(f"receptive_field({layers})"):
                fields.append(nb.receptive_field([tuple(layer) for layer in layers]))  # a copy: it may change it
        # A mistake's hint only when the answers equal that mistake's on every example (two mistakes can agree on one).
        mistakes = [field_mistakes(layers) for layers, _ in examples]
        pairs = list(zip(fields, mistakes, strict=True))
        hint = next((h for h in mistakes[0] if all(known_mistake(f, {h: m[h]}) for f, m in pairs)), None)
        for (layers, what), field, want in zip(examples, fields, expected, strict=True):
            form = one_number(field, "the receptive field along one side")
            check_equal(field, want, f"{what}: receptive_field({layers})", hint=form or hint)
        check_ints(fields, nb.receptive_field, "the receptive field is a whole number (an int)")
