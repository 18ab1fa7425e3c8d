"""injective cell scopes: a mini program inside an app is ``app:<app>|mp:<mp>``

Ids may hold ``/`` and ``:`` (SPEC §2), so ``app:<app>/mp:<mp>`` named one cell for two pairs
(app ``a/mp:b`` with mini program ``c``, and app ``a`` with mini program ``b/mp:c``). ``|`` is
outside the id grammar, so the new spelling names one pair only.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 15:45:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "UPDATE rollup_cells SET scope = replace(scope, '/mp:', '|mp:') "
        "WHERE scope LIKE 'app:%/mp:%'"
    )


def downgrade() -> None:
    op.execute(
        "UPDATE rollup_cells SET scope = replace(scope, '|mp:', '/mp:') "
        "WHERE scope LIKE 'app:%|mp:%'"
    )
