"""raw events keyed by (id, UTC day); PostgreSQL partitions them by day

Each event table gains ``day`` (the UTC date of ``at``) and its key becomes ``(id, day)``. On
PostgreSQL the tables become ``PARTITION BY RANGE (day)`` with one partition per stored day
(:mod:`gateway.store.partitions` creates the later ones); SQLite keeps one table per kind with
an index on ``day``. Rows are copied into the new tables, whose key and indexes are built after
the copy (one sort per index instead of an insertion per row).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 21:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
from alembic import op

from gateway.store.partitions import partition_bounds, partition_name

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DATA_TYPE = sa.Enum("PRODUCTION", "NON_PRODUCTION", name="data_type", native_enum=False, length=32)
_EXTRA: dict[str, list[tuple[str, sa.types.TypeEngine[object], bool]]] = {
    "launches": [],
    "page_views": [("page", sa.String(length=1024), True), ("duration_ms", sa.BigInteger(), False)],
    "ad_impressions": [("valid", sa.Boolean(), False), ("revenue_micros", sa.BigInteger(), False)],
}
"""Each table's columns after the common ones: name, type, nullable."""
_OLD = "{}_before_0009"


def _columns(table: str, *, day: bool) -> list[sa.Column[object]]:
    columns: list[sa.Column[object]] = [
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
    ]
    if day:
        columns.append(sa.Column("day", sa.Date(), nullable=False))
    columns += [
        sa.Column("target_app_id", sa.String(length=128), nullable=False),
        sa.Column("mini_program_id", sa.String(length=128), nullable=False),
        sa.Column("uid", sa.Integer(), nullable=False),
        sa.Column("data_type", _DATA_TYPE, nullable=False),
    ]
    return columns + [sa.Column(name, type_, nullable=null) for name, type_, null in _EXTRA[table]]


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _set_aside(table: str) -> str:
    """Rename ``table`` (and its key and index, whose names are schema-wide) out of the way."""
    old = _OLD.format(table)
    if _postgres():
        op.execute(f"ALTER INDEX ix_{table}_batch_id RENAME TO ix_{old}_batch_id")
        op.execute(f"ALTER TABLE {table} RENAME CONSTRAINT pk_{table} TO pk_{old}")
    else:
        op.drop_index(f"ix_{table}_batch_id", table_name=table)
    op.rename_table(table, old)
    return old


def _brin(table: str) -> None:
    op.create_index(
        f"ix_{table}_batch_id",
        table,
        ["batch_id"],
        postgresql_using="brin",
        postgresql_with={"autosummarize": "on"},
    )


def _create_partitions(table: str, days: list[date]) -> None:
    for day in days:
        op.execute(
            f"CREATE TABLE {partition_name(table, day)} PARTITION OF {table} "
            f"FOR VALUES {partition_bounds(day)}"
        )


def upgrade() -> None:
    postgres = _postgres()
    olds = {table: _set_aside(table) for table in _EXTRA}
    for table in _EXTRA:
        if postgres:
            by_day = {"postgresql_partition_by": "RANGE (day)"}
            op.create_table(table, *_columns(table, day=True), **by_day)
        else:
            key = sa.PrimaryKeyConstraint("id", "day", name=f"pk_{table}")
            op.create_table(table, *_columns(table, day=True), key)
    if postgres:  # a day has its partition in every event table, as at run time
        union = " UNION ".join(
            f"SELECT DISTINCT CAST(at AS date) FROM {old}" for old in olds.values()
        )
        days = sorted(row[0] for row in op.get_bind().execute(sa.text(union)))
        for table in _EXTRA:
            _create_partitions(table, days)
    # naive UTC is stored as 'YYYY-MM-DD HH:MM:SS.ffffff' on SQLite
    day = "CAST(at AS date)" if postgres else "substr(at, 1, 10)"
    for table, old in olds.items():
        listed = ", ".join(column.name for column in _columns(table, day=False))
        op.execute(f"INSERT INTO {table} ({listed}, day) SELECT {listed}, {day} FROM {old}")
        if postgres:
            op.create_primary_key(f"pk_{table}", table, ["id", "day"])
        else:
            op.create_index(f"ix_{table}_day", table, ["day"])
        _brin(table)
        op.drop_table(old)


def downgrade() -> None:
    postgres = _postgres()
    for table in _EXTRA:
        old = _OLD.format(table)
        if not postgres:
            op.drop_index(f"ix_{table}_day", table_name=table)
        _set_aside(table)
        key = sa.PrimaryKeyConstraint("id", name=f"pk_{table}")
        op.create_table(table, *_columns(table, day=False), key)
        listed = ", ".join(column.name for column in _columns(table, day=False))
        # An id stored on two days keeps its earliest event: the old key was the id alone.
        op.execute(
            f"INSERT INTO {table} ({listed}) SELECT {listed} FROM ("
            f"SELECT {listed}, row_number() OVER (PARTITION BY id ORDER BY at) AS n FROM {old}"
            ") AS ranked WHERE n = 1"
        )
        _brin(table)
        op.drop_table(old)  # on PostgreSQL with its partitions
