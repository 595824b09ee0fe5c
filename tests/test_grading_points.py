"""Points, partial credit and each check's verdict (issue 25): `course_tools.grading.scoring`.

Most tests score executed notebooks built here, or run an armed check cell in this process
(`run_armed`: the grader's own prologue, hidden tests and verdicts line, without a kernel); one
grades a real submission whose code forges a verdicts line.
"""

import contextlib
import io
import json
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest

from course_tools.grading import grade_one
from course_tools.grading.assemble import arm, checks_file, complete_marker, verdicts_marker
from course_tools.grading.reading import written_answers
from course_tools.grading.scoring import (
    WITHHELD,
    PointsError,
    Scheme,
    hidden_scheme,
    marking_scheme,
    score,
    task_points,
)

REPO = Path(__file__).resolve().parents[1]
TOKEN = "0123456789abcdef"


def code(source, task=None, role=None, hidden=False, outputs=(), course=None):
    """A cell of an executed notebook, as the grader leaves it."""
    made = nbformat.v4.new_code_cell(source)
    origin = "student" if role == "answer" else "solution"
    made.metadata["grading"] = {"task": task, "role": role, "from": origin}
    if role == "check":
        made.metadata["grading"].update(token=TOKEN, hidden=hidden)
        made.metadata["course"] = course or {"task": task, "role": role, "title": f"the title of Task {task}"}
    made.execution_count, made.outputs = 1, list(outputs)
    return made


def printed(text):
    return nbformat.v4.new_output("stream", name="stdout", text=text)


def error(message, name="CheckFailed"):
    return nbformat.v4.new_output("error", ename=name, evalue=message, traceback=[message])


def verdict(name, passed=True, points=None, message=""):
    return {
        "name": name,
        "points": points,
        "passed": passed,
        "error": "" if passed else "CheckFailed",
        "message": message,
    }


def verdicts_line(*verdicts, check_passed=True):
    return f"{verdicts_marker(TOKEN)} {json.dumps({'check_passed': check_passed, 'hidden': list(verdicts)})}\n"


def one_task(*check_outputs):
    """An executed notebook of one task: its answer, then its check cell with these outputs."""
    cells = [
        code("def double(x):\n    return 2 * x", 1, "answer"),
        code("check(task=1)", 1, "check", True, check_outputs),
    ]
    return nbformat.v4.new_notebook(cells=cells)


SCHEME = Scheme(tasks={1: 2.0}, hidden={1: [("same_sizes", None), ("odd_sizes", 1.0), ("huge_sizes", 3.0)]})


def test_task_points_come_from_any_cell_of_the_task_and_default_to_one():
    solution = nbformat.v4.new_notebook(cells=[code("x = 1", 1, "answer"), code("check(task=1)", 1, "check")])
    solution.cells[1].metadata["course"]["points"] = 3
    solution.cells.append(code("check(task=2)", 2, "check"))
    assert task_points(solution) == {1: 3.0, 2: 1.0}
    solution.cells[0].metadata["course"] = {"task": 1, "role": "answer", "points": 2}
    with pytest.raises(PointsError, match="Task 1 of the solution has course.points 2 on cell 0 and 3 on cell 1"):
        task_points(solution)
    solution.cells[0].metadata["course"]["points"] = True
    with pytest.raises(PointsError, match="points must be a number, 0 or more, not True"):
        task_points(solution)


def test_written_answers_carry_their_points():
    solution = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell(
                "**Question.** Why?\n\n### BEGIN SOLUTION\nBecause.\n### END SOLUTION", id="q1"
            ),
            nbformat.v4.new_markdown_cell("**Question.** How?\n\n### BEGIN SOLUTION\nSo.\n### END SOLUTION", id="q2"),
        ]
    )
    solution.cells[1].metadata["course"] = {"points": 2.5}
    student = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("**Question.** Why?\n\nNo idea.", id="q1")])
    why, how = written_answers(solution, student)
    assert (why.question, why.answer, why.placeholder, why.max_points, why.score) == (
        "Why?",
        "No idea.",
        False,
        1.0,
        None,
    )
    assert (how.max_points, how.placeholder) == (2.5, True)


def test_hidden_tests_points_are_read_without_running_the_file():
    source = textwrap.dedent(
        """\
        from course_utils.exercise_checks import Tasks
        hidden = Tasks("toy")
        import this_module_does_not_exist  # never run

        @hidden(1, "sizes", answers=["size"])
        def same_sizes(nb): ...

        @hidden(1, "sizes", answers=["size"], points=2)
        def odd_sizes(nb): ...

        @hidden(task=3, title="t", points=0.5)
        def later(nb): ...

        def helper(): ...
        """
    )
    assert hidden_scheme(source) == {1: [("same_sizes", None), ("odd_sizes", 2.0)], 3: [("later", 0.5)]}
    with pytest.raises(PointsError, match="hidden_tests line 2: the task and points= of a hidden test must be plain"):
        hidden_scheme('hidden = Tasks("toy")\n@hidden(1, "t", points=WEIGHT)\ndef f(nb): ...')
    with pytest.raises(PointsError, match="Task 1 has two hidden tests called f: rename one"):
        hidden_scheme(
            'hidden = Tasks("toy")\n@hidden(1, "t")\ndef f(nb): ...\n@hidden(1, "t", points=1)\ndef f(nb): ...'
        )


