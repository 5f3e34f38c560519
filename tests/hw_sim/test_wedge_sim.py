"""The simulated keyboard wedge against readers.md §1.7-1.8: key codes and input_event records.

The FIFO is read as the kernel's ``struct input_event`` records with ``struct`` here, not with
the driver's decoder.
"""

from __future__ import annotations

import itertools
import os
import struct
from collections.abc import Iterator

import pytest

from hw_sim.readers.wedge_sim import WedgeSim, keystrokes
from tests.hw_sim.conftest import read_exactly

# §1.8 vectors, as printed in the reference: (key code, value), 1 = down, 0 = up
DIGITS_VECTOR = [(11, 1), (11, 0), (11, 1), (11, 0), (11, 1), (11, 0), (5, 1), (5, 0), (6, 1), (6, 0),
                 (3, 1), (3, 0), (6, 1), (6, 0), (3, 1), (3, 0), (9, 1), (9, 0), (6, 1), (6, 0),
                 (28, 1), (28, 0)]  # fmt: skip
TRACK2_VECTOR = [(39, 1), (39, 0), (2, 1), (2, 0), (3, 1), (3, 0), (13, 1), (13, 0), (4, 1), (4, 0), (42, 1),
                 (53, 1), (53, 0), (42, 0), (28, 1), (28, 0)]  # fmt: skip
TRACK1_START_VECTOR = [(42, 1), (6, 1), (6, 0), (42, 0), (42, 1), (48, 1), (48, 0), (42, 0), (2, 1), (2, 0),
                       (3, 1), (3, 0), (42, 1), (7, 1), (7, 0), (42, 0), (42, 1), (45, 1), (45, 0), (42, 0),
                       (42, 1), (53, 1), (53, 0), (42, 0)]  # fmt: skip
# Linux input event constants (linux/input-event-codes.h, readers.md §1.8)
EV_SYN, EV_KEY, EV_MSC, KEY_LEFTALT, KEY_KP0, KEY_KP3, KEY_KP6 = 0, 1, 4, 56, 82, 81, 77
INPUT_EVENT = struct.Struct("llHHi")  # struct input_event on 64-bit Linux: 24 bytes


def test_keystrokes_are_the_reference_vectors() -> None:
    assert keystrokes("0004525285\n") == DIGITS_VECTOR
    assert keystrokes(";12=3?\n") == TRACK2_VECTOR
    assert keystrokes("%B12^X?") == TRACK1_START_VECTOR


def test_alt_ascii_mode_types_decimal_codes_on_the_keypad() -> None:
    # MagTek "ALT ASCII" (readers.md §1.7): '?' is Alt held + KP0 KP6 KP3
    assert keystrokes("?", alt_codes=True) == [
        (KEY_LEFTALT, 1), (KEY_KP0, 1), (KEY_KP0, 0), (KEY_KP6, 1), (KEY_KP6, 0), (KEY_KP3, 1), (KEY_KP3, 0),
        (KEY_LEFTALT, 0),
    ]  # fmt: skip


def test_german_layout_swaps_y_and_z_and_refuses_what_it_cannot_type() -> None:
    assert keystrokes("zy", "de") == [(21, 1), (21, 0), (44, 1), (44, 0)]  # QWERTZ
    assert keystrokes("zy", "us") == [(44, 1), (44, 0), (21, 1), (21, 0)]
    with pytest.raises(ValueError, match="cannot type"):
        keystrokes("ü", "us")


@pytest.fixture
def wedge(tmp_path) -> Iterator[tuple[WedgeSim, int]]:
    sim = WedgeSim(str(tmp_path / "events"), key_delay_s=0.004).start()
    fd = os.open(sim.path, os.O_RDONLY | os.O_NONBLOCK)
    yield sim, fd
    os.close(fd)
    sim.close()


def _records(fd: int, count: int) -> list[tuple[float, int, int, int]]:
    raw = read_exactly(fd, count * INPUT_EVENT.size)
    assert len(raw) == count * INPUT_EVENT.size
    return [
        (sec + usec / 1e6, kind, code, value) for sec, usec, kind, code, value in INPUT_EVENT.iter_unpack(raw)
    ]


def test_a_tap_writes_key_events_each_followed_by_syn(wedge) -> None:
    sim, fd = wedge
    sim.tap("0004525285")
    records = _records(fd, 2 * len(DIGITS_VECTOR))
    keys = [(code, value) for _, kind, code, value in records if kind == EV_KEY]
    assert keys == DIGITS_VECTOR
    assert [kind for _, kind, _, _ in records] == [EV_KEY, EV_SYN] * len(DIGITS_VECTOR)
    presses = [at for at, kind, _, value in records if kind == EV_KEY and value == 1]
    gaps = [b - a for a, b in itertools.pairwise(presses)]
    # event time advances by the key delay, not the wall clock (timeval keeps whole microseconds)
    assert gaps == pytest.approx([0.004] * (len(presses) - 1), abs=2e-6)
    assert [(event.action, event.detail) for event in sim.history] == [("tap", "0004525285")]


def test_scan_codes_precede_each_key_event_when_asked(tmp_path) -> None:
    with WedgeSim(str(tmp_path / "events"), scan_codes=True) as sim:
        fd = os.open(sim.path, os.O_RDONLY | os.O_NONBLOCK)
        try:
            sim.type_text("1")
            kinds = [kind for _, kind, _, _ in _records(fd, 6)]
        finally:
            os.close(fd)
    assert kinds == [EV_MSC, EV_KEY, EV_SYN, EV_MSC, EV_KEY, EV_SYN]


def test_a_person_types_slowly_and_raw_events_go_out_unchanged(wedge) -> None:
    sim, fd = wedge
    sim.person_types("12", key_delay_s=0.25)
    first, second = (at for at, kind, _, value in _records(fd, 8) if kind == EV_KEY and value == 1)
    assert second - first == pytest.approx(0.25, abs=2e-6)
    sim.write_events([(EV_KEY, 250, 1), (3, 0, 7)])
    assert [(kind, code, value) for _, kind, code, value in _records(fd, 2)] == [(EV_KEY, 250, 1), (3, 0, 7)]
    assert [event.action for event in sim.history] == ["person", "raw"]


def test_a_swipe_types_both_tracks_then_enter(wedge) -> None:
    sim, fd = wedge
    sim.swipe("%B12^X?", ";12=3?")
    expected = TRACK1_START_VECTOR + TRACK2_VECTOR
    keys = [(code, value) for _, kind, code, value in _records(fd, 2 * len(expected)) if kind == EV_KEY]
    assert keys == expected
