"""Finding a submission's solution and assembling the notebook the grader runs.

The student's answer cells go into the solution's order; every other code cell is the
solution's own, and each check cell is armed (`arm`): a fresh copy of the checks, exception hooks
reset, and a token only a cell that ran to its end prints. See `course_tools.grading`, steps 2-3.
"""

from __future__ import annotations

import ast
import hashlib
import json
import secrets
import textwrap
from functools import lru_cache
from pathlib import Path

import nbformat


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


CHECK_MODULES = {  # key of a check file -> the module name its imports know it by, in loading order
    "checks": "course_utils.checks",
    "base": "course_utils.exercise_checks",
    "exercise.*": "course_utils.exercise_checks.{part}",  # modules the exercise's checks import
    "exercise": "course_utils.exercise_checks.{exercise_id}",
    "hidden": "_grader_hidden_tests",
}


def _check_parts(sources: list[str], folder: Path) -> list[str]:
    """The modules of ``exercise_checks/`` these sources import, each after the ones it imports."""
    order = []

    def visit(source: str) -> None:
        for node in ast.walk(_parse(source)[0] or ast.Module(body=[], type_ignores=[])):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module == "course_utils.exercise_checks":
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("course_utils.exercise_checks."):
                names = [node.module.rsplit(".", 1)[1]]
            elif isinstance(node, ast.Import):  # `import course_utils.exercise_checks.x as y`: see the test
                names = [
                    a.name.rsplit(".", 1)[1] for a in node.names if a.name.startswith("course_utils.exercise_checks.")
                ]
            for name in names:
                if name not in order and (folder / f"{name}.py").is_file():
                    order.append(name)  # placed before its own imports are known: moved after them below
                    visit((folder / f"{name}.py").read_text(encoding="utf-8"))
                    order.remove(name)
                    order.append(name)

    for source in sources:
        visit(source)
    return order


def check_sources(exercise: str, solutions_dir: Path | None = None) -> dict[str, bytes]:
    """The check files a submission of ``exercise`` (an exercise id) is graded with, in loading order:
    the course's ``checks.py``, ``exercise_checks/__init__.py``, the modules ``exercise_checks/<id>.py``
    imports from that folder (``exercise.<name>``), ``exercise_checks/<id>.py`` itself, and the
    instructor's ``<solutions>/hidden_tests/<id>.py`` (each only where it exists)."""
    folder = checks_file().parent
    paths = {"checks": folder / "checks.py", "base": folder / "exercise_checks" / "__init__.py"}
    exercise_path = folder / "exercise_checks" / f"{exercise}.py"
    hidden_path = Path(solutions_dir or ".") / "hidden_tests" / f"{exercise}.py"
    if exercise:
        texts = [p.read_text(encoding="utf-8") for p in (exercise_path, hidden_path) if p.is_file()]
        for part in _check_parts(texts, folder / "exercise_checks"):
            if part != exercise:
                paths[f"exercise.{part}"] = folder / "exercise_checks" / f"{part}.py"
        paths["exercise"] = exercise_path
        if solutions_dir is not None:
            paths["hidden"] = hidden_path
    return {key: path.read_bytes() for key, path in paths.items() if path.is_file()}


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

    return names - set(course_utils.MODULES)  # a variable called `shapes` is no attack on the module


def guarded_names(solution, checks_source: str, exercise_source: str | None = None) -> frozenset:
    """Names a student's code must not rebind: the checks, and the course's functions the checks
    compare with (``count_parameters = lambda m: 0`` is suspect: the checks once read it from the
    notebook; the exercise's check module, ``exercise_source`` by default read from the course, now
    holds its own)."""
    if exercise_source is None:
        path = checks_file().parent / "exercise_checks" / f"{exercise_id(solution.metadata) or '-'}.py"
        exercise_source = path.read_text(encoding="utf-8") if path.is_file() else ""
    module = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(exercise_source)])
    course = _course_names(solution) | _course_names(module)
    return _check_names_in(checks_source) | set(_imported_checks(solution)) | course


def _imported_checks(solution) -> dict[str, tuple[str, str]]:
    """{name in the notebook: (check file key, name in it, or "" for the module)} the solution imported:
    ``check`` from ``course_utils.exercise_checks.<id>``, ``check_equal`` from ``course_utils.checks``."""
    names = {}
    for cell in solution.cells:
        tree = _parse(cell.source)[0] if cell.cell_type == "code" else None
        for node in ast.walk(tree) if tree else []:
            module = node.module or "" if isinstance(node, ast.ImportFrom) and not node.level else None
            if module == "course_utils.checks":
                names.update({a.asname or a.name: ("checks", a.name) for a in node.names if a.name != "*"})
            elif module is not None and module.startswith("course_utils.exercise_checks."):
                names.update({a.asname or a.name: ("exercise", a.name) for a in node.names if a.name != "*"})
            elif module == "course_utils":
                names.update({a.asname or a.name: ("checks", "") for a in node.names if a.name == "checks"})
            elif isinstance(node, ast.Import):
                aliases = [a.asname for a in node.names if a.name == "course_utils.checks" and a.asname]
                names.update(dict.fromkeys(aliases, ("checks", "")))
    return names


