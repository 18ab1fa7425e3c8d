"""Event records: check their references, drop repeated ids, build their table rows.

Rows are tuples in table-column order, built by one list comprehension per kind: after
decoding, the only per-record Python work. :mod:`gateway.store.ingest.bulk` writes them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from operator import attrgetter
from typing import Any

from gateway.domain import DataType
from gateway.store import partitions
from gateway.store.audience_codes import platform_code, region_code
from gateway.store.ingest.catalog import CatalogView, Reference
from gateway.store.ingest.report import INVALID_VALUE
from gateway.store.records import EventRecord

Row = tuple[Any, ...]

_PRODUCTION = DataType.PRODUCTION
_AT = attrgetter("at")
_YEAR = attrgetter("at.year")
_ID = attrgetter("id")
_USER = attrgetter("user_guid")
_APP_AND_PROGRAM = attrgetter("target_app_id", "mini_program_id")


_EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
_LATEST = datetime(9999, 12, 30, tzinfo=UTC)
OUT_OF_RANGE = "timestamp out of range: years 1-9999 in UTC"
"""Reason of a record whose timestamp leaves years 1-9999 once converted to UTC."""
FROM_THE_FUTURE = "from the future"
"""Reason class of an event dated past the clock-skew tolerance after it was received."""

TOO_OLD = "too old"
"""Reason class of an event dated before the raw events' retained window."""

TOO_MANY_DAYS = "too many new days"
"""Reason class of an event on a day the store had no room to add in one chunk."""

CONFLICTING_REPLAY = "conflicting replay"
"""Reason class of an event whose ``id`` names a different event already stored or sent."""


def conflict_reason(event_id: str) -> str:
    """Why an event with an id already taken by different content is quarantined."""
    return (
        f"id {event_id!r} was already received with different content; the first event stays "
        "counted (an event's id names one event: send a new id for a new event)"
    )


_clock_skew = timedelta(seconds=3600)


def set_max_clock_skew(seconds: float) -> None:
    """How far past its receipt an event may be dated (``GATEWAY_MAX_CLOCK_SKEW_SECONDS``);
    set by the app and the CLI from their settings, and by each parallel ingest worker."""
    global _clock_skew
    _clock_skew = timedelta(seconds=seconds)


_retention_days = 0


def set_raw_event_retention(days: int) -> None:
    """How many UTC days of raw events are kept (``GATEWAY_RAW_EVENT_RETENTION_DAYS``, 0: all);
    set with the clock skew by :func:`gateway.store.ingest.bounds.configure_ingest`."""
    global _retention_days
    _retention_days = days


def retained_from(now: datetime, days: int) -> datetime | None:
    """The first instant of the retained window of ``days`` UTC days ending today (None when
    ``days`` is 0: every day is kept)."""
    if days <= 0:
        return None
    first = now.astimezone(UTC).date() - timedelta(days=days - 1)
    return datetime.combine(first, datetime.min.time(), UTC)


def _too_old_reason(oldest: datetime) -> str:
    return (
        f"the event is dated before {oldest.date().isoformat()}, the first day whose raw events "
        f"are kept (GATEWAY_RAW_EVENT_RETENTION_DAYS={_retention_days}): older days are final "
        "in the rollups and a replay could no longer be recognised"
    )


def _too_many_days_reason() -> str:
    return (
        f"the chunk spreads its events over more than {partitions.NEW_DAYS_PER_CHUNK} UTC days "
        "the store did not hold yet; replay the quarantine (gateway ingest --replay-quarantine) "
        "to store the next ones"
    )


def _future_reason(latest: datetime) -> str:
    return (
        f"the event is dated after {latest.isoformat(timespec='seconds')}, more than "
        f"{int(_clock_skew.total_seconds())} s after it was received "
        "(GATEWAY_MAX_CLOCK_SKEW_SECONDS)"
    )


_EPOCH = datetime(2000, 1, 1)
_EPOCH_UTC = _EPOCH.replace(tzinfo=UTC)

