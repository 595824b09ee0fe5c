"""Grading submitted exercise notebooks: ``course grade SUBMISSION... [--solutions DIR] [--timeout S] [--out CSV]``.

SECURITY: grading runs the students' code, with YOUR permissions. A submission can read,
change or delete any file you can, use the network, and start processes. The grader stops
accidents (an endless loop, megabytes of printing, a broken file, a process left running) and
makes the common tricks fail (see "What a submission cannot do" below), but it is no sandbox.
Grade in a disposable container or as an unprivileged user that can read only the course, the
data and the submissions, without network, e.g. ``docker run --rm --network none -v
"$PWD":/course -w /course IMAGE course grade submissions/``. On Linux ``--sandbox`` runs each
kernel in network and PID namespaces of its own (``unshare --net --pid``, the kernel talking
to the runner over Unix sockets): no network, and no other process to see, signal or outlive,
but the files are as reachable as without it; ``bwrap`` (with read-only binds of the course) or
a container also hide the file system.

How one submission is graded:

1. Its bytes are read once and hashed; the file is never written to (`grade_main` checks the
   hash again at the end). An empty file, or one that is not a notebook, gets an ``error`` row.
2. Its solution is found in ``--solutions`` (default: the course's ``solutions/``; instructors
   may keep a private copy with the hidden tests): the solution whose metadata
   ``course.exercise_id`` equals the submission's, else the same file name, else the solution
   named in ``course.generated_from``, else a solution name inside the file name
   (``alice_02_shape_arithmetic_exercises.ipynb``). The id comes first, so renumbering the
   lessons (or renaming a file) never grades a notebook against the wrong solution.
3. The notebook to run is assembled in the solution's order. Answer cells (metadata
   ``course.role == "answer"``) are the student's cells with the same cell id, followed by any
   cells the student added after them. Every other code cell - setup, check cells, hidden
   tests - is the solution's own, so an edited check changes nothing. A check cell deleted from
   the submission is noted and its task is graded as failed. Each check cell is armed: a
   prologue re-binds the check functions the solution imported (``check_equal``...) to a FRESH
   copy of ``course_utils/checks.py`` loaded from its file under a private module name (not
   from ``sys.modules``), resets ``sys.excepthook`` and IPython's custom exception handler, and
   an epilogue prints a random token, different for every cell, that only a cell which ran to
   its end prints.
4. The answers are read (never run) for what they must not use: an answer cell whose metadata
   lists ``course.forbid`` (dotted names, e.g. ``course_utils.models.vgg_block`` or
   ``torch.nn.functional.cross_entropy``) fails its task when the task's cells import that name
   from its package (``from course_utils.models import vgg_block``, or use a name imported so
   in any cell) or reference it as an attribute (``models.vgg_block``, ``getattr(m,
   "vgg_block")``); the student's own function of that name is fine. Every student cell is
   also read for code that touches the grading machinery (see the ``review`` column).
5. It runs in a separate process (nbclient, the ``python3`` kernel of this environment) with
   errors allowed and ``--timeout`` seconds for all its cells together; each cell keeps at
   most ``OUTPUT_CAP`` characters of output (errors ``ERROR_CAP`` per line), and no file the
   kernel writes may exceed ``FILE_CAP``. The notebook reaches the runner through a pipe and
   comes back through another that the kernel does not inherit: no file holds the tokens
   while the code runs, and the code cannot forge the result (a runner killed by it is an
   error). The kernel's working folder is a fresh temporary folder, so files written with
   relative paths are thrown away. The runner and the grader are child subreapers (Linux), so
   every process the code starts, even a chain of double forks in sessions of their own, stays
   a descendant; when the notebook ends or times out, all of them are stopped, then killed.
   The executed copy goes to ``--work``, by renaming a new file onto its name (a link planted
   there is replaced, not followed), and the gradebook is rewritten after every submission.
6. A task passes when every cell of the task (answer and checks) ran without an error (no
   error output, and the kernel's reply was not an error), every check cell printed its
   token, and no forbidden name was used.

The gradebook has one row per submission: ``submission, exercise, status`` (ok / timeout /
error), ``seconds``, one ``taskN`` column per task (pass / fail; empty when the exercise has no
such task), ``total`` (tasks passed), ``out_of``, ``feedback`` (the first hint for each failed
task) and ``review``: empty, or why a person should read the submission: student code that
touches ``course_utils.checks``, ``sys.modules``, builtins, exception hooks (``sys.excepthook``,
``set_custom_exc``, ``get_ipython``, ``InteractiveShell``), ``importlib.reload``, attributes of
imported modules (assignment or ``setattr``), the caller's frames, ``exec``/``eval``, or the
grader's files (``course_tools``, ``build/grading``, ``.log``), that rebinds a check function,
that rebinds a check function or a course function the checks compare with
(``count_parameters``), defines ``__eq__`` or builds a class with ``type(name, bases, dict)``,
each with its cell. Beside it, ``written_answers.csv`` lists every
written answer (a solution's markdown cell with a solution region) of every submission:
``submission, exercise, task`` (the task it follows), ``question``, ``answer`` and
``placeholder`` (``yes`` when left as ``_Write your answer here._`` or empty), for grading by
hand.

What a submission cannot do: switch the checks off by replacing ``course_utils.checks``
functions, rebinding ``check_equal`` in the notebook, or swallowing errors with
``get_ipython().set_custom_exc`` / ``sys.excepthook`` (the task fails, and ``review`` says why);
leave processes running; forge the executed notebook; make the grader write through a link;
write beside the submissions through relative paths; pass ``check_equal`` with an object that
equals anything (it wants plain Python values); pass a task with the course's own object where
``course.forbid`` names it. What a determined student can still do, since the checks run in
the same Python process as their code: install an IPython input transformer that sees a check
cell's token and rewrites the cell; patch ``print``, ``sys.stdout``, ``torch`` or ``importlib``
that the checks rely on; read the hidden tests from ``solutions/`` on disk; signal the grader or
write to the course's files with your permissions (``--sandbox`` hides the processes, a
container the files). Hence
the ``review`` column, and the executed copies in ``build/grading/``: read the flagged ones.
They contain the hidden tests, so do not hand them back; keep the solution folder with hidden
tests out of the students' reach (``--solutions``).
"""

from __future__ import annotations

