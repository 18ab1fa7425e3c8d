"""catalog stored: ingest batches count the catalog records they wrote (the catalog's version)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 13:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing batches count as having written catalog records: a cache keyed on the
    # catalog's version then starts from the newest of them, which is always safe.
    with op.batch_alter_table("ingest_batches") as batch:
        batch.add_column(
            sa.Column("catalog_stored", sa.Integer(), nullable=False, server_default="1")
        )
    with op.batch_alter_table("ingest_batches") as batch:
        batch.alter_column("catalog_stored", server_default="0")


def downgrade() -> None:
    with op.batch_alter_table("ingest_batches") as batch:
        batch.drop_column("catalog_stored")
