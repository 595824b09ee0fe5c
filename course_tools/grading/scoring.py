"""Scoring an executed notebook: each task's points, its checks' verdicts and the feedback lines.

Points (issue 25). An instructor gives them in two places, both read from the solution and its
hidden tests, never from a submission:

- A task's own points: ``metadata.course.points`` (default 1) on any one of the task's cells in
  the solution notebook; by convention on its check cell (the one that says ``check(task=N)``).
  A written answer (a markdown cell with a solution region) takes its points the same way from
  its own cell: `records.WrittenAnswer.max_points`, scored by hand.
- Partial credit: ``points=`` on a hidden test (``@hidden(4, "backward", answers=[...], points=1)``
  in ``<solutions>/hidden_tests/<id>.py``). The grader reads the task number and ``points=`` of
  each hidden test from that file's text (`hidden_scheme`), so both must be plain numbers.

A task earns its own points when every cell of the task ran without an error, each check cell
ran to its end, its visible check passed, and every hidden test WITHOUT points passed (the
gate); it earns nothing of them otherwise. On top of that, each hidden test WITH points that
passed gives its points, even when the gate failed: a solution half right gets half the credit.
A hidden test that could not run (its cell timed out, the kernel died, its verdict is missing)
gives nothing. A task the assembly or the reading already failed (a deleted check cell, a
missing answer cell, a ``course.forbid`` name used) earns nothing at all, hidden tests included.

Verdicts. Each visible check is one check cell: its name is the check cell's
``course.title`` (the task's title), it passed unless the cell failed, and its hint is the
cell's error in one line. Each hidden test is named by its function's name made readable
(``other_gradients`` -> "other gradients"): the name is the only part of a hidden test a student
sees, never its code. The last check cell of a task runs the hidden tests one by one after its
own code, each failure caught, and prints their verdicts as ONE line, after all the cell's code
ran: ``[grader: verdicts TOKEN] {"check_passed": ..., "hidden": [...]}`` (`assemble.HIDDEN_CALL`),
then raises the first failed gate test's error, so the gate fails in the notebook itself, as
before. A student's code that prints such a line (it can learn the cell's token while the cell
runs) is not believed: the grader reads the LAST verdicts line printed before the cell's first
error, or before its last "cell complete" line, and that is the grader's own, printed after all
the student's code in the cell. Code that prints after the cell (an IPython event hook) or
replaces ``print`` can still forge it, as it could forge the token before; the ``review`` column
flags such code.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass, field

from .assemble import complete_marker, exercise_id, verdicts_marker
from .records import CheckResult, TaskResult


class PointsError(ValueError):
    """Points an instructor gave that the grader cannot use (one line: where, and how to fix it)."""


def points_value(value, where: str) -> float:
    """``value`` as points: a number, 0 or more (``True`` is no number of points)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise PointsError(f"{where}: points must be a number, 0 or more, not {value!r}")
    return float(value)


def readable(function_name: str) -> str:
    """A hidden test's name as students read it: ``other_gradients`` -> ``other gradients``."""
    return " ".join(part for part in function_name.split("_") if part)


@dataclass
class Scheme:
    """What each task of an exercise is worth (see the module docstring)."""

    tasks: dict[int, float] = field(default_factory=dict)  # task -> its own points
    hidden: dict[int, list[tuple[str, float | None]]] = field(default_factory=dict)  # -> (function, points)
    secret_lines: frozenset[str] = frozenset()  # `secret_lines`: a hint that quotes one is withheld


def task_points(solution) -> dict[int, float]:
    """{task: its own points}: ``course.points`` on one of the task's cells, default 1."""
    from ..notebook_transforms import has_solution

    found, where = {}, {}
    for index, cell in enumerate(solution.cells):
        info = cell.get("metadata", {}).get("course", {})
        task = info.get("task") if isinstance(info, dict) else None
        if task is None or (cell.cell_type == "markdown" and has_solution(cell.source)):
            continue  # a written answer's points are its own (`reading.written_answers`)
        found.setdefault(task, 1.0)
        if "points" in info:
            value = points_value(info["points"], f"cell {index} (Task {task}) of the solution, course.points")
            if task in where and found[task] != value:
                raise PointsError(
                    f"Task {task} of the solution has course.points {found[task]:g} on cell {where[task]} and "
                    f"{value:g} on cell {index}: keep it on one cell (its check cell)"
                )
            found[task], where[task] = value, index
    return found


