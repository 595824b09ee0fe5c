"""course exercises: deterministic, never writes into solutions/, drift detected (the stubs themselves,
and the refused markers, are tests/test_notebook_transforms.py's).

The last tests are the CI proof that the committed exercises are what they claim to be: every check
cell is one call to the exercise's check module; graded (quick mode, hidden tests included) an
untouched exercise fails every task only with NotImplementedError (shape arithmetic's, which quick
mode does not change, is graded once, in test_grading.py's run); its solution, run cell by cell in
this process in quick mode, passes every task's check and hidden tests, and one solution that trains
is graded whole, the grader end to end (test_grading.py grades shape arithmetic's with ``course
grade``, in the sandbox); and no line of a solution region survives in them.
"""

import hashlib
import importlib
import shutil
from pathlib import Path

import nbformat
import pytest
from solution_cells import hidden_tests, run_cells

from course_tools import cli
from course_tools.exercises import build_all, exercise_text
from course_tools.grading import grade_one
from course_tools.notebook_transforms import solution_lines

REPO = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((REPO / "solutions").glob("*.ipynb"))


def test_explain_errors_turns_library_errors_into_hints():
    import torch

    from course_utils.checks import CheckFailed, explain_errors

    # torch 2.15 names the operation first ("addmm: mat1 and mat2 shapes..."; `make canary`, newest stack)
    raised = r"^forward: your code raised RuntimeError: (\w+: )?mat1 and mat2 .*: flatten first$"
    with pytest.raises(CheckFailed, match=raised):
        with explain_errors("forward", hint="flatten first"):
            torch.nn.Linear(3, 4)(torch.zeros(2, 5))
    with pytest.raises(NotImplementedError, match="Task 1"):  # unfinished work is reported as such
        with explain_errors("forward"):
            raise NotImplementedError("Task 1: forward pass")
    with explain_errors("fine"):
        pass


def copy_course(tmp_path: Path) -> Path:
    root = tmp_path / "course"
    shutil.copytree(REPO / "solutions", root / "solutions")
    shutil.copytree(REPO / "exercises", root / "exercises")
    return root


def digest(folder: Path) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.ipynb"))}


def test_generation_is_deterministic_and_never_touches_solutions(tmp_path):
    root = copy_course(tmp_path)
    shutil.rmtree(root / "exercises")
    solutions_before = digest(root / "solutions")
    assert build_all(root=root) == 0
    first = {p.name: p.read_bytes() for p in (root / "exercises").glob("*.ipynb")}
    shutil.rmtree(root / "exercises")
    assert build_all(root=root) == 0
    second = {p.name: p.read_bytes() for p in (root / "exercises").glob("*.ipynb")}
    assert first == second and len(first) == len(SOLUTIONS)
    assert exercise_text(root / "solutions" / SOLUTIONS[0].name).encode() == first[SOLUTIONS[0].name]
    assert digest(root / "solutions") == solutions_before


def test_check_passes_on_the_committed_tree(capsys, monkeypatch):
    assert SOLUTIONS, "no solution notebooks committed"
    before = digest(REPO / "exercises")
    monkeypatch.chdir(REPO)
    assert cli.main(["exercises", "--check"]) == 0
    assert "up to date" in capsys.readouterr().out
    assert digest(REPO / "exercises") == before


def test_check_fails_on_a_drifted_copy_and_says_how_to_fix_it(tmp_path, capsys):
    root = copy_course(tmp_path)
    edited = root / "solutions" / SOLUTIONS[0].name
    notebook = nbformat.read(edited, as_version=4)
    notebook.cells[0].source += "\n\nOne more sentence."
    nbformat.write(notebook, edited)
    (root / "exercises" / SOLUTIONS[-1].name).unlink()
    (root / "exercises" / "99_old_exercises.ipynb").write_text("{}")
    before = digest(root / "exercises")

    assert build_all(check=True, root=root) == 1
    out = capsys.readouterr().out
    assert f"exercises/{SOLUTIONS[0].name} differs from what solutions/{SOLUTIONS[0].name} generates" in out
    assert f"exercises/{SOLUTIONS[-1].name} is missing" in out
    assert "exercises/99_old_exercises.ipynb has no solutions/99_old_exercises.ipynb" in out
    assert "course exercises" in out
    assert digest(root / "exercises") == before  # --check writes nothing

    assert build_all(root=root) == 0  # regenerating fixes the drift (the stale file is only reported)
    capsys.readouterr()
    (root / "exercises" / "99_old_exercises.ipynb").unlink()
    assert build_all(check=True, root=root) == 0


