"""PostgreSQL: run a SELECT of integer columns through ``COPY ... TO STDOUT (FORMAT binary)``.

Millions of rows arrive as one buffer that numpy reads in place: with every column a non-null
``int4`` or ``int8``, each binary tuple has the same size, so the whole result is one structured
array (no per-row Python objects, which is what made the refresh slow).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import BigInteger, Integer, Select
from sqlalchemy.ext.asyncio import AsyncConnection

SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
HEADER = len(SIGNATURE) + 8
"""Signature, flags (int32) and header-extension length (int32, 0 for current servers)."""
TRAILER = 2
"""The int16 -1 that ends the data."""


def _width(column: Any) -> int:
    if isinstance(column.type, BigInteger):
        return 8
    if isinstance(column.type, Integer):
        return 4
    raise TypeError(f"column {column.name!r} is not int4 or int8")


def _row_type(stmt: Select[Any]) -> np.dtype[Any]:
    fields: list[tuple[str, str]] = [("_count", ">i2")]
    for column in stmt.selected_columns:
        width = _width(column)
        fields += [(f"_{column.name}_len", ">i4"), (column.name, f">i{width}")]
    return np.dtype(fields)


def _parse(data: bytes, row_type: np.dtype[Any]) -> npt.NDArray[Any]:
    if data[: len(SIGNATURE)] != SIGNATURE or data[HEADER - 4 : HEADER] != b"\0\0\0\0":
        raise ValueError("unexpected COPY binary header")
    body = len(data) - HEADER - TRAILER
    if body % row_type.itemsize:
        raise ValueError("COPY binary rows are not of fixed size (a null value?)")
    return np.frombuffer(data, dtype=row_type, count=body // row_type.itemsize, offset=HEADER)


async def copy_int_columns(
    conn: AsyncConnection, stmt: Select[Any]
) -> dict[str, npt.NDArray[np.int64]]:
    """Run ``stmt`` (non-null ``Integer``/``BigInteger`` columns) and return its columns.

    The statement is compiled by SQLAlchemy with bound parameters, which asyncpg sends with the
    COPY; only this transaction's connection is used.
    """
    compiled = stmt.compile(dialect=conn.dialect)
    params = compiled.construct_params()
    args = [params[name] for name in compiled.positiontup or ()]
    raw = await conn.get_raw_connection()
    driver: Any = raw.driver_connection  # the asyncpg connection of this transaction
    parts: list[bytes] = []

    async def _collect(chunk: bytes) -> None:
        parts.append(bytes(chunk))

    await driver.copy_from_query(str(compiled), *args, output=_collect, format="binary")
    rows = _parse(b"".join(parts), _row_type(stmt))
    return {name: rows[name].astype(np.int64) for name in rows.dtype.names or () if name[0] != "_"}
