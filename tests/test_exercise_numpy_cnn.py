"""Exercises 7 (a CNN from scratch in NumPy) are fair: classic bugs fail a visible check with the hint
that names them, other correct answers pass every check (hidden tests included), a renamed answer is
told which name the check looks for, and a broken Task 3 leaves Tasks 4 and 5 passing.

The cells run in this process, set up in quick mode (2,000 training images).
"""

import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from solution_cells import assert_bug_fails_with_hint, check_task, quick_exercise, run_cells, solution_answer

from course_utils.checks import CheckFailed

SOLUTION = Path(__file__).resolve().parents[1] / "solutions" / "07_numpy_cnn_exercises.ipynb"


@pytest.fixture(scope="module")
def exercise():
    return quick_exercise(SOLUTION, "code-03")


GRID = "slice(u, u + stride * out_h, stride), slice(v, v + stride * out_w, stride)"
STRIDED = "[:, :, ::stride, ::stride]"
STRIDED_IMAGE = "(x[:, :, ::stride, ::stride], (k, k), axis=(2, 3))"
BIAS = ".T + bias  # (N*H'*W', F)\n    return out.reshape(n, out_h, out_w, n_filters).transpose(0, 3, 1, 2)"
STRIDED_OUTPUT = "(height - k) // stride + 1, (width - k) // stride + 1\n    out = im2col(x, k, stride) @"
BUGS = [  # (task, text of the solution's answer, the bug put in its place, the hint that must name it)
    (1, "np.where(x > 0, x, slope * x)", "np.maximum(x, 0)", "that is ReLU: the negative inputs are multiplied"),
    (1, "np.where(x > 0, x, slope * x)", "np.where(x > 0, x, slope)", "multiply it by slope elsewhere"),
    (1, "grad_out * np.where(x > 0, 1.0, slope)", "grad_out * (x > 0)", "that is ReLU's backward pass"),
    (1, "grad_out * np.where(x > 0, 1.0, slope)", "np.where(x > 0, 1.0, slope)", "multiply the derivative by grad_out"),
    (1, "np.where(x > 0, 1.0, slope)", "np.where(x > 0, 1.0, 0.0)", "that is ReLU's backward pass"),
    (1, "return np.where(x > 0, x, slope * x)", "return max(x, slope * x)", "need one True or False, not an array"),
    (1, "return np.where(x > 0, x, slope * x)", "return torch.from_numpy(np.where(x > 0, x, slope * x))", "NumPy"),
    (
        1,
        "np.where(x > 0, x, slope * x)",
        "torch.nn.functional.leaky_relu(torch.from_numpy(x), slope).numpy()",
        "leaky_relu_forward uses NumPy only: it calls PyTorch",
    ),
    (2, "[:, :, ::stride, ::stride]  # (N", "  # (N", "that is every window: keep those that start every"),
    (2, "[:, :, ::stride, ::stride]  # (N", "[:, :, ::k, ::k]  # (N", "you kept every k-th window"),
    (2, "grad_out * (winner == index)", "(winner == index)", "multiply the mask by grad_out"),
    (2, "[:, :, ::stride, ::stride]\n    n, c", "\n    n, c", "the winners of the windows that start every `stride`"),
    (2, "windows.max(axis=(-2, -1))", "windows.max(axis=-1)", "over both window axes"),
    (
        2,
        "return windows.max(axis=(-2, -1))",
        "import torch.nn.functional as F\n    return F.max_pool2d(torch.tensor(x), k, stride).numpy()",
        "maxpool_forward uses NumPy only",
    ),
    (2, "grad[:, :, rows, columns] += grad_out", "grad[:, :, rows, columns] = grad_out", "add (+=), do not assign"),
    (2, GRID, "slice(u, None, stride), slice(v, None, stride)", "u : u + stride * H' : stride"),
    (2, GRID, "slice(u, u + k * out_h, k), slice(v, v + k * out_w, k)", "u : u + stride * H' : stride"),
    (2, "argmax(axis=-1)", "argmin(axis=-1)", "goes to its LARGEST pixel (argmax)"),
    (3, "windows.transpose(0, 2, 3, 1, 4, 5)", "windows", "move the channel axis next to the window axes"),
    (3, "windows.transpose(0, 2, 3, 1, 4, 5)", "windows.transpose(0, 2, 3, 1, 5, 4)", "the right numbers in the wrong"),
    (3, "return windows.transpose(", "return 0 * windows.transpose(", "row r is window r"),
    (3, STRIDED, "[:, :, ::k, ::k]", "you kept every k-th window"),
    (3, "(x, (k, k), axis=(2, 3))" + STRIDED, STRIDED_IMAGE, "you strided the image, not the windows"),
    (3, "weight.reshape(n_filters, -1).T", "weight.reshape(-1, n_filters)", "flatten each one, weight.reshape(F, -1)"),
    (3, "@ weight.reshape(n_filters, -1).T + bias", "@ weight.reshape(n_filters, -1).T", "add the bias"),
    (3, BIAS, BIAS.replace(" + bias", "") + " + bias", "the bias went along the last axis (W'): add it to the product"),
    (3, "(x, k, stride) @", "(x, k) @", "im2col needs the stride too"),
    (3, STRIDED_OUTPUT, "height - k + 1, width - k + 1\n    out = im2col(x, k) @", "that is every window (stride 1)"),
    (3, "[:, :, ::stride, ::stride]  # (N", "  # (N", "that is every window: keep those that start every"),
    (
        3,
        "out.reshape(n, out_h, out_w, n_filters).transpose(0, 3, 1, 2)",
        "out.reshape(n, n_filters, out_h, out_w)",
        "reshape it to (N, H', W', F) first",
    ),
    (
        3,
        "(height - k) // stride + 1, (width - k) // stride + 1",
        "(height - k) // stride, (width - k) // stride",
        "H' = (H - k) // stride + 1",
    ),
    (3, "weight.reshape(n_filters, -1).T", "weight.reshape(n_filters, -1)", "flattened to (F, C*k*k), transposed"),
    (4, "dx[:, :, rows, columns] += grad_cols", "dx[:, :, rows, columns] = grad_cols", "add (+=) to dx, do not assign"),
    (4, GRID, "slice(u, u + out_h), slice(v, v + out_w)", "step the slices of dx by the stride"),
    (4, "grad_out.transpose(0, 2, 3, 1).reshape(", "grad_out.reshape(", "move the filter axis last"),
    (4, "im2col(x, k, stride))", "im2col(x, k))", "im2col(x, k, stride) (N*H'*W', C*k*k)"),
    (4, "g.sum(axis=0)", "g.sum()", "one number per filter: sum g over its rows"),
    (4, "(g.T @ im2col(x, k, stride)).reshape(weight.shape)", "g.T @ im2col(x, k, stride)", "to weight.shape"),
    (
        4,
        "[:, :, :, :, u, v].transpose(0, 3, 1, 2)",
        "[:, :, :, :, u, v].transpose(0, 3, 2, 1)",
        "its channel axis moved",
    ),
    (4, "return dx, dweight, dbias", "return dweight, dx, dbias", "the right arrays in the wrong order: return (dx,"),
    (4, "return dx, dweight, dbias", "return [dx, dweight, dbias]", "expected a tuple of 3 arrays, got a list of 3"),
    (5, "order = generator.permutation(len(y))", "order = np.arange(len(y))", "generator.permutation(len(y))"),
    (
        5,
        "        order = generator.permutation(len(y))\n",
        "        order = np.random.default_rng(seed).permutation(len(y))\n",
        "at the start of every epoch from the one generator",
    ),
    (5, "generator.permutation(len(y))", "np.random.permutation(len(y))", "np.random.default_rng(seed), made once"),
    (5, "range(0, len(y), batch_size)", "range(0, len(y) - batch_size + 1, batch_size)", "the last, smaller batch"),
    (5, "step_lr = lr * (1 - step / total_steps)", "step_lr = lr", "the learning rate must fall"),
    (
        5,
        "step_lr = lr * (1 - step / total_steps)",
        "step_lr = lr * (1 - (step % steps_per_epoch) / steps_per_epoch)",
        "count the steps of all epochs together",
    ),
    (5, "params[name] -= step_lr", "params[name] += step_lr", "move against the gradient"),
    (
        5,
        "params[name] -= step_lr * grads[name]",
        "params = {**params, name: params[name] - step_lr * grads[name]}",
        "change the arrays of the caller's dict in place",
    ),
    (5, "            losses.append(loss)\n", "", "append the loss of every step"),
    (5, "return losses", "return tuple(losses)", "train_sgd returns the list of the losses: got a tuple"),
    (5, "(params, x[batch], y[batch])", "(params, x[batch], y)", "each batch gets the labels of its own images"),
    (5, "step / total_steps", "(step + 1) / total_steps", "count the steps from s = 0"),
    (5, "-(-len(y) // batch_size)", "len(y) // batch_size", "the smaller last batch of each epoch too"),
    (5, "step / total_steps", "_ / epochs", "the learning rate falls at every step, not once per epoch"),
]