def test_refuses_to_write_into_solutions(tmp_path):
    root = copy_course(tmp_path)
    shutil.rmtree(root / "exercises")
    (root / "exercises").symlink_to(root / "solutions")
    before = digest(root / "solutions")
    assert build_all(root=root) == 2
    assert digest(root / "solutions") == before


# --- the CI proof on the committed exercises ------------------------------------------------


def solution_region_lines(notebook) -> list[str]:
    """The non-blank lines of the notebook's solution regions, stripped."""
    return [line.strip() for cell in notebook.cells for line in solution_lines(cell.source) if line.strip()]


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.stem)
def test_no_line_of_a_solution_region_appears_in_the_exercise(solution):
    # Whole lines, like `grep -x`: the prose may name a call to use (`optimizer.step()`), but no
    # line of a solution may survive in the exercise. Lines without a letter or digit (a closing
    # bracket the formatter put on its own line) reveal nothing.
    solution_notebook = nbformat.read(solution, as_version=4)
    lines = [line for line in solution_region_lines(solution_notebook) if any(map(str.isalnum, line))]
    exercise = nbformat.read(REPO / "exercises" / solution.name, as_version=4)
    exercise_lines = {line.strip() for cell in exercise.cells for line in cell.source.split("\n")}
    assert lines, f"{solution.name} has no solution regions"
    assert [line for line in lines if line in exercise_lines] == []
    assert "HIDDEN TESTS" not in (REPO / "exercises" / solution.name).read_text()


def quick(notebook):
    """``notebook`` in quick mode (its parameters cell, edited in place)."""
    for cell in notebook.cells:
        cell.source = cell.source.replace("quick: bool = False", "quick: bool = True")
    return notebook


def quick_solutions(tmp_path: Path, solution: Path, hidden: bool = True) -> Path:
    """A copy of ``solution`` in quick mode, with its hidden tests, in a folder of its own."""
    folder = tmp_path / "solutions"
    (folder / "hidden_tests").mkdir(parents=True)
    notebook = quick(nbformat.read(solution, as_version=4))
    nbformat.write(notebook, folder / solution.name)
    exercise = notebook.metadata["course"]["exercise_id"]
    shutil.copy(REPO / "solutions" / "hidden_tests" / f"{exercise}.py", folder / "hidden_tests")
    return folder


def tasks_of(notebook) -> list[int]:
    return sorted({c.metadata["course"]["task"] for c in notebook.cells if "task" in c.metadata.get("course", {})})


# test_grading.py grades this untouched exercise (bob's) and asserts the same of it: not graded twice
GRADED_UNTOUCHED_IN_TEST_GRADING = "03_shape_arithmetic_exercises.ipynb"


@pytest.mark.kernel
@pytest.mark.parametrize(
    "solution", [s for s in SOLUTIONS if s.name != GRADED_UNTOUCHED_IN_TEST_GRADING], ids=lambda p: p.stem
)
def test_graded_the_exercise_fails_only_as_unfinished(solution, tmp_path):
    solutions = quick_solutions(tmp_path, solution)
    exercise = REPO / "exercises" / solution.name
    row = grade_one(exercise, solutions, tmp_path / "exercise.ipynb", 600)
    tasks = tasks_of(nbformat.read(solution, as_version=4))
    assert len(tasks) >= 3 and row.status == "ok"
    assert row.tasks == dict.fromkeys(tasks, False)
    assert len(row.feedback) == len(tasks), row.feedback  # one line per task, no other note
    for task, line in zip(tasks, row.feedback, strict=True):
        assert line.startswith(f"task{task}: not attempted (Task {task}: "), row.feedback
    executed = nbformat.read(tmp_path / "exercise.ipynb", as_version=4)
    errors = [o for c in executed.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert "NotDoneYet" in {e.ename for e in errors}  # a NotImplementedError, shown in one line
    for error in errors:  # a cell after a task (a plot of its result) says so in one line
        assert error.ename in ("NotDoneYet", "NotImplementedError") or "must pass first" in error.evalue, error.evalue
        assert error.ename == "CheckFailed" or error.evalue.startswith("Task "), error.evalue
        assert len(error.traceback) == 1 or error.ename == "NotImplementedError", error.traceback  # one line


@pytest.mark.kernel  # no kernel, but a run of every notebook: out of `make test-fast`, as the graded runs are
@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.stem)
def test_the_solution_passes_every_task_hidden_tests_included(solution):
    """Every code cell of the solution in quick mode, in order, in one namespace (as its kernel would
    run them), and each task's hidden tests after its last check cell: nothing fails. In this process,
    not graded: a kernel and the grader's runner would add seconds to each exercise, and the test
    below grades a solution whole."""
    import matplotlib.pyplot as plt

    notebook = quick(nbformat.read(solution, as_version=4))
    hidden = hidden_tests(notebook)
    last_check = {
        c.metadata["course"]["task"]: c.id
        for c in notebook.cells
        if c.metadata.get("course", {}).get("role") == "check"
    }
    assert sorted(last_check) == tasks_of(notebook)
    namespace, checked = {}, []
    try:
        for cell in notebook.cells:
            if cell.cell_type != "code":
                continue
            run_cells(notebook, cell.id, namespace=namespace)
            task = cell.metadata.get("course", {}).get("task")
            if last_check.get(task) == cell.id:
                if task in hidden.functions:
                    hidden.run(task, namespace)
                checked.append(task)
    finally:
        plt.close("all")
    assert checked == tasks_of(notebook)


