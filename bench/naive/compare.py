"""Comparing two GraphQL answers value by value (the gateway's against the naive one's).

Counts must be equal; floats (shares, rates) are compared with a relative tolerance of 1e-9,
which no difference of a count can hide in but float rounding of the same fraction does.

Example:
    >>> differences({"a": {"x": [1, 2.0]}}, {"a": {"x": [1, 2.5]}})
    ['a.x[1]: 2.0 != 2.5']
"""

from __future__ import annotations

import math

REL_TOL = 1e-9


def _same(a: object, b: object) -> bool:
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        return a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=1e-12)
    return a == b


def differences(left: object, right: object, path: str = "") -> list[str]:
    """Every leaf where ``left`` and ``right`` differ, as ``path: left != right`` lines."""
    if isinstance(left, dict) and isinstance(right, dict):
        if set(left) != set(right):
            return [f"{path}: keys {sorted(left)} != {sorted(right)}"]
        found: list[str] = []
        for key in left:
            found += differences(left[key], right[key], f"{path}.{key}" if path else str(key))
        return found
    if isinstance(left, list) and isinstance(right, list):
        if len(left) != len(right):
            return [f"{path}: {len(left)} items != {len(right)} items"]
        found = []
        for i, (a, b) in enumerate(zip(left, right, strict=True)):
            found += differences(a, b, f"{path}[{i}]")
        return found
    return [] if _same(left, right) else [f"{path}: {left!r} != {right!r}"]