import ast
import contextlib
import csv
import hashlib
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import nbformat

OUTPUT_CAP = 100_000  # characters of output kept per cell; the rest is dropped
ERROR_CAP = 2_000  # characters kept of an error's message and of each traceback line
FILE_CAP = 256 * 2**20  # bytes any file the kernel writes may grow to (its log included)
STARTUP_ALLOWANCE = 120  # seconds to start the runner and the kernel, on top of --timeout
PR_SET_CHILD_SUBREAPER = 36  # prctl option (Linux): orphaned descendants are re-parented to us
WRITTEN_ANSWERS = "written_answers.csv"


@dataclass
class Row:
    """One line of the gradebook."""

    submission: str
    exercise: str = ""
    status: str = "error"
    seconds: float = 0.0
    tasks: dict = field(default_factory=dict)  # task number -> passed?
    feedback: list = field(default_factory=list)
    review: list = field(default_factory=list)  # why a person should read this submission
    written: list = field(default_factory=list)  # written answers: dicts of written_answers.csv


# --- finding and assembling --------------------------------------------------------------


def expand(paths) -> list[Path]:
    """Submission files: files as given, folders replaced by their ``*.ipynb`` (sorted)."""
    found = []
    for path in map(Path, paths):
        found += sorted(path.glob("*.ipynb")) if path.is_dir() else [path]
    return found


def exercise_id(metadata) -> str:
    """A notebook's ``course.exercise_id`` (empty when it has none)."""
    info = metadata.get("course", {}) if isinstance(metadata, dict) else {}
    return str(info.get("exercise_id") or "") if isinstance(info, dict) else ""


@lru_cache(maxsize=256)
def _solution_id(path: str, mtime_ns: int, size: int) -> str:
    try:
        return exercise_id(json.loads(Path(path).read_text(encoding="utf-8")).get("metadata", {}))
    except (OSError, ValueError, AttributeError):
        return ""


def find_solution(path: Path, notebook, solutions_dir: Path) -> Path | None:
    """The solution notebook a submission answers (see step 2 in the module docstring)."""
    solutions = {p.name: p for p in sorted(Path(solutions_dir).glob("*.ipynb"))}
    wanted = exercise_id(notebook.get("metadata", {}))
    if wanted:
        by_id = [
            p for p in solutions.values() if _solution_id(str(p), p.stat().st_mtime_ns, p.stat().st_size) == wanted
        ]
        if len(by_id) == 1:  # two solutions with one id: fall back to the names
            return by_id[0]
    source = notebook.metadata.get("course", {}).get("generated_from", "")
    for name in (path.name, Path(str(source)).name):
        if name in solutions:
            return solutions[name]
    inside = [s for s in solutions if Path(s).stem in path.stem]
    return solutions[max(inside, key=len)] if inside else None


def _copy(node):
    """A deep copy of a notebook node (never mutate the inputs), without grading metadata."""
    node = nbformat.from_dict(json.loads(json.dumps(node)))
    node.get("metadata", {}).pop("grading", None)
    return node


def _course(cell) -> dict:
    info = cell.get("metadata", {}).get("course", {})
    return info if isinstance(info, dict) else {}


def _match(solution, student) -> dict[int, object]:
    """Solution cell index -> the student's cell: same id, else the next with the same metadata."""
    by_id = {c.get("id"): c for c in student.cells if c.get("id")}
    solution_ids = {c.get("id") for c in solution.cells}
    by_metadata = {}
    for cell in student.cells:
        if cell.get("id") not in solution_ids and _course(cell):
            key = (_course(cell).get("task"), _course(cell).get("role"))
            by_metadata.setdefault(key, []).append(cell)
    matches = {}
    for index, cell in enumerate(solution.cells):
        key = (_course(cell).get("task"), _course(cell).get("role"))
        if cell.get("id") in by_id:
            matches[index] = by_id[cell.get("id")]
        elif by_metadata.get(key) and key != (None, None):
            matches[index] = by_metadata[key].pop(0)
    return matches


def checks_file() -> Path:
    """``course_utils/checks.py`` of this installation (found without importing PyTorch)."""
    import importlib.util

    return Path(importlib.util.find_spec("course_utils").submodule_search_locations[0]) / "checks.py"


@lru_cache(maxsize=8)
def _check_names_in(source: str) -> frozenset:
    """The names the source of ``checks.py`` defines at its top level (functions, classes)."""
    tree = ast.parse(source)
    kinds = (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)
    return frozenset(node.name for node in tree.body if isinstance(node, kinds))


def _course_names(solution) -> set[str]:
    """Names the solution's own cells import from the course (the references its checks compare with)."""
    names = set()
    for cell in solution.cells:
        tree = _parse(cell.source)[0] if cell.cell_type == "code" and _course(cell).get("role") != "answer" else None
        for node in ast.walk(tree) if tree else []:
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("course_utils") and not node.level:
                names |= {a.asname or a.name for a in node.names if a.name != "*"}
    import course_utils  # light: its modules load on first use

    return names - set(course_utils._MODULES)  # a variable called `shapes` is no attack on the module


def guarded_names(solution, checks_source: str) -> frozenset:
    """Names a student's code must not rebind: the checks, and the course's functions the checks
    compare with (``count_parameters = lambda m: 0`` would change the reference)."""
    return _check_names_in(checks_source) | set(_imported_checks(solution)) | _course_names(solution)


def _imported_checks(solution) -> dict[str, str]:
    """{name in the notebook: name in checks.py, or "" for the module} the solution imported."""
    names = {}
    for cell in solution.cells:
        tree = _parse(cell.source)[0] if cell.cell_type == "code" else None
        for node in ast.walk(tree) if tree else []:
            if isinstance(node, ast.ImportFrom) and node.module == "course_utils.checks" and not node.level:
                names.update({a.asname or a.name: a.name for a in node.names if a.name != "*"})
            elif isinstance(node, ast.ImportFrom) and node.module == "course_utils" and not node.level:
                names.update({a.asname or a.name: "" for a in node.names if a.name == "checks"})
            elif isinstance(node, ast.Import):
                names.update({a.asname: "" for a in node.names if a.name == "course_utils.checks" and a.asname})
    return names