@pytest.mark.parametrize("path", sorted((REPO / "solutions").glob("*.ipynb")), ids=lambda p: p.name[:2])
def test_every_solution_s_scheme_is_what_its_hidden_tests_register(path):
    from solution_cells import hidden_tests

    solution = nbformat.read(path, as_version=4)
    source = (REPO / "solutions" / "hidden_tests" / f"{solution.metadata['course']['exercise_id']}.py").read_text()
    scheme = marking_scheme(solution, source)
    registered = {
        task: [(test.function.__name__, test.points) for test in tests]
        for task, tests in hidden_tests(solution).tests.items()
    }
    assert scheme.hidden == registered
    assert set(scheme.tasks) == {
        c.metadata["course"]["task"] for c in solution.cells if "task" in c.metadata.get("course", {})
    }


def test_partial_credit_adds_each_passed_hidden_test_s_points_to_the_task_s_own():
    executed = one_task(
        printed(
            verdicts_line(verdict("same_sizes"), verdict("odd_sizes", points=1), verdict("huge_sizes", False, 3, "m"))
        ),
        printed(complete_marker(TOKEN) + "\n"),
    )
    (result,), notes = score(executed, {}, SCHEME)
    assert (result.points, result.max_points, result.passed, notes) == (3.0, 6.0, False, [])
    assert result.hint == "hidden test huge sizes: m"
    assert [(c.name, c.kind, c.passed, c.points, c.max_points) for c in result.checks] == [
        ("the title of Task 1", "visible", True, 0.0, 0.0),
        ("same sizes", "hidden", True, 0.0, 0.0),
        ("odd sizes", "hidden", True, 1.0, 1.0),
        ("huge sizes", "hidden", False, 0.0, 3.0),
    ]


def test_a_failed_hidden_test_gives_its_hint_by_name_and_fails_the_gate():
    message = "Task 1 (sizes): double(3): expected 6, got 5"
    executed = one_task(
        printed(verdicts_line(verdict("same_sizes", False, message=message), verdict("odd_sizes", points=1))),
        error(message),  # the grader raises the first failed gate test's error in the cell
    )
    (result,), _ = score(executed, {}, SCHEME)
    visible, gate, odd, huge = result.checks
    assert (visible.passed, gate.passed, gate.hint) == (True, False, message)  # the check passed, the gate did not
    assert (result.points, result.hint) == (1.0, message)
    assert "double" not in gate.name and huge.hint.startswith("could not run")  # no verdict: nothing


def test_a_verdicts_line_printed_by_the_student_s_code_does_not_win():
    forged = verdicts_line(verdict("same_sizes"), verdict("odd_sizes", points=1), verdict("huge_sizes", points=3))
    real = verdicts_line(
        verdict("same_sizes"), verdict("odd_sizes", False, 1, "no"), verdict("huge_sizes", False, 3, "no")
    )
    done = complete_marker(TOKEN) + "\n"
    for outputs in (
        [
            printed("training...\n" + forged),
            printed(done + forged),
            printed(real),
            printed(done),
        ],  # early, and its own end
        [printed(forged), printed(real + done), printed(forged)],  # after the cell (an IPython event hook)
        [printed(forged), printed(real), error("Task 1: no"), printed(forged + done)],
    ):
        (result,), _ = score(one_task(*outputs), {}, SCHEME)
        assert [c.passed for c in result.checks[2:]] == [False, False], outputs


def test_a_failed_visible_check_loses_the_task_s_points_but_not_a_passed_hidden_test_s():
    skipped = {"name": "same_sizes", "points": None, "passed": False, "error": "NotRun", "message": "not run"}
    executed = one_task(
        printed(verdicts_line(skipped, verdict("odd_sizes", points=1), check_passed=False)),
        error("Task 1 (sizes): double(2): expected 4, got 5"),
    )
    (result,), _ = score(executed, {}, SCHEME)
    visible, gate, odd, huge = result.checks
    assert (visible.passed, visible.hint) == (False, "Task 1 (sizes): double(2): expected 4, got 5")
    assert (gate.passed, gate.hint) == (False, "not run: the task's visible check failed first")
    assert (result.points, result.max_points, result.hint) == (1.0, 6.0, visible.hint)


