"""Page size bounds of every Relay connection: what ``first`` may be, and its default.

>>> check_first(None), check_first(100)
(50, 100)
"""

from __future__ import annotations

from gateway.errors import BadUserInputError

DEFAULT_FIRST = 50
"""Page size when ``first`` is not given."""

MAX_FIRST = 100
"""Largest accepted ``first``."""


def check_first(first: int | None) -> int:
    """``first`` when it is within 0..:data:`MAX_FIRST`; None gives :data:`DEFAULT_FIRST`.

    Raises:
        BadUserInputError: ``first`` is negative or above the maximum.
    """
    if first is None:
        return DEFAULT_FIRST
    if not 0 <= first <= MAX_FIRST:
        raise BadUserInputError(f"first must be between 0 and {MAX_FIRST}, got {first}")
    return first