PROLOGUE = """\
def _grader_arm(namespace, names):  # added by `course grade`: fresh checks, exception hooks reset
    import importlib.util, sys
    if names:
        import hashlib
        with open({path!r}, "rb") as f:
            if hashlib.sha256(f.read()).hexdigest() != {digest!r}:
                raise RuntimeError("the grader's copy of the checks was changed")
        spec = importlib.util.spec_from_file_location("_grader_checks_{suffix}", {path!r})
        fresh = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(fresh)
        namespace.update({{mine: getattr(fresh, theirs) if theirs else fresh
                          for mine, theirs in names.items() if not theirs or hasattr(fresh, theirs)}})
    sys.excepthook = sys.__excepthook__
    from IPython import get_ipython
    if get_ipython() is not None:
        get_ipython().set_custom_exc((), None)
_grader_arm(globals(), {names!r}); del _grader_arm
"""
EPILOGUE = (
    'print("[grader: cell complete {token}]")  # added by `course grade`: only a cell that ran to its end prints it'
)


def arm(source: str, names: dict[str, str], token: str, checks_path: Path | str) -> str:
    """A check cell's source between the grader's prologue and epilogue (step 3 of the docstring)."""
    digest = _sha256(Path(checks_path)) or ""
    prologue = PROLOGUE.format(suffix=secrets.token_hex(4), path=str(checks_path), names=names, digest=digest)
    return prologue + source.rstrip() + "\n" + EPILOGUE.format(token=token)


def assemble(solution, student, checks_path: Path | str | None = None):
    """The notebook to run, and {task: [notes]} for missing cells (step 3 of the docstring)."""
    from .exercises import strip_regions

    checks_path = checks_path or checks_file()
    names = _imported_checks(solution)
    matches = _match(solution, student)
    matched = {id(cell): index for index, cell in matches.items()}
    where = {id(cell): number for number, cell in enumerate(student.cells)}
    added, anchor = {}, -1  # cells the student added, by the solution cell they follow
    for cell in student.cells:
        if id(cell) in matched:
            anchor = matched[id(cell)]
        elif cell.cell_type == "code":
            added.setdefault(anchor, []).append(cell)

    def student_cells(index):  # copies of the cells the student added after solution cell `index`
        after = _course(solution.cells[index]).get("task") if index >= 0 else None
        copies = [_copy(c) for c in added.get(index, [])]
        for copy, cell in zip(copies, added.get(index, []), strict=True):
            copy.metadata["grading"] = {"task": None, "role": "added", "from": "student", "cell": where[id(cell)]}
            copy.metadata["grading"]["after_task"] = after
        return copies

    missing, cells = {}, student_cells(-1)
    for index, cell in enumerate(solution.cells):
        info = _course(cell)
        task, role = info.get("task"), info.get("role")
        chosen = cell
        if cell.cell_type == "markdown" or role == "answer":
            chosen = matches.get(index, cell if cell.cell_type == "markdown" else None)
        if role == "answer" and chosen is None:
            missing.setdefault(task, []).append("its answer cell is missing from the submission")
        if role == "check" and index not in matches and strip_regions(cell.source, []).strip():
            missing.setdefault(task, []).append(
                "a check cell was deleted from the submission, so the task is graded as failed: "
                "copy the check cell back from exercises/"
            )
        if chosen is not None:
            origin = "solution" if chosen is cell else "student"
            grading = {"task": task, "role": role, "from": origin}
            if origin == "student":
                grading["cell"] = where[id(chosen)]
            chosen = _copy(chosen)
            if origin == "solution" and role == "check" and chosen.cell_type == "code":
                grading["token"] = token = secrets.token_hex(16)
                chosen.source = arm(chosen.source, names, token, checks_path)
            chosen.setdefault("metadata", {})["grading"] = grading
            cells.append(chosen)
        cells += student_cells(index)
    runnable = nbformat.v4.new_notebook(metadata=_copy(solution.metadata), cells=cells)
    seen = set()
    for number, cell in enumerate(cells):
        if cell.get("id") in seen or not cell.get("id"):  # ids must be unique (and exist)
            cell["id"] = f"graded-{number}"
        seen.add(cell["id"])
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return runnable, missing


# --- reading the student's code (never running it) ------------------------------------------


def _parse(source: str):
    """(AST or None if it does not parse, the IPython magic lines): magics are blanked to ``pass``."""
    lines, magics = source.split("\n"), []
    for number, line in enumerate(lines):
        code = line.lstrip()
        if code.startswith(("!", "%")):
            magics.append(line)
            lines[number] = "" if code.startswith("%%") else line[: len(line) - len(code)] + "pass"
    try:
        return ast.parse("\n".join(lines)), magics
    except (SyntaxError, ValueError):
        return None, magics


def _root(node) -> ast.AST:
    """The innermost object of ``a.b[c].d()``: the Name ``a`` (or a call such as ``__import__(...)``)."""
    while True:
        if isinstance(node, ast.Attribute | ast.Subscript):
            node = node.value
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute | ast.Subscript):
            node = node.func
        else:
            return node


def _short(node) -> str:
    text = ast.unparse(node)
    return text if len(text) <= 60 else text[:57] + "..."


SUSPICIOUS_ATTRIBUTES = {  # attribute or name -> what using it can do to grading
    "excepthook": "exception hooks",
    "set_custom_exc": "exception hooks",
    "showtraceback": "exception hooks",
    "get_ipython": "the IPython shell",
    "InteractiveShell": "the IPython shell",
    "input_transformers_cleanup": "the IPython shell",
    "input_transformers_post": "the IPython shell",
    "ast_transformers": "the IPython shell",
    "reload": "reloading modules",
    "__builtins__": "builtins",
    "_getframe": "the caller's frames",
    "f_globals": "the caller's frames",
    "f_locals": "the caller's frames",
    "f_back": "the caller's frames",
    "currentframe": "the caller's frames",
    "get_objects": "every object in memory",
    "get_referrers": "every object in memory",
}
SUSPICIOUS_MODULES = {"builtins": "builtins", "ctypes": "raw memory", "course_tools": "the grader", "gc": "the heap"}
SUSPICIOUS_CALLS = {"exec", "eval", "compile", "__import__", "import_module", "setattr", "delattr"}
GRADER_FILES = ("course_tools", "course_utils", "build/grading", ".log", "checks.py", "/proc")
SUSPICIOUS_TEXT = re.compile(
    r"course_utils\.checks|import\s+checks|sys\.modules|builtins|excepthook|set_custom_exc|showtraceback|"
    r"get_ipython|InteractiveShell|reload\(|setattr\(|_getframe|f_globals|ctypes|\bexec\(|\beval\(|"
    r"__import__|course_tools|build/grading|\.log\b|/proc|checks\.py|__eq__|__ne__"
)


