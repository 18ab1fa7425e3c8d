"""SQLAlchemy Core tables: one table per truth, identical on PostgreSQL and SQLite.

Conventions:
- Timestamps are stored as naive UTC (``DateTime`` without zone) on both databases and read as
  aware UTC (:class:`~gateway.store.utc.UtcDateTime`); a "day" is a UTC date.
- Enumerations are stored as their names in VARCHAR columns (``native_enum=False``) so that the
  same bulk paths (COPY on PostgreSQL, executemany on SQLite) write them as plain text.
- Users get a dense 32-bit integer id (``users.uid``) the first time they are seen: events store
  that id, and the exact-count engine puts it in compressed bitmaps.
- Event tables carry no foreign keys: ingestion validates references before it writes (and
  quarantines what fails), and per-row FK checks would halve bulk-ingest throughput.
- Every event row records the ``ingest_batches.id`` that stored it, so a refresh can find the
  rows that are new since the last one (a batch commits atomically with its rows).
- An event is identified by its ``id`` and its UTC ``day`` (SPEC §2: a replay is the same id on
  the same day). On PostgreSQL the event tables are partitioned by ``day``, one partition per UTC
  day (:mod:`gateway.store.partitions`): each day's key index is small whatever the history,
  and retention drops whole days. SQLite keeps one table per kind and deletes by day.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
)

from gateway.domain import DataType, DeploymentStatus, MerchantType, MiniProgramType
from gateway.store.columns import ID
from gateway.store.columns import metadata as metadata  # with every table registered on it
from gateway.store.utc import UtcDateTime


def _enum(cls: type, name: str) -> Enum:
    return Enum(cls, name=name, native_enum=False, create_constraint=False, length=32)


workspaces = Table(
    "workspaces",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("name", String(512), nullable=False),
)

target_apps = Table(
    "target_apps",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("workspace_id", String(ID), ForeignKey("workspaces.id"), nullable=False, index=True),
    Column("name", String(512), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
)

merchants = Table(
    "merchants",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("workspace_id", String(ID), ForeignKey("workspaces.id"), nullable=False, index=True),
    Column("name", String(512), nullable=False),
    Column("merchant_type", _enum(MerchantType, "merchant_type"), nullable=False),
    Column("onboarded_at", UtcDateTime(), nullable=True),
)

mini_programs = Table(
    "mini_programs",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("workspace_id", String(ID), ForeignKey("workspaces.id"), nullable=False, index=True),
    Column("merchant_id", String(ID), ForeignKey("merchants.id"), nullable=True, index=True),
    Column("name", String(512), nullable=False),
    Column("type", _enum(MiniProgramType, "mini_program_type"), nullable=False),
    Column("category", String(64), nullable=False),
    Column("source", String(64), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
)

deployments = Table(
    "deployments",
    metadata,
    Column("target_app_id", String(ID), ForeignKey("target_apps.id"), primary_key=True),
    Column("mini_program_id", String(ID), ForeignKey("mini_programs.id"), primary_key=True),
    Column("at", UtcDateTime(), primary_key=True),
    Column("status", _enum(DeploymentStatus, "deployment_status"), nullable=False),
    Index("ix_deployments_mini_program_id", "mini_program_id"),
)
"""Status history: one row per status change; the status at t is the last row with at <= t."""

users = Table(
    "users",
    metadata,
    Column("uid", Integer, primary_key=True, autoincrement=True),
    Column("guid", String(ID), nullable=False, unique=True),
    Column("source", String(64), nullable=True),
    Column("created_at", UtcDateTime(), nullable=True),
    Column("source_batch_id", Integer, nullable=True, index=True),
)
"""Dense user ids. ``source`` is null until a ``user`` record arrives (reported as 'unknown');
``source_batch_id`` is the ingest batch of the last ``user`` record (the refresh folds the users
whose source changed since its last snapshot into ``rollup_user_sources``)."""

ingest_batches = Table(
    "ingest_batches",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(1024), nullable=False),
    Column("committed_at", UtcDateTime(), nullable=False),
    Column("records", Integer, nullable=False),
    Column("stored", Integer, nullable=False),
    Column("duplicates", Integer, nullable=False),
    Column("quarantined", Integer, nullable=False),
    Column("catalog_stored", Integer, nullable=False, server_default="0"),
    Column("first_day", Date, nullable=True),
    Column("last_day", Date, nullable=True),
)
"""One row per committed ingest transaction (written in the same transaction as its rows).
``catalog_stored`` counts its catalog records: the newest batch with some is the catalog's
version, which response caches key on (catalog fields are real time). ``first_day`` and
``last_day`` are the UTC days of its oldest and newest stored event (null when it stored none):
a refresh reads only the days of its new batches, on PostgreSQL only their partitions."""


def _event_table(name: str, *extra: Column[object]) -> Table:
    return Table(
        name,
        metadata,
        Column("id", String(ID), primary_key=True),
        Column("batch_id", Integer, nullable=False),
        Column("at", UtcDateTime(), nullable=False),
        Column("day", Date, primary_key=True),
        Column("target_app_id", String(ID), nullable=False),
        Column("mini_program_id", String(ID), nullable=False),
        Column("uid", Integer, nullable=False),
        Column("data_type", _enum(DataType, "data_type"), nullable=False),
        *extra,
        # Codes of gateway.store.audience_codes (0: the event did not say); last, as the
        # migration that added them left them.
        Column("platform", SmallInteger, nullable=False, server_default="0"),
        Column("region", SmallInteger, nullable=False, server_default="0"),
        # BRIN on PostgreSQL: batch ids grow with insertion order, so a block-range index is
        # tiny and costs nearly nothing on bulk insert; SQLite gets an ordinary index.
        # autosummarize: new block ranges are summarized as they fill, so a refresh finds new
        # batches without scanning the table even where autovacuum is off or behind.
        Index(
            f"ix_{name}_batch_id",
            "batch_id",
            postgresql_using="brin",
            postgresql_with={"autosummarize": "on"},
        ),
        # SQLite deletes a retention cut's days by this index; PostgreSQL drops partitions.
        Index(f"ix_{name}_day", "day").ddl_if(dialect="sqlite"),
        postgresql_partition_by="RANGE (day)",
    )


launches = _event_table("launches")
page_views = _event_table(
    "page_views",
    Column("page", String(1024), nullable=True),
    Column("duration_ms", BigInteger, nullable=False),
)
ad_impressions = _event_table(
    "ad_impressions",
    Column("valid", Boolean, nullable=False),
    Column("revenue_micros", BigInteger, nullable=False),
)

EVENT_TABLES: dict[str, Table] = {
    "launch": launches,
    "pageView": page_views,
    "adImpression": ad_impressions,
}
"""Event table by record ``kind``."""

quarantine = Table(
    "quarantine",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("received_at", UtcDateTime(), nullable=False),
    Column("source", String(1024), nullable=False),
    Column("line", Integer, nullable=False),
    Column("kind", String(64), nullable=True),
    Column("reason", Text, nullable=False),
    Column("raw", Text, nullable=False),
    Column("attempts", Integer, nullable=False, default=1),
)
"""Records that could not be stored, with where they came from and why; replayable."""

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(ID), nullable=False, unique=True),
    Column("prefix", String(32), nullable=False, unique=True),
    Column("secret_hash", String(64), nullable=False),
    Column("grants", Text, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("last_used_at", UtcDateTime(), nullable=True),
    Column("revoked_at", UtcDateTime(), nullable=True),
)
"""API keys (``X-API-Key``): the public ``prefix`` finds the row, ``secret_hash`` is the SHA-256
hex of the secret part (the key itself is never stored), ``grants`` a JSON list of grant claims.
A revoked key keeps its row (and name) for the audit trail."""

# The rollup tables live in their own module on the same metadata; importing it here makes every
# user of ``metadata`` (migrations, test truncation) see them.
from gateway.store import rollup_tables as rollup_tables  # noqa: E402
