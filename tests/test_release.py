"""course release: the student copy holds no solution and no hidden test, and its checks still work.

One release of the real course (module fixture, about 2 s) is searched for every line of every
solution's answer regions and of every hidden test that students do not read anyway; one exercise
(3, no data, no kernel) is then checked in a subprocess by the released, sealed checks, with the
solution's answers and with a classic mistake. OUT is refused where it would lose or mix files.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import nbformat
import pytest

from course_tools import cli, release
from course_tools.notebook_transforms import solution_lines

ROOT = Path(__file__).resolve().parents[1]
MIN_LENGTH = 20  # a shorter line (`return x`, `model.eval()`) says nothing about an answer
EXERCISE = "03_shape_arithmetic_exercises.ipynb"  # no data, no training: its checks run in a second


@pytest.fixture(scope="module")
def released(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("release") / "student"
    release.release(out, ROOT)
    return out


def cell_sources(path: Path) -> list[str]:
    return [cell.source for cell in nbformat.read(path, as_version=4).cells]


def answer_lines(source: str) -> list[str]:
    """The lines between the solution markers of a cell, stripped."""
    return [line.strip() for line in solution_lines(source)]


def public_text() -> str:
    """What students read anyway: the lessons, the exercises (their stubs) and the library the lessons
    import (course_utils/*.py; an answer cell's course.forbid keeps the grader from accepting a call to it)."""
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb")) + sorted((ROOT / "exercises").glob("*.ipynb"))
    texts = [source for notebook in notebooks for source in cell_sources(notebook)]
    texts += [module.read_text(encoding="utf-8") for module in sorted((ROOT / "course_utils").glob("*.py"))]
    return "\n".join(texts)


def secret_lines() -> dict[str, str]:
    """{line: where it comes from} for every answer line and hidden-test line longer than MIN_LENGTH that
    is in nothing students read anyway."""
    public, secrets = public_text(), {}
    for solution in sorted((ROOT / "solutions").glob("*.ipynb")):
        for source in cell_sources(solution):
            for line in answer_lines(source):
                secrets.setdefault(line, f"an answer of solutions/{solution.name}")
    for hidden in sorted((ROOT / "solutions" / "hidden_tests").glob("*.py")):
        for line in hidden.read_text(encoding="utf-8").split("\n"):
            secrets.setdefault(line.strip(), f"the hidden tests solutions/hidden_tests/{hidden.name}")
    return {line: where for line, where in secrets.items() if len(line) > MIN_LENGTH and line not in public}


def readable_text(path: Path) -> str | None:
    """A file's text as a reader sees it (a notebook: its sources and text outputs), None for a binary file."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None
    if path.suffix != ".ipynb":
        return text

    def strings(value, key=""):
        if isinstance(value, str):
            return [] if key.startswith("image/") else [value]  # a picture's base64 holds no code
        items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else []
        return [text for k, item in items for text in strings(item, str(k))]

    return "".join(strings(json.loads(text)))


def leaks(folder: Path, secrets: dict[str, str]) -> list[str]:
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        text = readable_text(path)
        for line, where in secrets.items() if text else ():
            if line in text:
                found.append(f"{path.relative_to(folder)} holds {line!r} ({where})")
    return found


def test_no_answer_and_no_hidden_test_anywhere_in_the_release(released):
    secrets = secret_lines()
    answers = [line for line, where in secrets.items() if where.startswith("an answer")]
    assert len(answers) > 200 and len(secrets) - len(answers) > 200, "the search has lines to look for"
    assert leaks(released, secrets) == []


def test_the_search_finds_an_answer_or_a_hidden_test_left_readable(released, tmp_path):
    planted = tmp_path / "planted"
    shutil.copytree(released / "course_utils", planted)
    shutil.copy(ROOT / "course_utils/exercise_checks/what_the_network_sees_reference.py", planted)
    shutil.copy(ROOT / "solutions/hidden_tests/shape_arithmetic.py", planted / "hidden.py")
    found = leaks(planted, secret_lines())
    assert any(leak.startswith("what_the_network_sees_reference.py holds") for leak in found)
    assert any(leak.startswith("hidden.py holds") and "hidden_tests/shape_arithmetic.py" in leak for leak in found)


def test_the_release_holds_the_student_tree_and_nothing_else(released):
    files = {p.relative_to(released).as_posix() for p in released.rglob("*") if p.is_file()}
    assert {name.split("/")[0] for name in files} == {
        *("notebooks", "exercises", "course_utils", "course_tools", "README.md", "Makefile"),
        *("pyproject.toml", "requirements.txt", "environment.yml", ".gitignore", release.MARKER),
    }
    assert {name for name in files if name.startswith("course_tools/")} == {
        f"course_tools/{name}" for name in release.STUDENT_TOOLS
    }
    for lesson in sorted((ROOT / "notebooks").glob("[0-9]*.ipynb")):  # as executed, outputs and all
        assert (released / "notebooks" / lesson.name).read_bytes() == lesson.read_bytes()
    assert (released / "notebooks/figures/12_drawpad.png").is_file(), "a picture a lesson shows goes with it"
    for solution in sorted((ROOT / "solutions").glob("*.ipynb")):
        exercise = ROOT / "exercises" / solution.name
        assert (released / "exercises" / solution.name).read_bytes() == exercise.read_bytes()
    config = tomllib.loads((released / "pyproject.toml").read_text())
    assert config["tool"]["setuptools"]["packages"] == release.STUDENT_PACKAGES
    assert config["project"]["scripts"] == {"course": "course_tools.cli:main"} and "pytest" not in config["tool"]
    readme = (released / "README.md").read_text()
    for needed in ("make setup", "check(task=2)", "## Handing in", "notebooks/01_", "exercises/13_"):
        assert needed in readme
    record = json.loads((released / release.MARKER).read_text())
    assert record["files"] == len(files) and record["sealed"]


def test_sealed_checks_keep_their_docstring_and_run_the_course_s_code(released):
    checks = ROOT / "course_utils" / "exercise_checks"
    record = json.loads((released / release.MARKER).read_text())
    for module in sorted(checks.glob("*.py")):
        copy = (released / "course_utils/exercise_checks" / module.name).read_text(encoding="utf-8")
        if module.name in release.READABLE_CHECKS:
            assert copy == module.read_text(encoding="utf-8")
            continue
        assert f"course_utils/exercise_checks/{module.name}" in record["sealed"]
        assert release.unseal(copy) == module.read_text(encoding="utf-8")
        docstring = copy.split('"""')[1]
        assert docstring and docstring in module.read_text(encoding="utf-8")


# A student's Python sees the released packages only: not this checkout's editable install, whose
# import hook would find what a release leaves out (course_tools.grading).
STUDENT_PYTHON = """
import sys
sys.meta_path[:] = [finder for finder in sys.meta_path if not finder.__module__.startswith("__editable__")]
"""
CHECK_SCRIPT = (
    STUDENT_PYTHON
    + """
import json
import course_utils
from course_utils.checks import CheckFailed

assert course_utils.__file__.startswith(sys.argv[1]), course_utils.__file__
namespace = {"__name__": "__main__"}
for source in json.load(sys.stdin):
    try:
        exec(compile(source, "<cell>", "exec"), namespace)
    except CheckFailed as failed:
        print("FAILED:", failed)
"""
)


def student_env(released: Path) -> dict:
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"PYTHONPATH": str(released)}


def run_cells(released: Path, sources: list[str]) -> str:
    run = subprocess.run(
        [sys.executable, "-c", CHECK_SCRIPT, str(released)],
        input=json.dumps(sources),
        cwd=released,
        env=student_env(released),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    return run.stdout


def test_a_released_exercise_is_checked_by_the_released_sealed_checks(released):
    solution = nbformat.read(ROOT / "solutions" / EXERCISE, as_version=4)
    code = [cell.source for cell in solution.cells if cell.cell_type == "code"]
    passed = run_cells(released, code)
    assert "FAILED" not in passed and passed.count("✅") >= 4, passed

    exercise = nbformat.read(released / "exercises" / EXERCISE, as_version=4)
    code = [cell.source for cell in exercise.cells if cell.cell_type == "code"]
    first = next(i for i, c in enumerate(code) if "def conv_output_size" in c)
    code[first] = code[first].replace(
        'raise NotImplementedError("Task 1: conv_output_size")', "return (size + padding - kernel_size) // stride + 1"
    )  # a classic mistake: p pixels of padding in all, not p on each side
    told = run_cells(released, code[: first + 2])
    assert "FAILED: " in told and "padding p adds p pixels on EACH side: 2p in all" in told, told


def test_a_student_asking_for_an_instructor_command_is_told_it_is_not_there(released, tmp_path):
    command = STUDENT_PYTHON + "from course_tools.cli import main\nsys.exit(main(sys.argv[1:]))"
    run = subprocess.run(
        [sys.executable, "-c", command, "grade", str(tmp_path)],
        cwd=released,
        env=student_env(released),
        capture_output=True,
        text=True,
    )
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert "course grade is not part of this copy of the course" in run.stderr


# ---------------------------------------------------------------------------- where OUT may be
def test_out_that_would_mix_or_lose_files_is_refused(tmp_path, capsys):
    nonempty = tmp_path / "mine"
    nonempty.mkdir()
    (nonempty / "notes.txt").write_text("mine")
    refused = {
        str(nonempty): "is not empty: give a new or empty folder, or add --replace",
        str(ROOT): "holds the course itself",
        str(ROOT.parent): "holds the course itself",
        str(ROOT / "notebooks" / "release"): "is inside the course's folder notebooks/",
        str(nonempty / "notes.txt"): "is a file, not a folder",
    }
    for out, message in refused.items():
        assert cli.main(["release", out]) == 2
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1, err
    assert cli.main(["release", str(nonempty), "--replace"]) == 2
    assert f"holds no earlier release (no {release.MARKER})" in capsys.readouterr().err
    assert [p.name for p in nonempty.iterdir()] == ["notes.txt"] and not list(tmp_path.glob(".mine-*"))


def test_replace_replaces_an_earlier_release(released, tmp_path):
    out = tmp_path / "student"
    shutil.copytree(released, out)
    (out / "exercises" / "leftover.ipynb").write_text("{}")
    release.release(out, ROOT, replace=True)
    assert not (out / "exercises" / "leftover.ipynb").exists() and (out / release.MARKER).is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["student"], "nothing left beside it"


def test_stale_exercises_are_refused(tmp_path):
    course = tmp_path / "course"
    for folder in ("solutions", "exercises", "notebooks"):
        (course / folder).mkdir(parents=True)
    shutil.copy(ROOT / "solutions" / EXERCISE, course / "solutions")
    stale = nbformat.read(ROOT / "exercises" / EXERCISE, as_version=4)
    stale.cells[0].source += "\nAn edit made by hand."
    nbformat.write(stale, course / "exercises" / EXERCISE)
    with pytest.raises(release.ReleaseError) as refused:
        release.release(tmp_path / "out", course)
    assert f"exercises/{EXERCISE} differs from what solutions/{EXERCISE} generates" in str(refused.value)
    assert "Run `course exercises`" in str(refused.value) and not (tmp_path / "out").exists()


# ---------------------------------------------------------------------------- course site --no-solutions
def test_a_class_site_has_no_solution_page_and_no_link_to_one(tmp_path):
    from course_tools import site

    staging = tmp_path / "site-src"
    toc, _ = site.stage(ROOT, staging, repo="https://github.com/example/course", with_solutions=False)
    assert [part["caption"] for part in toc["parts"]][:2] == ["Lessons", "Exercises"]
    assert "Solutions" not in [part["caption"] for part in toc["parts"]] and not (staging / "solutions").exists()
    assert (staging / "exercises" / EXERCISE).is_file() and (staging / "exercises" / "index.md").is_file()
    targets = []
    for page in sorted(p for p in staging.rglob("*") if p.suffix in (".md", ".ipynb")):
        targets += [(page.name, target) for target in re.findall(r"\]\(([^)\s]+)\)", readable_text(page))]
    assert targets and [(page, t) for page, t in targets if re.search(r"(^|/)solutions(/|$)", t)] == []
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    if "](solutions/)" in readme:  # the link goes, its text stays
        assert "](solutions/)" not in (staging / "README.md").read_text(encoding="utf-8")
    assert site.inputs_digest(ROOT, with_solutions=False) != site.inputs_digest(ROOT), "no reuse of the other site"


def test_every_package_is_installed_by_pip_install_not_only_by_an_editable_one(released):
    # Colab's set-up cell runs a plain `pip install` of the course: a package pyproject.toml leaves out
    # (course_utils.exercise_checks was) is missing there, while an editable install finds it anyway.
    for tree in (ROOT, released):
        listed = set(tomllib.loads((tree / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
        folders = {
            ".".join(init.parent.relative_to(tree).parts)
            for top in ("course_utils", "course_tools")
            for init in (tree / top).rglob("__init__.py")
        }
        assert folders <= listed, f"{tree}/pyproject.toml: add {sorted(folders - listed)} to packages"


# ---------------------------------------------------------------------------- what goes in, and sealing
def test_only_tracked_files_go_in_and_a_needed_untracked_one_stops_the_release(monkeypatch):
    from course_tools.site import lesson_notebooks

    lessons = lesson_notebooks(ROOT)
    exercises = [ROOT / "exercises" / p.name for p in sorted((ROOT / "solutions").glob("*.ipynb"))]
    tracked = release.tracked_files(ROOT)
    assert tracked and (ROOT / "course_utils" / "checks.py").resolve() in tracked
    draft, exercise = ROOT / "course_utils" / "checks.py", exercises[0]
    monkeypatch.setattr(release, "tracked_files", lambda root: tracked - {draft.resolve()})
    copies, left_out = release.release_files(ROOT, lessons, exercises)
    assert left_out == [draft] and draft not in copies and exercise in copies
    monkeypatch.setattr(release, "tracked_files", lambda root: tracked - {exercise.resolve()})
    with pytest.raises(release.ReleaseError, match=f"not committed: exercises/{exercise.name}; commit"):
        release.release_files(ROOT, lessons, exercises)


def test_every_python_module_under_the_checks_is_sealed_at_any_depth(tmp_path):
    checks = tmp_path / "course_utils" / "exercise_checks"
    sealed = [checks / "ablations_reference.py", checks / "deeper" / "answers.py", checks / "deeper" / "__init__.py"]
    readable = [checks / "__init__.py", checks / "mistakes.py", tmp_path / "course_utils" / "models.py"]
    assert [release.must_seal(path, checks) for path in sealed + readable] == [True] * 3 + [False] * 3
    with pytest.raises(release.ReleaseError, match="cannot seal"):
        release.must_seal(checks / "deeper" / "answers.npz", checks)


def test_the_release_says_what_sealing_is_and_ships_no_solution():
    doc = " ".join(release.__doc__.split())
    assert "it does not secure it" in doc and "learns the course's reference implementation" in doc
    assert "the solutions and the hidden tests, which decide the grade" in doc