def hidden_scheme(source: str, name: str = "hidden_tests") -> dict[int, list[tuple[str, float | None]]]:
    """{task: [(function name, points or None)]} of the hidden tests in ``source``, read, never run:
    each function decorated by a `Tasks` object of the file (``hidden = Tasks("id")``, ``@hidden(2, ...)``)."""
    if not source.strip():
        return {}
    tree = ast.parse(source)
    tasks_objects = {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Call)
        and getattr(node.value.func, "id", getattr(node.value.func, "attr", None)) == "Tasks"
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    found = {}
    for node in tree.body:
        for decorator in getattr(node, "decorator_list", []):
            if not (isinstance(decorator, ast.Call) and getattr(decorator.func, "id", None) in tasks_objects):
                continue
            where = f"{name} line {decorator.lineno}"
            try:
                task = ast.literal_eval(decorator.args[0]) if decorator.args else None
                given = {k.arg: ast.literal_eval(k.value) for k in decorator.keywords if k.arg in ("task", "points")}
            except ValueError:
                raise PointsError(f"{where}: the task and points= of a hidden test must be plain numbers") from None
            task = given.get("task", task)
            points = points_value(given["points"], where) if given.get("points") is not None else None
            tests = found.setdefault(task, [])
            if node.name in [test for test, _ in tests]:
                raise PointsError(f"{where}: Task {task} has two hidden tests called {node.name}: rename one")
            tests.append((node.name, points))
    return found


def marking_scheme(solution, hidden_source: str = "") -> Scheme:
    """The `Scheme` of an exercise: its solution notebook and the text of its hidden tests."""
    hidden = hidden_scheme(hidden_source, f"hidden_tests/{exercise_id(solution.metadata) or '<id>'}.py")
    tasks = task_points(solution)
    hidden = {task: tests for task, tests in hidden.items() if task in tasks}
    return Scheme(tasks=tasks, hidden=hidden, secret_lines=secret_lines(solution, hidden_source))


SECRET_LINE = 20  # characters: a line of the hidden tests or the answers at least this long is never shown

WITHHELD = "hint withheld: it quoted the hidden tests or the solution"


def secret_lines(solution, hidden_source: str = "") -> frozenset[str]:
    """The lines a hint must not quote: those of the hidden tests (the one secret file the kernel can
    read), each as `_hint` writes text (whitespace runs made one space), of at least `SECRET_LINE`
    characters. The solution's answers are not among them: the sandbox never shows the kernel the
    solutions, and the checks' own hints name the fix (``add optimizer.zero_grad()``)."""
    lines = hidden_source.split("\n")
    return frozenset(flat for flat in (" ".join(line.split()) for line in lines) if len(flat) >= SECRET_LINE)


def quotes_a_secret(hint: str, lines: frozenset[str]) -> bool:
    """True when ``hint`` holds one of ``lines`` whole, or ends, cut by `shorten`, inside one."""
    if any(line in hint for line in lines):
        return True
    body = hint.removesuffix("...")
    if body == hint or len(body) < SECRET_LINE:
        return False
    tail = body[-SECRET_LINE:]
    return any(0 <= (at := line.find(tail)) and body.endswith(line[: at + SECRET_LINE]) for line in lines)


def withhold_secrets(results: list[TaskResult], notes: list[str], lines: frozenset[str]) -> None:
    """Replace every hint and note that quotes a secret line by `WITHHELD` (a student's code can raise an
    error whose message is the hidden tests' text, and the hint would carry it to the feedback)."""
    if not lines:
        return
    for result in results:
        result.hint = WITHHELD if quotes_a_secret(result.hint, lines) else result.hint
        for check in result.checks:
            check.hint = WITHHELD if quotes_a_secret(check.hint, lines) else check.hint
    notes[:] = [WITHHELD if quotes_a_secret(note, lines) else note for note in notes]


def _hint(error) -> str:
    """The feedback for one error output."""
    name, value = error.get("ename", "Error"), " ".join(str(error.get("evalue", "")).split())
    if name in ("NotImplementedError", "NotDoneYet") and value.startswith("Task "):  # a stub, not a library's
        text = f"not attempted ({value})"
    elif name == "CheckFailed":
        text = value
    else:
        text = f"{name}: {value}"
    return shorten(text, 300)


def shorten(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters at a word boundary, with "..." where it was cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 3].rsplit(" ", 1)[0] if " " in text[: limit - 3] else text[: limit - 3]
    return cut.rstrip(" ,;:") + "..."


def _names(tree) -> set[str]:
    import ast

    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}


