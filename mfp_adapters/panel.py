"""Panel lock: who may use the copier, and how many pages it made, without SNMP.

:class:`PanelLock` is the interface the terminal drives. :class:`FihPanelLock` is the
hardware route: a foreign interface harness (FIH, key-counter / copy control interface)
on GPIO through gpiozero. :class:`EmbeddedPlatformAdapter` is where vendor embedded
platforms (HyPAS, OXPd, MEAP, SOP, OpenAPI, EIP, OSA, eSF) plug in later: none of
them has a public API, so none is implemented here.

FIH electrical model (pin numbers are BCM and configurable; check the vendor's harness
sheet): ``enable`` output, high = copying allowed (drives a relay); count inputs
``count_mono``, ``count_color`` and optional ``count_large``, active-low opto pulses, one
per impression. The Canon/Océ copy control interface documents pulses longer than
50 ms at less than 10 Hz: pulses shorter than ``min_pulse_s`` are glitches and pulses
starting sooner than ``min_period_s`` after the previous one are bounces; both are
counted in :attr:`PulseCounts.rejected`, not as pages.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gpiozero import Device, DigitalOutputDevice

from mfp_adapters.errors import PanelLockError

__all__ = ["EmbeddedPlatformAdapter", "FihPanelLock", "PanelLock", "PulseCounts"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PulseCounts:
    """Impressions counted on the count lines since the last unlock."""

    mono: int = 0
    color: int = 0
    large: int = 0
    rejected: int = 0

    @property
    def total(self) -> int:
        """Mono plus colour impressions (large-format pulses mark, they do not add)."""
        return self.mono + self.color


class PanelLock(ABC):
    """Unlock the panel for one user, count what they make, lock again."""

    @abstractmethod
    def unlock(self, *, allow_color: bool = True, credit_pages: int | None = None) -> None:
        """Allow copying (optionally colour, optionally at most ``credit_pages`` impressions)."""

    @abstractmethod
    async def lock(self) -> PulseCounts:
        """Forbid copying and return what was counted (after any grace period)."""

    @abstractmethod
    def counts(self) -> PulseCounts:
        """What has been counted so far in this session."""


class EmbeddedPlatformAdapter(PanelLock):
    """Base for vendor embedded-platform adapters (the device's own login/accounting API).

    An implementation signs the user in on the device in :meth:`unlock`, signs them out
    in :meth:`lock` and reports the device's job log as :class:`PulseCounts`.
    ``vendor_platform`` names the platform (``"hypas"``, ``"oxpd"``, ``"meap"`` ...).
    """

    vendor_platform = "abstract"


class _CountLine:
    """One active-low count input with glitch and bounce rejection."""

    def __init__(
        self, pin: Any, factory: Any, min_pulse_s: float, min_period_s: float, on_count: Callable[[], None]
    ) -> None:
        self.pin = pin
        self.on_count = on_count
        self.factory = factory
        self.min_pulse_s, self.min_period_s = min_pulse_s, min_period_s
        self.count = 0
        self.rejected = 0
        self._fell_at: Any = None
        self._last_start: Any = None
        self._lock = threading.Lock()
        pin.function = "input"
        pin.pull = "up"
        pin.edges = "both"
        pin.when_changed = self._changed

    def _changed(self, ticks: Any, state: Any) -> None:
        with self._lock:
            if not state:
                self._fell_at = ticks
                return
            if self._fell_at is None:
                return
            width = self.factory.ticks_diff(ticks, self._fell_at)
            started = self._fell_at
            self._fell_at = None
            too_soon = (
                self._last_start is not None
                and self.factory.ticks_diff(started, self._last_start) < self.min_period_s
            )
            if width < self.min_pulse_s or too_soon:
                self.rejected += 1
                log.info("fih: rejected pulse on %s (width %.3f s, too soon %s)", self.pin, width, too_soon)
                return
            self._last_start = started
            self.count += 1
        self.on_count()

    def reset(self) -> None:
        with self._lock:
            self.count = self.rejected = 0

    def close(self) -> None:
        self.pin.when_changed = None


class FihPanelLock(PanelLock):
    """A foreign interface harness on GPIO; ``pin_factory`` defaults to gpiozero's own."""

    def __init__(
        self,
        *,
        enable_pin: int = 17,
        count_mono_pin: int = 27,
        count_color_pin: int = 22,
        count_large_pin: int | None = 23,
        color_enable_pin: int | None = None,
        pin_factory: Any = None,
        min_pulse_s: float = 0.03,
        min_period_s: float = 0.08,
        grace_s: float = 3.0,
    ) -> None:
        factory = pin_factory or Device.pin_factory or Device._default_pin_factory()
        self.factory = factory
        self.grace_s = grace_s
        try:
            self._enable = DigitalOutputDevice(enable_pin, pin_factory=factory)
            self._color_enable = (
                DigitalOutputDevice(color_enable_pin, pin_factory=factory)
                if color_enable_pin is not None
                else None
            )
            pins = {"mono": count_mono_pin, "color": count_color_pin, "large": count_large_pin}
            self._lines = {
                kind: _CountLine(factory.pin(number), factory, min_pulse_s, min_period_s, self._after_count)
                for kind, number in pins.items()
                if number is not None
            }
        except Exception as exc:  # gpiozero raises many types for busy/absent pins
            raise PanelLockError(f"cannot set up FIH pins: {exc}") from exc
        self._credit: int | None = None

    @property
    def enabled(self) -> bool:
        """Is the enable output on?"""
        return bool(self._enable.value)

    def unlock(self, *, allow_color: bool = True, credit_pages: int | None = None) -> None:
        """Reset the counts and raise the enable line (and colour-enable when allowed)."""
        for line in self._lines.values():
            line.reset()
        self._credit = credit_pages
        if self._color_enable is not None:
            self._color_enable.value = allow_color
        self._enable.on()

    def counts(self) -> PulseCounts:
        """Counted impressions so far."""
        lines = self._lines
        return PulseCounts(
            mono=lines["mono"].count,
            color=lines["color"].count,
            large=lines["large"].count if "large" in lines else 0,
            rejected=sum(line.rejected for line in lines.values()),
        )

    def _after_count(self) -> None:
        # Océ CCI semantics: enable drops as soon as the credit is used up.
        if self._credit is not None and self.counts().total >= self._credit and self.enabled:
            log.info("fih: credit of %d impressions used up: enable off", self._credit)
            self._enable.off()

    async def lock(self) -> PulseCounts:
        """Drop enable, keep counting for ``grace_s`` (sheets still in the engine), return the counts."""
        self._enable.off()
        if self._color_enable is not None:
            self._color_enable.off()
        await asyncio.sleep(self.grace_s)
        return self.counts()

    def close(self) -> None:
        """Release the pins."""
        self._enable.close()
        if self._color_enable is not None:
            self._color_enable.close()
        for line in self._lines.values():
            line.close()
