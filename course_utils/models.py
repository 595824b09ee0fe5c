"""The course's networks: the two-conv-layer CNN and its variants with more or fewer conv blocks.

The reference network (lesson 3):

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


def conv_block(in_channels: int, out_channels: int, kernel_size: int = 5, padding: int = 1) -> nn.Sequential:
    """Convolution, ReLU, 2x2 max-pooling: the building block of the course's networks."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, padding=padding),
        nn.ReLU(),
        nn.MaxPool2d(2),
    )


class ConvNet(nn.Module):
    """``n_conv`` conv blocks (10, 20, 40, ... channels) then a 50-unit hidden layer and 10 outputs."""

    def __init__(self, n_conv: int = 2, first_channels: int = 10, kernel_size: int = 5,
                 padding: int = 1, hidden: int = 50, n_classes: int = 10, image_size: int = 28):
        super().__init__()
        if isinstance(n_conv, bool) or not isinstance(n_conv, int) or n_conv < 1:
            raise ValueError(f"n_conv must be a whole number >= 1, got {n_conv!r}")
        blocks, channels, size = [], 1, image_size
        for i in range(n_conv):
            out = first_channels * 2 ** i
            blocks.append(conv_block(channels, out, kernel_size, padding))
            try:
                size = pool_output_size(conv_output_size(size, kernel_size, padding=padding))
            except ValueError:
                raise ValueError(f"{n_conv} conv blocks do not fit a {image_size}x{image_size} "
                                 f"image: block {i + 1} gets a {size}x{size} input") from None
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


def count_parameters(model: nn.Module, trainable_only: bool = True) -> int:
    """Number of (trainable) parameters: weights and biases of every layer."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def save_model(model: ConvNet, path, **info) -> None:
    """Save a `ConvNet`'s weights with how it was built and trained (``info``), e.g. its parameters."""
    import torch
    from pathlib import Path

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n_conv = len(model.features)
    torch.save({"n_conv": n_conv, "state_dict": model.state_dict(), "info": info}, path)


def load_model(path, device="cpu") -> tuple[ConvNet, dict]:
    """Load a model saved by `save_model`; returns ``(model, info)``."""
    import torch

    checkpoint = torch.load(path, map_location=device, weights_only=True)
    model = ConvNet(n_conv=checkpoint["n_conv"]).to(device)
    model.load_state_dict(checkpoint["state_dict"])
    return model, checkpoint["info"]
