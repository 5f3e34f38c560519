"""Pulse-output coin acceptors (CH-926 and alike) on a GPIO input, through gpiozero.

The acceptor answers each coin with N pulses on one open-collector line (e.g. 1 = 50 ct,
2 = €1, 4 = €2; ../shared/reference/readers.md §4.3). The driver timestamps every edge with the
pin factory's ticks, keeps pulses whose width lies in ``[pulse_min_s, pulse_max_s]`` (shorter
ones are glitches, longer ones a stuck line; both counted in ``health.frames_rejected``), and
closes a coin when the line has been idle for ``gap_s``. All timing uses the factory's clock, so
the same code runs on a Pi and on a mock factory with a virtual clock.

A pulse acceptor has no serial number and no event counter: ``device_serial`` is configured
(default ``pulse-<pin>``) and the driver numbers coins itself, continuing from ``resume``. The
optional ``inhibit_pin`` drives the acceptor's inhibit input (or a relay on its supply); a coin
that arrives anyway while disabled, or outside the enabled mask, is reported as a fault and not
credited.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import deque
from collections.abc import Mapping
from typing import Any

from gpiozero import DigitalOutputDevice, GPIOZeroError, InputDevice

from cash_devices.base import Acceptor, Denomination, DeviceIdentity, SelfCheck
from cash_devices.errors import ConfigurationError
from cash_devices.events import (
    CoinAccepted,
    CounterState,
    DeviceError,
    ErrorKind,
    UnmappedCredit,
)

__all__ = ["PulseCoinAcceptor"]

log = logging.getLogger(__name__)

DEFAULT_PULSES_MINOR = {1: 50, 2: 100, 4: 200}


class PulseCoinAcceptor(Acceptor):
    """A coin acceptor that reports coins as pulse trains on one GPIO line."""

    def __init__(
        self,
        pin: str | int,
        *,
        pulses_minor: Mapping[int, int] = DEFAULT_PULSES_MINOR,
        currency: str = "EUR",
        pulse_min_s: float = 0.02,
        pulse_max_s: float = 0.15,
        gap_s: float = 0.3,
        active_low: bool = True,
        inhibit_pin: str | int | None = None,
        inhibit_active_high: bool = True,
        pin_factory: Any = None,
        device_serial: str | None = None,
        resume: CounterState | None = None,
        check_interval_s: float = 0.02,
    ) -> None:
        super().__init__()
        if not pulses_minor or not all(0 < pulses <= 16 for pulses in pulses_minor):
            raise ConfigurationError("pulse counts must be 1-16 and at least one is needed")
        if not 0 < pulse_min_s < pulse_max_s < gap_s:
            raise ConfigurationError("need 0 < pulse_min_s < pulse_max_s < gap_s")
        self.pin = pin
        self.currency = currency
        self.pulse_min_s, self.pulse_max_s, self.gap_s = pulse_min_s, pulse_max_s, gap_s
        self.active_low = active_low
        self.check_interval_s = check_interval_s
        self.device_serial = device_serial or f"pulse-{pin}"
        self.denominations = {
            pulses: Denomination(pulses, f"{pulses}-pulse", value, currency)
            for pulses, value in sorted(pulses_minor.items())
        }
        self._inhibit_pin, self._inhibit_active_high = inhibit_pin, inhibit_active_high
        self._pin_factory = pin_factory
        self._epoch = resume.epoch if resume else 0
        self._sequence = resume.event_counter if resume else 0
        self._edges: deque[tuple[float, bool]] = deque()
        self._edges_lock = threading.Lock()
        self._mask: int | None = None
        self._input: InputDevice | None = None
        self._inhibit: DigitalOutputDevice | None = None
        self._task: asyncio.Task[None] | None = None
        # pulse-train state, touched only by the checker task
        self._pulse_started: float | None = None
        self._last_edge: float | None = None
        self._pulses = 0

    @property
    def counter_state(self) -> CounterState:
        """Persist this and pass it as ``resume`` to keep idempotency keys unique."""
        return CounterState(epoch=self._epoch, event_counter=self._sequence)

    async def open(self) -> DeviceIdentity:
        """Claim the pins, inhibit, start watching the line."""
        try:
            self._claim_pins()
        except GPIOZeroError as error:  # no GPIO here, pin busy, bad pin name...
            raise ConfigurationError(f"pulse acceptor on {self.pin}: {error}") from error
        self.identity = DeviceIdentity("generic", "Coin Acceptor", "pulse", self.device_serial)
        self._health.online = True
        self._task = asyncio.create_task(self._watch(), name=f"pulse-{self.pin}")
        return self.identity

    def _claim_pins(self) -> None:
        self._input = InputDevice(self.pin, pull_up=self.active_low, pin_factory=self._pin_factory)
        self._input.pin.edges = "both"
        self._input.pin.when_changed = self._on_edge
        if self._inhibit_pin is not None:
            self._inhibit = DigitalOutputDevice(
                self._inhibit_pin, active_high=self._inhibit_active_high, pin_factory=self._pin_factory
            )
            self._inhibit.on()

    async def enable(self, mask: int | None = None) -> None:
        """Release the inhibit line; coins outside ``mask`` are reported as faults, not credit."""
        self._mask = self.known_mask() if mask is None else mask
        if self._inhibit is not None:
            self._inhibit.off()
        self._health.enabled = True

    async def disable(self) -> None:
        """Assert the inhibit line (if wired); later coins are faults, not credit."""
        self._mask = None
        if self._inhibit is not None:
            self._inhibit.on()
        self._health.enabled = False

    async def self_check(self) -> SelfCheck:
        """A pulse acceptor cannot test itself: ``ok`` is None."""
        return SelfCheck(ok=None, code=0, name="pulse acceptors have no self-check")

    def _on_edge(self, ticks: float, state: int) -> None:
        # gpiozero's callback thread (or the simulator's): only queue, the loop does the logic
        with self._edges_lock:
            self._edges.append((ticks, bool(state) != self.active_low))

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.check_interval_s)
            with self._edges_lock:
                edges = list(self._edges)
                self._edges.clear()
            for ticks, active in edges:
                self._edge(ticks, active)
            self._maybe_finish(self._ticks())

    def _ticks(self) -> float:
        assert self._input is not None
        now: float = self._input.pin_factory.ticks()
        return now

    def _elapsed_s(self, later: float, earlier: float) -> float:
        assert self._input is not None
        elapsed: float = self._input.pin_factory.ticks_diff(later, earlier)
        return elapsed

    def _edge(self, ticks: float, active: bool) -> None:
        if active:
            self._maybe_finish(ticks)  # a new train after a long pause closes the previous coin
            self._pulse_started = ticks
        elif self._pulse_started is not None:
            self._end_pulse(self._elapsed_s(ticks, self._pulse_started))
            self._pulse_started = None
        self._last_edge = ticks

    def _end_pulse(self, width_s: float) -> None:
        if self.pulse_min_s <= width_s <= self.pulse_max_s:
            self._pulses += 1
            return
        self._health.frames_rejected += 1
        log.warning(
            "pulse of %.1f ms on %s outside [%g, %g] s: ignored",
            width_s * 1000,
            self.pin,
            self.pulse_min_s,
            self.pulse_max_s,
        )

    def _maybe_finish(self, now: float) -> None:
        if not self._pulses or self._pulse_started is not None or self._last_edge is None:
            return
        if self._elapsed_s(now, self._last_edge) > self.gap_s:
            pulses, self._pulses = self._pulses, 0
            self._finish_coin(pulses)

    def _finish_coin(self, pulses: int) -> None:
        denomination = self.denominations.get(pulses)
        if denomination is None:
            self._sequence += 1
            self._health.last_error = f"{pulses} pulses match no coin; not credited"
            self._health.kept_without_credit += 1
            self._emit(
                UnmappedCredit(
                    device_serial=self.device_serial,
                    position=pulses,
                    event_counter=self._sequence,
                    epoch=self._epoch,
                )
            )
        elif self._mask is None or not self._mask >> (pulses - 1) & 1:
            name = f"coin of {denomination.value_minor} {self.currency} while inhibited; not credited"
            self._health.last_error = name
            self._health.kept_without_credit += 1
            self._emit(
                DeviceError(
                    device_serial=self.device_serial, code=pulses, name=name, kind=ErrorKind.FAULT, kept=True
                )
            )
        else:
            self._sequence += 1
            self._emit(
                CoinAccepted(
                    device_serial=self.device_serial,
                    value_minor=denomination.value_minor,
                    currency=self.currency,
                    event_counter=self._sequence,
                    epoch=self._epoch,
                    position=pulses,
                    coin_id=denomination.code,
                )
            )

    async def _shutdown(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for device in (self._inhibit, self._input):
            if device is not None:
                device.close()
        self._health.online = self._health.enabled = False
