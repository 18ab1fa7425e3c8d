"""The sheets of one export: the Summary first, then one sheet per list of objects.

The Summary lists every scalar outside lists as ``(Field path, Value)``, then, after a blank
row, what the export was made of: the operation, its variables, the snapshot it read and when
it was generated (UTC), the fields hidden from the caller (``FORBIDDEN``, ``NOT_FOUND``) and
where each other sheet's rows come from.

Example:
    >>> from gateway.web.export.shape import Leaf, Obj
    >>> export = Export(lay_out(Obj({"total": Leaf("Int")})), {"total": 3}, operation="Q")
    >>> [sheet.name for sheet in export.sheets(max_rows=100)]
    ['Summary']
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from gateway.web.export.flatten import Cell, Layout, lay_out
from gateway.web.export.naming import SUMMARY

SUMMARY_HEADERS = ["Field path", "Value"]

__all__ = ["Export", "Sheet", "TooManyRowsError", "lay_out"]


class TooManyRowsError(ValueError):
    """The export would hold more rows than ``GATEWAY_EXPORT_MAX_ROWS``."""

    def __init__(self, rows: int, limit: int) -> None:
        super().__init__(
            f"the export would have {rows} rows; the limit is {limit} "
            "(GATEWAY_EXPORT_MAX_ROWS): narrow the query (a shorter range, fewer items)"
        )


@dataclass(frozen=True)
class Sheet:
    """One sheet: its name, column titles and rows (generated while written)."""

    name: str
    headers: list[str]
    rows: Iterable[list[Cell]]


@dataclass
class Export:
    """A GraphQL result laid out for export.

    Attributes:
        layout: Where each scalar goes (:func:`lay_out` of the query's shape).
        data: The result's ``data``.
        operation: The operation's name ("" when anonymous).
        variables: The variables as sent.
        snapshot: ``extensions.snapshot`` of the response (``id``, ``takenAt``), if any.
        hidden: The response paths of the fields hidden from the caller, with their error
            codes (``FORBIDDEN``, ``NOT_FOUND``).
        generated_at: When the export was made.
    """

    layout: Layout
    data: Any
    operation: str = ""
    variables: Mapping[str, Any] = field(default_factory=dict)
    snapshot: Mapping[str, Any] = field(default_factory=dict)
    hidden: Sequence[tuple[Sequence[str | int], str]] = ()
    generated_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    def sheets(self, max_rows: int) -> list[Sheet]:
        """The sheets, Summary first.

        Raises:
            TooManyRowsError: They would hold more than ``max_rows`` rows in all.
        """
        counts = [table.count(self.data) for table in self.layout.tables]
        about = list(self._about(counts))
        total = len(self.layout.summary) + len(about) + sum(counts)
        if total > max_rows:
            raise TooManyRowsError(total, max_rows)
        scalars = self.layout.summary_rows(self.data)
        summary = Sheet(SUMMARY, SUMMARY_HEADERS, _chain(scalars, about))
        tables = [Sheet(t.name, t.headers, t.rows(self.data)) for t in self.layout.tables]
        return [summary, *tables]

    def _about(self, counts: list[int]) -> Iterator[list[Cell]]:
        yield []
        yield _pair("Operation", self.operation or "(anonymous)")
        for name, value in self.variables.items():
            if not isinstance(value, str | int | float | bool) and value is not None:
                value = orjson.dumps(value).decode()
            yield _pair(f"Variable {name}", value, _TYPES.get(type(value), "String"))
        if self.snapshot:
            yield _pair("Snapshot ID", self.snapshot.get("id"), "Int")
            yield _pair("Snapshot taken at (UTC)", self.snapshot.get("takenAt"), "DateTime")
        yield _pair("Generated at (UTC)", self.generated_at.isoformat(), "DateTime")
        for path, code in _distinct(self.hidden):
            yield _pair(f"Hidden field ({code})", path)
        for table, count in zip(self.layout.tables, counts, strict=True):
            rows = f"{count} row" if count == 1 else f"{count} rows"
            yield _pair(f"Sheet {table.name}", f"{'.'.join(table.path)}: {rows}")


_TYPES = {int: "Int", float: "Float", bool: "Boolean"}


def _pair(name: str, value: Any, type_name: str = "String") -> list[Cell]:
    return [(name, "String"), (value, type_name)]


def _chain(*parts: Iterable[list[Cell]]) -> Iterator[list[Cell]]:
    for part in parts:
        yield from part


def _distinct(hidden: Sequence[tuple[Sequence[str | int], str]]) -> list[tuple[str, str]]:
    """(Dotted response path without list indexes, code), each once, in order."""
    seen: dict[tuple[str, str], None] = {}
    for path, code in hidden:
        seen.setdefault((".".join(str(key) for key in path if isinstance(key, str)), code), None)
    return list(seen)
