"""Exercises 7's Task 2: probing `maxpool_backward` on tiny images to name the mistake behind a lost gradient.

The check (`numpy_cnn.py`) gives your `maxpool_backward` one 3x3 window (k=3, stride=2) whose largest pixel
is its last, (2, 2). When that pixel gets nothing, `lost_pixel_hint` runs your function once more for each
pixel of the window as the largest, to see where each window position's gradient lands, and on a 5x5 image
whose windows all peak at their last pixel: a loop over range(stride) offsets, a grid that ends too early,
and an index that runs over range(stride * stride) or is split with the stride each leave their own
pattern. `overlap_hint` reads the 5x5 image whose centre wins all four overlapping windows.
"""

import contextlib
import io

import numpy as np

from course_utils.exercise_checks.numpy_cnn_mistakes import RANGE_K, ROUTE, same

LARGEST = "each window's gradient goes to its LARGEST pixel (argmax)"
SLICE_END = "pixel (2, 2) got nothing: the grid for offset u is u : u + stride * H' : stride (it starts at u)"
DIVMOD = "window position index = u * k + v: get (u, v) back with divmod(index, k), not divmod(index, stride)"
INDICES = "loop over all k x k positions of a window, index in range(k * k), not range(stride * stride)"


def landings(where) -> np.ndarray:
    """(3, 3, 1, 1, 3, 3): the gradient of a 3x3 window whose largest pixel is (u, v), for each (u, v), when
    ``where(u, v)`` is the pixel that gets it (nothing where that is outside the window)."""
    out = np.zeros((3, 3, 1, 1, 3, 3))
    for u, v in np.ndindex(3, 3):
        row, column = where(u, v)
        if row < 3 and column < 3:
            out[u, v, 0, 0, row, column] = 1.0
    return out


RANGE_STRIDE = landings(lambda u, v: (u, v) if u < 2 and v < 2 else (3, 3))  # offsets u, v in range(2) only
DIVMOD_STRIDE = landings(lambda u, v: divmod(3 * u + v, 2))  # index u * 3 + v split with the stride, 2
FIRST_INDICES = landings(lambda u, v: (u, v) if 3 * u + v < 4 else (3, 3))  # index in range(2 * 2) only


def quietly(function, *args):
    """``function(*args, k=3, stride=2)`` as a float array, its prints hidden; None when it raised."""
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            return np.asarray(function(*args, k=3, stride=2), dtype=float)
    except Exception:
        return None


def lost_pixel_hint(function) -> str:
    """The hint when pixel (2, 2), the largest of one 3x3 window, got nothing from ``function``."""
    grads = []
    for u, v in np.ndindex(3, 3):
        window = np.zeros((1, 1, 3, 3))
        window[0, 0, u, v] = 1.0
        grads.append(quietly(function, window, np.ones((1, 1, 1, 1))))
    if any(grad is None or grad.shape != (1, 1, 3, 3) for grad in grads):
        return "pixel (2, 2) got nothing: " + ROUTE
    grads = np.stack(grads).reshape(RANGE_STRIDE.shape)
    if same(grads, DIVMOD_STRIDE) or same(grads, FIRST_INDICES):
        return DIVMOD if same(grads, DIVMOD_STRIDE) else INDICES
    if same(grads, RANGE_STRIDE):  # offsets 0 and 1 only: which cause?
        grad = quietly(function, np.arange(25.0).reshape(1, 1, 5, 5), np.ones((1, 1, 2, 2)))  # peaks at (2, 2)
        if grad is None:  # offset 2's grid is shorter than grad_out: it ends too early
            return SLICE_END
        if grad.shape == (1, 1, 5, 5) and not grad.any():  # offset 2 never visited
            return RANGE_K
    return "pixel (2, 2) got nothing: " + ROUTE


def single_window_hint(grad, function) -> str | None:
    """The hint for the gradient of one 3x3 window whose last pixel, (2, 2), is its largest."""
    if grad[0, 0, 2, 2] != 0:
        return None
    if not grad.any():
        return lost_pixel_hint(function)
    return LARGEST if np.count_nonzero(grad) == 1 and grad.sum() == 1 else "pixel (2, 2) got nothing: " + ROUTE


def overlap_hint(grad, image) -> str:
    """The hint for the 5x5 ``image`` whose centre, a 1 among zeros, wins all four windows (k=3, stride=2)."""
    if same(grad, image):  # only the centre differs, and it got 1: one gradient, the others overwritten
        return "a pixel that wins several overlapping windows collects all their gradients: add (+=), do not assign"
    return "the centre is the largest pixel of all four windows, so it receives all four gradients, the others none"
