"""Lesson 13 (speed) and its exercises: the timers are right without depending on the machine's speed,
torch.compile fails gracefully, classic bugs fail a visible check with their hint, other correct
answers pass every check, hidden tests included.

The exercise cells run in this process (setup in quick mode: loading MNIST, a couple of seconds),
as in tests/test_fair_exercises.py; nothing here times real work except a few sleeps of 2 ms.
"""

import re
import statistics
from pathlib import Path

import nbformat
import pytest
import torch
from conftest import verified_data_root
from solution_cells import assert_bug_fails_with_hint, cell, check_task, quick_exercise, run_cells, solution_answer

from course_utils.checks import CheckFailed

REPO = Path(__file__).resolve().parents[1]
LESSON = REPO / "notebooks" / "13_speed.ipynb"
SOLUTION = REPO / "solutions" / "13_speed_exercises.ipynb"


def run(namespace: dict, name: str, source: str) -> None:
    exec(compile(source, name, "exec"), namespace)


def lesson_cell(starts: str) -> str:
    """The source of the lesson's code cell that defines ``starts`` (lesson cells have no fixed ids)."""
    notebook = nbformat.read(LESSON, as_version=4)
    found = [c.source for c in notebook.cells if c.cell_type == "code" and starts in c.source]
    assert len(found) == 1, starts
    return found[0]


class FakeTime:
    """Stands in for the ``time`` module: perf_counter moves only when fake work says so."""

    def __init__(self, durations):
        self.now, self.durations, self.calls = 0.0, list(durations), 0

    def perf_counter(self):
        return self.now

    def work(self):
        self.now += self.durations[self.calls]
        self.calls += 1


# --- the lesson --------------------------------------------------------------------------------


def test_the_lessons_timer_leaves_the_warm_up_untimed_takes_turns_and_the_median():
    # warm-ups of a and b (untimed), then three rounds: a 1 s, b 2 s; a 4 s, b 1 s; a 2 s, b 1 s
    clock = FakeTime([100.0, 100.0, 1.0, 2.0, 4.0, 1.0, 2.0, 1.0])
    namespace = {"device": torch.device("cpu"), "repeats": 3, "statistics": statistics}
    run(namespace, "timer", lesson_cell("def images_per_second("))
    namespace["time"] = clock
    rates = namespace["images_per_second"]({"a": (clock.work, 10), "b": (clock.work, 10)})
    assert rates == pytest.approx({"a": 5.0, "b": 10.0})  # a: 10, 2.5, 5 images/s; b: 5, 10, 10
    assert clock.calls == 8


def test_a_failing_torch_compile_is_explained_and_skipped(capsys, monkeypatch):
    """No C++ compiler (or any other failure on the first call): a message, no comparison, no error."""
    from course_utils import timing

    def broken_compile(model):
        def first_call(*args):
            raise RuntimeError("InvalidCxxCompiler: No working C++ compiler found in torch._inductor.config.cpp.cxx")

        return first_call

    monkeypatch.setattr(torch, "compile", broken_compile)
    for cold in (False, True):
        result = timing.compile_and_time(torch.nn.Linear(2, 2), lambda net: net(torch.zeros(1, 2)), cold=cold)
        assert result == (None, None)
        printed = capsys.readouterr().out
        assert "torch.compile failed (RuntimeError: InvalidCxxCompiler" in printed
        assert "C++ compiler" in printed and "skipped" in printed


def test_the_lessons_settings_are_checked_and_quick_mode_shrinks_them():
    from course_utils import timing

    assert timing.checked_settings(2048, 3, 128, True, quick=False) == (2048, 3, True)
    assert timing.checked_settings(2048, 3, 128, True, quick=True) == (256, 1, False)
    with pytest.raises(ValueError, match="torch_compile"):
        timing.checked_settings(2048, 3, 128, "yes", quick=False)
    with pytest.raises((ValueError, TypeError)):
        timing.checked_settings(0, 3, 128, True, quick=False)


# --- the exercises -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def exercise():
    """The solution notebook and a namespace with its setup run in quick mode (no answers yet)."""
    verified_data_root("mnist")
    return quick_exercise(SOLUTION, "code-04", "code-16")  # setup, the measured table


CALIBRATED_RUN = "        start = clock()\n        for _ in range(calls):\n            work()\n        rates"

