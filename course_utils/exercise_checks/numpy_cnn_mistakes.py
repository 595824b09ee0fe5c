"""The hints of exercises 7's checks (`numpy_cnn.py`), and the classic mistakes they name.

A hint that names a mistake is given only when the answer gives exactly what that mistake gives (the
right numbers in the wrong places, ReLU's gradient where leaky ReLU's was asked for, the right arrays in
the wrong order...); any other wrong answer is told the rule it breaks (Task 5's hints are in
`numpy_cnn_training.py`). Each ``..._hint`` function returns the hint for the answer it is given;
`check_array`, `on_copies` (your functions get copies of the checks' arrays, and must leave them as they
are) and `check_numpy_only` at the end are the checks that use them.
"""

from itertools import permutations

import numpy as np
import torch
from numpy.lib.stride_tricks import sliding_window_view

from course_utils.checks import fail, shape_hint
from course_utils.exercise_checks.mistakes import explain
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


def uses_torch(function) -> bool:
    """Does ``function``, or a function defined inside it, name ``torch`` or ``F`` (PyTorch's usual names)?"""
    codes, names = [getattr(function, "__code__", None)], set()
    while codes:
        code = codes.pop()
        names |= set(code.co_names) if code else set()
        codes += [const for const in (code.co_consts if code else ()) if hasattr(const, "co_names")]
    return bool(names & {"torch", "F"})


def leaky_relu_hint(out, x, slope) -> str:
    if slope and same(out, np.maximum(x, 0)):
        return "that is ReLU: the negative inputs are multiplied by slope, not set to 0"
    return "keep x where x > 0 and multiply it by slope elsewhere"


def leaky_relu_backward_hint(grad, x, grad_out, slope) -> str:
    if slope and same(grad, grad_out * (x > 0)):
        return "that is ReLU's backward pass: where x <= 0 the output is slope * x, so grad_out passes times slope"
    if same(grad, np.where(x > 0, 1.0, slope)):
        return "multiply the derivative by grad_out (the chain rule): dL/dx = grad_out * d output / dx"
    return "dL/dx is grad_out where x > 0 and slope * grad_out elsewhere (the derivative of slope * x is slope)"


EVERY_WINDOW = "that is every window: keep those that start every `stride` pixels, [:, :, ::stride, ::stride]"
WRONG_PLACES = "the right numbers in the wrong places: "


def pooling_hint(out, expected, x, k, stride) -> str:
    if np.ndim(out) != 4:
        return "the output has 4 axes, (N, C, H', W'): take each window's maximum over both window axes"
    if same(out, sliding_window_view(x, (k, k), axis=(2, 3))[:, :, ::stride, ::stride].max(axis=(2, 3))):
        return "take the max over the window axes (4, 5), not the positions (2, 3)"
    if np.shape(out)[2:] == (x.shape[2] - k + 1, x.shape[3] - k + 1) != expected.shape[2:]:
        return EVERY_WINDOW
    if np.shape(out) != expected.shape:
        return "H' = (H - k) // stride + 1 windows fit along the height H, and W' = (W - k) // stride + 1 along W"
    return "take the maximum of each window over its two window axes"


def overlap_hint(grad) -> str:
    if grad[0, 0, 2, 2] == 1:
        return "a pixel that wins several overlapping windows collects all their gradients: add (+=), do not assign"
    return "the centre is the largest pixel of all four windows, so it receives all four gradients, the others none"


SLICES = (
    "for each offset (u, v), with u and v below k, the grid dx[:, :, u : u + stride * H' : stride, "
    "v : v + stride * W' : stride] has H' rows and W' columns, like grad_out and the winners"
)
ROUTE = (
    "pixel (u, v) of window (i, j) is pixel (stride * i + u, stride * j + v) of x: for each offset (u, v), the "
    "grid dx[:, :, u : u + stride * H' : stride, v : v + stride * W' : stride] gets grad_out where that pixel "
    "is its window's maximum"
)


def im2col_hint(cols, expected, image) -> str:
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


