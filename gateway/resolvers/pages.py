"""The ``MiniProgram.pages`` resolver: the page report, sorted, one cursor page at a time.

A cursor seals the ordering it belongs to (field, direction, range) and the position of the last
item seen (its sort value and path); the next page starts at the first page sorting after that
position, so a page that appears or goes between two snapshots never repeats or skips another.
"""

from __future__ import annotations

import json

from gateway.context import Context
from gateway.domain import OrderDirection, PageOrderField
from gateway.errors import BadUserInputError
from gateway.limits.pages import check_first
from gateway.loaders.catalog_rows import Page
from gateway.loaders.pages import PagesKey
from gateway.metrics.cells import CellKey
from gateway.metrics.pages import PageReport, sort_pages, sort_value
from gateway.metrics.timerange import DateRange, TimeRangeSpec
from gateway.resolvers.pagination import decode_cursor, encode_cursor
from gateway.resolvers.time_range import date_range

Value = float | str


def _after(row: PageReport, field: PageOrderField, direction: OrderDirection,
           value: Value, path: str) -> bool:  # fmt: skip
    """Whether ``row`` sorts after the position (``value``, ``path``)."""
    if field is PageOrderField.PATH:
        return row.path > path if direction is OrderDirection.ASC else row.path < path
    mine, mark = float(sort_value(row, field)), float(value)
    later = mine > mark if direction is OrderDirection.ASC else mine < mark
    return later or (mine == mark and row.path > path)


def _signature(field: PageOrderField, direction: OrderDirection, span: DateRange) -> str:
    return f"{field.value}/{direction.value}/{span.start}/{span.end}"


async def page_report(
    ctx: Context,
    cell: CellKey | None,
    spec: TimeRangeSpec,
    order: tuple[PageOrderField, OrderDirection],
    first: int | None,
    after: str | None,
) -> tuple[Page[PageReport], list[str]]:
    """One page of the report of ``cell`` (None: the filters exclude the mini program) and the
    cursors of its items.

    Raises:
        BadUserInputError: a bad range or ``first``, or a cursor of another ordering or range.
    """
    span = date_range(ctx, spec)
    size = check_first(first)
    field, direction = order
    signature = _signature(field, direction, span)
    rows = [] if cell is None else await ctx.loaders.pages.load(PagesKey(cell, span))
    ordered = sort_pages(rows, field, direction)
    start = 0
    position = decode_cursor(after)
    if position is not None:
        try:
            mark, value, path = json.loads(position)
            numeric = field is not PageOrderField.PATH
            value = float(value) if numeric else str(value)
        except (ValueError, TypeError) as error:
            raise BadUserInputError(f"malformed cursor {after!r}") from error
        if mark != signature:
            raise BadUserInputError(
                "this cursor belongs to another orderBy or timeRange: pass the same ones"
            )
        start = next(
            (i for i, row in enumerate(ordered) if _after(row, field, direction, value, path)),
            len(ordered),
        )
    items = tuple(ordered[start : start + size])
    cursors = [
        encode_cursor(json.dumps([signature, sort_value(row, field), row.path])) for row in items
    ]
    page = Page(items=items, has_next=start + size < len(ordered), total=len(ordered))
    return page, cursors
