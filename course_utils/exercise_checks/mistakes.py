"""Telling a student which mistake an answer made, and only when it is that mistake.

A check works out what the classic mistakes give on its input (dividing by the wrong count, a
reversed sign) and shows a mistake's hint only when the answer is exactly what that mistake gives;
any other wrong answer is told what differs, and nothing more.
"""

import numpy as np

from course_utils.checks import fail, passed


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


def known_mistake(got, mistakes: dict) -> str | None:
    """The hint of the mistake that gives exactly ``got`` ({hint: what that mistake returns}), else None."""
    return next((hint for hint, result in mistakes.items() if same(got, result)), None)


def shown(values) -> str:
    """Numbers as a message shows them: four significant digits."""
    values = np.asarray(values, dtype=np.float64)
    return "[" + ", ".join(f"{value:.4g}" for value in values.flatten()) + "]" if values.ndim else f"{values:.4g}"


def kind(value) -> str:
    """The type of ``value`` with its module (``torch.Tensor``, ``numpy.float32``), plain for built-ins."""
    return f"{type(value).__module__}.{type(value).__qualname__}".removeprefix("builtins.")
