"""rollup cells keep their recently added lifetime users apart

``rollup_cells.recent_bitmap``: the users added to a cell's lifetime since ``lifetime_bitmap``
was last written whole; the lifetime is their union. A refresh then rewrites the small recent
part instead of the whole history-long bitmap.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 22:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("rollup_cells") as batch:
        batch.add_column(sa.Column("recent_bitmap", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    # SQL cannot union two roaring bitmaps: only cells whose lifetime is whole may go back.
    split = op.get_bind().execute(
        sa.text("SELECT count(*) FROM rollup_cells WHERE recent_bitmap IS NOT NULL")
    )
    if split.scalar():
        raise RuntimeError(
            "rollup cells hold recent lifetime users apart: run `gateway refresh --full` with "
            "this version first (it writes every lifetime whole), then downgrade"
        )
    with op.batch_alter_table("rollup_cells") as batch:
        batch.drop_column("recent_bitmap")