def review_code(source: str, check_names=frozenset()) -> list[str]:
    """Why a person should read this cell: what it touches of the grading machinery (empty: nothing)."""
    tree, magics = _parse(source)
    reasons, kinds = [], set()

    def note(text):  # one reason of each kind: "uses get_ipython()..." covers "uses get_ipython"
        kind = text.split("(")[-1] if text.endswith(")") else text
        if kind not in kinds:
            kinds.add(kind)
            reasons.append(text)

    for line in magics if tree is not None else source.split("\n"):  # unparsable: read the text
        found = SUSPICIOUS_TEXT.search(line)
        if found:
            note(f"mentions {found.group(0)!r}")
    if tree is None:
        return reasons
    modules = set()  # names bound to imported modules (or names imported from them)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            base = node.module or "" if isinstance(node, ast.ImportFrom) else ""
            for alias in node.names:
                full = f"{base}.{alias.name}" if base else alias.name
                modules.add(alias.asname or (alias.name if base else alias.name.split(".")[0]))
                if full.startswith("course_utils.checks") or full == "course_utils.checks":
                    note("imports course_utils.checks")
                elif full.split(".")[0] in SUSPICIOUS_MODULES:
                    note(f"imports {full.split('.')[0]} ({SUSPICIOUS_MODULES[full.split('.')[0]]})")
                elif alias.name in SUSPICIOUS_ATTRIBUTES:
                    note(f"imports {alias.name} ({SUSPICIOUS_ATTRIBUTES[alias.name]})")
                if base and (alias.asname or alias.name) in check_names and not base.startswith("course_utils"):
                    note(f"rebinds {alias.asname or alias.name}")
        elif isinstance(node, ast.Attribute) and node.attr in SUSPICIOUS_ATTRIBUTES:
            note(f"uses {_short(node)} ({SUSPICIOUS_ATTRIBUTES[node.attr]})")
        elif isinstance(node, ast.Attribute) and node.attr == "modules" and _short(node.value) == "sys":
            note("uses sys.modules")
        elif isinstance(node, ast.Name) and node.id in SUSPICIOUS_ATTRIBUTES:
            note(f"uses {node.id} ({SUSPICIOUS_ATTRIBUTES[node.id]})")
        elif isinstance(node, ast.Name) and node.id in check_names and isinstance(node.ctx, ast.Store | ast.Del):
            note(f"rebinds {node.id}")
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            if node.name in check_names:
                note(f"rebinds {node.name}")
            if node.name in ("__eq__", "__ne__"):
                note(f"defines {node.name} (an answer that equals anything?)")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            for needle in GRADER_FILES:
                if needle in node.value:
                    note(f"mentions {needle!r} (the grader's files)")
    for node in ast.walk(tree):  # the module names are known now
        targets = []
        if isinstance(node, ast.Assign | ast.Delete):
            targets = node.targets
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            root = _root(target)
            if target is not root and (isinstance(root, ast.Call) or getattr(root, "id", None) in modules):
                note(f"assigns {_short(target)} (an imported module's attribute)")
        if isinstance(node, ast.Call):
            # exec/eval/compile called bare or on builtins/importlib; model.eval(), torch.compile() are fine
            on_module = isinstance(node.func, ast.Attribute) and getattr(_root(node.func), "id", None) in {
                "builtins",
                "importlib",
                "__builtins__",
            }
            name = node.func.id if isinstance(node.func, ast.Name) else node.func.attr if on_module else ""
            if name == "type" and len(node.args) == 3:
                note("builds a class with type(name, bases, dict)")
            if name in ("setattr", "delattr") and node.args:
                root = _root(node.args[0])
                if isinstance(root, ast.Call) or getattr(root, "id", None) in modules:
                    note(f"calls {name} on {_short(node.args[0])} (a module?)")
            elif name in SUSPICIOUS_CALLS - {"setattr", "delattr"}:
                note(f"calls {name} (code this review cannot read)")
    return reasons


def review(runnable, check_names=frozenset(), solution_sources=frozenset()) -> list[str]:
    """The ``review`` column: each student cell that touches the grading machinery, and why.

    A cell identical to one of the solution's (a notebook without cell ids: its setup cell comes
    back as a student cell) is the course's own code, not the student's.
    """
    lines = []
    for cell in runnable.cells:
        grading = cell.metadata.get("grading", {})
        if cell.cell_type != "code" or grading.get("from") != "student" or cell.source in solution_sources:
            continue
        reasons = review_code(cell.source, check_names)
        if reasons:
            what = f"task {grading['task']} answer" if grading.get("task") is not None else "added"
            lines.append(f"cell {grading.get('cell', '?')} ({what}): {', '.join(reasons)}")
    return lines


def _task_cells(runnable, task) -> list:
    """The student's cells of ``task``: its answer cells and the cells added after them."""
    return [
        cell
        for cell in runnable.cells
        if cell.cell_type == "code"
        and cell.metadata.get("grading", {}).get("from") == "student"
        and task in (cell.metadata["grading"].get("task"), cell.metadata["grading"].get("after_task"))
    ]


