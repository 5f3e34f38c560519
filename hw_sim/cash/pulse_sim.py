"""A pulse-output coin acceptor (CH-926 style) driving a gpiozero mock pin on a virtual clock.

:class:`VirtualClockFactory` is a gpiozero ``MockFactory`` whose ``ticks()`` and pin edge
timestamps come from a clock the simulator advances, so pulse widths and gaps are exact and a
test never depends on how fast this machine sleeps. :class:`SimPulseAcceptor` speaks the
electrical protocol of readers.md §4.3: the output idles inactive (high for the usual "NO"
open-collector wiring) and each coin is N active pulses.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from gpiozero.pins.mock import MockFactory, MockPin, PinState

__all__ = ["SimPulseAcceptor", "VirtualClockFactory", "VirtualClockPin"]


# gpiozero ships no type information, so its classes are Any to mypy: subclassing them is the point.
class VirtualClockFactory(MockFactory):  # type: ignore[misc]
    """A ``MockFactory`` on a virtual clock; ``advance(s)`` moves time forward."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(pin_class=VirtualClockPin, **kwargs)
        self.now_s = 1000.0
        self.clock_lock = threading.Lock()

    def ticks(self) -> float:  # an instance clock instead of MockFactory's static one
        """The virtual time in seconds."""
        with self.clock_lock:
            return self.now_s

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` of virtual time pass."""
        with self.clock_lock:
            self.now_s += seconds


class VirtualClockPin(MockPin):  # type: ignore[misc]  # gpiozero is untyped (see above)
    """A ``MockPin`` whose edges are stamped with the factory's virtual clock."""

    _state: bool
    _last_change: float
    states: list[PinState]

    def _change_state(self, value: bool) -> bool:
        if self._state == value:
            return False
        now = self.factory.ticks()
        self._state = value
        self.states.append(PinState(now - self._last_change, value))
        self._last_change = now
        return True

    def clear_states(self) -> None:
        """Start the recorded state list at the current virtual time."""
        self._last_change = self.factory.ticks() if isinstance(self.factory, VirtualClockFactory) else 0.0
        self.states = [PinState(0.0, self._state)]


@dataclass(frozen=True)
class PulseRecord:
    """One thing the simulated acceptor did."""

    what: str
    detail: dict[str, Any] = field(default_factory=dict)


class SimPulseAcceptor:
    """Drives the coin line of a pulse acceptor with domain verbs; keeps a history."""

    def __init__(
        self,
        factory: VirtualClockFactory,
        pin: str = "GPIO17",
        *,
        pulses: dict[int, int] | None = None,
        pulse_width_s: float = 0.05,
        pulse_gap_s: float = 0.05,
        coin_gap_s: float = 0.5,
        active_low: bool = True,
        inhibit_pin: str | None = None,
        inhibit_active_high: bool = True,
    ) -> None:
        self.factory = factory
        self.line = factory.pin(pin)
        self.pulses = pulses or {50: 1, 100: 2, 200: 4}
        self.pulse_width_s, self.pulse_gap_s, self.coin_gap_s = pulse_width_s, pulse_gap_s, coin_gap_s
        self.active_low = active_low
        self.inhibit = factory.pin(inhibit_pin) if inhibit_pin else None
        self.inhibit_active_high = inhibit_active_high
        self.history: list[PulseRecord] = []

    def inhibited(self) -> bool:
        """Whether the host holds the inhibit input (a real acceptor then rejects every coin)."""
        if self.inhibit is None or self.inhibit.function != "output":
            return False
        return bool(self.inhibit.state) == self.inhibit_active_high

    def insert_coin(self, value: int) -> bool:
        """A coin worth ``value`` minor units; returns False if it was rejected (inhibited)."""
        if self.inhibited():
            self.history.append(PulseRecord("coin-rejected", {"value": value}))
            return False
        self.history.append(PulseRecord("coin", {"value": value, "pulses": self.pulses[value]}))
        self.pulse_train(self.pulses[value], self.pulse_width_s)
        self.factory.advance(self.coin_gap_s)
        return True

    def insert_coins_merged(self, first: int, second: int, gap_s: float) -> None:
        """Two coins whose trains are only ``gap_s`` apart (shorter than the host's coin gap)."""
        self.history.append(PulseRecord("merged", {"values": [first, second], "gap_s": gap_s}))
        self.pulse_train(self.pulses[first], self.pulse_width_s)
        self.factory.advance(gap_s)
        self.pulse_train(self.pulses[second], self.pulse_width_s)
        self.factory.advance(self.coin_gap_s)

    def glitch(self, width_s: float = 0.005) -> None:
        """A single noise pulse (e.g. 5 ms) that a host must not count."""
        self.history.append(PulseRecord("glitch", {"width_s": width_s}))
        self.pulse_train(1, width_s)
        self.factory.advance(self.coin_gap_s)

    def pulse_train(self, count: int, width_s: float) -> None:
        """``count`` active pulses of ``width_s`` separated by ``pulse_gap_s``."""
        for index in range(count):
            if index:
                self.factory.advance(self.pulse_gap_s)
            self._drive(active=True)
            self.factory.advance(width_s)
            self._drive(active=False)

    def _drive(self, active: bool) -> None:
        if active == self.active_low:
            self.line.drive_low()
        else:
            self.line.drive_high()