NOT_THE_HINT_OF_ANOTHER_MISTAKE = [  # (task, old, new, the message's end, what it must not say) as a newcomer met them
    (
        1,
        "return np.where(x > 0, x, slope * x)",
        "x[x <= 0] *= slope\n    return x",
        "your function changed its input `x` in place: return a new array (np.where(...) or x.copy())",
        "keep x where x > 0",
    ),
    (
        1,
        "return grad_out * np.where(x > 0, 1.0, slope)",
        "grad_out[x <= 0] *= slope\n    return grad_out",
        "your function changed its input `grad_out` in place: return a new array (np.where(...) or grad_out.copy())",
        "dL/dx is grad_out where x > 0",
    ),
    (
        2,
        "grad = np.zeros_like(x)",
        "grad = x\n    grad[...] = 0",
        "your function changed its input `x` in place: return a new array (np.where(...) or x.copy())",
        "it receives all four gradients",
    ),
    (
        4,
        "dx = np.zeros_like(x)",
        "dx = x\n    dx[...] = 0",
        "your function changed its input `x` in place: return a new array (np.where(...) or x.copy())",
        "counts the windows",
    ),
    (
        2,
        "windows.max(axis=(-2, -1))",
        "windows.max(axis=(2, 3))",
        "take the max over the window axes (4, 5), not the positions (2, 3)",
        "H' = (H - k) // stride + 1",
    ),
    (
        3,
        "windows.transpose(0, 2, 3, 1, 4, 5)",
        "windows.transpose(0, 2, 3, 1, 5, 4)",
        "the right numbers in the wrong places: the window axes are swapped: keep (u, v), row then column, "
        "(N, H', W', C, k, k)",
        "channel",
    ),
    (
        4,
        "(g.T @ im2col(x, k, stride)).reshape(weight.shape)",
        "(im2col(x, k, stride).T @ g).reshape(weight.shape)",
        "im2col(x, k, stride).T @ g is (C*k*k, F), dweight's transpose: use g.T @ im2col(x, k, stride)",
        "move the filter axis last",
    ),
    (
        5,
        "for first in range(0, len(y), batch_size):",
        "for first in range(0, (len(y) // batch_size + 1) * batch_size, batch_size):",
        "an empty batch: when batch_size divides the images, there is no smaller last batch; the batches start "
        "at range(0, len(y), batch_size)",
        "the last, smaller batch counts too",
    ),
    (
        4,
        "return dx, dweight, dbias",
        "return dx, dbias, dweight",
        "the right arrays in the wrong order: return (dx, dweight, dbias)",
        "one number per filter",
    ),
    (
        1,
        "return np.where(x > 0, x, slope * x)",
        "return np.where(x > 0, x, slope * x).tolist()",
        "expected a NumPy array, got a list: return the NumPy array itself (no .tolist())",
        "compute with NumPy only",
    ),
    (
        5,
        "params[name] -= step_lr * grads[name]",
        "params = {**params, name: params[name] - step_lr * grads[name]}",
        "the caller's params w and b after train_sgd: expected 'both changed', got 'where they started': change "
        "the arrays of the caller's dict in place: params[name] -= step_lr * grads[name]",
        "the learning rate of each",
    ),
    (
        5,
        "losses.append(loss)",
        "losses.append(np.array([loss]))",
        "train_sgd returns the list of the losses: expected a list of numbers, got a ndarray among them: "
        "append float(loss)",
        "shape",
    ),
    (2, "for index in range(k * k):", "for index in range(stride * stride):", "not range(stride * stride)", "add (+="),
    (
        4,
        "    for u in range(k):\n        for v in range(k):",
        "    for u in range(stride):\n        for v in range(stride):",
        "not range(stride)",
        "add (+=)",
    ),
    (  # the review of issue 29: each of these got the hint of another mistake
        5,
        "loss_and_grads(params, x[batch], y[batch])",
        "loss_and_grads(params, x[batch], y[generator.permutation(len(y))[first : first + batch_size]])",
        "the labels no longer match their images: index x and y with the same indices, x[batch] and y[batch]",
        "move every parameter",
    ),
    (
        3,
        "(height - k) // stride + 1, (width - k) // stride + 1",
        "height - k + 1, width - k + 1",
        "the product has the right N * H' * W' rows: compute H' = (H - k) // stride + 1 and W' with the stride",
        "im2col needs the stride too",
    ),
    (
        2,
        "[:, :, ::stride, ::stride]  # (N",
        "[:, :, ::k, ::k]  # (N",
        "you kept every k-th window: keep those that start every `stride` pixels, [:, :, ::stride, ::stride]",
        "windows fit along the height",
    ),
    (
        2,
        "grad_out * (winner == index)",
        "(winner == index)",
        "each winner got 1, not its window's gradient: multiply the mask by grad_out",
        "pixel (u, v) of window (i, j)",
    ),
    (  # more of a beginner's mistakes, tried for issue 29
        5,
        "(params, x[batch], y[batch])",
        "(params, x[batch], y[first : first + batch_size])",
        "index x and y with the same indices, x[batch] and y[batch]",
        "move every parameter",
    ),
    (
        2,
        "sliding_window_view(x, (k, k), axis=(2, 3))[:, :, ::stride, ::stride]  # (N",
        "sliding_window_view(x[:, :, ::stride, ::stride], (k, k), axis=(2, 3))  # (N",
        "you strided the image, not the windows: take the windows of x first, then keep every `stride`-th",
        "windows fit along the height",
    ),
    (
        5,
        "grads[name]\n            losses.append(loss)\n            step += 1\n",
        "grads[name]\n                step += 1\n            losses.append(loss)\n",
        "add 1 to s once per step, after the loop over the parameters, not once per parameter",
        "move every parameter",
    ),
    (
        5,
        "                params[name] -= step_lr * grads[name]\n",
        "                pass\n            params[name] -= step_lr * grads[name]\n",
        "got 'only b changed': update every parameter: params[name] -= step_lr * grads[name] inside the loop over the "
        "names",
        "move every parameter",
    ),
    (
        3,
        "out.reshape(n, out_h, out_w, n_filters).transpose(0, 3, 1, 2)",
        "out.reshape(n, out_h, out_w, n_filters).transpose(0, 3, 2, 1)",
        "H' and W' are swapped: reshape the product to (N, H', W', F), then transpose(0, 3, 1, 2)",
        "// stride + 1",
    ),
]


