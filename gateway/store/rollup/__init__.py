"""Rollups and snapshots: the exact metrics engine's storage (SPEC §4, §7).

- :func:`refresh` folds new events into per-cell daily rollups and records a snapshot.
- :func:`latest_snapshot` tells which snapshot readers see.
- :func:`cell_ids`, :func:`read_days`, :func:`read_lifetime_totals` and :func:`read_histories`
  are the loaders' read API (one statement each for any number of cells); the values they return
  are folded into metrics by :mod:`gateway.metrics.aggregate`.
"""

from __future__ import annotations

from gateway.store.rollup.read import cell_ids, read_days, read_histories, read_lifetime_totals
from gateway.store.rollup.refresh import refresh
from gateway.store.rollup.snapshots import SnapshotInfo, latest_snapshot, read_latest_snapshot

__all__ = [
    "SnapshotInfo",
    "cell_ids",
    "latest_snapshot",
    "read_days",
    "read_histories",
    "read_latest_snapshot",
    "read_lifetime_totals",
    "refresh",
]
