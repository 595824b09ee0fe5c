"""The student copy of the course: ``course release OUT`` writes it, with no solutions and no hidden tests.

    course release ../cnn-mnist-student            # a new (or empty) folder
    course release ../cnn-mnist-student --replace  # replace an earlier release there

What ``OUT`` gets, and nothing else:

- ``notebooks/``: the lessons as committed, executed, with their outputs and the pictures their text shows;
- ``exercises/``: the exercise notebooks, refused while they differ from what ``solutions/`` generates
  (run ``course exercises`` and commit first), so the students get what the grader expects;
- ``course_utils/``: the package the lessons and exercises import, with the exercises' checks *sealed*
  (below); ``course_tools/``: only what ``course doctor``, ``course run`` and ``course params`` need
  (a student asking for another command is told it is not part of the copy);
- ``pyproject.toml`` (for ``pip install -e .``; the course's own, less its test and lint settings),
  ``requirements.txt``, ``environment.yml``, ``.gitignore``, a ``Makefile`` with ``setup`` and ``run``,
  and a short ``README.md`` for students (set-up, what to do, how to hand in);
- ``.course-release.json``: the commit it was made from, when, and which files are sealed.

In a git checkout only files git tracks (``git ls-files``) go in, as they are on disk: an
untracked file under ``course_utils/`` (a draft, an instructor's notes) is left out, and ``course
release`` names it; an untracked lesson, exercise, picture or set-up file the copy needs is an
error (commit it, or move it away). Outside git every file of those folders goes in.

Never: ``solutions/``, ``solutions/hidden_tests/``, ``tests/``, the grader (``course_tools.grading``) or any
other instructor tool, the data, ``build/``. ``tests/test_release.py`` searches a release for every line
of every solution's answer regions and of every hidden test.

**Sealed checks.** A check compares a student's answer with the course's own answer, and shows a
mistake's hint when the answer computes exactly what that mistake computes; so the modules of
``course_utils/exercise_checks/`` (every Python module there, in subfolders too, but the shared
`__init__.py` and `mistakes.py` at its top) hold the course's answers, written out: the
``*_reference.py`` modules are reference implementations. In a release each of them keeps its
docstring (what it checks) and carries its code compressed (zlib, base64), which it decompresses
and runs when imported: the checks work exactly as in the course, on any Python, and the answers
are not on view, searchable or copyable. A file there that is no Python module cannot be sealed and
stops the release.

Sealing hides the reference code from casual reading; it does not secure it. It is compression,
not encryption: one line of Python decodes it, and a student who does learns the course's
reference implementation of every exercise. Treat the checks' answers as readable by a determined
student. What must stay secret never ships: the solutions and the hidden tests, which decide the
grade (``course grade --solutions DIR``), are not in a release. (The lessons' own library, e.g.
``course_utils.models.vgg_block``, stays readable: the lessons teach it, and an answer cell's
``metadata.course.forbid`` keeps the grader from accepting a call to it.)

``OUT`` must not be the course, hold it, or lie inside one of its tracked folders (``build/release``
is fine); a folder that is not empty is refused, and ``--replace`` replaces only an earlier release
(a folder with ``.course-release.json``). The copy is written beside ``OUT`` and moved into place at
the end, so a failed release leaves ``OUT`` as it was.
"""

from __future__ import annotations

import ast
import base64
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zlib
from pathlib import Path

import nbformat

from .exercises import exercise_text
from .notebook_transforms import REGENERATE, MarkerError
from .provenance import git_commit

MARKER = ".course-release.json"  # what marks a folder as a release (and lets --replace replace it)
STUDENT_TOOLS = ["__init__.py", "cli.py", "runner.py"]  # course doctor, course run, course params
READABLE_CHECKS = {"__init__.py", "mistakes.py"}  # the checks' shared machinery: no exercise's answers
STUDENT_PACKAGES = ["course_utils", "course_utils.exercise_checks", "course_tools"]
PYPROJECT_SECTIONS = {"build-system", "project", "project.scripts", "tool.setuptools", "tool.course"}
SKIPPED_NAMES = {"__pycache__", ".ipynb_checkpoints", ".DS_Store"}
SEALED_NOTE = "Sealed by `course release`"

