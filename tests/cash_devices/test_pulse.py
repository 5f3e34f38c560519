"""The pulse acceptor driver on gpiozero's MockFactory, driven by the simulated acceptor.

The factory runs on a virtual clock (hw_sim.cash.pulse_sim), so widths and gaps are exact.
"""

from __future__ import annotations

import pytest

from cash_devices.errors import ConfigurationError
from cash_devices.events import CoinAccepted, CounterState, DeviceError, ErrorKind, UnmappedCredit
from cash_devices.pulse import PulseCoinAcceptor
from cash_devices.registry import open_acceptor
from hw_sim.cash.pulse_sim import SimPulseAcceptor, VirtualClockFactory
from tests.cash_devices.conftest import EventWaiter, run

SERIAL = "pulse-GPIO17"


@pytest.fixture
def factory():
    pins = VirtualClockFactory()
    yield pins
    pins.reset()


def coin(value, counter, pulses):
    return CoinAccepted(
        device_serial=SERIAL,
        value_minor=value,
        currency="EUR",
        event_counter=counter,
        epoch=0,
        position=pulses,
        coin_id=f"{pulses}-pulse",
        sorter_path=0,
    )


def test_each_coin_becomes_its_value(factory):
    sim = SimPulseAcceptor(factory)

    async def scenario():
        acceptor = await open_acceptor("pulse", "GPIO17", pin_factory=factory)
        events = EventWaiter(acceptor)
        try:
            await acceptor.enable()
            for value in (50, 100, 200):
                sim.insert_coin(value)
            assert [await events.next() for _ in range(3)] == [
                coin(50, 1, 1),
                coin(100, 2, 2),
                coin(200, 3, 4),
            ]
            assert acceptor.counter_state == CounterState(0, 3)
        finally:
            await acceptor.close()

    run(scenario)


def test_glitch_is_ignored_and_counted(factory):
    sim = SimPulseAcceptor(factory)

    async def scenario():
        acceptor = await open_acceptor("pulse", "GPIO17", pin_factory=factory)
        events = EventWaiter(acceptor)
        try:
            await acceptor.enable()
            sim.glitch(0.005)
            sim.insert_coin(100)
            assert await events.next() == coin(100, 1, 2)  # the glitch produced nothing
            assert acceptor.health.frames_rejected == 1
        finally:
            await acceptor.close()

    run(scenario)


def test_merged_trains_are_an_alarm_not_a_guess(factory):
    sim = SimPulseAcceptor(factory)

    async def scenario():
        acceptor = await open_acceptor("pulse", "GPIO17", pin_factory=factory, gap_s=0.3)
        events = EventWaiter(acceptor)
        try:
            await acceptor.enable()
            sim.insert_coins_merged(50, 100, gap_s=0.1)  # 1 + 2 pulses inside one coin gap
            assert await events.next() == UnmappedCredit(
                device_serial=SERIAL, position=3, event_counter=1, epoch=0
            )
        finally:
            await acceptor.close()

    run(scenario)


def test_inhibit_line_blocks_coins_until_enabled(factory):
    sim = SimPulseAcceptor(factory, inhibit_pin="GPIO27")

    async def scenario():
        acceptor = await open_acceptor("pulse", "GPIO17", inhibit_pin="GPIO27", pin_factory=factory)
        events = EventWaiter(acceptor)
        try:
            assert sim.insert_coin(200) is False  # inhibited at open
            await acceptor.enable()
            assert sim.insert_coin(200) is True
            assert await events.next() == coin(200, 1, 4)
            await acceptor.disable()
            assert sim.inhibited() is True
        finally:
            await acceptor.close()

    run(scenario)


def test_coin_while_disabled_without_inhibit_wiring_is_a_fault(factory):
    sim = SimPulseAcceptor(factory)

    async def scenario():
        acceptor = await open_acceptor("pulse", "GPIO17", pin_factory=factory)
        events = EventWaiter(acceptor)
        try:
            sim.insert_coin(200)
            assert await events.next() == DeviceError(
                device_serial=SERIAL,
                code=4,
                name="coin of 200 EUR while inhibited; not credited",
                kind=ErrorKind.FAULT,
                kept=True,
            )
            assert acceptor.health.kept_without_credit == 1
        finally:
            await acceptor.close()

    run(scenario)


def test_configurable_widths_gaps_and_active_high_wiring(factory):
    sim = SimPulseAcceptor(factory, active_low=False, pulse_width_s=0.05, pulse_gap_s=0.1, coin_gap_s=1.0)

    async def scenario():
        acceptor = await open_acceptor(
            "pulse",
            "GPIO17",
            pin_factory=factory,
            active_low=False,
            pulse_min_s=0.08,
            pulse_max_s=0.12,
            gap_s=0.6,
            resume=CounterState(2, 40),
        )
        events = EventWaiter(acceptor)
        try:
            await acceptor.enable()
            sim.insert_coin(50)  # 50 ms pulses: too short for this acceptor's 80-120 ms window
            sim.pulse_width_s = 0.1
            sim.insert_coin(200)
            event = await events.next()
            assert (event.value_minor, event.event_counter, event.epoch) == (200, 41, 2)
            assert event.idempotency_key == f"{SERIAL}/2/41"
            assert acceptor.health.frames_rejected == 1
        finally:
            await acceptor.close()

    run(scenario)


def test_bad_timing_settings_are_refused():
    with pytest.raises(ConfigurationError):
        PulseCoinAcceptor("GPIO17", pulse_min_s=0.2, pulse_max_s=0.1)
    with pytest.raises(ConfigurationError):
        PulseCoinAcceptor("GPIO17", pulses_minor={0: 50})


def test_pulse_acceptor_cannot_self_check(factory):
    async def scenario():
        acceptor = await open_acceptor("pulse", "GPIO17", pin_factory=factory)
        try:
            assert (await acceptor.self_check()).ok is None
        finally:
            await acceptor.close()

    run(scenario)


def test_bad_pin_is_a_configuration_error(factory):
    async def scenario():
        with pytest.raises(ConfigurationError, match="NOPE"):
            await open_acceptor("pulse", "NOPE", pin_factory=factory)

    run(scenario)
