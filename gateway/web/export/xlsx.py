"""Sheets as an Excel workbook (openpyxl's write-only mode: rows go straight to the file).

Types come from the GraphQL schema (:mod:`gateway.web.export.flatten`): ``Date`` values are
Excel dates, ``DateTime`` values Excel date-times in UTC (Excel has no time zones), numbers
stay numbers, null stays an empty cell, and text is always text (a name starting with ``=`` is
never a formula).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import IO, Any

import orjson
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.cell.cell import Cell as XlsxCell
from openpyxl.styles import Font, numbers
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from gateway.utc import naive_utc
from gateway.web.export.flatten import Cell
from gateway.web.export.sheets import Sheet

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DATE_FORMAT = numbers.FORMAT_DATE_YYYYMMDD2
"""The number format of ``Date`` cells (``yyyy-mm-dd``), openpyxl's for a ``date``."""
DATETIME_FORMAT = numbers.FORMAT_DATE_DATETIME
"""The number format of ``DateTime`` cells (``yyyy-mm-dd h:mm:ss``), openpyxl's for a
``datetime``."""
_BOLD = Font(bold=True)


def write_xlsx(sheets: Sequence[Sheet], out: IO[bytes]) -> None:
    """Write ``sheets`` as an ``.xlsx`` workbook to ``out`` (a seekable binary file)."""
    workbook = Workbook(write_only=True)
    for sheet in sheets:
        ws = workbook.create_sheet(sheet.name)
        ws.freeze_panes = "A2"
        for number, text in enumerate(sheet.headers, 1):
            width = min(max(len(text) + 2, 12), 48)
            ws.column_dimensions[get_column_letter(number)].width = width
        ws.append([_header(ws, text) for text in sheet.headers])
        for row in sheet.rows:
            ws.append([_cell(ws, cell) for cell in row])
    workbook.save(out)


def _header(ws: WriteOnlyWorksheet, text: str) -> XlsxCell:
    cell = WriteOnlyCell(ws, value=_text(text))
    cell.font = _BOLD
    return cell


def _cell(ws: WriteOnlyWorksheet, cell: Cell) -> Any:
    """A value as openpyxl writes it: a number, a date (openpyxl gives ``date`` values
    :data:`DATE_FORMAT` and ``datetime`` values :data:`DATETIME_FORMAT`), text..."""
    value, type_name = cell
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str) and type_name == "Date":
        return dt.date.fromisoformat(value)
    if isinstance(value, str) and type_name == "DateTime":
        instant = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        return naive_utc(instant)  # spreadsheet cells have no zone
    if isinstance(value, list):
        value = ", ".join("" if v is None else str(v) for v in value)
    elif not isinstance(value, str):
        value = orjson.dumps(value).decode()
    value = _text(value)
    if not value.startswith("="):
        return value
    text = WriteOnlyCell(ws, value=value)
    text.data_type = "s"  # openpyxl would write a formula
    return text


def _text(value: str) -> str:
    """``value`` without the control characters an XML worksheet cannot hold."""
    return ILLEGAL_CHARACTERS_RE.sub("", value)
