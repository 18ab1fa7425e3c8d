"""The ``MiniProgram.pages`` resolver: the page report, sorted, one cursor page at a time.

A cursor seals the ordering it belongs to (field, direction, range) and the position of the last
item seen (its sort value and path) (:mod:`~gateway.resolvers.positions`); the next page starts
at the first page sorting after that position, so a page that appears or goes between two
snapshots never repeats or skips another.
"""

from __future__ import annotations

from gateway.context import Context
from gateway.domain import OrderDirection, PageOrderField
from gateway.errors import BadUserInputError
from gateway.limits.pages import check_first
from gateway.loaders.catalog_rows import Page
from gateway.loaders.pages import PagesKey
from gateway.metrics.cells import CellKey
from gateway.metrics.pages import PageReport, sort_pages, sort_value
from gateway.metrics.timerange import DateRange, TimeRangeSpec
from gateway.resolvers.positions import encode_position, parse_position, sorts_after
from gateway.resolvers.time_range import date_range


def _signature(field: PageOrderField, direction: OrderDirection, span: DateRange) -> str:
    return f"pages:{field.value}:{direction.value}:{span.start}..{span.end}"


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
    if isinstance(after, str):
        parsed = parse_position(after)
        if parsed is None or parsed[0] != signature:
            raise BadUserInputError(
                "this cursor belongs to another orderBy or timeRange: pass the same ones"
            )
        _, value, path = parsed
        descending = direction is OrderDirection.DESC
        ordered = [
            row
            for row in ordered
            if sorts_after(sort_value(row, field), row.path, (value, path), descending=descending)
        ]
    items = tuple(ordered[:size])
    cursors = [encode_position(signature, sort_value(row, field), row.path) for row in items]
    return Page(items=items, has_next=len(ordered) > size, total=len(rows)), cursors
