"""Deprecations are errors in the test run, in pytest's process and in the kernels it starts.

pytest applies ``[tool.pytest.ini_options] filterwarnings`` (pyproject.toml) to the tests in its
own process, but a notebook under nbval runs in a Jupyter kernel, a separate process those
filters never reach. This pytest plugin (``-p course_tools.strict_warnings`` in pyproject's
``addopts``) points every kernel the run starts at an IPython profile of its own
(``IPYTHONDIR``, inherited by the kernels) whose startup file applies the same list, so one
list in pyproject.toml governs both. `course canary` uses the same profile for its lesson runs.
"""

from __future__ import annotations

import builtins
import importlib
import os
import tomllib
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PROFILE_DIR = REPO / "build" / "ipython-strict"  # IPYTHONDIR of the kernels (build/ is not in git)
STARTUP = "import course_tools.strict_warnings as s\ns.apply(s.filters())\n"


def filters(pyproject: Path = REPO / "pyproject.toml") -> list[str]:
    """pyproject's pytest ``filterwarnings``, in order (a later entry wins, as in pytest)."""
    config = tomllib.loads(pyproject.read_text())
    return config["tool"]["pytest"]["ini_options"].get("filterwarnings", [])


def category(name: str) -> type[Warning]:
    """``DeprecationWarning`` or a dotted name such as ``numpy.exceptions.VisibleDeprecationWarning``."""
    if "." not in name:
        return getattr(builtins, name or "Warning")
    module, _, attribute = name.rpartition(".")
    return getattr(importlib.import_module(module), attribute)


def apply(specs: list[str]) -> None:
    """Install pytest-style filters, ``action:message:category:module:lineno`` (regexes, as in the ini)."""
    for spec in specs:
        action, message, name, module, lineno = (spec.split(":", 4) + [""] * 4)[:5]
        warnings.filterwarnings(action, message, category(name.strip()), module.strip(), int(lineno or 0))


def kernel_environment(profile_dir: Path = PROFILE_DIR) -> dict[str, str]:
    """Write the strict IPython profile; the environment variables that make a kernel use it."""
    startup = profile_dir / "profile_default" / "startup" / "00-strict-warnings.py"
    if not startup.exists() or startup.read_text() != STARTUP:
        startup.parent.mkdir(parents=True, exist_ok=True)
        partial = startup.with_suffix(f".{os.getpid()}.tmp")  # xdist workers may write it at once
        partial.write_text(STARTUP)
        partial.replace(startup)
    return {"IPYTHONDIR": str(profile_dir)}


def pytest_configure(config) -> None:
    os.environ.update(kernel_environment())  # the kernels nbval and papermill start inherit it
