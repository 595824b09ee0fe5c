"""course exercises: stubs in the right places, hidden-test regions refused, deterministic, drift detected.

The last tests are the CI proof that the committed exercises are what they claim to be: every check
cell is one call to the exercise's check module; graded (quick mode, hidden tests included) an
untouched exercise fails every task only with NotImplementedError and its solution passes every
task; and no line of a solution region survives in them.
"""

import hashlib
import importlib
import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from solution_cells import hidden_tests

from course_tools import cli
from course_tools.exercises import (
    BEGIN_SOLUTION,
    END_SOLUTION,
    MARKDOWN_STUB,
    MarkerError,
    build_all,
    exercise_text,
    make_exercise,
)
from course_tools.grading import grade_one

REPO = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((REPO / "solutions").glob("*.ipynb"))


def task_cell(source, task=1, title="double", role="answer"):
    cell = new_code_cell(source)
    cell.metadata["course"] = {"task": task, "title": title, "role": role}
    return cell


def exercise_of(*cells):
    return make_exercise(new_notebook(cells=list(cells), metadata=TOY_ID), "toy.ipynb")


TOY_ID = {"course": {"exercise_id": "toy"}}


def test_region_inside_a_function_and_an_if_keeps_its_indentation():
    source = (
        "def double(x):\n"
        "    if x is not None:\n"
        "        ### BEGIN SOLUTION\n"
        "        return 2 * x\n"
        "        ### END SOLUTION\n"
        "    return None"
    )
    out = exercise_of(task_cell(source)).cells[0].source
    assert out == (
        "def double(x):\n"
        "    if x is not None:\n"
        "        # YOUR CODE HERE\n"
        '        raise NotImplementedError("Task 1: double")\n'
        "    return None"
    )
    compile(out, "cell", "exec")


def test_a_region_that_is_a_whole_function_body():
    out = (
        exercise_of(
            task_cell(
                "def f(x):\n    ### BEGIN SOLUTION\n    y = x + 1\n    return y\n    ### END SOLUTION",
                task=3,
                title='say "hi"',
            )
        )
        .cells[0]
        .source
    )
    assert out == 'def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError("Task 3: say \\"hi\\"")'
    namespace = {}
    exec(compile(out, "cell", "exec"), namespace)
    with pytest.raises(NotImplementedError, match='Task 3: say "hi"'):
        namespace["f"](1)


def test_several_regions_in_one_cell_each_get_a_stub():
    source = (
        "import math\n"
        "def a():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\n\n\n"
        "def b():\n    ### BEGIN SOLUTION\n    return 2\n    ### END SOLUTION\n"
        "### BEGIN SOLUTION\nc = a() + b()\n### END SOLUTION\n"
        "print(c)"
    )
    out = exercise_of(task_cell(source)).cells[0].source
    assert out.count("# YOUR CODE HERE") == 3 and out.count("raise NotImplementedError") == 3
    assert "return 1" not in out and "return 2" not in out and "c = a() + b()" not in out
    assert out.startswith("import math\n") and out.endswith("print(c)")
    assert '\nraise NotImplementedError("Task 1: double")\nprint(c)' in out  # the top-level stub is not indented
    compile(out, "cell", "exec")


def test_markdown_answers_are_replaced_and_markdown_elsewhere_kept():
    cell = new_markdown_cell(
        "**Question.** Why?\n\n**Your answer:**\n\n### BEGIN SOLUTION\n"
        "Because pooling is non-linear.\n\nA second paragraph.\n### END SOLUTION\n\nMore text."
    )
    out = exercise_of(cell).cells[0].source
    assert out == f"**Question.** Why?\n\n**Your answer:**\n\n{MARKDOWN_STUB}\n\nMore text."


def test_hidden_test_regions_are_refused_they_live_in_files():
    check = task_cell("check(task=1)\n### BEGIN HIDDEN TESTS\nsecret()\n### END HIDDEN TESTS", role="check")
    with pytest.raises(MarkerError, match=r"toy.ipynb, cell 0: .*solutions/hidden_tests/toy.py"):
        exercise_of(check)


def test_a_check_cell_of_more_than_two_lines_is_refused():
    check = task_cell("x = 1\ny = 2\ncheck(task=1)", role="check")
    with pytest.raises(MarkerError, match=r"cell 0 is a check cell of 3 lines.*course_utils/exercise_checks/toy.py"):
        exercise_of(check)
    assert exercise_of(task_cell("result = check(task=1)\n\nresult", role="check")).cells


