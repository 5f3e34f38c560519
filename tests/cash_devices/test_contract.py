"""One Acceptor contract, run against every implementation on its simulator (style lesson 3).

open() leaves the device inhibited; enable() lets money in and it arrives as exactly one
CreditEvent with a unique idempotency key; disable() stops it; close() ends events().
"""

from __future__ import annotations

import contextlib
import inspect
from dataclasses import dataclass
from typing import Any

import pytest

import cash_devices
from cash_devices import CreditEvent, open_acceptor
from hw_sim.cash import (
    SimCcTalkBus,
    SimCoinAcceptor,
    SimId003Validator,
    SimNoteValidator,
    SimPulseAcceptor,
    VirtualClockFactory,
)
from tests.cash_devices.conftest import EventWaiter, run, until


@dataclass
class Rig:
    """An implementation, its simulator, and how to feed it 2.00 EUR."""

    open_options: dict[str, Any]
    insert: Any
    stack: bool = False


@contextlib.contextmanager
def cctalk_coin():
    device = SimCoinAcceptor()
    with SimCcTalkBus(device) as bus:
        yield Rig({"driver": "cctalk", "url": bus.path, "kind": "coin"}, lambda: device.insert_coin(200))


@contextlib.contextmanager
def cctalk_note():
    device = SimNoteValidator(bills=("EU0002A", "EU0005A"))  # a 2-euro note keeps the contract uniform
    with SimCcTalkBus(device) as bus:
        yield Rig(
            {"driver": "cctalk", "url": bus.path, "kind": "note"}, lambda: device.insert_note(200), True
        )


@contextlib.contextmanager
def id003_note():
    device = SimId003Validator(notes={0x61: (2, 0), 0x62: (5, 0)})  # a 2-euro note, as above

    async def insert():
        await until(lambda: device.steady is None)  # the previous note has left the transport
        device.insert_note(200)

    with device:
        yield Rig({"driver": "id003", "url": device.path}, insert, True)


@contextlib.contextmanager
def pulse():
    factory = VirtualClockFactory()
    sim = SimPulseAcceptor(factory, inhibit_pin="GPIO27")
    try:
        yield Rig(
            {"driver": "pulse", "url": "GPIO17", "pin_factory": factory, "inhibit_pin": "GPIO27"},
            lambda: sim.insert_coin(200),
        )
    finally:
        factory.reset()


@pytest.fixture(
    params=[cctalk_coin, cctalk_note, id003_note, pulse],
    ids=["cctalk-coin", "cctalk-note", "id003-note", "pulse"],
)
def rig(request):
    with request.param() as prepared:
        yield prepared


async def insert(rig):
    inserted = rig.insert()
    if inspect.isawaitable(inserted):
        await inserted


async def feed(rig, acceptor, events):
    await insert(rig)
    if rig.stack:  # a note waits in escrow until the host stacks it
        assert isinstance(acceptor, cash_devices.Escrow)
        await until(lambda: getattr(acceptor, "held", None) is not None)  # the poll saw the escrow
        await acceptor.accept_escrow()
    return await events.next()


def test_acceptor_contract(rig):
    async def scenario():
        options = dict(rig.open_options)
        acceptor = await open_acceptor(options.pop("driver"), options.pop("url"), **options)
        events = EventWaiter(acceptor, skip=(cash_devices.DeviceError, cash_devices.NoteEscrowed))
        assert acceptor.health.enabled is False
        await insert(rig)  # inhibited: refused
        await acceptor.enable(acceptor.mask_for([200]))
        first = await feed(rig, acceptor, events)
        second = await feed(rig, acceptor, events)
        for credit in (first, second):
            assert isinstance(credit, CreditEvent)
            assert (credit.value_minor, credit.currency) == (200, "EUR")
        assert first.idempotency_key != second.idempotency_key
        await acceptor.disable()
        assert acceptor.health.enabled is False
        await acceptor.close()
        assert [event async for event in acceptor.events() if isinstance(event, CreditEvent)] == []

    run(scenario)


def test_public_surface_is_explicit():
    public = {
        name
        for name, value in vars(cash_devices).items()
        if not name.startswith("_") and not inspect.ismodule(value)
    }
    assert sorted(cash_devices.__all__) == sorted(public)
    assert len(cash_devices.__all__) == 56  # a public name added or removed must be a conscious change


def test_events_end_for_every_consumer_after_close():
    async def scenario():
        with SimCcTalkBus(SimCoinAcceptor()) as bus:
            async with await open_acceptor("cctalk", bus.path, 2) as acceptor:
                pass
            assert [event async for event in acceptor.events()] == []
            assert [event async for event in acceptor.events()] == []

    run(scenario)


def test_context_manager_opens_once():
    device = SimCoinAcceptor()

    async def scenario():
        with SimCcTalkBus(device) as bus:
            async with await open_acceptor("cctalk", bus.path, 2):
                pass
            serial_requests = [r for r in device.history if r.what == "request" and r.detail["header"] == 242]
            assert len(serial_requests) == 1

    run(scenario)
