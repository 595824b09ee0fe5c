"""The classic mistakes of exercises 3 (shape arithmetic) and what each gives: the hints of
`shape_arithmetic` are shown only when an answer is exactly what its mistake gives."""

import inspect
import io
import textwrap
import tokenize

from course_utils import shapes
from course_utils.checks import check_equal
from course_utils.exercise_checks.mistakes import kind


def course_feature_shapes(kernel_size, padding, image=28, channels=(10, 20), pool_padding=0, pool_stride=2):
    """Task 2's feature_shapes worked out with the course's formula (the keywords give its classic mistakes)."""
    result, size = [], image
    for c in channels:
        size = shapes.conv_output_size(size, kernel_size, padding=padding)
        result.append((c, size, size))
        size = shapes.conv_output_size(size, 2, stride=pool_stride, padding=pool_padding)
        result.append((c, size, size))
    return result


def course_flat_features(kernel_size, padding):
    """Task 2's answer, the course's (no ConvNet: Task 3's answer must not build one, and runs with this)."""
    channels, height, width = course_feature_shapes(kernel_size, padding)[-1]
    return channels * height * width


# Tasks 1 and 2's answers, the course's: Task 3 runs with them (nb.lend), so one mistake costs one task.
EARLIER_ANSWERS = dict(
    conv_output_size=shapes.conv_output_size, feature_shapes=course_feature_shapes, flat_features=course_flat_features
)
ORDER = "check the order of the arguments: conv_output_size(size, kernel_size, stride=1, padding=0)"


