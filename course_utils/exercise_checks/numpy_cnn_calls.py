"""How exercises 7's checks (`numpy_cnn.py`) call your functions, and the kind of value they must return.

Your functions get copies of the checks' arrays (`on_copies`), and must leave them as they are; what they
return must be a NumPy array of the right shape (`check_array`), computed with NumPy only
(`check_numpy_only`). An error in your code is told with the line of your code that raised it
(`explain_line`). While your function runs, `np.empty` gives arrays of nan (`memory_of`), as memory may hold
anything: a result that changes when memory holds zeros instead read memory that no line wrote. The hints
that name a mistake in the numbers are in `numpy_cnn_mistakes.py`.
"""

from contextlib import contextmanager

import numpy as np
import torch

from course_utils.checks import fail, shape_hint
from course_utils.exercise_checks import mistakes

ARRAY_IN_IF = "`if`, `and`, `or` and Python's `max` need one True or False, not an array: use np.where or np.maximum"
INTEGERS = "the array you add to holds integers: make it float, np.zeros_like(x, dtype=float) or np.zeros(x.shape)"
WHOLE = "a count or an index is a float: divide whole numbers with // (/ gives a float)"
FLOATS = {"'float' object cannot be interpreted as an integer": WHOLE, "slice indices must be integers": WHOLE}
EMPTY = "start from np.zeros, or write every value: np.empty holds whatever was in memory"


class explain_line(mistakes.explain_line):
    """The shared `explain_line`, with the hints for a float where NumPy needs a whole number."""

    def __init__(self, what: str, **hints):
        super().__init__(what, **(hints | FLOATS))


class watched:
    """``function`` (your im2col, or the course's) that notes the shape of every array it returns, so that a
    matrix product's error can tell which factor is wrong: ``columns_hint(C*k*k, otherwise)``."""

    def __init__(self, function):
        self.function, self.shapes = function, []

    def __call__(self, *args, **kwargs):
        result = self.function(*args, **kwargs)
        self.shapes.append(tuple(getattr(result, "shape", ())))
        return result

    def columns_hint(self, columns: int, otherwise: str):
        """The hint for a product's mismatch, once it happened: im2col's columns when they are not ``columns``."""

        def hint():
            wrong = [shape[1] for shape in self.shapes if len(shape) == 2 and shape[1] != columns]
            if wrong:
                return f"im2col gave {wrong[0]} columns, not C*k*k = {columns}: call im2col(x, k, stride)"
            return otherwise

        return hint


@contextmanager
def memory_of(value: float):
    """Within the block, np.empty and np.empty_like fill their float arrays with ``value``."""
    saved = {name: getattr(np, name) for name in ("empty", "empty_like")}

    def filled(make):
        def empty(*args, **kwargs):
            array = make(*args, **kwargs)
            array.fill(value) if np.issubdtype(array.dtype, np.inexact) else None
            return array

        return empty

    try:
        for name, make in saved.items():
            setattr(np, name, filled(make))
        yield
    finally:
        for name, make in saved.items():
            setattr(np, name, make)


def holds_nan(result) -> bool:
    """Does the array ``result`` (or an array of the tuple or list ``result``) hold nan?"""
    parts = result if isinstance(result, tuple | list) else [result]
    return any(isinstance(p, np.ndarray) and np.issubdtype(p.dtype, np.inexact) and np.isnan(p).any() for p in parts)


def uses_torch(function) -> bool:
    """Does ``function``, or a function defined inside it, name ``torch`` or ``F`` (PyTorch's usual names)?"""
    codes, names = [getattr(function, "__code__", None)], set()
    while codes:
        code = codes.pop()
        names |= set(code.co_names) if code else set()
        codes += [const for const in (code.co_consts if code else ()) if hasattr(const, "co_names")]
    return bool(names & {"torch", "F"})


def check_array(value, shape, what: str, hint: str | None = None) -> None:
    """Fail unless ``value`` is a NumPy array of ``shape`` (the ✅ comes with the check of its values)."""
    __tracebackhide__ = True
    value = np.asarray(value) if isinstance(value, np.generic) else value  # a NumPy number: shape ()
    if value is None:
        fail(what, "got None", "did your function forget to `return` its result?")
    if not isinstance(value, np.ndarray):
        hint = "return the NumPy array itself" + (" (no .tolist())" if isinstance(value, list) else "")
        hint = "compute with NumPy only" if isinstance(value, torch.Tensor) else hint
        fail(what, f"expected a NumPy array, got a {type(value).__name__}", hint)
    if value.shape != tuple(shape):
        fail(what, f"expected shape {tuple(shape)}, got {value.shape}", hint or shape_hint(tuple(shape), value.shape))


def on_copies(what: str, function, arrays: dict, *args, **kwargs):
    """``function(*arrays.values(), *args, **kwargs)`` given copies of the arrays, so the checks' own arrays stay
    as they are; fail when it changed one of them (its result may be right, but its caller's array is lost),
    or when its result depends on what np.empty found in memory (``empty=``: the hint then).
    ``hints={words: hint}`` adds ``hint`` to an error whose message holds ``words`` (the first that does)."""
    __tracebackhide__ = True
    hints = (kwargs.pop("hints", None) or {}) | {"truth value of an array": ARRAY_IN_IF, "Cannot cast ufunc": INTEGERS}
    empty, results = kwargs.pop("empty", EMPTY), []
    for memory in (np.nan, 0.0):  # again with memory of zeros only when the result holds nan
        copies = {name: array.copy() for name, array in arrays.items()}
        with explain_line(what, **hints), memory_of(memory):
            results.append(function(*copies.values(), *args, **kwargs))
        for name, array in arrays.items():
            if not np.array_equal(copies[name], array):
                hint = f"return a new array (np.where(...) or {name}.copy())"
                fail(what, f"your function changed its input `{name}` in place", hint)
        if not holds_nan(results[0]):
            return results[0]
    if not holds_nan(results[1]):  # the nan came from np.empty's memory, not from the inputs or the code
        fail(what, "its result changes with what was in memory before it ran", empty)
    return results[0]


def check_numpy_only(nb, *names) -> None:
    """Fail when an answer calls PyTorch (``torch.`` or ``F.``): the task is to write the layer in NumPy."""
    __tracebackhide__ = True
    for name in names:
        if uses_torch(getattr(nb, name)):
            fail(f"{name} uses NumPy only", "it calls PyTorch", "write it with NumPy arrays and functions")
