"""events carry their platform and region

``platform`` and ``region`` on the three raw event tables: the codes of
:mod:`gateway.store.audience_codes`, 0 (``UNKNOWN``) for every event stored before. On PostgreSQL a
column with a constant default is added to the partitioned parent without rewriting any partition.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("launches", "page_views", "ad_impressions")


def upgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            for name in ("platform", "region"):
                column = sa.Column(name, sa.SmallInteger(), nullable=False, server_default="0")
                batch.add_column(column)


def downgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("region")
            batch.drop_column("platform")
