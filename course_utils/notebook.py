"""Notebook bookkeeping: recording headline metrics and checking the claims a lesson's prose makes.

One API, `lesson_checks`, for both jobs:

- ``checks.record(name, value)`` leaves a metric in the notebook's output where ``course run``
  and ``course sweep`` find it (as a custom MIME type, so it survives in the saved .ipynb);
- ``checks.claim(sentence, holds)`` turns a sentence of the lesson ("this network reaches 99% test
  accuracy") into an assertion whenever the notebook runs with the settings the sentence was
  written for, so a quoted number can never silently drift.

Lessons do both in hidden check cells (tagged ``course-check``, source collapsed); the block shows
the student one line instead of a line per claim or metric. An exercise, a check function or a
toy notebook that only records metrics uses it without a reference:
``with lesson_checks() as checks: checks.record("val_accuracy", accuracy)``.
"""

from __future__ import annotations

import json

METRICS_MIME = "application/vnd.course.metrics+json"


class lesson_checks:
    """The context a lesson's hidden check cell runs in: assert claims, record metrics, show one line.

    Example (the whole of a check cell)::

        with lesson_checks(REFERENCE, globals()) as checks:
            checks.claim("test accuracy >= 99.0%", test_accuracy >= 0.99)
            checks.record("test_accuracy", test_accuracy)

    ``reference`` names the settings the lesson's quoted numbers were measured with, and
    ``namespace`` (``globals()``) this run's. A claim that fails raises at once, naming the claim.
    With other settings (a papermill rerun, a sweep) claims are skipped, and said to be, unless
    ``always=True`` (a fact that holds for any settings, such as a parameter count). Without a
    reference every claim applies. A block that only records shows its metrics, as
    ``test_accuracy = 0.9912``.
    """

    def __init__(self, reference: dict | None = None, namespace: dict | None = None):
        namespace = namespace or {}
        self.applies = all(namespace.get(name) == value for name, value in (reference or {}).items())
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
        """Record a headline metric of this run: a number (a tensor's too) or a short string."""
        if hasattr(value, "item"):
            value = value.item()
        if isinstance(value, float):
            value = round(value, 10)  # a mean's last bits depend on the summation order, which varies by CPU
        json.dumps(value)  # fail here, with a clear error, for values summary.json cannot hold
        self.metrics[name] = value

    def summary(self) -> str:
        """The one line the block shows."""
        if self.skipped:
            return f"ℹ️  {self.skipped} quoted number(s) not re-checked: this run's parameters differ from the lesson's"
        if self.checked:
            return "✅ the numbers quoted above were re-checked"
        if self.metrics:
            return ", ".join(
                f"{name} = {value:.4f}" if isinstance(value, float) else f"{name} = {value}"
                for name, value in self.metrics.items()
            )
        return "✅ results recorded"

    def __enter__(self):
        return self

    def __exit__(self, error_type, error, traceback):
        if error_type is None:
            _show(self.summary(), self.metrics)
        return False


def _show(line: str, metrics: dict) -> None:
    """In Jupyter, one output carrying the metrics for `read_metrics`; in plain Python, the line."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # plain Python without IPython installed
        get_ipython = lambda: None  # noqa: E731
    if get_ipython() is None:
        print(line)
        return
    bundle = {"text/plain": line}
    if metrics:
        bundle[METRICS_MIME] = metrics
    display(bundle, raw=True)


def read_metrics(notebook) -> dict:
    """Collect the metrics `lesson_checks` left in an executed notebook (an ``nbformat`` node)."""
    metrics = {}
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if METRICS_MIME in data:
                metrics.update(data[METRICS_MIME])
    return metrics
