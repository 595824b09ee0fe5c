"""Deprecations are errors in the test run: in pytest's process and in the kernels nbval starts."""

import os
import re
import subprocess
import warnings
from pathlib import Path

import nbformat
import pytest
from conftest import PYTEST

from course_tools import strict_warnings

REPO = Path(__file__).resolve().parents[1]


def test_the_filters_make_deprecations_errors_and_keep_other_warnings():
    with warnings.catch_warnings():
        strict_warnings.apply(strict_warnings.filters())
        for category in (DeprecationWarning, PendingDeprecationWarning, FutureWarning):
            with pytest.raises(category):
                warnings.warn("going away", category, stacklevel=1)
        with pytest.raises(UserWarning):
            warnings.warn("TypedStorage is deprecated", UserWarning, stacklevel=1)  # how PyTorch often words it
        with warnings.catch_warnings(record=True) as caught:
            warnings.warn("a plain warning", UserWarning, stacklevel=1)
        assert len(caught) == 1


def test_a_later_entry_wins_as_in_pytest():
    with warnings.catch_warnings():
        strict_warnings.apply(["error::DeprecationWarning", "ignore:old API:DeprecationWarning"])
        warnings.warn("old API", DeprecationWarning, stacklevel=1)  # ignored
        with pytest.raises(DeprecationWarning):
            warnings.warn("another API", DeprecationWarning, stacklevel=1)


def test_every_third_party_exception_is_narrow_and_says_why():
    lines = (REPO / "pyproject.toml").read_text().splitlines()
    for i, line in enumerate(lines):
        if line.strip().startswith('"ignore:'):
            action, message, category, module = (line.strip().strip('",').split(":", 4) + [""] * 3)[:4]
            assert category and (message or module), f"{line.strip()}: name a category and a module or message"
            assert lines[i - 1].strip().startswith("#"), f"{line.strip()}: say why on the line above"


def notebook(path: Path, code: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import course_utils"), nbformat.v4.new_code_cell(code)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, str(path))
    return path


def nbval(paths: list[Path], *options: str, env: dict | None = None) -> tuple[list[str], str]:
    """Run nbval on ``paths`` (notebooks, or a folder of them) with this repository's pytest
    configuration: (summary lines, output)."""
    result = subprocess.run(
        [*PYTEST, "-c", str(REPO / "pyproject.toml"), "--rootdir", str(REPO), "-p", "no:xdist"]
        + ["--nbval", "--nbval-current-env", "-rA", *options, *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
        env=env,
    )
    output = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout)  # IPython colours its tracebacks
    return output.splitlines(), output


@pytest.mark.kernel
def test_a_lesson_cell_that_raises_a_deprecation_fails_under_nbval(tmp_path):
    """The proof that the filters reach the kernel: without them the same cells pass, printing a warning."""
    notebook(tmp_path / "clean.ipynb", "x = 1")
    warning = [
        notebook(tmp_path / f"{name}.ipynb", f"import warnings\nwarnings.warn('old API', {category})")
        for name, category in (("deprecation", "DeprecationWarning"), ("future", "FutureWarning"))
    ]
    summary, output = nbval([tmp_path])  # a folder: the test ids name the notebooks
    failed = {line.split("::")[0].split()[-1] for line in summary if line.startswith("FAILED")}
    assert failed == {"deprecation.ipynb", "future.ipynb"}, output[-3000:]
    assert "DeprecationWarning: old API" in output and "FutureWarning: old API" in output
    without = {k: v for k, v in os.environ.items() if k != "IPYTHONDIR"}  # this run's plugin set it
    # the plugin left out (the clean notebook, which passes either way, too: one kernel less)
    summary, output = nbval(warning, "-o", "addopts=-p no:cacheprovider", env=without)
    assert not [line for line in summary if line.startswith("FAILED")], output[-3000:]
    assert sum(line.startswith("PASSED") for line in summary) == 4, output[-3000:]  # both notebooks' two cells
