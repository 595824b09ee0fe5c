"""The classic mistakes of exercises 3 (shape arithmetic) and what each gives: the hints of
`shape_arithmetic` are shown only when an answer is exactly what its mistake gives."""

from course_utils import ConvNet, shapes


def course_flat_features(kernel_size, padding):
    """Task 2's answer, read off a real ConvNet: convnet_params runs with it, so only Task 3 counts."""
    return ConvNet(kernel_size=kernel_size, padding=padding).classifier[1].in_features


def size_mistakes(m, k, s, p) -> dict:
    """{hint: what the answer returns} for the classic mistakes in the output-size formula."""
    return {
        "padding p adds p pixels on EACH side: 2p in all": (m + p - k) // s + 1,
        "divide with //, which rounds down and gives an int (/ gives a float)": (m + 2 * p - k) / s + 1,
        "divide (M + 2p - k) by the stride, round down, THEN add 1 (mind the brackets)": (m + 2 * p - k) // (s + 1),
        "the formula ends with + 1: without padding a kernel of size k fits M - k + 1 times": (m + 2 * p - k) // s,
        "round down (//), never up": -(-(m + 2 * p - k) // s) + 1,
    }


def shape_mistakes(kernel_size, padding) -> dict:
    """{hint: what feature_shapes returns} for the classic mistakes, worked out with the course's formula."""

    def shapes_of(channels=(10, 20), pad=padding, pool_stride=2):
        result, size = [], 28
        for c in channels:
            size = shapes.conv_output_size(size, kernel_size, padding=pad)
            result.append((c, size, size))
            size = shapes.conv_output_size(size, 2, stride=pool_stride)
            result.append((c, size, size))
        return result

    return {
        "conv2 has 20 filters: the second block's shapes have 20 channels": shapes_of(channels=(10, 10)),
        "pass padding on to conv_output_size(size, kernel_size, padding=padding)": shapes_of(pad=0),
        "2x2 pooling has stride 2: conv_output_size(size, 2, stride=2) halves the size": shapes_of(pool_stride=1),
    }


def shape_form_hint(got) -> str | None:
    """A hint when the answer's shapes are not four (channels, height, width) tuples."""
    if isinstance(got, tuple):
        return "return a list, [...], not a tuple"
    if not isinstance(got, list) or len(got) != 4:
        return "return a list of four shapes: after conv1, pool1, conv2 and pool2"
    if any(isinstance(shape, list) for shape in got):
        return "make each shape a tuple, (10, 26, 26), not a list"
    if any(not isinstance(shape, tuple) or len(shape) != 3 for shape in got):
        return "each shape is (channels, height, width) of one image: three numbers, no batch dimension"
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
        }
    i, o = arguments
    return {
        "plus one bias per output": o * i,
        "one bias per OUTPUT, not per input (and the arguments come in that order: in_features, out_features)": o * i
        + i,
    }


def total_mistakes(kernel_size, padding) -> dict:
    """{hint: what convnet_params returns} for the classic mistakes in adding the layers up."""
    fc = (course_flat_features(kernel_size, padding) + 1) * 50 + (50 + 1) * 10
    return {
        "conv2 takes conv1's 10 channels: conv_params(10, 20, kernel_size)": conv_count(1, 10, kernel_size)
        + conv_count(1, 20, kernel_size)
        + fc,
        "use the kernel_size you are given, not 5": conv_count(1, 10, 5) + conv_count(10, 20, 5) + fc,
        "add fc2 too: linear_params(50, 10)": conv_count(1, 10, kernel_size)
        + conv_count(10, 20, kernel_size)
        + fc
        - 510,
    }


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
        "start from r = 1: a unit with no layers sees one pixel": field(lambda r, j, k, s: (r + (k - 1) * j, j * s))
        - 1,
    }
