"""Hub time. The hub's clock is authoritative for every record; terminals' clocks are data."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """Where the hub reads the time from (a fake in tests)."""

    def now_us(self) -> int:
        """Microseconds since the Unix epoch."""
        ...


class SystemClock:
    """The machine's wall clock."""

    def now_us(self) -> int:
        """Microseconds since the Unix epoch."""
        return time.time_ns() // 1000


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, now_us: int = 1_767_225_600_000_000) -> None:  # 2026-01-01T00:00:00Z
        self._now_us = now_us

    def now_us(self) -> int:
        """Microseconds since the Unix epoch."""
        return self._now_us

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self._now_us += int(seconds * 1_000_000)
