"""Readable names for an export: column titles from response keys, Excel-safe sheet names.

Example:
    >>> title("activeUsers"), title("workspaceId"), title("p95Ms"), title("already_snake")
    ('Active users', 'Workspace ID', 'P95 ms', 'Already snake')
    >>> names = SheetNames()
    >>> names.add(("targetApp", "activeUsers", "series"))
    'targetApp.activeUsers.series'
    >>> names.add(("workspaces", "nodes", "targetApps", "nodes", "launches", "series"))
    '…targetApps.launches.series'
    >>> names.add(("summary",)), names.add(("Summary",))
    ('summary~2', 'Summary~3')
"""

from __future__ import annotations

import re
from collections.abc import Sequence

ACRONYMS = {"id": "ID", "ids": "IDs", "url": "URL", "mau": "MAU", "dau": "DAU", "utc": "UTC"}
"""Words written in capitals in titles."""

CONNECTION_KEYS = frozenset({"nodes", "edges", "node"})
"""Wrappers of a Relay-style connection: left out of labels, dropped first from long names."""

SUMMARY = "Summary"
"""The first sheet: the scalars outside lists, the variables and the snapshot."""

MAX_SHEET_NAME = 31
"""Excel's longest sheet name."""

_WORDS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+\d*|[A-Z]+\d*|\d+")
_UNSAFE = re.compile(r"[\[\]:*?/\\]")
RESERVED = frozenset({"history"})
"""Sheet names Excel keeps for itself (compared in lower case)."""


def title(key: str) -> str:
    """``activeUsers`` -> ``Active users``: words split at case changes, digits and
    underscores, the first capitalized, known acronyms in capitals."""
    words = _WORDS.findall(key) or [key]
    out = []
    for n, word in enumerate(words):
        lower = word.lower()
        if lower in ACRONYMS:
            out.append(ACRONYMS[lower])
        elif n == 0:
            out.append(lower[:1].upper() + lower[1:])
        else:
            out.append(lower)
    return " ".join(out)


def header(path: Sequence[str]) -> str:
    """The column title of a value at ``path`` inside a row: ``Active users / Value``."""
    return " / ".join(title(key) for key in path)


def label(path: Sequence[str]) -> str:
    """What a list's rows are called in the columns of its child sheets: the title of its
    last key that is not a connection wrapper (``workspaces.nodes`` -> ``Workspaces``)."""
    meaningful = [key for key in path if key not in CONNECTION_KEYS] or list(path)
    return title(meaningful[-1])


def unique(titles: Sequence[str]) -> list[str]:
    """``titles`` with repeats made distinct by `` (2)``, `` (3)``..."""
    seen: set[str] = set()
    out = []
    for text in titles:
        candidate, n = text, 1
        while candidate.lower() in seen:
            n += 1
            candidate = f"{text} ({n})"
        seen.add(candidate.lower())
        out.append(candidate)
    return out


class SheetNames:
    """Allocates sheet names: the dotted response path, Excel-safe, at most 31 characters,
    unique without regard to case; ``Summary`` is taken first."""

    def __init__(self) -> None:
        self._taken = {SUMMARY.lower(), *RESERVED}

    def add(self, path: Sequence[str]) -> str:
        """A new sheet's name for the list at ``path`` (its response keys from the root)."""
        base = _shorten([_UNSAFE.sub("_", key) for key in path])
        base = base.strip("'") or "Sheet"
        name, n = base, 1
        while name.lower() in self._taken:
            n += 1
            suffix = f"~{n}"
            name = base[: MAX_SHEET_NAME - len(suffix)] + suffix
        self._taken.add(name.lower())
        return name


def _shorten(keys: list[str]) -> str:
    """The dotted path of ``keys`` in at most 31 characters: connection wrappers left out
    first, then leading keys (marked by a leading ``…``), then the end cut (a trailing ``…``)."""
    name = ".".join(keys)
    if len(name) <= MAX_SHEET_NAME:
        return name
    keys = [key for key in keys if key not in CONNECTION_KEYS] or keys
    name = ".".join(keys)
    if len(name) <= MAX_SHEET_NAME:
        return name
    if len(keys) > 1:
        while len(keys) > 1 and len("…" + ".".join(keys)) > MAX_SHEET_NAME:
            keys = keys[1:]
        name = "…" + ".".join(keys)
    return name if len(name) <= MAX_SHEET_NAME else name[: MAX_SHEET_NAME - 1] + "…"