EMPTY = "from zeros (np.zeros), not np.empty: it holds whatever was in memory"
LOOP = "    for index in range(k * k):\n        u, v = divmod(index, k)"
NOT_THE_HINT_OF_ANOTHER_MISTAKE += [  # the second review of issue 29, and more mistakes tried after it
    (
        2,
        GRID,
        "slice(u, out_h * stride, stride), slice(v, out_w * stride, stride)",  # lesson 7's end, u : out_h * k : k
        "pixel (2, 2) got nothing: the grid for offset u is u : u + stride * H' : stride (it starts at u)",
        "range(stride)",
    ),
    (
        2,
        LOOP,
        "    for u, v in np.ndindex(stride, stride):\n        index = u * k + v",
        "not range(stride)",
        "got nothing",
    ),
    (2, "divmod(index, k)", "divmod(index, stride)", "with divmod(index, k), not divmod(index, stride)", "range(k)"),
    (
        2,
        "(x, (k, k), axis=(2, 3))[:, :, ::stride, ::stride]\n    n, c, out_h, out_w = windows.shape[:4]\n"
        "    winner = windows",
        "(x, (k, k), axis=(2, 3))\n    n, c, out_h, out_w = grad_out.shape\n    winner = windows[:, :, :out_h, :out_w]",
        "the centre is the largest pixel of all four windows, so it receives all four gradients, the others none",
        "add (+=)",
    ),
    (2, "grad = np.zeros_like(x)", "grad = np.empty_like(x)", "start the gradient " + EMPTY, "range(k)"),
    (
        2,
        "grad = np.zeros_like(x)",
        "grad = np.zeros(x.shape, dtype=int)",
        "the array you add to holds integers: make it float, np.zeros_like(x, dtype=float) or np.zeros(x.shape)",
        "range(k)",
    ),
    (4, "dx = np.zeros_like(x)", "dx = np.empty_like(x)", "start dx " + EMPTY, "counts the windows"),
    (4, "dx = np.zeros_like(x)", "dx = np.empty(x.shape)", "start dx " + EMPTY, "range(stride)"),
    (
        5,
        "params[name] -= step_lr",
        "params[name] += step_lr",
        "the way w and b move (every gradient of the stand-in is 1): expected 'down, against the gradient', got "
        "'up, with the gradient, at every step': move against the gradient: subtract step_lr * grads[name]",
        "learning rate",
    ),
    (5, "            step += 1\n", "", "s going up by 1 at every step", "per epoch"),
]
FORWARD = "windows = sliding_window_view(x, (k, k), axis=(2, 3))[:, :, ::stride, ::stride]  # (N, C, H', W', k, k)\n"
COL2IM_LOOP = "    for u in range(k):\n        for v in range(k):"
NOT_THE_HINT_OF_ANOTHER_MISTAKE += [  # a second newcomer's review of issue 29, and more mistakes tried after it
    (
        3,
        "im2col(x, k, stride) @",
        "im2col(x, stride, k) @",
        "im2col gave 3 columns, not C*k*k = 27: call im2col(x, k, stride)",
        "transposed",
    ),
    (
        4,
        "grad_out.transpose(0, 2, 3, 1)",
        "grad_out.transpose(0, 3, 2, 1)",
        "g's rows must be in im2col's order (n, H', W'): grad_out.transpose(0, 2, 3, 1).reshape(-1, F)",
        "dweight = g.T @ im2col(x, k, stride), reshaped",
    ),
    (
        5,
        "for _ in range(epochs):",
        "for _ in range(1, epochs):",
        "got 1 epoch of batches, not 2: loop over range(epochs)",
        "slices",
    ),
    (
        3,
        "n, _, height, width = x.shape",
        "n, _, width, height = x.shape",
        "H' and W' are swapped: H' comes from H = x.shape[2], W' from W = x.shape[3]; reshape to (N, H', W', F)",
        "transpose(0, 3, 1, 2)",
    ),
    (
        5,
        "order[first : first + batch_size]",
        "order[first : batch_size]",
        "every batch but the first is empty: a batch's slice ends at its start + batch_size, "
        "order[first : first + batch_size]",
        "the last, smaller batch",
    ),
    (
        2,
        FORWARD + "    return windows.max(axis=(-2, -1))",
        "n, c, h, w = x.shape\n    return x.reshape(n, c, h // k, k, w // k, k).max(axis=(3, 5))",
        "a reshape into k x k tiles needs H and W divisible by k, and windows that do not overlap: take the windows "
        "with sliding_window_view(x, (k, k), axis=(2, 3))[:, :, ::stride, ::stride]",
        "H' = (H - k) // stride + 1",
    ),
    (
        4,
        COL2IM_LOOP,
        "    dx = grad_cols.reshape(x.shape)\n    for u in []:\n        for v in []:",
        "grad_cols has C*k*k numbers per window, and windows overlap: add each (u, v) slice to its grid of dx (col2im)",
        "counts the windows",
    ),
    (
        5,
        "        order = generator.permutation(len(y))\n        for first in range(0, len(y), batch_size):\n",
        "        for first in range(0, len(y), batch_size):\n            order = generator.permutation(len(y))\n",
        "more than once': take each epoch's batches from one permutation of range(len(y))",
        "0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11",  # no lists of 100 numbers: the images left out, the first 10
    ),
    (
        4,
        "im2col(x, k, stride))",
        "im2col(x, stride, k))",
        "im2col gave 4 columns, not C*k*k = 9: call im2col(x, k, stride)",
        "g is (N*H'*W', F)",
    ),
    (
        4,
        "dweight = (g.T @ im2col(x, k, stride)).reshape(weight.shape)",
        "dweight = (g.T @ im2col(x, k, stride)).reshape(weight.shape) / n",
        "a mean, not a sum: dweight adds up the gradients of every image and position (do not divide)",
        "dweight = g.T @",
    ),
    (
        4,
        "dbias = g.sum(axis=0)",
        "dbias = g.mean(axis=0)",
        "a mean, not a sum: dbias adds up the gradients of every image and position (do not divide)",
        "dbias[f] adds up",
    ),
    (
        3,
        "(height - k) // stride + 1, (width - k) // stride + 1",
        "(height - k) / stride + 1, (width - k) / stride + 1",
        "a count or an index is a float: divide whole numbers with // (/ gives a float)",
        "reshape it to (N, H', W', F)",
    ),
    (
        5,
        "range(0, len(y), batch_size)",
        "range(len(y))",
        "200 batches of sizes 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, ... (200 in all)': go through each epoch's "
        "order in slices of batch_size; the last, smaller batch counts too: the batches start at range(0, len(y), "
        "batch_size)",
        "32, 31, 30",
    ),
]


