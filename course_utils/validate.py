"""One check for arguments that must be whole numbers, so every function words it (and fails) alike.

Python's convention: the wrong kind of value (``2.5``, ``"3"``, ``True``) raises ``TypeError``; a
whole number out of range (``epochs=0``) raises ``ValueError``.

Example:
    >>> whole_number(3, "epochs", minimum=1)
    3
    >>> whole_number(0, "epochs", minimum=1)
    Traceback (most recent call last):
    ...
    ValueError: epochs must be a whole number >= 1, got 0
"""

from __future__ import annotations

import numbers


def whole_number(value, name: str, minimum: int | None = None) -> int:
    """Return ``value`` as an ``int`` if it is a whole number (not a bool) of at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a whole number, got {value!r} ({type(value).__name__})")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be a whole number >= {minimum}, got {value!r}")
    return int(value)
