"""The simulated pulse acceptor against readers.md §4.3, seen through gpiozero itself (not cash_devices).

A "NO" open-collector output idles high through the pull-up and pulls the line low once per
pulse; a coin is N pulses of the configured width. gpiozero's own ``DigitalInputDevice`` counts
the activations and the mock pin's recorded states give the exact widths on the virtual clock.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from gpiozero import DigitalInputDevice, DigitalOutputDevice

from hw_sim.cash.pulse_sim import SimPulseAcceptor, VirtualClockFactory


@pytest.fixture
def factory() -> Iterator[VirtualClockFactory]:
    pins = VirtualClockFactory()
    yield pins
    for watcher in _WATCHERS:
        watcher.close()
    _WATCHERS.clear()
    pins.reset()


_WATCHERS: list[DigitalInputDevice] = []  # gpiozero drops a device's callbacks once it is collected


def _watch(factory: VirtualClockFactory, pin: str = "GPIO17", pull_up: bool = True) -> list[int]:
    """Count activations as gpiozero sees them (active = low with the pull-up)."""
    activations: list[int] = []
    line = DigitalInputDevice(pin, pull_up=pull_up, pin_factory=factory)
    line.when_activated = lambda: activations.append(1)
    _WATCHERS.append(line)
    factory.pin(pin).clear_states()
    return activations


def _low_widths(factory: VirtualClockFactory, pin: str = "GPIO17") -> list[float]:
    """Durations of every low period recorded on the pin (from the state changes)."""
    states = factory.pin(pin).states
    return [round(after.timestamp, 6) for before, after in itertools.pairwise(states) if not before.state]


def test_each_coin_is_its_pulse_count_on_an_idle_high_line(factory: VirtualClockFactory) -> None:
    sim = SimPulseAcceptor(factory, pulses={50: 1, 100: 2, 200: 4}, pulse_width_s=0.05, pulse_gap_s=0.03)
    activations = _watch(factory)
    assert factory.pin("GPIO17").state is True  # idle: pulled up
    assert sim.insert_coin(200) is True
    assert len(activations) == 4
    assert _low_widths(factory) == [0.05, 0.05, 0.05, 0.05]
    states = factory.pin("GPIO17").states
    highs = [round(after.timestamp, 6) for before, after in itertools.pairwise(states[1:]) if before.state]
    assert highs == [0.03, 0.03, 0.03]  # the gaps between the pulses of one coin
    assert sim.insert_coin(50) is True and len(activations) == 5
    assert [record.what for record in sim.history] == ["coin", "coin"]


def test_glitch_is_one_short_pulse(factory: VirtualClockFactory) -> None:
    sim = SimPulseAcceptor(factory)
    activations = _watch(factory)
    sim.glitch(0.005)
    assert (len(activations), _low_widths(factory)) == (1, [0.005])


def test_nc_wiring_pulses_high_instead(factory: VirtualClockFactory) -> None:
    sim = SimPulseAcceptor(factory, active_low=False)
    activations = _watch(factory, pull_up=False)
    sim.insert_coin(100)
    assert len(activations) == 2


def test_the_inhibit_input_makes_it_reject_coins(factory: VirtualClockFactory) -> None:
    sim = SimPulseAcceptor(factory, inhibit_pin="GPIO27")
    activations = _watch(factory)
    inhibit = DigitalOutputDevice("GPIO27", pin_factory=factory)
    inhibit.on()  # the host holds the acceptor's inhibit line
    assert sim.insert_coin(200) is False
    inhibit.off()
    assert sim.insert_coin(200) is True
    assert len(activations) == 4
    assert [record.what for record in sim.history] == ["coin-rejected", "coin"]
