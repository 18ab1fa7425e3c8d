"""The naive ``TargetApp`` and ``Query``: each field runs its statements when it resolves."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter

import strawberry

from bench.naive import queries as q
from bench.naive.types import (
    Breakdown,
    Metric,
    MiniProgramStatusCounts,
    NaiveContext,
    TimeRangeInput,
    _metric,
    previous,
)
from gateway.metrics import breakdown as pure
from gateway.metrics.status_groups import StatusGroup, group_counts
from gateway.schema.fields import resolver_field as field
from gateway.store.tables import page_views

Info = strawberry.Info[NaiveContext, None]
Span = tuple[dt.date, dt.date]


def _spans(time_range: TimeRangeInput) -> tuple[Span, Span]:
    span = time_range.days_range()
    return span, previous(*span)


@strawberry.type(description="A target app, every metric computed from raw events per request.")
class TargetApp:
    """A target app of the naive schema."""

    id: strawberry.ID

    @field("Current counts by status group (last deployment record).")
    async def mini_program_status_counts(self, info: Info) -> MiniProgramStatusCounts:
        counts = group_counts(Counter(await q.current_statuses(info.context.engine, self.id)))
        groups = counts.groups
        return MiniProgramStatusCounts(
            all=counts.all,
            full_release=groups[StatusGroup.FULL_RELEASE],
            grayscale_release=groups[StatusGroup.GRAYSCALE_RELEASE],
            reviewing=groups[StatusGroup.REVIEWING],
            developing=groups[StatusGroup.DEVELOPING],
            inactive=groups[StatusGroup.INACTIVE],
        )

    @field("COUNT(DISTINCT uid) of launches in R.")
    async def active_users(self, info: Info, time_range: TimeRangeInput) -> Metric:
        engine, (r, p) = info.context.engine, _spans(time_range)
        return await _metric(
            q.distinct_users(engine, self.id, *r),
            q.distinct_users(engine, self.id, *p),
            r,
            lambda: q.daily_distinct_users(engine, self.id, *r),
        )

    @field("COUNT(*) of page views in R.")
    async def page_views(self, info: Info, time_range: TimeRangeInput) -> Metric:
        engine, (r, p) = info.context.engine, _spans(time_range)
        return await _metric(
            q.count_events(engine, page_views, self.id, *r),
            q.count_events(engine, page_views, self.id, *p),
            r,
            lambda: q.daily_events(engine, page_views, self.id, *r),
        )

    @field("Users whose first-ever launch in the app falls in R.")
    async def new_users(self, info: Info, time_range: TimeRangeInput) -> Metric:
        engine, (r, p) = info.context.engine, _spans(time_range)
        return await _metric(
            q.new_users(engine, self.id, *r),
            q.new_users(engine, self.id, *p),
            r,
            lambda: q.first_launches_per_day(engine, self.id, *r),
        )

    @field("Distinct users with a launch by R's last day.")
    async def lifetime_users(self, info: Info, time_range: TimeRangeInput) -> Metric:
        engine, (r, p) = info.context.engine, _spans(time_range)
        return await _metric(
            q.distinct_users(engine, self.id, None, r[1]),
            q.distinct_users(engine, self.id, None, p[1]),
            r,
            lambda: q.first_launches_per_day(engine, self.id, None, r[1]),
            cumulative=True,
        )

    async def _mini_programs(self, info: Info, time_range: TimeRangeInput, key: str) -> Breakdown:
        engine, (r, p) = info.context.engine, _spans(time_range)
        now, before = await asyncio.gather(
            q.mini_programs_by(engine, self.id, key, r[1]),
            q.mini_programs_by(engine, self.id, key, p[1]),
        )
        return Breakdown.of(pure.breakdown(now, before))

    @field("Mini programs associated by R's end, by source.")
    async def mini_programs_by_source(self, info: Info, time_range: TimeRangeInput) -> Breakdown:
        return await self._mini_programs(info, time_range, "source")

    @field("Mini programs associated by R's end, by category.")
    async def mini_programs_by_category(self, info: Info, time_range: TimeRangeInput) -> Breakdown:
        return await self._mini_programs(info, time_range, "category")

    @field("Users with a launch by R's end, by user source.")
    async def users_by_source(self, info: Info, time_range: TimeRangeInput) -> Breakdown:
        engine, (r, p) = info.context.engine, _spans(time_range)
        now, before = await asyncio.gather(
            q.users_by_source(engine, self.id, r[1]), q.users_by_source(engine, self.id, p[1])
        )
        return Breakdown.of(pure.breakdown(now, before))

    @field("Distinct users per category launched by R's end.")
    async def users_by_category(self, info: Info, time_range: TimeRangeInput) -> Breakdown:
        engine, (r, p) = info.context.engine, _spans(time_range)
        now, before, total, previous_total = await asyncio.gather(
            q.users_by_category(engine, self.id, r[1]),
            q.users_by_category(engine, self.id, p[1]),
            q.distinct_users(engine, self.id, None, r[1]),
            q.distinct_users(engine, self.id, None, p[1]),
        )
        return Breakdown.of(
            pure.breakdown(
                now,
                before,
                total=total,
                previous_total=previous_total,
                share_base=pure.ShareBase.SUM_OF_COUNTS,
            )
        )


@strawberry.type(description="The naive root: one target app by id.")
class Query:
    """The naive root query."""

    @field("A target app by id (not checked: the page asks known ids).")
    def target_app(self, id: strawberry.ID) -> TargetApp:
        return TargetApp(id=id)


def build_naive_schema() -> strawberry.Schema:
    """The naive schema (execute with ``context_value=NaiveContext(engine)``)."""
    return strawberry.Schema(query=Query)


__all__ = ["build_naive_schema"]
