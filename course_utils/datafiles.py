"""The dataset files on disk: where they live, and whether they are complete and uncorrupted.

`course_utils.data` loads the data; this module makes sure the files it loads are sound first,
so a bad copy fails with a message that says what to do instead of a cryptic reshape error deep
inside torchvision. The files sit in torchvision's layout, ``<root>/MNIST/raw/train-images-idx3-ubyte``
and so on, where ``<root>`` is ``$COURSE_DATA_DIR`` or else ``data/`` at the repository root.

Checks, cheapest first: the file exists; its IDX header holds N 28x28 images or N labels (as many as
images); its size is what the header promises (a truncated download fails here); a full-size
official file has the official SHA-256.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import urllib.request
from functools import cache
from pathlib import Path

# Names the course accepts, mapped to torchvision's class name (which is also its folder name).
DATASETS = {"mnist": "MNIST", "fashion_mnist": "FashionMNIST"}

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


def dataset_folder(dataset: str) -> str:
    """torchvision's name for a dataset (also its folder): "mnist" -> "MNIST"."""
    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; choose one of {sorted(DATASETS)}")
    return DATASETS[dataset]


def raw_files(dataset: str, train: bool) -> tuple[str, str]:
    """File names of a split's images and labels, as torchvision stores them."""
    prefix = "train" if train else "t10k"
    return f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"


def _idx_header(path: Path) -> tuple[list[int], int]:
    """Read an IDX header; return (its sizes, the total file size it promises)."""
    with open(path, "rb") as f:
        header = f.read(4)
        if len(header) < 4 or header[0] != 0 or header[1] != 0 or header[2] != 0x08:
            raise DataError(
                f"{path} is not an IDX file of unsigned bytes (bad magic number); "
                "delete it and download the dataset again"
            )
        ndim = header[3]
        dims = [int.from_bytes(f.read(4), "big") for _ in range(ndim)]
    return dims, 4 + 4 * ndim + math.prod(dims)


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
    folder = Path(root or data_root()) / dataset_folder(dataset) / "raw"
    problems, counts = [], []
    for name, sizes_after_count in zip(raw_files(dataset, train), ([28, 28], []), strict=True):
        path = folder / name
        if not path.exists():
            problems.append(f"missing file {path}")
            continue
        try:
            dims, expected = _idx_header(path)
        except DataError as err:
            problems.append(str(err))
            continue
        if not dims or dims[1:] != sizes_after_count:  # images N x 28 x 28, labels N
            problems.append(f"{path} holds an array of shape {dims}: it is not a {dataset} file")
            continue
        counts.append(dims[0])
        if path.stat().st_size != expected:
            problems.append(
                f"{path} is truncated or corrupt: its header promises {expected:,} "
                f"bytes but the file has {path.stat().st_size:,} (size mismatch)"
            )
            continue
        known = KNOWN_SHA256[dataset_folder(dataset)].get(name)
        if dims[0] == OFFICIAL_COUNTS[train] and known:
            stat = path.stat()
            if _sha256(str(path), stat.st_mtime, stat.st_size) != known:
                problems.append(
                    f"{path} has the right size but the wrong SHA-256 checksum (checksum mismatch): the file is corrupt"
                )
    if not problems and counts[0] != counts[1]:  # torchvision would pair them up silently
        problems.append(f"{folder}: {counts[0]:,} images but {counts[1]:,} labels; the two files must match")
    return problems


def download_help(dataset: str, root: Path) -> str:
    """What a failed download tried, and what to put where to work offline instead."""
    import torchvision

    source = getattr(torchvision.datasets, dataset_folder(dataset))
    lines = [f"Mirrors tried: {', '.join(source.mirrors)}", f"Files needed in {root / source.__name__ / 'raw'}:"]
    for gz, md5 in source.resources:
        sha = KNOWN_SHA256[source.__name__][gz.removesuffix(".gz")]
        lines.append(f"  {gz} (MD5 {md5}), or extracted: {gz.removesuffix('.gz')} (SHA-256 {sha})")
    return "\n".join(lines) + (
        "\nFix offline: copy those files there from any machine that has them, or point the environment variable "
        f"COURSE_DATA_DIR at a folder that holds them in torchvision's layout (<root>/{source.__name__}/raw/...)."
    )


def can_download(dataset: str, timeout: float = 5.0) -> str | None:
    """The first mirror that answers for ``dataset``'s first file, or ``None`` when none does."""
    import torchvision

    source = getattr(torchvision.datasets, dataset_folder(dataset))
    for mirror in source.mirrors:
        try:
            urllib.request.urlopen(
                urllib.request.Request(mirror + source.resources[0][0], method="HEAD"), timeout=timeout
            )
            return mirror
        except Exception:  # unreachable, refused, 403/404: try the next
            continue
    return None


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
    """Make sure a split's raw files are present and sound (downloading them if allowed); return the
    data root. A bad copy fails here with a message that says what to do, not a cryptic error later."""
    folder_name = dataset_folder(dataset)
    root = Path(root or data_root())
    problems = verify_split(dataset, train, root)
    missing = problems and all(p.startswith("missing file") for p in problems)
    if missing and download:
        import torchvision  # imported only to download: it takes a second to import

        try:
            with _download_lock(root):  # two notebooks (or test workers) may start at once
                if verify_split(dataset, train, root):  # unless the other one fetched it already
                    getattr(torchvision.datasets, folder_name)(root=str(root), train=train, download=True)
        except Exception as err:  # no network, a proxy, the host is down, a read-only folder...
            raise DataError(
                f"{dataset} is not in {root / folder_name / 'raw'} and downloading it failed "
                f"({type(err).__name__}: {err}).\n" + download_help(dataset, root)
            ) from None
        problems = verify_split(dataset, train, root)
    if problems:
        hint = "set COURSE_DATA_DIR to a folder that holds the dataset, or pass download=True" if missing else ""
        hint = hint or "delete the bad files and download them again (or point COURSE_DATA_DIR at a good copy)"
        raise DataError(
            f"{dataset} ({'train' if train else 'test'} split) is not usable:\n  - "
            + "\n  - ".join(problems)
            + f"\nFix: {hint}."
        )
    return root
