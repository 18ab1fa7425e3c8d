"""the page report's rollups: page paths, pages per mini program cell and day

``page_paths`` numbers page paths; ``rollup_pages`` holds each mini program cell's pages per UTC
day (:mod:`gateway.store.rollup.pages`). Filled by the next refresh from the stored events
(``rollup_pending`` says so): the fold that counts them is the refresh's. Raw days a retention cut
dropped before this migration have no page report.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 09:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "page_paths",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_page_paths")),
        sa.UniqueConstraint("digest", name=op.f("uq_page_paths_digest")),
    )
    op.create_table(
        "rollup_pages",
        sa.Column("cell_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("pages", sa.LargeBinary(), nullable=False),
        sa.Column("page_views", sa.LargeBinary(), nullable=False),
        sa.Column("duration_ms", sa.LargeBinary(), nullable=False),
        sa.Column("visitors", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("cell_id", "day", name=op.f("pk_rollup_pages")),
    )
    pending = op.create_table("rollup_pending", sa.Column("name", sa.String(32), primary_key=True))
    built = op.get_bind().execute(sa.text("SELECT 1 FROM snapshots LIMIT 1")).first()
    if built is not None:  # rollups exist: the next refresh folds their pages
        op.bulk_insert(pending, [{"name": "pages"}])


def downgrade() -> None:
    op.drop_table("rollup_pending")
    op.drop_table("rollup_pages")
    op.drop_table("page_paths")
