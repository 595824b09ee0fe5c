"""Shared fixtures, and how the suite shares two cores.

Fixtures: tiny IDX datasets written on the fly, so unit tests never need real MNIST.

Parallel runs (`make test` runs ``pytest -n 2``, pytest-xdist):
- the unit of work is a whole file: every cell of a notebook runs in one kernel on one worker,
  and the lessons that read lesson 4's saved model run after it, in ``MODEL_CHAIN``'s order, on
  the same worker: lessons 6, 11 and 12 (and the browser test of lesson 12's drawing pad) load
  that model instead of training one, and lesson 9 compares it with its deeper networks;
- the heaviest units start first (longest-processing-time order), using the seconds each file
  took last time: ``build/test-durations.json`` from the last run here, else the committed
  ``tests/test-durations.json``; a file with no record counts as ``UNKNOWN_SECONDS``;
- each worker, and every kernel or process it starts, gets cores / workers threads, so two
  trainings never fight over the same cores.
"""

import json
import os
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
MODEL_CHAIN = (
    "notebooks/04_two_conv_net.ipynb",
    "notebooks/06_confusion_matrices.ipynb",
    "notebooks/09_deeper_networks.ipynb",
    "notebooks/11_what_the_network_sees.ipynb",
    "notebooks/12_draw_your_own_digit.ipynb",
    "tests/test_drawpad.py",
    "tests/test_drawpad_browser.py",
)
DURATIONS = [REPO / "build" / "test-durations.json", REPO / "tests" / "test-durations.json"]
UNKNOWN_SECONDS = {".ipynb": 60.0, ".py": 5.0}


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


# --- sharing the cores between xdist workers -----------------------------------------------


def file_of(nodeid: str) -> str:
    return nodeid.split("::")[0]


def unit_of(path: str) -> str:
    """The unit of work a file belongs to: the file itself, or the lesson-4 model chain."""
    return "lesson 4 model chain" if path in MODEL_CHAIN else path


def pytest_configure(config):
    if not os.environ.get("PYTEST_XDIST_WORKER") and getattr(config.option, "numprocesses", None):
        config.pluginmanager.register(DurationRecorder(), "course-durations")  # the controller
    workers = os.environ.get("PYTEST_XDIST_WORKER_COUNT")
    if os.environ.get("PYTEST_XDIST_WORKER") and workers:
        from course_tools.sweep import available_cores  # OMP_NUM_THREADS, if set, is the budget

        threads = max(1, available_cores() // int(workers))
        for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # kernels and runners inherit these
            os.environ[variable] = str(threads)
        torch.set_num_threads(threads)


def pytest_xdist_make_scheduler(config, log):
    """Whole files (and the model chain) as units of work, handed out in the collection order."""
    from xdist.scheduler import LoadScopeScheduling

    class ByFile(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            return unit_of(file_of(nodeid))

    config.option.loadscopereorder = False  # keep the heaviest-first order set below
    return ByFile(config, log)


def recorded_seconds() -> dict:
    for path in DURATIONS:
        if path.exists():
            return json.loads(path.read_text())
    return {}


def heaviest_first(items, seconds: dict, nodeid=lambda item: item.nodeid) -> list:
    """``items`` regrouped by unit of work, the longest units first, each unit in its own order."""
    units = {}
    for item in items:  # dicts keep the collection order inside each unit
        units.setdefault(unit_of(file_of(nodeid(item))), []).append(item)
    for unit_items in units.values():  # the chain in its own order (pytest collects tests/ first)
        unit_items.sort(key=lambda i: MODEL_CHAIN.index(f) if (f := file_of(nodeid(i))) in MODEL_CHAIN else 0)

    def cost(unit_items):
        files = {file_of(nodeid(i)) for i in unit_items}
        return sum(seconds.get(f, UNKNOWN_SECONDS.get(Path(f).suffix, 5.0)) for f in files)

    return [i for unit in sorted(units.values(), key=cost, reverse=True) for i in unit]


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    if os.environ.get("PYTEST_XDIST_WORKER"):  # one process keeps the natural order
        items[:] = heaviest_first(items, recorded_seconds())


class DurationRecorder:
    """Adds up each file's seconds (setup, call and teardown) and saves them at the end."""

    def __init__(self):
        self.seconds, self.failed = {}, False

    def pytest_runtest_logreport(self, report):
        path = file_of(report.nodeid)
        self.seconds[path] = self.seconds.get(path, 0.0) + report.duration

    def pytest_sessionfinish(self, session, exitstatus):
        if not self.seconds:
            return
        target = DURATIONS[0]
        merged = json.loads(target.read_text()) if target.exists() else recorded_seconds()
        merged.update({path: round(s, 1) for path, s in self.seconds.items()})
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(dict(sorted(merged.items())), indent=1) + "\n")
