"""The simulated ISO 14443-A tag against readers.md §1.9 and §3.1 (vector 11), over real UDP datagrams."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from hw_sim.readers.nfc_tag import NfcTagSim, cascade_levels


def test_cascade_levels_match_the_reference() -> None:
    assert cascade_levels(bytes.fromhex("1A2B3C4D")) == [bytes.fromhex("1A2B3C4D40")]
    assert cascade_levels(bytes.fromhex("04A2246A7F5B80")) == [
        bytes.fromhex("8804A2240A"), bytes.fromhex("6A7F5B80CE")
    ]  # fmt: skip
    assert cascade_levels(bytes.fromhex("0102030405060708090A")) == [
        bytes.fromhex("8801020388"), bytes.fromhex("880405068F"), bytes.fromhex("0708090A0C")
    ]  # fmt: skip
    with pytest.raises(ValueError):
        cascade_levels(bytes(5))


def test_tag_exchanges_match_the_reference() -> None:
    tag = NfcTagSim()
    try:
        tag.place("04A2246A7F5B80")
        exchange = {"26": "4400", "9320": "8804A2240A", "93708804A2240A": "04", "9520": "6A7F5B80CE",
                    "95706A7F5B80CE": "00"}  # fmt: skip
        for request, reply in exchange.items():
            assert tag.answer(bytes.fromhex(request)) == bytes.fromhex(reply)
        assert tag.answer(bytes.fromhex("9770")) is None  # no third level for a 7-byte UID
        assert tag.answer(bytes.fromhex("52")) == bytes.fromhex("4400")  # ALL_REQ wakes it too
        tag.place("1A2B3C4D")
        assert [tag.answer(bytes.fromhex(r)) for r in ("26", "9320", "93701A2B3C4D40")] == [
            bytes.fromhex("0400"), bytes.fromhex("1A2B3C4D40"), bytes.fromhex("08")
        ]  # fmt: skip
        assert tag.answer(bytes.fromhex("9370" + "1A2B3C4D41")) is None  # wrong BCC: not selected
        tag.remove()
        assert tag.answer(b"\x26") is None
        assert [(e.action, e.detail) for e in tag.history] == [
            ("place", "04A2246A7F5B80"), ("place", "1A2B3C4D"), ("remove", "")
        ]  # fmt: skip
    finally:
        tag.close()


def test_atqa_and_sak_follow_the_nxp_table() -> None:
    # readers.md §1.9: Classic 1K ATQA 00 04 / SAK 08 (4-byte UID), Ultralight 00 44 / 00 (7 bytes);
    # the ATQA goes LSB first on the wire
    tag = NfcTagSim()
    try:
        tag.place("1A2B3C4D")
        assert tag.answer(b"\x26") == bytes.fromhex("0400")
        tag.place("04A2246A7F5B80")
        assert tag.answer(b"\x26") == bytes.fromhex("4400")
        tag.place("04A2246A7F5B80", sak=0x20, atqa=bytes.fromhex("4403"))  # DESFire EV1: 03 44 / 20
        assert tag.answer(b"\x26") == bytes.fromhex("4403")
        assert tag.answer(bytes.fromhex("95706A7F5B80CE")) == b"\x20"
    finally:
        tag.close()


@pytest.fixture
def tag() -> Iterator[NfcTagSim]:
    sim = NfcTagSim().start()
    yield sim
    sim.close()


def _exchange(tag: NfcTagSim, datagram: bytes) -> bytes | None:
    """Send one datagram from an ephemeral port, as nfcpy's udp reader does; the answer or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as reader:
        reader.settimeout(0.5)
        reader.sendto(datagram, (tag.host, tag.port))
        try:
            return reader.recv(1024)
        except TimeoutError:
            return None


def test_udp_datagrams_are_the_nfcpy_format(tag: NfcTagSim) -> None:
    # readers.md §3.1: b"<bitrate type> <hex payload>" both ways
    assert _exchange(tag, b"106A 26") is None  # empty field: nobody answers
    assert tag.requests_unanswered == 1
    tag.place("1A2B3C4D")
    assert _exchange(tag, b"106A 26") == b"106A 0400"
    assert _exchange(tag, b"106A 9320") == b"106A 1a2b3c4d40"
    assert _exchange(tag, b"106A 93701a2b3c4d40") == b"106A 08"
    assert _exchange(tag, b"RFOFF") is None  # the reader muting its field carries no payload


def test_corrupt_next_replaces_one_real_answer(tag: NfcTagSim) -> None:
    tag.place("1A2B3C4D")
    tag.corrupt_next()
    assert _exchange(tag, b"106A 3000") is None  # not understood: silent, the corruption waits
    assert _exchange(tag, b"106A 26") == b"106A zz-not-hex"
    assert _exchange(tag, b"106A 26") == b"106A 0400"
