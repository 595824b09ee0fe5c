"""Shape arithmetic for convolution and pooling layers, and a layer-by-layer shape table.

The one formula behind every size in the course (PyTorch's documentation writes the same):

    N = floor((M + 2p - d(k - 1) - 1) / s) + 1

for input size M, kernel k, stride s, padding p and dilation d. With d = 1 it is the familiar
``floor((M + 2p - k) / s) + 1``.

Example:
    >>> conv_output_size(28, kernel_size=5, padding=1)
    26
    >>> pool_output_size(26, kernel_size=2)
    13
"""

from __future__ import annotations

import pandas as pd
import torch
from torch import nn

from .validate import whole_number


def conv_output_size(size: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """Output length along one dimension of a convolution (or pooling) layer."""
    for name, value in dict(size=size, kernel_size=kernel_size, stride=stride, dilation=dilation).items():
        whole_number(value, name, minimum=1)
    whole_number(padding, "padding", minimum=0)
    out = (size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1
    if out < 1:
        raise ValueError(
            f"a kernel spanning {dilation * (kernel_size - 1) + 1} pixels does not fit "
            f"in an input of size {size} with padding {padding}: the output would "
            f"have size {out}"
        )
    return out


def pool_output_size(size: int, kernel_size: int = 2, stride: int | None = None, padding: int = 0) -> int:
    """Output length of a pooling layer; the stride defaults to the kernel size, as in PyTorch."""
    return conv_output_size(size, kernel_size, stride or kernel_size, padding)


def layer_table(model: nn.Module, input_shape=(1, 1, 28, 28)) -> pd.DataFrame:
    """Run one dummy batch through ``model`` and list each leaf layer's output shape and size.

    Forward hooks record what each layer produced, so the table shows what really happens,
    not what we think happens.
    """
    rows, hooks = [], []
    for name, module in model.named_modules():
        if len(list(module.children())) == 0:  # leaf layers only

            def record(mod, inputs, output, name=name):
                rows.append(
                    {
                        "layer": name,
                        "type": type(mod).__name__,
                        "output shape": tuple(output.shape),
                        "parameters": sum(p.numel() for p in mod.parameters()),
                    }
                )

            hooks.append(module.register_forward_hook(record))
    was_training = model.training
    model.eval()
    try:
        device = next(model.parameters()).device
        with torch.no_grad():
            model(torch.zeros(input_shape, device=device))
    finally:
        for hook in hooks:
            hook.remove()
        model.train(was_training)
    table = pd.DataFrame(rows)
    table.loc[len(table)] = {
        "layer": "total",
        "type": "",
        "output shape": "",
        "parameters": int(table["parameters"].sum()),
    }
    return table


def receptive_fields(layers: list[tuple[str, int, int]]) -> pd.DataFrame:
    """Receptive field of each layer in a stack of ``(name, kernel_size, stride)`` layers.

    A unit sees ``r`` input pixels; each new layer adds ``(k - 1) * jump`` of them, where
    ``jump`` (the product of the strides so far) is the input-pixel distance between
    neighbouring units.
    """
    rf, jump, rows = 1, 1, []
    for name, kernel_size, stride in layers:
        rf += (kernel_size - 1) * jump
        jump *= stride
        rows.append({"layer": name, "kernel": kernel_size, "stride": stride, "receptive field": rf, "jump": jump})
    return pd.DataFrame(rows)


def block_sizes(n_blocks: int, image_size: int = 28, kernel_size: int = 5, padding: int = 1) -> list[int]:
    """The side of the maps after each layer of ``n_blocks`` conv blocks (a convolution, then 2x2 pooling).

    ``block_sizes(3)`` is ``[28, 26, 13, 11, 5, 3, 1]``: the image, then conv, pool, conv, pool, conv, pool.
    The list stops early where the maps are too small for the next layer (``block_sizes(4)`` ends at 1).
    """
    sizes = [image_size]
    for _ in range(n_blocks):
        try:
            sizes.append(conv_output_size(sizes[-1], kernel_size, padding=padding))
            sizes.append(pool_output_size(sizes[-1]))
        except ValueError:  # nothing left to convolve or pool
            break
    return sizes


def multiplications(model: nn.Module, input_shape=(1, 1, 28, 28)) -> int:
    """Multiplications a model's ``Conv2d`` and ``Linear`` layers do for one input: each output number
    costs one per weight it uses (``in_channels x k x k`` for a convolution, ``in_features`` for a Linear).

    Example:
        >>> multiplications(nn.Conv2d(1, 4, 3), input_shape=(1, 1, 5, 5))  # 4 x 3 x 3 outputs, 9 weights each
        324
    """
    counts = []
    layers = [m for m in model.modules() if isinstance(m, nn.Conv2d | nn.Linear)]
    hooks = [
        m.register_forward_hook(lambda m, _, out: counts.append(out[0].numel() * m.weight[0].numel())) for m in layers
    ]
    device = next(model.parameters()).device
    training = model.training
    try:
        with torch.no_grad():
            model.eval()(torch.zeros(input_shape, device=device))
    finally:
        for hook in hooks:
            hook.remove()
        model.train(training)
    return sum(counts)
