"""Alembic environment: always driven through a connection handed in by ``gateway migrate``."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from gateway.store.migrate import comparison_options
from gateway.store.tables import metadata

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError("run migrations through `gateway migrate`, not the alembic CLI")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    **comparison_options(connection.dialect.name),
)
with context.begin_transaction():
    context.run_migrations()
