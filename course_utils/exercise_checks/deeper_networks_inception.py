"""Task 3's checks of exercises 9 (`deeper_networks.py` runs them as ``check(task=3)``): the Inception block.

Its branch5 has two 3x3 convolutions where lesson 9's had one 5x5 (they see the same 5x5 patch:
Task 1). Each branch is checked on its own (its weight shapes, the size of its maps, its maps
against its own weights run as the table says), then the block. The input is 14 x 10, not square,
so that a padding given for one side only shows. When a branch's maps differ, they are compared
with the table run with one ReLU left out: the hint names that ReLU only when that is what they are.
Maps of the wrong size get the hint their size points to: 2 pixels fewer, a padding=1 left out; 2 more,
a padded 1x1 convolution; the size a stride of 3 gives, MaxPool2d's default stride.
"""

import torch
from torch import nn
from torch.nn import functional as F

from course_utils import models, set_seed
from course_utils.checks import check_close, check_equal, check_own_work, check_shape, explain_errors, fail, passed

SIZES = dict(out_1x1=16, reduce_3x3=16, out_3x3=24, reduce_5x5=8, out_5x5=16, out_pool=8)
BRANCHES = {  # attribute: its layers
    "branch1": "1x1 conv",
    "branch3": "1x1 conv, then 3x3 conv",
    "branch5": "1x1 conv, then a 3x3 conv keeping reduce_5x5, then a 3x3 conv",
    "branch_pool": "3x3 max-pooling, then 1x1 conv",
}


def inception_shapes(in_channels, out_1x1, reduce_3x3, out_3x3, reduce_5x5, out_5x5, out_pool) -> dict:
    """{branch: the shapes of its weights and biases, in order}, as Task 3's table describes the branches."""

    def conv(inputs, outputs, k):
        return [(outputs, inputs, k, k), (outputs,)]

    return {
        "branch1": conv(in_channels, out_1x1, 1),
        "branch3": conv(in_channels, reduce_3x3, 1) + conv(reduce_3x3, out_3x3, 3),
        "branch5": conv(in_channels, reduce_5x5, 1) + conv(reduce_5x5, reduce_5x5, 3) + conv(reduce_5x5, out_5x5, 3),
        "branch_pool": conv(in_channels, out_pool, 1),
    }


def convolutions(branch: nn.Module) -> list:
    return [layer for layer in branch.modules() if isinstance(layer, nn.Conv2d)]


