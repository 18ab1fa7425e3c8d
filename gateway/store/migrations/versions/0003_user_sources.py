"""user sources: users.source_batch_id and the rollup_user_sources bitmaps

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 12:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing users keep a null batch id: the first refresh after this migration finds
    # rollup_user_sources empty and recomputes it from every user with a source.
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source_batch_id", sa.Integer(), nullable=True))
        batch_op.create_index("ix_users_source_batch_id", ["source_batch_id"], unique=False)
    op.create_table(
        "rollup_user_sources",
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("bitmap", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("source", name=op.f("pk_rollup_user_sources")),
    )


def downgrade() -> None:
    op.drop_table("rollup_user_sources")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index("ix_users_source_batch_id")
        batch_op.drop_column("source_batch_id")