def _answer_tasks(executed) -> dict[str, set]:
    """{name: the tasks whose answers it reaches}: a name an answer or check cell defines reaches its
    task; a function or variable another cell defines (a setup helper) reaches the tasks of the names
    it uses."""
    import ast

    defined, helpers = {}, {}
    for cell in executed.cells:
        grading = cell.metadata.get("grading", {})
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        # an armed check cell runs its own code inside `try:` (`assemble.HIDDEN_CALL`): look in there too
        statements = [inner for node in tree.body for inner in (node.body if isinstance(node, ast.Try) else [node])]
        for node in statements:
            if isinstance(node, ast.FunctionDef | ast.ClassDef):
                names = [node.name]
            elif isinstance(node, ast.Assign):  # `x = ...` and `model, history = check(task=4)`
                names = [n.id for t in node.targets for n in ast.walk(t) if isinstance(n, ast.Name)]
            else:
                names = []
            for name in names:
                if grading.get("role") in ("answer", "check"):
                    defined[name] = {grading.get("task")}
                elif name not in defined:
                    helpers[name] = _names(node)
    reached = dict(defined)
    for _ in range(len(helpers)):  # follow helpers that use helpers, to a fixed point
        for name, used in helpers.items():
            reached[name] = set().union(*(reached.get(u, set()) for u in used if u != name))
    return reached


def _tasks_behind(cell, reached: dict) -> set:
    """The tasks whose answers a cell outside the tasks (a plot, a training run) uses, directly or not."""
    import ast

    try:
        used = _names(ast.parse(cell.source))
    except SyntaxError:
        return set()
    return set().union(*(reached.get(name, set()) for name in used)) - {None}


def _cell_problem(cell, cut: str | None) -> str | None:
    """Why a code cell counts as failed (None: it ran to its end without an error); ``cut``: why the
    run never finished this cell (None: it did)."""
    grading = cell.metadata.get("grading", {})
    errors = _errors(cell)
    printed = "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")
    if cut is not None:
        return cut
    if errors:
        return _hint(errors[0])
    if cell.get("execution_count") is None:
        return "not run"
    if grading.get("reply") == "error":
        return "an error was raised but not shown (were the exception hooks changed?)"
    if grading.get("token") and complete_marker(grading["token"]) not in printed:
        return "the check cell did not run to its end (were the checks switched off?)"
    return None


def _errors(cell) -> list:
    return [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]


def read_verdicts(cell) -> dict | None:
    """The grader's verdicts line of an armed check cell, ``{"check_passed": bool, "hidden": {function
    name: verdict}}``, or None (see the module docstring): the last one printed before the cell's first
    error, or before its last "cell complete" line."""
    token = cell.metadata.get("grading", {}).get("token")
    if not token:
        return None
    printed, failed = "", False
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            failed = True
            break
        if output.get("output_type") == "stream" and output.get("name") == "stdout":
            printed += output.get("text", "")
    end = printed.rfind(complete_marker(token))
    if end < 0 and not failed:
        return None  # neither finished nor failed: cut off, nothing in it to believe
    marker = verdicts_marker(token)
    lines = [line for line in printed[: end if end >= 0 else None].split("\n") if marker in line]
    try:
        found = json.loads(lines[-1].split(marker, 1)[1]) if lines else None
    except ValueError:  # cut by the output cap
        return None
    if not isinstance(found, dict) or not isinstance(found.get("hidden"), list):
        return None
    hidden = {v["name"]: v for v in found["hidden"] if isinstance(v, dict) and isinstance(v.get("name"), str)}
    return {"check_passed": found.get("check_passed") is True, "hidden": hidden}


@dataclass
class _Task:
    """What the cells of one task said, gathered in notebook order."""

    problem: str | None = None  # the first reason its gate failed
    forfeited: bool = False  # failed before it ran (`score`'s ``missing``): no points at all
    visible: list[CheckResult] = field(default_factory=list)  # one per check cell
    verdicts: dict | None = None  # `read_verdicts` of its last check cell
    not_run: str = "its check cell did not print the verdicts (did it run to its end?)"

    def add(self, cell, problem: str | None, cut: str | None) -> None:
        """One code cell of the task."""
        self.problem = self.problem or problem
        grading = cell.metadata.get("grading", {})
        if grading.get("role") != "check":
            return
        passed = problem is None
        if grading.get("hidden"):  # the cell that ran the hidden tests after its own check
            self.verdicts = read_verdicts(cell) if cut is None else None
            self.not_run = cut or self.not_run
            if self.verdicts is not None and _errors(cell):  # the error may be a hidden test's, not its check's
                passed = self.verdicts["check_passed"]
        title = cell.metadata.get("course", {}).get("title") or f"check(task={grading.get('task')})"
        self.visible.append(CheckResult(title, "visible", passed, "" if passed else problem or ""))

    def result(self, task: int, own: float, hidden_tests: list) -> TaskResult:
        """Its own points behind its gate, plus each passed hidden test's points (see the module docstring)."""
        verdicts = self.verdicts["hidden"] if self.verdicts is not None else None
        not_run = self.not_run if verdicts is None else "its check cell reported no verdict for it"
        hidden = [
            _hidden_result(name, points, None if verdicts is None else verdicts.get(name), not_run)
            for name, points in hidden_tests
        ]
        gates = [check for check, (_, points) in zip(hidden, hidden_tests, strict=True) if points is None]
        failed_gate = next((f"hidden test {c.name}: {c.hint}" for c in gates if not c.passed), None)
        gate = self.problem or failed_gate  # why the task's own points are lost (None: they are earned)
        if self.forfeited:
            for check in hidden:
                check.points = 0.0
        earned = (0.0 if gate else own) + sum(c.points for c in hidden)
        top = own + sum(c.max_points for c in hidden)
        first = gate or next((f"hidden test {c.name}: {c.hint}" for c in hidden if not c.passed), "")
        return TaskResult(task, not first, earned, top, first, self.visible + hidden)


