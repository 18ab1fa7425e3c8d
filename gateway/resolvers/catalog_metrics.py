"""Catalog metric resolvers (SPEC §4): arguments -> a time range and a scope -> a loader.

The range is resolved first, so a bad ``timeRange`` answers ``BAD_USER_INPUT`` before any
query. Every function loads its scope's whole (small) catalog once and hands a pure object of
:mod:`gateway.metrics` to the schema, which computes values and series from it.
"""

from __future__ import annotations

from collections.abc import Callable

from gateway.context import Context
from gateway.domain import EntityRef, Filters, GroupBy, Level
from gateway.loaders.catalog_metrics import Entries
from gateway.metrics.breakdown import Breakdown, breakdown
from gateway.metrics.catalog_counts import (
    CatalogEntry,
    CountMetric,
    CumulativeCounter,
    counts_by,
    matching,
)
from gateway.metrics.merchant_onboarding import OnboardingHistory
from gateway.metrics.timerange import DateRange, TimeRangeSpec
from gateway.resolvers.time_range import date_range

_KEYS: dict[GroupBy, Callable[[CatalogEntry], str]] = {
    GroupBy.SOURCE: lambda entry: entry.source,
    GroupBy.CATEGORY: lambda entry: entry.category,
}


def _cumulative(entries: Entries, span: DateRange, flt: Filters) -> CountMetric:
    admitted = matching(entries, flt.type, flt.category)
    return CountMetric(CumulativeCounter(e.at for e in admitted), span, cumulative=True)


async def mini_program_count(
    ctx: Context, target_app_id: str, spec: TimeRangeSpec, flt: Filters
) -> CountMetric:
    """``TargetApp.miniProgramCount``: mini programs associated with the app by R's last day."""
    span = date_range(ctx, spec)
    entries = await ctx.loaders.associations_by_target_app.load(target_app_id)
    return _cumulative(entries, span, flt)


async def created_mini_programs(
    ctx: Context, workspace_id: str, spec: TimeRangeSpec, flt: Filters
) -> CountMetric:
    """``Workspace.createdMiniPrograms``: its mini programs created by R's last day."""
    span = date_range(ctx, spec)
    entries = await ctx.loaders.created_mini_programs_by_workspace.load(workspace_id)
    return _cumulative(entries, span, flt)


async def merchant_onboarding(
    ctx: Context, workspace_id: str, spec: TimeRangeSpec
) -> tuple[OnboardingHistory, DateRange]:
    """``Workspace.merchantOnboarding``: the onboarding history and the range R."""
    span = date_range(ctx, spec)
    onboardings = await ctx.loaders.onboarded_merchants_by_workspace.load(workspace_id)
    return OnboardingHistory(onboardings), span


async def mini_programs_breakdown(
    ctx: Context,
    entity: EntityRef,
    spec: TimeRangeSpec,
    group_by: GroupBy,
    flt: Filters,
) -> Breakdown:
    """``miniProgramsBySource`` / ``miniProgramsByCategory`` of a workspace or target app.

    Counts the (distinct) mini programs associated with the scope by R's last day, and by the
    previous period's last day, per source or category.
    """
    span = date_range(ctx, spec)
    loader = (
        ctx.loaders.associations_by_workspace
        if entity.level is Level.WORKSPACE
        else ctx.loaders.associations_by_target_app
    )
    admitted = matching(await loader.load(entity.id), flt.type, flt.category)
    key = _KEYS[group_by]
    return breakdown(
        counts_by(admitted, key, span.end), counts_by(admitted, key, span.previous().end)
    )
