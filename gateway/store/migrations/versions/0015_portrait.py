"""the portrait: each user's primary platform and region, each cell-day's exceptions

``rollup_primaries`` holds each user's primary platform and region, ``rollup_days.platforms`` and
``rollup_days.regions`` each day's launches off them (:mod:`gateway.metrics.portrait`).
Rollups built before have neither: ``rollup_pending`` tells the next refresh to rebuild them (from
the raw events when none was dropped; otherwise every user seen so far gets ``UNKNOWN`` as primary
platform and region, the truth for events stored before revision 0013, and the rollups are
rebuilt from their cells).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 12:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rollup_primaries",
        sa.Column("dimension", sa.String(16), nullable=False),
        sa.Column("code", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("bitmap", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("dimension", "code", name=op.f("pk_rollup_primaries")),
    )
    with op.batch_alter_table("rollup_days") as batch:
        batch.add_column(sa.Column("platforms", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("regions", sa.LargeBinary(), nullable=True))
    built = op.get_bind().execute(sa.text("SELECT 1 FROM snapshots LIMIT 1")).first()
    if built is not None:  # rollups exist: the next refresh rebuilds them with their portrait
        pending = sa.table("rollup_pending", sa.column("name", sa.String(32)))
        op.bulk_insert(pending, [{"name": "portrait"}])


def downgrade() -> None:
    with op.batch_alter_table("rollup_days") as batch:
        batch.drop_column("regions")
        batch.drop_column("platforms")
    op.drop_table("rollup_primaries")
