"""Shared fixtures: tiny IDX datasets written on the fly, so unit tests never need real MNIST.

How the suite shares two cores between xdist workers (whole files as units, the longest first,
lesson 4's model chain, threads per worker) is the plugin ``course_tools.suite_plan``, which
pyproject's ``addopts`` loads for every run, notebook-only runs included.
"""

import os
import struct
import sys
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
            images[i, 2 * k : 2 * k + 6, 4:10] = 250
        write_idx(root / folder / "raw" / f"{prefix}-images-idx3-ubyte", images)
        write_idx(root / folder / "raw" / f"{prefix}-labels-idx1-ubyte", labels)
    return root


# ``python -m pytest`` for a test that runs pytest in a subprocess (nbval on a notebook it wrote), with
# rfc3987_syntax kept out as the grading runner does (course_tools.grading.isolate.RUNNER): nbformat's
# jsonschema would build its IRI grammar, 1.4 s of the subprocess's 2.9 s start, for formats no notebook
# schema uses.
PYTEST = [
    sys.executable,
    "-c",
    "import sys; sys.modules.setdefault('rfc3987_syntax', None); import pytest; sys.exit(pytest.console_main())",
]

CHROMIUM = Path(os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium"))  # Debian's; Playwright never downloads one


def skip_or_fail_in_ci(message: str) -> None:
    """Skip a test whose requirement is absent here; under CI=true, where everything must be there, fail."""
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def missing_for_browser_tests() -> list[str]:
    """What the browser tests lack here: Debian's Chromium, Playwright."""
    import importlib.util

    missing = [] if CHROMIUM.is_file() else [f"Chromium at {CHROMIUM} (apt-get install chromium)"]
    if importlib.util.find_spec("playwright") is None:
        missing.append("Playwright (pip install -r requirements-test.txt)")
    return missing


def verified_data_root(dataset: str = "mnist") -> Path:
    """The real ``dataset`` at the course's data root ($COURSE_DATA_DIR, else <repo>/data), verified.

    Skips the calling test where the dataset is absent; under CI=true, where it must be there, fails instead.
    """
    from course_utils.datafiles import data_root, verify_split

    problems = verify_split(dataset, True) + verify_split(dataset, False)
    if problems:
        skip_or_fail_in_ci(f"needs the real {dataset} at {data_root()} (set COURSE_DATA_DIR): " + "; ".join(problems))
    return data_root()


@pytest.fixture(scope="session")
def mnist_root() -> Path:
    return verified_data_root("mnist")


@pytest.fixture
def no_network(monkeypatch):
    """Every connection attempt fails, as on a machine without internet (or a mirror that is down)."""
    import socket

    def refuse(*args, **kwargs):
        raise OSError("network blocked by the test")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


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