def forbidden_uses(solution, runnable) -> dict[int, str]:
    """{task: feedback} for tasks whose answers use what their ``course.forbid`` metadata names."""
    forbid = {}
    for cell in solution.cells:
        info = _course(cell)
        if info.get("role") == "answer" and isinstance(info.get("forbid"), list):
            forbid.setdefault(info.get("task"), []).extend(str(name) for name in info["forbid"])
    if not forbid:
        return {}
    # (name in the notebook, package, name imported) from `from X import Y`, in the student's cells and
    # in the solution's setup and check cells (an answer may use what the setup cell imported)
    imported = set()
    for cell in runnable.cells:
        if cell.cell_type == "code":
            for node in ast.walk(_parse(cell.source)[0] or ast.Module(body=[], type_ignores=[])):
                if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    imported |= {(a.asname or a.name, node.module.split(".")[0], a.name) for a in node.names}
                elif isinstance(node, ast.Import):  # `import course_utils.models as m`: m is the package's
                    imported |= {(a.asname or a.name.split(".")[0], a.name.split(".")[0], "") for a in node.names}
    found = {}
    for task, names in forbid.items():
        trees = [_parse(c.source)[0] for c in _task_cells(runnable, task)]
        trees = [t for t in trees if t is not None]
        own = {  # names the task's cells define themselves: the student's own function
            node.name if hasattr(node, "name") else node.id
            for tree in trees
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef)
            or (isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store))
        }
        for dotted in names:
            package, last = dotted.split(".")[0], dotted.rsplit(".", 1)[-1]
            tainted = {mine for mine, home, theirs in imported if home == package and theirs == last}
            tainted |= {last for _, home, theirs in imported if home == package and theirs == "*"}
            aliases = {mine for mine, home, _ in imported if home == package}  # modules (or names) of the package
            if any(_uses(tree, package, last, tainted - own, aliases) for tree in trees):
                whose = "the course's own " if package == "course_utils" else ""
                found[task] = f"the answer uses {whose}{last} ({dotted}); write your own"
                break
    return found


def _uses(tree, package: str, last: str, tainted: set, aliases: set = frozenset()) -> bool:
    """Does ``tree`` reference ``package``'s ``last`` (see step 4 of the module docstring)?"""
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == package and not node.level:
            if any(a.name in (last, "*") for a in node.names):
                return True
        elif isinstance(node, ast.Attribute) and node.attr == last:
            root = _root(node)  # `models.vgg_block`, `cu.models.vgg_block`, `__import__(...).vgg_block`
            if isinstance(root, ast.Call) or getattr(root, "id", None) in aliases:
                return True
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "getattr" and len(node.args) >= 2:
            if isinstance(node.args[1], ast.Constant) and node.args[1].value == last:
                return True
        elif isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and node.slice.value == last:
            return True  # vars(module)["name"], module.__dict__["name"]
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in tainted:
            return True
    return False


def _solution_region(source: str) -> tuple[str, str]:
    """The text before the first ``### BEGIN SOLUTION`` line and after the last ``### END SOLUTION``."""
    from .exercises import BEGIN_SOLUTION, END_SOLUTION

    lines = source.split("\n")
    begin = next(i for i, line in enumerate(lines) if line.strip() == BEGIN_SOLUTION)
    ends = [i for i, line in enumerate(lines) if line.strip() == END_SOLUTION] or [len(lines)]
    return "\n".join(lines[:begin]).strip(), "\n".join(lines[ends[-1] + 1 :]).strip()


def _question(prefix: str) -> str:
    """The first question a written answer answers, in one line: ``**Question.** Why...?`` -> ``Why...?``."""
    text = re.sub(r"\*\*Your answer:?\*\*:?", "", prefix)
    text = " ".join(re.sub(r"\*\*Question\.?\*\*|[*_#`]", "", text).split())
    sentences = re.split(r"(?<=[.?!])\s+", text)
    text = next((s for s in sentences if s.endswith("?")), sentences[0])  # the first question asked
    return text if len(text) <= 160 else text[:157] + "..."


def written_answers(solution, student) -> list[dict]:
    """The student's written answers: one dict (task, question, answer, placeholder) per question."""
    from .exercises import BEGIN_SOLUTION, END_SOLUTION, MARKDOWN_STUB, has_solution

    matches = _match(solution, student)
    taken = {id(cell) for cell in matches.values()}
    answers, task = [], None
    for index, cell in enumerate(solution.cells):
        task = _course(cell).get("task", task)
        if cell.cell_type != "markdown" or not has_solution(cell.source):
            continue
        prefix, suffix = _solution_region(cell.source)
        mine = matches.get(index)
        first = prefix.split("\n")[0].strip()
        if mine is None or mine.cell_type != "markdown":  # its id changed: the cell that asks the question
            mine = next(
                (c for c in student.cells if c.cell_type == "markdown" and id(c) not in taken and first in c.source),
                None,
            )
        text = mine.source if mine is not None else ""
        if prefix and prefix in text:
            text = text.split(prefix, 1)[1]
        if suffix and suffix in text:
            text = text.rsplit(suffix, 1)[0]
        text = "\n".join(line for line in text.split("\n") if line.strip() not in (BEGIN_SOLUTION, END_SOLUTION))
        text = text.strip()
        if mine is not None:  # an answer written in new markdown cells below the question counts too
            after = student.cells[[id(c) for c in student.cells].index(id(mine)) + 1 :]
            added = []
            for extra in after:
                if id(extra) in taken:
                    break
                if extra.cell_type == "markdown" and extra.source.strip():
                    added.append(extra.source.strip())
            if added:
                text = "\n\n".join(([] if text == MARKDOWN_STUB else [text]) + added).strip()
        placeholder = not text or text == MARKDOWN_STUB
        answers.append({"task": task or "", "question": _question(prefix), "answer": text, "placeholder": placeholder})
    return answers


# --- running, in a separate process -------------------------------------------------------


def run_isolated(runnable, timeout: int, log: Path, sandbox: bool = False):
    """Execute ``runnable`` in a child process; return ``(executed notebook or None, status dict)``.

    The notebook goes to the runner through a pipe and comes back through another that the kernel
    never inherits, so no file on disk holds the check cells' tokens, and the code under test can
    neither read them there nor forge the result. A runner that dies (killed, say, by the code it
    runs) gives an error row. Every process the run leaves behind is stopped and killed.
    """
    read_end, write_end = os.pipe()
    command = [sys.executable, "-m", "course_tools.grading", "--execute", str(write_end), str(timeout)]
    command += ["--sandbox"] if sandbox else []
    became = _become_subreaper()  # orphans of the run come to us, not to init, so none escapes
    before = _descendants(os.getpid())
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)  # never write through a link
    received, child = [], None
    try:
        with os.fdopen(os.open(log, flags, 0o600), "wb") as out:
            child = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=out, stderr=subprocess.STDOUT, pass_fds=(write_end,)
            )
            os.close(write_end)
            reader = threading.Thread(target=lambda: received.append(_read_all(read_end)), daemon=True)
            reader.start()
            try:
                child.stdin.write(nbformat.writes(runnable).encode("utf-8"))
                child.stdin.close()
            except BrokenPipeError:
                pass
            try:
                child.wait(timeout=timeout + STARTUP_ALLOWANCE)
            except subprocess.TimeoutExpired:
                message = f"stopped after {timeout + STARTUP_ALLOWANCE} s: the runner did not finish"
                return None, {"status": "timeout", "message": message}
            reader.join(timeout=30)
    finally:
        if child is not None and child.poll() is None:
            child.kill()
            child.wait()
        _kill_descendants(os.getpid(), spare=before if became else set())
    try:
        executed = nbformat.reads(received[0].decode("utf-8"), as_version=4)
        if child.returncode != 0:
            raise ValueError(child.returncode)
        return executed, dict(executed.metadata["grading"])
    except Exception:
        return None, {"status": "error", "message": f"the runner failed (exit code {child.returncode}); see {log}"}


