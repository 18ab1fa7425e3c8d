"""Rollups and snapshots: the exact metrics engine's storage (SPEC §4, §7).

- :func:`refresh` folds new events into per-cell daily rollups and records a snapshot.
- :func:`latest_snapshot` tells which snapshot readers see.
- :func:`scope_cells`, :func:`cell_ids`, :func:`read_days`, :func:`read_lifetime_totals`,
  :func:`read_lifetime_counts` and :func:`read_histories` are the loaders' read API (one
  statement each for any number of cells); the values they return are folded into metrics by
  :mod:`gateway.metrics.aggregate`.
- :func:`read_day_sets` feeds retention tables (:mod:`gateway.metrics.retention`).
- :func:`read_portrait_days` and :func:`read_primary_users` feed ``usersByPlatform`` and
  ``usersByRegion`` (:mod:`gateway.metrics.portrait`).
- :func:`read_active_users`, :func:`read_source_counts` and
  :func:`read_user_sources` feed the user breakdowns (:mod:`gateway.metrics.user_breakdowns`).
"""

from __future__ import annotations

from gateway.store.rollup.primaries import read_primary_users
from gateway.store.rollup.read import (
    cell_ids,
    read_days,
    read_histories,
    read_lifetime_counts,
    read_lifetime_totals,
    scope_cells,
)
from gateway.store.rollup.read_users import (
    read_active_users,
    read_day_sets,
    read_portrait_days,
    read_source_counts,
)
from gateway.store.rollup.refresh import refresh
from gateway.store.rollup.snapshots import (
    NO_SNAPSHOT,
    Snapshot,
    latest_snapshot,
    read_latest_snapshot,
)
from gateway.store.rollup.user_sources import read_user_sources

__all__ = [
    "NO_SNAPSHOT",
    "Snapshot",
    "cell_ids",
    "latest_snapshot",
    "read_active_users",
    "read_day_sets",
    "read_days",
    "read_histories",
    "read_latest_snapshot",
    "read_lifetime_counts",
    "read_lifetime_totals",
    "read_portrait_days",
    "read_primary_users",
    "read_source_counts",
    "read_user_sources",
    "refresh",
    "scope_cells",
]
