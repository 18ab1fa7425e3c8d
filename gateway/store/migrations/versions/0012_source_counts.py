"""rollup cells count their users, and per source on the cells usersBySource reads

``rollup_cells.users``: how many users the cell ever saw (its lifetime's cardinality), filled from
the sum of its days' new users. ``rollup_cells.sources`` / ``rollup_days.new_sources``: on the
workspace and target app cells, the lifetime's and each day's new users per source (a JSON object
of the non-zero counts), filled here from the stored bitmaps and ``rollup_user_sources``, so a
cumulative ``usersBySource`` reads counts instead of every source bitmap.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 02:30:00.000000
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import orjson
import sqlalchemy as sa
from alembic import op
from pyroaring import BitMap

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SOURCE_CELLS = "(scope LIKE 'ws:%' OR (scope LIKE 'app:%' AND scope NOT LIKE '%|%'))"
_BATCH = 2_000


def _encode(users: BitMap, sources: Mapping[str, BitMap]) -> str | None:
    counts = {name: users.intersection_cardinality(b) for name, b in sorted(sources.items())}
    kept = {name: count for name, count in counts.items() if count}
    return orjson.dumps(kept).decode() if kept else None


def _bitmap(*raws: bytes | None) -> BitMap:
    out = BitMap()
    for raw in raws:
        if raw is not None:
            out |= BitMap.deserialize(raw)
    return out


def upgrade() -> None:
    with op.batch_alter_table("rollup_cells") as batch:
        batch.add_column(sa.Column("users", sa.BigInteger(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("sources", sa.Text(), nullable=True))
    with op.batch_alter_table("rollup_days") as batch:
        batch.add_column(sa.Column("new_sources", sa.Text(), nullable=True))
    op.execute(
        "UPDATE rollup_cells SET users = s.users FROM (SELECT cell_id, sum(new_users) AS users "
        "FROM rollup_days GROUP BY cell_id) AS s WHERE s.cell_id = rollup_cells.id"
    )
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT source, bitmap FROM rollup_user_sources"))
    sources = {row.source: BitMap.deserialize(row.bitmap) for row in rows}
    if not sources:
        return
    cells = bind.execute(
        sa.text(
            f"SELECT id, lifetime_bitmap, recent_bitmap FROM rollup_cells WHERE {_SOURCE_CELLS}"
        )
    ).all()
    set_cell = sa.text("UPDATE rollup_cells SET sources = :s WHERE id = :c")
    set_day = sa.text("UPDATE rollup_days SET new_sources = :s WHERE cell_id = :c AND day = :d")
    for cell, lifetime, recent in cells:
        bind.execute(set_cell, {"c": cell, "s": _encode(_bitmap(lifetime, recent), sources)})
        days = bind.execute(
            sa.text(
                "SELECT day, new_bitmap FROM rollup_days "
                "WHERE cell_id = :c AND new_bitmap IS NOT NULL"
            ),
            {"c": cell},
        ).all()
        updates = [
            {"c": cell, "d": day, "s": _encode(BitMap.deserialize(raw), sources)}
            for day, raw in days
        ]
        for start in range(0, len(updates), _BATCH):
            bind.execute(set_day, updates[start : start + _BATCH])


def downgrade() -> None:
    with op.batch_alter_table("rollup_days") as batch:
        batch.drop_column("new_sources")
    with op.batch_alter_table("rollup_cells") as batch:
        batch.drop_column("sources")
        batch.drop_column("users")
