"""Self-checks for exercises and the lessons' "your turn" cells: a clear pass, or a hint that says what to fix.

Each prints ``✅ <what>: passed`` or raises `CheckFailed` (one line: expected, found, likely cause); so does
`explain_errors` for a student's own errors; `check_own_work` refuses copies.
"""

from __future__ import annotations

import math

import torch


class CheckFailed(AssertionError):
    """A self-check did not pass; the message is written for the student."""

    def _render_traceback_(self):
        # IPython asks for this: one red line, not a traceback (still an error: "run all" stops here)
        return [f"\x1b[31m❌ {self}\x1b[0m"]


def passed(what: str) -> None:  # the grader counts on errors and its own tokens, not on these lines
    print(f"✅ {what}: passed")


def unfinished(error) -> bool:
    """A task's stub raising ``NotImplementedError("Task 2: ...")`` (not a library's NotImplementedError)."""
    return isinstance(error, NotImplementedError) and str(error).startswith("Task ")


class NotDoneYet(NotImplementedError):
    """A check reached a task's stub: the answer is still to be written (one line, like a failed check)."""

    def _render_traceback_(self):
        todo = "replace `raise NotImplementedError(...)` with your code and run its cell (again, if you edited it;"
        todo += " a renamed function needs its name back)"
        return [f"\x1b[33m✏️  {self}: not done yet: {todo}\x1b[0m"]


def fail(what: str, message: str, hint: str | None = None) -> None:
    __tracebackhide__ = True
    raise CheckFailed(f"{what}: {message}" + (f": {hint}" if hint else ""))


def _not_implemented(value, what):
    __tracebackhide__ = True
    if value is None:
        fail(what, "got None", "did your function forget to `return` its result?")
    if value is NotImplemented or value is Ellipsis:
        fail(what, "got a placeholder", "replace it with your own code")


def your_turn(**answers) -> bool:
    """False, saying so, while an answer is still a placeholder (None or ...): a lesson's "your turn"
    cell ships unanswered and runs top to bottom; ``if your_turn(my_side=my_side): check_equal(...)``."""
    names = ", ".join(f"`{name}`" for name, value in answers.items() if value is None or value is Ellipsis)
    if names:
        print(f"✏️  Your turn: replace the placeholder in {names} with your own answer, then run this cell again.")
    return not names


def shape_hint(expected: tuple, got: tuple) -> str:
    """Guess why two shapes differ, in words a student can act on."""
    if len(got) > len(expected):
        return "the number of dimensions differs; did you forget to flatten?"
    if len(got) < len(expected):
        return "the number of dimensions differs; did you drop the batch or channel dimension?"
    if len(got) >= 1 and expected[0] != got[0]:
        return "the batch size (first dimension) differs; keep one row per input sample"
    if len(got) == 4 and expected[1] != got[1]:
        return "the number of channels differs; check out_channels of the convolution"
    sizes = "the height and width differ; check the kernel size, padding and stride (N = floor((M + 2p - k) / s) + 1)"
    return sizes if len(got) == 4 else "check the layer sizes"


def check_shape(tensor, expected: tuple, what: str = "shape", hint: str | None = None) -> None:
    """Check a tensor's (or array's) shape; ``None`` in ``expected`` matches any size."""
    __tracebackhide__ = True
    _not_implemented(tensor, what)
    if not hasattr(tensor, "shape"):
        fail(what, f"expected a tensor, got a {type(tensor).__name__}")
    got, expected = tuple(tensor.shape), tuple(expected)
    same = len(got) == len(expected) and all(e is None or e == g for e, g in zip(expected, got, strict=True))
    if not same:
        fail(what, f"expected shape {expected}, got {got}", hint or shape_hint(expected, got))
    passed(what)


def check_dtype(tensor, expected, what: str = "dtype", hint: str | None = None) -> None:
    """Check a tensor's dtype, e.g. ``torch.float32``."""
    __tracebackhide__ = True
    _not_implemented(tensor, what)
    if tensor.dtype != expected:
        fail(what, f"expected dtype {expected}, got {tensor.dtype}", hint or "convert with .float(), .long() or .to()")
    passed(what)


def _plain(value) -> bool:
    """Built-in values all the way down (an object of your own could claim to equal anything)."""
    return all(map(_plain, value)) if type(value) in (tuple, list) else type(value) in (bool, int, float, str)


def check_equal(value, expected, what: str = "value", hint: str | None = None) -> None:
    """Check exact equality (whole numbers, strings, tuples) with a plain Python value."""
    __tracebackhide__ = True
    _not_implemented(value, what)
    if (isinstance(value, torch.Tensor) and value.numel() == 1) or getattr(value, "ndim", None) == 0:
        value = value.item()  # a one-number tensor or NumPy scalar is that number
    if isinstance(expected, int) and not isinstance(expected, bool) and isinstance(value, float) and value.is_integer():
        value = int(value)
    if _plain(expected) and not _plain(value):
        inner = next((v for v in value if not _plain(v)), value) if type(value) in (tuple, list) else value
        kind = f"{type(value).__name__} holding a " * (inner is not value) + type(inner).__qualname__
        convert = "convert each number with int(x) or float(x) (or .item())" if hasattr(inner, "item") else None
        fail(what, f"expected a plain Python value such as {expected!r}, got a {kind}", hint or convert)
    if value != expected:
        number = isinstance(expected, int) and not isinstance(expected, bool) and type(value) is int
        fail(what, f"expected {expected:,}, got {value:,}" if number else f"expected {expected!r}, got {value!r}", hint)
    passed(what)


