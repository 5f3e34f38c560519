"""Bar charts: SVG for web pages (no script, no inline style: colours come from CSS classes
``series-0``, ``series-1`` ... so a strict Content-Security-Policy holds) and the same chart
drawn into PDFs with reportlab's graphics."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape, quoteattr

if TYPE_CHECKING:
    from reportlab.graphics.shapes import Drawing

    from hub_server.documents.table import Table

__all__ = ["PDF_COLOURS", "BarSeries", "bar_chart_svg", "pdf_bar_chart"]

ROW_PX = 22
LABEL_PX = 170
WIDTH_PX = 720
LEGEND_PX = 24
LABEL_CHARS = 24
PDF_COLOURS = ("#2b6cb0", "#dd6b20", "#38a169", "#805ad5", "#d53f8c", "#718096")


@dataclass(frozen=True)
class BarSeries:
    """One stacked part of every bar (e.g. mono pages), with its legend name."""

    name: str
    values: Sequence[int | float]


def _short(text: str) -> str:
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


def bar_chart_svg(
    title: str,
    labels: Sequence[str],
    series: Sequence[BarSeries],
    value_text: Callable[[int | float], str] = str,
) -> str:
    """Horizontal stacked bars, one per label, each with its total at the end; every text is
    escaped (labels are names users chose)."""
    totals = [sum(s.values[i] for s in series) for i in range(len(labels))]
    largest = max([*totals, 1])
    bar_area = WIDTH_PX - LABEL_PX - 90
    height = LEGEND_PX + ROW_PX * max(len(labels), 1) + 8
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {WIDTH_PX} {height}"'
        f' width="100%" aria-label={quoteattr(title)}>',
        f"<title>{escape(title)}</title>",
    ]
    x = LABEL_PX
    for index, part in enumerate(series):
        parts.append(f'<rect class="series-{index}" x="{x}" y="6" width="10" height="10"/>')
        parts.append(f'<text class="legend" x="{x + 14}" y="15">{escape(part.name)}</text>')
        x += 24 + 8 * len(part.name)
    for row, label in enumerate(labels):
        y = LEGEND_PX + row * ROW_PX
        parts.append(
            f'<text class="label" x="{LABEL_PX - 6}" y="{y + 15}" text-anchor="end">{escape(_short(label))}'
            f"<title>{escape(label)}</title></text>"
        )
        x_px = float(LABEL_PX)
        for index, part in enumerate(series):
            width = bar_area * part.values[row] / largest
            if width > 0:
                parts.append(
                    f'<rect class="series-{index}" x="{x_px:.1f}" y="{y + 3}" width="{width:.1f}"'
                    f' height="{ROW_PX - 6}"><title>{escape(part.name)}: '
                    f"{escape(value_text(part.values[row]))}</title></rect>"
                )
            x_px += width
        parts.append(
            f'<text class="value" x="{x_px + 4:.1f}" y="{y + 15}">{escape(value_text(totals[row]))}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def pdf_bar_chart(table: Table, width_pt: float) -> Drawing:
    """The table's chart for a PDF: stacked horizontal bars of its charted columns."""
    from reportlab.graphics.charts.barcharts import HorizontalBarChart
    from reportlab.graphics.charts.legends import Legend
    from reportlab.graphics.shapes import Drawing
    from reportlab.lib import colors

    rows = table.chart_rows()
    labels = [_short(str(row[table.label_column])) for row in reversed(rows)]
    height = 40 + 14 * len(rows)
    drawing = Drawing(width_pt, height)
    chart = HorizontalBarChart()
    chart.x, chart.y = 130, 10
    chart.width, chart.height = int(width_pt - 200), height - 35
    chart.data = [[float(row[index] or 0) for row in reversed(rows)] for index in table.chart_columns]
    chart.categoryAxis.categoryNames = labels
    chart.categoryAxis.labels.fontSize = 7
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.categoryAxis.style = "stacked"
    for position in range(len(table.chart_columns)):
        chart.bars[position].fillColor = colors.HexColor(PDF_COLOURS[position % len(PDF_COLOURS)])
        chart.bars[position].strokeColor = None
    drawing.add(chart)
    legend = Legend()
    legend.x, legend.y = 130, height - 5
    legend.fontSize = 7
    legend.alignment = "right"
    legend.columnMaximum = 1
    legend.colorNamePairs = [
        (colors.HexColor(PDF_COLOURS[p % len(PDF_COLOURS)]), table.columns[i].heading)
        for p, i in enumerate(table.chart_columns)
    ]
    legend.deltax = 90
    drawing.add(legend)
    return drawing