BUGS = [
    (1, ">= min_seconds", "> min_seconds", False, "at least min_seconds (>=)"),
    (1, "calls *= 2", "calls += 1", False, "double the calls"),
    (
        1,
        "rates = []\n    for _ in range(repeats):",
        "rates = [calls * images / (clock() - start)]\n    for _ in range(repeats - 1):",
        False,
        "the calibration groups are not timed runs",
    ),
    (1, "for _ in range(calls):\n            work()\n        rates", "work()\n        rates", False, "every timed run"),
    (1, "statistics.median(rates)", "statistics.mean(rates)", False, "not their mean"),
    (1, "statistics.median(rates)", "sorted(rates)[len(rates) // 2]", False, "statistics.median(rates) does"),
    (1, "rates.append(calls * images / (", "rates.append(images / (", False, "calls x images"),
    (1, "rates.append(calls * images / (clock() - start))", "rates.append(clock() - start)", False, "not seconds"),
    (1, CALIBRATED_RUN, CALIBRATED_RUN.replace("clock()", "time.perf_counter()"), False, "runs of 4 calls"),
    (2, "range(0, len(y), batch_size)", "range(0, len(y) - batch_size + 1, batch_size)", False, "keep the last"),
    (2, "range(0, len(y), batch_size)", "range(0, len(y) + 1, batch_size)", False, "in batches of 5"),
    (2, "torch.randperm(len(y), generator=generator)", "torch.randperm(len(y))", False, "generator=generator"),
    (
        2,
        "torch.randperm(len(y), generator=generator)",
        "torch.randperm(len(y), generator=generator.manual_seed(0))",
        False,
        "do not seed it again",
    ),
    (
        2,
        "torch.randperm(len(y), generator=generator)",
        "torch.randint(len(y), (len(y),), generator=generator)",
        False,
        "use one permutation",
    ),
    (2, "yield x[indices], y[indices]", "yield x[start : start + batch_size], y[indices]", False, "the same indices"),
    (3, 'fits = table[table["peak_memory_mb"] <= memory_limit_mb]', "fits = table", False, "fits under the limit"),
    (3, "<= memory_limit_mb]", "< memory_limit_mb]", False, "at most the limit (<=)"),
    (3, 'fits["images_per_s"].idxmax()', 'fits["batch_size"].idxmax()', False, "not the largest batch"),
    (3, "float(epochs * n_images /", "float(n_images /", False, "epochs x images"),
    (3, 'return int(best["batch_size"]), ', 'return best["batch_size"], ', False, "int(...) and float(...)"),
]


@pytest.mark.parametrize("task, old, new, hidden, hint", BUGS, ids=[f"task{b[0]}-{b[4][:20]}" for b in BUGS])
def test_a_classic_bug_fails_its_task_with_a_hint(exercise, task, old, new, hidden, hint):
    assert_bug_fails_with_hint(exercise, task, old, new, hidden, hint)


OTHER_CORRECT_ANSWERS = {
    1: """
def median_images_per_second(work, images, min_seconds=0.2, repeats=3, clock=time.perf_counter):
    import numpy as np

    def run(n):
        before = clock()
        for _ in range(n):
            work()
        return clock() - before

    n = 1
    while run(n) < min_seconds:
        n *= 2
    return float(np.median([n * images / run(n) for _ in range(repeats)]))
""",
    2: """
def shuffled_batches(x, y, batch_size, generator):
    order = torch.randperm(len(y), generator=generator)
    return [(x[chunk], y[chunk]) for chunk in order.split(batch_size)]
""",
    3: """
def plan_training(table, memory_limit_mb, n_images, epochs):
    best = None
    for row in table.itertuples():
        if row.peak_memory_mb <= memory_limit_mb and (best is None or row.images_per_s > best.images_per_s):
            best = row
    if best is None:
        raise ValueError("no batch size fits")
    return int(best.batch_size), epochs * n_images / best.images_per_s
""",
}


@pytest.mark.parametrize("task", sorted(OTHER_CORRECT_ANSWERS))
def test_another_correct_answer_passes_every_check(exercise, task):
    check_task(exercise, task, OTHER_CORRECT_ANSWERS[task], hidden=True)
    check_task(exercise, task, solution_answer(exercise, task), hidden=True)


def test_nothing_fitting_must_raise_a_value_error(exercise):
    answer = solution_answer(exercise, 3)
    no_error = answer.replace(
        '    if fits.empty:\n        raise ValueError(f"no batch size fits in {memory_limit_mb} MB")\n',
        "    if fits.empty:\n        return None, None\n",
    )
    assert no_error != answer
    with pytest.raises(CheckFailed, match=re.escape("raise ValueError when nothing fits")):
        check_task(exercise, 3, no_error)  # a visible check


def test_task_2_answered_with_the_courses_iterate_batches_fails():
    from course_tools.grading import forbidden_uses

    solution = nbformat.read(SOLUTION, as_version=4)
    assert "iterate_batches" not in cell(solution, "code-04").source  # the setup does not hand it over
    runnable = nbformat.read(SOLUTION, as_version=4)
    answer = next(
        c
        for c in runnable.cells
        if c.metadata.get("course", {}).get("role") == "answer" and c.metadata["course"]["task"] == 2
    )
    answer.metadata["grading"] = {"from": "student", "task": 2}  # as course grade's assembly marks it
    answer.source = (
        "from course_utils import iterate_batches\n\n\n"
        "def shuffled_batches(x, y, batch_size, generator):\n"
        "    return iterate_batches(x, y, batch_size, True, generator)\n"
    )
    assert 2 in forbidden_uses(solution, runnable)
    answer.source = cell(solution, answer.id).source  # the solution's own answer is fine
    assert forbidden_uses(solution, runnable) == {}


def test_a_renamed_answer_gets_one_line_that_says_which_cell_to_run(exercise):
    notebook, namespace = exercise
    fresh = {name: value for name, value in namespace.items() if name != "shuffled_batches"}
    renamed = solution_answer(exercise, 2).replace("def shuffled_batches(", "def my_batches(")
    message = "Task 2 (shuffled batches): `shuffled_batches` is not defined yet: run the cell where Task 2 defines it"
    with pytest.raises(CheckFailed, match=re.escape(message)):
        run_cells(notebook, "task2-answer", "task2-check", namespace=fresh, task2_answer=renamed)


def test_a_timer_that_never_stops_calibrating_is_stopped_with_one_line(exercise):
    """Calibrating with the real clock never sees the fake work take time: the fake clock stops it."""
    answer = solution_answer(exercise, 1).replace("if clock() - start >= min_seconds:", "if False:")
    with pytest.raises(CheckFailed, match=re.escape("it called work() over 100,000 times")):
        check_task(exercise, 1, answer)
