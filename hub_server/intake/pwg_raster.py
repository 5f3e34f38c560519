"""PWG raster (PWG 5102.4, ``image/pwg-raster``) and Apple raster (``image/urf``) page
scanner: pages, size, colour.

Phones print PWG raster (Android, Mopria) or Apple raster (iOS, AirPrint), which Ghostscript
cannot read. This scanner walks the stream page by page: a page header (PWG: 1796 bytes;
Apple: 32 bytes after the ``UNIRAST`` file header), then ``Height`` lines in the CUPS raster
compression, which both formats share (a line-repeat byte, then runs: 0-127 repeat one pixel
n+1 times, 129-255 copy 257-n pixels, 128 clears the rest of the line). It never holds more
than one run in memory.

A page is colour when a colour space with chroma (sRGB, Adobe RGB, CMYK) carries any pixel
whose channels differ (RGB) or whose C, M or Y is not zero (CMYK).

Standalone on purpose (stdlib only, no package imports): ``analysis`` runs it as
``python pwg_raster.py FILE`` in a subprocess with the same timeout and rlimits as
Ghostscript, and reads one JSON object per page from stdout.
"""

from __future__ import annotations

import json
import struct
import sys
from dataclasses import asdict, dataclass
from typing import BinaryIO

__all__ = ["PwgPage", "PwgRasterError", "scan", "scan_urf"]

SYNC = b"RaS2"
HEADER_BYTES = 1796
URF_SYNC = b"UNIRAST\0"
URF_HEADER_BYTES = 32
# Apple raster colour spaces (as CUPS writes them) -> the PWG colour space ids used here.
_URF_SPACES = {0: 18, 1: 19, 2: 19, 3: 20, 4: 18, 5: 1, 6: 6}
_RGB_SPACES = frozenset({1, 19, 20})  # cups RGB, sRGB, Adobe RGB
_CMYK_SPACES = frozenset({6})
_WIDTH_MAX = 100_000
_HEIGHT_MAX = 1_000_000


class PwgRasterError(ValueError):
    """The stream is not valid PWG raster (bad sync word, header or compressed data)."""


@dataclass(frozen=True)
class PwgPage:
    """One page: size in points, colour or not, copies and duplex from the page header."""

    width_pt: float
    height_pt: float
    color: bool
    copies: int
    duplex: bool


@dataclass(frozen=True)
class _Geometry:
    width: int
    height: int
    pixel_bytes: int
    bytes_per_color: int
    color_space: int


def _u32(header: bytes, offset: int) -> int:
    value: int = struct.unpack_from(">I", header, offset)[0]
    return value