def conv_forward_hint(out, expected, bias) -> str:
    if misplaced(out, expected):
        return WRONG_PLACES + (
            "the product has one row per (image, output row, output column): reshape it to (N, H', W', F) "
            "first, then move the filter axis forward"
        )
    if same(out, expected - bias[:, None, None]):
        return "add the bias: one number per filter, added at every position"
    return "im2col(x, k, stride) @ weight.reshape(F, -1).T + bias, reshaped to (N, H', W', F), then F moved forward"


TRANSPOSED = "multiply by the filters flattened to (F, C*k*k), transposed"
SIZES = "the product has N * H' * W' rows with H' = (H - k) // stride + 1: im2col needs the stride too"
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
    unmoved = {"dbias": g.sum(axis=0), "dweight": (g.T @ cols).reshape(weight.shape)}
    if name in unmoved and same(ours, unmoved[name]):
        return CONV_GRADIENT_HINTS[name][1] + "; " + FILTERS_LAST
    return CONV_GRADIENT_HINTS[name][1]


def in_wrong_order(arrays, right) -> bool:
    """The right arrays, returned in another order."""
    matches = lambda order: all(same(a, b) for a, b in zip(order, right, strict=True))  # noqa: E731
    return not matches(arrays) and any(matches(order) for order in permutations(arrays))


RANGE_K = "loop over all k x k offsets of a window, u and v in range(k), not range(stride)"


def counting_hint(dx) -> str:
    if same(dx, np.pad(window_counts(5, 1), ((0, 2), (0, 2)))):
        return "window (i, j) starts at pixel (stride * i, stride * j): step the slices of dx by the stride"
    if ((dx == 0) & (window_counts(7, 2) > 0)).any():  # pixels a window holds got nothing: offsets left out
        return RANGE_K
    if np.abs(dx).max() == 1:
        return "a pixel in several windows collects the gradients of all of them: add (+=) to dx, do not assign"
    return "dx counts the windows that hold each pixel: window (i, j) holds pixels (2i + u, 2j + v), u and v < 3"


# --- checks that fail with these hints ------------------------------------------------------------


def check_array(value, shape, what: str, hint: str | None = None) -> None:
    """Fail unless ``value`` is a NumPy array of ``shape`` (the ✅ comes with the check of its values)."""
    __tracebackhide__ = True
    value = np.asarray(value) if isinstance(value, np.generic) else value  # a NumPy number: shape ()
    if value is None:
        fail(what, "got None", "did your function forget to `return` its result?")
    if not isinstance(value, np.ndarray):
        hint = "return the NumPy array itself" + (" (no .tolist())" if isinstance(value, list) else "")
        hint = "compute with NumPy only" if isinstance(value, torch.Tensor) else hint
        fail(what, f"expected a NumPy array, got a {type(value).__name__}", hint)
    if value.shape != tuple(shape):
        fail(what, f"expected shape {tuple(shape)}, got {value.shape}", hint or shape_hint(tuple(shape), value.shape))


def on_copies(what: str, function, arrays: dict, *args, **kwargs):
    """``function(*arrays.values(), *args, **kwargs)`` given copies of the arrays, so the checks' own arrays stay
    as they are; fail when it changed one of them (its result may be right, but its caller's array is lost)."""
    __tracebackhide__ = True
    copies = {name: array.copy() for name, array in arrays.items()}
    with explain(what, **(kwargs.pop("hints", None) or {})):
        result = function(*copies.values(), *args, **kwargs)
    for name, array in arrays.items():
        if not np.array_equal(copies[name], array):
            hint = f"return a new array (np.where(...) or {name}.copy())"
            fail(what, f"your function changed its input `{name}` in place", hint)
    return result


def check_numpy_only(nb, *names) -> None:
    """Fail when an answer calls PyTorch (``torch.`` or ``F.``): the task is to write the layer in NumPy."""
    __tracebackhide__ = True
    for name in names:
        if uses_torch(getattr(nb, name)):
            fail(f"{name} uses NumPy only", "it calls PyTorch", "write it with NumPy arrays and functions")
