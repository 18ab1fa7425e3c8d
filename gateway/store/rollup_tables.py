"""Rollup tables: per-cell daily totals and user bitmaps, snapshots, and refresh bookkeeping.

Registered on the same :data:`~gateway.store.columns.metadata` as every other table (imported at
the end of ``tables.py``), so migrations and ``metadata.sorted_tables`` see them.

- ``rollup_cells``: one row per scope + filter combination (see :mod:`gateway.metrics.cells`),
  with the bitmap of every user ever seen in the cell (used by the refresh to tell new users).
- ``rollup_days``: one row per cell and UTC day with events: additive totals, and the bitmaps of
  the day's active users and of the users first seen in the cell that day.
- ``page_paths`` / ``rollup_pages``: the mini program cells' page views per page and day.
- ``snapshots``: one row per completed refresh; readers key caches on its id.
- ``rollup_catalog``: the catalog attributes the rollups were built with (app -> workspace, mini
  program -> type and category); when one changes, the next refresh recomputes the cells it moved
  entities between from the fine cells (:mod:`gateway.store.rollup.derive`).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from gateway.store.columns import ID, metadata
from gateway.store.utc import UtcDateTime

rollup_cells = Table(
    "rollup_cells",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("scope", String(2 * ID + 16), nullable=False),
    Column("data_type", String(32), nullable=False),
    Column("mp_type", String(16), nullable=False),
    Column("category", String(64), nullable=False),
    Column("lifetime_bitmap", LargeBinary, nullable=True),
    Column("recent_bitmap", LargeBinary, nullable=True),
    Column("users", BigInteger, nullable=False, server_default="0"),
    Column("sources", Text, nullable=True),
    UniqueConstraint("scope", "data_type", "mp_type", "category"),
)
"""A cell: ``mp_type`` / ``category`` are ``*`` for "all". The users it ever saw are
``lifetime_bitmap | recent_bitmap``: an incremental refresh adds its new users to the small
``recent_bitmap`` and rewrites the (large, history-long) ``lifetime_bitmap`` only when the recent
part outgrows a share of it (:func:`gateway.store.rollup.persist.write_changes`). ``users``
counts them (so users by a day are ``users`` less the new users of the days after it, whatever
the length of the history); ``sources``, on the cells ``usersBySource`` reads, counts them per
source (:mod:`gateway.store.rollup.source_counts`)."""

rollup_days = Table(
    "rollup_days",
    metadata,
    Column("cell_id", Integer, primary_key=True, autoincrement=False),
    Column("day", Date, primary_key=True),
    Column("launches", BigInteger, nullable=False),
    Column("page_views", BigInteger, nullable=False),
    Column("duration_ms", BigInteger, nullable=False),
    Column("valid_impressions", BigInteger, nullable=False),
    Column("revenue_micros", BigInteger, nullable=False),
    Column("active_users", Integer, nullable=False),
    Column("new_users", Integer, nullable=False),
    Column("active_bitmap", LargeBinary, nullable=True),
    Column("new_bitmap", LargeBinary, nullable=True),
    Column("new_sources", Text, nullable=True),
    Column("platforms", LargeBinary, nullable=True),
    Column("regions", LargeBinary, nullable=True),
)
"""Daily totals of a cell; a null bitmap is empty. New bitmaps are disjoint across a cell's days.
``new_sources``: on the cells ``usersBySource`` reads, the new users per source
(:mod:`gateway.store.rollup.source_counts`). ``platforms`` and ``regions``: the day's launches
off their users' primary platform / region (:mod:`gateway.metrics.portrait`; null: none)."""

page_paths = Table(
    "page_paths",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("digest", String(64), nullable=False, unique=True),
    Column("path", Text, nullable=False),
)
"""Every distinct ``page`` of page views, numbered for ``rollup_pages``. Unique on the SHA-256
(hex) of the path: a path may be longer than an index entry can hold. A page view without a
``page`` is page 0, which has no row."""

rollup_pages = Table(
    "rollup_pages",
    metadata,
    Column("cell_id", Integer, primary_key=True, autoincrement=False),
    Column("day", Date, primary_key=True),
    Column("pages", LargeBinary, nullable=False),
    Column("page_views", LargeBinary, nullable=False),
    Column("duration_ms", LargeBinary, nullable=False),
    Column("visitors", LargeBinary, nullable=False),
)
"""Page views per page of the mini program cells (a mini program's across its apps, and per app)
on one UTC day: ``pages`` the page numbers (little-endian uint32, ascending), ``page_views`` and
``duration_ms`` their totals (little-endian int64, same order), ``visitors`` one 64-bit roaring
bitmap of ``page << 32 | uid`` (each page's distinct users). One row per cell and day, like
``rollup_days``, so a refresh rewrites a day's pages in one row. Folded from events only (a
catalog change never moves these cells), kept for ever like the fine cells
(:mod:`gateway.store.rollup.pages`)."""

rollup_primaries = Table(
    "rollup_primaries",
    metadata,
    Column("dimension", String(16), primary_key=True),
    Column("code", SmallInteger, primary_key=True, autoincrement=False),
    Column("bitmap", LargeBinary, nullable=False),
)
"""Per dimension (``platform``, ``region``) and code: the users whose primary value it is, the
value of their first folded launch, kept for ever (:mod:`gateway.store.rollup.primaries`)."""

rollup_pending = Table(
    "rollup_pending",
    metadata,
    Column("name", String(32), primary_key=True),
)
"""Backfills a migration left to the next refresh (which has the fold to do them): a row
:data:`PAGES_BACKFILL` means the page report has not been folded from the stored events yet."""

PAGES_BACKFILL = "pages"
PORTRAIT_BACKFILL = "portrait"
"""A row of this name: the rollups were built before the portrait; the next refresh rebuilds
them."""

CELL_TABLES = (rollup_cells, rollup_days, rollup_pages)
"""The tables holding the rollups proper, cells, their days and pages: what a refresh rewrites
rows of (and vacuums) and what ``gateway status`` counts as the rollups' bytes."""

snapshots = Table(
    "snapshots",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("taken_at", UtcDateTime(), nullable=False),
    Column("max_batch_id", Integer, nullable=False),
    Column("events", BigInteger, nullable=False),
    Column("seconds", Float, nullable=False),
    Column("full_rebuild", Boolean, nullable=False),
)
"""One row per completed refresh: data is complete up to ``ingest_batches.id = max_batch_id``."""

rollup_catalog = Table(
    "rollup_catalog",
    metadata,
    Column("kind", String(8), primary_key=True),
    Column("id", String(ID), primary_key=True),
    Column("attributes", String(2 * ID + 8), nullable=False),
)
"""``kind`` 'app' -> attributes = workspace id; 'mp' -> '<type>/<category>'."""

raw_event_horizon = Table(
    "raw_event_horizon",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("kept_from", Date, nullable=False),
)
"""At most one row (``id`` 1): the first UTC day whose raw events are kept, once a retention cut
dropped older ones. Rollups of earlier days cannot be rebuilt from raw events any more: a full
rebuild then derives every coarse cell from the fine cells instead."""

rollup_user_sources = Table(
    "rollup_user_sources",
    metadata,
    Column("source", String(64), primary_key=True),
    Column("bitmap", LargeBinary, nullable=False),
)
"""Per ``user.source``: the bitmap of ``users.uid`` with that source, as of the last snapshot.

Users in none of them (no ``user`` record yet) are reported as ``unknown``.
"""
