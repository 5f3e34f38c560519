"""The XLSX export of a report table, read back with openpyxl: text that looks like a formula or
an error stays text, money keeps its two-decimal format, totals are bold, plain values plain."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import openpyxl

from hub_server.documents.table import Column, Table, to_xlsx

COLUMNS = (Column("name", "Name", "text"), Column("jobs", "Jobs"), Column("charged", "Charged", "cents"))


def read_back(table: Table) -> list[list[Any]]:
    book = openpyxl.load_workbook(io.BytesIO(to_xlsx(table)))
    sheet = book.active
    assert sheet is not None
    return [list(row) for row in sheet.iter_rows(min_row=4)]


def test_text_that_looks_like_a_formula_or_an_error_stays_text() -> None:
    names = ['=HYPERLINK("http://x")', "#N/A", "+1", "Anna", "-"]
    rows = read_back(Table("Usage", "March", COLUMNS, [[name, 1, 100] for name in names]))
    assert [(row[0].value, row[0].data_type) for row in rows] == [(name, "s") for name in names]


def test_money_keeps_two_decimals_and_totals_are_bold() -> None:
    table = Table(
        "Usage",
        "March",
        COLUMNS,
        [["Anna", 3, 1234], ["Ben", 0, None], ["Cleo", 7, -5]],
        totals=["Total", 10, 1229],
    )
    rows = read_back(table)
    assert [[cell.value for cell in row] for row in rows] == [
        ["Anna", 3, 12.34],
        ["Ben", 0, None],
        ["Cleo", 7, -0.05],
        ["Total", 10, 12.29],
    ]
    assert Decimal(str(rows[0][2].value)) == Decimal("12.34")
    assert [row[2].number_format for row in rows if row[2].value is not None] == ["0.00"] * 3
    assert [row[1].data_type for row in rows] == ["n"] * 4
    assert [cell.font.b for cell in rows[-1]] == [True, True, True]
    assert not any(cell.font.b for cell in rows[0])