def _hidden_result(name: str, points: float | None, verdict: dict | None, not_run: str) -> CheckResult:
    """One hidden test's `CheckResult`, from its verdict (None: it could not run, because ``not_run``)."""
    if verdict is None:
        passed, hint = False, f"could not run: {not_run}"
    elif verdict.get("error") == "NotRun":
        passed, hint = False, "not run: the task's visible check failed first"
    else:
        passed = verdict.get("passed") is True
        hint = "" if passed else _hint({"ename": verdict.get("error"), "evalue": verdict.get("message", "")})
    top = points or 0.0
    return CheckResult(readable(name), "hidden", passed, hint, top if passed else 0.0, top)


def score(executed, missing: dict, scheme: Scheme | None = None) -> tuple[list[TaskResult], list[str]]:
    """Each task's `TaskResult` (in task order) and notes about failed cells outside the tasks, read from
    the executed notebook's outputs; ``missing``: {task: [why it failed before it ran]}; ``scheme``: what
    the tasks are worth (default: 1 point each, no hidden tests)."""
    info = executed.metadata.get("grading", {})
    stopped = info.get("stopped_at") if info.get("status") != "ok" else None
    reason = info.get("reason") or "the run stopped"
    scheme = scheme or Scheme()
    seen = {c.metadata.get("grading", {}).get("task") for c in executed.cells} - {None}
    tasks = {task: _Task() for task in sorted(seen | set(missing) | set(scheme.tasks))}
    for task, lines in missing.items():
        tasks[task].problem, tasks[task].forfeited = lines[0], True
    notes, reached, last_task = [], _answer_tasks(executed), None
    for index, cell in enumerate(executed.cells):
        grading = cell.metadata.get("grading", {})
        task = grading.get("task")
        last_task = task if task is not None else last_task
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        cut = None
        if stopped is not None and index >= stopped:
            cut = f"{reason} in this task" if index == stopped else f"not run ({reason} earlier)"
        problem = _cell_problem(cell, cut)
        if task is not None:
            tasks[task].add(cell, problem, cut)
        elif problem is not None and _errors(cell) and not _hint(_errors(cell)[0]).startswith("not attempted"):
            failed = {t for t, gathered in tasks.items() if gathered.problem}  # e.g. a setup cell failed
            notes += _note(cell, index, problem, _tasks_behind(cell, reached), failed, last_task)
    results = [gathered.result(t, scheme.tasks.get(t, 1.0), scheme.hidden.get(t, [])) for t, gathered in tasks.items()]
    own = {  # a hint may quote the student's own line ("it happened in your line ..."), even one like the solution's
        " ".join(line.split())
        for cell in executed.cells
        if cell.metadata.get("grading", {}).get("role") in ("answer", "added")
        for line in cell.source.split("\n")
    }
    withhold_secrets(results, notes, scheme.secret_lines - own)
    return results, notes


def _note(cell, index: int, problem: str, behind: set, failed: set, last_task) -> list[str]:
    """The note for a failed cell outside the tasks (none when a failed task it uses explains it)."""
    grading = cell.metadata.get("grading", {})
    behind = behind if grading.get("role") != "added" else set()
    if behind & failed:
        return []  # it failed because a task it uses did, which that task's own line already says
    if behind:
        uses = " and ".join(map(str, sorted(behind)))
        where = f"the cell after Task {last_task}" if last_task is not None else f"cell {index}"
        return [f"{where} (it uses your answers to Task{'s' * (len(behind) > 1)} {uses}) failed: {problem}"]
    origin = "added by the student" if grading.get("role") == "added" else grading.get("from", "added")
    return [f"cell {index} ({origin}): {problem}"]


def forfeit(results: list[TaskResult], reason: str) -> list[TaskResult]:
    """The results with no points and every task failed for ``reason`` (the checks were tampered with)."""
    for result in results:
        result.passed, result.points, result.hint = False, 0.0, reason
        for check in result.checks:
            check.points = 0.0
    return results


def feedback_lines(results: list[TaskResult], notes: list[str]) -> list[str]:
    """The gradebook's feedback: ``taskN: hint`` for each task short of full marks, then the first note."""
    return [f"task{r.task}: {r.hint}" for r in results if not r.passed] + notes[:1]
