"""PCL XL (PCL 6) page counter: pages, colour per page, duplex, copies and media.

The stream is tokenised the way the printer reads it, never byte-grepped: a header line
(`` HP-PCL XL;<class>;<revision>;<comment>`` preceded by the binding byte and ended by LF), then
data values, attribute tags and operators. Facts used (HP PCL XL Feature Reference, protocol
classes 1.1-3.0; tag values cross-checked with Microsoft's ``pclxle.h`` and the tag tables of
Ghostscript's PCL XL writer ``gdevpxop.h``):

* Binding byte: ``'`` ASCII (refused here), ``(`` binary high byte first, ``)`` binary low
  byte first.
* White space between tokens: NUL, HT, LF, VT, FF, CR, SP.
* Data types: 0xC0 ubyte, 0xC1 uint16, 0xC2 uint32, 0xC3 sint16, 0xC4 sint32, 0xC5 real32;
  +8 for arrays (length given by a following ubyte/uint16/uint32 value), 0xD0-0xD5 the
  ``_xy`` pairs, 0xE0-0xE5 the ``_box`` quadruples.
* Attribute tags 0xF8 (ubyte id) and 0xF9 (uint16 id) name the preceding value; 0xFA
  (uint32 length) and 0xFB (ubyte length) introduce embedded data for the preceding
  operator. Operators are the single bytes 0x41-0xBF.
* Pages: each ``BeginPage`` (0x43) ... ``EndPage`` (0x44) prints one page, ``PageCopies``
  (attribute 49) on ``EndPage`` times. ``BeginPage`` carries ``MediaSize`` (37),
  ``SimplexPageMode`` (52) or ``DuplexPageMode`` (53, eDuplexHorizontalBinding 0 /
  eDuplexVerticalBinding 1) and ``DuplexPageSide`` (54).
* Colour: ``SetColorSpace`` (0x6A) with ``ColorSpace`` (3: eGray 1, eRGB 2, eSRGB 6) and an
  optional palette (``PaletteDepth`` 2, ``PaletteData`` 6). ``SetBrushSource`` (0x63) and
  ``SetPenSource`` (0x79) take ``RGBColor`` (11), ``GrayLevel`` (9), ``PrimaryArray`` (14),
  ``NullBrush``/``NullPen`` (4/5), ``PatternSelectID`` (8) or ``PaletteIndex`` (7).
  ``PushGS``/``PopGS`` (0x61/0x60) save and restore them.
* Images: ``BeginImage`` (0xB0: ``ColorMapping`` 100 eDirectPixel 0 / eIndexedPixel 1,
  ``ColorDepth`` 98 e1Bit 0 / e4Bit 1 / e8Bit 2, ``SourceWidth`` 108), ``ReadImage`` (0xB1:
  ``CompressMode`` 101 eNoCompression 0 / eRLECompression 1 / eJPEGCompression 2,
  ``BlockHeight`` 99, ``PadBytesMultiple`` 110, default 4) with embedded data. Raster
  patterns (0xB3-0xB5) are read the same way and remembered by ``PatternDefineID`` (105).

A page is colour when something is painted with a chromatic source: a brush or pen whose
components differ, or an image/pattern with a pixel whose components differ (uncompressed and
RLE data are decoded row by row; JPEG data in a colour space, or a colour palette that is not
readable, leave the page undecided rather than guessed).
"""

from __future__ import annotations

import io
import re
import struct
from dataclasses import dataclass, field
from typing import Any

from .pcl_pages import PageLog, PclPage, Tint
from .pcl_raster import RasterDecodeError, achromatic_rgb, decode_packbits
from .pcl_source import ByteSource, NotCountable

__all__ = ["XL_HEADER", "count_pclxl"]

