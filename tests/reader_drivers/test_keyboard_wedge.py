"""Keyboard-wedge decoding (readers.md §1.7-1.8, vectors 9-10) and the driver against the FIFO simulator."""

from __future__ import annotations

import glob
import os
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hw_sim.readers.wedge_sim import LAYOUTS, WedgeSim, keystrokes
from reader_drivers.base import HealthState
from reader_drivers.keyboard_wedge import WedgeBurst, WedgeDecoder, WedgeReader, parse_magstripe
from tests.reader_drivers.conftest import no_more_reads, ready, run, until

# §1.8 vectors, as printed in the reference
DIGITS_VECTOR = [(11, 1), (11, 0), (11, 1), (11, 0), (11, 1), (11, 0), (5, 1), (5, 0), (6, 1), (6, 0),
                 (3, 1), (3, 0), (6, 1), (6, 0), (3, 1), (3, 0), (9, 1), (9, 0), (6, 1), (6, 0),
                 (28, 1), (28, 0)]  # fmt: skip
TRACK2_VECTOR = [(39, 1), (39, 0), (2, 1), (2, 0), (3, 1), (3, 0), (13, 1), (13, 0), (4, 1), (4, 0), (42, 1),
                 (53, 1), (53, 0), (42, 0), (28, 1), (28, 0)]  # fmt: skip
TRACK1 = "%B4111111111111111^DOE/JOHN^2512101000000000000?"
TRACK2 = ";4111111111111111=25121010000000000000?"


def decode(pairs: list[tuple[int, int]], gap_s: float = 0.004, **options: object) -> list[WedgeBurst]:
    decoder = WedgeDecoder(**options)  # type: ignore[arg-type]
    bursts: list[WedgeBurst] = []
    for index, (code, value) in enumerate(pairs):
        bursts += decoder.feed(1, code, value, 1000.0 + index * gap_s)
        bursts += decoder.feed(0, 0, 0, 1000.0 + index * gap_s)  # EV_SYN
    return bursts


def test_reference_keystrokes_decode() -> None:
    assert [b.text for b in decode(DIGITS_VECTOR)] == ["0004525285"]
    assert [b.text for b in decode(TRACK2_VECTOR)] == [";12=3?"]


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_every_layout_decodes_with_its_keymap(layout: str) -> None:
    text = TRACK1 + TRACK2 if layout == "us" else "%B4111^MÜLLER/ZOË^25?;4111=25?"
    text = text.replace("Ë", "E")
    assert [b.text for b in decode(keystrokes(text + "\n", layout), keymap=layout)] == [text]


def test_digits_decode_with_either_keymap_but_letters_need_the_right_one() -> None:
    assert [b.text for b in decode(keystrokes("0004525285\n", "de"), keymap="us")] == ["0004525285"]
    assert [b.text for b in decode(keystrokes("ZY12\n", "de"), keymap="us")] == ["YZ12"]  # QWERTZ


def test_alt_keypad_codes_decode() -> None:
    assert [b.text for b in decode([*keystrokes(";12=3?", alt_codes=True), (28, 1), (28, 0)])] == [";12=3?"]


def test_person_typing_slowly_is_not_a_read() -> None:
    rejects: list[str] = []
    assert decode(DIGITS_VECTOR, gap_s=0.2, on_reject=rejects.append) == []
    assert rejects == []  # single keys are a person, not a broken reader: nothing to count


def test_burst_interrupted_or_short_or_unknown_key_is_rejected() -> None:
    decoder = WedgeDecoder(min_length=4)
    events = [(2, 1, 0.000), (3, 1, 0.004), (4, 1, 0.300), (5, 1, 0.304), (28, 1, 0.308)]  # 12 pause 34 ⏎
    assert [decoder.feed(1, code, value, t) for code, value, t in events] == [[], [], [], [], []]
    assert decoder.rejected == 2  # "12" cut by the pause, then "34" too short
    assert decoder.feed(1, 59, 1, 1.0) == [] and decoder.feed(1, 2, 1, 1.001) == []  # F1 then "1"
    assert decoder.feed(1, 28, 1, 1.002) == [] and decoder.rejected == 3


def test_enter_after_a_pause_ends_nothing() -> None:
    decoder = WedgeDecoder()
    for index, code in enumerate([2, 3, 4, 5]):
        decoder.feed(1, code, 1, index * 0.004)
    assert decoder.feed(1, 28, 1, 5.0) == []
    assert decoder.rejected == 1


def test_overlong_burst_is_rejected() -> None:
    assert decode(keystrokes("1" * 600 + "\n"), max_length=512) == []


def test_magstripe_tracks() -> None:
    card = parse_magstripe(TRACK1 + TRACK2)
    assert (card.pan, card.name, card.track1, card.track2) == ("4111111111111111", "DOE/JOHN", TRACK1, TRACK2)
    assert parse_magstripe("%E?" + TRACK2).pan == "4111111111111111"  # track 1 read error
    assert parse_magstripe(TRACK1).name == "DOE/JOHN"
    for bad in ["%E?;E?", TRACK1 + ";4111111111111112=2512?", ";4111", "x" + TRACK2, "%B1^A^?x"]:
        with pytest.raises(ValueError):
            parse_magstripe(bad)


