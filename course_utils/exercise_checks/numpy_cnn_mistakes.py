"""The hints of exercises 7's checks (`numpy_cnn.py`), and the classic mistakes they name.

A hint that names a mistake is given only when the answer gives exactly what that mistake gives (the
right numbers in the wrong places, ReLU's gradient where leaky ReLU's was asked for, the right arrays in
the wrong order...); any other wrong answer is told the rule it breaks (Task 5's hints are in
`numpy_cnn_training.py`). Each ``..._hint`` function returns the hint for the answer it is given; the
checks of the kind of value an answer returns are in `numpy_cnn_calls.py`.
"""

from itertools import permutations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from course_utils.exercise_checks.numpy_cnn_references import course_im2col, window_counts, windows_one_by_one


def same(a, b) -> bool:
    """Do ``a`` and ``b`` hold the same numbers?"""
    try:
        return np.shape(a) == np.shape(b) and bool(np.allclose(a, b))
    except (TypeError, ValueError):  # an answer of another kind (None, a list of arrays...) is no mistake of these
        return False


def misplaced(a, b) -> bool:
    """The same numbers in other places: what a wrong transpose or reshape gives."""
    try:
        return np.size(a) == np.size(b) and same(np.sort(np.ravel(a)), np.sort(np.ravel(b))) and not same(a, b)
    except (TypeError, ValueError):
        return False


def leaky_relu_hint(out, x, slope) -> str:
    if slope and same(out, np.maximum(x, 0)):
        return "that is ReLU: the negative inputs are multiplied by slope, not set to 0"
    return "keep x where x > 0 and multiply it by slope elsewhere"


def leaky_relu_backward_hint(grad, x, grad_out, slope) -> str:
    if slope and same(grad, grad_out * (x > 0)):
        return (
            "that is ReLU's backward pass: where x <= 0 the output is slope * x, so grad_out passes times slope "
            "(slope put into an array of integers becomes 0)"
        )
    if same(grad, np.where(x > 0, 1.0, slope)):
        return "multiply the derivative by grad_out (the chain rule): dL/dx = grad_out * d output / dx"
    return "dL/dx is grad_out where x > 0 and slope * grad_out elsewhere (the derivative of slope * x is slope)"


EVERY_WINDOW = "that is every window: keep those that start every `stride` pixels, [:, :, ::stride, ::stride]"
WRONG_PLACES = "the right numbers in the wrong places: "
KTH_WINDOW = "you kept every k-th window: keep those that start every `stride` pixels, [:, :, ::stride, ::stride]"
TILES = "a reshape into k x k tiles needs H and W divisible by k, and windows that do not overlap: take the " + (
    "windows with sliding_window_view(x, (k, k), axis=(2, 3))[:, :, ::stride, ::stride]"
)
STRIDED_IMAGE = "you strided the image, not the windows: take the windows of x first, then keep every `stride`-th"


def pooling_hint(out, expected, x, k, stride) -> str:
    if np.ndim(out) != 4:
        return "the output has 4 axes, (N, C, H', W'): take each window's maximum over both window axes"
    windows = sliding_window_view(x, (k, k), axis=(2, 3))
    if same(out, windows[:, :, ::stride, ::stride].max(axis=(2, 3))):
        return "take the max over the window axes (4, 5), not the positions (2, 3)"
    if k != stride and same(out, windows[:, :, ::k, ::k].max(axis=(-2, -1))):
        return KTH_WINDOW
    if stride > 1 and same(out, sliding_window_view(x[:, :, ::stride, ::stride], (k, k), axis=(2, 3)).max((-2, -1))):
        return STRIDED_IMAGE
    if np.shape(out)[2:] == (x.shape[2] - k + 1, x.shape[3] - k + 1) != expected.shape[2:]:
        return EVERY_WINDOW
    if np.shape(out) != expected.shape:
        return "H' = (H - k) // stride + 1 windows fit along the height H, and W' = (W - k) // stride + 1 along W"
    return "take the maximum of each window over its two window axes"


SLICES = (
    "for each offset (u, v), the grid dx[:, :, u : u + stride * H' : stride, v : v + stride * W' : stride], "
    "grad_out and the winners of the windows that start every `stride` pixels are all (N, C, H', W')"
)
ROUTE = (
    "pixel (u, v) of window (i, j) is pixel (stride * i + u, stride * j + v) of x: for each offset (u, v), the "
    "grid dx[:, :, u : u + stride * H' : stride, v : v + stride * W' : stride] gets grad_out where that pixel "
    "is its window's maximum"
)