@pytest.mark.parametrize("task, old, new, message, wrong", NOT_THE_HINT_OF_ANOTHER_MISTAKE)
def test_a_newcomers_mistake_gets_one_line_with_its_own_hint(exercise, task, old, new, message, wrong):
    """The mistakes a newcomer made, each told in one line (no warning before it) that names it, and not
    with the hint of another mistake."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        said = assert_bug_fails_with_hint(
            exercise, task, old, new, hidden=False, hint=message, not_hint=wrong, recheck=False
        )
    assert said.endswith(message), said
    assert [str(warning.message) for warning in caught] == []


ERRORS_IN_YOUR_LINE = [  # (task, old, new, the line the message names), an error raised inside the answer
    (3, "[:, :, ::stride, ::stride]  # (N", "[:, :, :, :, ::stride, ::stride]  # (N", "return windows.transpose("),
    (2, "grad = np.zeros_like(x)", "grad = np.zeros(x.shape, dtype=int)", "grad[:, :, rows, columns] += grad_out"),
    (5, "step_lr * grads[name]", "step_lr * grads[name + '_grad']", "params[name] -= step_lr * grads[name + '_grad']"),
]


@pytest.mark.parametrize("task, old, new, line", ERRORS_IN_YOUR_LINE)
def test_an_error_in_the_answer_names_the_line_of_the_answer(exercise, task, old, new, line):
    answer = solution_answer(exercise, task)
    assert answer.count(old) == 1, old
    with pytest.raises(CheckFailed, match=re.escape(f"it happened in your line `{line}")):
        check_task(exercise, task, answer.replace(old, new))
    check_task(exercise, task, answer)


def test_numpy_empty_is_restored_and_an_answer_that_writes_every_value_passes(exercise):
    """The checks fill np.empty's arrays with nan while an answer runs, and only then."""
    empty, empty_like = np.empty, np.empty_like
    check_task(exercise, 3, OTHER_CORRECT_ANSWERS[3])  # np.empty, every value written
    assert (np.empty, np.empty_like) == (empty, empty_like)


