"""Reconnect delays: exponential, capped, with full jitter.

After a broker restart every device loses its connection at the same moment. Retrying after
``base * 2**n`` alone would bring 5,000 of them back in synchronised waves; "full jitter" (a
uniform draw between 0 and the exponential bound) spreads each wave over its whole interval.
"""

from __future__ import annotations

import random

__all__ = ["Backoff"]


class Backoff:
    """Delays for successive failed attempts; :meth:`reset` after a connection that held."""

    def __init__(self, base_s: float = 1.0, cap_s: float = 60.0, *, rng: random.Random | None = None) -> None:
        if not 0 < base_s <= cap_s:
            raise ValueError("need 0 < base_s <= cap_s")
        self.base_s = base_s
        self.cap_s = cap_s
        self.attempts = 0
        self._rng = rng or random.Random()

    def bound_s(self) -> float:
        """The upper bound of the next delay."""
        return min(self.cap_s, self.base_s * float(2 ** min(self.attempts, 32)))

    def next_delay_s(self) -> float:
        """The delay before the next attempt (uniform in [0, bound]); counts the attempt."""
        delay = self._rng.uniform(0, self.bound_s())
        self.attempts += 1
        return delay

    def reset(self) -> None:
        """Back to the shortest delays."""
        self.attempts = 0
