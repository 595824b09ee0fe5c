"""Hidden tests of exercises 4: what `course grade` runs after each task's visible checks.

The same requirements as the visible checks, on other inputs (another batch size, another model).
"""

import torch
from torch import nn

from course_utils import ConvNet, set_seed
from course_utils.checks import check_close, check_equal, check_shape
from course_utils.exercise_checks import Tasks
from course_utils.exercise_checks.two_conv_net import ModeDependent

hidden = Tasks("two_conv_net")


@hidden(1, "a variant with 3x3 kernels", answers=["SmallKernelNet"])
def another_batch_size(nb):
    output = nb.SmallKernelNet()(torch.zeros(3, 1, 28, 28))
    check_shape(output, (3, 10), "output for a batch of 3", hint="do not hard-code the batch size")


@hidden(2, "one training step", answers=["train_step"])
def another_model(nb):
    xb, yb = nb.data.train_x[64:96], nb.data.train_y[64:96]
    set_seed(nb.seed + 1)
    fresh = ConvNet()
    expected = nn.functional.cross_entropy(fresh(xb), yb).item()
    loss = nb.train_step(fresh, torch.optim.SGD(fresh.parameters(), lr=0.1), xb, yb)
    check_close(loss, expected, "the loss train_step returns, on another batch", rtol=1e-5, hint="return loss.item()")
    linear_net = nn.Sequential(nn.Flatten(), nn.Linear(784, 10)).eval()
    nb.train_step(linear_net, torch.optim.SGD(linear_net.parameters(), lr=0.1), xb, yb)
    check_equal(linear_net.training, True, "train_step puts the model in training mode", hint="call model.train()")


class AlwaysThree(nn.Module):
    def forward(self, x):
        return torch.eye(10)[3].expand(len(x), 10)


@hidden(3, "accuracy", answers=["accuracy"])
def other_models(nb):
    x, y = nb.data.val_x[:1000], nb.data.val_y[:1000]
    expected = (y == 3).float().mean().item()
    check_close(nb.accuracy(AlwaysThree(), x, y, batch_size=7), expected, "accuracy of a model that always says 3")
    inside = nn.Sequential(nn.Identity(), ModeDependent())
    acc = nb.accuracy(inside, nn.functional.one_hot(y, 10).float(), y, batch_size=7)
    check_close(acc, 1.0, "a deeper model in evaluation mode", hint="call model.eval() before measuring")
    check_equal(inside[1].training, True, "the model is back in training mode", hint="call model.train() at the end")