PROLOGUE = """\
def _grader_arm(namespace, names, files):  # added by `course grade`: fresh checks, exception hooks reset
    import hashlib, importlib.util, sys
    fresh, saved = {{}}, {{name: sys.modules.get(name) for _, name, _, _ in files}}
    try:  # each file loaded anew, its imports of the others finding the fresh copies
        for key, name, path, digest in files:
            with open(path, "rb") as f:
                if hashlib.sha256(f.read()).hexdigest() != digest:
                    raise RuntimeError("the grader's copy of the checks was changed")
            spec = importlib.util.spec_from_file_location(f"_grader_{{key}}_{suffix}", path)
            fresh[key] = sys.modules[name] = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(fresh[key])
            if name.startswith("course_utils.exercise_checks.") and "base" in fresh:  # for `from ... import part`
                setattr(fresh["base"], name.rsplit(".", 1)[1], fresh[key])
    finally:
        for name, module in saved.items():
            sys.modules.pop(name, None) if module is None else sys.modules.__setitem__(name, module)
    namespace.update({{mine: getattr(fresh[key], theirs) if theirs else fresh[key]
                      for mine, (key, theirs) in names.items()
                      if key in fresh and (not theirs or hasattr(fresh[key], theirs))}})
    sys.excepthook = sys.__excepthook__
    from IPython import get_ipython
    if get_ipython() is not None:
        get_ipython().set_custom_exc((), None)
    hidden = vars(fresh["hidden"]).values() if "hidden" in fresh else ()
    return [tests for tests in hidden if isinstance(tests, fresh["base"].Tasks)]
_grader_hidden_{suffix} = _grader_arm(globals(), {names!r}, {files!r}); del _grader_arm
"""

HIDDEN_CALL = """\
def _grader_report_{suffix}(failed, tests=_grader_hidden_{suffix}, namespace=globals()):  # added by `course grade`
    import json
    verdicts = [verdict for hidden in tests for verdict in hidden.verdicts({task}, namespace, gates=not failed)]
    print("{marker} " + json.dumps({{"check_passed": not failed, "hidden": verdicts}}))
    if tests and not failed:  # a failed hidden test without points fails the cell, as the visible check would
        tests[0].raise_first_failed_gate(verdicts)
try:  # added by `course grade`: the cell's own code, then Task {task}'s hidden tests, each on its own
{source}
except BaseException:
    _grader_report_{suffix}(failed=True)
    raise
_grader_report_{suffix}(failed=False)
del _grader_report_{suffix}
"""

EPILOGUE = (
    'print("[grader: cell complete {token}]")  # added by `course grade`: only a cell that ran to its end prints it'
)


def complete_marker(token: str) -> str:
    """What only an armed check cell that ran to its end prints (`EPILOGUE`)."""
    return f"[grader: cell complete {token}]"


def verdicts_marker(token: str) -> str:
    """What starts the line of an armed check cell's hidden-test verdicts (JSON after it, on the same line)."""
    return f"[grader: verdicts {token}]"


def _check_files(paths, exercise: str) -> list[tuple[str, str, str, str]]:
    """(key, module name, path, sha256) of each check file, in the order they load."""
    if not isinstance(paths, dict):
        paths = {"checks": paths}
    files = []
    for key, path in paths.items():  # in the order check_sources gave them
        template = CHECK_MODULES["exercise.*" if key.startswith("exercise.") else key]
        name = template.format(exercise_id=exercise, part=key.removeprefix("exercise."))
        files.append((key, name, str(path), _sha256(Path(path)) or ""))
    return files


def arm(source: str, names: dict, token: str, checks_paths, exercise: str = "", hidden_task: int | None = None) -> str:
    """A check cell's source between the grader's prologue and epilogue (step 3 of the docstring):
    ``checks_paths`` is checks.py's path, or {key of `CHECK_MODULES`: path}; ``hidden_task``: run
    that task's hidden tests after the cell's own code, each on its own, and print their verdicts in one
    line (`verdicts_marker`) after all the cell's code ran, even when the cell's own check failed."""
    suffix = secrets.token_hex(4)
    names = {mine: (given if isinstance(given, tuple) else ("checks", given)) for mine, given in names.items()}
    prologue = PROLOGUE.format(suffix=suffix, names=names, files=_check_files(checks_paths, exercise))
    body = source.rstrip() + "\n"
    if hidden_task is not None:  # the hidden tests run even when the cell's own check failed: partial credit
        indented = textwrap.indent(source.rstrip(), "    ") or "    pass"
        body = HIDDEN_CALL.format(suffix=suffix, task=hidden_task, marker=verdicts_marker(token), source=indented)
    return prologue + body + f"del _grader_hidden_{suffix}\n" + EPILOGUE.format(token=token)


def assemble(solution, student, checks_path: Path | str | None = None):
    """The notebook to run, and {task: [notes]} for missing cells (step 3 of the docstring)."""
    checks_path = checks_path or checks_file()
    names, exercise = _imported_checks(solution), exercise_id(solution.metadata)
    last_check = {_course(c).get("task"): i for i, c in enumerate(solution.cells) if _course(c).get("role") == "check"}
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
        if role == "check" and index not in matches and cell.source.strip():
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
            if origin == "solution" and chosen.cell_type == "markdown":  # a deleted written answer's cell
                chosen.source = _exercise_text(chosen.source)
            if origin == "solution" and role == "check" and chosen.cell_type == "code":
                grading["token"] = token = secrets.token_hex(16)
                hidden_task = task if last_check.get(task) == index else None
                grading["hidden"] = hidden_task is not None  # its verdicts line is the task's hidden tests'
                chosen.source = arm(chosen.source, names, token, checks_path, exercise, hidden_task)
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


def _exercise_text(source: str) -> str:
    """A solution markdown cell as the exercise has it: each model answer replaced by the stub, so
    the executed copy in build/grading/ never holds one (unpaired markers: the question alone)."""
    from ..notebook_transforms import MARKDOWN_STUB, MarkerError, around_solution, has_solution, strip_solution

    if not has_solution(source):
        return source
    try:
        return strip_solution(source, [MARKDOWN_STUB])
    except MarkerError:
        return around_solution(source)[0] + "\n\n" + MARKDOWN_STUB


def _sha256(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


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
