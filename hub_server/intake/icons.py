"""The queue's ``printer-icons`` (PWG 5100.13): PNG images of a printer, drawn once with Pillow.

IPP Everywhere clients show them in their printer lists: 48x48 (small), 128x128 (large) and
512x512 (extra large). Drawn rather than shipped so the package carries no binary files.
"""

from __future__ import annotations

import functools
import io

from PIL import Image, ImageDraw

__all__ = ["ICON_SIZES", "printer_icon"]

ICON_SIZES = (48, 128, 512)
_BODY = (70, 78, 92, 255)
_PAPER = (250, 250, 250, 255)
_ACCENT = (46, 160, 67, 255)  # the "ready" light
_SLOT = (30, 34, 40, 255)


@functools.cache
def printer_icon(size: int) -> bytes:
    """A ``size`` x ``size`` RGBA PNG of a printer with a sheet in its output tray."""
    if size not in ICON_SIZES:
        raise ValueError(f"icon sizes are {ICON_SIZES}")
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)

    def box(x0: float, y0: float, x1: float, y1: float, fill: tuple[int, int, int, int]) -> None:
        draw.rounded_rectangle(
            [x0 * size, y0 * size, x1 * size, y1 * size], radius=max(1, size // 24), fill=fill
        )

    box(0.25, 0.08, 0.75, 0.40, _PAPER)  # paper going in
    box(0.08, 0.32, 0.92, 0.76, _BODY)  # body
    box(0.20, 0.62, 0.80, 0.68, _SLOT)  # output slot
    box(0.24, 0.66, 0.76, 0.94, _PAPER)  # printed sheet
    box(0.78, 0.40, 0.86, 0.46, _ACCENT)  # ready light
    for line in range(3):  # text on the printed sheet
        top = 0.72 + line * 0.06
        box(0.30, top, 0.70 - line * 0.08, top + 0.025, _BODY)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
