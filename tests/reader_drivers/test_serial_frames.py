"""Serial frame parsers, byte-exact against readers.md §1.1, §1.2, §1.4 (vectors 1-3, 21), and fuzzed."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from hw_sim.readers.serial_sim import em_frame
from reader_drivers.serial_frames import ParsedCard, StxEtxParser, Twn4Parser

RDM_4B00423C15 = bytes.fromhex("02 34 42 30 30 34 32 33 43 31 35 32 30 03")
ID12_4B00423C15 = bytes.fromhex("02 34 42 30 30 34 32 33 43 31 35 32 30 0D 0A 03")


def em(card_hex: str) -> ParsedCard:
    return ParsedCard(bytes.fromhex(card_hex), "em4100")


def test_rdm6300_forum_sample_validates() -> None:
    parser = StxEtxParser()
    assert parser.feed(b"\x02010EEFEDC5C8\x03") == [em("010EEFEDC5")]
    assert (parser.accepted, parser.rejected) == (1, 0)


def test_rdm6300_and_id12la_vectors() -> None:
    parser = StxEtxParser()
    assert parser.feed(RDM_4B00423C15) == [em("4B00423C15")]
    assert parser.feed(ID12_4B00423C15) == [em("4B00423C15")]


def test_frame_split_byte_by_byte() -> None:
    parser = StxEtxParser()
    results = [result for byte in ID12_4B00423C15 for result in parser.feed(bytes([byte]))]
    assert results == [em("4B00423C15")]


def test_bad_frames_are_counted_and_dropped() -> None:
    reasons: list[str] = []
    discarded: list[int] = []
    parser = StxEtxParser(reasons.append, discarded.append)
    stream = (
        b"\x00\xffnoise"  # 7 bytes outside any frame
        + b"\x024B00423C1521\x03"  # checksum 21, XOR is 20
        + b"\x024b00423c1520\x03"  # lower-case hex
        + b"\x024B00423C152\x03"  # 11 characters
        + b"\x024B00"  # truncated by the next STX
        + RDM_4B00423C15
        + b"\x02" + b"1" * 20 + b"\x03"  # too long: rejected at byte 15, the rest is noise
    )  # fmt: skip
    assert parser.feed(stream) == [em("4B00423C15")]
    assert parser.rejected == 5
    assert len(reasons) == 5 and "checksum 21 != XOR 20" in reasons[0]
    assert sum(discarded) == 7 + 5 + 1  # leading noise; the 5 bytes after the 15th of the overlong frame, ETX


def test_finish_rejects_a_frame_cut_off() -> None:
    parser = StxEtxParser()
    assert parser.feed(RDM_4B00423C15[:7]) == []
    parser.finish()
    assert parser.rejected == 1


def test_twn4_replies() -> None:
    reasons: list[str] = []
    parser = Twn4Parser(reasons.append)
    assert parser.feed(b"0001802004DEADBEEF\r") == [ParsedCard(bytes.fromhex("DEADBEEF"), "iso14443a")]
    assert parser.feed(b"0000\r") == [None]
    assert parser.feed(b"0001402805" + b"4B00423C15\r\n") == [em("4B00423C15")]
    assert parser.feed(b"00014918030012AB\r") == [ParsedCard(bytes.fromhex("0012AB"), "hid-prox")]
    bad = [b"01\r", b"0001802004DEADBE\r", b"0001802104DEADBEEF\r", b"000\r", b"00zz\r", b"0002\r"]
    for line in bad:
        assert parser.feed(line) == []
    assert parser.rejected == len(bad)
    assert "error code 01" in reasons[0]


def test_twn4_overlong_line_is_one_rejection() -> None:
    parser = Twn4Parser()
    assert parser.feed(b"00" * 5000 + b"\r" + b"0000\r") == [None]
    assert parser.rejected == 1


def _valid_em_frames_in(data: bytes) -> set[bytes]:
    frames = re.findall(rb"\x02([0-9A-F]{12})(?:\r\n)?\x03", data)
    return {bytes.fromhex(f.decode())[:5] for f in frames}


@given(st.binary(max_size=2000))
def test_stx_parser_fuzz_yields_only_cards_framed_in_the_input(data: bytes) -> None:
    parser = StxEtxParser()
    cards = parser.feed(data)
    parser.finish()
    assert {card.raw for card in cards if card} <= _valid_em_frames_in(data)


@given(st.lists(st.tuples(st.binary(min_size=5, max_size=5), st.binary(max_size=30))), st.booleans())
def test_stx_parser_finds_every_frame_between_noise(items: list[tuple[bytes, bytes]], id12: bool) -> None:
    parser = StxEtxParser()
    stream = b""
    for card, noise in items:
        stream += em_frame(card.hex(), b"\r\n" if id12 else b"") + noise.replace(b"\x02", b"")
    assert [c.raw for c in parser.feed(stream) if c] == [card for card, _ in items]


@given(st.binary(max_size=2000))
def test_twn4_parser_fuzz_yields_only_replies_in_the_input(data: bytes) -> None:
    parser = Twn4Parser()
    for result in parser.feed(data):
        if result is not None:
            assert result.raw.hex().upper().encode() + b"\r" in data.replace(b"\n", b"")
