"""Database faults as client errors, and one retry of idempotent reads.

Three failures of the database are the client's business, with a stable code and a fixed
message (the driver's text may name the host, the user or the SQL, so it is never sent):

* a statement past ``GATEWAY_DB_STATEMENT_TIMEOUT_MS`` (PostgreSQL ``57014``
  ``query_canceled``, SQLite ``interrupted``) → :class:`~gateway.errors.QueryTimeoutError`;
* a database that cannot be reached (refused or timed-out connect, a connection lost, a
  server shutting down or starting up) → :class:`~gateway.errors.ServiceUnavailableError`;
* a text argument PostgreSQL cannot hold (a NUL character: ``22021``, ``22P05``; found by
  the fuzz tests) → :class:`~gateway.errors.BadUserInputError`.

:func:`read_retrying` runs a read once more on a fresh connection when the first attempt lost
its connection: after a PostgreSQL restart the pool's connections are dead, pre-ping replaces
most of them at checkout, and the retry covers a connection that died between the ping and
the statement. Reads only: a write must not be repeated behind its caller's back.

Example:
    >>> rows = await read_retrying(lambda: load(engine))   # doctest: +SKIP
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from typing import TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from gateway.errors import (
    BadUserInputError,
    GatewayError,
    QueryTimeoutError,
    ServiceUnavailableError,
)

logger = logging.getLogger("gateway.store.db_faults")

T = TypeVar("T")

RETRY_AFTER_SECONDS = 5
"""What a client is told to wait (``Retry-After``, ``extensions.retryAfter``) while the
database is unavailable."""

UNAVAILABLE_MESSAGE = "the database is unavailable; retry later"
TIMEOUT_MESSAGE = "a database statement ran past the statement timeout; narrow the query"
BAD_TEXT_MESSAGE = "a text argument holds a character that cannot be stored (NUL)"

_DISCONNECT_STATES = frozenset({"57P01", "57P02", "57P03"})
"""admin_shutdown, crash_shutdown, cannot_connect_now (PostgreSQL); class 08 too."""
_CANCELED_STATE = "57014"
"""query_canceled: what ``statement_timeout`` raises."""
_BAD_TEXT_STATES = frozenset({"22021", "22P05"})
"""character_not_in_repertoire, untranslatable_character: a NUL in a text parameter."""


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc``, the driver errors it wraps (``.orig``) and its causes."""
    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        item = stack.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        orig = getattr(item, "orig", None)
        stack += [orig if isinstance(orig, BaseException) else None, item.__cause__]


def _sqlstate(exc: BaseException) -> str:
    state = getattr(exc, "sqlstate", None) or getattr(exc, "pgcode", None)
    return state if isinstance(state, str) else ""


def is_timeout(exc: BaseException) -> bool:
    """True when ``exc`` is a statement cancelled by the statement timeout."""
    for item in _chain(exc):
        if _sqlstate(item) == _CANCELED_STATE:
            return True
        if isinstance(item, sqlite3.OperationalError) and "interrupted" in str(item):
            return True
    return False


def is_unavailable(exc: BaseException) -> bool:
    """True when ``exc`` says the database cannot be reached (see the module docstring)."""
    for item in _chain(exc):
        if isinstance(item, DBAPIError) and item.connection_invalidated:
            return True
        if isinstance(item, OSError):  # refused, reset, unreachable, connect timeout
            return True
        if isinstance(item, PoolTimeoutError):  # every pooled connection busy past the wait
            return True
        state = _sqlstate(item)
        if state.startswith("08") or state in _DISCONNECT_STATES:
            return True
    return False


def client_error(exc: BaseException) -> GatewayError | None:
    """The client error ``exc`` stands for, or None when it is none of the faults above."""
    if isinstance(exc, GatewayError):
        return exc
    if is_timeout(exc):
        return QueryTimeoutError(TIMEOUT_MESSAGE)
    if any(_sqlstate(item) in _BAD_TEXT_STATES for item in _chain(exc)):
        return BadUserInputError(BAD_TEXT_MESSAGE)
    if is_unavailable(exc):
        return ServiceUnavailableError(UNAVAILABLE_MESSAGE, retry_after=RETRY_AFTER_SECONDS)
    return None


@asynccontextmanager
async def db_faults() -> AsyncIterator[None]:
    """Raise the block's database faults as client errors (others pass unchanged)."""
    try:
        yield
    except GatewayError:
        raise
    except Exception as exc:
        error = client_error(exc)
        if error is None:
            raise
        raise error from exc


async def read_retrying(read: Callable[[], Awaitable[T]]) -> T:
    """``await read()``, once more if the first attempt lost its connection; faults raised
    as client errors (see :func:`db_faults`). ``read`` must be idempotent and open its own
    connection."""
    try:
        return await read()
    except GatewayError:
        raise
    except Exception as exc:
        if not is_unavailable(exc):
            error = client_error(exc)
            if error is None:
                raise
            raise error from exc
        logger.warning("database read failed (%s); retrying once", type(exc).__name__)
    async with db_faults():
        return await read()
