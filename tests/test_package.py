"""The package's front door: every advertised name is there, and importing it stays cheap."""

import re
import subprocess
import sys
from pathlib import Path

import course_utils

REPO = Path(__file__).resolve().parents[1]


def test_every_advertised_name_and_module_resolves():
    for name in course_utils.__all__:
        assert callable(getattr(course_utils, name)) or isinstance(getattr(course_utils, name), type), name
    for module in course_utils.MODULES:
        assert getattr(course_utils, module).__name__ == f"course_utils.{module}"
    assert set(course_utils.__all__) <= set(dir(course_utils))


def test_unknown_names_raise_attribute_error():
    import pytest

    with pytest.raises(AttributeError, match="no attribute 'fitt'"):
        course_utils.fitt  # noqa: B018


def test_light_helpers_load_without_torch():
    # The `course` command, the grader and papermill's toy runs import course_utils for a
    # helper or two; they should not pay PyTorch's import time for it.
    code = (
        "import sys, course_utils as cu\n"
        "from course_utils import lesson_checks\n"
        "assert 'torch' not in sys.modules, 'lesson_checks pulled in torch'\n"
        "assert cu.data.__name__ == 'course_utils.data' and 'torch' in sys.modules\n"
        "from course_utils import models, fit\n"
        "print(models.ConvNet.__name__, fit.__name__)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["ConvNet", "fit"]


def test_the_student_package_holds_no_tooling_and_the_tools_start_without_torch():
    from pathlib import Path

    student = {p.stem for p in Path(course_utils.__file__).parent.glob("*.py")}
    assert not student & {"cli", "runner", "sweep", "exercises", "grading", "lessons"}
    assert set(course_utils.MODULES) == student - {"__init__"}  # every module is reachable
    code = (
        "import sys\nfrom course_tools import cli, exercises, grading, lessons, runner, sweep\n"
        "print('torch' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_make_test_lints_first_with_the_pinned_ruff():
    """`make test` (what CI runs) depends on `make lint`, and ruff is pinned like every other tool."""
    makefile = (REPO / "Makefile").read_text()
    assert re.search(r"^test: lint( \$\(TEST_STAMP\))?$", makefile, re.M), "make test must run make lint first"
    assert re.search(r"^lint: .*\n\t\$\(BIN\)/ruff check \.\n\t\$\(BIN\)/ruff format --check \.$", makefile, re.M)
    assert re.search(r"^ruff==\d+\.\d+\.\d+$", (REPO / "requirements.txt").read_text(), re.M)
    config = (REPO / "pyproject.toml").read_text()
    assert 'select = ["E", "F", "I", "B", "UP"]' in config
    lint_config = config.split("[tool.ruff.lint]")[1]
    ignored = re.findall(r"^[^#\n]*ignore[^=]*=\s*(.*)$", lint_config, re.M)
    assert ignored == ['["UP045"]'], f"only the papermill exception may be ignored, found {ignored}"  # see pyproject


def test_every_student_module_fits_on_a_screen_or_two():
    """A student opens these files: each stays near 200 lines (ruff-formatted), the issue's budget."""
    for module in sorted(Path(course_utils.__file__).parent.glob("**/*.py")):  # the exercise checks too
        lines = len(module.read_text().splitlines())
        assert lines <= 215, f"{module.name} has {lines} lines; split it (see course_utils/__init__.py)"
