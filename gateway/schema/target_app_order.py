"""``TargetAppOrder`` and the ``Workspace.targetApps`` connection with its orderings.

The enums wrap :mod:`gateway.resolvers.target_app_order`'s (the same classes); the ranking and
its cursors are computed there.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types.enum import StrawberryEnumDefinition

from gateway.loaders.rows import Page, TargetAppRow
from gateway.resolvers import target_app_order as order
from gateway.resolvers.pagination import encode_cursor
from gateway.schema.fields import Info
from gateway.schema.pagination import Connection, Edge, PageInfo
from gateway.schema.time_range import TimeRangeInput

if TYPE_CHECKING:
    from gateway.schema.target_app import TargetApp


def _graphql_enum(
    cls: type[enum.Enum], name: str, description: str, values: dict[str, str]
) -> None:
    strawberry.enum(cls, name=name, description=description)
    definition: StrawberryEnumDefinition = cls.__strawberry_definition__  # type: ignore[attr-defined]
    for value in definition.values:
        value.description = values[value.name]


_graphql_enum(
    order.OrderField,
    "TargetAppOrderField",
    "What target apps are sorted by (ties are broken by id, ascending).",
    {
        "USER_COUNT": "activeUsers of the app (all mini programs, PRODUCTION) over `timeRange`.",
        "MINI_PROGRAM_COUNT": "miniProgramCount of the app by the last day of `timeRange`.",
        "NAME": "The app's display name.",
    },
)
_graphql_enum(
    order.OrderDirection,
    "OrderDirection",
    "Sort direction.",
    {
        "ASC": "Smallest (or alphabetically first) first.",
        "DESC": "Largest (or alphabetically last) first.",
    },
)


@strawberry.input(description="How to sort `Workspace.targetApps` (the target-app ranking).")
class TargetAppOrder:
    """An ordering of target apps."""

    field: order.OrderField = strawberry.field(description="The sort key.")
    direction: order.OrderDirection = strawberry.field(
        default=order.OrderDirection.DESC, description="Sort direction (default DESC)."
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
    return Connection(
        edges=[Edge(cursor=c, node=n) for c, n in zip(cursors, nodes, strict=True)],
        nodes=nodes,
        page_info=PageInfo(
            has_next_page=page.has_next,
            has_previous_page=isinstance(after, str),
            start_cursor=cursors[0] if cursors else None,
            end_cursor=cursors[-1] if cursors else None,
        ),
        total_count=page.total,
    )


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
            order.resolve_ordering(
                info.context, order.OrderField.NAME, order.OrderDirection.ASC, spec
            )
        page = await order.id_ordered_target_apps(info.context, workspace_id, first, after)
        return _connection(page, tuple(encode_cursor(row.id) for row in page.items), after)
    ordering = order.resolve_ordering(info.context, order_by.field, order_by.direction, spec)
    ranked = await order.ranked_target_apps(info.context, workspace_id, first, after, ordering)
    return _connection(ranked.page, ranked.cursors, after)