STUDENT_MAKEFILE = """\
# The student copy of the course (written by `course release`):
#   make setup  install everything into .venv/ (a few minutes, once)
#   make run    check the set-up (course doctor), then execute every lesson into build/run/<date>_<time>/
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
\t$(PYTHON) -m venv $(VENV)
\t$(BIN)/python -m pip install --upgrade --quiet pip
\t$(BIN)/python -m pip install -r requirements.txt
\t$(BIN)/python -m pip install --no-deps -e .
\ttouch $(STAMP)

run: $(STAMP)
\t$(BIN)/course doctor
\t$(BIN)/course run
"""

SEALED_MODULE = '''\
{docstring}
# {note}: this module's code holds the course's own answers, which the checks compare
# yours with, so this copy carries it compressed; it runs exactly as written when imported. What a
# check tests, it says when it runs.
_SEALED_CODE = """
{payload}"""
_SEALED_CODE = __import__("zlib").decompress(__import__("base64").b64decode(_SEALED_CODE))
exec(compile(_SEALED_CODE, __import__("os").path.realpath(__file__) + " (sealed)", "exec"))
del _SEALED_CODE
'''


class ReleaseError(RuntimeError):
    """The release cannot be written: a bad OUT, stale exercises, a course file missing."""


# ---------------------------------------------------------------------------- sealing
def seal(source: str) -> str:
    """The text of a sealed module: ``source``'s docstring, then its code compressed (see the module's doc)."""
    tree = ast.parse(source)
    first = tree.body[0] if tree.body else None
    is_docstring = isinstance(first, ast.Expr) and isinstance(getattr(first, "value", None), ast.Constant)
    docstring = ast.get_source_segment(source, first) if is_docstring and isinstance(first.value.value, str) else ""
    payload = base64.encodebytes(zlib.compress(source.encode("utf-8"), 9)).decode("ascii")
    return SEALED_MODULE.format(
        docstring=docstring or '"""Checks of an exercise."""', note=SEALED_NOTE, payload=payload
    )


def unseal(sealed: str) -> str:
    """The source a sealed module runs (for instructors, and the tests)."""
    match = re.search(r'_SEALED_CODE = """\n(.*?)"""', sealed, re.S)
    if match is None:
        raise ValueError("not a module sealed by `course release`")
    return zlib.decompress(base64.b64decode(match.group(1))).decode("utf-8")


# ---------------------------------------------------------------------------- what goes in
def stale_exercises(root: Path) -> list[str]:
    """Why exercises/ is not what solutions/ generates now (empty: it is)."""
    problems = []
    for solution in sorted((root / "solutions").glob("*.ipynb")):
        exercise = root / "exercises" / solution.name
        try:
            text = exercise_text(solution)
        except (MarkerError, nbformat.ValidationError, json.JSONDecodeError) as err:
            problems.append(f"solutions/{solution.name} cannot be turned into an exercise: {err}")
            continue
        if not exercise.is_file():
            problems.append(f"exercises/{solution.name} is missing")
        elif exercise.read_bytes() != text.encode("utf-8"):
            problems.append(f"exercises/{solution.name} differs from what solutions/{solution.name} generates")
    return problems


def notebook_files(folder: Path, names: list[str]) -> list[Path]:
    """The notebooks ``names`` of ``folder`` and the local pictures their markdown shows."""
    from .site import markdown_images

    files = []
    for name in names:
        notebook = folder / name
        files.append(notebook)
        for image in markdown_images(nbformat.read(notebook, as_version=4)):
            picture = (folder / image).resolve()
            if picture.is_file() and picture.is_relative_to(folder.resolve()) and picture not in files:
                files.append(picture)
    return files


