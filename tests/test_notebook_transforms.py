"""The exercise markers and the transformations that read them (`course_tools.notebook_transforms`):
the exercise's stubs, the refused markers, a published solution, and what the grader reads."""

import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from course_tools.notebook_transforms import (
    BEGIN_HIDDEN,
    BEGIN_SOLUTION,
    END_SOLUTION,
    MARKDOWN_STUB,
    MarkerError,
    around_solution,
    drop_marker_lines,
    make_exercise,
    publish_solution,
    solution_lines,
    solution_regions,
)


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


def test_a_solution_without_an_id_is_refused():
    with pytest.raises(MarkerError, match="exercise_id"):
        make_exercise(new_notebook(cells=[task_cell("### BEGIN SOLUTION\nx = 1\n### END SOLUTION")]), "toy.ipynb")


def test_publish_solution_drops_the_marker_lines_and_keeps_the_outputs():
    visible = new_code_cell(
        "\n".join(["def f(x):", f"    {BEGIN_SOLUTION}", "    return 2 * x", f"    {END_SOLUTION}", "check(task=1)"])
    )
    visible.outputs = [new_output("stream", text="passed\n")]
    original = new_notebook(cells=[new_markdown_cell("# Exercises"), visible])
    published = publish_solution(original)
    assert [c.source for c in published.cells] == ["# Exercises", "def f(x):\n    return 2 * x\ncheck(task=1)"]
    assert published.cells[1].outputs and BEGIN_SOLUTION in original.cells[1].source  # the original is untouched


def test_publish_solution_refuses_unpaired_markers_and_hidden_test_regions():
    for source in (f"{BEGIN_SOLUTION}\nx = 1", f"{BEGIN_HIDDEN}\nsecret()"):
        with pytest.raises(MarkerError, match="cell 0"):
            publish_solution(new_notebook(cells=[new_code_cell(source)]))


def test_regions_pair_up_and_each_keeps_its_indentation():
    source = "a\n    ### BEGIN SOLUTION\n    b\n    ### END SOLUTION\n### BEGIN SOLUTION\nc\n### END SOLUTION"
    assert [(r.begin, r.end, r.indent) for r in solution_regions(source)] == [(1, 3, "    "), (4, 6, "")]
    assert solution_lines(source) == ["    b", "c"]


def test_what_the_grader_reads_around_a_written_answer_even_unpaired():
    answer = "**Question.** Why?\n\n### BEGIN SOLUTION\nBecause.\n### END SOLUTION\n\nMore."
    assert around_solution(answer) == ("**Question.** Why?", "More.")
    assert around_solution("Why?\n### BEGIN SOLUTION\nBecause.") == ("Why?", "")  # no END: nothing follows
    assert drop_marker_lines("### BEGIN SOLUTION\nMine.\n  ### END SOLUTION\n### END SOLUTION") == "Mine."
