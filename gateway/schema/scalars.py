"""The ``DateTime`` and ``Date`` scalars: ISO-8601, always UTC on output.

Registered through :data:`SCALAR_MAP` (``StrawberryConfig.scalar_map``) so that fields are
annotated with plain :class:`datetime.datetime` / :class:`datetime.date`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import strawberry
from strawberry.types.scalar import ScalarDefinition

from gateway.utc import as_utc


def _serialize_datetime(value: dt.datetime) -> str:
    # A naive value here would be a bug upstream; loaders hand out aware UTC datetimes.
    return as_utc(value).isoformat()


def _parse_datetime(value: object) -> dt.datetime:
    if not isinstance(value, str):
        raise ValueError("DateTime must be an ISO-8601 string")
    parsed = dt.datetime.fromisoformat(value)
    return as_utc(parsed)


def _parse_date(value: object) -> dt.date:
    if not isinstance(value, str):
        raise ValueError("Date must be a YYYY-MM-DD string")
    return dt.date.fromisoformat(value)


DATETIME = strawberry.scalar(
    name="DateTime",
    description=(
        "An instant as an ISO-8601 date-time with offset, e.g. `2024-05-01T08:30:00+00:00`. "
        "Output is always UTC; input without an offset is read as UTC."
    ),
    serialize=_serialize_datetime,
    parse_value=_parse_datetime,
)

DATE = strawberry.scalar(
    name="Date",
    description="A UTC calendar day as an ISO-8601 date, e.g. `2024-05-01`.",
    serialize=dt.date.isoformat,
    parse_value=_parse_date,
)

SCALAR_MAP: Mapping[object, ScalarDefinition] = {dt.datetime: DATETIME, dt.date: DATE}
"""Python type -> GraphQL scalar, for ``StrawberryConfig(scalar_map=...)``."""