def package_files(folder: Path) -> list[Path]:
    """Every file of a package folder but caches and compiled files."""
    return sorted(
        path
        for path in folder.rglob("*")
        if path.is_file() and not SKIPPED_NAMES & set(path.parts) and path.suffix not in (".pyc", ".pyo")
    )


def student_pyproject(text: str) -> str:
    """The course's pyproject.toml for the student copy: its packages, its scripts, no test or lint settings."""
    kept, keep = [], True
    for line in text.splitlines(keepends=True):
        header = re.match(r"^\[([A-Za-z0-9_.-]+)\]\s*(#.*)?$", line)
        if header:
            keep = header.group(1) in PYPROJECT_SECTIONS
        if keep:
            kept.append(line)
    student = re.sub(
        r"(?m)^packages = \[.*\]", lambda _: "packages = " + json.dumps(STUDENT_PACKAGES), "".join(kept).rstrip()
    )
    config = tomllib.loads(student)
    if config.get("tool", {}).get("setuptools", {}).get("packages") != STUDENT_PACKAGES:
        raise ReleaseError(
            "pyproject.toml: no one-line `packages = [...]` under [tool.setuptools] to give the student's "
            "packages; put the list on one line"
        )
    return student + "\n"


def student_readme(root: Path, lessons: list[Path], exercises: list[Path]) -> str:
    """The README of the student copy: set-up, what to do, how to hand in."""
    from .site import notebook_title

    def first(pattern: str, name: str, default: str) -> str:
        text = (root / name).read_text(encoding="utf-8") if (root / name).is_file() else ""
        found = re.search(pattern, text, re.M)
        return found.group(1).strip() if found else default

    title = first(r"^# (.+)$", "README.md", "The course")
    environment = first(r"^name:\s*(\S+)", "environment.yml", "the environment's name")
    exercise_of = {path.name.removesuffix("_exercises.ipynb"): path for path in exercises}
    rows = []
    for lesson in lessons:
        exercise = exercise_of.get(lesson.stem)
        link = f"[exercises](exercises/{exercise.name})" if exercise else ""
        rows.append(f"| [{notebook_title(lesson)}](notebooks/{lesson.name}) | {link} |")
    return f"""# {title}

Your copy of the course: {len(lessons)} lessons in `notebooks/`, each with an exercise notebook in
`exercises/`.

## Set up (once)

On Linux or macOS with Python 3.11, in this folder:

```bash
make setup                  # installs everything into .venv/ (a few minutes)
.venv/bin/course doctor     # checks the versions, the device and the data
.venv/bin/jupyter lab       # opens JupyterLab here
```

Without `make`:

```bash
python3 -m venv .venv && .venv/bin/pip install -r requirements.txt && .venv/bin/pip install --no-deps -e .
```

With conda: `conda env create -f environment.yml && conda activate {environment}`. On Colab, each
notebook's first cells install what it needs (or say that this copy is not set up for Colab). The
lessons download MNIST into `data/` on first use; without internet, copy the data files into a folder,
set `COURSE_DATA_DIR` to it, and `course doctor` tells you whether it finds them.

## What to do

1. Read the lessons in order, running their cells:

   | lesson | exercises |
   |---|---|
{chr(10).join("   " + row for row in rows)}

2. After each lesson, open its exercise notebook. Replace each `# YOUR CODE HERE` and the
   `raise NotImplementedError(...)` line under it with your code, then run the check cell below it,
   one line such as `check(task=2)`: it prints ✅ for each check that passes, or one line saying what
   is wrong, with a hint when it recognises the mistake. Replace each _Write your answer here._ with
   your answer.
3. Before you hand a notebook in, restart its kernel and run every cell from the top: your answers
   must not depend on cells you have since deleted.

The checks are in `course_utils/exercise_checks/`. In this copy their code is sealed: it holds the
course's own answers, which your answers are compared with. Each check says what it tests when it runs.

## Handing in

Hand in the exercise notebook itself (the `.ipynb` file in `exercises/`), the way your instructor
tells you. Work in that notebook rather than a new one, and keep its task and check cells (add cells
of your own freely): the grader finds your answers by them, and a task whose check cell is gone
counts as failed. The grader runs your notebook from the top with its own copy of the checks, plus
hidden tests of the same requirements on other inputs, so passing every check here is a good sign,
not a guarantee.
"""