def test_params_rebound_in_the_caller_s_dict_pass_under_a_label_that_says_what_is_tested(exercise, capsys):
    answer = solution_answer(exercise, 5).replace("params[name] -= step_lr", "params[name] = params[name] - step_lr")
    check_task(exercise, 5, answer)
    printed = capsys.readouterr().out
    assert "the caller's params w and b after train_sgd: passed" in printed and "in place" not in printed


@pytest.mark.parametrize("task, old, new, hint", BUGS, ids=[f"task{b[0]}-{b[3][:24]}" for b in BUGS])
def test_a_classic_bug_fails_a_visible_check_with_its_hint(exercise, task, old, new, hint):
    assert_bug_fails_with_hint(exercise, task, old, new, hidden=False, hint=hint, recheck=False)


OTHER_CORRECT_ANSWERS = {
    1: """def leaky_relu_forward(x, slope):
    return np.maximum(x, slope * x)  # slope is below 1


def leaky_relu_backward(x, grad_out, slope):
    return grad_out * ((x > 0) + slope * (x <= 0))""",
    2: """def maxpool_forward(x, k=2, stride=2):
    n, c, h, w = x.shape
    out_h, out_w = (h - k) // stride + 1, (w - k) // stride + 1
    out = np.full((n, c, out_h, out_w), -np.inf)
    for u in range(k):
        for v in range(k):
            out = np.maximum(out, x[:, :, u : u + stride * out_h : stride, v : v + stride * out_w : stride])
    return out


def maxpool_backward(x, grad_out, k=2, stride=2):
    out = maxpool_forward(x, k, stride)
    out_h, out_w = out.shape[2:]
    grad, taken = np.zeros_like(x), np.zeros(out.shape, dtype=bool)
    for u in range(k):
        for v in range(k):
            rows, columns = slice(u, u + stride * out_h, stride), slice(v, v + stride * out_w, stride)
            grid = (slice(None), slice(None), rows, columns)
            wins = (x[grid] == out) & ~taken
            taken |= wins
            grad[grid] += np.where(wins, grad_out, 0.0)
    return grad""",
    3: """def im2col(x, k, stride=1):
    n, c, h, w = x.shape
    out_h, out_w = (h - k) // stride + 1, (w - k) // stride + 1
    cols = np.empty((n, out_h, out_w, c, k, k))
    for u in range(k):
        for v in range(k):
            grid = x[:, :, u : u + stride * out_h : stride, v : v + stride * out_w : stride]
            cols[..., u, v] = grid.transpose(0, 2, 3, 1)
    return cols.reshape(n * out_h * out_w, -1)


def conv_forward(x, weight, bias, stride=1):
    f, c, k, _ = weight.shape
    out_h, out_w = (x.shape[2] - k) // stride + 1, (x.shape[3] - k) // stride + 1
    product = np.einsum("pq,fq->fp", im2col(x, k, stride), weight.reshape(f, -1))
    return product.reshape(f, len(x), out_h, out_w).transpose(1, 0, 2, 3) + bias[:, None, None]""",
    4: """def conv_backward(x, weight, grad_out, stride=1):
    f, c, k, _ = weight.shape
    n, _, out_h, out_w = grad_out.shape
    g = np.moveaxis(grad_out, 1, -1).reshape(-1, f)
    dweight = (im2col(x, k, stride).T @ g).T.reshape(weight.shape)
    dx = np.zeros_like(x)
    for u in range(k):
        for v in range(k):
            part = np.einsum("nfij,fc->ncij", grad_out, weight[:, :, u, v])
            dx[:, :, u : u + stride * out_h : stride, v : v + stride * out_w : stride] += part
    return dx, dweight, grad_out.sum(axis=(0, 2, 3))""",
    5: """import math


def train_sgd(loss_and_grads, params, x, y, epochs, batch_size, lr, seed=0):
    rng = np.random.default_rng(seed)
    per_epoch = math.ceil(len(y) / batch_size)
    losses = []
    for epoch in range(epochs):
        order = rng.permutation(len(y))
        for b in range(per_epoch):
            batch = order[b * batch_size : (b + 1) * batch_size]
            loss, grads = loss_and_grads(params, x[batch], y[batch])
            rate = lr * (1 - (epoch * per_epoch + b) / (epochs * per_epoch))
            for name, grad in grads.items():
                params[name] -= rate * grad
            losses.append(loss)
    return losses""",
}