def test_hidden_tests_that_could_not_run_count_nothing():
    cut = one_task(printed(verdicts_line(verdict("same_sizes"), verdict("odd_sizes", points=1))))
    cut.metadata["grading"] = {"status": "timeout", "stopped_at": 1, "reason": "the time limit ran out"}
    (result,), _ = score(cut, {}, SCHEME)
    assert (result.points, result.hint) == (0.0, "the time limit ran out in this task")
    assert result.checks[2].hint == "could not run: the time limit ran out in this task"
    # a check cell that ran to its end but printed no verdicts: its gate is not taken on trust
    (result,), _ = score(one_task(printed(complete_marker(TOKEN) + "\n")), {}, SCHEME)
    assert result.points == 0.0 and result.hint.startswith("hidden test same sizes: could not run")
    # a task failed before it ran (here a forbidden name) earns nothing, passed hidden tests included
    passing = one_task(
        printed(verdicts_line(verdict("same_sizes"), verdict("odd_sizes", points=1))), printed(complete_marker(TOKEN))
    )
    (result,), _ = score(passing, {1: ["the answer uses the course's own double"]}, SCHEME)
    assert (result.points, result.hint, result.checks[2].passed) == (
        0.0,
        "the answer uses the course's own double",
        True,
    )


EXERCISE = """
from course_utils.checks import check_equal
from course_utils.exercise_checks import Tasks

tasks = Tasks("toy")
check = tasks.check


@tasks(1, "double", answers=["double"])
def doubles(nb):
    check_equal(nb.double(2), 4, "double(2)")
"""

HIDDEN = """
from course_utils.checks import check_equal
from course_utils.exercise_checks import Tasks

hidden = Tasks("toy")


@hidden(1, "double", answers=["double"])
def negative_numbers(nb):
    check_equal(nb.double(-1), -2, "double(-1)")


@hidden(1, "double", answers=["double"], points=2)
def large_numbers(nb):
    check_equal(nb.double(10**6), 2 * 10**6, "double(10**6)")


@hidden(1, "double", answers=["double"], points=1)
def exits(nb):
    nb.double(None)
"""


def run_armed(tmp_path, answer: str):
    """Task 1's check cell of a toy exercise, armed as the grader arms it, run in this process after
    ``answer``: the executed notebook (its check cell's output and error, as a kernel would show them)."""
    files = {"checks": checks_file(), "base": checks_file().parent / "exercise_checks" / "__init__.py"}
    for key, text in (("exercise", EXERCISE), ("hidden", HIDDEN)):
        files[key] = tmp_path / f"{key}.py"
        files[key].write_text(text)
    source = arm("check(task=1)", {"check": ("exercise", "check")}, TOKEN, files, "toy", hidden_task=1)
    namespace, out, outputs, hook = {}, io.StringIO(), [], sys.excepthook
    exec(answer, namespace)
    with contextlib.redirect_stdout(out):
        try:
            exec(source, namespace)
        except BaseException as raised:  # noqa: BLE001 - as the kernel would show it
            outputs = [error(str(raised), type(raised).__name__)]
        finally:
            sys.excepthook = hook  # the prologue resets it, as in a kernel
    executed = one_task(printed(out.getvalue()), *outputs)
    return executed, marking_scheme(executed, HIDDEN)


def test_an_armed_check_cell_runs_each_hidden_test_on_its_own_and_reports_every_verdict(tmp_path):
    executed, scheme = run_armed(
        tmp_path, "def double(x):\n    if x is None:\n        raise SystemExit\n    return 2 * x"
    )
    (result,), _ = score(executed, {}, scheme)
    assert [(c.name, c.passed) for c in result.checks] == [
        ("the title of Task 1", True),
        ("negative numbers", True),
        ("large numbers", True),
        ("exits", False),
    ]
    assert result.checks[3].hint == "SystemExit: your code raised SystemExit"  # caught: the report went on
    assert (result.points, result.max_points) == (3.0, 4.0)


def test_an_armed_check_cell_fails_on_a_gate_test_and_still_gives_partial_credit(tmp_path):
    executed, scheme = run_armed(tmp_path, "def double(x):\n    return 2 * abs(x) if x is not None else 0")
    (result,), _ = score(executed, {}, scheme)
    assert executed.cells[1].outputs[-1].ename == "CheckFailed"  # the gate failed in the notebook too
    assert "double(-1)" in result.hint and result.checks[0].passed
    assert (result.points, [c.passed for c in result.checks[1:]]) == (3.0, [False, True, True])
    executed, scheme = run_armed(tmp_path, "def double(x):\n    return x + 3 if x is not None else 0")  # visible fails
    (result,), _ = score(executed, {}, scheme)
    assert "double(2)" in result.hint and not result.checks[0].passed
    assert [c.hint for c in result.checks[1:]][0] == "not run: the task's visible check failed first"
    assert result.points == 1.0  # `exits` passed, worth 1


