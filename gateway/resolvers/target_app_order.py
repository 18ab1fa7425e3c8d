"""``Workspace.targetApps(orderBy, timeRange)``: the target-app ranking (SPEC §4).

The orderings sort by values that live in rollups (``USER_COUNT`` = ``activeUsers`` over the
range) or in the catalog (``MINI_PROGRAM_COUNT`` by the range's last day), so the workspace's
(small) list of apps is loaded whole, valued through the same batched loaders as the metric
fields (one batch for every app of every workspace in the response), sorted, and paged here.

Ties are broken by id, ascending. A cursor carries its ordering (field, direction, range) and
position (value, id) (:mod:`~gateway.resolvers.positions`); the next page starts after that
position, and a cursor written for another ordering is refused rather than silently misread.

Example:
    >>> cursor = encode_position(Ordering(OrderField.NAME, OrderDirection.ASC), "Alpha", "ta-1")
    >>> decode_position(cursor, Ordering(OrderField.NAME, OrderDirection.ASC))
    ('Alpha', 'ta-1')
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from gateway.context import Context
from gateway.domain import EntityRef, Filters, OrderDirection, OrderField
from gateway.errors import BadUserInputError
from gateway.limits.pages import check_first
from gateway.loaders.catalog_rows import Page, TargetAppRow
from gateway.metrics.cells import CellKey, cell_of
from gateway.metrics.timerange import DateRange, TimeRangeSpec
from gateway.resolvers import catalog, positions
from gateway.resolvers.catalog_metrics import mini_program_count
from gateway.resolvers.event_metrics import load_metric
from gateway.resolvers.positions import Value, parse_position, sorts_after
from gateway.resolvers.time_range import date_range


@dataclass(frozen=True)
class Ordering:
    """An ordering of target apps; ``span`` is the range of a metric ordering."""

    field: OrderField
    direction: OrderDirection
    span: DateRange | None = None

    @property
    def signature(self) -> str:
        """What a cursor must match to continue this ordering."""
        span = "" if self.span is None else f":{self.span.start}..{self.span.end}"
        return f"{self.field.value}:{self.direction.value}{span}"


def encode_position(ordering: Ordering, value: Value, item_id: str) -> str:
    """The opaque cursor of the item ``item_id`` whose sort value is ``value``."""
    return positions.encode_position(ordering.signature, value, item_id)


def decode_position(cursor: str | None, ordering: Ordering) -> tuple[Value, str] | None:
    """The (value, id) position inside ``cursor``; None when no cursor was given.

    Raises:
        BadUserInputError: the cursor is malformed or belongs to another ordering.
    """
    if not isinstance(cursor, str):
        return None
    parsed = parse_position(cursor)
    if parsed is None:
        raise BadUserInputError(
            f"cursor {cursor!r} belongs to another ordering of targetApps than "
            f"{ordering.signature}; start again without `after`"
        )
    signature, value, item_id = parsed
    if signature != ordering.signature:
        raise BadUserInputError(
            f"cursor {cursor!r} belongs to ordering {signature}, not {ordering.signature}; "
            "start again without `after`"
        )
    return value, item_id


def resolve_ordering(
    ctx: Context, field: OrderField, direction: OrderDirection, spec: TimeRangeSpec | None
) -> Ordering:
    """The ordering asked for; a metric ordering needs a range.

    Raises:
        BadUserInputError: ``timeRange`` is missing for a metric ordering, or invalid.
    """
    span = None if spec is None else date_range(ctx, spec)
    if field is not OrderField.NAME and span is None:
        raise BadUserInputError(f"targetApps: orderBy {field.value} needs a timeRange")
    return Ordering(field, direction, span if field is not OrderField.NAME else None)


def _active_users_cell(app: TargetAppRow) -> CellKey:
    return cell_of(EntityRef.target_app(app.id, app.workspace_id), Filters())


async def _values(ctx: Context, apps: tuple[TargetAppRow, ...], ordering: Ordering) -> list[Value]:
    if ordering.field is OrderField.NAME:
        return [app.name for app in apps]
    span = ordering.span
    assert span is not None  # resolve_ordering guarantees it
    if ordering.field is OrderField.USER_COUNT:
        loaded = await asyncio.gather(
            *(load_metric(ctx, "activeUsers", _active_users_cell(a), span) for a in apps)
        )
        return [metric.value for metric in loaded]
    spec = TimeRangeSpec(from_=span.start, to=span.end)
    counts = await asyncio.gather(*(mini_program_count(ctx, a.id, spec, Filters()) for a in apps))
    return [float(count.value().value) for count in counts]


@dataclass(frozen=True)
class RankedPage:
    """A page of ranked apps with each item's cursor."""

    page: Page[TargetAppRow]
    cursors: tuple[str, ...]


async def ranked_target_apps(
    ctx: Context, workspace_id: str, first: int | None, after: str | None, ordering: Ordering
) -> RankedPage:
    """A page of the workspace's target apps in ``ordering`` (ties by id), after ``after``."""
    size = check_first(first)
    position = decode_position(after, ordering)
    apps = await ctx.loaders.all_target_apps_by_workspace.load(workspace_id)
    values = await _values(ctx, apps, ordering)
    descending = ordering.direction is OrderDirection.DESC
    ranked = sorted(zip(values, apps, strict=True), key=lambda pair: pair[1].id)
    ranked.sort(key=lambda pair: pair[0], reverse=descending)  # stable: ties stay by id
    if position is not None:
        ranked = [
            (v, app) for v, app in ranked if sorts_after(v, app.id, position, descending=descending)
        ]
    shown = ranked[:size]
    return RankedPage(
        page=Page(tuple(app for _, app in shown), len(ranked) > size, len(apps)),
        cursors=tuple(encode_position(ordering, v, app.id) for v, app in shown),
    )


async def id_ordered_target_apps(
    ctx: Context, workspace_id: str, first: int | None, after: str | None
) -> Page[TargetAppRow]:
    """The default page (by id); an ordered cursor here is refused with a clear message."""
    parsed = parse_position(after)
    if parsed is not None:
        raise BadUserInputError(
            f"cursor {after!r} belongs to the targetApps ordering {parsed[0]}; pass the same "
            "orderBy and timeRange, or start again without `after`"
        )
    return await catalog.target_apps_of_workspace(ctx, workspace_id, first, after)