EventKey = tuple[str, int]
"""What names a stored event (SPEC §2): its ``id`` and UTC day (days since 2000-01-01)."""


def event_key(record: EventRecord) -> EventKey:
    """The key of ``record``: a replay has the same id on the same UTC day."""
    return record.id, (record.at - _EPOCH_UTC).days


def event_keys(records: Iterable[EventRecord]) -> list[EventKey]:
    """:func:`event_key` of each of ``records``, in order."""
    epoch = _EPOCH_UTC
    return [(r.id, (r.at - epoch).days) for r in records]


def key_day(days: int) -> date:
    """The UTC date of an :data:`EventKey`'s day number."""
    return _EPOCH.date() + timedelta(days=days)


def split_keys(keys: Iterable[EventKey]) -> tuple[list[str], list[date]]:
    """The distinct ids and UTC dates of ``keys``, sorted: what a probe of them binds."""
    keys = list(keys)
    return sorted({key[0] for key in keys}), sorted({key_day(key[1]) for key in keys})


def day_number(day: date) -> int:
    """The day number of UTC date ``day`` (the inverse of :func:`key_day`)."""
    return (day - _EPOCH.date()).days


def _sqlite_time(moment: datetime) -> str:
    # The exact text SQLAlchemy's SQLite DateTime type writes and parses back.
    return moment.isoformat(" ", "microseconds")


def day_span(groups: Iterable[list[EventRecord]]) -> tuple[int, int] | None:
    """Day numbers of the oldest and newest of the records of ``groups`` (None: no record)."""
    epoch = _EPOCH_UTC
    days = [(r.at - epoch).days for records in groups for r in records]
    return (min(days), max(days)) if days else None


def _window() -> tuple[datetime | None, datetime]:
    """The first instant kept (None: every day is) and the latest accepted, received now."""
    now = datetime.now(UTC)
    return retained_from(now, _retention_days), min(_LATEST, now + _clock_skew)


def window_days(records: Iterable[EventRecord]) -> set[int]:
    """The day numbers of ``records`` dated inside the window ingestion accepts (not too old,
    not from the future): the days whose partitions their chunk needs."""
    oldest, latest = _window()
    first = day_number((oldest or _EARLIEST).date())
    last = day_number(latest.astimezone(UTC).date())
    epoch = _EPOCH_UTC
    days = {(r.at - epoch).days for r in records}
    return {day for day in days if first <= day <= last}


def screen_events(
    records: list[tuple[int, EventRecord]],
    view: CatalogView,
    guids: set[str],
    refused: frozenset[int] = frozenset(),
) -> tuple[list[EventRecord], list[tuple[int, Reference]], int]:
    """Split ``records`` into storable ones, reference failures and repeated ids.

    A record whose key (:func:`event_key`) appeared earlier in ``records`` is a repeat; one
    dated on a day number of ``refused`` (no partition could be made for it) is quarantined.
    Storable records add their user to ``guids``.

    Returns:
        ``(storable, failures as (position, (reason_class, reason)), repeats)``.
    """
    events = [r for _, r in records]
    if not events:
        return [], [], 0
    pairs = set(map(_APP_AND_PROGRAM, events))
    bad = {pair for pair in pairs if view.check_event(*pair) is not None}
    # Years 2-9998 stay in range whatever their offset; comparing plain ints is 15x faster
    # than comparing aware datetimes, so only a chunk with extreme years compares those.
    oldest, latest = _window()  # received now: none dated later than latest
    earliest = _EARLIEST if oldest is None else max(_EARLIEST, oldest)
    years = set(map(_YEAR, events))
    in_range = min(years) >= earliest.year + 1 and max(years) <= latest.year - 1
    if not in_range:
        ats = list(map(_AT, events))
        in_range = min(ats) >= earliest and max(ats) <= latest
    # Fast path, the usual case: whole-list operations in C, no per-record branching.
    ids = list(map(_ID, events))
    if not bad and in_range and not refused and len(set(ids)) == len(events):
        guids.update(map(_USER, events))
        return events, [], 0
    storable: list[EventRecord] = []
    failures: list[tuple[int, Reference]] = []
    seen: dict[EventKey, EventRecord] = {}
    for position, rec in records:
        key = event_key(rec)
        problem = view.check_event(rec.target_app_id, rec.mini_program_id)
        if problem is None and not _EARLIEST <= rec.at <= _LATEST:
            problem = (INVALID_VALUE, OUT_OF_RANGE)
        elif problem is None and rec.at > latest:
            problem = (FROM_THE_FUTURE, _future_reason(latest))
        elif problem is None and oldest is not None and rec.at < oldest:
            problem = (TOO_OLD, _too_old_reason(oldest))
        elif problem is None and key[1] in refused:
            problem = (TOO_MANY_DAYS, _too_many_days_reason())
        elif problem is None and key in seen and seen[key] != rec:
            problem = (CONFLICTING_REPLAY, conflict_reason(rec.id))
        if problem is not None:
            failures.append((position, problem))
        elif key in seen:
            continue  # a replay of the same event: stored once
        else:
            seen[key] = rec
            guids.add(rec.user_guid)
            storable.append(rec)
    return storable, failures, len(records) - len(storable) - len(failures)


