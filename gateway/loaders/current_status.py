"""The current status of every deployment, as a SQL construct (no I/O here).

The current status of a (target app, mini program) pair is its last ``deployments`` row by
``at``; :func:`current_deployments` keeps that row with ``ROW_NUMBER() OVER (PARTITION BY app,
mini program ORDER BY at DESC) = 1``, which PostgreSQL and SQLite both run.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, Subquery, func, select

from gateway.domain import Filters
from gateway.store.tables import deployments, mini_programs


def current_deployments(where: Sequence[ColumnElement[bool]] = ()) -> Subquery:
    """One row per pair (``target_app_id``, ``mini_program_id``, ``status``, ``at``).

    Args:
        where: Conditions on ``deployments`` applied before ranking (e.g. the batch's app ids),
            so the window runs only over the pairs the batch needs.
    """
    rank = func.row_number().over(
        partition_by=(deployments.c.target_app_id, deployments.c.mini_program_id),
        order_by=deployments.c.at.desc(),
    )
    ranked = (
        select(
            deployments.c.target_app_id,
            deployments.c.mini_program_id,
            deployments.c.status,
            deployments.c.at,
            rank.label("rn"),
        )
        .where(*where)
        .subquery("ranked")
    )
    return (
        select(ranked.c.target_app_id, ranked.c.mini_program_id, ranked.c.status, ranked.c.at)
        .where(ranked.c.rn == 1)
        .subquery("current")
    )


def mini_program_conditions(flt: Filters) -> list[ColumnElement[bool]]:
    """Conditions on ``mini_programs`` for the ``type`` and ``category`` filters."""
    conditions: list[ColumnElement[bool]] = []
    if flt.type.only is not None:
        conditions.append(mini_programs.c.type == flt.type.only)
    if flt.category is not None:
        conditions.append(mini_programs.c.category == flt.category)
    return conditions
