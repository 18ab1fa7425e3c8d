"""UTC instants, one convention: aware UTC in the code, naive UTC where a store or file wants it.

Every conversion between the two is one of these functions (the column type, the record
decoder, the GraphQL ``DateTime`` scalar and the spreadsheet writer call them):

    >>> from datetime import datetime, timedelta, timezone
    >>> as_utc(datetime(2026, 1, 1, 9, tzinfo=timezone(timedelta(hours=2))))
    datetime.datetime(2026, 1, 1, 7, 0, tzinfo=datetime.timezone.utc)
    >>> as_utc(datetime(2026, 1, 1, 7))  # naive: taken to be UTC already
    datetime.datetime(2026, 1, 1, 7, 0, tzinfo=datetime.timezone.utc)
    >>> naive_utc(datetime(2026, 1, 1, 9, tzinfo=timezone(timedelta(hours=2))))
    datetime.datetime(2026, 1, 1, 7, 0)
"""

from __future__ import annotations

from datetime import UTC, datetime


def as_utc(value: datetime) -> datetime:
    """``value`` as an aware UTC datetime (a naive one is taken to be UTC already)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def naive_utc(value: datetime) -> datetime:
    """``value`` as a naive UTC datetime, the storage form (a naive one is UTC already)."""
    return as_utc(value).replace(tzinfo=None)
