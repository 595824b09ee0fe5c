"""Tasks 2 and 3's checks of exercises 9 (`deeper_networks.py` runs them as ``check(task=N)``): the two blocks.

- Task 2, the VGG block with spatial dropout: its layers in order, its parameter shapes layer by
  layer (compared with the course's `models.vgg_block`), its maps given the same weights, and what
  its `nn.Dropout2d` does in training mode: zero whole maps and double the others (p = 0.5).
- Task 3, the Inception block whose branch5 has two 3x3 convolutions where lesson 9's had one 5x5
  (they see the same 5x5 patch: Task 1). Each branch is checked on its own (its weight shapes, the
  size of its maps, its maps against its own weights run as the table says), then the block. The
  input is 14 x 10, not square, so that a padding given for one side only shows.
"""

import torch
from torch import nn
from torch.nn import functional as F

from course_utils import models, set_seed
from course_utils.checks import check_close, check_equal, check_own_work, check_shape, explain_errors


def block_layers(convs_per_block: int, batchnorm: bool, dropout: float) -> list:
    """The layer types Task 2's text asks for, in order."""
    per_conv = ["Conv2d", "BatchNorm2d", "ReLU"] if batchnorm else ["Conv2d", "ReLU"]
    return per_conv * convs_per_block + ["MaxPool2d"] + ["Dropout2d"] * (dropout > 0)


def layers_hint(got: list, expected: list) -> str | None:
    """A hint for the mistake that turns ``expected`` into ``got``; None: the message says what differs."""
    if "Dropout" in got:
        return "use nn.Dropout2d(dropout), which zeroes whole maps; nn.Dropout zeroes single numbers"
    if got.count("MaxPool2d") != 1:
        return "one nn.MaxPool2d(2) for the whole block, after the last ReLU (not one per convolution)"
    if sorted(got) == sorted(expected):
        return "the right layers in another order: per convolution Conv2d, BatchNorm2d, ReLU; then MaxPool2d, Dropout2d"
    if got.count("Dropout2d") != expected.count("Dropout2d"):
        return "add nn.Dropout2d(dropout) after the pooling when dropout is above 0, and only then"
    return None


def shapes_hint(layer: str, got: list, expected: list) -> str | None:
    """A hint for a layer whose parameter shapes differ from the course's; None: the message says what differs."""
    if layer == "BatchNorm2d":
        return "nn.BatchNorm2d(out_channels): it normalizes the channels of the convolution before it"
    if got[0][2:] != expected[0][2:]:
        return "3x3 kernels: nn.Conv2d(..., 3, padding=1)"
    if got[0][1] != expected[0][1]:
        return "the first convolution takes in_channels, the others out_channels"
    return None


def first_difference(block, reference) -> tuple:
    """(index, shapes, the reference's shapes) of the first layer whose parameter shapes differ; (None, [], [])."""
    for i, (ours, theirs) in enumerate(zip(block, reference, strict=False)):
        shapes = [tuple(p.shape) for p in ours.parameters()], [tuple(p.shape) for p in theirs.parameters()]
        if shapes[0] != shapes[1]:
            return i, *shapes
    return None, [], []


