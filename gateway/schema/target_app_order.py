"""``TargetAppOrder`` and the ``Workspace.targetApps`` connection with its orderings.

The enums wrap :mod:`gateway.resolvers.target_app_order`'s (the same classes); the ranking and
its cursors are computed there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from gateway.loaders.catalog_rows import Page, TargetAppRow
from gateway.resolvers import target_app_order as order
from gateway.resolvers.pagination import encode_cursor
from gateway.schema.enums import OrderDirection, OrderField
from gateway.schema.fields import Info
from gateway.schema.pagination import Connection
from gateway.schema.time_range import TimeRangeInput

if TYPE_CHECKING:
    from gateway.schema.target_app import TargetApp


@strawberry.input(description="How to sort `Workspace.targetApps` (the target-app ranking).")
class TargetAppOrder:
    """An ordering of target apps."""

    field: OrderField = strawberry.field(description="The sort key.")
    direction: OrderDirection = strawberry.field(
        default=OrderDirection.DESC, description="Sort direction (default DESC)."
    )


ORDERED_DESCRIPTION = (
    "The workspace's target apps (super apps). Without `orderBy`, ordered by id. With "
    "`orderBy`, ranked by USER_COUNT (activeUsers over `timeRange`), MINI_PROGRAM_COUNT "
    "(miniProgramCount by `timeRange`'s last day) or NAME, ties broken by id; USER_COUNT and "
    "MINI_PROGRAM_COUNT need `timeRange` (BAD_USER_INPUT without it); values are as of the "
    "response's snapshot. Each app's own metric fields give the change from the previous "
    "period and the daily trend. Cursors belong to their ordering: pass the same `orderBy` "
    "and `timeRange` with `after`."
)
"""``Workspace.targetApps``."""

OrderArg = Annotated[
    TargetAppOrder | None,
    strawberry.argument(description="The ranking; null orders by id."),
]
RangeArg = Annotated[
    TimeRangeInput | None,
    strawberry.argument(
        description="The range a USER_COUNT or MINI_PROGRAM_COUNT ordering is computed over "
        "(required for them; ignored otherwise, but still validated)."
    ),
]


def _connection(
    page: Page[TargetAppRow], cursors: tuple[str, ...], after: str | None
) -> Connection[TargetApp]:
    from gateway.schema.target_app import TargetApp

    nodes = [TargetApp.from_row(row) for row in page.items]
    return Connection.assemble(page, nodes, cursors, after=after)


async def target_apps_connection(
    info: Info,
    workspace_id: str,
    first: int | None,
    after: str | None,
    order_by: TargetAppOrder | None,
    time_range: TimeRangeInput | None,
) -> Connection[TargetApp]:
    """``Workspace.targetApps``: by id, or ranked as ``order_by`` says."""
    spec = None if time_range is None else time_range.to_spec()
    if order_by is None:
        if spec is not None:  # ignored, but a bad range is still reported
            order.resolve_ordering(info.context, OrderField.NAME, OrderDirection.ASC, spec)
        page = await order.id_ordered_target_apps(info.context, workspace_id, first, after)
        return _connection(page, tuple(encode_cursor(row.id) for row in page.items), after)
    ordering = order.resolve_ordering(info.context, order_by.field, order_by.direction, spec)
    ranked = await order.ranked_target_apps(info.context, workspace_id, first, after, ordering)
    return _connection(ranked.page, ranked.cursors, after)
