"""Small PCL XL and PCL 5 writers for the counter's tests, written from the format references
(PCL XL Feature Reference tag tables, PCL 5 TRM command syntax), not from the counter's code:
a counter bug must not be cancelled out by the same bug here."""

from __future__ import annotations

import struct

UEL = b"\x1b%-12345X"


def pjl(*lines: str, language: str = "PCLXL") -> bytes:
    """A PJL header: UEL, ``@PJL`` lines, ``ENTER LANGUAGE``."""
    body = b"".join(f"@PJL {line}\r\n".encode() for line in lines)
    return UEL + b'@PJL JOB NAME="test"\r\n' + body + f"@PJL ENTER LANGUAGE={language}\r\n".encode()


def pjl_end() -> bytes:
    return UEL + b'@PJL EOJ NAME="test"\r\n' + UEL


def packbits(data: bytes) -> bytes:
    """TIFF PackBits: runs of 3+ equal bytes as repeats, the rest as literals (at most 128)."""
    out = bytearray()
    index = 0
    literal = bytearray()

    def flush() -> None:
        while literal:
            piece = literal[:128]
            out.append(len(piece) - 1)
            out.extend(piece)
            del literal[:128]

    while index < len(data):
        run = 1
        while index + run < len(data) and run < 128 and data[index + run] == data[index]:
            run += 1
        if run >= 3:
            flush()
            out.extend((257 - run, data[index]))
            index += run
        else:
            literal.append(data[index])
            index += 1
    flush()
    return bytes(out)


class XlWriter:
    """PCL XL in binary low-byte-first (``)``) or high-byte-first (``(``) binding."""

    def __init__(self, big_endian: bool = False) -> None:
        self.order = ">" if big_endian else "<"
        binding = "(" if big_endian else ")"
        self.out = bytearray(f"{binding} HP-PCL XL;2;0;Comment printgate tests\n".encode())

    # values and attributes
    def ubyte(self, value: int, attribute: int) -> XlWriter:
        self.out += bytes((0xC0, value, 0xF8, attribute))
        return self

    def uint16(self, value: int, attribute: int) -> XlWriter:
        self.out += b"\xc1" + struct.pack(self.order + "H", value) + bytes((0xF8, attribute))
        return self

    def uint16_xy(self, x: int, y: int, attribute: int) -> XlWriter:
        self.out += b"\xd1" + struct.pack(self.order + "HH", x, y) + bytes((0xF8, attribute))
        return self

    def uint16_box(self, box: tuple[int, int, int, int], attribute: int) -> XlWriter:
        self.out += b"\xe1" + struct.pack(self.order + "4H", *box) + bytes((0xF8, attribute))
        return self

    def ubyte_array(self, data: bytes, attribute: int) -> XlWriter:
        self.out += b"\xc8\xc1" + struct.pack(self.order + "H", len(data)) + data + bytes((0xF8, attribute))
        return self

    def op(self, tag: int) -> XlWriter:
        self.out.append(tag)
        return self

    def data(self, payload: bytes) -> XlWriter:
        if len(payload) < 256:
            self.out += bytes((0xFB, len(payload))) + payload
        else:
            self.out += b"\xfa" + struct.pack(self.order + "I", len(payload)) + payload
        return self

    # operators with their usual attributes
    def begin_session(self) -> XlWriter:
        self.uint16_xy(600, 600, 0x89).ubyte(0, 0x86).ubyte(0, 0x8F).op(0x41)  # UnitsPerMeasure, Measure
        return self.ubyte(0, 0x88).ubyte(1, 0x82).op(0x48)  # OpenDataSource

    def begin_page(self, media: int = 2, duplex: bool = False) -> XlWriter:
        self.ubyte(0, 0x28).ubyte(media, 0x25)  # Orientation, MediaSize
        if duplex:
            self.ubyte(1, 0x35).ubyte(0, 0x36)  # DuplexPageMode vertical binding, front side
        else:
            self.ubyte(0, 0x34)  # SimplexPageMode
        return self.op(0x43)

    def end_page(self, copies: int | None = None) -> XlWriter:
        if copies is not None:
            self.uint16(copies, 0x31)  # PageCopies
        return self.op(0x44)

    def end_session(self) -> XlWriter:
        return self.op(0x49).op(0x42)  # CloseDataSource, EndSession

    def color_space(self, space: int, palette: bytes | None = None) -> XlWriter:
        self.ubyte(space, 0x03)
        if palette is not None:
            self.ubyte(2, 0x02).ubyte_array(palette, 0x06)  # PaletteDepth e8Bit, PaletteData
        return self.op(0x6A)

    def rgb_brush(self, r: int, g: int, b: int) -> XlWriter:
        return self.ubyte_array(bytes((r, g, b)), 0x0B).op(0x63)

    def gray_brush(self, level: int) -> XlWriter:
        return self.ubyte(level, 0x09).op(0x63)

    def null_pen(self) -> XlWriter:
        return self.ubyte(0, 0x05).op(0x79)

    def null_brush(self) -> XlWriter:
        return self.ubyte(0, 0x04).op(0x63)

    def rectangle(self) -> XlWriter:
        return self.uint16_box((100, 100, 400, 400), 0x42).op(0xA0)

    def image(
        self,
        pixels: bytes,
        width: int,
        height: int,
        *,
        indexed: bool = False,
        depth: int = 2,
        compress: int = 0,
    ) -> XlWriter:
        """BeginImage / ReadImage / EndImage; ``pixels`` are already padded rows."""
        self.ubyte(1 if indexed else 0, 0x64).ubyte(depth, 0x62)  # ColorMapping, ColorDepth
        self.uint16(width, 0x6C).uint16(height, 0x6B).uint16_xy(width * 4, height * 4, 0x67).op(0xB0)
        self.uint16(0, 0x6D).uint16(height, 0x63).ubyte(compress, 0x65).op(0xB1).data(pixels)
        return self.op(0xB2)

    def raster_pattern(self, pattern_id: int, pixels: bytes, width: int, height: int) -> XlWriter:
        self.ubyte(0, 0x64).ubyte(2, 0x62).uint16(width, 0x6C).uint16(height, 0x6B)
        self.uint16_xy(width, height, 0x67).uint16(pattern_id, 0x69).ubyte(2, 0x68).op(0xB3)
        self.uint16(0, 0x6D).uint16(height, 0x63).ubyte(0, 0x65).op(0xB4).data(pixels)
        return self.op(0xB5)

    def pattern_brush(self, pattern_id: int) -> XlWriter:
        return self.uint16(pattern_id, 0x08).op(0x63)

    def bytes(self) -> bytes:
        return bytes(self.out)


def rgb_rows(rows: list[list[tuple[int, int, int]]]) -> bytes:
    """24-bit RGB rows padded to 4 bytes, as ReadImage takes them uncompressed."""
    out = bytearray()
    for row in rows:
        raw = b"".join(bytes(pixel) for pixel in row)
        out += raw + b"\0" * (-len(raw) % 4)
    return bytes(out)


# -- PCL 5 ----------------------------------------------------------------------------------------


def esc(sequence: str) -> bytes:
    return b"\x1b" + sequence.encode()


def raster_row(data: bytes, *, plane: bool = False) -> bytes:
    """``ESC*b#W`` (last plane of a row) or ``ESC*b#V`` (a plane) with its data."""
    return esc(f"*b{len(data)}{'V' if plane else 'W'}") + data