def _read_all(fd: int) -> bytes:
    with os.fdopen(fd, "rb") as pipe:
        return pipe.read()


def _descendants(pid: int) -> set[int]:
    import psutil  # a dependency of ipykernel, pinned

    try:
        return {p.pid for p in psutil.Process(pid).children(recursive=True)}
    except psutil.Error:
        return set()


def _kill_descendants(pid: int, spare: set[int] = frozenset(), seconds: float = 10) -> None:
    """Kill every descendant of ``pid`` except ``spare``: stop them all (a stopped process cannot
    fork), again and again until no new one appears, then kill them."""
    import psutil

    deadline, stopped = time.monotonic() + seconds, {}
    while time.monotonic() < deadline:
        try:
            found = [p for p in psutil.Process(pid).children(recursive=True) if p.pid not in spare]
        except psutil.Error:
            break
        new = [p for p in found if p.pid not in stopped]
        if not new:
            break
        for process in new:
            stopped[process.pid] = process
            with contextlib.suppress(psutil.Error):
                process.suspend()
    for process in stopped.values():
        with contextlib.suppress(psutil.Error):
            process.kill()
    psutil.wait_procs(list(stopped.values()), timeout=5)


def _become_subreaper() -> bool:
    """Linux: orphaned descendants are re-parented to this process, so none can slip away."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        return ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _reap_children() -> None:
    """Kill every descendant of this process, then collect their exit statuses."""
    _kill_descendants(os.getpid())
    while True:
        try:
            if os.waitpid(-1, os.WNOHANG)[0] == 0:
                return
        except ChildProcessError:
            return


def sandbox_prefix() -> list[str] | None:
    """The command that puts a kernel in a network namespace of its own, or None where it cannot."""
    unshare = shutil.which("unshare")
    if not sys.platform.startswith("linux") or not unshare:
        return None
    # its own network (none) and its own process numbers: it cannot see, signal or outlive the grader
    command = [unshare, "--net", "--pid", "--fork", "--kill-child", "--mount-proc"]
    command += [] if os.geteuid() == 0 else ["--map-root-user"]
    try:
        if subprocess.run([*command, "true"], capture_output=True, timeout=10).returncode != 0:
            return None
    except (OSError, subprocess.SubprocessError):
        return None
    return command


def _execute(result_fd: int, timeout: int, sandbox: bool = False) -> None:
    """The runner (``python -m course_tools.grading --execute FD TIMEOUT``): the notebook comes on
    stdin; all its cells run; the executed notebook goes to the pipe ``FD``, which the kernel does
    not inherit."""
    import tempfile

    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    _become_subreaper()

    class CappedClient(NotebookClient):
        """nbclient, keeping at most OUTPUT_CAP characters of output per cell (errors and tokens always)."""

        def output(self, outs, msg, display_id, cell_index):
            content, kind = msg["content"], msg["msg_type"]
            text = content.get("text", "") if kind == "stream" else ""
            size = len(text) if kind == "stream" else len(json.dumps(content))
            room = OUTPUT_CAP - self.output_sizes.get(cell_index, 0)
            self.output_sizes[cell_index] = OUTPUT_CAP - room + size
            if kind == "error":  # kept, but not a 30 MB message
                content["evalue"] = str(content.get("evalue", ""))[:ERROR_CAP]
                content["traceback"] = [str(line)[:ERROR_CAP] for line in content.get("traceback", [])[:50]]
                return super().output(outs, msg, display_id, cell_index)
            if size <= room:
                return super().output(outs, msg, display_id, cell_index)
            if room > 0:  # the first output over the cap: keep what fits, then say so
                if kind == "stream":
                    content["text"] = text[:room]
                    super().output(outs, msg, display_id, cell_index)
                outs.append(
                    nbformat.v4.new_output(
                        "stream",
                        name="stderr",
                        text=(f"\n[grader: output beyond {OUTPUT_CAP:,} characters was dropped]\n"),
                    )
                )
            token = self.nb.cells[cell_index].metadata.get("grading", {}).get("token")
            if token and token in text:  # a check cell's token is never dropped
                outs.append(nbformat.v4.new_output("stream", name="stdout", text=f"[grader: cell complete {token}]\n"))
            return None

    def executed(cell, cell_index, execute_reply):  # the kernel's own verdict, even if no error was shown
        cell.metadata.setdefault("grading", {})["reply"] = execute_reply.get("content", {}).get("status")

    os.set_inheritable(result_fd, False)
    with contextlib.suppress(ImportError, ValueError, OSError):  # the kernel inherits it: no disk-filling log
        import resource

        resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_CAP, FILE_CAP))
    notebook = nbformat.reads(sys.stdin.buffer.read().decode("utf-8"), as_version=4)
    with open(os.devnull, "rb") as nothing:  # the kernel inherits stdin: give it nothing to read
        os.dup2(nothing.fileno(), 0)
    deadline, running = [], [None]

    def remaining(cell):  # the clock starts with the first cell, not with the kernel
        if not deadline:
            deadline.append(time.monotonic() + timeout)
        return max(1, deadline[0] - time.monotonic())

    def starting(cell, cell_index):  # remember the cell that runs, in case the run stops there
        running[0] = cell_index

    data = os.environ.get("COURSE_DATA_DIR")
    if data:  # the kernel runs elsewhere: a relative data folder must still point here
        os.environ["COURSE_DATA_DIR"] = str(Path(data).expanduser().resolve())
    prefix = sandbox_prefix() if sandbox else []
    status, message, reason, start = "ok", "", "", time.monotonic()
    with (
        tempfile.TemporaryDirectory(prefix="grading-kernel-") as kernels,
        tempfile.TemporaryDirectory(prefix="grading-cwd-", ignore_cleanup_errors=True) as cwd,
    ):
        # Run the kernel of THIS Python, even if a user-wide "python3" kernel points elsewhere.
        spec = Path(kernels, "kernels", "python3")
        spec.mkdir(parents=True)
        argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
        (spec / "kernel.json").write_text(
            json.dumps({"argv": (prefix or []) + argv, "display_name": "Python 3", "language": "python"})
        )
        os.environ["JUPYTER_PATH"] = kernels
        client = CappedClient(
            notebook,
            kernel_name="python3",
            allow_errors=True,
            timeout_func=remaining,
            shutdown_kernel="immediate",
            on_cell_execute=starting,
            on_cell_executed=executed,
            resources={"metadata": {"path": cwd}},
        )
        client.output_sizes = {}
        try:
            if prefix:  # no network in there, not even loopback: talk over Unix sockets
                client.km = client.create_kernel_manager()
                client.km.transport, client.km.ip = "ipc", str(Path(kernels, "ipc"))
            client.execute()
        except CellTimeoutError:
            status, message, reason = "timeout", f"timed out after {timeout} s", "the time limit ran out"
        except DeadKernelError:
            status, reason = "error", "the kernel died"
            message = "the kernel died (out of memory, or the code exited Python)"
        except Exception as err:
            status, message, reason = "error", f"{type(err).__name__}: {err}", "the run failed"
        finally:
            _reap_children()  # whatever the code started, in any session, before its folder goes
    if sandbox and prefix is None:
        message = (message + "; " if message else "") + "--sandbox: unshare --net is not available here"
    notebook.metadata["grading"] = {
        "status": status,
        "message": message,
        "reason": reason,
        "stopped_at": running[0],
        "seconds": round(time.monotonic() - start, 1),
    }
    with os.fdopen(result_fd, "wb") as result:
        result.write(nbformat.writes(notebook).encode("utf-8"))


# --- scoring ----------------------------------------------------------------------------


def _hint(error) -> str:
    """The feedback for one error output."""
    name, value = error.get("ename", "Error"), " ".join(str(error.get("evalue", "")).split())
    if name == "NotImplementedError":
        text = f"not attempted ({value})"
    elif name == "CheckFailed":
        text = value
    else:
        text = f"{name}: {value}"
    return text[:300]


def score(executed, missing: dict) -> tuple[dict, list[str]]:
    """{task: passed?} and feedback lines, read from the executed notebook's outputs."""
    info = executed.metadata.get("grading", {})
    stopped = info.get("stopped_at") if info.get("status") != "ok" else None
    reason = info.get("reason") or "the run stopped"
    problems = {task: lines[0] for task, lines in missing.items()}
    notes = []
    for index, cell in enumerate(executed.cells):
        grading = cell.metadata.get("grading", {})
        task = grading.get("task")
        if cell.cell_type != "code" or not cell.source.strip() or task in problems:
            continue
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        printed = "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")
        if stopped is not None and index >= stopped:
            problem = f"{reason} in this task" if index == stopped else f"not run ({reason} earlier)"
        elif errors:
            problem = _hint(errors[0])
        elif cell.get("execution_count") is None:
            problem = "not run"
        elif grading.get("reply") == "error":
            problem = "an error was raised but not shown (were the exception hooks changed?)"
        elif grading.get("token") and grading["token"] not in printed:
            problem = "the check cell did not run to its end (were the checks switched off?)"
        else:
            continue
        if task is not None:
            problems[task] = problem
        elif errors and errors[0].get("ename") != "NotImplementedError":  # e.g. a setup cell failed
            origin = "added by the student" if grading.get("role") == "added" else grading.get("from", "added")
            notes.append(f"cell {index} ({origin}): {problem}")
    tasks = sorted({c.metadata.get("grading", {}).get("task") for c in executed.cells} - {None} | set(missing))
    passed = {task: task not in problems for task in tasks}
    return passed, [f"task{t}: {problems[t]}" for t in tasks if t in problems] + notes[:1]


