"""How the test suite shares two cores (a pytest plugin: ``-p course_tools.suite_plan`` in pyproject).

A plugin rather than ``tests/conftest.py``: pytest reads a conftest only for the paths it is given,
so ``pytest -n 2 notebooks/04_two_conv_net.ipynb --nbval`` never saw it and split a notebook's cells
between workers (NameErrors); ``addopts`` loads this module for every run, whatever the paths.

Parallel runs (`make test` runs ``pytest -n 2``, pytest-xdist):
- the unit of work is a whole file: every cell of a notebook runs in one kernel on one worker,
  and the lessons that read lesson 4's saved model run after it, in ``MODEL_CHAIN``'s order, on
  the same worker: lessons 6, 11 and 12 (and the browser test of lesson 12's drawing pad) load
  that model instead of training one, and lesson 9 compares it with its deeper networks;
- the site's two browser tests (``SITE_TESTS``) are one unit too: both build the site when it is stale;
- the heaviest units start first (longest-processing-time order), using the seconds each file
  took last time: ``build/test-durations.json`` from the last run here, else the committed
  ``tests/test-durations.json``; a file with no record counts as ``UNKNOWN_SECONDS``;
- each worker, and every kernel or process it starts, gets cores / workers threads, so two
  trainings never fight over the same cores.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

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
# The site in a browser: both tests build build/site/ (or reuse it) and drive Chromium, so one worker
# runs them one after the other and two builds of the site never run at once.
SITE_TESTS = ("tests/test_site_browser.py", "tests/test_site_a11y.py")
DURATIONS = [REPO / "build" / "test-durations.json", REPO / "tests" / "test-durations.json"]
UNKNOWN_SECONDS = {".ipynb": 60.0, ".py": 5.0}


def file_of(nodeid: str) -> str:
    return nodeid.split("::")[0]


def unit_of(path: str) -> str:
    """The unit of work a file belongs to: the file itself, the lesson-4 model chain, or the site's browser tests."""
    if path in SITE_TESTS:
        return "the site in a browser"
    return "lesson 4 model chain" if path in MODEL_CHAIN else path


def pytest_configure(config):
    if not os.environ.get("PYTEST_XDIST_WORKER") and getattr(config.option, "numprocesses", None):
        config.pluginmanager.register(DurationRecorder(), "course-durations")  # the controller
    workers = os.environ.get("PYTEST_XDIST_WORKER_COUNT")
    if os.environ.get("PYTEST_XDIST_WORKER") and workers:
        import torch

        from course_tools.cluster import available_cores  # OMP_NUM_THREADS, if set, is the budget

        threads = max(1, available_cores() // int(workers))
        for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # kernels and runners inherit these
            os.environ[variable] = str(threads)
        torch.set_num_threads(threads)


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist's: `-p no:xdist` runs must not fail on it
def pytest_xdist_make_scheduler(config, log):
    """Whole files (and the model chain) as units of work, handed out in the collection order.

    Why not xdist's public ``--dist loadgroup``, an ``xdist_group`` marker per unit set at collection
    (issue 28)? Measured with pytest 9.2.0 and pytest-xdist 3.8.0, as pinned:
    - it groups nothing: xdist names a test's group by rewriting ``item._nodeid`` (xdist/remote.py:253),
      which pytest 9.2 no longer reads (``Node.nodeid`` is ``str(self._id)``), so each test is a unit of
      its own (pytest-dev/pytest-xdist#1386). Six files (244 tests) on 2 workers here: this scheduler
      passed them all in 150 s; loadgroup split two notebooks' cells between the workers, and 55 cells
      (58 with ``--no-loadscope-reorder``) failed with NameErrors;
    - it needs ``--dist loadgroup`` on every command line (a worker reads it from its own arguments,
      xdist/remote.py:393), so ``pytest -n 2 notebooks/NN.ipynb`` alone would split a notebook again;
    - grouping fixed, it would tie, not win: ``benchmarks/suite_schedulers.py`` simulates both on the
      recorded seconds: the whole suite in 1126 s this way, 1126 s with loadgroup and
      ``--no-loadscope-reorder``, 1133 s with xdist's default order (most tests first).
    The price is overriding the private ``_split_scope``: tests/test_suite_order.py runs ``-n 2`` for
    real, so an xdist that changes it fails there.
    """
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
        # the course's own files only (a test's throw-away files are not worth a record)
        merged.update({path: round(s, 1) for path, s in self.seconds.items() if (REPO / path).is_file()})
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(dict(sorted(merged.items())), indent=1) + "\n")