def tracked_files(root: Path) -> set[Path] | None:
    """Every file of the course that git tracks, resolved (None: not a git checkout)."""
    try:
        run = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True, text=True)
    except OSError:
        return None
    if run.returncode != 0:
        return None
    return {(root / name).resolve() for name in run.stdout.split("\0") if name}


def release_files(root: Path, lessons: list[Path], exercises: list[Path]) -> tuple[list[Path], list[Path]]:
    """(the course's files the release copies, the untracked files of ``course_utils/`` it leaves out);
    ReleaseError for an untracked file the copy needs."""
    package = package_files(root / "course_utils")
    copies = notebook_files(root / "notebooks", [p.name for p in lessons])
    copies += notebook_files(root / "exercises", [p.name for p in exercises])
    copies += package
    copies += [root / "course_tools" / name for name in STUDENT_TOOLS]
    copies += [root / name for name in ("requirements.txt", "environment.yml", ".gitignore") if (root / name).is_file()]
    tracked = tracked_files(root)
    if tracked is None:  # not a git checkout: what is on disk
        return copies, []
    untracked = [path for path in copies if path.resolve() not in tracked]
    needed = [path for path in untracked if path not in package]
    if needed:
        names = ", ".join(str(path.relative_to(root)) for path in needed)
        raise ReleaseError(f"not committed: {names}; commit (git add) or move away each of them, then release again")
    return [path for path in copies if path not in untracked], untracked


def must_seal(path: Path, checks: Path) -> bool:
    """Whether the release seals ``path``: every Python module under ``checks`` (exercise_checks/), at any
    depth, but the shared machinery at its top; ReleaseError for another file there (it cannot be sealed)."""
    if not path.is_relative_to(checks):
        return False
    if path.suffix != ".py":
        raise ReleaseError(
            f"{path}: the checks' folder holds a file that is no Python module, which a release cannot seal; "
            "put its contents into a module, or move it out of exercise_checks/"
        )
    return not (path.parent == checks and path.name in READABLE_CHECKS)


def tracked_top_folders(root: Path) -> set[str] | None:
    """The top-level names of the course under git (None: not a git checkout)."""
    tracked, course = tracked_files(root), root.resolve()
    if tracked is None:
        return None
    return {path.relative_to(course).parts[0] for path in tracked if path.is_relative_to(course)}


# ---------------------------------------------------------------------------- the release
def check_out(out: Path, root: Path, replace: bool) -> None:
    """Refuse an OUT that is the course, holds it, lies in one of its tracked folders, or holds something else."""
    if out == root or root.is_relative_to(out):
        raise ReleaseError(f"{out} holds the course itself: give a folder outside it, e.g. ../course-student")
    if out.is_relative_to(root):
        top = out.relative_to(root).parts[0]
        tracked = tracked_top_folders(root)
        if tracked is None:  # not a git checkout: every folder the course has, but build/, counts as its own
            tracked = {path.name for path in root.iterdir()} - {"build"}
        if top in tracked:
            raise ReleaseError(
                f"{out} is inside the course's folder {top}/: give a folder outside the course, or under build/"
            )
    if out.exists() and not out.is_dir():
        raise ReleaseError(f"{out} is a file, not a folder: give a new or empty folder")
    if out.is_dir() and any(out.iterdir()):
        if not replace:
            raise ReleaseError(
                f"{out} is not empty: give a new or empty folder, or add --replace to replace an earlier release there"
            )
        if not (out / MARKER).is_file():
            raise ReleaseError(
                f"{out} is not empty and holds no earlier release (no {MARKER}): --replace replaces only a "
                "release; give a new or empty folder"
            )