def vgg_block_with_dropout(nb):
    vgg_block = nb.vgg_block
    check_equal(isinstance(vgg_block(1, 16), nn.Sequential), True, "vgg_block returns an nn.Sequential")
    for in_channels, out_channels, convs, batchnorm, dropout in [
        (1, 16, 2, True, 0.0),
        (16, 32, 2, True, 0.0),
        (1, 8, 1, False, 0.0),
        (8, 8, 3, False, 0.25),
    ]:
        call = f"vgg_block({in_channels}, {out_channels}, convs_per_block={convs}, batchnorm={batchnorm}, "
        call += f"dropout={dropout})"
        block = vgg_block(in_channels, out_channels, convs_per_block=convs, batchnorm=batchnorm, dropout=dropout)
        got, expected = [type(layer).__name__ for layer in block], block_layers(convs, batchnorm, dropout)
        check_equal(got, expected, f"the layers of {call}, in order", hint=layers_hint(got, expected))
        check_equal(
            [conv.bias is None for conv in block if isinstance(conv, nn.Conv2d)],
            [batchnorm] * convs,
            f"conv.bias is None, convolution by convolution, in {call} (True exactly when batchnorm is on)",
            hint="nn.Conv2d(..., bias=not batchnorm): batch normalization subtracts the mean, which cancels a bias",
        )
        reference = [*models.vgg_block(in_channels, out_channels, convs, batchnorm), nn.Dropout2d(dropout)]
        i, ours, theirs = first_difference(block, reference)
        where = f"the weight and bias shapes of {call}" + (f", layer {i} ({got[i]})" if i is not None else "")
        check_equal(ours, theirs, where, hint=shapes_hint(got[i], ours, theirs) if i is not None else None)
        dropouts = [layer.p for layer in block if isinstance(layer, nn.Dropout2d)]
        check_equal(dropouts, [dropout] * (dropout > 0), f"the p of the Dropout2d in {call}")
    with explain_errors("vgg_block's forward pass", hint="3x3 kernels with padding=1 keep the size"):
        out = vgg_block(1, 16)(torch.zeros(8, 1, 28, 20))
    check_shape(out, (8, 16, 14, 10), "vgg_block(1, 16) on a batch of 8 images of 28 x 20: pooling halves the size")
    set_seed(nb.seed)  # the course's vgg_block, given your weights, must compute the same maps
    block, reference = vgg_block(1, 16), models.vgg_block(1, 16)
    reference.load_state_dict(block.state_dict())
    with torch.no_grad():
        x = nb.data.val_x[:8]
        check_close(block(x), reference(x), "maps compared with the course's vgg_block, given your weights", atol=1e-5)
    # Dropout2d in training mode: each map (one channel of one image) is zeroed whole, or doubled (p = 0.5).
    block = vgg_block(4, 8, convs_per_block=1, batchnorm=False, dropout=0.5)
    x = torch.randn(64, 4, 6, 6, generator=torch.Generator().manual_seed(nb.seed))
    with torch.no_grad():
        clean, dropped = block.eval()(x).flatten(2), block.train()(x).flatten(2)
    alive = clean.abs().sum(dim=2) > 0  # maps the ReLU did not zero already
    whole = (dropped == 0).all(dim=2) | torch.isclose(dropped, 2 * clean, atol=1e-6).all(dim=2)
    check_equal(bool(whole[alive].all()), True, "in training mode, each map is zeroed whole or doubled (p = 0.5)")
    check_own_work(vgg_block, models.vgg_block, "vgg_block is your own")


SIZES = dict(out_1x1=16, reduce_3x3=16, out_3x3=24, reduce_5x5=8, out_5x5=16, out_pool=8)
BRANCHES = {  # attribute: (its layers, the hint when its maps are not the table's size)
    "branch1": ("1x1 conv", None),
    "branch3": ("1x1 conv, then 3x3 conv", "padding=1 for the 3x3 convolution"),
    "branch5": ("1x1 conv, then a 3x3 conv keeping reduce_5x5, then a 3x3 conv", "padding=1 for each 3x3 convolution"),
    "branch_pool": (
        "3x3 max-pooling, then 1x1 conv",
        "nn.MaxPool2d(3, stride=1, padding=1): its stride is 3 by default",
    ),
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


def as_the_table_says(name: str, branch: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The branch's own convolutions run as the table says: (branch_pool: max-pooling first), then every
    convolution with the padding that keeps the size, each followed by a ReLU."""
    if name == "branch_pool":
        x = F.max_pool2d(x, 3, stride=1, padding=1)
    for conv in [layer for layer in branch.modules() if isinstance(layer, nn.Conv2d)]:
        x = F.relu(F.conv2d(x, conv.weight, conv.bias, padding=conv.kernel_size[0] // 2))
    return x


def inception_with_two_3x3(nb):
    set_seed(nb.seed)
    block = nb.Inception(32, **SIZES)
    x = torch.randn(8, 32, 14, 10, generator=torch.Generator().manual_seed(nb.seed))  # not square: 14 x 10
    shapes = inception_shapes(32, **SIZES)
    for name, (layers, padding) in BRANCHES.items():
        branch = getattr(block, name, None)
        check_equal(isinstance(branch, nn.Module), True, f"Inception has a layer {name}", hint=f"set self.{name}")
        got = [tuple(p.shape) for p in branch.parameters()]
        five = any(shape[2:] == (5, 5) for shape in got)
        hint = "two 3x3 convolutions take the place of the 5x5: each sees 3x3, the two 5x5" if five else None
        check_equal(got, shapes[name], f"the weight and bias shapes of {name} ({layers})", hint=hint)
        with explain_errors(f"{name}'s forward pass"):
            out = branch(x)
        check_shape(out, (8, shapes[name][-1][0], 14, 10), f"{name} keeps the 14 x 10 size", hint=padding)
        with torch.no_grad():
            check_close(
                out,
                as_the_table_says(name, branch, x),
                f"{name}'s maps, compared with its weights run as the table says ({layers}, ReLU after each conv)",
                atol=1e-5,
            )
    check_equal(
        getattr(block, "out_channels", "no such attribute"),
        64,
        "out_channels: 16 + 24 + 16 + 8",
        hint="set self.out_channels",
    )
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
