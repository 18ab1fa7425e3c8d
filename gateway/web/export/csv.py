"""Sheets as a zip of CSV files: one UTF-8 file per sheet, named after it (``Summary.csv``...).

Values are written as the JSON response has them: dates and date-times as ISO-8601 text,
numbers in full precision, booleans ``true`` / ``false``, null as an empty field, a list of
scalars joined by ``, ``. Text that a spreadsheet would run as a formula (starting with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return) is prefixed with ``'`` (OWASP's advice on CSV
injection); numbers are never changed.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Sequence
from typing import IO

import orjson

from gateway.web.export.flatten import Cell
from gateway.web.export.sheets import Sheet

MEDIA_TYPE = "application/zip"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def write_csv_zip(sheets: Sequence[Sheet], out: IO[bytes]) -> None:
    """Write ``sheets`` to ``out`` as a zip of ``<sheet name>.csv`` files, each streamed."""
    now = dt.datetime.now(dt.UTC).timetuple()[:6]
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for sheet in sheets:
            entry = zipfile.ZipInfo(f"{sheet.name}.csv", date_time=now)
            entry.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(entry, "w") as raw:
                text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
                writer = csv.writer(text)
                writer.writerow([_text(title, "String") for title in sheet.headers])
                for row in sheet.rows:
                    writer.writerow(_cells(row))
                text.flush()
                text.detach()  # the zip entry is closed by its own context


def _text(value: object, type_name: str) -> str:
    """One field's text (see the module doc)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return ", ".join(_text(v, type_name) for v in value)
    if not isinstance(value, str):
        return orjson.dumps(value).decode()
    if type_name not in ("Date", "DateTime") and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def _cells(row: list[Cell]) -> list[str]:
    """A row's fields as text."""
    return [_text(*cell) for cell in row]