XL_HEADER = re.compile(rb"^[()'] HP-PCL XL;")
UEL_TAIL = b"%-12345X"
_HEADER_MAX = 4096
_WHITESPACE = frozenset(b"\x00\x09\x0a\x0b\x0c\x0d\x20")
_SCALAR_SIZES = {0: 1, 1: 2, 2: 4, 3: 2, 4: 4, 5: 4}  # ubyte uint16 uint32 sint16 sint32 real32
_FORMATS = {0: "B", 1: "H", 2: "I", 3: "h", 4: "i", 5: "f"}
_ARRAY_KEEP_MAX = 64 * 1024  # longer arrays (glyph data) are skipped, not kept
_DECODE_BLOCK_MAX = 16 * 1024 * 1024  # bigger image blocks are not decoded: colour undecided
_GS_DEPTH_MAX = 64
_STREAM_BYTES_MAX = 4 * 1024 * 1024
_STREAM_DEPTH_MAX = 4

# attribute ids
A_CMY_COLOR, A_PALETTE_DEPTH, A_COLOR_SPACE, A_NULL_BRUSH, A_NULL_PEN = 1, 2, 3, 4, 5
A_PALETTE_DATA, A_PALETTE_INDEX, A_PATTERN_SELECT_ID, A_GRAY_LEVEL = 6, 7, 8, 9
A_SRGB_COLOR, A_RGB_COLOR, A_PRIMARY_ARRAY = 10, 11, 14
A_MEDIA_SIZE, A_PAGE_COPIES = 37, 49
A_SIMPLEX_PAGE_MODE, A_DUPLEX_PAGE_MODE = 52, 53
A_COLOR_DEPTH, A_COLOR_MAPPING, A_COMPRESS_MODE, A_PATTERN_DEFINE_ID = 98, 100, 101, 105
A_SOURCE_WIDTH, A_PAD_BYTES_MULTIPLE, A_BLOCK_HEIGHT, A_STREAM_NAME = 108, 110, 99, 139

# operators
OP_BEGIN_SESSION, OP_END_SESSION, OP_BEGIN_PAGE, OP_END_PAGE = 0x41, 0x42, 0x43, 0x44
OP_SET_DEFAULT_GS = 0x57
OP_BEGIN_STREAM, OP_READ_STREAM, OP_END_STREAM, OP_EXEC_STREAM = 0x5B, 0x5C, 0x5D, 0x5E
OP_POP_GS, OP_PUSH_GS, OP_SET_BRUSH_SOURCE = 0x60, 0x61, 0x63
OP_SET_COLOR_SPACE, OP_SET_PEN_SOURCE = 0x6A, 0x79
OP_BEGIN_IMAGE, OP_READ_IMAGE, OP_END_IMAGE = 0xB0, 0xB1, 0xB2
OP_BEGIN_RAST_PATTERN, OP_READ_RAST_PATTERN, OP_END_RAST_PATTERN = 0xB3, 0xB4, 0xB5
OP_PASS_THROUGH = 0xBF
# every operator of protocol classes 1.1-3.0 (session, page, font, stream, graphics state,
# path, painting, image, pattern and scan-line operators, pass-through)
_KNOWN_OPERATORS = frozenset(
    {0x41, 0x42, 0x43, 0x44, 0x46, 0x47, 0x48, 0x49, 0x4A, 0x4B}
    | set(range(0x4F, 0x59))
    | set(range(0x5B, 0x82))
    | {0x84, 0x85, 0x86, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9B, 0x9D, 0x9E, 0x9F}
    | {0xA0, 0xA1, 0xA2, 0xA3, 0xA8, 0xA9, 0xAA, 0xB0, 0xB1, 0xB2, 0xB3, 0xB4, 0xB5, 0xB6, 0xB8, 0xB9, 0xBF}
)
# PaintPath, Chord, Ellipse, Pie, Rectangle, RoundRectangle paint with the brush and the pen
_PAINT_BRUSH_AND_PEN = frozenset({0x86, 0x96, 0x98, 0x9E, 0xA0, 0xA2})
_PAINT_BRUSH = frozenset({0xA8, 0xAA, 0xB9})  # Text, SystemText, ScanLineRel

