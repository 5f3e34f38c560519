"""The real serial driver against the pty simulator: reads, debounce, noise, bursts, unplugging."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from hw_sim.readers import SerialReaderSim
from reader_drivers.base import HealthState
from reader_drivers.serial_reader import SerialReader
from tests.reader_drivers.conftest import no_more_reads, ready, run, until

SimFactory = Callable[..., SerialReaderSim]


@pytest.mark.parametrize("protocol", ["rdm6300", "id12la", "twn4"])
def test_tap_gives_exactly_one_converted_read(serial_sim: SimFactory, protocol: str) -> None:
    sim = serial_sim(protocol, technology="em4100")

    async def scenario() -> None:
        async with SerialReader(protocol, sim.path, convert="right:8|hex2dec|lpad:10:0") as reader:
            await ready(reader)
            sim.tap("4B00423C15")
            read = await reader.read(timeout_s=10)
            assert (read.raw_hex, read.technology, read.card_number) == ("4B00423C15", "em4100", "0004340757")
            assert read.reader_id == f"{protocol}:{sim.path}"
            await no_more_reads(reader)
            assert reader.health.frames_rejected == 0

    run(scenario())


def test_twn4_reports_the_tag_type_and_uid(serial_sim: SimFactory) -> None:
    sim = serial_sim("twn4")

    async def scenario() -> None:
        async with SerialReader("twn4", sim.path, convert="reverse-bytes|hex2dec") as reader:
            await ready(reader)
            sim.tap("04A2246A7F5B80")
            read = await reader.read(timeout_s=10)
            assert (read.raw_hex, read.technology) == ("04A2246A7F5B80", "iso14443a")
            assert read.card_number == "36129399818723844"

    run(scenario())


def test_held_card_is_reported_once_while_its_frames_repeat(serial_sim: SimFactory) -> None:
    sim = serial_sim("rdm6300", repeat_interval_s=0.02)

    async def scenario() -> None:
        async with SerialReader("rdm6300", sim.path) as reader:
            await ready(reader)
            sim.hold("4B00423C15", 10.0)
            assert (await reader.read(timeout_s=10)).raw_hex == "4B00423C15"
            await until(lambda: reader.health.frames_accepted >= 10)
            sim.remove()
            sim.tap("0102030405")  # another card is new at once
            assert (await reader.read(timeout_s=10)).raw_hex == "0102030405"
            health = reader.health
            assert health.reads_debounced == health.frames_accepted - 2

    run(scenario())


def test_same_card_again_after_the_debounce_window(serial_sim: SimFactory) -> None:
    sim = serial_sim("rdm6300")

    async def scenario() -> None:
        async with SerialReader("rdm6300", sim.path, debounce_s=0.3) as reader:
            await ready(reader)
            sim.tap("4B00423C15")
            first = await reader.read(timeout_s=10)
            sim.tap("4B00423C15")
            await until(lambda: reader.health.reads_debounced == 1)
            await asyncio.sleep(0.4)  # longer than the window: the card is new again
            sim.tap("4B00423C15")
            second = await reader.read(timeout_s=10)
            assert second.monotonic_s - first.monotonic_s >= 0.3
            await no_more_reads(reader)

    run(scenario())


def test_twn4_knows_the_card_left_so_a_retap_is_new(serial_sim: SimFactory) -> None:
    sim = serial_sim("twn4")

    async def scenario() -> None:
        async with SerialReader("twn4", sim.path, debounce_s=3600.0) as reader:
            await ready(reader)
            sim.tap("DEADBEEF")  # found by one poll; the next poll answers "no tag"
            await reader.read(timeout_s=10)
            seen_bytes = reader.health.bytes_received
            await until(lambda: reader.health.bytes_received >= seen_bytes + 5)  # the "0000\r" after it
            sim.tap("DEADBEEF")
            assert (await reader.read(timeout_s=10)).raw_hex == "DEADBEEF"
            assert [event.action for event in sim.history] == ["plug", "tap", "tap"]

    run(scenario())


def test_line_noise_and_bad_frames_are_counted_never_read(serial_sim: SimFactory) -> None:
    sim = serial_sim("rdm6300")

    async def scenario() -> None:
        async with SerialReader("rdm6300", sim.path) as reader:
            await ready(reader)
            sim.noise(b"\x00\xffnoise" + b"\x02ZZZZZZZZZZZZ\x03" + b"\x024B00423C1521\x03" + b"\x024B00")
            sim.tap("4B00423C15")  # its STX cuts the truncated frame off
            assert (await reader.read(timeout_s=10)).raw_hex == "4B00423C15"
            await no_more_reads(reader)
            health = reader.health
            assert (health.bytes_discarded, health.frames_rejected, health.frames_accepted) == (7, 3, 1)

    run(scenario())


def test_burst_of_10000_frames_arrives_complete_and_in_order(serial_sim: SimFactory) -> None:
    sim = serial_sim("id12la")
    cards = [f"{n:010X}" for n in range(10_000)]

    async def scenario() -> None:
        async with SerialReader("id12la", sim.path) as reader:
            await ready(reader)
            sender = asyncio.create_task(asyncio.to_thread(sim.burst, cards))
            got = [(await reader.read(timeout_s=30)).raw_hex for _ in cards]
            await sender
            assert got == cards
            assert (reader.health.frames_accepted, reader.health.frames_rejected) == (10_000, 0)
            assert reader.health.bytes_received == 10_000 * 16

    run(scenario())


def test_unplug_mid_frame_reconnects_without_a_false_read(serial_sim: SimFactory) -> None:
    sim = serial_sim("rdm6300")

    async def scenario() -> None:
        async with SerialReader("rdm6300", sim.path) as reader:
            await ready(reader)
            sim.send_raw(sim.frame("1111111111")[:7])
            await until(lambda: reader.health.bytes_received == 7)
            sim.unplug()
            await until(lambda: reader.health.state == HealthState.RECONNECTING)
            sim.replug()
            await ready(reader, reconnects=1)
            sim.tap("4B00423C15")
            assert (await reader.read(timeout_s=10)).raw_hex == "4B00423C15"
            await no_more_reads(reader)
            assert reader.health.frames_rejected == 1  # the half frame
            assert reader.health.reconnects >= 1

    run(scenario())


def test_reader_started_before_the_device_exists_connects_when_it_appears(tmp_path) -> None:
    sim = SerialReaderSim("rdm6300", str(tmp_path / "late"))

    async def scenario() -> None:
        async with SerialReader("rdm6300", sim.path) as reader:
            await until(lambda: reader.health.reconnects >= 2)
            assert reader.health.state == HealthState.RECONNECTING
            assert "cannot open" in (reader.health.last_error or "")
            sim.start()
            await ready(reader)
            sim.tap("4B00423C15")
            assert (await reader.read(timeout_s=10)).raw_hex == "4B00423C15"

    try:
        run(scenario())
    finally:
        sim.close()


def test_cancelled_read_loses_nothing_and_stop_releases_the_port(serial_sim: SimFactory) -> None:
    sim = serial_sim("rdm6300")

    async def scenario() -> None:
        reader = SerialReader("rdm6300", sim.path)
        await reader.start()
        await ready(reader)
        with pytest.raises(TimeoutError):
            await reader.read(timeout_s=0.05)
        waiting = asyncio.create_task(reader.read())
        await asyncio.sleep(0.05)
        waiting.cancel()
        sim.tap("4B00423C15")
        assert (await reader.read(timeout_s=10)).raw_hex == "4B00423C15"
        await reader.stop()
        assert reader.health.state == HealthState.STOPPED
        async with SerialReader("rdm6300", sim.path) as again:  # exclusive lock was released
            await ready(again)
            sim.tap("0102030405")
            assert (await again.read(timeout_s=10)).raw_hex == "0102030405"

    run(scenario())


def test_conversion_failure_is_counted_not_reported(serial_sim: SimFactory) -> None:
    sim = serial_sim("rdm6300")

    async def scenario() -> None:
        async with SerialReader("rdm6300", sim.path, convert="wiegand:h10301") as reader:
            await ready(reader)
            sim.tap("4B00423C15")  # 40 bits do not fit a 26-bit frame
            await until(lambda: reader.health.conversions_rejected == 1)
            await no_more_reads(reader)

    run(scenario())


def test_full_read_queue_drops_and_counts(serial_sim: SimFactory) -> None:
    sim = serial_sim("rdm6300")

    async def scenario() -> None:
        async with SerialReader("rdm6300", sim.path, queue_size=2) as reader:
            await ready(reader)
            sim.burst([f"{n:010X}" for n in range(5)])
            await until(lambda: reader.health.frames_accepted == 5)
            assert [(await reader.read(timeout_s=5)).raw_hex for _ in range(2)] == [
                "0000000000",
                "0000000001",
            ]
            assert reader.health.reads_dropped == 3
            await no_more_reads(reader)

    run(scenario())
