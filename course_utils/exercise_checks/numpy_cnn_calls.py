"""How exercises 7's checks (`numpy_cnn.py`) call your functions, and the kind of value they must return.

Your functions get copies of the checks' arrays (`on_copies`), and must leave them as they are; what they
return must be a NumPy array of the right shape (`check_array`), computed with NumPy only
(`check_numpy_only`). The hints that name a mistake in the numbers are in `numpy_cnn_mistakes.py`.
"""

import numpy as np
import torch

from course_utils.checks import fail, shape_hint
from course_utils.exercise_checks.mistakes import explain

ARRAY_IN_IF = "`if`, `and`, `or` and Python's `max` need one True or False, not an array: use np.where or np.maximum"


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
    as they are; fail when it changed one of them (its result may be right, but its caller's array is lost).
    ``hints={words: hint}`` adds ``hint`` to an error whose message holds ``words`` (the first that does)."""
    __tracebackhide__ = True
    copies = {name: array.copy() for name, array in arrays.items()}
    hints = (kwargs.pop("hints", None) or {}) | {"truth value of an array": ARRAY_IN_IF}
    with explain(what, **hints):
        result = function(*copies.values(), *args, **kwargs)
    for name, array in arrays.items():
        if not np.array_equal(copies[name], array):
            hint = f"return a new array (np.where(...) or {name}.copy())"
            fail(what, f"your function changed its input `{name}` in place", hint)
    return result


def check_numpy_only(nb, *names) -> None:
    """Fail when an answer calls PyTorch (``torch.`` or ``F.``): the task is to write the layer in NumPy."""
    __tracebackhide__ = True
    for name in names:
        if uses_torch(getattr(nb, name)):
            fail(f"{name} uses NumPy only", "it calls PyTorch", "write it with NumPy arrays and functions")
