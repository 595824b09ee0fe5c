"""Task 2's checks of exercises 9 (`deeper_networks.py` runs them as ``check(task=2)``): the VGG block.

Its layers in order, its parameter shapes layer by layer (compared with the course's
`models.vgg_block`), its maps given the same weights, and what its `nn.Dropout2d` does in training
mode: zero whole maps and double the others (p = 0.5). A hint is shown only for the mistake it names
(e.g. the layers in another order, or one pooling per convolution); otherwise the message says what differs.
"""

import torch
from torch import nn

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
        what = f"the p of the Dropout2d in {call}" if dropout > 0 else f"{call}: no Dropout2d when dropout=0"
        check_equal(dropouts, [dropout] * (dropout > 0), what)
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
