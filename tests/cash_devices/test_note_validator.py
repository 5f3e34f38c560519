"""The real ccTalk note validator driver against the simulated one: escrow, stack, return, faults."""

from __future__ import annotations

import pytest

from cash_devices.base import Denomination, SelfCheck
from cash_devices.cctalk import open_link
from cash_devices.errors import EscrowError
from cash_devices.events import (
    CoinAccepted,
    CreditEvent,
    DeviceError,
    ErrorKind,
    NoteEscrowed,
    NoteReturned,
    NoteStacked,
    Reset,
)
from cash_devices.registry import open_acceptor
from hw_sim.cash import SimCcTalkBus, SimCoinAcceptor, SimNoteValidator
from tests.cash_devices.conftest import EventWaiter, run, until

SERIAL = "SIM-7654321"


@pytest.fixture(params=["simple", "crc16"])
def checksum(request):
    return request.param


@pytest.fixture
def device(checksum):
    return SimNoteValidator(crc16=checksum == "crc16")


@pytest.fixture
def bus(device):
    with SimCcTalkBus(device) as line:
        yield line


def open_note(bus, checksum, **options):
    return open_acceptor("cctalk", bus.path, 40, kind="note", checksum=checksum, timeout_s=0.2, **options)


def test_bill_table_uses_the_country_scaling_factor(bus, device, checksum):
    async def scenario():
        validator = await open_note(bus, checksum)
        try:
            assert validator.identity.category == "Bill Validator"
            assert validator.denominations == {
                1: Denomination(1, "EU0005A", 500, "EUR"),
                2: Denomination(2, "EU0010A", 1000, "EUR"),
                3: Denomination(3, "EU0020A", 2000, "EUR"),
                4: Denomination(4, "EU0050A", 5000, "EUR"),
            }
            assert device.escrow_enabled is True
        finally:
            await validator.close()

    run(scenario)


def test_note_in_escrow_is_not_credit_until_stacked(bus, device, checksum):
    async def scenario():
        validator = await open_note(bus, checksum)
        events = EventWaiter(validator)
        try:
            await validator.enable()
            device.insert_note(2000)
            held = await events.next()
            assert held == NoteEscrowed(
                device_serial=SERIAL,
                value_minor=2000,
                currency="EUR",
                bill_id="EU0020A",
                position=3,
                escrow_id=f"{SERIAL}/0/1",
            )
            assert not isinstance(held, CreditEvent)
            assert validator.held == held
            await validator.accept_escrow()
            stacked = await events.next()
            assert stacked == NoteStacked(
                device_serial=SERIAL,
                value_minor=2000,
                currency="EUR",
                event_counter=2,
                epoch=0,
                position=3,
                bill_id="EU0020A",
                escrow_id=held.escrow_id,
            )
            assert isinstance(stacked, CreditEvent)
            assert validator.held is None
            assert device.count("route") == 1
        finally:
            await validator.close()

    run(scenario)


def test_returned_note_is_never_credited(bus, device, checksum):
    async def scenario():
        validator = await open_note(bus, checksum)
        events = EventWaiter(validator)
        try:
            await validator.enable()
            device.insert_note(500)
            held = await events.next()
            await validator.return_escrow()
            assert await events.next() == NoteReturned(device_serial=SERIAL, escrow_id=held.escrow_id)
            with pytest.raises(EscrowError, match="empty"):
                await validator.return_escrow()
        finally:
            await validator.close()

    run(scenario)


def test_without_escrow_notes_are_stacked_at_once(bus, device, checksum):
    async def scenario():
        validator = await open_note(bus, checksum, escrow=False)
        events = EventWaiter(validator)
        try:
            assert device.escrow_enabled is False
            await validator.enable(validator.mask_for([5000]))
            device.insert_note(5000)
            stacked = await events.next()
            assert (type(stacked), stacked.value_minor, stacked.escrow_id) == (NoteStacked, 5000, None)
            device.insert_note(500)  # not in the mask: handed back
            refused = await events.next()
            assert (refused.code, refused.name, refused.kind) == (
                4,
                "inhibited bill (on serial)",
                ErrorKind.REJECT,
            )
        finally:
            await validator.close()

    run(scenario)


def test_jam_fraud_and_reset_with_a_note_held(bus, device, checksum):
    async def scenario():
        validator = await open_note(bus, checksum)
        events = EventWaiter(validator)
        try:
            await validator.enable()
            device.jam()
            assert await events.next() == DeviceError(
                device_serial=SERIAL,
                code=6,
                name="bill jammed in transport (unsafe mode)",
                kind=ErrorKind.FAULT,
            )
            device.fraud_attempt()
            assert await events.next() == DeviceError(
                device_serial=SERIAL, code=18, name="string fraud detected", kind=ErrorKind.FRAUD
            )
            device.insert_note(1000)
            assert isinstance(await events.next(), NoteEscrowed)
            device.power_cycle()
            assert await events.next() == Reset(device_serial=SERIAL, epoch=1)
            assert validator.held is None  # the held note is never credited after a reset
            await until(lambda: device.escrow_enabled and device.master_accepting)
        finally:
            await validator.close()

    run(scenario)


def test_coin_acceptor_and_note_validator_share_one_line():
    coins, notes = SimCoinAcceptor(), SimNoteValidator()

    async def scenario():
        with SimCcTalkBus(coins, notes) as bus:
            link = open_link(bus.path, timeout_s=0.2)  # one host owns the line
            acceptor = await open_acceptor("cctalk", bus.path, 2, kind="coin", link=link)
            validator = await open_acceptor("cctalk", bus.path, 40, kind="note", escrow=False, link=link)
            coin_events, note_events = EventWaiter(acceptor), EventWaiter(validator)
            try:
                await acceptor.enable()
                await validator.enable()
                coins.insert_coin(100)
                notes.insert_note(1000)
                assert isinstance(await coin_events.next(), CoinAccepted)
                assert (await note_events.next()).value_minor == 1000
            finally:
                await acceptor.close()
                await validator.close()
                link.close()
            assert not any(record.what in ("bad-frame", "discarded") for record in bus.history)

    run(scenario)


def test_self_check_names_a_bill_jam(bus, device, checksum):
    async def scenario():
        validator = await open_note(bus, checksum)
        try:
            device.jam()
            assert await validator.self_check() == SelfCheck(ok=False, code=39, name="bill jammed")
        finally:
            await validator.close()

    run(scenario)


def test_escrow_timeout_returns_the_note_and_extension_is_sent(bus, device, checksum):
    async def scenario():
        validator = await open_note(bus, checksum)
        events = EventWaiter(validator)
        try:
            await validator.enable()
            device.insert_note(5000)
            held = await events.next()
            await validator.extend_escrow()
            assert device.count("escrow-extended") == 1
            device.escrow_timeout()  # the customer hesitated too long
            assert await events.next() == NoteReturned(device_serial=SERIAL, escrow_id=held.escrow_id)
            assert validator.held is None
            with pytest.raises(EscrowError):
                await validator.accept_escrow()  # too late: nothing is held
        finally:
            await validator.close()

    run(scenario)
