"""Loading MNIST and Fashion-MNIST into memory, checked, normalized and split.

The course trains on a CPU, so instead of decoding one PIL image at a time we load a whole
split once as a tensor, normalize it with statistics of the *training* split, and draw
mini-batches by indexing with a seeded permutation (`iterate_batches`). `make_dataloader`
offers the standard `DataLoader` path too, since you will meet it everywhere.

Where the data lives: the folder named by the environment variable ``COURSE_DATA_DIR``, or
else ``data/`` at the repository root, into which torchvision may download. Either way the
files sit in torchvision's layout: ``<root>/MNIST/raw/train-images-idx3-ubyte`` and so on.

Example:
    >>> data = load_data("mnist", val_size=5000, seed=0)      # doctest: +SKIP
    >>> data.train_x.shape, data.val_x.shape, data.test_x.shape  # doctest: +SKIP
    (torch.Size([55000, 1, 28, 28]), torch.Size([5000, 1, 28, 28]), torch.Size([10000, 1, 28, 28]))
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import torch

# Names the course accepts, mapped to torchvision's class name (which is also its folder name).
DATASETS = {"mnist": "MNIST", "fashion_mnist": "FashionMNIST"}

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

# SHA-256 of the official extracted files; any full-size copy must match these.
KNOWN_SHA256 = {
    "MNIST": {
        "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    },
    "FashionMNIST": {
        "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    },
}
OFFICIAL_COUNTS = {True: 60_000, False: 10_000}  # train split -> number of samples


class DataError(RuntimeError):
    """The dataset is missing, incomplete or corrupt; the message says how to fix it."""


def repo_root() -> Path:
    """The course checkout this package lives in (or the current folder if installed elsewhere)."""
    here = Path(__file__).resolve().parents[1]
    return here if (here / "pyproject.toml").exists() else Path.cwd()


def data_root() -> Path:
    """Where datasets live: ``$COURSE_DATA_DIR`` if set, else ``<repo>/data``."""
    env = os.environ.get("COURSE_DATA_DIR")
    return Path(env).expanduser() if env else repo_root() / "data"


def _dataset_folder(dataset: str) -> str:
    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; choose one of {sorted(DATASETS)}")
    return DATASETS[dataset]


def raw_files(dataset: str, train: bool) -> tuple[str, str]:
    """File names of a split's images and labels, as torchvision stores them."""
    prefix = "train" if train else "t10k"
    return f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"


def _idx_expected_size(path: Path) -> tuple[int, int]:
    """Read an IDX header; return (number of items, total file size the header promises)."""
    with open(path, "rb") as f:
        header = f.read(4)
        if len(header) < 4 or header[0] != 0 or header[1] != 0 or header[2] != 0x08:
            raise DataError(
                f"{path} is not an IDX file of unsigned bytes (bad magic number); "
                "delete it and download the dataset again"
            )
        ndim = header[3]
        dims = [int.from_bytes(f.read(4), "big") for _ in range(ndim)]
    payload = 1
    for d in dims:
        payload *= d
    return dims[0], 4 + 4 * ndim + payload


@cache
def _sha256(path: str, mtime: float, size: int) -> str:  # mtime/size make the cache safe
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_split(dataset: str, train: bool, root: Path | str | None = None) -> list[str]:
    """Check one split's raw files: present, complete, and (for full-size copies) checksummed.

    Returns a list of human-readable problems; empty means the split is fine.
    """
    folder = Path(root or data_root()) / _dataset_folder(dataset) / "raw"
    problems = []
    for name in raw_files(dataset, train):
        path = folder / name
        if not path.exists():
            problems.append(f"missing file {path}")
            continue
        try:
            count, expected = _idx_expected_size(path)
        except DataError as err:
            problems.append(str(err))
            continue
        actual = path.stat().st_size
        if actual != expected:
            problems.append(
                f"{path} is truncated or corrupt: its header promises {expected:,} "
                f"bytes but the file has {actual:,} (size mismatch)"
            )
            continue
        known = KNOWN_SHA256[_dataset_folder(dataset)].get(name)
        if count == OFFICIAL_COUNTS[train] and known:
            stat = path.stat()
            if _sha256(str(path), stat.st_mtime, stat.st_size) != known:
                problems.append(
                    f"{path} has the right size but the wrong SHA-256 checksum (checksum mismatch): the file is corrupt"
                )
    return problems


@contextlib.contextmanager
def _download_lock(root: Path):
    """Hold an exclusive lock on ``root/.download.lock`` (where the OS has one: POSIX)."""
    try:
        import fcntl
    except ImportError:  # Windows: no lock
        yield
        return
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".download.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def ensure_split(
    dataset: str = "mnist", train: bool = True, root: Path | str | None = None, download: bool = True
) -> Path:
    """Make sure a split's raw files are present and sound (downloading them if allowed).

    Returns the data root. A bad copy fails here with a message that says what to do, instead
    of with a cryptic reshape error inside torchvision.
    """
    import torchvision  # imported here: it is slow to import and only the loaders need it

    folder_name = _dataset_folder(dataset)
    root = Path(root or data_root())
    problems = verify_split(dataset, train, root)
    missing = problems and all(p.startswith("missing file") for p in problems)
    if missing and download:
        try:
            with _download_lock(root):  # two notebooks (or test workers) may start at once
                if verify_split(dataset, train, root):  # unless the other one fetched it already
                    getattr(torchvision.datasets, folder_name)(root=str(root), train=train, download=True)
        except Exception as err:  # no network, a proxy, a read-only folder...
            raise DataError(
                f"{dataset} is not in {root / folder_name / 'raw'} and downloading it failed "
                f"({type(err).__name__}: {err}).\nFix: point the environment variable "
                "COURSE_DATA_DIR at a folder that holds it in torchvision's layout "
                f"(<root>/{folder_name}/raw/...), or connect to the internet and keep "
                "download=True so torchvision can fetch it."
            ) from None
        problems = verify_split(dataset, train, root)
    if problems:
        hint = (
            "set COURSE_DATA_DIR to a folder that holds the dataset, or pass download=True"
            if missing
            else "delete the bad files and download them again (or point COURSE_DATA_DIR at a good copy)"
        )
        raise DataError(
            f"{dataset} ({'train' if train else 'test'} split) is not usable:\n  - "
            + "\n  - ".join(problems)
            + f"\nFix: {hint}."
        )
    return root


def load_split(
    dataset: str = "mnist", train: bool = True, root: Path | str | None = None, download: bool = True
) -> tuple[torch.Tensor, torch.Tensor]:
    """Load a whole split as ``(images uint8 [N, 28, 28], labels int64 [N])``.

    Uses ``torchvision.datasets`` (which downloads only when the files are missing) after
    `ensure_split` has checked the files.
    """
    import torchvision

    root = ensure_split(dataset, train, root, download)
    ds = getattr(torchvision.datasets, _dataset_folder(dataset))(root=str(root), train=train, download=False)
    return ds.data, ds.targets


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
    images, labels = load_split(dataset, True, root, download)
    test_images, test_labels = load_split(dataset, False, root, download)
    train_idx, val_idx = split_indices(len(labels), val_size, seed)
    if train_size is not None:
        if isinstance(train_size, bool) or not isinstance(train_size, int):
            raise TypeError(f"train_size must be a whole number or None, got {train_size!r}")
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
    ds = getattr(torchvision.datasets, _dataset_folder(dataset))(
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