@pytest.mark.parametrize("task", sorted(OTHER_CORRECT_ANSWERS))
def test_another_correct_answer_passes_every_check(exercise, task):
    """Runs after the bug tests above, in their namespace: the solution passing every check here also proves
    that no planted bug left anything behind that fails it (they run only its answer again, not its checks)."""
    check_task(exercise, task, OTHER_CORRECT_ANSWERS[task], hidden=True)
    check_task(exercise, task, solution_answer(exercise, task), hidden=True)


def test_a_renamed_answer_is_told_which_name_the_check_looks_for(exercise):
    notebook, namespace = exercise
    renamed = solution_answer(exercise, 4).replace("def conv_backward(", "def conv_grad(")
    namespace.pop("conv_backward", None)
    with pytest.raises(CheckFailed, match=r"^Task 4 \(a strided convolution, backward\): `conv_backward` is not"):
        check_task(exercise, 4, renamed)
    with pytest.raises(CheckFailed, match=re.escape("give it back the name `conv_backward`")):
        run_cells(notebook, "task4-check", namespace=namespace)
    check_task(exercise, 4, solution_answer(exercise, 4))


def test_a_broken_im2col_costs_task_3_only(exercise):
    """Tasks 4 and 5 run with PyTorch's im2col and gradients: a wrong Task 3 leaves them passing."""
    broken = solution_answer(exercise, 3).replace("return windows.transpose(", "return 0 * windows.transpose(")
    with pytest.raises(CheckFailed, match="row r is window r"):
        check_task(exercise, 3, broken)
    for task in (4, 5):
        check_task(exercise, task, solution_answer(exercise, task))
    check_task(exercise, 3, solution_answer(exercise, 3))
