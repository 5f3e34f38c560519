"""Copy-session metering from SNMP counter snapshots.

``unlock(session)`` snapshots the counters, ``observe()`` (call it every few seconds
while the panel is unlocked) adds the deltas seen so far, ``lock()`` takes the final
snapshot and returns a :class:`MeterUsage` keyed like the counters (function x colour,
``duplex`` where the device has it). Copy counters only move from the panel, so they
are safe to charge; print/fax counters also move with network jobs (charge those via
the release path instead).

Rules that keep a charge honest:

* A delta is never negative. A counter that went backwards (service reset, a reboot that
  zeroed the counters) is flagged ``counter_reset``. If sysUpTime also went backwards
  (``reboot``), the counter's new value is the pages made since the reset: that lower
  bound is charged; pages between the previous snapshot and the reset cannot be known.
  Without a reboot, nothing is charged for that key.
* A Counter32 that rolls over (2^32) within the plausible bound is an exact delta
  (``counter_wrap``, informational).
* A delta above ``max_pages_per_minute`` for the elapsed time (plus one minute's worth)
  is ``implausible`` and not charged.
* An agent that does not answer: ``unlock`` retries then raises :class:`MeteringError`;
  ``lock`` retries then charges what earlier observations proved (``end_snapshot_missing``).
* Idle timeout: :meth:`CopyMeter.observe` ends the session itself (``end_reason
  "idle_timeout"``) when no metered counter moved for ``idle_timeout_s``.

Any flag except the informational ``reboot``, ``counter_wrap`` and ``idle_timeout`` makes
``complete`` false: a person should review it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from mfp_adapters.device import Counters
from mfp_adapters.errors import MeteringError, MeterStateError, MfpError
from mfp_adapters.panel import PulseCounts

__all__ = ["CopyMeter", "CounterReader", "MeterUsage", "reconcile"]

log = logging.getLogger(__name__)

_INFORMATIONAL = frozenset({"reboot", "idle_timeout", "counter_wrap"})
_COUNTER32 = 2**32
# Counters that restart by design at power-on: never metered.
_NOT_METERED = frozenset({"power_on_count"})


class CounterReader(Protocol):
    """Anything that reads counters (:class:`mfp_adapters.device.MfpSnmp` does)."""

    async def counters(self) -> Counters:
        """One snapshot of the device's counters."""
        ...


@dataclass(frozen=True)
class MeterUsage:
    """What one session used, and how sure we are."""

    session: str
    usage: dict[str, int]
    flags: frozenset[str]
    end_reason: str
    started_monotonic: float
    ended_monotonic: float

    @property
    def complete(self) -> bool:
        """True when every page was proven (no flag beyond an informational reboot/idle end)."""
        return not (self.flags - _INFORMATIONAL)


