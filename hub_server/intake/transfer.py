"""Time bounds for bytes a client sends: an idle timeout, a minimum average rate and a deadline.

An idle timeout alone lets a client keep a connection for ever by sending one byte just
before each timeout (a 1 GB body at one byte every 5 s). So every IPP request body and every
LPD connection also has a rate floor: once ``rate_grace_s`` has passed, the bytes received
must average at least ``min_bytes_per_s`` since the transfer began; and whatever the rate,
it ends at ``deadline_s``. ``TransferBudget.timeout_s()`` is how long the next read may
wait: the idle timeout, cut short when the floor or the deadline comes first.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

__all__ = ["TransferBudget", "TransferLimits", "TransferTooSlow"]

T = TypeVar("T")


class TransferTooSlow(TimeoutError):
    """The client stopped sending, sent below the rate floor, or passed the deadline."""


@dataclass(frozen=True)
class TransferLimits:
    """Bounds of one transfer (all times in seconds)."""

    idle_timeout_s: float = 30.0
    min_bytes_per_s: int = 1024
    rate_grace_s: float = 30.0
    deadline_s: float = 3600.0


class TransferBudget:
    """The time one transfer has left, given what it has received so far."""

    def __init__(self, limits: TransferLimits, clock: Callable[[], float] = time.monotonic) -> None:
        if limits.min_bytes_per_s <= 0:
            raise ValueError("min_bytes_per_s must be positive")
        self.limits = limits
        self._clock = clock
        self.started_s = clock()
        self.received_bytes = 0

    def received(self, count: int) -> None:
        """Note ``count`` more bytes from the client."""
        self.received_bytes += count

    def _floor_end_s(self) -> float:
        # Received bytes "pay" for time: by t seconds in, at least min_rate * (t - grace).
        limits = self.limits
        return self.started_s + limits.rate_grace_s + self.received_bytes / limits.min_bytes_per_s

    def _bound(self) -> tuple[float, str]:
        """(seconds the next read may wait, which bound that is: idle, floor or deadline)."""
        limits = self.limits
        now = self._clock()
        bounds = [
            (limits.idle_timeout_s, "idle"),
            (self._floor_end_s() - now, "floor"),
            (self.started_s + limits.deadline_s - now, "deadline"),
        ]
        seconds, which = min(bounds)
        return max(0.0, seconds), which

    def timeout_s(self) -> float:
        """How long the next read may wait (0 when the transfer is out of time)."""
        return self._bound()[0]

    async def wait(self, awaitable: Awaitable[T]) -> T:
        """``awaitable`` within ``timeout_s()``; ``TransferTooSlow`` saying which bound ended it."""
        seconds, which = self._bound()
        try:
            return await asyncio.wait_for(awaitable, seconds)
        except TimeoutError:
            raise TransferTooSlow(self._why(which)) from None

    def _why(self, which: str) -> str:
        limits = self.limits
        elapsed = self._clock() - self.started_s
        if which == "idle":
            return f"client sent nothing for {limits.idle_timeout_s:g} s"
        if which == "deadline":
            return f"transfer still running at the {limits.deadline_s:g} s deadline"
        return (
            f"too slow: {self.received_bytes} bytes in {elapsed:.1f} s"
            f" (at least {limits.min_bytes_per_s} bytes/s are needed after {limits.rate_grace_s:g} s)"
        )
