"""The naive implementation's SQL: one statement per question, straight over the raw tables.

Every function opens its own connection and runs one SQLAlchemy Core statement scoped to one
target app and PRODUCTION data (the details page's default filters). Time bounds are half-open
instants: a range of UTC days ``[first, last]`` is ``first 00:00 <= at < last + 1 day 00:00``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Date, Select, Subquery, Table, cast, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.domain import DataType, DeploymentStatus
from gateway.store.tables import deployments, launches, mini_programs, users


def day_start(day: dt.date) -> dt.datetime:
    """00:00 UTC of ``day`` as the naive UTC datetime the event tables store."""
    return dt.datetime.combine(day, dt.time())


def _scope(table: Table, app: str, lo: dt.date | None, hi: dt.date) -> list[ColumnElement[bool]]:
    """The app's PRODUCTION events on days ``lo`` (None = since the beginning) .. ``hi``."""
    conditions = [
        table.c.target_app_id == app,
        table.c.data_type == DataType.PRODUCTION,
        table.c.at < day_start(hi + dt.timedelta(days=1)),
    ]
    if lo is not None:
        conditions.append(table.c.at >= day_start(lo))
    return conditions


async def _scalar(engine: AsyncEngine, stmt: Select[Any]) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(stmt)).scalar() or 0)


async def _pairs(engine: AsyncEngine, stmt: Select[Any, int]) -> dict[Any, int]:
    async with engine.connect() as conn:
        return {key: int(count) for key, count in await conn.execute(stmt)}


async def distinct_users(engine: AsyncEngine, app: str, lo: dt.date | None, hi: dt.date) -> int:
    """``COUNT(DISTINCT uid)`` of the app's launches on days ``lo`` .. ``hi``."""
    stmt = select(func.count(launches.c.uid.distinct())).where(*_scope(launches, app, lo, hi))
    return await _scalar(engine, stmt)


async def daily_distinct_users(
    engine: AsyncEngine, app: str, lo: dt.date, hi: dt.date
) -> dict[dt.date, int]:
    """Distinct launching users per day of ``lo`` .. ``hi`` (days without launches left out)."""
    day = cast(launches.c.at, Date)
    stmt = (
        select(day, func.count(launches.c.uid.distinct()))
        .where(*_scope(launches, app, lo, hi))
        .group_by(day)
    )
    return await _pairs(engine, stmt)


async def count_events(
    engine: AsyncEngine, table: Table, app: str, lo: dt.date, hi: dt.date
) -> int:
    """``COUNT(*)`` of the app's events of ``table`` on days ``lo`` .. ``hi``."""
    return await _scalar(engine, select(func.count()).where(*_scope(table, app, lo, hi)))


async def daily_events(
    engine: AsyncEngine, table: Table, app: str, lo: dt.date, hi: dt.date
) -> dict[dt.date, int]:
    """Events of ``table`` per day of ``lo`` .. ``hi``."""
    day = cast(table.c.at, Date)
    stmt = select(day, func.count()).where(*_scope(table, app, lo, hi)).group_by(day)
    return await _pairs(engine, stmt)


def _first_launch_days(app: str, hi: dt.date) -> Subquery:
    """Each user's first-ever launch in the app (users first seen after ``hi`` left out)."""
    return (
        select(launches.c.uid, func.min(launches.c.at).label("first_at"))
        .where(*_scope(launches, app, None, hi))
        .group_by(launches.c.uid)
        .subquery("first_launch")
    )


async def first_launches_per_day(
    engine: AsyncEngine, app: str, lo: dt.date | None, hi: dt.date
) -> dict[dt.date, int]:
    """Users whose first-ever launch in the app falls on each day of ``lo`` .. ``hi``.

    The ``MIN(at)`` per user runs over the app's whole history up to ``hi`` (a first launch is
    first among all of them), then only first days from ``lo`` on are kept.
    """
    first = _first_launch_days(app, hi)
    day = cast(first.c.first_at, Date)
    stmt = select(day, func.count()).group_by(day)
    if lo is not None:
        stmt = stmt.where(first.c.first_at >= day_start(lo))
    return await _pairs(engine, stmt)


async def new_users(engine: AsyncEngine, app: str, lo: dt.date, hi: dt.date) -> int:
    """Users whose first-ever launch in the app is on a day of ``lo`` .. ``hi``."""
    first = _first_launch_days(app, hi)
    stmt = select(func.count()).select_from(first).where(first.c.first_at >= day_start(lo))
    return await _scalar(engine, stmt)


async def users_by_source(engine: AsyncEngine, app: str, hi: dt.date) -> dict[str, int]:
    """Users with a launch in the app by ``hi``, per ``users.source`` (null = ``unknown``)."""
    launched = select(launches.c.uid).where(*_scope(launches, app, None, hi))
    source = func.coalesce(users.c.source, "unknown")
    stmt = select(source, func.count()).where(users.c.uid.in_(launched)).group_by(source)
    return await _pairs(engine, stmt)


async def users_by_category(engine: AsyncEngine, app: str, hi: dt.date) -> dict[str, int]:
    """Distinct users per category of the mini programs they launched in the app by ``hi``."""
    stmt = (
        select(mini_programs.c.category, func.count(launches.c.uid.distinct()))
        .select_from(launches.join(mini_programs, mini_programs.c.id == launches.c.mini_program_id))
        .where(*_scope(launches, app, None, hi))
        .group_by(mini_programs.c.category)
    )
    return await _pairs(engine, stmt)


async def mini_programs_by(
    engine: AsyncEngine, app: str, attribute: str, hi: dt.date
) -> dict[str, int]:
    """Mini programs associated with the app (first deployment record) by ``hi``, per
    ``mini_programs.<attribute>`` (``source`` or ``category``)."""
    first = (
        select(deployments.c.mini_program_id, func.min(deployments.c.at).label("first_at"))
        .where(deployments.c.target_app_id == app)
        .group_by(deployments.c.mini_program_id)
        .subquery("first_deployment")
    )
    key = mini_programs.c[attribute]
    stmt = (
        select(key, func.count())
        .select_from(first.join(mini_programs, mini_programs.c.id == first.c.mini_program_id))
        .where(first.c.first_at < day_start(hi + dt.timedelta(days=1)))
        .group_by(key)
    )
    return await _pairs(engine, stmt)


async def current_statuses(engine: AsyncEngine, app: str) -> Sequence[DeploymentStatus]:
    """The current status (last record) of each mini program deployed in the app."""
    rank = func.row_number().over(
        partition_by=deployments.c.mini_program_id, order_by=deployments.c.at.desc()
    )
    ranked = (
        select(deployments.c.status, rank.label("rn"))
        .where(deployments.c.target_app_id == app)
        .subquery("ranked")
    )
    async with engine.connect() as conn:
        rows = await conn.execute(select(ranked.c.status).where(ranked.c.rn == 1))
        return [row[0] for row in rows]