_COLOR_SPACES_GREY = frozenset({0, 1, 7})  # eBiLevel, eGray, eGraySub
_COLOR_SPACES_RGB = frozenset({2, 5, 6})  # eRGB, eCRGB, eSRGB
_MEDIA_SIZES = {
    0: "na_letter_8.5x11in",
    1: "na_legal_8.5x14in",
    2: "iso_a4_210x297mm",
    3: "na_executive_7.25x10.5in",
    4: "na_ledger_11x17in",
    5: "iso_a3_297x420mm",
    15: "iso_a5_148x210mm",
}
_MEDIA_NAMES = {b"LETTER": 0, b"LEGAL": 1, b"A4": 2, b"EXEC": 3, b"LEDGER": 4, b"A3": 5, b"A5": 15}

# A source of paint: "none" paints nothing; otherwise its chroma (None = undecided).
Source = bool | None | str
_NOTHING = "none"


@dataclass
class _GraphicsState:
    color_space: int = 1  # eGray is the default colour space
    palette: tuple[bool | None, ...] | None = None  # chroma of each palette entry
    brush: Source = False  # default brush and pen: black
    pen: Source = False

    def copy(self) -> _GraphicsState:
        return _GraphicsState(self.color_space, self.palette, self.brush, self.pen)


@dataclass
class _Raster:
    """An image or raster pattern being read: what is needed to judge its pixels."""

    width_px: int
    bits_per_pixel: int  # per pixel, all components
    direct_rgb: bool
    palette: tuple[bool | None, ...] | None
    known: bool | None  # decided without decoding (grey space, grey palette); None: decode
    tint: Tint = field(default_factory=Tint)


@dataclass
class _Session:
    """Everything the counter tracks while it reads one XL stream (and the streams it runs)."""

    log: PageLog
    big_endian: bool = False
    in_page: bool = False
    page_tint: Tint = field(default_factory=Tint)
    page_duplex: bool | None = None
    page_media: str | None = None
    gs: _GraphicsState = field(default_factory=_GraphicsState)
    gs_stack: list[_GraphicsState] = field(default_factory=list)
    raster: _Raster | None = None
    pattern_id: int | None = None
    patterns: dict[int, bool | None] = field(default_factory=dict)
    streams: dict[bytes, bytes | None] = field(default_factory=dict)
    stream_name: bytes | None = None
    stream_parts: list[bytes | None] = field(default_factory=list)
    stream_bytes: int = 0


def count_pclxl(source: ByteSource, log: PageLog, session: _Session | None = None, depth: int = 0) -> None:
    """Read one PCL XL stream from its header up to a UEL or the end; pages go to ``log``."""
    header, found = source.take_until(re.compile(rb"\n"), _HEADER_MAX)
    if not found or not XL_HEADER.match(header):
        raise NotCountable("not a PCL XL stream header", source.offset)
    source.byte()  # the LF
    if header[:1] == b"'":
        raise NotCountable("PCL XL in ASCII binding is not supported", source.offset)
    state = session or _Session(log)
    state.big_endian = header[:1] == b"("
    _Reader(source, state, depth).run()
    if session is None and state.in_page:
        raise NotCountable("the PCL XL stream ends inside a page", source.offset)