def _geometry(header: bytes) -> _Geometry:
    width, height = _u32(header, 372), _u32(header, 376)
    bits_per_color, bits_per_pixel = _u32(header, 384), _u32(header, 388)
    bytes_per_line = _u32(header, 392)
    if not (0 < width <= _WIDTH_MAX and 0 < height <= _HEIGHT_MAX) or bits_per_pixel not in (
        1,
        2,
        4,
        8,
        16,
        24,
        32,
        48,
        64,
    ):
        raise PwgRasterError(f"implausible page {width}x{height} at {bits_per_pixel} bits per pixel")
    if bytes_per_line != (width * bits_per_pixel + 7) // 8:
        raise PwgRasterError("BytesPerLine does not match Width x BitsPerPixel")
    pixel_bytes = max(1, bits_per_pixel // 8)  # below 8 bits per pixel, runs count whole bytes
    return _Geometry(
        bytes_per_line // pixel_bytes, height, pixel_bytes, max(1, bits_per_color // 8), _u32(header, 400)
    )


def _has_chroma(pixels: bytes, geometry: _Geometry) -> bool:
    step, depth = geometry.pixel_bytes, geometry.bytes_per_color
    if geometry.color_space in _RGB_SPACES and step == 3 * depth:
        return any(
            pixels[j::step] != pixels[depth + j :: step]
            or pixels[depth + j :: step] != pixels[2 * depth + j :: step]
            for j in range(depth)
        )
    if geometry.color_space in _CMYK_SPACES and step == 4 * depth:
        return any(pixels[c * depth + j :: step].strip(b"\0") for c in range(3) for j in range(depth))
    return False


def _read(stream: BinaryIO, count: int) -> bytes:
    data = stream.read(count)
    if len(data) != count:
        raise PwgRasterError("raster data truncated")
    return data


def _scan_line(stream: BinaryIO, geometry: _Geometry, color: bool) -> bool:
    """Consume one compressed line; returns whether colour was seen so far."""
    remaining = geometry.width
    while remaining > 0:
        control = _read(stream, 1)[0]
        if control == 128:
            return color  # rest of the line is blank
        if control < 128:
            count, pixels = control + 1, _read(stream, geometry.pixel_bytes)
        else:
            count = 257 - control
            pixels = _read(stream, count * geometry.pixel_bytes)
        if count > remaining:
            raise PwgRasterError("run longer than the line")
        remaining -= count
        color = color or _has_chroma(pixels, geometry)
    return color


def _scan_page(stream: BinaryIO, header: bytes) -> PwgPage:
    geometry = _geometry(header)
    color, lines = False, 0
    while lines < geometry.height:
        lines += _read(stream, 1)[0] + 1
        color = _scan_line(stream, geometry, color)
    if lines != geometry.height:
        raise PwgRasterError("line repeat runs past the page height")
    return PwgPage(
        width_pt=float(_u32(header, 352)),
        height_pt=float(_u32(header, 356)),
        color=color,
        copies=max(1, _u32(header, 340)),
        duplex=_u32(header, 272) != 0,
    )


def scan(stream: BinaryIO) -> list[PwgPage]:
    """Every page of a PWG raster stream; raises ``PwgRasterError`` on malformed input."""
    if stream.read(4) != SYNC:
        raise PwgRasterError("not PWG raster (no RaS2 sync word)")
    pages = []
    while header := stream.read(HEADER_BYTES):
        if len(header) != HEADER_BYTES:
            raise PwgRasterError("page header truncated")
        if not header.startswith(b"PwgRaster\0"):
            raise PwgRasterError("page header without the PwgRaster media class")
        pages.append(_scan_page(stream, header))
    return pages


def _urf_page(stream: BinaryIO, header: bytes) -> PwgPage:
    bits_per_pixel, space, duplex = header[0], header[1], header[2]
    width, height, dpi = struct.unpack_from(">III", header, 12)
    if bits_per_pixel not in (8, 16, 24, 32, 48, 64) or space not in _URF_SPACES:
        raise PwgRasterError(f"implausible Apple raster page: {bits_per_pixel} bits, colour space {space}")
    if not (0 < width <= _WIDTH_MAX and 0 < height <= _HEIGHT_MAX and 0 < dpi <= 10_000):
        raise PwgRasterError(f"implausible Apple raster page {width}x{height} at {dpi} dpi")
    color_space = _URF_SPACES[space]
    channels = 4 if color_space == 6 else 3 if color_space in _RGB_SPACES else 1
    pixel_bytes = bits_per_pixel // 8
    geometry = _Geometry(width, height, pixel_bytes, max(1, pixel_bytes // channels), color_space)
    color, lines = False, 0
    while lines < height:
        lines += _read(stream, 1)[0] + 1
        color = _scan_line(stream, geometry, color)
    if lines != height:
        raise PwgRasterError("line repeat runs past the page height")
    return PwgPage(width * 72.0 / dpi, height * 72.0 / dpi, color, 1, duplex > 1)


def scan_urf(stream: BinaryIO) -> list[PwgPage]:
    """Every page of an Apple raster stream (the page count in its file header must match
    the pages found); raises ``PwgRasterError`` on malformed input."""
    if stream.read(8) != URF_SYNC:
        raise PwgRasterError("not Apple raster (no UNIRAST sync word)")
    declared = struct.unpack(">I", _read(stream, 4))[0]
    pages = []
    while header := stream.read(URF_HEADER_BYTES):
        if len(header) != URF_HEADER_BYTES:
            raise PwgRasterError("page header truncated")
        pages.append(_urf_page(stream, header))
    if declared != len(pages):
        raise PwgRasterError(f"file header announces {declared} pages, the stream has {len(pages)}")
    return pages


def main(argv: list[str]) -> int:
    """``pwg_raster.py FILE``: one JSON line per page on stdout; exit 2 on bad input."""
    try:
        with open(argv[1], "rb") as stream:
            apple = stream.read(len(URF_SYNC)) == URF_SYNC
            stream.seek(0)
            pages = scan_urf(stream) if apple else scan(stream)
    except PwgRasterError as error:
        print(f"pwg raster: {error}", file=sys.stderr)
        return 2
    for page in pages:
        print(json.dumps(asdict(page)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