def check_parameter_count(model, expected: int, what: str = "parameter count", hint: str | None = None) -> None:
    """Check the number of trainable parameters of a model."""
    __tracebackhide__ = True
    _not_implemented(model, what)
    if not hasattr(model, "parameters"):
        fail(what, f"expected a torch.nn.Module, got a {type(model).__name__}")
    got = sum(p.numel() for p in model.parameters() if p.requires_grad)
    if got != expected:
        per_layer = ", ".join(f"{n}: {p.numel():,}" for n, p in model.named_parameters()) or "no parameters"
        fail(what, f"expected {expected:,} parameters, got {got:,}", hint or f"your layers have {per_layer}")
    passed(what)


def check_close(
    value, reference, what: str = "value", rtol: float = 1e-5, atol: float = 1e-6, hint: str | None = None
) -> None:
    """Check numbers or tensors against a reference within a tolerance (like torch.allclose); copies arrays."""
    __tracebackhide__ = True
    _not_implemented(value, what)
    as_float64 = lambda v: v.detach().double() if torch.is_tensor(v) else torch.tensor(v, dtype=torch.float64)  # noqa: E731
    value_t, ref_t = as_float64(value), as_float64(reference)  # a copy: no warning for read-only NumPy views
    expected, got = tuple(ref_t.shape), tuple(value_t.shape)
    if got != expected:
        fail(what, f"expected shape {expected}, got {got}", hint or shape_hint(expected, got))
    if not torch.allclose(value_t, ref_t, rtol=rtol, atol=atol):
        diff = (value_t - ref_t).abs()
        if diff.numel() == 1:
            fail(what, f"expected {ref_t.item():.6g}, got {value_t.item():.6g}", hint)
        wrong, bad = int((~(diff <= atol + rtol * ref_t.abs())).sum()), int((~value_t.isfinite()).sum())  # NaN is wrong
        size = f"{bad} of them nan or inf" if bad else f"by up to {diff.max():.3g}"
        fail(what, f"{wrong} of {diff.numel()} values differ from the reference, {size}", hint)
    passed(what)


def check_decreasing(losses, what: str = "loss", min_drop: float = 0.0, hint: str | None = None) -> None:
    """Check that a sequence of losses went down overall (last < first by more than ``min_drop``)."""
    __tracebackhide__ = True
    _not_implemented(losses, what)
    values = [float(v) for v in losses]
    if len(values) < 2:
        fail(what, f"need at least two values to see a trend, got {len(values)}")
    if any(math.isnan(v) or math.isinf(v) for v in values):
        fail(what, "contains NaN or infinity", hint or "the learning rate may be far too high")
    if not values[-1] < values[0] - min_drop:
        hint = hint or "did you call optimizer.zero_grad(), loss.backward() and optimizer.step()?"
        fail(what, f"did not decrease (first {values[0]:.4g}, last {values[-1]:.4g})", hint)
    passed(what)


def check_between(value, low: float, high: float, what: str = "value", hint: str | None = None) -> None:
    """Check ``low <= value <= high``, e.g. an accuracy reached after training."""
    __tracebackhide__ = True
    _not_implemented(value, what)
    value = float(value)
    if not low <= value <= high:
        fail(what, f"expected a value between {low:g} and {high:g}, got {value:.4g}", hint)
    passed(what)


def check_own_work(answer, course_objects, what: str) -> None:
    """Fail when ``answer`` is one of the course's ``course_objects`` (or a class or instance built on one)."""
    __tracebackhide__ = True
    inner = [answer, getattr(answer, "func", None), getattr(answer, "__wrapped__", None)]  # partial, decorators
    for course in course_objects if isinstance(course_objects, tuple) else (course_objects,):
        borrowed = any(a is course for a in inner)
        if isinstance(course, type):  # a subclass of the course's class, or an instance of it
            borrowed |= issubclass(answer if isinstance(answer, type) else type(answer), course)
        if borrowed:
            name = f"{course.__module__}.{course.__qualname__}"
            fail(what, f"this is the course's own {name}", "write your own; the course's is there only to compare with")
    passed(what)


class explain_errors:
    """An error raised inside a student's code becomes a one-line `CheckFailed` with a hint:
    ``with explain_errors("forward pass", "flatten before fc1"): out = model(x)``. `NotImplementedError`
    (not done yet) and `CheckFailed` pass through."""

    def __init__(self, what: str, hint: str | None = None):
        self.what, self.hint = what, hint

    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        __tracebackhide__ = True
        if unfinished(error) and not isinstance(error, NotDoneYet):
            raise NotDoneYet(str(error)) from None
        if not isinstance(error, Exception) or unfinished(error) or isinstance(error, CheckFailed):
            return False  # no error, an unfinished exercise, or a check's own message
        first_line = (str(error).strip().splitlines() or [""])[0][:300]
        message = f"{self.what}: your code raised {type(error).__name__}: {first_line}"
        raise CheckFailed(message + (f": {self.hint}" if self.hint else "")) from None
