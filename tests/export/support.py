"""Helpers of the export tests: asking ``/export`` and ``/graphql`` the same thing, reading
the files back."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Mapping
from typing import Any

import httpx
import openpyxl
import orjson
from openpyxl.workbook import Workbook

from gateway.authz.principal import Principal
from tests.cache_http.support import Gateway

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def export(
    gateway: Gateway,
    who: Principal | None,
    query: str,
    variables: Mapping[str, Any] | None = None,
    fmt: str | None = "xlsx",
    **extra: Any,
) -> httpx.Response:
    """POST ``query`` to ``/export`` as ``who`` (None: no credentials)."""
    payload: dict[str, Any] = {"query": query, **extra}
    if variables is not None:
        payload["variables"] = variables
    if fmt is not None:
        payload["format"] = fmt
    headers = {"Content-Type": "application/json"}
    if who is not None:
        headers |= gateway.headers(who)
    return await gateway.http.post("/export", content=orjson.dumps(payload), headers=headers)


def workbook(response: httpx.Response) -> Workbook:
    """The xlsx file of a successful export, opened with openpyxl."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX
    return openpyxl.load_workbook(io.BytesIO(response.content))


def rows(book: Workbook, name: str) -> list[tuple[Any, ...]]:
    """The rows of sheet ``name``, the header row first."""
    return list(book[name].iter_rows(values_only=True))


def csv_files(response: httpx.Response) -> dict[str, list[list[str]]]:
    """The CSV files of a successful zip export: file name -> rows (header first)."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    return unzip_csv(response.content)


def unzip_csv(content: bytes) -> dict[str, list[list[str]]]:
    """The CSV files of a zip: file name -> rows (header first)."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {
            name: list(csv.reader(io.StringIO(archive.read(name).decode("utf-8"), newline="")))
            for name in archive.namelist()
        }


def summary(book: Workbook) -> dict[str, Any]:
    """The Summary sheet's rows as ``{field path: value}`` (labels included)."""
    return {row[0]: row[1] for row in rows(book, "Summary")[1:] if row[0] is not None}
