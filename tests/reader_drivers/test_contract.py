"""One CardReader contract, run against every driver family on its simulator over a real transport.

Serial RDM6300 / ID-12LA / TWN4 on a pty, a keyboard wedge on an input-event FIFO, PC/SC through
a private pcscd and vpcd, NFC through nfcpy's ``udp`` device. Each family is configured as a site
would configure it (its conversion chain), so the same credential becomes the same normalised
number everywhere. The contract:

* a card presented once is one read with the normalised number, the reader's technology and id;
* while the card stays, it is not read again; once it left (readers that can tell) or after the
  debounce window (readers that cannot), it is a new read;
* garbage on the line is refused with a clear reason in ``health.last_rejected`` and loses
  nothing: the next card is read;
* a reader stopped and started again (or a second reader on the same device) reads again;
* the driver's counters account for every frame: each accepted frame was delivered, debounced,
  refused by the conversion or dropped; the simulator's history holds the verbs the test used.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from hw_sim.readers import NfcTagSim, SerialReaderSim, VirtualCard, WedgeSim
from reader_drivers import CardRead, CardReader, HealthState, ReaderHealth, open_reader
from tests.reader_drivers.conftest import Pcscd, ready, run, until

NUMBER = "0004340757"  # what the hub knows for the credential every rig presents
EM_CARD = "4B00423C15"  # 125 kHz EM4100: customer 4B, data 00423C15 (readers.md §1.3)
UID = "00423C15"  # 13.56 MHz: a 4-byte ISO 14443-A UID carrying the same 32 bits
HEX_CHAIN = "right:8|hex2dec|lpad:10:0"  # the site's chain for readers that deliver bytes
PCSC_READER = "Virtual PCD 00 00"


@dataclass
class Rig:
    """One driver family on its simulator, and the verbs the contract needs from it."""

    driver: str
    location: dict[str, Any]  # url= or device= for open_reader
    convert: str
    technology: str
    knows_removal: bool  # the reader sees the card leave (polling readers, PC/SC, NFC)
    present: Callable[[], None]  # the card comes to the reader (and stays, where it can)
    remove: Callable[[], None]
    sensed_again: Callable[[CardReader], Awaitable[None]]  # the reader had time to see it again
    gone: Callable[[CardReader], Awaitable[None]]  # the reader had time to see it leave
    garbage: Callable[[CardReader], Awaitable[None]]  # malformed input; returns once it was refused
    garbage_reason: str  # what health.last_rejected says about it
    history: Callable[[], list[str]]  # the simulator's record of the verbs applied
    options: dict[str, Any] = field(default_factory=dict)

    def open(self, **options: Any) -> CardReader:
        return open_reader(self.driver, convert=self.convert, **self.location, **self.options, **options)


async def _accepted_grows(reader: CardReader, by: int) -> None:
    start = reader.health.frames_accepted
    await until(lambda: reader.health.frames_accepted >= start + by)


async def _nothing(_reader: CardReader) -> None:
    return None


def _serial_rig(protocol: str, tmp_path: Path) -> Generator[Rig, None, None]:
    technology = "em4100"
    sim = SerialReaderSim(protocol, str(tmp_path / f"tty-{protocol}"), repeat_interval_s=0.05,
                          technology=technology).start()  # fmt: skip
    polling = protocol == "twn4"

    async def garbage(reader: CardReader) -> None:
        rejected = reader.health.frames_rejected
        if polling:
            sim.noise(b"00zz\r")  # a reply line that is not hexadecimal
        else:
            sim.noise(b"\x00\xffnoise" + b"\x024B00423C1521\x03")  # checksum 21, the XOR is 20
        await until(lambda: reader.health.frames_rejected > rejected)

    async def gone(reader: CardReader) -> None:
        if polling:  # a "no tag" answer (0000\r) came after the removal
            received = reader.health.bytes_received
            await until(lambda: reader.health.bytes_received >= received + 5)

    try:
        yield Rig(
            driver=protocol,
            location={"device": sim.path},
            convert=HEX_CHAIN,
            technology=technology,
            knows_removal=polling,
            present=lambda: sim.hold(EM_CARD, 3600.0),
            remove=sim.remove,
            sensed_again=lambda reader: _accepted_grows(reader, 2),
            gone=gone,
            garbage=garbage,
            garbage_reason="not upper-case hex" if polling else "checksum 21 != XOR 20",
            history=lambda: [event.action for event in sim.history if event.action != "plug"],
        )
    finally:
        sim.close()


def _wedge_rig(tmp_path: Path) -> Generator[Rig, None, None]:
    sim = WedgeSim(str(tmp_path / "wedge-events")).start()
    key_1, key_2, key_f1, enter = 2, 3, 59, 28

    async def garbage(reader: CardReader) -> None:
        rejected = reader.health.frames_rejected
        # a fast burst with a key no keymap types (F1): a broken or misconfigured reader
        sim.write_events(
            [(1, code, value) for code in (key_1, key_2, key_f1, key_1, enter) for value in (1, 0)]
        )
        await until(lambda: reader.health.frames_rejected > rejected)

    async def typed_again(reader: CardReader) -> None:
        sim.tap("4340757")  # a wedge reader types the number again when the card comes again
        await _accepted_grows(reader, 1)

    try:
        yield Rig(
            driver="wedge",
            location={"device": sim.path},
            convert="lpad:10:0",  # an ID-only decimal pcProx configuration (readers.md §1.6)
            technology="keyboard",
            knows_removal=False,
            present=lambda: sim.tap("4340757"),
            remove=lambda: None,  # a wedge reader says nothing when the card leaves
            sensed_again=typed_again,
            gone=_nothing,
            garbage=garbage,
            garbage_reason="key code 59 is not in the keymap",
            history=lambda: [event.action for event in sim.history],
        )
    finally:
        sim.close()


def _pcsc_rig(pcscd: Pcscd) -> Generator[Rig, None, None]:
    card = VirtualCard(pcscd.vpcd_port)
    present = [False]

    def insert() -> None:
        card.insert(UID)
        present[0] = True

    def remove() -> None:
        card.remove()
        present[0] = False

    async def sensed_again(_reader: CardReader) -> None:
        polls = card.atr_requests
        await until(lambda: card.atr_requests >= polls + 2)  # pcscd checked the card twice more

    async def gone(_reader: CardReader) -> None:
        await asyncio.to_thread(_pcscd_sees_no_card)

    async def garbage(reader: CardReader) -> None:
        rejected = reader.health.frames_rejected
        card.fail_next("6A81")  # the card refuses GET DATA: a final error, not worth a retry
        insert()
        await until(lambda: reader.health.frames_rejected > rejected)
        remove()
        await gone(reader)

    try:
        yield Rig(
            driver="pcsc",
            location={"device": PCSC_READER},
            convert=HEX_CHAIN,
            technology="iso14443a",
            knows_removal=True,
            present=insert,
            remove=remove,
            sensed_again=sensed_again,
            gone=gone,
            garbage=garbage,
            garbage_reason="6A 81: function not supported",
            history=lambda: [event.action for event in card.history if event.action != "apdu"],
        )
    finally:
        card.remove()
        _pcscd_sees_no_card()  # the next test needs an empty reader


def _pcscd_sees_no_card(timeout_s: float = 10.0) -> None:
    from smartcard import scard

    _, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    try:
        state, deadline = scard.SCARD_STATE_UNAWARE, time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            _, states = scard.SCardGetStatusChange(context, 500, [(PCSC_READER, state)])
            state = states[0][1] & ~scard.SCARD_STATE_CHANGED
            if state & scard.SCARD_STATE_EMPTY:
                return
        pytest.fail("pcscd still reports a card after it was removed")
    finally:
        scard.SCardReleaseContext(context)


def _nfc_rig() -> Generator[Rig, None, None]:
    tag = NfcTagSim().start()

    async def sensed_again(_reader: CardReader) -> None:
        since = time.monotonic()
        await until(lambda: tag.last_answer_s > since + 0.3)  # polls every 0.1 s kept finding it

    async def gone(_reader: CardReader) -> None:
        unanswered = tag.requests_unanswered
        await until(lambda: tag.requests_unanswered > unanswered)  # a poll found the field empty

    async def garbage(reader: CardReader) -> None:
        rejected = reader.health.frames_rejected
        tag.corrupt_next()  # the next answer is not hexadecimal
        tag.place(UID)
        await until(lambda: reader.health.frames_rejected > rejected)
        tag.remove()
        await gone(reader)

    try:
        yield Rig(
            driver="nfc",
            location={"url": tag.path},
            convert=HEX_CHAIN,
            technology="iso14443a",
            knows_removal=True,
            present=lambda: tag.place(UID),
            remove=tag.remove,
            sensed_again=sensed_again,
            gone=gone,
            garbage=garbage,
            garbage_reason="tag answer unusable",
            history=lambda: [event.action for event in tag.history],
        )
    finally:
        tag.close()


FAMILIES = ["rdm6300", "id12la", "twn4", "wedge", "pcsc", "nfc"]


@pytest.fixture(params=FAMILIES)
def rig(request: pytest.FixtureRequest, tmp_path: Path) -> Generator[Rig, None, None]:
    family: str = request.param
    if family == "wedge":
        rigs = _wedge_rig(tmp_path)
    elif family == "pcsc":
        rigs = _pcsc_rig(request.getfixturevalue("pcscd"))
    elif family == "nfc":
        rigs = _nfc_rig()
    else:
        rigs = _serial_rig(family, tmp_path)
    with contextlib.closing(rigs):
        yield next(rigs)


async def _read(reader: CardReader, timeout_s: float = 15.0) -> CardRead:
    return await reader.read(timeout_s=timeout_s)


async def _no_read(reader: CardReader) -> None:
    with pytest.raises(TimeoutError):
        await reader.read(timeout_s=0.3)


def _accounts_for_every_frame(health: ReaderHealth, delivered: int) -> None:
    settled = health.reads_debounced + health.conversions_rejected + health.reads_dropped
    assert health.frames_accepted == delivered + settled


def _check(read: CardRead, rig: Rig, reader: CardReader) -> None:
    assert (read.card_number, read.technology, read.reader_id) == (NUMBER, rig.technology, reader.reader_id)
    assert reader.reader_id.startswith(f"{rig.driver}:")
    assert read.monotonic_s <= time.monotonic()


def test_a_card_is_one_read_of_its_normalised_number(rig: Rig) -> None:
    async def scenario() -> None:
        async with rig.open() as reader:
            await ready(reader)
            rig.present()
            _check(await _read(reader), rig, reader)
            await rig.sensed_again(reader)
            await _no_read(reader)
            health = reader.health
            assert (health.state, health.frames_rejected, health.last_rejected) == (
                HealthState.READY,
                0,
                None,
            )
            _accounts_for_every_frame(health, delivered=1)

    run(scenario())


def test_a_card_that_stays_is_not_read_again_until_it_left(rig: Rig) -> None:
    async def scenario() -> None:
        async with rig.open(debounce_s=3600.0) as reader:
            await ready(reader)
            rig.present()
            await _read(reader)
            await rig.sensed_again(reader)
            rig.remove()
            await rig.gone(reader)
            rig.present()
            if rig.knows_removal:  # it saw the card leave: back again is a new read
                _check(await _read(reader), rig, reader)
                delivered = 2
            else:  # it cannot tell: the same card within the window is the same presence
                await _accepted_grows(reader, 1)
                await _no_read(reader)
                assert reader.health.reads_debounced >= 1
                delivered = 1
            _accounts_for_every_frame(reader.health, delivered)

    run(scenario())


def test_the_same_card_after_the_debounce_window_is_new(rig: Rig) -> None:
    async def scenario() -> None:
        async with rig.open(debounce_s=0.3) as reader:
            await ready(reader)
            rig.present()
            first = await _read(reader)
            rig.remove()
            await rig.gone(reader)
            await asyncio.sleep(0.4)  # longer than the window
            rig.present()
            second = await _read(reader)
            _check(second, rig, reader)
            assert second.monotonic_s - first.monotonic_s >= 0.3

    run(scenario())


def test_garbage_is_refused_with_a_reason_and_loses_nothing(rig: Rig) -> None:
    async def scenario() -> None:
        async with rig.open() as reader:
            await ready(reader)
            await rig.garbage(reader)
            assert rig.garbage_reason in (reader.health.last_rejected or "")
            rig.present()
            _check(await _read(reader), rig, reader)
            await _no_read(reader)
            assert reader.health.state == HealthState.READY  # refused input is no connection problem
            _accounts_for_every_frame(reader.health, delivered=1)

    run(scenario())


def test_a_stopped_reader_reads_again_after_start_and_so_does_a_new_one(rig: Rig) -> None:
    async def scenario() -> None:
        reader = rig.open()
        await reader.start()
        await ready(reader)
        await reader.stop()
        assert reader.health.state == HealthState.STOPPED
        await reader.start()
        await ready(reader)
        rig.present()
        _check(await _read(reader), rig, reader)
        await reader.stop()  # releases the device: a second reader can take it
        rig.remove()
        second = rig.open()
        async with second:
            await ready(second)
            await rig.gone(second)
            rig.present()
            _check(await _read(second), rig, second)

    run(scenario())


def test_the_simulator_keeps_the_verbs_and_the_driver_its_counts(rig: Rig) -> None:
    async def scenario() -> list[str]:
        async with rig.open() as reader:
            await ready(reader)
            rig.present()
            await _read(reader)
            rig.remove()
            await rig.gone(reader)
            health = reader.health
            assert health.bytes_received >= 1 or rig.driver in ("pcsc", "nfc")  # byte streams count bytes
            _accounts_for_every_frame(health, delivered=1)
        return rig.history()

    history = run(scenario())
    expected = {"rdm6300": ["hold", "remove"], "id12la": ["hold", "remove"], "twn4": ["hold", "remove"],
                "wedge": ["tap"], "pcsc": ["insert", "remove"], "nfc": ["place", "remove"]}  # fmt: skip
    assert history == expected[rig.driver]
