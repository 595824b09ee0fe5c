"""Telling a student which mistake an answer made, and only when it is that mistake.

A check works out what the classic mistakes give on its input (dividing by the wrong count, a
reversed sign) and shows a mistake's hint only when the answer is exactly what that mistake gives;
any other wrong answer is told what differs, and nothing more.
"""

import importlib
import sys

import numpy as np

from course_utils.checks import _not_implemented, explain_errors, fail, passed


def verdict(what: str, problem: tuple | None) -> None:
    """Pass ``what``, or fail with the problem found: (what differs, the hint of its mistake or None)."""
    __tracebackhide__ = True
    if problem:
        fail(what, *problem)
    passed(what)


def same(got, expected) -> bool:
    """The same numbers (to a millionth), nan where ``expected`` has nan."""
    try:
        got, expected = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    except (TypeError, ValueError):  # not numbers at all
        return False
    return got.shape == expected.shape and np.allclose(got, expected, rtol=1e-6, atol=1e-9, equal_nan=True)


def known_mistake(got, mistakes) -> str | None:
    """The hint of the mistake that gives exactly ``got`` ({hint: what that mistake returns}, or a list
    of (hint, result) pairs where several results share a hint), else None."""
    pairs = mistakes.items() if isinstance(mistakes, dict) else mistakes
    return next((hint for hint, result in pairs if same(got, result)), None)


def shown(values) -> str:
    """Numbers as a message shows them: four significant digits."""
    values = np.asarray(values, dtype=np.float64)
    return "[" + ", ".join(f"{value:.4g}" for value in values.flatten()) + "]" if values.ndim else f"{values:.4g}"


def kind(value) -> str:
    """The type of ``value`` with its module and an article: "a torch.Tensor", "a numpy.float32", "an int"."""
    name = f"{type(value).__module__}.{type(value).__qualname__}".removeprefix("builtins.")
    return f"{'an' if name[0] in 'aeiou' else 'a'} {name}"


def must_match(got, expected, what: str, mistakes=()) -> None:
    """Fail unless ``got`` is an array of ``expected``'s shape and values (``mistakes`` as for `known_mistake`)."""
    __tracebackhide__ = True
    _not_implemented(got, what)  # None: "did your function forget to `return` its result?"
    if not isinstance(got, np.ndarray):
        fail(what, f"expected a NumPy array, got {kind(got)}", None)
    if got.shape != expected.shape or not same(got, expected):
        hint = known_mistake(got, mistakes)
        if got.shape != expected.shape:
            fail(what, f"expected shape {expected.shape}, got {got.shape}", hint)
        wrong = np.argwhere(~np.isclose(got, expected, rtol=1e-6, atol=1e-9))
        first = tuple(wrong[0].tolist())
        where = f"(row, column) {first}" if got.ndim == 2 else f"index {first[0] if got.ndim == 1 else first}"
        found = f"{len(wrong)} of {got.size} values differ, the first at {where}: expected {expected[first]:.4g}"
        fail(what, f"{found}, got {got[first]:.4g}", hint)


class explain(explain_errors):
    """`explain_errors` with a hint only for the error it is written for: ``explain("f(x)", reshape=hint)``
    adds ``hint`` to an error whose message contains "reshape", and no hint to any other error."""

    def __init__(self, what: str, **hints):
        super().__init__(what)
        self.hints = hints

    def __exit__(self, kind, error, traceback):
        __tracebackhide__ = True
        self.hint = next((hint for words, hint in self.hints.items() if words in str(error)), None)
        return super().__exit__(kind, error, traceback)


class explain_line(explain):
    """`explain` that also names the line of your code where the error happened (a hint may be a function
    that returns it, called only when its error happens)."""

    def __exit__(self, kind, error, traceback):
        __tracebackhide__ = True
        from course_utils.exercise_checks import _student_line  # the package imports this module

        hint = next((hint for words, hint in self.hints.items() if words in str(error)), None)
        hint = hint() if callable(hint) else hint
        line = _student_line(error) if isinstance(error, Exception) else None
        self.hint = "; ".join(filter(None, [line and f"it happened in your line `{line}`", hint])) or None
        return explain_errors.__exit__(self, kind, error, traceback)


class own_work:
    """Fail ``what`` when the block runs one of the course's functions or classes the task asks the student
    to write (dotted names, as an answer cell's ``course.forbid`` lists those `course grade` refuses):
    ``with own_work("receptive_field is your own", "course_utils.shapes.receptive_fields"): ...``. Calls are
    seen as they run, so a wrapper or a helper that calls one is found too; prints ✅ when none ran."""

    def __init__(self, what: str, *forbidden: str):
        self.what, self.codes = what, {}
        for dotted in forbidden:
            module, name = dotted.rsplit(".", 1)
            course = getattr(importlib.import_module(module), name)
            for function in vars(course).values() if isinstance(course, type) else [course]:  # a class: its methods
                code = getattr(getattr(function, "__func__", function), "__code__", None)
                self.codes.update({code: name} if code is not None else {})

    def __enter__(self):
        self.used, self.saved = {}, sys.getprofile()

        def note(frame, event, arg):
            if event == "call" and frame.f_code in self.codes:
                self.used.setdefault(self.codes[frame.f_code])

        sys.setprofile(note)
        return self

    def __exit__(self, kind, error, traceback):
        __tracebackhide__ = True
        sys.setprofile(self.saved)
        if self.used and (error is None or isinstance(error, Exception)):  # the reason, even for a wrong value
            name = next(iter(self.used))
            fail(self.what, "write it yourself", f"the task is to compute it, not to call the course's {name}")
        if error is None:
            passed(self.what)
        return False
