"""Finding and editing a solution notebook's cells by id, for the tests that plant a student's bug,
the hidden tests of an exercise (``solutions/hidden_tests/<id>.py``), and running a task's answer
and check in a namespace where the notebook's setup already ran."""

import importlib.util
import linecache
import re
from pathlib import Path

import nbformat
import pytest

SOLUTIONS = Path(__file__).resolve().parents[1] / "solutions"


def hidden_tests(notebook):
    """The `Tasks` of the notebook's hidden tests, loaded from ``solutions/hidden_tests/<exercise_id>.py``."""
    exercise = notebook.metadata["course"]["exercise_id"]
    path = SOLUTIONS / "hidden_tests" / f"{exercise}.py"
    spec = importlib.util.spec_from_file_location(f"hidden_tests_{exercise}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.hidden


def run_hidden(notebook, task: int, namespace: dict) -> None:
    """Run the hidden tests of ``task`` (if it has any) on the notebook's variables in ``namespace``."""
    tests = hidden_tests(notebook)
    if task in tests.functions:
        tests.run(task, namespace)


def cell(notebook, cell_id: str):
    return next(c for c in notebook.cells if c.get("id") == cell_id)


def edit(notebook, cell_id: str, old: str, new: str) -> None:
    """Replace ``old`` (which must occur exactly once) in the cell's source."""
    source = cell(notebook, cell_id).source
    assert source.count(old) == 1, f"{cell_id}: {old!r}"
    cell(notebook, cell_id).source = source.replace(old, new)


def run_cells(notebook, *cell_ids, namespace=None, **sources) -> dict:
    """Run these code cells (``sources`` replaces a cell's code by its id) in one namespace."""
    namespace = {} if namespace is None else namespace
    for cell_id in cell_ids:
        source = sources.get(cell_id.replace("-", "_"), cell(notebook, cell_id).source)
        linecache.cache[cell_id] = (len(source), None, source.splitlines(True), cell_id)  # as IPython does
        exec(compile(source, cell_id, "exec"), namespace)
    return namespace


def quick_exercise(path, *setup_cell_ids) -> tuple:
    """``(notebook, namespace)``: the solution notebook's parameters cell run in quick mode, then its
    ``setup_cell_ids`` (no answers yet), as a student's kernel would have run them."""
    notebook = nbformat.read(path, as_version=4)
    quick = cell(notebook, "code-01").source.replace("quick: bool = False", "quick: bool = True")
    return notebook, run_cells(notebook, "code-01", *setup_cell_ids, code_01=quick)


def check_task(exercise, task: int, answer: str, hidden: bool = False) -> None:
    """Run ``answer`` in place of the task's answer cell, then its check (the visible part, or all of it)."""
    notebook, namespace = exercise
    run_cells(
        notebook, f"task{task}-answer", f"task{task}-check", namespace=namespace, **{f"task{task}_answer": answer}
    )
    if hidden:
        run_hidden(notebook, task, namespace)


def solution_answer(exercise, task: int) -> str:
    return cell(exercise[0], f"task{task}-answer").source


def assert_bug_fails_with_hint(
    exercise,
    task: int,
    old: str,
    new: str,
    hidden: bool,
    hint: str,
    not_hint: str | None = None,
    recheck: bool = True,
) -> str:
    """The solution's answer with ``old`` replaced by ``new`` (a classic bug) fails the task's check with
    ``hint`` (its visible part, or with the hidden tests when ``hidden``), and without ``not_hint`` (the
    hint of another mistake, which once fired for this one); the solution's answer then runs again and
    passes every check (hidden tests included). Returns the failure's message.

    ``recheck=False`` runs the solution's answer again but leaves its checks to a later test of the
    module, one that checks every task's solution in the same namespace after all the bugs: one run of
    a slow check (a training) there proves what one per bug did, that no bug left anything behind that
    fails the solution."""
    from course_utils.checks import CheckFailed

    answer = solution_answer(exercise, task)
    assert answer.count(old) == 1, old
    with pytest.raises(CheckFailed, match=re.escape(hint)) as failure:
        check_task(exercise, task, answer.replace(old, new), hidden=hidden)
    assert not_hint is None or not_hint not in str(failure.value), str(failure.value)
    if recheck:
        check_task(exercise, task, answer, hidden=True)
    else:
        notebook, namespace = exercise
        run_cells(notebook, f"task{task}-answer", namespace=namespace)
    return str(failure.value)
