"""The checks of exercises 7 (a CNN from scratch in NumPy): ``check(task=N)``.

Each forward pass is compared with PyTorch's (`F.leaky_relu`, `F.max_pool2d`, `F.conv2d`), and each
backward pass with central differences of PyTorch's forward pass (`numerical_gradient`, as in lesson 7),
on small float64 inputs. Heights and widths differ, so swapped axes change a shape, and the inputs have
rows or columns that no window reaches, so a wrong stride shows. Task 4 runs with PyTorch's im2col and
Task 5 trains with PyTorch's gradients, so a mistake in one task costs only that task. What a check
expects is computed before your function runs, and your function gets copies of the inputs: one that
changes its input in place is told so. What the checks compare with is in `numpy_cnn_references.py`;
the hints and the mistakes they name, in `numpy_cnn_mistakes.py` (and `numpy_cnn_probes.py`, which
tries your maxpool_backward on tiny images when a window's largest pixel gets nothing); the checks of
the kind of value your functions return, shared by several tasks, in `numpy_cnn_calls.py`; Task 5's
checks, in `numpy_cnn_training.py`.
"""

import numpy as np
import torch.nn.functional as F

from course_utils.checks import check_close, fail
from course_utils.exercise_checks import Tasks
from course_utils.exercise_checks.numpy_cnn_calls import check_array, check_numpy_only, on_copies, watched
from course_utils.exercise_checks.numpy_cnn_mistakes import (
    COL2IM,
    CONV_GRADIENT_HINTS,
    FACTORS,
    GRID,
    PRODUCT,
    RESHAPE,
    SIZES,
    SLICES,
    START_FROM_ZEROS,
    TILES,
    TRANSPOSED,
    conv_forward_hint,
    conv_gradient_hint,
    conv_shape_hint,
    counting_hint,
    im2col_hint,
    in_wrong_order,
    leaky_relu_backward_hint,
    leaky_relu_hint,
    pooling_hint,
    route_hint,
)
from course_utils.exercise_checks.numpy_cnn_probes import overlap_hint, single_window_hint
from course_utils.exercise_checks.numpy_cnn_references import (
    as_tensor,
    conv_gradients,
    course_im2col,
    maxpool_wins,
    window_counts,
    windows_one_by_one,
)
from course_utils.exercise_checks.numpy_cnn_training import training_with_sgd
from course_utils.gradcheck import numerical_gradient

tasks = Tasks("numpy_cnn")
check = tasks.check


@tasks(1, "leaky ReLU", answers=["leaky_relu_forward", "leaky_relu_backward"])
def leaky_relu(nb):
    check_numpy_only(nb, "leaky_relu_forward", "leaky_relu_backward")
    rng = np.random.default_rng(nb.seed + 1)
    x, upstream = rng.standard_normal((2, 3, 4, 5)), rng.standard_normal((2, 3, 4, 5))
    for slope in (0.1, 0.0):  # 0.1 shows the leak; slope 0 is lesson 7's ReLU, which the network at the end uses
        forward = lambda _, slope=slope: F.leaky_relu(as_tensor(x), slope).numpy()  # noqa: E731
        expected, numerical = forward(x), numerical_gradient(forward, x, upstream)  # before your functions run
        call = f"leaky_relu_forward(x, {slope})"
        out = on_copies(call, nb.leaky_relu_forward, {"x": x}, slope)
        check_array(out, x.shape, call, "leaky ReLU works elementwise: return an array shaped like x")
        check_close(out, expected, f"{call} matches F.leaky_relu", hint=leaky_relu_hint(out, x, slope))
        call = f"leaky_relu_backward(x, grad_out, {slope})"
        grad = on_copies(call, nb.leaky_relu_backward, {"x": x, "grad_out": upstream}, slope)
        check_array(grad, x.shape, call, "dL/dx has the shape of x")
        hint = leaky_relu_backward_hint(grad, x, upstream, slope)
        check_close(grad, numerical, f"{call} matches central differences", hint=hint)


POOLINGS = [(2, 2), (3, 2), (2, 1)]  # (k, stride): lesson 4's 2x2 windows, AlexNet's overlapping 3x3, stride 1


