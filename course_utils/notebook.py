"""Notebook bookkeeping: recording headline metrics and checking the claims a lesson's prose makes.

`record` leaves a metric in the notebook's output where ``course run`` and ``course sweep``
find it (as a custom MIME type, so it survives in the saved .ipynb). `check_claim` turns a
sentence of the lesson ("this network reaches 99% test accuracy") into an assertion whenever
the notebook runs with the settings the sentence was written for, so a quoted number can
never silently drift.

Lessons do both in hidden check cells (tagged ``course-check``, source collapsed) through
`lesson_checks`, which shows the student one line instead of a line per claim or metric.
"""

from __future__ import annotations

import json

METRICS_MIME = "application/vnd.course.metrics+json"


def record(name: str, value) -> None:
    """Record a headline metric (a number or short string) of this run.

    Example:
        >>> record("test_accuracy", 0.9912)
        test_accuracy = 0.9912
    """
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float):
        value = round(value, 10)  # a mean's last bits depend on the summation order, which varies by CPU
    json.dumps(value)  # fail here, with a clear error, for values summary.json cannot hold
    text = f"{name} = {value:.4f}" if isinstance(value, float) else f"{name} = {value}"
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # plain Python: just print
        get_ipython = lambda: None  # noqa: E731
    if get_ipython() is None:
        print(text)
    else:
        display({METRICS_MIME: {name: value}, "text/plain": text}, raw=True)


def matches_reference(reference: dict, namespace: dict) -> bool:
    """True when every setting in ``reference`` has that value in ``namespace`` (e.g. ``globals()``).

    A lesson names the settings its quoted numbers were measured with; claims are asserted
    only when a run uses them, so a papermill rerun with other parameters reports instead.
    """
    return all(namespace.get(name) == value for name, value in reference.items())


def check_claim(claim: str, holds: bool, applies: bool) -> None:
    """Assert a claim of the lesson's prose when it applies; otherwise say it was not checked."""
    if not applies:
        print(f"ℹ️  not checked (parameters differ from the lesson's reference settings): {claim}")
        return
    if not holds:
        raise AssertionError(
            f"The lesson claims: {claim}. This run did not reproduce it; "
            "if you changed the code, update the claim or the prose."
        )
    print(f"✅ claim holds: {claim}")


class lesson_checks:
    """The context a lesson's hidden check cell runs in: assert claims, record metrics, show one line.

    Example (the whole of a check cell)::

        with lesson_checks(REFERENCE, globals()) as checks:
            checks.claim("test accuracy >= 99.0%", test_accuracy >= 0.99)
            checks.record("test_accuracy", test_accuracy)

    A claim that fails raises at once, naming the claim. With settings other than ``reference``
    (a papermill rerun, a sweep) claims are skipped, and said to be, unless ``always=True``
    (a fact that holds for any settings, such as a parameter count).
    """

    def __init__(self, reference: dict, namespace: dict):
        self.applies = matches_reference(reference, namespace)
        self.checked, self.skipped, self.metrics = 0, 0, {}

    def claim(self, claim: str, holds: bool, always: bool = False) -> None:
        if not (self.applies or always):
            self.skipped += 1
            return
        if not holds:
            raise AssertionError(
                f"The lesson claims: {claim}. This run did not reproduce it; "
                "if you changed the code, update the claim or the prose."
            )
        self.checked += 1

    def record(self, name: str, value) -> None:
        if hasattr(value, "item"):
            value = value.item()
        if isinstance(value, float):
            value = round(value, 10)  # as `record`: the last bits depend on the CPU's summation order
        json.dumps(value)
        self.metrics[name] = value

    def __enter__(self):
        return self

    def __exit__(self, error_type, error, traceback):
        if error_type is not None:
            return False
        if self.skipped:
            line = f"ℹ️  {self.skipped} quoted number(s) not re-checked: this run's parameters differ from the lesson's"
        elif self.checked:
            line = "✅ the numbers quoted above were re-checked"
        else:
            line = "✅ results recorded"
        bundle = {"text/plain": line}
        if self.metrics:
            bundle[METRICS_MIME] = self.metrics
        try:
            from IPython import get_ipython
            from IPython.display import display
        except ImportError:
            get_ipython = lambda: None  # noqa: E731
        if get_ipython() is None:
            print(line)
        else:
            display(bundle, raw=True)
        return False


def read_metrics(notebook) -> dict:
    """Collect the metrics `record` left in an executed notebook (an ``nbformat`` node)."""
    metrics = {}
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if METRICS_MIME in data:
                metrics.update(data[METRICS_MIME])
    return metrics