def release(out: Path | str, root: Path | str | None = None, replace: bool = False) -> dict:
    """Write the student copy of the course at ``root`` into ``out``; returns what ``.course-release.json``
    says, and ``left_out``: the untracked files of ``course_utils/`` not copied (see the module's doc)."""
    from . import course_folder
    from .site import lesson_notebooks

    root = (Path(root) if root else course_folder("solutions").parent).resolve()
    out = Path(out).expanduser().resolve()
    check_out(out, root, replace)
    stale = stale_exercises(root)
    if stale:
        raise ReleaseError(
            "exercises/ is not what solutions/ generates, so students would get other exercises than the grader "
            "expects:\n  "
            + "\n  ".join(stale)
            + f"\nRun `{REGENERATE}`, check and commit exercises/, then release again."
        )
    lessons = lesson_notebooks(root)
    solutions = sorted((root / "solutions").glob("*.ipynb"))
    if not lessons or not solutions:
        raise ReleaseError(f"{root} has no lessons (notebooks/) or no solutions (solutions/): is it the course?")
    exercises = [root / "exercises" / solution.name for solution in solutions]
    copies, left_out = release_files(root, lessons, exercises)
    checks = root / "course_utils" / "exercise_checks"
    to_seal = {source for source in copies if must_seal(source, checks)}  # before anything is written
    sealed = []

    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        for source in copies:
            target = staging / source.relative_to(root)
            target.parent.mkdir(parents=True, exist_ok=True)
            if source in to_seal:
                target.write_text(seal(source.read_text(encoding="utf-8")), encoding="utf-8")
                sealed.append(str(source.relative_to(root)))
            else:
                shutil.copy2(source, target)
        pyproject = (root / "pyproject.toml").read_text(encoding="utf-8")
        (staging / "pyproject.toml").write_text(student_pyproject(pyproject), encoding="utf-8")
        (staging / "Makefile").write_text(STUDENT_MAKEFILE, encoding="utf-8")
        (staging / "README.md").write_text(student_readme(root, lessons, exercises), encoding="utf-8")
        record = {
            "released_from": git_commit(root, "describe") or "",
            "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "files": sum(1 for path in staging.rglob("*") if path.is_file()) + 1,
            "sealed": sealed,
        }
        (staging / MARKER).write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
        _move_into_place(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return record | {"left_out": [str(path.relative_to(root)) for path in left_out]}


def _move_into_place(staging: Path, out: Path) -> None:
    """Put ``staging`` at ``out``; an earlier release there (checked by `check_out`) is removed only after."""
    if not out.exists() or not any(out.iterdir()):
        os.replace(staging, out)  # an empty folder is replaced in one step
        return
    earlier = Path(tempfile.mkdtemp(prefix=f".{out.name}-earlier-", dir=out.parent))
    os.replace(out, earlier / out.name)
    os.replace(staging, out)
    shutil.rmtree(earlier)


def release_main(out: str, replace: bool = False) -> int:
    """``course release OUT [--replace]``."""
    try:
        record = release(out, replace=replace)
    except (ReleaseError, OSError) as err:
        print(f"course release: {err}", file=sys.stderr)
        return 2
    where = Path(out).expanduser().resolve()
    size = sum(path.stat().st_size for path in where.rglob("*") if path.is_file())
    print(
        f"course release: {record['files']} files ({size / 1e6:.1f} MB) in {where}, made from "
        f"{record['released_from'] or 'a folder outside git'}; {len(record['sealed'])} check modules sealed. "
        f"No solutions, no hidden tests: students start with {where / 'README.md'}."
    )
    if record["left_out"]:
        print(f"note: left out, as git does not track them: {', '.join(record['left_out'])}")
    if record["released_from"].endswith("-dirty"):
        print("note: the course has uncommitted changes; they are in this release")
    return 0
