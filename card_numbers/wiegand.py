"""Wiegand frame formats as data, with parity-checked decode and encode.

Bit positions are 1-indexed in transmission order (bit 1 is sent first, and is the most
significant bit of the frame read as an integer), as in the HID and proxmark3 tables.
A format is a table of fields and parity rules; adding a format adds data, not code.

Parity rule ``(position, odd, covered)``: the bit at ``position`` makes the number of ones
over ``covered`` plus itself odd (``odd=True``) or even.
"""

from __future__ import annotations

from dataclasses import dataclass

from card_numbers.errors import ConversionError, WiegandParityError

__all__ = ["WIEGAND_FORMATS", "WiegandCard", "WiegandFormat", "decode_wiegand", "encode_wiegand"]


@dataclass(frozen=True)
class ParityRule:
    """One parity bit: its position, odd or even, and the positions it covers."""

    position: int
    odd: bool
    covered: tuple[int, ...]


@dataclass(frozen=True)
class WiegandFormat:
    """A Wiegand format: total length, facility and card fields ``(start, length)``, parity."""

    name: str
    length_bits: int
    facility: tuple[int, int]
    card: tuple[int, int]
    parity: tuple[ParityRule, ...]  # in the order they must be computed when encoding


@dataclass(frozen=True)
class WiegandCard:
    """A decoded Wiegand credential."""

    facility: int
    card: int


def _span(first: int, last: int) -> tuple[int, ...]:
    return tuple(range(first, last + 1))


def _every_two_of_three(first: int, last: int, skip_residue: int) -> tuple[int, ...]:
    # Corporate 1000 parity covers two of every three bits: positions whose residue mod 3
    # is not skip_residue (translated from proxmark3's 0xB6DB6DB6-style masks).
    return tuple(p for p in range(first, last + 1) if p % 3 != skip_residue)


WIEGAND_FORMATS: dict[str, WiegandFormat] = {
    "h10301": WiegandFormat(
        "h10301", 26, (2, 8), (10, 16),
        (ParityRule(1, False, _span(2, 13)), ParityRule(26, True, _span(14, 25))),
    ),
    "h10304": WiegandFormat(
        "h10304", 37, (2, 16), (18, 19),
        (ParityRule(1, False, _span(2, 19)), ParityRule(37, True, _span(19, 36))),
    ),
    "c1k35": WiegandFormat(
        "c1k35", 35, (3, 12), (15, 20),
        (
            ParityRule(2, False, _every_two_of_three(3, 34, 2)),
            ParityRule(35, True, _every_two_of_three(2, 33, 1)),
            ParityRule(1, True, _span(2, 35)),
        ),
    ),
    "c1k48": WiegandFormat(
        "c1k48", 48, (3, 22), (25, 23),
        (
            ParityRule(2, False, _every_two_of_three(4, 47, 0)),
            ParityRule(48, True, _every_two_of_three(3, 46, 2)),
            ParityRule(1, True, _span(2, 48)),
        ),
    ),
}  # fmt: skip


def _bit(frame: int, fmt: WiegandFormat, position: int) -> int:
    return (frame >> (fmt.length_bits - position)) & 1


def _field(frame: int, fmt: WiegandFormat, start_length: tuple[int, int]) -> int:
    start, length = start_length
    return (frame >> (fmt.length_bits - start - length + 1)) & ((1 << length) - 1)


def _expected_parity(frame: int, fmt: WiegandFormat, rule: ParityRule) -> int:
    ones = sum(_bit(frame, fmt, p) for p in rule.covered)
    return (ones + (1 if rule.odd else 0)) & 1


def decode_wiegand(frame: int, fmt: WiegandFormat) -> WiegandCard:
    """Decode a frame (all bits incl. parity, as an integer); raise if any parity is wrong."""
    if frame < 0 or frame >> fmt.length_bits:
        raise ConversionError(f"value does not fit a {fmt.length_bits}-bit {fmt.name} frame")
    for rule in fmt.parity:
        if _bit(frame, fmt, rule.position) != _expected_parity(frame, fmt, rule):
            raise WiegandParityError(f"{fmt.name}: parity bit {rule.position} is wrong")
    return WiegandCard(_field(frame, fmt, fmt.facility), _field(frame, fmt, fmt.card))


def encode_wiegand(card: WiegandCard, fmt: WiegandFormat) -> int:
    """Encode a credential into a frame with correct parity bits."""
    frame = 0
    for value, (start, length) in ((card.facility, fmt.facility), (card.card, fmt.card)):
        if not 0 <= value < 1 << length:
            raise ConversionError(f"{fmt.name}: {value} does not fit {length} bits")
        frame |= value << (fmt.length_bits - start - length + 1)
    for rule in fmt.parity:
        frame |= _expected_parity(frame, fmt, rule) << (fmt.length_bits - rule.position)
    return frame
