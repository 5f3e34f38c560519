"""The copier side of a foreign interface harness (FIH / copy control interface) on gpiozero pins.

The terminal drives ``enable`` (high = copying allowed); the copier answers with
active-low count pulses, one per impression, on ``count_mono``/``count_color`` (and
``count_large`` for large formats): pulse longer than 50 ms, repetition below 10 Hz
(Canon/Océ CCI timing). Works on ``gpiozero.pins.mock.MockFactory`` pins in tests.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from hw_sim.mfp.model import SimulatedMfp

__all__ = ["FihCopier"]


@dataclass
class FihCopier:
    """Drive count pulses for a :class:`SimulatedMfp`'s copies; obey its enable line."""

    factory: Any
    enable_pin: int = 17
    count_mono_pin: int = 27
    count_color_pin: int = 22
    count_large_pin: int = 23
    pulse_s: float = 0.06
    gap_s: float = 0.06
    pulses_sent: dict[str, int] = field(default_factory=lambda: {"mono": 0, "color": 0, "large": 0})

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        for number in (self.count_mono_pin, self.count_color_pin, self.count_large_pin):
            self.factory.pin(number).drive_high()  # idle level of an active-low opto output

    def enabled(self) -> bool:
        """Is the terminal's enable output high?"""
        return bool(self.factory.pin(self.enable_pin).state)

    def attach(self, device: SimulatedMfp) -> None:
        """Gate ``device.copy`` on the enable line and pulse for every copy it makes."""
        device.copy_gate = self.enabled
        device.on_copy = self.emit

    def emit(self, pages: int, color: bool, duplex: bool, large: bool = False) -> None:
        """Send one pulse per impression (blocking: ``pages * (pulse_s + gap_s)``)."""
        kind = "color" if color else "mono"
        pin = self.factory.pin(self.count_color_pin if color else self.count_mono_pin)
        with self._lock:
            for _ in range(pages):
                self._pulse(pin, self.pulse_s)
                self.pulses_sent[kind] += 1
                if large:
                    self._pulse(self.factory.pin(self.count_large_pin), self.pulse_s)
                    self.pulses_sent["large"] += 1

    def glitch(self, color: bool = False) -> None:
        """A spike far shorter than a real count pulse (must not be counted)."""
        pin = self.factory.pin(self.count_color_pin if color else self.count_mono_pin)
        self._pulse(pin, 0.0)

    def _pulse(self, pin: Any, width_s: float) -> None:
        pin.drive_low()
        if width_s:
            time.sleep(width_s)
        pin.drive_high()
        time.sleep(self.gap_s)
