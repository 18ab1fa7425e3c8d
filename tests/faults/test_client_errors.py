"""Database failures as client errors (:mod:`gateway.store.db_faults`), and the one retry of an
idempotent read."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.errors import (
    BadUserInputError,
    QueryTimeoutError,
    ServiceUnavailableError,
)
from gateway.settings import Settings
from gateway.store.db_faults import RETRY_AFTER_SECONDS, client_error, read_retrying
from tests.cache_http.support import http_settings, serve
from tests.principals import ADMIN
from tests.schema.catalog_data import insert_catalog


class _PgError(Exception):
    """Stands for a driver error carrying a PostgreSQL SQLSTATE."""

    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def _wrapped(orig: BaseException) -> OperationalError:
    return OperationalError("SELECT 1", {}, orig)


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        (_wrapped(_PgError("57014")), QueryTimeoutError),
        (_wrapped(sqlite3.OperationalError("interrupted")), QueryTimeoutError),
        (_wrapped(ConnectionRefusedError(111, "refused")), ServiceUnavailableError),
        (ConnectionResetError(), ServiceUnavailableError),
        (TimeoutError(), ServiceUnavailableError),  # a connect that timed out
        (_wrapped(_PgError("57P01")), ServiceUnavailableError),  # admin shutdown
        (_wrapped(_PgError("57P03")), ServiceUnavailableError),  # starting up
        (_wrapped(_PgError("08006")), ServiceUnavailableError),
        (_wrapped(_PgError("22021")), BadUserInputError),  # NUL in a text parameter
        (_wrapped(_PgError("42P01")), type(None)),  # a bug: stays an internal error
        (ValueError("x"), type(None)),
    ],
)
def test_client_error_classifies_database_failures(
    failure: BaseException, expected: type[object]
) -> None:
    assert isinstance(client_error(failure), expected)


def test_unavailable_tells_when_to_retry() -> None:
    error = client_error(ConnectionRefusedError())
    assert isinstance(error, ServiceUnavailableError)
    assert error.extensions == {"retryAfter": RETRY_AFTER_SECONDS, "code": "SERVICE_UNAVAILABLE"}
    assert "127.0.0.1" not in error.message


async def test_a_read_that_lost_its_connection_runs_once_more() -> None:
    attempts: list[int] = []

    async def read() -> str:
        attempts.append(1)
        if len(attempts) == 1:
            raise _wrapped(ConnectionResetError())
        return "rows"

    assert await read_retrying(read) == "rows"
    assert len(attempts) == 2


async def test_a_read_failing_twice_is_unavailable_and_other_errors_are_not_retried() -> None:
    attempts: list[int] = []

    async def down() -> None:
        attempts.append(1)
        raise ConnectionRefusedError

    with pytest.raises(ServiceUnavailableError):
        await read_retrying(down)
    assert len(attempts) == 2

    async def broken() -> None:
        attempts.append(1)
        raise ValueError("a bug")

    with pytest.raises(ValueError, match="a bug"):
        await read_retrying(broken)
    assert len(attempts) == 3


async def test_a_nul_in_an_id_is_a_client_error_not_an_internal_one(
    settings: Settings, engine: AsyncEngine
) -> None:
    """Found by the schemathesis run: PostgreSQL text cannot hold NUL."""
    await insert_catalog(engine)
    async with serve(http_settings(settings, None)) as gateway:
        answer = await gateway.ask(
            ADMIN, '{ workspace(id: "ws\\u0000") { name } targetApp(id: "app-1") { name } }'
        )
    assert answer.status == 200
    assert answer.data["targetApp"] == {"name": "Wallet"}
    assert answer.data["workspace"] is None
    # PostgreSQL refuses the text (BAD_USER_INPUT); SQLite finds no such workspace.
    assert answer.errors in ([(("workspace",), "BAD_USER_INPUT")], [(("workspace",), "NOT_FOUND")])


async def test_a_null_variable_for_a_defaulted_non_null_argument_is_bad_user_input(
    settings: Settings, engine: AsyncEngine
) -> None:
    """Found by the time-range fuzz test: ``series(granularity:)`` is ``Granularity! = DAY``;
    a nullable variable sent as null only fails during execution, and is the client's
    mistake, not an internal error."""
    await insert_catalog(engine)
    query = """query ($g: Granularity) { workspace(id: "ws-1") { name
      launches(timeRange: {preset: LAST_7_DAYS}) { value series(granularity: $g) { value } } } }"""
    async with serve(http_settings(settings, None)) as gateway:
        answer = await gateway.ask(ADMIN, query, variables={"g": None})
    assert answer.status == 200
    assert answer.errors == [(("workspace", "launches", "series"), "BAD_USER_INPUT")]
    assert "granularity" in answer.body["errors"][0]["message"]
    assert answer.data["workspace"]["name"] == "Alpha"
