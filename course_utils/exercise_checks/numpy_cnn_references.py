"""What the checks of exercises 7 (`numpy_cnn.py`) compare with.

PyTorch's im2col and the window counts of a strided convolution, the im2col matrix built the slow way,
and the stand-ins that let Task 5's check watch `train_sgd` at work. Nothing here fails a check: it
computes what the answers should give (the hints, and the mistakes they name, are in
`numpy_cnn_mistakes.py`).
"""

import numpy as np
import torch
import torch.nn.functional as F


def as_tensor(array: np.ndarray) -> torch.Tensor:
    """A tensor that shares the array's memory, so that numerical_gradient's nudges of the array reach PyTorch."""
    return torch.from_numpy(array)


def windows_one_by_one(x: np.ndarray, k: int, stride: int) -> np.ndarray:
    """The im2col matrix the slow way, a Python loop over the windows: what im2col must give, row for row."""
    n, _, height, width = x.shape
    starts = [(i, j) for i in range(0, height - k + 1, stride) for j in range(0, width - k + 1, stride)]
    return np.array([x[image, :, i : i + k, j : j + k].ravel() for image in range(n) for i, j in starts])


def course_im2col(x: np.ndarray, k: int, stride: int = 1) -> np.ndarray:
    """PyTorch's im2col (`F.unfold`): Task 4's check runs conv_backward with it, so that only Task 4 counts."""
    return F.unfold(as_tensor(x), k, stride=stride).transpose(1, 2).reshape(-1, x.shape[1] * k * k).numpy()


def conv_gradients(x: np.ndarray, weight: np.ndarray, grad_out: np.ndarray, stride: int) -> list:
    """(dx, dweight, dbias) of a convolution, by PyTorch's autograd: to recognise them in another order."""
    tensors = [torch.tensor(array, requires_grad=True) for array in (x, weight, np.zeros(len(weight)))]
    (F.conv2d(*tensors, stride=stride) * torch.from_numpy(grad_out)).sum().backward()
    return [tensor.grad.numpy() for tensor in tensors]


def maxpool_wins(x: np.ndarray, k: int, stride: int) -> np.ndarray:
    """How many windows each pixel of x is the largest of: the gradient of max-pooling for a grad_out of ones."""
    tensor = torch.tensor(x, requires_grad=True)
    F.max_pool2d(tensor, k, stride).sum().backward()
    return tensor.grad.numpy()


def window_counts(size: int, stride: int) -> np.ndarray:
    """How many 3x3 windows (starting every ``stride`` pixels) hold each pixel of a size x size image:
    dL/dx of a convolution with a filter of ones, given a grad_out of ones (lesson 7's counting cell)."""
    out = (size - 3) // stride + 1
    counts = F.conv_transpose2d(torch.ones(1, 1, out, out), torch.ones(1, 1, 3, 3), stride=stride)[0, 0].numpy()
    return np.pad(counts, ((0, size - len(counts)), (0, size - len(counts))))  # pixels no window reaches: 0


class StandIn:
    """A stand-in for the network, for ``train_sgd(stand_in, params, x, y, ...)``: the images, and their
    labels, are the images' numbers (0, 1, 2, ...), every gradient is 1 and the loss is the number of the
    step (1, 2, 3, ...). It writes down each batch's images and labels, and its two parameters' first numbers,
    ``params["w"][0]`` and ``params["b"][0]``, before each step."""

    def __init__(self):
        self.batches, self.labels, self.weights = [], [], []

    def __call__(self, params, xb, yb):
        self.batches.append(xb[:, 0].astype(int).tolist())
        self.labels.append(np.atleast_1d(yb).tolist())
        self.weights.append([float(params[name][0]) for name in ("w", "b")])
        return float(len(self.batches)), {"w": np.ones(3), "b": np.ones(2)}


def train_stand_in(train_sgd, n_images: int, epochs: int, batch_size: int, lr: float, seed: int):
    """Run ``train_sgd`` on the stand-in: (the losses it returned, the batches, the size of each step of w and
    of b (one row per step), the labels of each batch). Every gradient is 1, so each parameter falls by
    exactly the step's learning rate."""
    stand_in, params = StandIn(), {"w": np.zeros(3), "b": np.zeros(2)}
    images, labels = np.arange(float(n_images))[:, None], np.arange(n_images)
    losses = train_sgd(stand_in, params, images, labels, epochs, batch_size, lr, seed)
    weights = stand_in.weights + [[float(params[name][0]) for name in ("w", "b")]]  # the caller's, at the end
    return losses, stand_in.batches, -np.diff(weights, axis=0), stand_in.labels


def learning_rates(lr: float, steps: int) -> np.ndarray:
    """The learning rate of each step when it falls linearly from ``lr`` to 0: lr * (1 - s / S)."""
    return lr * (1 - np.arange(steps) / steps)


def lesson4_loss_and_grads(network: torch.nn.Module):
    """A ``loss_and_grads(params, xb, yb)`` for train_sgd: the loss of lesson 4's ``network`` with the
    weights ``params`` (NumPy arrays named as in its state_dict), and its gradients by PyTorch's autograd."""

    def loss_and_grads(params, xb, yb):
        tensors = {name: torch.tensor(value, requires_grad=True) for name, value in params.items()}
        logits = torch.func.functional_call(network, tensors, (torch.from_numpy(xb),))
        loss = F.cross_entropy(logits, torch.from_numpy(yb))
        loss.backward()
        return loss.item(), {name: tensor.grad.numpy() for name, tensor in tensors.items()}

    return loss_and_grads
