"""A report table and its three export formats.

Money is integer cents everywhere: CSV and PDF print it with two decimals, XLSX stores the
exact decimal value with a two-decimal number format. Nothing is a float but percentages.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal, cast

__all__ = ["FORMATS", "Column", "Table", "cell_text", "render"]

ColumnKind = Literal["text", "count", "cents", "percent", "grams"]
Value = str | int | float | None
FORMATS = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "pdf": ("application/pdf", "pdf"),
}
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PDF_ROWS_MAX = 2000  # a PDF is for reading: longer tables are cut (CSV and XLSX have every row)


@dataclass(frozen=True)
class Column:
    """One column: its key, its heading and what its values are."""

    key: str
    heading: str
    kind: ColumnKind = "count"


@dataclass(frozen=True)
class Table:
    """A report: rows of values under ``columns``, their totals, what to chart, and notes (the
    factors a figure rests on, with their sources)."""

    title: str
    subtitle: str
    columns: Sequence[Column]
    rows: Sequence[Sequence[Value]]
    totals: Sequence[Value] | None = None
    chart_columns: Sequence[int] = ()  # indices of the columns drawn as bars (stacked)
    label_column: int = 0
    notes: Sequence[str] = field(default_factory=tuple)
    chart_rows_max: int = 15

    def chart_rows(self) -> list[Sequence[Value]]:
        """The rows the chart shows: the first ``chart_rows_max`` (reports come sorted)."""
        return list(self.rows[: self.chart_rows_max])


def cents_text(cents: int) -> str:
    """``1234`` -> ``12.34``; ``-5`` -> ``-0.05``."""
    return f"{Decimal(cents).scaleb(-2):.2f}"


def cell_text(column: Column, value: Value) -> str:
    """A value as plain text (CSV, PDF)."""
    if value is None:
        return ""
    if column.kind == "cents":
        return cents_text(int(value))
    if column.kind == "percent":
        return f"{float(value):.1f}"
    return str(value)


def _safe_text(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def to_csv(table: Table) -> bytes:
    """RFC 4180 CSV with a header line and, when the table has totals, a last line of them."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([column.heading for column in table.columns])
    lines = [*table.rows, *([table.totals] if table.totals is not None else [])]
    for row in lines:
        writer.writerow(
            [
                _safe_text(cell_text(column, value)) if column.kind == "text" else cell_text(column, value)
                for column, value in zip(table.columns, row, strict=True)
            ]
        )
    return ("\ufeff" + buffer.getvalue()).encode()


def _xlsx_value(column: Column, value: Value) -> Value | Decimal:
    if value is None:
        return None
    if column.kind == "cents":
        return Decimal(int(value)).scaleb(-2)
    if column.kind == "text":
        return str(value)
    return value


def to_xlsx(table: Table) -> bytes:
    """A workbook with the table (totals last, bold) and a native bar chart of its first rows."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ERROR_CODES
    from openpyxl.chart import BarChart, Reference
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=table.title[:31] or "report")
    sheet.append([table.title])
    sheet.append([table.subtitle])
    sheet.append([column.heading for column in table.columns])
    first_data_row = 4

    def cells(row: Sequence[Value], bold: bool = False) -> list[Any]:
        # A plain value where one will do: openpyxl takes a cell object only after its plain
        # value path has refused it, which made most of the cost of a large export.
        out: list[Any] = []
        for column, value in zip(table.columns, row, strict=True):
            plain = _xlsx_value(column, value)
            formula_like = isinstance(plain, str) and (plain.startswith("=") or plain in ERROR_CODES)
            if not (bold or formula_like or (column.kind == "cents" and plain is not None)):
                out.append(plain)
                continue
            cell = WriteOnlyCell(sheet, value=cast(Any, plain))
            if column.kind == "text":
                cell.data_type = "s"  # a name starting with "=" (or "#N/A") stays text
            elif column.kind == "cents":
                cell.number_format = "0.00"
            if bold:
                cell.font = Font(bold=True)
            out.append(cell)
        return out

    for row in table.rows:
        sheet.append(cells(row))
    if table.totals is not None:
        sheet.append(cells(table.totals, bold=True))
    for note in table.notes:
        sheet.append([note])
    charted = min(len(table.rows), table.chart_rows_max)
    if table.chart_columns and charted:
        chart = BarChart()
        chart.type = "bar"
        chart.grouping = "stacked"
        chart.overlap = 100
        chart.title = table.title
        last = first_data_row + charted - 1
        for index in table.chart_columns:
            data = Reference(sheet, min_col=index + 1, min_row=first_data_row - 1, max_row=last)
            chart.add_data(data, titles_from_data=True)
        labels = Reference(sheet, min_col=table.label_column + 1, min_row=first_data_row, max_row=last)
        chart.set_categories(labels)
        chart.height, chart.width = 10, 20
        sheet.add_chart(chart, "A" + str(first_data_row + len(table.rows) + len(table.notes) + 3))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def to_pdf(table: Table) -> bytes:
    """An A4 landscape PDF: title, the chart (drawn, vector), the table, the notes."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer, TableStyle

    from hub_server.documents.charts import pdf_bar_chart

    styles = getSampleStyleSheet()
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer, pagesize=landscape(A4), leftMargin=12 * mm, rightMargin=12 * mm, title=table.title
    )
    story: list[Any] = [
        Paragraph(_pdf_text(table.title), styles["Title"]),
        Paragraph(_pdf_text(table.subtitle), styles["Normal"]),
        Spacer(1, 4 * mm),
    ]
    if table.chart_columns and table.rows:
        story += [pdf_bar_chart(table, width_pt=landscape(A4)[0] - 24 * mm), Spacer(1, 4 * mm)]
    rows = list(table.rows[:PDF_ROWS_MAX])
    body = [[column.heading for column in table.columns]]
    body += [[cell_text(c, v) for c, v in zip(table.columns, row, strict=True)] for row in rows]
    if table.totals is not None:
        body.append([cell_text(c, v) for c, v in zip(table.columns, table.totals, strict=True)])
    grid = LongTable(body, repeatRows=1)
    style: list[Any] = [
        ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 8),
        ("FONT", (0, 1), (-1, -1), "Helvetica", 8),
        ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.black),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f0f3f6")]),
    ]
    for index, column in enumerate(table.columns):
        if column.kind != "text":
            style.append(("ALIGN", (index, 0), (index, -1), "RIGHT"))
    if table.totals is not None:
        style += [
            ("FONT", (0, -1), (-1, -1), "Helvetica-Bold", 8),
            ("LINEABOVE", (0, -1), (-1, -1), 0.5, colors.black),
        ]
    grid.setStyle(TableStyle(style))
    story.append(grid)
    notes = list(table.notes)
    if len(table.rows) > PDF_ROWS_MAX:
        notes.insert(0, f"The first {PDF_ROWS_MAX} of {len(table.rows)} rows; CSV and XLSX have all of them.")
    for note in notes:
        story += [Spacer(1, 2 * mm), Paragraph(_pdf_text(note), styles["Italic"])]
    document.build(story)
    return buffer.getvalue()


def _pdf_text(text: str) -> str:
    # reportlab paragraphs take a little markup: a name with "<" must stay text
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_RENDERERS: dict[str, Callable[[Table], bytes]] = {"csv": to_csv, "xlsx": to_xlsx, "pdf": to_pdf}


def render(table: Table, fmt: str) -> bytes:
    """``table`` as ``csv``, ``xlsx`` or ``pdf`` (:data:`FORMATS`); ValueError for another."""
    if fmt not in _RENDERERS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    return _RENDERERS[fmt](table)