@tasks(2, "max-pooling with overlapping windows", answers=["maxpool_forward", "maxpool_backward"])
def max_pooling(nb):
    check_numpy_only(nb, "maxpool_forward", "maxpool_backward")
    rng = np.random.default_rng(nb.seed + 2)
    x = rng.standard_normal((2, 3, 8, 9))  # with stride 2, a last row or column that no window reaches
    for k, stride in POOLINGS:
        call = f"maxpool_forward(x, k={k}, stride={stride}) for x of shape {x.shape}"
        expected = F.max_pool2d(as_tensor(x), k, stride).numpy()
        tiles = "into shape ({},{},{},{},".format(*x.shape[:2], x.shape[2] // k, k)  # lesson 4's reshape into tiles
        out = on_copies(call, nb.maxpool_forward, {"x": x}, k=k, stride=stride, hints={tiles: TILES})
        hint = pooling_hint(out, expected, x, k, stride)
        check_array(out, expected.shape, call, hint)
        check_close(out, expected, f"{call} matches F.max_pool2d", hint=hint)

    # One 3x3 window whose largest pixel is its last: a loop over range(stride) offsets never reaches it.
    probe, call = (
        np.zeros((1, 1, 3, 3)),
        "maxpool_backward of one 3x3 window (k=3, stride=2) whose last pixel is largest",
    )
    probe[0, 0, 2, 2] = 1.0
    arrays = {"x": probe, "grad_out": np.ones((1, 1, 1, 1))}
    grad = on_copies(call, nb.maxpool_backward, arrays, k=3, stride=2, empty=START_FROM_ZEROS.format("the gradient"))
    check_array(grad, probe.shape, call, "dL/dx has the shape of the image")
    check_close(grad, probe, call, hint=single_window_hint(grad, nb.maxpool_backward))  # which pixels it reaches
    # Overlapping windows: the centre of a 5x5 image of zeros, with a 1 there, is in all four 3x3 windows of stride 2.
    image, expected = np.zeros((1, 1, 5, 5)), np.zeros((1, 1, 5, 5))
    image[0, 0, 2, 2], expected[0, 0, 2, 2] = 1.0, 4.0
    call = "maxpool_backward(image, grad_out of ones, k=3, stride=2) for a 5x5 image whose centre is its largest pixel"
    arrays = {"x": image, "grad_out": np.ones((1, 1, 2, 2))}
    grad = on_copies(call, nb.maxpool_backward, arrays, k=3, stride=2, hints={"broadcast": SLICES})
    check_array(grad, image.shape, call, "dL/dx has the shape of the image")
    hint = overlap_hint(grad, image)
    check_close(grad, expected, "the centre, the largest pixel of four overlapping windows, gets 4", hint=hint)

    for k, stride in POOLINGS:
        upstream = rng.standard_normal(F.max_pool2d(as_tensor(x), k, stride).shape)
        call = f"maxpool_backward(x, grad_out, k={k}, stride={stride})"
        numerical = numerical_gradient(lambda _, k=k, s=stride: F.max_pool2d(as_tensor(x), k, s).numpy(), x, upstream)
        grad = on_copies(
            call, nb.maxpool_backward, {"x": x, "grad_out": upstream}, k=k, stride=stride, hints={"broadcast": SLICES}
        )
        check_array(grad, x.shape, call, "dL/dx has the shape of x")
        hint = route_hint(grad, maxpool_wins(x, k, stride))
        check_close(grad, numerical, f"{call} matches central differences", hint=hint)


@tasks(3, "a strided convolution, forward", answers=["im2col", "conv_forward"])
def convolution_forward(nb):
    check_numpy_only(nb, "im2col", "conv_forward")
    rng = np.random.default_rng(nb.seed + 3)
    x = rng.standard_normal((2, 3, 7, 6))
    examples = [  # (image, stride, what): lesson 7's worked example, the same with stride 2, 2 images of 3 channels
        (np.arange(16.0).reshape(1, 1, 4, 4), 1, "lesson 7's 4x4 image holding 0 to 15"),
        (np.arange(25.0).reshape(1, 1, 5, 5), 2, "a 5x5 image holding 0 to 24"),
        (x, 1, f"x of shape {x.shape}"),
        (x, 2, f"x of shape {x.shape}"),
    ]
    for image, stride, what in examples:
        call = f"im2col(x, 3) of {what}" if stride == 1 else f"im2col(x, 3, stride={stride}) of {what}"
        expected = windows_one_by_one(image, 3, stride)
        cols = on_copies(call, nb.im2col, {"x": image}, 3, **({"stride": stride} if stride > 1 else {}))
        hint = im2col_hint(cols, expected, image, stride)
        check_array(cols, expected.shape, call, hint)
        check_close(cols, expected, call, hint=hint)

    weight, bias = rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    for stride in (1, 2):
        call = "conv_forward(x, weight, bias)" + (f" with stride={stride}" if stride > 1 else "")
        expected = F.conv2d(as_tensor(x), as_tensor(weight), as_tensor(bias), stride=stride).numpy()
        every = F.conv2d(as_tensor(x), as_tensor(weight), as_tensor(bias)).numpy()  # stride 1
        strided, size = {"stride": stride} if stride > 1 else {}, "cannot reshape array of size {} into"
        hints = {size.format(every.size): SIZES, size.format(expected.size): RESHAPE}  # stride 1: RESHAPE
        im2col = watched(nb.im2col)  # a product's mismatch: im2col's columns, or the filters', are wrong
        hints |= {"reshape": PRODUCT, "mismatch": im2col.columns_hint(weight[0].size, TRANSPOSED)}
        with nb.lend(im2col=im2col):
            out = on_copies(call, nb.conv_forward, {"x": x, "weight": weight, "bias": bias}, **strided, hints=hints)
        check_array(out, expected.shape, call, conv_shape_hint(out, expected, every))
        hint = conv_forward_hint(out, expected, x, weight, bias, stride)
        check_close(out, expected, f"{call} matches F.conv2d", hint=hint)


def call_conv_backward(nb, x, weight, grad_out, stride, what):
    """Your conv_backward, with PyTorch's im2col standing in for Task 3's; it must return (dx, dweight, dbias)."""
    expected, arrays = conv_gradients(x, weight, grad_out, stride), {"x": x, "weight": weight, "grad_out": grad_out}
    with nb.lend(im2col=(im2col := watched(course_im2col))):
        strided, into = (stride,) if stride > 1 else (), "into shape ({})".format(",".join(map(str, x.shape)))
        hints = {"mismatch": im2col.columns_hint(weight[0].size, FACTORS), "broadcast": GRID, into: COL2IM}
        result = on_copies(what, nb.conv_backward, arrays, *strided, hints=hints, empty=START_FROM_ZEROS.format("dx"))
    if not (isinstance(result, tuple) and len(result) == 3):  # the task asks for a tuple
        got = type(result).__name__ + (f" of {len(result)}" if isinstance(result, tuple | list) else "")
        fail(what, f"expected a tuple of 3 arrays, got a {got}", "return dx, dweight, dbias")
    if in_wrong_order(result, expected):
        fail(what, "the right arrays in the wrong order", "return (dx, dweight, dbias)")
    return result


@tasks(4, "a strided convolution, backward", answers=["conv_backward"])
def convolution_backward(nb):
    check_numpy_only(nb, "conv_backward")
    # Lesson 7's counting cell, with stride 2: a 3x3 filter of ones and a grad_out of ones make dx
    # count the windows that hold each pixel (windows of stride 2 overlap by one row and one column).
    what = "conv_backward with stride=2, a 3x3 filter and grad_out of ones, on a 7x7 image"
    ones = np.ones((1, 1, 3, 3))
    dx = call_conv_backward(nb, np.zeros((1, 1, 7, 7)), ones, ones, 2, what)[0]
    check_array(dx, (1, 1, 7, 7), what + ": dx", CONV_GRADIENT_HINTS["dx"][0])
    hint = counting_hint(dx[0, 0])
    check_close(dx[0, 0], window_counts(7, 2), f"{what}: dx counts the windows that hold each pixel", hint=hint)

    rng = np.random.default_rng(nb.seed + 4)
    x, weight, bias = rng.standard_normal((2, 3, 7, 6)), rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    for stride in (1, 2):
        upstream = rng.standard_normal(F.conv2d(as_tensor(x), as_tensor(weight), stride=stride).shape)
        what = "conv_backward(x, weight, grad_out)" + (f" with stride={stride}" if stride > 1 else "")
        dx, dweight, dbias = call_conv_backward(nb, x, weight, upstream, stride, what)

        def forward(_, stride=stride):  # PyTorch's forward pass, reading the arrays numerical_gradient nudges
            return F.conv2d(as_tensor(x), as_tensor(weight), as_tensor(bias), stride=stride).numpy()

        for name, ours, array in [("dbias", dbias, bias), ("dweight", dweight, weight), ("dx", dx, x)]:
            check_array(ours, array.shape, f"{what}: {name}", CONV_GRADIENT_HINTS[name][0])
            numerical = numerical_gradient(forward, array, upstream)
            hint = conv_gradient_hint(name, ours, x, weight, upstream, stride)
            check_close(ours, numerical, f"{what}: {name} matches central differences", hint=hint)


tasks(5, "training with SGD", answers=["train_sgd"])(training_with_sgd)  # in numpy_cnn_training.py
