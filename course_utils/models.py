"""The course's networks: the two-conv-layer CNN and its variants with more or fewer conv blocks.

The reference network (lesson 4):

    conv 10@5x5 pad 1 -> ReLU -> maxpool 2   28 -> 26 -> 13
    conv 20@5x5 pad 1 -> ReLU -> maxpool 2   13 -> 11 -> 5
    flatten 20*5*5=500 -> fc 50 -> ReLU -> fc 10

which has 260 + 5,020 + 25,050 + 510 = 30,840 parameters.

Example:
    >>> count_parameters(ConvNet())
    30840
    >>> count_parameters(ConvNet(n_conv=1))   # one conv block -> Linear(10*13*13, 50)
    85320
"""

from __future__ import annotations

from torch import nn

from .shapes import conv_output_size, pool_output_size
from .validate import whole_number


def conv_block(in_channels: int, out_channels: int, kernel_size: int = 5, padding: int = 1) -> nn.Sequential:
    """Convolution, ReLU, 2x2 max-pooling: the building block of the course's networks."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, padding=padding),
        nn.ReLU(),
        nn.MaxPool2d(2),
    )


class ConvNet(nn.Module):
    """``n_conv`` conv blocks (10, 20, 40, ... channels) then a 50-unit hidden layer and 10 outputs."""

    def __init__(
        self,
        n_conv: int = 2,
        first_channels: int = 10,
        kernel_size: int = 5,
        padding: int = 1,
        hidden: int = 50,
        n_classes: int = 10,
        image_size: int = 28,
    ):
        super().__init__()
        whole_number(n_conv, "n_conv", minimum=1)
        blocks, channels, size = [], 1, image_size
        for i in range(n_conv):
            out = first_channels * 2**i
            blocks.append(conv_block(channels, out, kernel_size, padding))
            try:
                size = pool_output_size(conv_output_size(size, kernel_size, padding=padding))
            except ValueError:
                raise ValueError(
                    f"{n_conv} conv blocks do not fit a {image_size}x{image_size} "
                    f"image: block {i + 1} gets a {size}x{size} input"
                ) from None
            channels = out
        self.features = nn.Sequential(*blocks)
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(channels * size * size, hidden),
            nn.ReLU(),
            nn.Linear(hidden, n_classes),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


def to_convnet(net: nn.Module) -> ConvNet:
    """A `ConvNet(n_conv=2)` holding the weights of ``net``, lesson 4's `TwoConvNet`: the same tensors, renamed.

    Both classes create their layers in the same order, so their state dicts list tensors of the same
    shapes in the same order under other names (``conv1.weight`` -> ``features.0.0.weight``, ``fc1`` ->
    ``classifier.1``, ``fc2`` -> ``classifier.3``); the copy pairs them up in that order. With the same
    weights the two networks compute the same outputs.
    """
    convnet = ConvNet(n_conv=2).to(next(net.parameters()).device)
    names, tensors = list(convnet.state_dict()), list(net.state_dict().values())
    if [tuple(t.shape) for t in tensors] != [tuple(t.shape) for t in convnet.state_dict().values()]:
        raise ValueError("to_convnet needs a network with ConvNet(n_conv=2)'s layers, created in the same order")
    convnet.load_state_dict(dict(zip(names, tensors, strict=True)))
    return convnet


def count_parameters(model: nn.Module, trainable_only: bool = True) -> int:
    """Number of (trainable) parameters: weights and biases of every layer."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


# --- Deeper networks (lesson 9) ---------------------------------------------------------------


def vgg_block(in_channels: int, out_channels: int, convs_per_block: int = 2, batchnorm: bool = True) -> nn.Sequential:
    """VGG's building block: ``convs_per_block`` 3x3 convolutions (padding 1 keeps the size), then 2x2 pooling."""
    layers = []
    for i in range(convs_per_block):
        # With batch normalization right after, a bias would be cancelled out, so we drop it.
        layers.append(
            nn.Conv2d(in_channels if i == 0 else out_channels, out_channels, 3, padding=1, bias=not batchnorm)
        )
        if batchnorm:
            layers.append(nn.BatchNorm2d(out_channels))
        layers.append(nn.ReLU())
    layers.append(nn.MaxPool2d(2))
    return nn.Sequential(*layers)