def build_rows(
    kind: str, records: list[Any], batch_id: int, uids: dict[str, int], postgres: bool
) -> list[Row]:
    """Tuples of the event table of ``kind``, in column order.

    ``at`` becomes naive UTC and ``day`` its date: Python values for PostgreSQL, the text
    SQLAlchemy writes for SQLite.
    """
    rows = list(iter_rows(kind, records, batch_id, uids))
    if not postgres:
        rows = [(r[0], r[1], _sqlite_time(r[2]), r[3].isoformat(), *r[4:]) for r in rows]
    return rows


class LazyRows:
    """The rows of :func:`build_rows` (PostgreSQL form), built anew on each iteration.

    Given to a COPY, the rows are built while the database consumes the ones before: the
    Python and the database work of a chunk's transaction overlap.
    """

    def __init__(self, kind: str, records: list[Any], batch_id: int, uids: dict[str, int]):
        self.kind, self.records, self.batch_id, self.uids = kind, records, batch_id, uids

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[Row]:
        return iter_rows(self.kind, self.records, self.batch_id, self.uids)


def iter_rows(kind: str, records: list[Any], batch_id: int, uids: dict[str, int]) -> Iterator[Row]:
    """The rows of ``records`` of ``kind`` one by one, ``at`` as a naive UTC datetime and
    ``day`` its UTC date."""
    prod, epoch, epoch_utc, b = _PRODUCTION, _EPOCH, _EPOCH_UTC, batch_id
    pc, rc = platform_code, region_code
    # One generator per kind, helpers inlined: this is the per-event hot path. Naive UTC as
    # "naive epoch + (aware - aware epoch)": two C operations, 4x faster than
    # astimezone(UTC).replace(tzinfo=None).
    if kind == "pageView":
        return (
            (r.id, b, (n := epoch + (r.at - epoch_utc)), n.date(),
             r.target_app_id, r.mini_program_id, uids[r.user_guid],
             "PRODUCTION" if r.data_type is prod else "NON_PRODUCTION", r.page, r.duration_ms,
             pc(r.platform), rc(r.region))
            for r in records
        )  # fmt: skip
    if kind == "adImpression":
        return (
            (r.id, b, (n := epoch + (r.at - epoch_utc)), n.date(),
             r.target_app_id, r.mini_program_id, uids[r.user_guid],
             "PRODUCTION" if r.data_type is prod else "NON_PRODUCTION", r.valid, r.revenue_micros,
             pc(r.platform), rc(r.region))
            for r in records
        )  # fmt: skip
    return (
        (r.id, b, (n := epoch + (r.at - epoch_utc)), n.date(),
         r.target_app_id, r.mini_program_id, uids[r.user_guid],
         "PRODUCTION" if r.data_type is prod else "NON_PRODUCTION", pc(r.platform), rc(r.region))
        for r in records
    )  # fmt: skip
