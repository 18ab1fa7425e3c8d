"""The quarantine table: where failed records wait, with their reason, to be listed or replayed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.store.ingest.decode import Failure
from gateway.store.ingest.report import Problem, QuarantinedRecord
from gateway.store.tables import quarantine

_max_rows = 1_000_000


class QuarantineFullError(Exception):
    """The quarantine holds ``GATEWAY_QUARANTINE_MAX_ROWS`` records: the chunk that would add
    more is rolled back whole (nothing of it stored) until the quarantine is replayed or
    cleared."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"the quarantine is full ({limit} records, GATEWAY_QUARANTINE_MAX_ROWS): replay or "
            "clear it (gateway ingest --list-quarantine / --replay-quarantine) before sending "
            "more bad records; nothing of this chunk was stored"
        )
        self.limit = limit


def set_quarantine_max_rows(rows: int) -> None:
    """Bound the quarantine (set by the app, the CLI and each parallel worker)."""
    global _max_rows
    _max_rows = rows


MAX_RAW_CHARS = 64 * 1024
"""Longest raw line kept in a quarantine row; a longer one (never a valid record: lines over
1 MiB are refused unread, and real records are far shorter) keeps its start, marked as cut."""


def clean_text(text: str) -> str:
    """``text`` safe for any database text column (PostgreSQL rejects NUL characters)."""
    return text.replace("\x00", "\ufffd")


def as_text(raw: bytes) -> str:
    """A raw line as storable text, without its line terminator (cut past MAX_RAW_CHARS)."""
    if len(raw) > MAX_RAW_CHARS:
        head = raw[:MAX_RAW_CHARS].decode("utf-8", "replace")
        return clean_text(f"{head}… [cut: {len(raw)} bytes]")
    return clean_text(raw.decode("utf-8", "replace").rstrip("\r\n"))


def to_problem(failure: Failure, line: int, source: str) -> Problem:
    """The public :class:`Problem` of a chunk failure at ``line`` of ``source``."""
    kind = clean_text(failure.kind)[:64] if failure.kind is not None else None
    return Problem(line, kind, clean_text(failure.reason), failure.reason_class, source)


async def quarantine_new(
    conn: AsyncConnection, problems: Sequence[Problem], raws: Sequence[bytes]
) -> None:
    """Insert one quarantine row per problem; ``raws[i]`` is the line of ``problems[i]``."""
    if not problems:
        return
    held = await conn.scalar(select(func.count()).select_from(quarantine))
    if int(held or 0) + len(problems) > _max_rows:
        raise QuarantineFullError(_max_rows)
    received = datetime.now(UTC)
    rows = [
        {
            "received_at": received,
            "source": p.source[:1024],
            "line": p.line,
            "kind": p.kind,
            "reason": p.reason,
            "raw": as_text(raw),
            "attempts": 1,
        }
        for p, raw in zip(problems, raws, strict=True)
    ]
    await conn.execute(insert(quarantine), rows)


async def quarantine_retried(
    conn: AsyncConnection, ids: Sequence[int], failed: dict[int, Problem]
) -> None:
    """After a replay: delete rows ``ids`` that succeeded; count another attempt for ``failed``."""
    done = [{"qid": qid} for qid in ids if qid not in failed]
    if done:
        await conn.execute(delete(quarantine).where(quarantine.c.id == bindparam("qid")), done)
    if failed:
        stmt = (
            update(quarantine)
            .where(quarantine.c.id == bindparam("qid"))
            .values(
                attempts=quarantine.c.attempts + 1,
                reason=bindparam("new_reason"),
                kind=bindparam("new_kind"),
            )
        )
        params = [
            {"qid": qid, "new_reason": p.reason, "new_kind": p.kind} for qid, p in failed.items()
        ]
        await conn.execute(stmt, params)


async def quarantine_page(
    conn: AsyncConnection, after_id: int, limit: int
) -> Sequence[Row[Any, Any, Any, Any]]:
    """Rows (id, source, line, raw) with id > ``after_id``, oldest first."""
    q = quarantine.c
    stmt = select(q.id, q.source, q.line, q.raw).where(q.id > after_id).order_by(q.id).limit(limit)
    return (await conn.execute(stmt)).all()


async def list_quarantine(engine: AsyncEngine, *, limit: int = 100) -> list[QuarantinedRecord]:
    """The oldest ``limit`` quarantined records, in arrival order."""
    q = quarantine.c
    stmt = select(quarantine).order_by(q.id).limit(limit)
    async with engine.connect() as conn:
        rows = (await conn.execute(stmt)).all()
    return [
        QuarantinedRecord(
            id=r.id,
            received_at=r.received_at,
            source=r.source,
            line=r.line,
            kind=r.kind,
            reason=r.reason,
            raw=r.raw,
            attempts=r.attempts,
        )
        for r in rows
    ]
