"""Attempt limits for the unauthenticated enrollment endpoint: a token bucket per key.

Per hub replica and in memory: the limit protects the hub's CPU and database from floods; it is
not what keeps tokens safe (their 128-bit secrets are). A full table drops its oldest keys.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from hub_server.pki.errors import TooManyAttempts

__all__ = ["AttemptLimiter"]

MAX_KEYS = 10_000


class AttemptLimiter:
    """Allow ``burst`` attempts per key at once, refilled at ``per_minute`` per minute."""

    def __init__(
        self, burst: int = 10, per_minute: float = 10.0, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._burst = float(burst)
        self._rate_per_s = per_minute / 60.0
        self._monotonic = monotonic
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def attempt(self, key: str) -> None:
        """Count one attempt for ``key``; :class:`TooManyAttempts` when its bucket is empty."""
        now = self._monotonic()
        with self._lock:
            tokens, then = self._buckets.pop(key, (self._burst, now))
            tokens = min(self._burst, tokens + (now - then) * self._rate_per_s)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                wait_s = (1.0 - tokens) / self._rate_per_s
                raise TooManyAttempts(f"too many enrollment attempts; try again in {wait_s:.0f} s")
            self._buckets[key] = (tokens - 1.0, now)
            while len(self._buckets) > MAX_KEYS:
                self._buckets.popitem(last=False)
