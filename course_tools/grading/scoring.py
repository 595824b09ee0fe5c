"""Scoring an executed notebook: which tasks passed, and the feedback lines (see `course_tools.grading`, step 6)."""

from __future__ import annotations


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
        for node in tree.body:
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


def score(executed, missing: dict) -> tuple[dict, list[str]]:
    """{task: passed?} and feedback lines, read from the executed notebook's outputs."""
    info = executed.metadata.get("grading", {})
    stopped = info.get("stopped_at") if info.get("status") != "ok" else None
    reason = info.get("reason") or "the run stopped"
    problems = {task: lines[0] for task, lines in missing.items()}
    notes, reached, last_task = [], _answer_tasks(executed), None
    for index, cell in enumerate(executed.cells):
        grading = cell.metadata.get("grading", {})
        task = grading.get("task")
        last_task = task if task is not None else last_task
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
        elif errors and not _hint(errors[0]).startswith("not attempted"):  # e.g. a setup cell failed
            behind = _tasks_behind(cell, reached) if grading.get("role") != "added" else set()
            if behind & set(problems):
                continue  # it failed because a task it uses did, which that task's own line already says
            if behind:
                uses = " and ".join(map(str, sorted(behind)))
                where = f"the cell after Task {last_task}" if last_task is not None else f"cell {index}"
                notes.append(
                    f"{where} (it uses your answers to Task{'s' * (len(behind) > 1)} {uses}) failed: {problem}"
                )
            else:
                origin = "added by the student" if grading.get("role") == "added" else grading.get("from", "added")
                notes.append(f"cell {index} ({origin}): {problem}")
    tasks = sorted({c.metadata.get("grading", {}).get("task") for c in executed.cells} - {None} | set(missing))
    passed = {task: task not in problems for task in tasks}
    return passed, [f"task{t}: {problems[t]}" for t in tasks if t in problems] + notes[:1]
