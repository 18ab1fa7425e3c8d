"""The xlsx and CSV writers: typed cells, text that stays text, one CSV per sheet."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl

from gateway.web.export.csv import write_csv_zip
from gateway.web.export.sheets import Sheet
from gateway.web.export.xlsx import DATETIME_FORMAT, write_xlsx
from tests.export.support import unzip_csv

ROW = [
    ("2024-03-01", "Date"),
    ("2024-03-01T08:30:00+08:00", "DateTime"),
    ("2024-03-01", "String"),
    ('=HYPERLINK("http://x")', "String"),
    ("-5 apples", "String"),
    (-5, "Int"),
    (0.1, "Float"),
    (True, "Boolean"),
    (None, "Float"),
    (["a", "b"], "String"),
    ("Caf\u00e9 \x07bell", "String"),
]
HEADERS = [f"C{n}" for n in range(len(ROW))]


def sheets() -> list[Sheet]:
    return [Sheet("Summary", ["Field path", "Value"], []), Sheet("data", HEADERS, [list(ROW)])]


def test_xlsx_cells_have_the_graphql_types() -> None:
    out = io.BytesIO()
    write_xlsx(sheets(), out)
    book = openpyxl.load_workbook(io.BytesIO(out.getvalue()))
    assert book.sheetnames == ["Summary", "data"]
    ws = book["data"]
    assert [c.value for c in ws[1]] == HEADERS
    assert ws["A1"].font.bold
    cells = ws[2]
    assert cells[0].value == dt.datetime(2024, 3, 1)
    assert cells[0].number_format == "yyyy-mm-dd"
    assert cells[1].value == dt.datetime(2024, 3, 1, 0, 30)  # UTC
    assert cells[1].number_format == DATETIME_FORMAT
    assert cells[2].value == "2024-03-01"  # a String that looks like a date stays text
    assert cells[3].data_type == "s"  # never a formula
    assert cells[3].value == '=HYPERLINK("http://x")'
    assert [c.value for c in cells[4:9]] == ["-5 apples", -5, 0.1, True, None]
    assert cells[5].data_type == "n"
    assert cells[9].value == "a, b"
    assert cells[10].value == "Café bell"  # control characters cannot be stored in xlsx


def test_csv_zip_has_a_file_per_sheet_as_json_says() -> None:
    out = io.BytesIO()
    write_csv_zip(sheets(), out)
    files = unzip_csv(out.getvalue())
    assert list(files) == ["Summary.csv", "data.csv"]
    assert files["Summary.csv"] == [["Field path", "Value"]]
    header, row = files["data.csv"]
    assert header == HEADERS
    assert row == [
        "2024-03-01",
        "2024-03-01T08:30:00+08:00",
        "2024-03-01",
        '\'=HYPERLINK("http://x")',  # CSV injection: a spreadsheet would run it
        "'-5 apples",
        "-5",  # numbers never change
        "0.1",
        "true",
        "",
        "a, b",
        "Caf\u00e9 \x07bell",
    ]
