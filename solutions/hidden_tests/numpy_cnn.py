"""Hidden tests of exercises 7: what `course grade` runs after each task's visible checks.

The same requirements as the visible checks, on other inputs: other shapes, slopes, kernel sizes and
strides (a stride larger than the kernel, which leaves pixels that no window reaches), other seeds. The
answers get copies of the inputs, and what they should give is computed first, as in the visible checks.
Task 4's two hidden tests give partial credit (``points=``): one point each for the weight and bias
gradients and for the input gradient, on top of the task's own two (its check cell's ``course.points``).
"""

import numpy as np
import torch
import torch.nn.functional as F

from course_utils.checks import check_close, check_equal
from course_utils.exercise_checks import Tasks
from course_utils.exercise_checks.numpy_cnn_calls import on_copies
from course_utils.exercise_checks.numpy_cnn_references import course_im2col, learning_rates, train_stand_in

hidden = Tasks("numpy_cnn")


@hidden(1, "leaky ReLU", answers=["leaky_relu_forward", "leaky_relu_backward"])
def small_examples(nb):
    x, what = np.array([[-0.5, 0.5, -2.0]]), "a 2-D input with slope 0.2"
    check_close(on_copies(what, nb.leaky_relu_forward, {"x": x}, 0.2), [[-0.1, 0.5, -0.4]], what)
    arrays, what = {"x": np.array([-1.0, 2.0, -3.0]), "grad_out": np.array([5.0, 7.0, 9.0])}, "a 1-D input, slope 0.2"
    check_close(on_copies(what, nb.leaky_relu_backward, arrays, 0.2), [1.0, 7.0, 1.8], what)


def autograd(forward, *arrays, grad_out):
    """PyTorch's gradients of sum(forward(*arrays) * grad_out) with respect to each array."""
    tensors = [torch.tensor(array, requires_grad=True) for array in arrays]
    (forward(*tensors) * torch.from_numpy(grad_out)).sum().backward()
    return [tensor.grad.numpy() for tensor in tensors]


@hidden(2, "max-pooling with overlapping windows", answers=["maxpool_forward", "maxpool_backward"])
def other_windows(nb):
    rng = np.random.default_rng(nb.seed + 20)
    x = rng.standard_normal((1, 2, 7, 10))
    for k, stride in [(2, 3), (3, 1), (4, 2)]:  # gaps between the windows, much overlap, a larger window
        expected = F.max_pool2d(torch.from_numpy(x), k, stride).numpy()
        what = f"maxpool_forward, k={k}, stride={stride}"
        check_close(on_copies(what, nb.maxpool_forward, {"x": x}, k=k, stride=stride), expected, what)
        grad_out = rng.standard_normal(expected.shape)
        (grad,) = autograd(lambda t, k=k, s=stride: F.max_pool2d(t, k, s), x, grad_out=grad_out)
        what, arrays = f"maxpool_backward, k={k}, stride={stride}", {"x": x, "grad_out": grad_out}
        check_close(on_copies(what, nb.maxpool_backward, arrays, k=k, stride=stride), grad, what)


@hidden(3, "a strided convolution, forward", answers=["im2col", "conv_forward"])
def other_convolutions(nb):
    rng = np.random.default_rng(nb.seed + 30)
    one, what = rng.standard_normal((1, 1, 5, 5)), "a kernel as large as the image"
    arrays = {"x": one, "weight": np.ones((1, 1, 5, 5)), "bias": np.zeros(1)}
    check_close(on_copies(what, nb.conv_forward, arrays, stride=2), one.sum().reshape(1, 1, 1, 1), what)
    wide, w1 = rng.standard_normal((3, 2, 7, 9)), rng.standard_normal((5, 2, 1, 1))
    expected, what = F.conv2d(torch.from_numpy(wide), torch.from_numpy(w1), stride=3).numpy(), "a 1x1 convolution"
    arrays = {"x": wide, "weight": w1, "bias": np.zeros(5)}
    check_close(on_copies(what, nb.conv_forward, arrays, stride=3), expected, what + " with stride 3")
    expected, what = course_im2col(wide, 2, stride=3), "im2col, 2x2 windows, stride 3"
    check_close(on_copies(what, nb.im2col, {"x": wide}, 2, stride=3), expected, what)


def other_gradients(nb) -> list[tuple]:
    """(stride, the student's (dx, dweight, dbias), autograd's) of conv_backward on two other shapes, one
    with a stride larger than the kernel."""
    rng, found = np.random.default_rng(nb.seed + 40), []
    for shape, kernel, stride in [((1, 2, 5, 5), (3, 2, 2, 2), 1), ((2, 2, 8, 7), (3, 2, 2, 2), 3)]:
        x, weight = rng.standard_normal(shape), rng.standard_normal(kernel)
        grad_out = rng.standard_normal(F.conv2d(torch.from_numpy(x), torch.from_numpy(weight), stride=stride).shape)
        dx, dweight = autograd(lambda t, w, s=stride: F.conv2d(t, w, stride=s), x, weight, grad_out=grad_out)
        with nb.lend(im2col=course_im2col):
            arrays = {"x": x, "weight": weight, "grad_out": grad_out}
            got = on_copies(f"conv_backward with stride {stride}", nb.conv_backward, arrays, stride)
        found.append((stride, got, (dx, dweight, grad_out.sum(axis=(0, 2, 3)))))
    return found


# Partial credit: the weight and bias gradients are the fully connected layer's, the input gradient
# needs the scatter back through the windows (col2im), the hard part; each is worth a point of its own.
@hidden(4, "a strided convolution, backward", answers=["conv_backward"], points=1)
def weight_and_bias_gradients_of_other_shapes(nb):
    for stride, (_, dweight, dbias), (_, expected_dweight, expected_dbias) in other_gradients(nb):
        check_close(dweight, expected_dweight, f"dL/dweight of a 2x2 kernel with stride {stride} matches autograd")
        check_close(dbias, expected_dbias, f"dL/dbias with stride {stride}")


@hidden(4, "a strided convolution, backward", answers=["conv_backward"], points=1)
def input_gradient_of_other_shapes(nb):
    for stride, (dx, _, _), (expected_dx, _, _) in other_gradients(nb):
        check_close(dx, expected_dx, f"dL/dx of a 2x2 kernel with stride {stride} matches autograd")


@hidden(5, "training with SGD", answers=["train_sgd"])
def other_batches(nb):
    losses, batches, steps, labels = train_stand_in(nb.train_sgd, 12, 1, 4, lr=1.0, seed=nb.seed + 1)
    check_equal([len(batch) for batch in batches], [4, 4, 4], "batch sizes when batch_size divides the images")
    check_close(steps, np.stack([learning_rates(1.0, 3)] * 2, axis=1), "one epoch of 3 steps with lr=1")
    losses, batches, steps, labels = train_stand_in(nb.train_sgd, 10, 3, 4, lr=0.3, seed=nb.seed + 2)
    check_equal([len(batch) for batch in batches], [4, 4, 2] * 3, "batch sizes, 3 epochs of 10 images")
    check_close(steps, np.stack([learning_rates(0.3, 9)] * 2, axis=1), "3 epochs of 3 steps with lr=0.3")
    check_close(losses, np.arange(1.0, 10.0), "the loss of every step")
    check_equal(labels, batches, "the labels of each batch are those of its images")
