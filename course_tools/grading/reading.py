"""Reading the student's code, never running it: the ``review`` column, ``course.forbid`` and the
written answers. See `course_tools.grading`, step 4.
"""

from __future__ import annotations

import ast
import re

from .assemble import _course, _match, _parse
from .records import WrittenAnswer
from .scoring import points_value


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


def _question(prefix: str) -> str:
    """The question a written answer answers, as plain text: ``**Question.** Why...?`` -> ``Why...?``."""
    text = re.sub(r"\*\*Your answer:?\*\*:?", "", prefix)
    text = " ".join(re.sub(r"\*\*Question\.?\*\*|[*_#`]", "", text).split())
    return text if len(text) <= 600 else text[:597] + "..."


def _section_task(cell, task):
    """The task a markdown cell belongs to: a heading ``## Task 3: ...`` starts Task 3, any other
    heading (``## Questions``) leaves the tasks; other cells stay in the task before them."""
    heading = next((line for line in cell.source.split("\n") if line.startswith("## ")), None)
    if cell.cell_type != "markdown" or heading is None:
        return task
    found = re.match(r"## Task (\d+)\b", heading)
    return int(found.group(1)) if found else None


def written_answers(solution, student) -> list[WrittenAnswer]:
    """The student's written answers, one per question (a solution markdown cell with a solution
    region), each worth that cell's ``course.points`` (default 1), to be scored by hand."""
    from ..notebook_transforms import MARKDOWN_STUB, around_solution, drop_marker_lines, has_solution

    matches = _match(solution, student)
    taken = {id(cell) for cell in matches.values()}
    answers, task = [], None
    for index, cell in enumerate(solution.cells):
        task = _course(cell).get("task", _section_task(cell, task))
        if cell.cell_type != "markdown" or not has_solution(cell.source):
            continue
        prefix, suffix = around_solution(cell.source)
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
        text = drop_marker_lines(text).strip()
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
        worth = points_value(_course(cell).get("points", 1), f"the solution's written answer in cell {index}")
        answers.append(WrittenAnswer(task or "", _question(prefix), text, placeholder, max_points=worth))
    return answers
