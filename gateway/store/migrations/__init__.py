"""Alembic migrations, run programmatically by :func:`gateway.store.migrate.upgrade`."""