class VGGNet(nn.Module):
    """A small VGG-style network: two blocks of 3x3 convolutions (28 -> 14 -> 7), then a classifier.

    Two blocks, because a third 2x2 pooling would take 7x7 maps to 3x3 and drop a row and a
    column of every map; a fourth would leave 1x1.
    """

    def __init__(
        self,
        channels=(32, 64),
        convs_per_block: int = 2,
        batchnorm: bool = True,
        dropout: float = 0.0,
        hidden: int = 128,
        n_classes: int = 10,
    ):
        super().__init__()
        blocks, previous = [], 1
        for out in channels:
            blocks.append(vgg_block(previous, out, convs_per_block, batchnorm))
            previous = out
        size = 28 // 2 ** len(channels)
        self.features = nn.Sequential(*blocks)
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(dropout),
            nn.Linear(previous * size * size, hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, n_classes),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


def _conv_bn_relu(in_channels: int, out_channels: int, kernel_size: int, batchnorm: bool) -> nn.Sequential:
    layers = [nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2, bias=not batchnorm)]
    if batchnorm:
        layers.append(nn.BatchNorm2d(out_channels))
    return nn.Sequential(*layers, nn.ReLU())


class InceptionBlock(nn.Module):
    """Four parallel branches whose outputs are stacked along the channels (GoogLeNet, 2014).

    1x1 | 1x1 -> 3x3 | 1x1 -> 5x5 | 3x3 max-pool -> 1x1. Every branch keeps the height and width,
    so the network can look at several scales at once; the 1x1 convolutions before the larger
    kernels shrink the number of channels first, which keeps them cheap.
    """

    def __init__(
        self,
        in_channels: int,
        out_1x1: int,
        reduce_3x3: int,
        out_3x3: int,
        reduce_5x5: int,
        out_5x5: int,
        out_pool: int,
        batchnorm: bool = True,
    ):
        super().__init__()
        self.branch1 = _conv_bn_relu(in_channels, out_1x1, 1, batchnorm)
        self.branch3 = nn.Sequential(
            _conv_bn_relu(in_channels, reduce_3x3, 1, batchnorm), _conv_bn_relu(reduce_3x3, out_3x3, 3, batchnorm)
        )
        self.branch5 = nn.Sequential(
            _conv_bn_relu(in_channels, reduce_5x5, 1, batchnorm), _conv_bn_relu(reduce_5x5, out_5x5, 5, batchnorm)
        )
        self.branch_pool = nn.Sequential(
            nn.MaxPool2d(3, stride=1, padding=1), _conv_bn_relu(in_channels, out_pool, 1, batchnorm)
        )
        self.out_channels = out_1x1 + out_3x3 + out_5x5 + out_pool

    def forward(self, x):
        import torch

        return torch.cat([self.branch1(x), self.branch3(x), self.branch5(x), self.branch_pool(x)], dim=1)


class InceptionNet(nn.Module):
    """A 3x3 stem, two Inception blocks with pooling between them, global average pooling."""

    def __init__(self, batchnorm: bool = True, dropout: float = 0.0, n_classes: int = 10):
        super().__init__()
        first = InceptionBlock(32, 16, 16, 24, 8, 16, 8, batchnorm)  # 32 -> 64 channels
        second = InceptionBlock(first.out_channels, 32, 32, 48, 16, 32, 16, batchnorm)  # 64 -> 128
        self.features = nn.Sequential(
            _conv_bn_relu(1, 32, 3, batchnorm),
            nn.MaxPool2d(2),  # 28 -> 14
            first,
            nn.MaxPool2d(2),  # 14 -> 7
            second,
            nn.AdaptiveAvgPool2d(1),
        )  # 7 -> 1
        self.classifier = nn.Sequential(nn.Flatten(), nn.Dropout(dropout), nn.Linear(second.out_channels, n_classes))

    def forward(self, x):
        return self.classifier(self.features(x))