def grade_one(
    path: Path,
    solutions_dir: Path,
    executed_path: Path,
    timeout: int,
    sandbox: bool = False,
    checks_source: bytes | None = None,
    solution_texts: dict | None = None,
) -> Row:
    """Grade one submission into a `Row`; never raises, never writes to ``path``.

    ``checks_source`` (default: read now) is the checks.py the check cells load, from a copy
    beside the executed notebook; ``solution_texts`` ({path: text}, read once by `grade_main`)
    keeps a submission that writes to the solutions from changing how the next ones are graded.
    """
    row = Row(submission=str(path))
    start = time.monotonic()
    try:
        raw = path.read_bytes()
        if not raw.strip():
            row.feedback.append("the file is empty")
            return row
        try:
            student = nbformat.reads(raw.decode("utf-8"), as_version=4)
            student.cells  # noqa: B018 - a JSON file that is no notebook fails here
        except Exception as err:
            row.feedback.append(f"not a valid notebook ({type(err).__name__}: {' '.join(str(err).split())[:200]})")
            return row
        solution_path = find_solution(path, student, solutions_dir)
        if solution_path is None:
            row.feedback.append(f"no matching solution notebook in {solutions_dir}")
            return row
        row.exercise = solution_path.name
        text = (solution_texts or {}).get(solution_path) or solution_path.read_text(encoding="utf-8")
        solution = nbformat.reads(text, as_version=4)
        checks_source = checks_source or checks_file().read_bytes()
        checks_copy = executed_path.with_name(executed_path.stem + ".checks.py")
        _replace(checks_copy, checks_source.decode("utf-8"))  # never through a link planted there
        runnable, missing = assemble(solution, student, checks_copy.resolve())
        row.written = written_answers(solution, student)
        check_names = guarded_names(solution, checks_source.decode("utf-8"))
        row.review = review(runnable, check_names, {c.source for c in solution.cells if c.cell_type == "code"})
        for task, problem in forbidden_uses(solution, runnable).items():
            missing.setdefault(task, []).append(problem)
        executed, result = run_isolated(runnable, timeout, executed_path.with_suffix(".log"), sandbox)
        if executed is None:  # the run stopped before the runner could send the notebook back
            executed = runnable
        executed.metadata["grading"] = result
        _replace(executed_path, nbformat.writes(executed))
        row.status = result["status"]
        row.tasks, row.feedback = score(executed, missing)
        if row.status != "ok":
            row.feedback.insert(0, result.get("message", row.status))
        elif result.get("message"):
            row.feedback.append(result["message"])
        if _sha256(checks_copy) != hashlib.sha256(checks_source).hexdigest():
            row.tasks = dict.fromkeys(row.tasks, False)
            row.feedback.insert(0, "the grader's copy of the checks was changed while this submission ran")
            row.review.append(f"changed the grader's copy of the checks ({checks_copy.name})")
    except Exception as err:  # a bug or an odd file must not stop the other submissions
        row.status = "error"
        row.feedback.append(f"grader error: {type(err).__name__}: {err}")
    finally:
        row.seconds = round(time.monotonic() - start, 1)
    return row