def as_the_table_says(name: str, branch: nn.Module, x: torch.Tensor, without_relu: int | None = None) -> torch.Tensor:
    """The branch's own convolutions run as the table says: (branch_pool: max-pooling first), then every
    convolution with the padding that keeps the size, each followed by a ReLU (but convolution
    ``without_relu``'s, to see whether that is the mistake made)."""
    if name == "branch_pool":
        x = F.max_pool2d(x, 3, stride=1, padding=1)
    for i, conv in enumerate(convolutions(branch)):
        x = F.conv2d(x, conv.weight, conv.bias, padding=conv.kernel_size[0] // 2)
        x = x if i == without_relu else F.relu(x)
    return x


def size_hint(name: str, branch: nn.Module, got: tuple, size: tuple) -> str | None:
    """A hint for maps of another height and width than the input's ``size``, when the sizes (and the branch's
    layers) say which mistake it is; None: the message says what differs."""
    (height, width), grew = size, (got[0] - size[0], got[1] - size[1])
    padded_1x1 = [c for c in convolutions(branch) if c.kernel_size == (1, 1) and c.padding not in ((0, 0), "valid")]
    if grew == (2, 2) and padded_1x1:
        return "no padding for the 1x1 convolution (it would grow the maps by 2)"
    if name == "branch_pool":  # what nn.MaxPool2d(3) gives with its default stride of 3, padding 0 or 1
        stride_3 = [((height + 2 * p - 3) // 3 + 1, (width + 2 * p - 3) // 3 + 1) for p in (0, 1)]
        if got == stride_3[1]:
            return "nn.MaxPool2d(3, stride=1, padding=1): its stride is 3 by default"
        if got == stride_3[0]:
            return "nn.MaxPool2d(3, stride=1, padding=1): its stride is 3 by default, and padding=1 keeps the size"
        if grew == (-2, -2):
            return "nn.MaxPool2d(3, stride=1, padding=1): padding=1 is missing (a 3x3 window shrinks the maps by 2)"
    threes = {"branch3": 1, "branch5": 2}.get(name, 0)  # 3x3 convolutions, each shrinking the maps by 2 unpadded
    if grew[0] == grew[1] and grew[0] in range(-2 * threes, 0, 2):
        return "padding=1 for the 3x3 convolution" if threes == 1 else "padding=1 for each 3x3 convolution"
    return None


def missing_relu_hint(name: str, branch: nn.Module, x: torch.Tensor, out: torch.Tensor) -> str | None:
    """The hint for a branch whose maps are exactly the table's with one ReLU left out; else None."""
    n = len(convolutions(branch))
    for i in range(n):
        if torch.allclose(out, as_the_table_says(name, branch, x, without_relu=i), atol=1e-5):
            if i == n - 1:
                return "the last convolution of the branch needs its ReLU too"
            return f"a ReLU after every convolution: the one after convolution {i + 1} of the branch is missing"
    return None


def has_branch(block: nn.Module, name: str) -> nn.Module:
    """The block's ``name``, which must be a layer (an nn.Module) for its parameters to count."""
    __tracebackhide__ = True
    branch, what = getattr(block, name, None), f"Inception has a layer self.{name}"
    if branch is None:
        others = ", ".join(f"self.{other}" for other, _ in block.named_children() if other not in BRANCHES)
        found = f" (the checks found {others})" if others else ""
        fail(what, "there is no attribute of that name", f"name it self.{name}, as the table does{found}")
    if not isinstance(branch, nn.Module):
        fail(what, f"self.{name} is a {type(branch).__name__}", "make it an nn.Sequential(...) of its layers")
    passed(what)
    return branch


def out_channels_hint(got) -> str | None:
    """A hint for the classic wrong sums (SIZES: 64 channels come out); None: the message says what differs."""
    outputs = [SIZES[name] for name in ("out_1x1", "out_3x3", "out_5x5", "out_pool")]
    if got == sum(SIZES.values()):  # 88: the reduce_ widths added too
        return "only the branches' output widths (out_...) reach the output, not the reduce_ widths"
    if got in {sum(outputs) - one for one in outputs}:
        return "add the output widths of all four branches: out_1x1 + out_3x3 + out_5x5 + out_pool"
    return None


def inception_with_two_3x3(nb):
    set_seed(nb.seed)
    block = nb.Inception(32, **SIZES)
    x = torch.randn(8, 32, 14, 10, generator=torch.Generator().manual_seed(nb.seed))  # not square: 14 x 10
    shapes = inception_shapes(32, **SIZES)
    for name, layers in BRANCHES.items():
        branch = has_branch(block, name)
        got = [tuple(p.shape) for p in branch.parameters()]
        five = any(shape[2:] == (5, 5) for shape in got)
        hint = "two 3x3 convolutions take the place of the 5x5: each sees 3x3, the two 5x5" if five else None
        check_equal(got, shapes[name], f"the weight and bias shapes of {name} ({layers})", hint=hint)
        with explain_errors(f"{name}'s forward pass"):
            out = branch(x)
        hint = size_hint(name, branch, tuple(out.shape[2:]), (14, 10)) if len(getattr(out, "shape", ())) == 4 else None
        check_shape(out, (8, shapes[name][-1][0], 14, 10), f"{name} keeps the 14 x 10 size", hint=hint)
        with torch.no_grad():
            expected = as_the_table_says(name, branch, x)
            right = torch.allclose(out, expected, atol=1e-5)
            check_close(
                out,
                expected,
                f"{name}'s maps, compared with its weights run as the table says ({layers}, ReLU after each conv)",
                atol=1e-5,
                hint=None if right else missing_relu_hint(name, branch, x, out),
            )
    what = "out_channels: 16 + 24 + 16 + 8"
    if not hasattr(block, "out_channels"):
        fail(what, "Inception has no attribute out_channels", "set self.out_channels in __init__")
    check_equal(block.out_channels, 64, what, hint=out_channels_hint(block.out_channels))
    with explain_errors("Inception's forward pass", hint="join the four outputs with torch.cat([...], dim=1)"):
        out = block(x)
    check_shape(out, (8, 64, 14, 10), "Inception's output", hint="concatenate along dim=1, the channels")
    with torch.no_grad():
        check_close(
            out,
            torch.cat([as_the_table_says(name, getattr(block, name), x) for name in BRANCHES], dim=1),
            "the stacked maps, compared with branch1, branch3, branch5 and branch_pool stacked in that order",
            atol=1e-5,
        )
    check_own_work(block, models.InceptionBlock, "Inception is your own")
