"""``UtcDateTime``: the column type of every timestamp, stored as naive UTC and read as aware UTC.

Both databases store ``TIMESTAMP WITHOUT TIME ZONE`` (SQLite: its text form), so what is on disk
and what the migrations create are those of a plain ``DateTime``. The conversion between that
storage convention and the aware UTC datetimes the code passes around happens here, once:

    >>> from datetime import timedelta, timezone
    >>> from sqlalchemy.dialects import sqlite
    >>> column = UtcDateTime()
    >>> column.process_bind_param(datetime(2026, 1, 1, 9, tzinfo=timezone(timedelta(hours=2))),
    ...                           sqlite.dialect())
    datetime.datetime(2026, 1, 1, 7, 0)
    >>> column.process_result_value(datetime(2026, 1, 1, 7), sqlite.dialect())
    datetime.datetime(2026, 1, 1, 7, 0, tzinfo=datetime.timezone.utc)

Bulk paths that bypass SQLAlchemy's type processing (COPY on PostgreSQL, driver-level
``executemany`` on SQLite) write naive UTC themselves (:func:`gateway.store.records.to_utc_naive`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.types import DateTime, TypeDecorator

from gateway.utc import naive_utc


class UtcDateTime(TypeDecorator[datetime]):
    """A ``DateTime`` column that takes aware (or naive UTC) datetimes and returns aware UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """An aware datetime as stored: naive UTC (a naive one is taken to be UTC already)."""
        return None if value is None else naive_utc(value)

    def process_result_value(self, value: Any | None, dialect: Dialect) -> datetime | None:
        """A stored naive-UTC datetime as an aware UTC datetime."""
        return None if value is None else value.replace(tzinfo=UTC)
