"""rollups: cells, daily rollups, snapshots, catalog bookkeeping

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rollup_cells",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("scope", sa.String(length=272), nullable=False),
        sa.Column("data_type", sa.String(length=32), nullable=False),
        sa.Column("mp_type", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("lifetime_bitmap", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rollup_cells")),
        sa.UniqueConstraint(
            "scope",
            "data_type",
            "mp_type",
            "category",
            name=op.f("uq_rollup_cells_scope_data_type_mp_type_category"),
        ),
    )
    op.create_table(
        "rollup_days",
        sa.Column("cell_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("launches", sa.BigInteger(), nullable=False),
        sa.Column("page_views", sa.BigInteger(), nullable=False),
        sa.Column("duration_ms", sa.BigInteger(), nullable=False),
        sa.Column("valid_impressions", sa.BigInteger(), nullable=False),
        sa.Column("revenue_micros", sa.BigInteger(), nullable=False),
        sa.Column("active_users", sa.Integer(), nullable=False),
        sa.Column("new_users", sa.Integer(), nullable=False),
        sa.Column("active_bitmap", sa.LargeBinary(), nullable=True),
        sa.Column("new_bitmap", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("cell_id", "day", name=op.f("pk_rollup_days")),
    )
    op.create_table(
        "snapshots",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("taken_at", sa.DateTime(), nullable=False),
        sa.Column("max_batch_id", sa.Integer(), nullable=False),
        sa.Column("events", sa.BigInteger(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("full_rebuild", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_snapshots")),
    )
    op.create_table(
        "rollup_catalog",
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("attributes", sa.String(length=264), nullable=False),
        sa.PrimaryKeyConstraint("kind", "id", name=op.f("pk_rollup_catalog")),
    )


def downgrade() -> None:
    op.drop_table("rollup_catalog")
    op.drop_table("snapshots")
    op.drop_table("rollup_days")
    op.drop_table("rollup_cells")