@given(st.lists(st.tuples(st.integers(0, 255), st.integers(-1, 3), st.floats(0, 0.2)), max_size=300))
def test_decoder_fuzz_yields_only_well_formed_bursts(events: list[tuple[int, int, float]]) -> None:
    decoder = WedgeDecoder()
    now = 0.0
    for code, value, gap in events:
        now += gap
        for burst in decoder.feed(1, code, value, now):
            assert len(burst.text) >= 4
            assert burst.ended_s - burst.started_s <= (len(burst.text) + 1) * 0.05 + 1e-9


@given(
    st.text(alphabet="0123456789ABCDEFabcdef:;=?%^/", min_size=4, max_size=60), st.sampled_from(["us", "de"])
)
def test_any_text_typed_fast_decodes_exactly(text: str, layout: str) -> None:
    assert [b.text for b in decode(keystrokes(text + "\n", layout), keymap=layout)] == [text]


# --- the driver against the simulator over a FIFO ---------------------------------------


@pytest.fixture
def wedge_sim(tmp_path) -> Iterator[WedgeSim]:
    sim = WedgeSim(str(tmp_path / "event-fifo")).start()
    yield sim
    sim.close()


def test_driver_reads_number_reader(wedge_sim: WedgeSim) -> None:
    async def scenario() -> None:
        async with WedgeReader(wedge_sim.path, convert="lstrip:0") as reader:
            await ready(reader)
            wedge_sim.tap("0004525285")
            read = await reader.read(timeout_s=10)
            assert (read.raw, read.technology, read.card_number) == (b"0004525285", "keyboard", "4525285")
            wedge_sim.person_types("1234\n")
            await no_more_reads(reader)
            wedge_sim.tap("0004525286")
            assert (await reader.read(timeout_s=10)).card_number == "4525286"

    run(scenario())


def test_driver_reads_german_layout_reader_and_magstripe(tmp_path) -> None:
    with WedgeSim(str(tmp_path / "de"), layout="de", scan_codes=True) as sim:

        async def scenario() -> None:
            async with WedgeReader(sim.path, keymap="de") as reader:
                await ready(reader)
                sim.swipe(TRACK1, TRACK2)
                read = await reader.read(timeout_s=10)
                assert (read.technology, read.card_number, read.raw) == (
                    "magstripe", "4111111111111111", (TRACK1 + TRACK2).encode()
                )  # fmt: skip
                sim.swipe(TRACK1, ";4111111111111112=2512?")  # tracks disagree
                await until(lambda: reader.health.frames_rejected == 1)
                await no_more_reads(reader)

        run(scenario())


def test_driver_survives_hostile_events_and_per_key_delays(wedge_sim: WedgeSim) -> None:
    async def scenario() -> None:
        async with WedgeReader(wedge_sim.path) as reader:
            await ready(reader)
            wedge_sim.write_events([(1, code % 700, code % 4) for code in range(0, 5000, 7)] + [(1, 28, 1)])
            wedge_sim.type_text("12345678\n", [0.001, 0.002, 0.03, 0.04, 0.001, 0.002, 0.049, 0.01, 0.001])
            read = await reader.read(timeout_s=10)
            assert read.card_number == "12345678"
            await no_more_reads(reader)

    run(scenario())


def test_driver_waits_for_the_device_and_ignores_other_files(tmp_path) -> None:
    plain_file = tmp_path / "not-a-device"
    plain_file.write_text("x")

    async def scenario() -> None:
        async with WedgeReader(str(plain_file)) as reader:
            await until(lambda: reader.health.state == HealthState.RECONNECTING)
            assert "neither an input device nor a FIFO" in (reader.health.last_error or "")

    run(scenario())


def test_bad_keymap_is_refused_at_once() -> None:
    with pytest.raises(ValueError, match="unknown keymap"):
        WedgeReader("/nonexistent", keymap="xx")


@pytest.mark.skipif(
    not glob.glob("/dev/input/event*") or not os.access("/dev/uinput", os.W_OK),
    reason="no input devices or uinput on this machine: the evdev+grab path needs real hardware",
)
def test_evdev_device_with_uinput() -> None:  # pragma: no cover - hardware only
    import evdev

    ui = evdev.UInput()
    try:

        async def scenario() -> None:
            async with WedgeReader(str(ui.device.path)) as reader:
                await ready(reader)
                for code, value in DIGITS_VECTOR:
                    ui.write(1, code, value)
                    ui.syn()
                assert (await reader.read(timeout_s=10)).card_number == "0004525285"

        run(scenario())
    finally:
        ui.close()


def test_200_digit_number_from_a_wedge_is_one_read() -> None:
    number = "1234567890" * 20
    assert [b.text for b in decode(keystrokes(number + "\n"))] == [number]


@given(st.text(max_size=200))
def test_magstripe_parser_fuzz_returns_a_pan_from_the_text_or_refuses(text: str) -> None:
    try:
        card = parse_magstripe(text)
    except ValueError:
        return
    assert card.pan.isdigit() and 1 <= len(card.pan) <= 19
    assert (card.track2 or card.track1 or "") in text and card.pan in text