def test_outputs_and_counts_are_cleared_metadata_and_ids_kept():
    cell = task_cell("### BEGIN SOLUTION\nx = 1\n### END SOLUTION")
    cell.execution_count, cell.id = 7, "task1-answer"
    cell.outputs = [new_output("stream", name="stdout", text="secret answer 42\n")]
    cell.metadata["tags"] = ["nbval-ignore-output"]
    cell.metadata["execution"] = {"iopub.status.busy": "2024-01-01T00:00:00Z"}
    kernel = {"name": "python3", "display_name": "Python 3", "language": "python"}
    solution = new_notebook(cells=[cell], metadata={"kernelspec": kernel, **TOY_ID})
    exercise = make_exercise(solution, "toy.ipynb")
    out = exercise.cells[0]
    assert out.outputs == [] and out.execution_count is None and "execution" not in out.metadata
    assert out.id == "task1-answer" and out.metadata["tags"] == ["nbval-ignore-output"]
    assert out.metadata["course"] == {"task": 1, "title": "double", "role": "answer"}
    assert exercise.metadata["kernelspec"] == kernel
    assert exercise.metadata["course"]["generated_from"] == "solutions/toy.ipynb"
    assert exercise.metadata["course"]["exercise_id"] == "toy"
    assert solution.cells[0].outputs and solution.cells[0].execution_count == 7  # the input is untouched


@pytest.mark.parametrize(
    "source,message",
    [
        ("### BEGIN SOLUTION\nx = 1", "never closed"),
        ("x = 1\n### END SOLUTION", "unexpected '### END SOLUTION'"),
        ("### BEGIN SOLUTION\n### BEGIN HIDDEN TESTS\n### END HIDDEN TESTS\n### END SOLUTION", "hidden tests"),
    ],
)
def test_unpaired_markers_are_refused_with_the_cell_named(source, message):
    with pytest.raises(MarkerError, match=f"toy.ipynb, cell 0: .*{message}"):
        exercise_of(task_cell(source))


def test_a_solution_region_needs_task_metadata():
    with pytest.raises(MarkerError, match=r'cell 0 has a solution region.*"task": N, "title"'):
        exercise_of(new_code_cell("### BEGIN SOLUTION\nx = 1\n### END SOLUTION"))


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


def solution_lines(notebook) -> list[str]:
    lines, inside = [], False
    for cell in notebook.cells:
        for line in cell.source.split("\n"):
            if line.strip() in (BEGIN_SOLUTION, END_SOLUTION):
                inside = line.strip() == BEGIN_SOLUTION
            elif inside and line.strip():
                lines.append(line.strip())
    return lines


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.stem)
def test_no_line_of_a_solution_region_appears_in_the_exercise(solution):
    # Whole lines, like `grep -x`: the prose may name a call to use (`optimizer.step()`), but no
    # line of a solution may survive in the exercise. Lines without a letter or digit (a closing
    # bracket the formatter put on its own line) reveal nothing.
    lines = [line for line in solution_lines(nbformat.read(solution, as_version=4)) if any(map(str.isalnum, line))]
    exercise = nbformat.read(REPO / "exercises" / solution.name, as_version=4)
    exercise_lines = {line.strip() for cell in exercise.cells for line in cell.source.split("\n")}
    assert lines, f"{solution.name} has no solution regions"
    assert [line for line in lines if line in exercise_lines] == []
    assert "HIDDEN TESTS" not in (REPO / "exercises" / solution.name).read_text()


def quick_solutions(tmp_path: Path, solution: Path, hidden: bool = True) -> Path:
    """A copy of ``solution`` in quick mode, with its hidden tests, in a folder of its own."""
    folder = tmp_path / "solutions"
    (folder / "hidden_tests").mkdir(parents=True)
    notebook = nbformat.read(solution, as_version=4)
    for cell in notebook.cells:
        cell.source = cell.source.replace("quick: bool = False", "quick: bool = True")
    nbformat.write(notebook, folder / solution.name)
    exercise = notebook.metadata["course"]["exercise_id"]
    shutil.copy(REPO / "solutions" / "hidden_tests" / f"{exercise}.py", folder / "hidden_tests")
    return folder


def tasks_of(notebook) -> list[int]:
    return sorted({c.metadata["course"]["task"] for c in notebook.cells if "task" in c.metadata.get("course", {})})


@pytest.mark.kernel
@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.stem)
def test_graded_the_exercise_fails_only_as_unfinished_and_the_solution_passes_everything(solution, tmp_path):
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
    row = grade_one(solution, solutions, tmp_path / "solution.ipynb", 600)  # the hidden tests included
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


def test_a_solution_without_an_id_is_refused():
    with pytest.raises(MarkerError, match="exercise_id"):
        make_exercise(new_notebook(cells=[task_cell("### BEGIN SOLUTION\nx = 1\n### END SOLUTION")]), "toy.ipynb")


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
