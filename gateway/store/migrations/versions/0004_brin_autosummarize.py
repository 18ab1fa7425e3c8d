"""brin autosummarize: the event tables' batch_id indexes summarize new ranges as they fill

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 12:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEXES = ("ix_launches_batch_id", "ix_page_views_batch_id", "ix_ad_impressions_batch_id")


def upgrade() -> None:
    # A storage parameter of a BRIN index: PostgreSQL only (SQLite has ordinary indexes).
    if op.get_context().dialect.name != "postgresql":
        return
    for name in _INDEXES:
        op.execute(f"ALTER INDEX {name} SET (autosummarize = on)")


def downgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    for name in _INDEXES:
        op.execute(f"ALTER INDEX {name} RESET (autosummarize)")
