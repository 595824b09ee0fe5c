"""The exercises' one-line checks: ``check(task=2)`` runs Task 2's checks from the exercise's own module.

Each exercise has a module in this folder, named by its id (``two_conv_net.py`` for exercises 4).
It holds one function per task, registered with `Tasks`, that reads the student's answers from the
notebook and calls the checks of `course_utils.checks` on them::

    tasks = Tasks("two_conv_net")

    @tasks(2, "one training step", answers=["train_step"])
    def training_step(nb):
        loss = nb.train_step(model, optimizer, xb, yb)  # the student's function, from the notebook
        check_equal(type(loss).__name__, "float", "the type train_step returns", hint="return loss.item()")

    check = tasks.check  # the notebook imports this: `check(task=2)`

``nb.name`` is the notebook's variable ``name``. A name the notebook has not defined yet stops
the check with one line that says which cell to run; an error raised inside the student's code
becomes one line too (`explain_errors`), so a check never ends in a traceback. The grader loads
a fresh copy of these modules for every check, and runs an instructor's hidden tests (the same
kind of functions, kept beside the solutions) after the visible ones, each on its own
(`Tasks.verdicts`): one with ``points=`` gives partial credit of its own, one without is part of
the task's pass/fail gate.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import course_utils
from course_utils.checks import CheckFailed, NotDoneYet, explain_errors, unfinished

SETUP = "run the notebook's cells from the top first (Run > Run All Above)"


class using_course:
    """Within the block, names in a notebook's ``globals()`` mean the course's ``references``, so that
    one mistake costs one task: ``with using_course(globals(), train_step=course_train_step):``."""

    def __init__(self, namespace: dict, **references):
        self.namespace, self.references = namespace, references

    def __enter__(self):
        self.saved = {name: self.namespace[name] for name in self.references if name in self.namespace}
        self.namespace.update(self.references)

    def __exit__(self, *error):
        for name in self.references:
            self.namespace.pop(name, None)
        self.namespace.update(self.saved)
        return False  # an error goes on, with no frame of ours in its traceback


class Notebook:
    """The notebook's variables, as a task's check reads them: ``nb.data``, ``nb.train_step``."""

    def __init__(self, namespace: dict, task: int, title: str, answers: tuple):
        self._namespace, self._task, self._title, self._answers = namespace, task, title, answers

    def __getattr__(self, name: str):
        __tracebackhide__ = True
        if name.startswith("_"):
            raise AttributeError(name)
        if name in self._namespace:
            return self._namespace[name]
        where = (
            f"run the cell where Task {self._task} defines it, then this check again (if you renamed it, "
            f"give it back the name `{name}`: the checks look for that name)"
            if name in self._answers
            else SETUP
        )
        raise CheckFailed(f"Task {self._task} ({self._title}): `{name}` is not defined yet: {where}")

    def get(self, name: str, default=None):
        """The variable ``name``, or ``default`` when the notebook has none."""
        return self._namespace.get(name, default)

    def lend(self, **references) -> using_course:
        """Within the block, the notebook's ``train_step`` etc. are the course's: one mistake, one task."""
        return using_course(self._namespace, **references)


def needs(task: int | str, what: str) -> explain_errors:
    """For a cell that uses a task's answer (a plot): an error there becomes one line naming the task
    (``task="1-5"``: the tasks)."""
    return explain_errors(what, hint=f"Task{'s' * isinstance(task, str)} {task} must pass first")


def _student_line(error: BaseException) -> str | None:
    """The last line of the student's own code in the error's traceback (None: the error is not theirs)."""
    ours = {Path(__file__).resolve().parents[1], Path(course_utils.__file__).resolve().parent}
    library = (*map(str, ours), str(Path(traceback.__file__).parent))
    installed = ("site-packages", "dist-packages")  # PyTorch's own lines are not the student's
    frames = [
        f
        for f in traceback.extract_tb(error.__traceback__)
        if not f.filename.startswith(library) and not any(part in f.filename for part in installed)
    ]
    return (frames[-1].line or "").strip() or "?" if frames else None


class Registered(NamedTuple):
    """One check function of a task, as `Tasks` registered it."""

    function: Callable
    title: str
    answers: tuple
    points: float | None  # None: part of the task's pass/fail gate


class Tasks:
    """An exercise's checks, by task: ``@tasks(1, "the forward pass", answers=[...])`` registers a function.

    A task may have several functions; ``check(task=N)`` runs them all, in the order they were
    registered. In an instructor's hidden tests, ``points=`` gives a function partial credit of its
    own (``@hidden(4, "backward", answers=["conv_backward"], points=1)``); one without points is part of
    the task's pass/fail gate. The grader reads ``task`` and ``points`` without running the file, so
    both are plain numbers there (see `course_tools.grading.scoring`).
    """

    def __init__(self, exercise_id: str):
        self.exercise_id, self.tests, self.titles, self.answers = exercise_id, {}, {}, {}

    def __call__(self, task: int, title: str, answers=(), points: float | None = None):
        def register(function):
            self.tests.setdefault(task, []).append(Registered(function, title, tuple(answers), points))
            self.titles.setdefault(task, title)
            self.answers.setdefault(task, tuple(answers))
            return function

        return register

    @property
    def functions(self) -> dict[int, list]:
        """{task: its check functions}."""
        return {task: [test.function for test in tests] for task, tests in self.tests.items()}

    def run(self, task: int, namespace: dict):
        """Run ``task``'s checks on the notebook's variables; returns what the last check function returns."""
        __tracebackhide__ = True
        if task not in self.tests:
            known = ", ".join(map(str, sorted(self.tests)))
            raise CheckFailed(f"there is no Task {task!r} in these exercises (tasks: {known})")
        result = None
        for test in self.tests[task]:
            result = self._run_one(task, test, namespace)
        return result

    def verdicts(self, task: int, namespace: dict, gates: bool = True) -> list[dict]:
        """Each of ``task``'s check functions run on its own, its failure caught: one dict per function,
        ``{"name", "points", "passed", "error", "message"}`` (the error's class and its first 400
        characters; empty when it passed); ``gates=False`` skips the functions without points (the
        grader's case when the task's visible check failed, so its gate is lost anyway)."""
        found = []
        for test in self.tests.get(task, []):
            verdict = {"name": test.function.__name__, "points": test.points, "passed": False, "error": ""}
            if test.points is None and not gates:
                verdict.update(error="NotRun", message="not run: the task's visible check failed first")
                found.append(verdict)
                continue
            try:
                self._run_one(task, test, namespace)
                verdict.update(passed=True, message="")
            except BaseException as error:  # noqa: BLE001 - SystemExit from the answer must not end the report
                message = str(error) if isinstance(error, Exception) else f"your code raised {type(error).__name__}"
                verdict.update(error=type(error).__name__, message=message[:400])
            found.append(verdict)
        return found

    @staticmethod
    def raise_first_failed_gate(verdicts: list[dict]) -> None:
        """Raise the error of the first failed function without points, as ``check(task=N)`` would have:
        the task's gate fails in the notebook itself, whatever its verdicts line says."""
        __tracebackhide__ = True
        failed = [v for v in verdicts if v["points"] is None and not v["passed"] and v["error"] != "NotRun"]
        if failed:
            raise (NotDoneYet if failed[0]["error"] == "NotDoneYet" else CheckFailed)(failed[0]["message"])

    def _run_one(self, task: int, test: Registered, namespace: dict):
        """One check function on the notebook: its errors become one line (`CheckFailed`, `NotDoneYet`)."""
        __tracebackhide__ = True
        title = test.title
        try:
            return test.function(Notebook(namespace, task, title, test.answers))
        except Exception as error:
            if isinstance(error, CheckFailed):
                raise CheckFailed(str(error)) from None  # one line: no frame of the checks in the way
            if unfinished(error):  # the task is not done yet: the grader reads "not attempted"
                raise NotDoneYet(str(error)) from None
            line = (str(error).strip().splitlines() or [""])[0][:200]
            student_line = _student_line(error)
            if student_line is not None:  # e.g. cross_entropy(labels, logits) inside the answer
                where = f"your code raised {type(error).__name__}: {line}"
                hint = f"it happened in your line `{student_line}`"
            else:  # the checks themselves tripped over an answer of an unexpected kind
                where = f"checking your answer raised {type(error).__name__}: {line}"
                hint = "does your answer return what the task asks for (the kind of value and its shape)?"
            raise CheckFailed(f"Task {task} ({title}): {where}: {hint}") from None

    def check(self, task: int):
        """Run Task ``task``'s checks in the calling notebook: ``check(task=1)``."""
        __tracebackhide__ = True
        return self.run(task, sys._getframe(1).f_globals)
