"""Loading MNIST and Fashion-MNIST into memory, checked, normalized and split.

The course trains on a CPU, so instead of decoding one PIL image at a time we load a whole
split once as a tensor, normalize it with statistics of the *training* split, and draw
mini-batches by indexing with a seeded permutation (`iterate_batches`). `make_dataloader`
offers the standard `DataLoader` path too, since you will meet it everywhere.

Where the data lives: the folder named by the environment variable ``COURSE_DATA_DIR``, or
else ``data/`` at the repository root, into which torchvision may download. The files are
checked (complete, uncorrupted) before they are loaded: see `course_utils.datafiles`.

Example:
    >>> data = load_data("mnist", val_size=5000, seed=0)      # doctest: +SKIP
    >>> data.train_x.shape, data.val_x.shape, data.test_x.shape  # doctest: +SKIP
    (torch.Size([55000, 1, 28, 28]), torch.Size([5000, 1, 28, 28]), torch.Size([10000, 1, 28, 28]))
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from .datafiles import dataset_folder, ensure_split, raw_files
from .validate import whole_number

CLASS_NAMES = {
    "mnist": [str(d) for d in range(10)],
    "fashion_mnist": [
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ],
}


def load_split(
    dataset: str = "mnist", train: bool = True, root: Path | str | None = None, download: bool = True
) -> tuple[torch.Tensor, torch.Tensor]:
    """Load a whole split as ``(images uint8 [N, 28, 28], labels int64 [N])``.

    `ensure_split` checks the files first (and downloads them with torchvision if they are missing).
    """
    folder = ensure_split(dataset, train, root, download) / dataset_folder(dataset) / "raw"
    images, labels = raw_files(dataset, train)
    return read_idx(folder / images), read_idx(folder / labels).long()


def read_idx(path: Path | str) -> torch.Tensor:
    """An IDX file (MNIST's format: zeros, a type byte, the number of sizes, the sizes, then the bytes)
    as a uint8 tensor. Read directly: importing torchvision's reader would cost a second per start."""
    raw = bytearray(Path(path).read_bytes())
    ndim = raw[3]
    sizes = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return torch.frombuffer(raw, dtype=torch.uint8)[4 + 4 * ndim :].view(*sizes)


def normalization_stats(images: torch.Tensor) -> tuple[float, float]:
    """Mean and standard deviation of pixel values scaled to [0, 1] (use the training split)."""
    pixels = images.float().div(255)
    return pixels.mean().item(), pixels.std().item()


def normalize(images: torch.Tensor, mean: float, std: float) -> torch.Tensor:
    """uint8 ``[N, 28, 28]`` -> float32 ``[N, 1, 28, 28]`` with zero mean and unit variance."""
    return (images.float().div(255).sub(mean).div(std)).unsqueeze(1)


@dataclass
class Data:
    """A dataset in memory, split into train/validation/test, ready for training."""

    train_x: torch.Tensor
    train_y: torch.Tensor
    val_x: torch.Tensor
    val_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    mean: float
    std: float
    classes: list[str]

    def __repr__(self) -> str:
        return (
            f"Data(train={len(self.train_y):,}, val={len(self.val_y):,}, "
            f"test={len(self.test_y):,}, mean={self.mean:.4f}, std={self.std:.4f})"
        )


def split_indices(n: int, val_size: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A seeded random split of ``range(n)`` into (train indices, validation indices)."""
    if not 0 <= val_size < n:
        raise ValueError(f"val_size must be between 0 and {n - 1}, got {val_size}")
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    return order[val_size:], order[:val_size]


def load_data(
    dataset: str = "mnist",
    val_size: int = 5000,
    train_size: int | None = None,
    seed: int = 0,
    root: Path | str | None = None,
    download: bool = True,
) -> Data:
    """Load a dataset, hold out a seeded validation set and normalize everything.

    ``train_size`` keeps only that many (seeded, random) training samples, e.g. 18_000 to see
    what less data costs; ``None`` keeps all 60,000 - val_size. The mean and std come from the
    training samples actually used, so no information leaks from validation or test data.
    """
    if train_size is not None:  # checked before the (slow) loading
        whole_number(train_size, "train_size (or None for all)")
    images, labels = load_split(dataset, True, root, download)
    test_images, test_labels = load_split(dataset, False, root, download)
    train_idx, val_idx = split_indices(len(labels), val_size, seed)
    if train_size is not None:
        if not 0 < train_size <= len(train_idx):
            raise ValueError(
                f"train_size must be between 1 and {len(train_idx):,} (the training "
                f"samples left after holding out {val_size:,} for validation), "
                f"got {train_size:,}"
            )
        train_idx = train_idx[:train_size]  # already a random order, so this is a random subset
    mean, std = normalization_stats(images[train_idx])
    return Data(
        train_x=normalize(images[train_idx], mean, std),
        train_y=labels[train_idx],
        val_x=normalize(images[val_idx], mean, std),
        val_y=labels[val_idx],
        test_x=normalize(test_images, mean, std),
        test_y=test_labels,
        mean=mean,
        std=std,
        classes=CLASS_NAMES[dataset],
    )


def iterate_batches(
    x: torch.Tensor, y: torch.Tensor, batch_size: int, shuffle: bool = False, generator: torch.Generator | None = None
):
    """Yield ``(x_batch, y_batch)`` pairs by slicing in-memory tensors (a fast DataLoader)."""
    order = torch.randperm(len(y), generator=generator) if shuffle else torch.arange(len(y))
    for start in range(0, len(y), batch_size):
        idx = order[start : start + batch_size]
        yield x[idx], y[idx]


def make_dataloader(
    dataset: str = "mnist",
    train: bool = True,
    batch_size: int = 64,
    mean: float = 0.1307,
    std: float = 0.3081,
    root: Path | str | None = None,
    shuffle: bool | None = None,
    num_workers: int = 0,
):
    """The textbook way: a torchvision dataset with per-sample transforms and a DataLoader.

    Slower on a CPU than `iterate_batches` (every image is converted one at a time), but it is
    what most PyTorch code looks like, and it scales to datasets that do not fit in memory.
    """
    import torchvision
    from torchvision import transforms

    root = ensure_split(dataset, train, root)  # same checks and messages as the fast path
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((mean,), (std,))])
    ds = getattr(torchvision.datasets, dataset_folder(dataset))(
        root=str(root), train=train, download=False, transform=transform
    )
    return torch.utils.data.DataLoader(
        ds, batch_size=batch_size, shuffle=train if shuffle is None else shuffle, num_workers=num_workers
    )


def random_shift_rotate(
    x: torch.Tensor, max_shift: float = 2.0, max_degrees: float = 10.0, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Data augmentation: move each image up to ``max_shift`` pixels and turn it up to ``max_degrees``.

    One random affine transform per image, applied to the whole batch at once with
    ``affine_grid``/``grid_sample``. Pixels that come in from outside repeat the border, which
    is background in MNIST, so no artificial edges appear.
    """
    import math

    import torch.nn.functional as F

    n, _, height, width = x.shape
    angle = (torch.rand(n, generator=generator) * 2 - 1) * math.radians(max_degrees)
    # affine_grid measures shifts in units of half the image (from -1 to 1)
    shift = (torch.rand(n, 2, generator=generator) * 2 - 1) * max_shift * 2 / torch.tensor([width, height])
    theta = torch.stack(
        [
            torch.stack([angle.cos(), -angle.sin(), shift[:, 0]], dim=1),
            torch.stack([angle.sin(), angle.cos(), shift[:, 1]], dim=1),
        ],
        dim=1,
    ).to(x.device, x.dtype)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, padding_mode="border", align_corners=False)
