"""Shared fixtures: tiny IDX datasets written on the fly, so unit tests never need real MNIST."""

import struct
from pathlib import Path

import numpy as np
import pytest
import torch

REPO = Path(__file__).resolve().parents[1]


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write an IDX file of unsigned bytes (the format MNIST ships in)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(struct.pack(">I", d) for d in array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def make_tiny_dataset(root: Path, folder: str = "MNIST", n_train: int = 120, n_test: int = 40) -> Path:
    """A fake dataset in torchvision's layout: class k is a bright square at position k."""
    rng = np.random.default_rng(0)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        labels = np.arange(n) % 10
        images = rng.integers(0, 30, size=(n, 28, 28))
        for i, k in enumerate(labels):
            images[i, 2 * k:2 * k + 6, 4:10] = 250
        write_idx(root / folder / "raw" / f"{prefix}-images-idx3-ubyte", images)
        write_idx(root / folder / "raw" / f"{prefix}-labels-idx1-ubyte", labels)
    return root


@pytest.fixture
def tiny_root(tmp_path):
    return make_tiny_dataset(tmp_path / "data")


@pytest.fixture
def tiny_data(tiny_root):
    from course_utils.data import load_data

    return load_data("mnist", val_size=20, root=tiny_root, download=False)


@pytest.fixture(autouse=True)
def _one_thread():
    # Unit tests use tiny tensors; one thread keeps results identical on any machine.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