def route_hint(grad, wins) -> str:
    """``wins``: how many windows each pixel is the largest of, what the mask alone gives for any grad_out."""
    return "each winner got 1, not its window's gradient: multiply the mask by grad_out" if same(grad, wins) else ROUTE


def im2col_hint(cols, expected, image, stride) -> str:
    if stride != 3 and same(cols, windows_one_by_one(image, 3, 3)):  # the checks' k = 3
        return KTH_WINDOW
    if stride > 1 and same(cols, windows_one_by_one(image[:, :, ::stride, ::stride], 3, 1)):
        return STRIDED_IMAGE
    if np.ndim(cols) != 2 or len(cols) != len(expected):
        if np.ndim(cols) == 2 and len(cols) == len(windows_one_by_one(image, 3, 1)):
            return EVERY_WINDOW
        return "one row per window (N * H' * W' rows, H' = (H - k) // stride + 1), one column per (channel, u, v)"
    windows = expected.reshape(len(image), -1, image.shape[1], 3, 3)  # (N, H'*W', C, u, v), the checks' k = 3
    if same(cols, windows.swapaxes(3, 4).reshape(expected.shape)):
        return WRONG_PLACES + "the window axes are swapped: keep (u, v), row then column, (N, H', W', C, k, k)"
    if any(same(cols, windows.transpose(axes).reshape(expected.shape)) for axes in CHANNEL_ELSEWHERE):
        return WRONG_PLACES + (
            "each row holds one window of every channel: move the channel axis next to the window axes, "
            "(N, H', W', C, k, k), before reshaping"
        )
    return "row r is window r, in the order (image, output row, output column), read channel by channel, row by row"


CHANNEL_ELSEWHERE = [(0, 2, 1, 3, 4), (0, 2, 1, 4, 3), (0, 1, 3, 4, 2), (0, 1, 4, 3, 2)]  # channel first or last


def conv_shape_hint(out, expected, every) -> str:
    """The hint for an output of the wrong shape; ``every`` is the convolution with stride 1."""
    if np.shape(out) == every.shape != expected.shape and same(out, every):
        return "that is every window (stride 1): pass the stride to im2col, and use it in H' and W'"
    if np.shape(out) == expected.shape[:2] + expected.shape[:1:-1] and same(out, expected.swapaxes(2, 3)):
        return "H' and W' are swapped: reshape the product to (N, H', W', F), then transpose(0, 3, 1, 2)"
    if np.shape(out) == expected.shape[:2] + expected.shape[:1:-1]:  # the numbers scrambled: H' computed from W
        return "H' and W' are swapped: H' comes from H = x.shape[2], W' from W = x.shape[3]; reshape to (N, H', W', F)"
    return "the output is (N, F, H', W') with H' = (H - k) // stride + 1"


def conv_forward_hint(out, expected, x, weight, bias, stride) -> str:
    n_filters, n = len(weight), len(x)
    product = course_im2col(x, weight.shape[2], stride) @ weight.reshape(-1, n_filters) + bias  # not transposed
    if same(out, product.reshape(n, *expected.shape[2:], n_filters).transpose(0, 3, 1, 2)):
        return "weight.reshape(-1, F) mixes up the filters: flatten each one, weight.reshape(F, -1), then transpose"
    if expected.shape[-1] == len(bias) and same(out, expected - bias[:, None, None] + bias):  # W' = F: no error
        return "the bias went along the last axis (W'): add it to the product, one column per filter, before reshaping"
    if misplaced(out, expected):
        return WRONG_PLACES + (
            "the product has one row per (image, output row, output column): reshape it to (N, H', W', F) "
            "first, then move the filter axis forward"
        )
    if same(out, expected - bias[:, None, None]):
        return "add the bias: one number per filter, added at every position"
    return "im2col(x, k, stride) @ weight.reshape(F, -1).T + bias, reshaped to (N, H', W', F), then F moved forward"


