"""The simulated serial readers on their pty, byte-exact against readers.md §1.1, §1.2, §1.4.

The bytes are read from the pty the way a host reads them, and compared with the reference
vectors written out literally here: no parser or helper of ``reader_drivers`` is involved.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from hw_sim.readers.serial_sim import SerialReaderSim, em_frame, twn4_reply
from tests.hw_sim.conftest import open_tty, read_exactly, read_until, silent_for

# readers.md §1.1 (Arduino forum sample, D✓) and §1.1/§1.2/§6 vectors 2, 3 and 21
FORUM_SAMPLE = b"\x02010EEFEDC5C8\x03"
RDM_4B00423C15 = bytes.fromhex("02 34 42 30 30 34 32 33 43 31 35 32 30 03")
ID12_4B00423C15 = bytes.fromhex("02 34 42 30 30 34 32 33 43 31 35 32 30 0D 0A 03")
TWN4_SEARCH_TAG = b"0500FF\r"
TWN4_DEADBEEF = b"0001802004DEADBEEF\r"


Started = Callable[..., tuple[SerialReaderSim, int]]


@pytest.fixture
def tty(tmp_path) -> Iterator[Started]:
    """Factory: a started simulator and the host end of its port, opened as a host opens it."""
    sims: list[SerialReaderSim] = []
    fds: list[int] = []

    def start(protocol: str, **options: Any) -> tuple[SerialReaderSim, int]:
        sim = SerialReaderSim(protocol, str(tmp_path / f"tty-{protocol}"), **options).start()
        sims.append(sim)
        fds.append(open_tty(sim.path))
        return sim, fds[-1]

    yield start
    for fd in fds:
        os.close(fd)
    for sim in sims:
        sim.close()


def test_frame_builders_match_the_reference_bytes() -> None:
    assert em_frame("010EEFEDC5") == FORUM_SAMPLE
    assert em_frame("4B00423C15") == RDM_4B00423C15
    assert em_frame("4B00423C15", b"\r\n") == ID12_4B00423C15
    assert twn4_reply("DEADBEEF") == TWN4_DEADBEEF
    assert twn4_reply(None) == b"0000\r"


@pytest.mark.parametrize(("protocol", "card", "expected"), [
    ("rdm6300", "010EEFEDC5", FORUM_SAMPLE),
    ("rdm6300", "4B00423C15", RDM_4B00423C15),
    ("id12la", "4B00423C15", ID12_4B00423C15),
])  # fmt: skip
def test_a_tap_puts_exactly_the_reference_frame_on_the_line(
    tty, protocol: str, card: str, expected: bytes
) -> None:
    sim, fd = tty(protocol)
    sim.tap(card)
    assert read_exactly(fd, len(expected)) == expected
    assert silent_for(fd)  # one frame per tap
    assert [(event.action, event.detail) for event in sim.history][1:] == [("tap", card)]


def test_a_held_card_repeats_its_frame_until_removed(tty) -> None:
    sim, fd = tty("rdm6300", repeat_interval_s=0.02)
    sim.hold("4B00423C15", 10.0)
    assert read_exactly(fd, 3 * len(RDM_4B00423C15)) == RDM_4B00423C15 * 3
    sim.remove()
    read_exactly(fd, len(RDM_4B00423C15), timeout_s=0.1)  # at most one frame was already under way
    assert silent_for(fd)


def test_twn4_answers_search_tag_as_the_reference_says(tty) -> None:
    sim, fd = tty("twn4")
    os.write(fd, TWN4_SEARCH_TAG)
    assert read_until(fd, b"\r") == b"0000\r"  # nothing in the field
    sim.tap("DEADBEEF")
    os.write(fd, TWN4_SEARCH_TAG)
    assert read_until(fd, b"\r") == TWN4_DEADBEEF
    os.write(fd, TWN4_SEARCH_TAG)
    assert read_until(fd, b"\r") == b"0000\r"  # a tap is seen by one poll only
    sim.hold("DEADBEEF", 10.0)
    for _ in range(3):
        os.write(fd, TWN4_SEARCH_TAG)
        assert read_until(fd, b"\r") == TWN4_DEADBEEF
    os.write(fd, b"0700\r")  # another function: error code, not a tag
    assert read_until(fd, b"\r") == b"01\r"


def test_twn4_tag_types_are_the_elatec_codes() -> None:
    # Elatec.NET Constants.cs (readers.md §1.4): 0x80 ISO14443A, 0x40 EM4x02, 0x49 HID Prox
    assert twn4_reply("0102030405", "em4100") == b"00014028050102030405\r"
    assert twn4_reply("01020304", "hid-prox") == b"000149200401020304\r"


def test_noise_and_raw_bytes_go_out_unchanged(tty) -> None:
    sim, fd = tty("rdm6300")
    sim.noise(b"\x00\xff\x02ZZ")
    sim.send_raw(b"\x024B00")
    assert read_exactly(fd, 10) == b"\x00\xff\x02ZZ\x024B00"
    assert [event.action for event in sim.history] == ["plug", "noise", "raw"]


def test_unplug_removes_the_port_and_replug_brings_a_new_one(tty) -> None:
    sim, _ = tty("rdm6300")
    sim.unplug()
    assert not os.path.exists(sim.path)
    with pytest.raises(ConnectionError):
        sim.tap("4B00423C15")
    sim.replug()
    assert os.path.exists(sim.path)
    fresh = open_tty(sim.path)
    try:
        sim.tap("4B00423C15")
        assert read_exactly(fresh, len(RDM_4B00423C15)) == RDM_4B00423C15
    finally:
        os.close(fresh)
    # the card passed the unplugged reader (recorded, nothing sent); then a new port appeared
    assert [event.action for event in sim.history] == ["plug", "unplug", "tap", "plug", "tap"]


@pytest.mark.parametrize("card", ["4B00423C", "zz00423C15", ""])
def test_an_impossible_em4100_card_is_refused_before_anything_is_sent(tty, card: str) -> None:
    sim, fd = tty("rdm6300")
    with pytest.raises(ValueError):
        sim.tap(card)
    assert silent_for(fd)
    assert [event.action for event in sim.history] == ["plug"]
