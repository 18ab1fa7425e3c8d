"""Time in the generator: integer UTC seconds, the data window, and fast ISO-8601 formatting.

Formatting ten million timestamps with ``datetime.isoformat`` would dominate the run, so a
timestamp is built from a cached date prefix and a table of the day's 86,400 ``HH:MM:SS``.

Example:
    >>> iso(1_740_873_600 + 3_600, 0)
    '2025-03-02T01:00:00Z'
    >>> iso(1_740_873_600 + 3_600, PLUS_EIGHT)
    '2025-03-02T09:00:00+08:00'
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

DAY = 86_400
"""Seconds in a (UTC) day."""
PLUS_EIGHT = 8 * 3_600
"""The one non-UTC offset used, so that ingestion's conversion to UTC is exercised."""

_EPOCH = date(1970, 1, 1)
_HMS = tuple(f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60))
_SUFFIX = {0: "Z", PLUS_EIGHT: "+08:00"}


@lru_cache(maxsize=4096)
def date_prefix(day: int) -> str:
    """``"YYYY-MM-DDT"`` of the day ``day`` days after 1970-01-01."""
    return f"{_EPOCH + timedelta(days=day)}T"


def iso(seconds: int, offset: int) -> str:
    """ISO-8601 text of the UTC instant ``seconds`` written with ``offset`` (0 or PLUS_EIGHT)."""
    local = seconds + offset
    return date_prefix(local // DAY) + _HMS[local % DAY] + _SUFFIX[offset]


def hms_table() -> tuple[str, ...]:
    """The ``HH:MM:SS`` text of each second of a day (shared with the event formatter)."""
    return _HMS


def suffix(offset: int) -> str:
    """The offset designator for ``offset`` seconds: ``Z`` or ``+08:00``."""
    return _SUFFIX[offset]


@dataclass(frozen=True, slots=True)
class Window:
    """The ``days`` UTC days ending on ``end`` inclusive, as epoch seconds."""

    end: date
    days: int

    @property
    def first_day(self) -> int:
        """Epoch day number of the window's first day."""
        return (self.end - _EPOCH).days - self.days + 1

    @property
    def start(self) -> int:
        """Epoch seconds of the window's first midnight."""
        return self.first_day * DAY

    @property
    def stop(self) -> int:
        """Epoch seconds just after the window (exclusive)."""
        return self.start + self.days * DAY


def today_utc() -> date:
    """The current UTC date (the default end of the window)."""
    return datetime.now(UTC).date()
