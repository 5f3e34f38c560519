"""Voucher sheets: A4 pages of cards to print and cut, each with its code, value and expiry."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["VoucherCard", "voucher_sheet_pdf"]

COLUMNS = 3
ROWS = 8  # 24 cards per A4 page, 70 x 37 mm each (the common label-sheet grid)


@dataclass(frozen=True)
class VoucherCard:
    """What one card shows."""

    code: str
    value_text: str
    expires_text: str
    label: str = ""


def voucher_sheet_pdf(title: str, cards: Sequence[VoucherCard]) -> bytes:
    """An A4 PDF of ``cards`` in a 3 x 8 grid with dashed cut lines."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas

    buffer = io.BytesIO()
    page_w, page_h = A4
    card_w, card_h = page_w / COLUMNS, page_h / ROWS
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1)
    canvas.setTitle(title)
    for index, card in enumerate(cards):
        slot = index % (COLUMNS * ROWS)
        if index and slot == 0:
            canvas.showPage()
        column, row = slot % COLUMNS, slot // COLUMNS
        x, y = column * card_w, page_h - (row + 1) * card_h
        canvas.setDash(2, 2)
        canvas.setLineWidth(0.3)
        canvas.rect(x, y, card_w, card_h)
        canvas.setDash()
        canvas.setFont("Helvetica", 7)
        canvas.drawString(x + 4 * mm, y + card_h - 6 * mm, card.label[:48])
        canvas.setFont("Helvetica-Bold", 15)
        canvas.drawCentredString(x + card_w / 2, y + card_h / 2, card.value_text)
        canvas.setFont("Courier-Bold", 11)
        canvas.drawCentredString(x + card_w / 2, y + card_h / 2 - 7 * mm, card.code)
        canvas.setFont("Helvetica", 6.5)
        canvas.drawCentredString(x + card_w / 2, y + 3 * mm, card.expires_text)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
