"""Documents the hub hands out: report tables as CSV, XLSX (with a native chart) and PDF (with
the chart drawn), bar charts as SVG for web pages, and voucher sheets to print and cut.

A capability that imports nothing of the hub: it renders plain values (:class:`Table`), so the
domain's reports, the web console and the admin API share one rendering. CSV is RFC 4180
(UTF-8 with a byte-order mark, so spreadsheet programs detect the encoding); a cell that starts
with ``=``, ``+``, ``-``, ``@``, tab or carriage return is prefixed with ``'`` in CSV and stored
as text in XLSX, so a name chosen by a user never becomes a formula in the finance office.
"""

from __future__ import annotations

from hub_server.documents.charts import BarSeries, bar_chart_svg
from hub_server.documents.table import FORMATS, Column, Table, Value, cell_text, render
from hub_server.documents.vouchers import VoucherCard, voucher_sheet_pdf

__all__ = [
    "FORMATS",
    "BarSeries",
    "Column",
    "Table",
    "Value",
    "VoucherCard",
    "bar_chart_svg",
    "cell_text",
    "render",
    "voucher_sheet_pdf",
]
