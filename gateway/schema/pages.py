"""``MiniProgram.pages`` (SPEC §4 "Audience"): the page report as a Relay connection.

:class:`PageReport` is a base class of ``MiniProgram`` (like
:class:`~gateway.schema.retention.Audience`); the cell counted is the mini program's under the
``dataType`` argument, scoped to the target app it was reached through.
"""

from __future__ import annotations

from typing import Annotated

import strawberry

from gateway.metrics import pages as pure
from gateway.resolvers import event_metrics
from gateway.resolvers.pages import page_report
from gateway.schema.enums import DataType, OrderDirection, PageOrderField
from gateway.schema.event_metrics import DataTypeArg, EventMetrics
from gateway.schema.fields import Info, resolver_field
from gateway.schema.pagination import After, Connection, First
from gateway.schema.time_range import TimeRangeInput

PAGES_DESCRIPTION = (
    "The mini program's pages over the range R (UTC days), from its page views (scoped to the "
    "target app it was reached through, if any): one item per page with page views in R "
    "(`(not set)` for page views without a page). Sorted by `orderBy` (default PAGE_VIEWS "
    "descending), ties by path ascending. Values are as of the latest snapshot. Cursors belong "
    "to their ordering and range: pass the same `orderBy` and `timeRange` with `after`."
)
"""``MiniProgram.pages``."""


@strawberry.type(description="One page of a mini program over a range: views, visitors, time.")
class Page:
    """An item of ``MiniProgram.pages``."""

    path: str = strawberry.field(
        description="The page, as page views name it (`page`); `(not set)` for page views "
        "without one."
    )
    page_views: int = strawberry.field(description="Page views of the page in the range.")
    visitors: int = strawberry.field(
        description="Distinct users (by userGuid, exact) with a page view of the page in the range."
    )
    total_time_seconds: float = strawberry.field(
        description="Sum of the page views' `durationMs` in the range, in seconds."
    )
    average_time_per_visitor: float = strawberry.field(
        description="totalTimeSeconds / visitors, in seconds (0 without visitors)."
    )

    @classmethod
    def of(cls, row: pure.PageReport) -> Page:
        """The GraphQL object of a computed page."""
        return cls(
            path=row.path,
            page_views=row.page_views,
            visitors=row.visitors,
            total_time_seconds=row.total_time_seconds,
            average_time_per_visitor=row.average_time_per_visitor,
        )


@strawberry.input(description="How to sort `MiniProgram.pages`.")
class PageOrder:
    """An ordering of pages."""

    field: PageOrderField = strawberry.field(description="The sort key.")
    direction: OrderDirection = strawberry.field(
        default=OrderDirection.DESC, description="Sort direction (default DESC)."
    )


RangeArg = Annotated[
    TimeRangeInput,
    strawberry.argument(description="The range R of UTC days whose page views are counted."),
]
PageOrderArg = Annotated[
    PageOrder | None,
    strawberry.argument(description="The ordering; null = PAGE_VIEWS descending."),
]


@strawberry.type(description="The page report field (inherited; never in the schema itself).")
class PageReportField(EventMetrics):
    """Base of ``MiniProgram``: ``pages`` counts for its :meth:`metric_cell` (no type or
    category filter: the mini program has one of each)."""

    @resolver_field(description=PAGES_DESCRIPTION)
    async def pages(
        self,
        info: Info,
        time_range: RangeArg,
        data_type: DataTypeArg = DataType.PRODUCTION,
        order_by: PageOrderArg = None,
        first: First = 50,
        after: After = strawberry.UNSET,
    ) -> Connection[Page] | None:
        cell = self.metric_cell(event_metrics.metric_filters(None, data_type, None))
        order = (
            (PageOrderField.PAGE_VIEWS, OrderDirection.DESC)
            if order_by is None
            else (order_by.field, order_by.direction)
        )
        cursor = after if isinstance(after, str) else None
        page, cursors = await page_report(
            info.context, cell, time_range.to_spec(), order, first, cursor
        )
        nodes = [Page.of(row) for row in page.items]
        return Connection.assemble(page, nodes, cursors, after=cursor)