GRADED_SOLUTION = "04_two_conv_net_exercises.ipynb"  # it trains; its hidden tests take training steps


@pytest.mark.kernel
def test_graded_a_solution_that_trains_passes_everything(tmp_path):
    solution = REPO / "solutions" / GRADED_SOLUTION
    row = grade_one(solution, quick_solutions(tmp_path, solution), tmp_path / "solution.ipynb", 600)
    tasks = tasks_of(nbformat.read(solution, as_version=4))
    assert (row.status, row.tasks, row.feedback, row.review) == ("ok", dict.fromkeys(tasks, True), [], [])


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.stem)
def test_every_check_cell_is_one_call_to_the_exercise_s_own_checks(solution):
    from course_tools.grading import checks_file
    from course_utils.exercise_checks import Tasks

    notebook = nbformat.read(solution, as_version=4)
    exercise = notebook.metadata["course"]["exercise_id"]
    checks = [c for c in notebook.cells if c.metadata.get("course", {}).get("role") == "check"]
    for cell in checks:
        assert len([line for line in cell.source.split("\n") if line.strip()]) <= 2, cell.source
        assert f"check(task={cell.metadata['course']['task']})" in cell.source
    module = importlib.import_module(f"course_utils.exercise_checks.{exercise}")
    assert Path(module.__file__) == checks_file().parent / "exercise_checks" / f"{exercise}.py"
    visible = next(v for v in vars(module).values() if isinstance(v, Tasks) and v.exercise_id == exercise)
    assert sorted(visible.functions) == tasks_of(notebook)
    assert module.check == visible.check
    hidden = hidden_tests(notebook)
    assert hidden.exercise_id == exercise and set(hidden.functions) <= set(tasks_of(notebook))
    assert hidden.functions, "no hidden tests"


def test_every_exercise_has_a_stable_id_of_its_own():
    """The grader finds a submission's solution by this id, so renumbering lessons changes nothing."""
    ids = [nbformat.read(s, as_version=4).metadata["course"]["exercise_id"] for s in SOLUTIONS]
    assert len(set(ids)) == len(ids) == len(SOLUTIONS)
    for solution, exercise_id in zip(SOLUTIONS, ids, strict=True):
        assert not exercise_id[0].isdigit(), f"{solution.name}: an id must not carry the lesson number"
        exercise = nbformat.read(REPO / "exercises" / solution.name, as_version=4)
        assert exercise.metadata["course"]["exercise_id"] == exercise_id


def test_check_modules_import_each_other_so_that_the_grader_s_fresh_copies_are_found():
    """``import course_utils.exercise_checks.x as y`` reads ``x`` as an attribute of the package the
    student's kernel imported (which a student can patch); ``from course_utils.exercise_checks import x``
    and ``from course_utils.exercise_checks.x import name`` find the fresh copy the grader loaded."""
    import ast

    from course_tools.grading import checks_file

    sources = sorted((checks_file().parent / "exercise_checks").glob("*.py"))
    sources += sorted((REPO / "solutions" / "hidden_tests").glob("*.py"))
    for path in sources:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names if a.name.startswith("course_utils.")]
                assert not names, f"{path.name}: write `from ... import ...` instead of `import {names[0]}`"
