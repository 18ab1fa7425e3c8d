"""The rollup cells of scopes, read at most once per request.

The event metrics (:mod:`~gateway.loaders.cell_history`) and the user breakdowns
(:mod:`~gateway.loaders.user_breakdowns`) of one page both look up the cells of the same scopes;
a response reads one snapshot, so the ids read by the first batch hold for the rest and the
second reads only scopes not seen yet.

Example:
    >>> directory = ScopeCells()
    >>> cells = await directory.get(conn, {"app:a1"})                      # doctest: +SKIP
    >>> await directory.get(conn, {"app:a1"}) == cells    # no statement   # doctest: +SKIP
    True
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.metrics.cells import CellKey
from gateway.store.rollup import scope_cells


class ScopeCells:
    """The cells of the scopes a request asked for so far, by scope."""

    def __init__(self) -> None:
        self._known: dict[str, dict[CellKey, int]] = {}

    async def get(self, conn: AsyncConnection, scopes: Iterable[str]) -> dict[CellKey, int]:
        """Every cell of ``scopes`` (those with events) and its id; reads only the scopes
        not read before (one statement)."""
        wanted = set(scopes)
        missing = sorted(wanted - self._known.keys())
        if missing:
            found = await scope_cells(conn, missing)
            self._known.update((scope, {}) for scope in missing)
            for key, cell in found.items():
                self._known[key.scope][key] = cell
        return {key: cell for scope in wanted for key, cell in self._known[scope].items()}