class CopyMeter:
    """Meter one device's copy sessions, one session at a time."""

    def __init__(
        self,
        reader: CounterReader,
        *,
        idle_timeout_s: float = 120.0,
        max_pages_per_minute: int = 150,
        snapshot_attempts: int = 3,
        retry_delay_s: float = 0.2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.reader = reader
        self.idle_timeout_s = idle_timeout_s
        self.max_pages_per_minute = max_pages_per_minute
        self.snapshot_attempts = snapshot_attempts
        self.retry_delay_s = retry_delay_s
        self.clock = clock
        self.session: str | None = None
        self._last: Counters | None = None
        self._last_at = 0.0
        self._started_at = 0.0
        self._activity_at = 0.0
        self._usage: dict[str, int] = {}
        self._flags: set[str] = set()

    @property
    def active(self) -> bool:
        """Is a session open?"""
        return self.session is not None

    async def _snapshot(self) -> Counters | None:
        for attempt in range(self.snapshot_attempts):
            try:
                return await self.reader.counters()
            except MfpError as exc:
                log.warning("meter: counter read %d/%d failed: %s", attempt + 1, self.snapshot_attempts, exc)
                if attempt + 1 < self.snapshot_attempts:
                    await asyncio.sleep(self.retry_delay_s)
        return None

    async def unlock(self, session: str) -> Counters:
        """Open ``session`` with a first snapshot; :class:`MeteringError` if the device cannot be read."""
        if self.session is not None:
            raise MeterStateError(f"session {self.session!r} is still open")
        first = await self._snapshot()
        if first is None:
            raise MeteringError("cannot read the device's counters: copying cannot be metered")
        now = self.clock()
        self.session = session
        self._last, self._last_at = first, now
        self._started_at = self._activity_at = now
        self._usage, self._flags = {}, set()
        return first

    async def observe(self) -> MeterUsage | None:
        """Fold in a fresh snapshot; returns the final usage if the session just idled out."""
        self._require_session()
        current = await self._snapshot()
        if current is None:
            self._flags.add("poll_failed")
        else:
            self._fold(current)
        if self.clock() - self._activity_at >= self.idle_timeout_s:
            return self._close("idle_timeout")
        return None

    async def lock(self, reason: str = "lock") -> MeterUsage:
        """Close the session with a final snapshot and return its usage."""
        self._require_session()
        current = await self._snapshot()
        if current is None:
            self._flags.add("end_snapshot_missing")
        else:
            self._fold(current)
        return self._close(reason)

    def _require_session(self) -> None:
        if self.session is None:
            raise MeterStateError("no session is open")

    def _fold(self, current: Counters) -> None:
        assert self._last is not None
        now = self.clock()
        previous = self._last
        rebooted = (
            current.uptime_ticks is not None
            and previous.uptime_ticks is not None
            and current.uptime_ticks < previous.uptime_ticks
        )
        if rebooted:
            self._flags.add("reboot")
        limit = self.max_pages_per_minute * ((now - self._last_at) / 60.0 + 1.0)
        for key, value in current.values.items():
            before = previous.values.get(key)
            if before is None or key in _NOT_METERED:
                continue
            delta = self._delta(key, before, value, rebooted, limit)
            if delta:
                self._usage[key] = self._usage.get(key, 0) + delta
                self._activity_at = now
        self._last, self._last_at = current, now

    def _delta(self, key: str, before: int, after: int, rebooted: bool, limit: float) -> int:
        delta = after - before
        if delta < 0 and not rebooted and 0 <= after + _COUNTER32 - before <= limit:
            self._flags.add("counter_wrap")  # a Counter32 rolled over: still exact
            return after + _COUNTER32 - before
        if delta < 0:
            self._flags.add("counter_reset")
            log.warning(
                "meter %s: %s went backwards %d -> %d (reboot=%s)", self.session, key, before, after, rebooted
            )
            delta = after if rebooted else 0
        if delta > limit:
            self._flags.add("implausible")
            log.warning(
                "meter %s: %s jumped by %d (limit %.0f): not charged", self.session, key, delta, limit
            )
            return 0
        return delta

    def _close(self, reason: str) -> MeterUsage:
        assert self.session is not None
        flags = set(self._flags)
        if reason == "idle_timeout":
            flags.add("idle_timeout")
        usage = MeterUsage(
            session=self.session,
            usage=dict(sorted(self._usage.items())),
            flags=frozenset(flags),
            end_reason=reason,
            started_monotonic=self._started_at,
            ended_monotonic=self.clock(),
        )
        self.session = None
        self._last = None
        return usage


def reconcile(pulses: PulseCounts, usage: MeterUsage) -> dict[str, int]:
    """FIH pulses minus SNMP copy deltas per colour; empty when both routes agree.

    A non-empty answer is a discrepancy to report (a miswired harness, a device that
    pulses per sheet instead of per side, counters that lag); which figure to charge
    is the caller's policy.
    """
    differences = {
        "mono": pulses.mono - usage.usage.get("copy_mono", 0),
        "color": pulses.color - usage.usage.get("copy_color", 0),
    }
    return {colour: difference for colour, difference in differences.items() if difference}