def size_mistakes(m, k, s, p) -> dict:
    """{hint: what the answer returns} for the classic mistakes in the output-size formula."""
    return {
        "padding p adds p pixels on EACH side: 2p in all": (m + p - k) // s + 1,
        "add the padding: p pixels on each side, 2p in all": (m - k) // s + 1,
        "use the stride and the padding too: N = floor((M + 2p - k) / s) + 1": m - k + 1,
        "divide with //, which rounds down and gives an int (/ gives a float)": (m + 2 * p - k) / s + 1,
        "divide (M + 2p - k) by the stride, round down, THEN add 1 (mind the brackets)": (m + 2 * p - k) // (s + 1),
        "bracket (M + 2p - k) before dividing: // binds tighter than + and -": m + 2 * p - k // s + 1,
        "add the 1 after dividing: (M + 2p - k) // s + 1": (m + 2 * p - k + 1) // s,
        "divide by the stride: the kernel moves s pixels at a time": m + 2 * p - k + 1,
        "the formula ends with + 1: without padding a kernel of size k fits M - k + 1 times": (m + 2 * p - k) // s,
        "round down with //: round() and math.ceil round some sizes up": -(-(m + 2 * p - k) // s) + 1,
        f"got a negative size: {ORDER}": (k + 2 * p - m) // s + 1,
    }


def shape_mistakes(kernel_size, padding) -> dict:
    """{hint: what feature_shapes returns} for the classic mistakes, worked out with the course's formula."""

    def shapes_of(**mistake):
        return course_feature_shapes(kernel_size, **{"padding": padding, **mistake})

    return {
        "conv2 has 20 filters: the second block's shapes have 20 channels": shapes_of(channels=(10, 10)),
        "the channels are each conv's OUTPUT channels: 10 after conv1, 20 after conv2": shapes_of(channels=(1, 10)),
        "conv1 has 10 filters, conv2 20: the channels go 10, then 20": shapes_of(channels=(20, 10)),
        "pass padding on to conv_output_size(size, kernel_size, padding=padding)": shapes_of(padding=0),
        "use the padding argument you are given, not 1": shapes_of(padding=1),
        "use the kernel_size argument you are given, not 5": course_feature_shapes(5, padding),
        "work the shapes out from kernel_size and padding: the lesson's list is for 5x5 kernels and padding 1": (
            course_feature_shapes(5, 1)
        ),
        "2x2 pooling has stride 2: conv_output_size(size, 2, stride=2) halves the size": shapes_of(pool_stride=1),
        "pooling has no padding: conv_output_size(size, 2, stride=2), padding is for the convolutions": shapes_of(
            pool_padding=padding
        ),
    }


def shape_form_hint(got) -> str | None:
    """A hint when the answer's shapes are not four (channels, height, width) tuples."""
    if isinstance(got, tuple):
        return "return a list, [...], not a tuple"
    if not isinstance(got, list) or len(got) != 4:
        return "return a list of four shapes: after conv1, pool1, conv2 and pool2"
    if any(isinstance(shape, list) for shape in got):
        return "make each shape a tuple, (10, 26, 26), not a list"
    if any(isinstance(shape, tuple) and len(shape) == 4 and shape[0] == 1 for shape in got):
        return "each shape is (channels, height, width) of one image: three numbers, no batch dimension"
    if any(not isinstance(shape, tuple) or len(shape) != 3 for shape in got):
        return "each shape is (channels, height, width): three numbers, e.g. (10, 26, 26)"
    if got[0][-1] in (10, 20):
        return "channels first: (channels, height, width)"
    return None


def conv_count(i, o, k) -> int:  # the right counts, to work out what each classic mistake gives
    return o * i * k * k + o


def count_mistakes(name, arguments) -> dict:
    """{hint: what conv_params or linear_params returns} for the classic counting mistakes."""
    if name == "conv_params":
        i, o, k = arguments
        return {
            f"each of the {o} filters spans all {i} input channels: {i} x {k} x {k} weights": o * k * k + o,
            "one bias per filter (out_channels), not one per input channel": o * i * k * k + o * i,
            "plus one bias per filter": o * i * k * k,
            f"a kernel has {k} x {k} weights per input channel: out x in x k x k": o * i * k + o,
            "one bias per filter, + out_channels (the arguments come in the order in_channels, out_channels, "
            "kernel_size)": o * i * k * k + i,
        }
    i, o = arguments
    return {
        "plus one bias per output": o * i,
        "one bias per OUTPUT, not per input (and the arguments come in that order: in_features, out_features)": o * i
        + i,
    }


def total_mistakes(kernel_size, padding) -> list:
    """[(hint, what convnet_params returns)] for the classic mistakes in adding the layers up."""
    flat = course_flat_features(kernel_size, padding)
    convs, fc1, fc2 = conv_count(1, 10, kernel_size) + conv_count(10, 20, kernel_size), 50 * flat + 50, 510
    order = "linear_params takes (in_features, out_features): fc1 is linear_params(flat, 50), fc2 linear_params(50, 10)"
    return [
        (
            "conv2 takes conv1's 10 channels: conv_params(10, 20, kernel_size)",
            convs + conv_count(1, 20, kernel_size) - conv_count(10, 20, kernel_size) + fc1 + fc2,
        ),
        ("use the kernel_size you are given, not 5", conv_count(1, 10, 5) + conv_count(10, 20, 5) + fc1 + fc2),
        ("add fc2 too: linear_params(50, 10)", convs + fc1),
        (order, convs + 50 * flat + flat + fc2),
        (order, convs + fc1 + 550),
        (
            "fc1's inputs change with kernel_size and padding: linear_params(flat_features(kernel_size, padding), 50)",
            convs + 500 * 50 + 50 + fc2,
        ),
        (
            "MNIST images have one channel: conv1 is conv_params(1, 10, kernel_size)",
            convs + conv_count(3, 10, kernel_size) - conv_count(1, 10, kernel_size) + fc1 + fc2,
        ),
    ]


def field_mistakes(layers) -> dict:
    """{hint: what the answer returns} for the classic mistakes in the receptive-field loop."""

    def field(step):
        r, jump = 1, 1
        for k, s in layers:
            r, jump = step(r, jump, k, s)
        return r

    return {
        "the jump is the product of ALL earlier strides: multiply it by each stride (jump *= stride)": field(
            lambda r, j, k, s: (r + (k - 1) * j, s)
        ),
        "multiply the jump by each stride (jump *= stride), do not add the stride to it": field(
            lambda r, j, k, s: (r + (k - 1) * j, j + s)
        ),
        "multiply the jump by each layer's stride AFTER using it (the layer's own stride does not count)": field(
            lambda r, j, k, s: (r + (k - 1) * j * s, j * s)
        ),
        "each layer adds (k - 1) x jump, not k x jump": field(lambda r, j, k, s: (r + k * j, j * s)),
        "each layer adds (k - 1) x the jump, the product of the EARLIER strides, not of its own stride": field(
            lambda r, j, k, s: (r + (k - 1) * s, j)
        ),
        "multiply each (k - 1) by the jump, the product of the strides of the layers before it": field(
            lambda r, j, k, s: (r + k - 1, j)
        ),
        "each layer is a (kernel, stride) pair, in that order: for kernel, stride in layers": field(
            lambda r, j, k, s: (r + (s - 1) * j, j * k)
        ),
        "start from r = 1: a unit with no layers sees one pixel": field(lambda r, j, k, s: (r + (k - 1) * j, j * s))
        - 1,
    }


def uses(function, *operators: str) -> bool:
    """Whether the function's code has one of these operators (tokens): ``uses(f, "/", "/=")``."""
    try:
        source = textwrap.dedent(inspect.getsource(function))
        return any(t.string in operators for t in tokenize.generate_tokens(io.StringIO(source).readline))
    except (OSError, TypeError, SyntaxError, tokenize.TokenError):  # no source to read: say nothing
        return False


def defaults(function) -> dict:
    """{name: default} of the function's parameters (inspect.Parameter.empty: none), {} when unknown."""
    try:
        return {name: p.default for name, p in inspect.signature(function).parameters.items()}
    except (TypeError, ValueError):
        return {}


def one_number(got, what="the size along one side") -> str | None:
    """A hint for a size that is not one number: a tuple (height, width), a list, a string."""
    if isinstance(got, int | float) or getattr(got, "ndim", 1) == 0 or getattr(got, "numel", lambda: 0)() == 1:
        return None
    return f"return one Python int, {what} (got {kind(got)})"


def check_ints(values, function, what: str) -> None:
    """Fail ``what`` unless every value is a Python int, with a hint for where a float or a NumPy int came from."""
    __tracebackhide__ = True
    odd = next((type(value) for value in values if type(value) is not int), int)
    hint = "return a Python int: compute with plain numbers, or convert with int(...)"
    if odd is float:
        floats = [f"{name}={value!r}" for name, value in defaults(function).items() if type(value) is float]
        slash = uses(function, "/", "/=")
        hint = "/ gives a float, even for a whole number: divide with // alone" if slash else None
        hint = hint or "return a Python int, not a float: drop float(...) and any 1.0 or 2.0, or convert with int(...)"
        hint = f"write the defaults as whole numbers: {floats[0]} makes the result a float" if floats else hint
    check_equal(odd.__name__, "int", what, hint=hint)
