"""ingest batches record the UTC days of their events

``ingest_batches.first_day`` / ``last_day``: the days of a batch's oldest and newest stored event
(null when it stored none), filled here from the stored events, so a refresh reads only the days
(on PostgreSQL the partitions) its new batches hold instead of every partition.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 22:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_EVENTS = ("launches", "page_views", "ad_impressions")


def upgrade() -> None:
    with op.batch_alter_table("ingest_batches") as batch:
        batch.add_column(sa.Column("first_day", sa.Date(), nullable=True))
        batch.add_column(sa.Column("last_day", sa.Date(), nullable=True))
    spans = " UNION ALL ".join(
        f"SELECT batch_id, min(day) AS lo, max(day) AS hi FROM {table} GROUP BY batch_id"
        for table in _EVENTS
    )
    op.execute(
        "UPDATE ingest_batches SET first_day = s.lo, last_day = s.hi FROM ("
        f"SELECT batch_id, min(lo) AS lo, max(hi) AS hi FROM ({spans}) AS u GROUP BY batch_id"
        ") AS s WHERE s.batch_id = ingest_batches.id"
    )


def downgrade() -> None:
    with op.batch_alter_table("ingest_batches") as batch:
        batch.drop_column("last_day")
        batch.drop_column("first_day")
