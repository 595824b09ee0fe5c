"""Notebook bookkeeping: recording headline metrics and checking the claims a lesson's prose makes.

`record` leaves a metric in the notebook's output where ``course run`` and ``course sweep``
find it (as a custom MIME type, so it survives in the saved .ipynb). `check_claim` turns a
sentence of the lesson ("this network reaches 99% test accuracy") into an assertion whenever
the notebook runs with the settings the sentence was written for, so a quoted number can
never silently drift.
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


def read_metrics(notebook) -> dict:
    """Collect the metrics `record` left in an executed notebook (an ``nbformat`` node)."""
    metrics = {}
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if METRICS_MIME in data:
                metrics.update(data[METRICS_MIME])
    return metrics
