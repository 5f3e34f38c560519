"""Raster decoding shared by the PCL counters, just far enough to tell colour from grey.

Decoders (each bounded by the row length it is given, so a hostile run cannot expand):

* PackBits run-length (TIFF 6.0 section 9; PCL 5 raster compression method 2, PCL XL
  ``eRLECompression``): a signed count byte n, 0..127 copies the next n+1 bytes literally,
  -1..-127 repeats the next byte 1-n times, -128 is a no-op.
* PCL 5 method 1 (run-length): byte pairs, a repeat count 0..255 (meaning 1..256) and a byte.
* PCL 5 method 3 (delta row): command bytes whose top three bits are the replacement length
  minus one and whose low five bits are the offset from the end of the last replacement; an
  offset of 31 continues in following bytes until a byte below 255. The seed row is the last
  decoded row of the same plane; a zero-length row repeats it.

Facts: HP PCL 5 Technical Reference Manual, "Raster Graphics" (compression methods 0-3) and
"Set Compression Method"; TIFF 6.0 specification, PackBits; PCL XL Feature Reference,
``ReadImage`` ``CompressMode``.
"""

from __future__ import annotations

__all__ = [
    "RasterDecodeError",
    "achromatic_planes",
    "achromatic_rgb",
    "decode_delta_row",
    "decode_packbits",
    "decode_run_length",
]


class RasterDecodeError(ValueError):
    """Compressed raster data that does not decode within its row."""


def decode_packbits(data: bytes, row_bytes: int) -> tuple[bytes, int]:
    """Decode one PackBits row of ``row_bytes``; returns the row and the bytes consumed.

    Decoding stops as soon as the row is full (PCL XL rows follow each other in one block).
    """
    out = bytearray()
    index = 0
    size = len(data)
    while len(out) < row_bytes and index < size:
        count = data[index]
        index += 1
        if count < 128:
            literal = data[index : index + count + 1]
            if len(literal) != count + 1:
                raise RasterDecodeError("PackBits literal runs past the data")
            out += literal
            index += count + 1
        elif count > 128:
            if index >= size:
                raise RasterDecodeError("PackBits repeat has no byte")
            out += bytes((data[index],)) * (257 - count)
            index += 1
    if len(out) > row_bytes:
        raise RasterDecodeError("PackBits run overflows the row")
    return bytes(out), index


def decode_run_length(data: bytes, row_bytes: int) -> bytes:
    """PCL 5 method 1: (count, byte) pairs; truncated or zero-filled to ``row_bytes``."""
    if len(data) % 2:
        raise RasterDecodeError("run-length data has an odd byte count")
    out = bytearray()
    for index in range(0, len(data), 2):
        out += bytes((data[index + 1],)) * (data[index] + 1)
        if len(out) >= row_bytes:
            break
    return bytes(out[:row_bytes])


def decode_delta_row(data: bytes, seed: bytes, row_bytes: int) -> bytes:
    """PCL 5 method 3: apply delta-row commands to ``seed`` (zero-filled to ``row_bytes``)."""
    row = bytearray(seed[:row_bytes].ljust(row_bytes, b"\0"))
    index = 0
    position = 0
    size = len(data)
    while index < size:
        command = data[index]
        index += 1
        length = (command >> 5) + 1
        offset = command & 0x1F
        if offset == 31:
            while True:
                if index >= size:
                    raise RasterDecodeError("delta-row offset runs past the data")
                extra = data[index]
                index += 1
                offset += extra
                if extra < 255:
                    break
        position += offset
        replacement = data[index : index + length]
        index += length
        if position < row_bytes:
            end = min(row_bytes, position + len(replacement))
            row[position:end] = replacement[: end - position]
        position += len(replacement)
    return bytes(row)


def achromatic_planes(planes: list[bytes], width_px: int | None) -> bool:
    """True when every pixel of a 1-bit-per-plane row has the same bit in all planes.

    With three planes (PCL 5 simple colour, RGB or CMY) equal bits are white or black, unequal
    bits are a colour. Bits beyond ``width_px`` are clipped by the printer and ignored.
    """
    length = max(len(plane) for plane in planes)
    if width_px is not None:
        length = min(length, (width_px + 7) // 8)
    padded = [plane[:length].ljust(length, b"\0") for plane in planes]
    if all(plane == padded[0] for plane in padded[1:]):
        return True
    if width_px is None or width_px % 8 == 0 or width_px >= length * 8:
        return False
    # Only the last byte's clipped bits may differ.
    mask = (0xFF << (8 - width_px % 8)) & 0xFF
    heads = [plane[:-1] for plane in padded]
    tails = [plane[-1] & mask for plane in padded]
    return all(head == heads[0] for head in heads[1:]) and len(set(tails)) == 1


def achromatic_rgb(row: bytes, pixels: int) -> bool:
    """True when the first ``pixels`` 3-byte pixels of ``row`` are all grey (R = G = B)."""
    data = row[: pixels * 3]
    red, green, blue = data[0::3], data[1::3], data[2::3]
    return red == green == blue