class _Reader:
    def __init__(self, source: ByteSource, state: _Session, depth: int) -> None:
        self.source = source
        self.state = state
        self.depth = depth
        self.order = ">" if state.big_endian else "<"
        self.attributes: dict[int, Any] = {}
        self.value: Any = None
        self.has_value = False
        self.last_operator: int | None = None
        self.block_attributes: dict[int, Any] = {}  # of the last ReadImage / ReadRastPattern

    def run(self) -> None:
        source = self.source
        while not source.at_end():
            tag = source.byte()
            if tag in _WHITESPACE:
                continue
            if tag == 0x1B:
                if source.read(len(UEL_TAIL)) != UEL_TAIL:
                    raise NotCountable("ESC inside PCL XL that is not a UEL", source.offset)
                return
            if 0xC0 <= tag <= 0xE5:
                self.value = self._data_value(tag)
                self.has_value = True
            elif tag in (0xF8, 0xF9):
                attribute = source.byte() if tag == 0xF8 else self._number(1)
                if not self.has_value:
                    raise NotCountable(f"attribute {attribute} without a value", source.offset)
                self.attributes[int(attribute)] = self.value
                self.has_value = False
            elif tag in (0xFA, 0xFB):
                length = int(self._number(2)) if tag == 0xFA else source.byte()
                self._embedded(length)
            elif tag in _KNOWN_OPERATORS:
                if self.has_value:
                    raise NotCountable(f"a value without an attribute before {tag:#04x}", source.offset)
                self._operator(tag)
                self.attributes = {}
                self.last_operator = tag
            else:
                raise NotCountable(f"illegal PCL XL tag {tag:#04x}", source.offset - 1)

    # -- data values -----------------------------------------------------------------------

    def _number(self, kind: int) -> float:
        raw = self.source.read(_SCALAR_SIZES[kind])
        value: float = struct.unpack(self.order + _FORMATS[kind], raw)[0]
        return value

    def _data_value(self, tag: int) -> Any:
        group, kind = tag & 0xF8, tag & 0x07
        if kind not in _SCALAR_SIZES:
            raise NotCountable(f"illegal PCL XL data type {tag:#04x}", self.source.offset - 1)
        if group == 0xC0:
            return self._number(kind)
        if group == 0xD0:
            return (self._number(kind), self._number(kind))
        if group == 0xE0:
            return tuple(self._number(kind) for _ in range(4))
        # 0xC8..0xCD: an array; its length is a ubyte, uint16 or uint32 value
        length_tag = self.source.byte()
        if length_tag not in (0xC0, 0xC1, 0xC2):
            raise NotCountable("PCL XL array without a length", self.source.offset - 1)
        length = int(self._number(length_tag & 0x07))
        size = length * _SCALAR_SIZES[kind]
        if size > _ARRAY_KEEP_MAX:
            self.source.skip(size)
            return None
        raw = self.source.read(size)
        if kind == 0:
            return raw
        return struct.unpack(f"{self.order}{length}{_FORMATS[kind]}", raw)

    # -- operators ---------------------------------------------------------------------------

    def _operator(self, op: int) -> None:
        state = self.state
        if op in (OP_READ_IMAGE, OP_READ_RAST_PATTERN):
            self.block_attributes = self.attributes
        handler = _HANDLERS.get(op)
        if handler is not None:
            handler(self)
        elif op in _PAINT_BRUSH_AND_PEN:
            self._paint(state.gs.brush)
            self._paint(state.gs.pen)
        elif op in _PAINT_BRUSH:
            self._paint(state.gs.brush)

    def _paint(self, source: Source) -> None:
        if source != _NOTHING and self.state.in_page:
            self.state.page_tint.paint(source if not isinstance(source, str) else None)

    def _begin_page(self) -> None:
        state = self.state
        if state.in_page:
            raise NotCountable("BeginPage inside a page", self.source.offset)
        state.in_page = True
        state.page_tint = Tint()
        duplex = None
        if A_DUPLEX_PAGE_MODE in self.attributes:
            duplex = True
        elif A_SIMPLEX_PAGE_MODE in self.attributes:
            duplex = False
        state.page_duplex = duplex
        state.page_media = _media_name(self.attributes.get(A_MEDIA_SIZE))
        state.gs = _GraphicsState()
        state.gs_stack = []

    def _end_page(self) -> None:
        state = self.state
        if not state.in_page:
            raise NotCountable("EndPage outside a page", self.source.offset)
        copies = self.attributes.get(A_PAGE_COPIES)
        if copies is not None and not (isinstance(copies, int | float) and 1 <= copies <= 32767):
            raise NotCountable(f"implausible PageCopies {copies!r}", self.source.offset)
        state.log.add(
            PclPage(
                state.page_tint.verdict,
                state.page_duplex,
                int(copies) if copies is not None else None,
                state.page_media,
            ),
            self.source.offset,
        )
        state.in_page = False

    def _push_gs(self) -> None:
        if len(self.state.gs_stack) >= _GS_DEPTH_MAX:
            raise NotCountable("graphics state stack overflow", self.source.offset)
        self.state.gs_stack.append(self.state.gs.copy())

    def _pop_gs(self) -> None:
        if self.state.gs_stack:
            self.state.gs = self.state.gs_stack.pop()

    def _set_default_gs(self) -> None:
        self.state.gs = _GraphicsState()

    def _set_color_space(self) -> None:
        gs = self.state.gs
        space = self.attributes.get(A_COLOR_SPACE)
        gs.color_space = int(space) if isinstance(space, int | float) else -1
        data = self.attributes.get(A_PALETTE_DATA)
        gs.palette = None if data is None else _palette_chroma(gs.color_space, data)

    def _set_source(self, which: str) -> None:
        setattr(self.state.gs, which, self._source_chroma(which))

    def _source_chroma(self, which: str) -> Source:
        attributes, gs = self.attributes, self.state.gs
        if A_NULL_BRUSH in attributes or A_NULL_PEN in attributes:
            return _NOTHING
        if A_PATTERN_SELECT_ID in attributes:
            return self.state.patterns.get(int(attributes[A_PATTERN_SELECT_ID]))
        if A_PALETTE_INDEX in attributes:
            return _palette_entry(gs.palette, attributes[A_PALETTE_INDEX])
        if gs.palette is not None:
            # With a palette, a colour value is an index into it (one component).
            value = attributes.get(A_GRAY_LEVEL, attributes.get(A_RGB_COLOR))
            if isinstance(value, bytes | tuple) and len(value) == 1:
                value = value[0]
            return _palette_entry(gs.palette, value)
        if A_GRAY_LEVEL in attributes:
            return False
        for attribute in (A_RGB_COLOR, A_SRGB_COLOR, A_CMY_COLOR, A_PRIMARY_ARRAY):
            if attribute in attributes:
                return _components_chroma(gs.color_space, attributes[attribute])
        return None

    def _begin_raster(self) -> None:
        self.state.raster = _raster_for(self.state.gs, self.attributes)

    def _end_image(self) -> None:
        raster = self.state.raster
        if raster is not None and self.state.in_page:
            self.state.page_tint.paint(raster.tint.verdict if raster.known is None else raster.known)
        self.state.raster = None

    def _begin_pattern(self) -> None:
        self._begin_raster()
        pattern_id = self.attributes.get(A_PATTERN_DEFINE_ID)
        self.state.pattern_id = int(pattern_id) if isinstance(pattern_id, int | float) else None

    def _end_pattern(self) -> None:
        raster, pattern_id = self.state.raster, self.state.pattern_id
        if raster is not None and pattern_id is not None:
            self.state.patterns[pattern_id] = raster.tint.verdict if raster.known is None else raster.known
        self.state.raster = None
        self.state.pattern_id = None

    def _begin_stream(self) -> None:
        name = self.attributes.get(A_STREAM_NAME)
        self.state.stream_name = bytes(name) if isinstance(name, bytes) else repr(name).encode()
        self.state.stream_parts = []

    def _end_stream(self) -> None:
        state = self.state
        if state.stream_name is None:
            return
        parts = [part for part in state.stream_parts if part is not None]
        total = sum(len(part) for part in parts)
        fits = state.stream_bytes + total <= _STREAM_BYTES_MAX and len(parts) == len(state.stream_parts)
        state.streams[state.stream_name] = b"".join(parts) if fits else None
        state.stream_bytes += total if fits else 0
        state.stream_name = None
        state.stream_parts = []

    def _exec_stream(self) -> None:
        name = self.attributes.get(A_STREAM_NAME)
        key = bytes(name) if isinstance(name, bytes) else repr(name).encode()
        body = self.state.streams.get(key)
        if body is None:
            raise NotCountable("ExecStream of a stream that was not read", self.source.offset)
        if self.depth >= _STREAM_DEPTH_MAX:
            raise NotCountable("streams nested too deep", self.source.offset)
        inner = ByteSource(io.BytesIO(body))
        if XL_HEADER.match(inner.peek(16)):
            count_pclxl(inner, self.state.log, self.state, self.depth + 1)
        else:
            _Reader(inner, self.state, self.depth + 1).run()

    def _pass_through(self) -> None:
        raise NotCountable("PCL pass-through inside PCL XL is not counted", self.source.offset)

    # -- embedded data ----------------------------------------------------------------------------

    def _embedded(self, length: int) -> None:
        op = self.last_operator
        state = self.state
        if op == OP_READ_STREAM and state.stream_name is not None:
            if length <= _STREAM_BYTES_MAX:
                state.stream_parts.append(self.source.read(length))
            else:
                self.source.skip(length)
                state.stream_parts.append(None)
            return
        if op in (OP_READ_IMAGE, OP_READ_RAST_PATTERN) and state.raster is not None:
            self._raster_block(state.raster, length)
            return
        self.source.skip(length)

    def _raster_block(self, raster: _Raster, length: int) -> None:
        attributes = self.block_attributes
        if raster.known is not None or raster.tint.color or length > _DECODE_BLOCK_MAX:
            self.source.skip(length)
            if raster.known is None and not raster.tint.color:
                raster.tint.unknown = True
            return
        data = self.source.read(length)
        mode = attributes.get(A_COMPRESS_MODE, 0)
        rows = attributes.get(A_BLOCK_HEIGHT)
        pad = attributes.get(A_PAD_BYTES_MULTIPLE, 4)
        if mode not in (0, 1) or not isinstance(rows, int | float) or pad not in (1, 2, 4):
            raster.tint.unknown = True  # JPEG, delta row or an odd layout: undecided
            return
        raw_bytes = (raster.width_px * raster.bits_per_pixel + 7) // 8
        row_bytes = -(-raw_bytes // int(pad)) * int(pad)
        offset = 0
        for _ in range(int(rows)):
            try:
                if mode == 0:
                    row = data[offset : offset + row_bytes]
                    offset += row_bytes
                else:
                    row, used = decode_packbits(data[offset:], row_bytes)
                    offset += used
            except RasterDecodeError:
                raster.tint.unknown = True
                return
            raster.tint.paint(_row_chroma(raster, row[:raw_bytes]))
            if raster.tint.color:
                return


def _raster_for(gs: _GraphicsState, attributes: dict[int, Any]) -> _Raster:
    """How to judge the pixels of an image or pattern that ``BeginImage`` describes."""
    mapping = attributes.get(A_COLOR_MAPPING)
    depth_code = attributes.get(A_COLOR_DEPTH)
    width = attributes.get(A_SOURCE_WIDTH)
    bits = {0: 1, 1: 4, 2: 8}.get(int(depth_code)) if isinstance(depth_code, int | float) else None
    if not isinstance(width, int | float) or bits is None or mapping not in (0, 1):
        return _Raster(0, 0, False, None, None)  # nothing to decode with: undecided
    grey_space = gs.color_space in _COLOR_SPACES_GREY
    if mapping == 1:  # indexed: judged by the palette entries the pixels use
        if gs.palette is None or not any(entry is not False for entry in gs.palette):
            known: bool | None = False if grey_space or gs.palette is not None else None
            return _Raster(int(width), bits, False, gs.palette, known)
        return _Raster(int(width), bits, False, gs.palette, None)
    if grey_space:
        return _Raster(int(width), bits, False, None, False)
    if gs.color_space in _COLOR_SPACES_RGB:
        return _Raster(int(width), bits * 3, True, None, None)
    return _Raster(int(width), bits, False, None, None)


def _row_chroma(raster: _Raster, row: bytes) -> bool | None:
    if raster.direct_rgb:
        if raster.bits_per_pixel != 24:
            return None
        return not achromatic_rgb(row, raster.width_px)
    palette = raster.palette
    if palette is None:
        return None
    used = _indices_used(row, raster.width_px, raster.bits_per_pixel)
    verdict: bool | None = False
    for index in used:
        entry = palette[index] if index < len(palette) else None
        if entry:
            return True
        if entry is None:
            verdict = None
    return verdict


def _indices_used(row: bytes, width_px: int, bits: int) -> set[int]:
    """The palette indices the first ``width_px`` pixels of a packed row use."""
    if bits == 8:
        return set(row[:width_px])
    per_byte = 8 // bits
    full, rest = divmod(width_px, per_byte)
    mask = (1 << bits) - 1
    shifts = range(8 - bits, -1, -bits)
    used = {(byte >> shift) & mask for byte in set(row[:full]) for shift in shifts}
    if rest and len(row) > full:
        used |= {(row[full] >> shift) & mask for shift in list(shifts)[:rest]}
    return used


def _components_chroma(color_space: int, value: Any) -> bool | None:
    if color_space in _COLOR_SPACES_GREY:
        return False
    if color_space not in _COLOR_SPACES_RGB and color_space != 3:
        return None
    if isinstance(value, bytes | tuple) and len(value) == 3:
        return not (value[0] == value[1] == value[2])
    return None


def _palette_chroma(color_space: int, data: Any) -> tuple[bool | None, ...]:
    if not isinstance(data, bytes | tuple):
        return ()
    if color_space in _COLOR_SPACES_GREY:
        return tuple(False for _ in data)
    if color_space in _COLOR_SPACES_RGB and len(data) % 3 == 0:
        return tuple(not (data[i] == data[i + 1] == data[i + 2]) for i in range(0, len(data), 3))
    return tuple(None for _ in range(max(1, len(data) // 3)))


def _palette_entry(palette: tuple[bool | None, ...] | None, index: Any) -> bool | None:
    if palette is None or not isinstance(index, int | float) or not 0 <= index < len(palette):
        return None
    return palette[int(index)]


def _media_name(value: Any) -> str | None:
    if isinstance(value, bytes):
        value = _MEDIA_NAMES.get(value.strip(b"\0 ").upper())
    if isinstance(value, int | float):
        return _MEDIA_SIZES.get(int(value))
    return None


_HANDLERS: dict[int, Any] = {
    OP_BEGIN_PAGE: _Reader._begin_page,
    OP_END_PAGE: _Reader._end_page,
    OP_SET_DEFAULT_GS: _Reader._set_default_gs,
    OP_PUSH_GS: _Reader._push_gs,
    OP_POP_GS: _Reader._pop_gs,
    OP_SET_COLOR_SPACE: _Reader._set_color_space,
    OP_SET_BRUSH_SOURCE: lambda reader: reader._set_source("brush"),
    OP_SET_PEN_SOURCE: lambda reader: reader._set_source("pen"),
    OP_BEGIN_IMAGE: _Reader._begin_raster,
    OP_END_IMAGE: _Reader._end_image,
    OP_BEGIN_RAST_PATTERN: _Reader._begin_pattern,
    OP_END_RAST_PATTERN: _Reader._end_pattern,
    OP_BEGIN_STREAM: _Reader._begin_stream,
    OP_END_STREAM: _Reader._end_stream,
    OP_EXEC_STREAM: _Reader._exec_stream,
    OP_PASS_THROUGH: _Reader._pass_through,
}