TRANSPOSED = "im2col(x, k, stride) is (N*H'*W', C*k*k): multiply it by the filters flattened to (F, C*k*k), transposed"
COL2IM = "grad_cols has C*k*k numbers per window, and windows overlap: add each (u, v) slice to its grid of dx (col2im)"
SIZES = "the product has N * H' * W' rows with H' = (H - k) // stride + 1: im2col needs the stride too"
RESHAPE = "the product has the right N * H' * W' rows: compute H' = (H - k) // stride + 1 and W' with the stride"
PRODUCT = "the product has one row per window and one column per filter: reshape it to (N, H', W', F)"
GRID = "the grid of dx for offset (u, v) and grad_cols[:, :, :, :, u, v], its channel axis moved, are (N, C, H', W')"
FACTORS = "the product's factors: g is (N*H'*W', F), im2col(x, k, stride) (N*H'*W', C*k*k), weights (F, C*k*k)"
FILTERS_LAST = "g has one column per filter and lists the windows in im2col's order: move the filter axis last"
CONV_GRADIENT_HINTS = {  # name: (the hint if its shape is wrong, the hint if its numbers are)
    "dbias": (
        "one number per filter: sum g over its rows (axis=0)",
        "dbias[f] adds up grad_out[:, f] over every image and position",
    ),
    "dweight": (
        "reshape g.T @ im2col(x, k, stride) to weight.shape",
        "dweight = g.T @ im2col(x, k, stride), reshaped to weight.shape",
    ),
    "dx": (
        "dL/dx has the shape of x: return the tuple (dx, dweight, dbias), in this order",
        "reshape g @ weight.reshape(F, -1) to (N, H', W', C, k, k); add each (u, v) slice, its channel axis "
        "moved to axis 1, to the strided grid of dx that offset (u, v) covers",
    ),
}


def conv_gradient_hint(name, ours, x, weight, grad_out, stride) -> str:
    """The hint for a wrong dbias or dweight (dx's names no mistake of g), FILTERS_LAST only when g is the mistake."""
    g = grad_out.reshape(-1, len(weight))  # the filter axis not moved last: g's numbers in the wrong places
    cols, moved = course_im2col(x, weight.shape[2], stride), grad_out.transpose(0, 2, 3, 1).reshape(g.shape)
    if name == "dweight" and same(ours, (cols.T @ moved).reshape(weight.shape)):
        return "im2col(x, k, stride).T @ g is (C*k*k, F), dweight's transpose: use g.T @ im2col(x, k, stride)"
    gradient = {"dbias": lambda g: g.sum(axis=0), "dweight": lambda g: (g.T @ cols).reshape(weight.shape)}.get(name)
    if gradient and same(ours, gradient(g)):
        return CONV_GRADIENT_HINTS[name][1] + "; " + FILTERS_LAST
    if gradient and any(same(ours, gradient(moved) / count) for count in (len(x), len(g))):
        return f"a mean, not a sum: {name} adds up the gradients of every image and position (do not divide)"
    orders = [grad_out.transpose(axes).reshape(g.shape) for axes in permutations(range(4))]  # (0, 2, 3, 1) is right
    if gradient and any(same(ours, gradient(other)) for other in orders):  # e.g. (0, 3, 2, 1): H' and W' swapped
        return "g's rows must be in im2col's order (n, H', W'): grad_out.transpose(0, 2, 3, 1).reshape(-1, F)"
    return CONV_GRADIENT_HINTS[name][1]


def in_wrong_order(arrays, right) -> bool:
    """The right arrays, returned in another order."""
    matches = lambda order: all(same(a, b) for a, b in zip(order, right, strict=True))  # noqa: E731
    return not matches(arrays) and any(matches(order) for order in permutations(arrays))


RANGE_K = "loop over all k x k offsets of a window, u and v in range(k), not range(stride)"
START_FROM_ZEROS = "start {} from zeros (np.zeros), not np.empty: it holds whatever was in memory"


def counting_hint(dx) -> str:
    """The hint for dx of lesson 7's counting cell with stride 2 on a 7x7 image (every pixel is in a window)."""
    if same(dx, np.pad(window_counts(5, 1), ((0, 2), (0, 2)))):
        return "window (i, j) starts at pixel (stride * i, stride * j): step the slices of dx by the stride"
    if same(dx, np.pad(np.ones((6, 6)), ((0, 1), (0, 1)))):  # offsets u, v in range(2): each pixel once, the last none
        return RANGE_K
    if same(dx, np.ones((7, 7))):  # each grid set to 1, not added to
        return "a pixel in several windows collects the gradients of all of them: add (+=) to dx, do not assign"
    if (dx == 0).any():
        pixel = tuple(np.argwhere(dx == 0)[0].tolist())
        return f"pixel {pixel} is in a window but got nothing: for each offset (u, v), u and v in range(k), add to " + (
            "the grid dx[:, :, u : u + stride * H' : stride, v : v + stride * W' : stride]"
        )
    return "dx counts the windows that hold each pixel: window (i, j) holds pixels (2i + u, 2j + v), u and v < 3"