def write_gradebook(rows: list[Row], out: Path) -> None:
    """One row per submission, one column per task (see the module docstring)."""
    n_tasks = max((max(r.tasks, default=0) for r in rows), default=0)
    columns = [
        "submission",
        "exercise",
        "status",
        "seconds",
        *[f"task{t}" for t in range(1, n_tasks + 1)],
        "total",
        "out_of",
        "feedback",
        "review",
    ]
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        for r in rows:
            writer.writerow(
                {
                    "submission": r.submission,
                    "exercise": r.exercise,
                    "status": r.status,
                    "seconds": r.seconds,
                    **{f"task{t}": "pass" if ok else "fail" for t, ok in r.tasks.items()},
                    "total": sum(r.tasks.values()),
                    "out_of": len(r.tasks) or "",
                    "feedback": "; ".join(r.feedback),
                    "review": "; ".join(r.review),
                }
            )


def write_written_answers(rows: list[Row], out: Path) -> None:
    """``written_answers.csv``: one row per submission and written answer, for grading by hand."""
    columns = ["submission", "exercise", "task", "question", "answer", "placeholder"]
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        for r in rows:
            for answer in r.written:
                placeholder = "yes" if answer["placeholder"] else "no"
                writer.writerow(
                    {"submission": r.submission, "exercise": r.exercise, **answer, "placeholder": placeholder}
                )


def _replace(path: Path, text: str) -> None:
    """Write ``path`` by renaming a new file onto it: a link planted there is replaced, not followed."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".grading-")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(temporary, path)


def _sha256(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


def grade_main(
    submissions,
    timeout: int = 300,
    out="gradebook.csv",
    work="build/grading",
    solutions=None,
    sandbox: bool = False,
) -> int:
    """``course grade``: grade every submission, write the gradebook, print a summary.

    Returns 0 when the gradebook is written, 1 if a submission changed while grading (it must
    not), 2 for a path that does not exist, when there are no solutions to grade against, or
    when --sandbox cannot work here.
    """
    from . import course_folder

    paths = expand(submissions)
    absent = [str(p) for p in paths if not p.is_file()]
    if absent or not paths:
        print(
            f"error: no such file: {', '.join(absent)}" if absent else "error: no notebooks to grade", file=sys.stderr
        )
        return 2
    solutions_dir = Path(solutions) if solutions else course_folder("solutions")
    if not any(solutions_dir.glob("*.ipynb")):
        print(f"error: no solution notebooks in {solutions_dir}", file=sys.stderr)
        return 2
    if sandbox and sandbox_prefix() is None:
        print("error: --sandbox needs Linux and a working `unshare --net`; grade in a container", file=sys.stderr)
        return 2
    work, out = Path(work), Path(out)
    written = out.with_name(WRITTEN_ANSWERS if out.name != WRITTEN_ANSWERS else f"{out.stem}-2.csv")
    work.mkdir(parents=True, exist_ok=True)
    before = {p: _sha256(p) for p in paths}
    protected = {p.resolve() for p in paths}
    for option, target in (("--out", out), ("the written answers", written)):
        if target.resolve() in protected:
            print(f"error: {option} {target} is one of the submissions", file=sys.stderr)
            return 2
    copies = [
        work / re.sub(r"[^A-Za-z0-9._-]", "_", f"{number:03d}-{path.parent.name}-{path.name}")
        for number, path in enumerate(paths, start=1)
    ]
    if any(copy.resolve() in protected for copy in copies):
        print(f"error: an executed copy in {work} would overwrite a submission; use another --work", file=sys.stderr)
        return 2
    checks_source = checks_file().read_bytes()  # read once: what the course ships now
    solution_texts = {p: p.read_text(encoding="utf-8") for p in sorted(solutions_dir.glob("*.ipynb"))}
    print("Grading runs each submission's code with your permissions: see `course_tools.grading`.")
    rows = []
    for path, executed_path in zip(paths, copies, strict=True):
        row = grade_one(path, solutions_dir, executed_path, timeout, sandbox, checks_source, solution_texts)
        rows.append(row)
        write_gradebook(rows, out)  # after every submission: a run stopped half-way keeps what it graded
        print(
            f"{path}: {sum(row.tasks.values())}/{len(row.tasks)} tasks, {row.status}, {row.seconds:.1f}s"
            + (f" - {'; '.join(row.feedback)}" if row.feedback else "")
            + (f" [review: {'; '.join(row.review)}]" if row.review else ""),
            flush=True,
        )
    write_gradebook(rows, out)
    write_written_answers(rows, written)
    print(f"\ngradebook: {out}; written answers: {written}; executed copies: {work}/")
    changed = [str(p) for p in paths if _sha256(p) != before[p]]
    if changed:
        print(f"error: these submissions changed while grading: {', '.join(changed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # the runner that run_isolated starts; instructors use `course grade`
    if len(sys.argv) not in (4, 5) or sys.argv[1] != "--execute" or sys.argv[4:] not in ([], ["--sandbox"]):
        sys.exit("usage: python -m course_tools.grading --execute RESULT_FD TIMEOUT [--sandbox] (use `course grade`)")
    _execute(int(sys.argv[2]), int(sys.argv[3]), sandbox=sys.argv[4:] == ["--sandbox"])