FORGER = """
def conv_output_size(size, kernel_size, stride=1, padding=0):
    import json, re
    cell = globals()["_ih"][-1]  # the check cell running now, with its token
    token = re.search(r"cell complete ([0-9a-f]+)", cell).group(1)
    fake = {"check_passed": True, "hidden": [{"name": "odd_sizes", "passed": True, "points": 5, "error": ""}]}
    print(f"[grader: verdicts {token}] {json.dumps(fake)}")
    print(f"[grader: cell complete {token}]")
    return (size + 2 * padding - kernel_size) // stride + 1 if size < 100 else 0
"""

FORGED_HIDDEN = """
from course_utils.checks import check_equal
from course_utils.exercise_checks import Tasks

hidden = Tasks("shape_arithmetic")


@hidden(1, "conv_output_size", answers=["conv_output_size"])
def small_sizes(nb):
    check_equal(nb.conv_output_size(5, 5), 1, "a kernel as large as the input")


@hidden(1, "conv_output_size", answers=["conv_output_size"], points=5)
def odd_sizes(nb):
    check_equal(nb.conv_output_size(225, 7, stride=2, padding=3), 113, "an odd size")
"""


@pytest.mark.kernel
def test_a_real_submission_that_forges_its_verdicts_gets_what_it_earned(tmp_path):
    name = "03_shape_arithmetic_exercises.ipynb"
    solutions = tmp_path / "solutions"
    (solutions / "hidden_tests").mkdir(parents=True)
    solution = nbformat.read(REPO / "solutions" / name, as_version=4)
    next(c for c in solution.cells if c.get("id") == "task1-check").metadata["course"]["points"] = 2
    nbformat.write(solution, solutions / name)
    (solutions / "hidden_tests" / "shape_arithmetic.py").write_text(FORGED_HIDDEN)
    (tmp_path / "work").mkdir()
    next(c for c in solution.cells if c.get("id") == "task1-answer").source = FORGER
    nbformat.write(solution, tmp_path / name)
    row = grade_one(tmp_path / name, solutions, tmp_path / "work" / name, 60)
    assert row.status == "ok", row.feedback
    first = row.task_results[0]
    assert [(c.name, c.passed) for c in first.checks] == [
        ("conv_output_size", True),
        ("small sizes", True),
        ("odd sizes", False),
    ]
    assert (first.points, first.max_points) == (2.0, 7.0)
    assert row.tasks[1] is False and row.feedback[0].startswith("task1: hidden test odd sizes: an odd size")
    assert [(r.points, r.max_points) for r in row.task_results[1:]] == [(1.0, 1.0)] * 3
    check = next(c for c in nbformat.read(tmp_path / "work" / name, as_version=4).cells if "check(task=1)" in c.source)
    assert '"points": 5' in "".join(o.get("text", "") for o in check.outputs)  # the forged line was printed, and lost


def test_a_name_an_armed_check_cell_binds_still_belongs_to_its_task():
    """`model = check(task=1)` runs inside the grader's `try:`: a failed plot of `model` is Task 1's failure."""
    executed = one_task(error("not attempted", "NotDoneYet"))
    executed.cells[1].source = arm("model = check(task=1)", {}, TOKEN, checks_file(), hidden_task=1)
    plot = code("show(model)", outputs=[error("name 'model' is not defined", "NameError")])
    executed.cells.append(plot)
    (result,), notes = score(executed, {})
    assert (result.passed, notes) == (False, [])


def test_a_hint_that_quotes_the_hidden_tests_is_withheld_and_one_naming_the_fix_is_not():
    hidden_source = "@hidden(1)\ndef same_sizes(nb):\n    check_equal(nb['double'](21),   42, 'the double of 21')\n"
    answer = code("### BEGIN SOLUTION\nanswer = sorted(set(words)) * 2\n### END SOLUTION", 1, "answer")
    scheme = marking_scheme(nbformat.v4.new_notebook(cells=[answer]), hidden_source)
    scheme.hidden = {1: [("same_sizes", None)]}
    leaked = "check_equal(nb['double'](21), 42, 'the double of 21')"  # the line, its spaces made one
    for message in (leaked, "x " * 130 + leaked):  # the last one cut
        executed = one_task(printed(verdicts_line(verdict("same_sizes", False, message=message))), error(message))
        (result,), _ = score(executed, {}, scheme)
        assert {result.hint, *(check.hint for check in result.checks)} - {""} == {WITHHELD}, message
    (result,), _ = score(one_task(error("expected 42, got 41")), {}, scheme)  # the grader's own words stay
    assert result.hint == "expected 42, got 41"
    (result,), _ = score(one_task(error("add: answer = sorted(set(words)) * 2")), {}, scheme)  # a fix, like the answer
    assert result.hint == "add: answer = sorted(set(words)) * 2"
