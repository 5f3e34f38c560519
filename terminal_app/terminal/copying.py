"""Counting the pages of a copy session: FIH count pulses or the MFP's SNMP copy counters.

:class:`CopyCounter` is what the engine needs: ``begin`` before the panel unlocks (the
baseline), ``live`` while it is unlocked (pages so far, for the screen), ``end`` after the
panel locked (the pages to charge). Two implementations:

* :class:`PulseCopyCounter`: the panel lock's own count lines (a foreign interface harness).
  ``end`` uses the counts :meth:`PanelLock.lock` returned after its grace period.
* :class:`SnmpCopyCounter`: :class:`mfp_adapters.CopyMeter` over the device's copy counters.
  ``live`` reads the counters once and shows the difference to the baseline; ``end`` takes the
  meter's final usage, which applies its rules (counter resets, implausible jumps, an agent
  that stopped answering).

Duplex is not told apart: an FIH pulse is one impression either way, and the MFP's duplex
counter also moves for print jobs. Copies are charged per impression at the simplex price.

Where the device's profile has a scan counter, :class:`SnmpCopyCounter` also gives the pages it
moved by in the session (:attr:`CopyPages.scan`): ``scan_sent`` (only the scans sent) where the
profile has it, else ``scan`` (which on many MFPs also counts the originals read for copies).
That is never charged: the hub compares it with the scan pages it delivered for the session
(scans are charged from the pages delivered).
"""

from __future__ import annotations

import abc
import logging
from dataclasses import dataclass

from mfp_adapters import CopyMeter, MfpError, PanelLock, PulseCounts
from mfp_adapters.metering import CounterReader
from terminal_app.errors import TerminalError

__all__ = ["CopyCounter", "CopyPages", "CopyUnavailable", "PulseCopyCounter", "SnmpCopyCounter"]

log = logging.getLogger(__name__)


class CopyUnavailable(TerminalError):
    """The copier's pages cannot be counted now: the panel must stay locked."""


@dataclass(frozen=True)
class CopyPages:
    """Impressions of one copy session."""

    mono: int = 0
    color: int = 0
    # the MFP's scan counter over the session; None where there is none or it is not proven
    scan: int | None = None
    scan_sent_only: bool = False  # read from a counter of the scans sent (copies not in it)

    @property
    def total(self) -> int:
        """Mono plus colour."""
        return self.mono + self.color


class CopyCounter(abc.ABC):
    """Counts one copy session at a time."""

    @abc.abstractmethod
    async def begin(self, session_id: str) -> dict[str, int]:
        """Take the baseline and return it; raise :class:`CopyUnavailable` if pages cannot be counted."""

    @abc.abstractmethod
    async def live(self) -> CopyPages:
        """Pages so far (for the screen; may lag a little)."""

    @abc.abstractmethod
    async def end(self, pulses: PulseCounts) -> CopyPages:
        """The pages to charge; ``pulses`` is what the panel lock counted."""

    @abc.abstractmethod
    async def recover(self, baseline: dict[str, int]) -> CopyPages:
        """Pages made since ``baseline`` by a session whose process died (what can be proven)."""


class PulseCopyCounter(CopyCounter):
    """Count the panel lock's FIH pulses."""

    def __init__(self, panel: PanelLock) -> None:
        self.panel = panel

    async def begin(self, session_id: str) -> dict[str, int]:
        """Nothing to snapshot: the panel resets its counts when it unlocks."""
        return {}

    async def live(self) -> CopyPages:
        """The pulses counted so far."""
        counts = self.panel.counts()
        return CopyPages(mono=counts.mono, color=counts.color)

    async def end(self, pulses: PulseCounts) -> CopyPages:
        """The pulses counted until the end of the lock's grace period."""
        if pulses.rejected:
            log.warning("copy: %d count pulses rejected as glitches or bounces", pulses.rejected)
        return CopyPages(mono=pulses.mono, color=pulses.color)

    async def recover(self, baseline: dict[str, int]) -> CopyPages:
        """Pulses die with the process that counted them: nothing can be proven."""
        log.error("copy: a session was cut by a restart; its pulse counts are lost")
        return CopyPages()


_SCAN_KEYS = ("scan_sent", "scan")  # the scans sent where the device counts them apart


def _scan_key(values: dict[str, int]) -> str | None:
    return next((key for key in _SCAN_KEYS if key in values), None)


def _copy_pages(values: dict[str, int], scan_key: str | None) -> CopyPages:
    scan = values.get(scan_key, 0) if scan_key else None
    sent_only = scan_key == "scan_sent"
    if "copy_mono" in values or "copy_color" in values:
        mono, color = values.get("copy_mono", 0), values.get("copy_color", 0)
        return CopyPages(mono=mono, color=color, scan=scan, scan_sent_only=sent_only)
    return CopyPages(mono=values.get("copy_total", 0), scan=scan, scan_sent_only=sent_only)


def _baseline(pages: CopyPages) -> dict[str, int]:
    baseline = {"copy_mono": pages.mono, "copy_color": pages.color}
    if pages.scan is not None:
        baseline["scan_sent" if pages.scan_sent_only else "scan"] = pages.scan
    return baseline


class SnmpCopyCounter(CopyCounter):
    """Meter copies with :class:`CopyMeter` on the MFP's counters."""

    def __init__(self, reader: CounterReader, meter: CopyMeter | None = None) -> None:
        self.reader = reader
        self.meter = meter or CopyMeter(reader)
        self._baseline = CopyPages()
        self._scan_key: str | None = None

    async def begin(self, session_id: str) -> dict[str, int]:
        """Snapshot the counters (the meter retries before it gives up)."""
        try:
            first = await self.meter.unlock(session_id)
        except MfpError as exc:
            raise CopyUnavailable(str(exc)) from exc
        self._scan_key = _scan_key(first.values)
        self._baseline = _copy_pages(first.values, self._scan_key)
        return _baseline(self._baseline)

    async def recover(self, baseline: dict[str, int]) -> CopyPages:
        """Counters now minus the baseline; nothing if they went backwards or cannot be read."""
        try:
            now = _copy_pages((await self.reader.counters()).values, _scan_key(baseline))
        except MfpError as exc:
            log.error("copy: a session cut by a restart cannot be counted: %s", exc)
            return CopyPages()
        mono, color = now.mono - baseline.get("copy_mono", 0), now.color - baseline.get("copy_color", 0)
        if mono < 0 or color < 0:
            log.error("copy: counters went backwards since a session cut by a restart: not charged")
            return CopyPages()
        key = _scan_key(baseline)
        scan = None if now.scan is None or key is None else now.scan - baseline[key]
        if scan is not None and scan < 0:
            scan = None  # went backwards: nothing proven
        return CopyPages(mono=mono, color=color, scan=scan, scan_sent_only=now.scan_sent_only)

    async def live(self) -> CopyPages:
        """Counters now minus the baseline (not charged: ``end`` is)."""
        try:
            now = _copy_pages((await self.reader.counters()).values, scan_key=None)
        except MfpError as exc:
            log.info("copy: live counter read failed: %s", exc)
            return CopyPages()
        return CopyPages(
            mono=max(0, now.mono - self._baseline.mono), color=max(0, now.color - self._baseline.color)
        )

    async def end(self, pulses: PulseCounts) -> CopyPages:
        """The meter's final usage (its rules decide what is proven)."""
        usage = await self.meter.lock()
        if not usage.complete:
            log.warning("copy: session %s metered with flags %s", usage.session, sorted(usage.flags))
        # a scan difference the meter could not prove is not compared with anything
        return _copy_pages(usage.usage, self._scan_key if usage.complete else None)
