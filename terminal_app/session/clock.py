"""Terminal time: a monotonic clock for timers and a wall clock for records, injectable for tests."""

from __future__ import annotations

import time
from typing import Protocol

__all__ = ["Clock", "FakeClock", "SystemClock"]


class Clock(Protocol):
    """Where the engine reads the time from."""

    def monotonic_s(self) -> float:
        """Seconds on a clock that never jumps (timers)."""
        ...

    def wall_us(self) -> int:
        """Microseconds since the Unix epoch (records; the hub's clock is authoritative)."""
        ...


class SystemClock:
    """The machine's clocks."""

    def monotonic_s(self) -> float:
        """``time.monotonic()``."""
        return time.monotonic()

    def wall_us(self) -> int:
        """``time.time_ns() // 1000``."""
        return time.time_ns() // 1000


class FakeClock:
    """A clock that moves only when told to: every timer is testable without sleeping."""

    def __init__(self, monotonic_s: float = 1000.0, wall_us: int = 1_767_225_600_000_000) -> None:
        self._monotonic_s = monotonic_s
        self._wall_us = wall_us

    def monotonic_s(self) -> float:
        """The fake monotonic time."""
        return self._monotonic_s

    def wall_us(self) -> int:
        """The fake wall time."""
        return self._wall_us

    def advance(self, seconds: float) -> None:
        """Move both clocks forward."""
        self._monotonic_s += seconds
        self._wall_us += int(seconds * 1_000_000)
