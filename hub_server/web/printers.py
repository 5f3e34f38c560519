"""Printer status for the console: every printer with an SNMP agent (``[print.printer_snmp]``)
is read in the background every ``interval_s`` (status, error bits, supplies, page counters),
so pages show the last reading at once instead of waiting on slow agents. The fleet component
will take this over when it is wired; until then this is the console's source."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from mfp_adapters import CommunityAuth, MfpError, MfpSnmp, SnmpClient
from mfp_adapters.mib import blocking_errors

__all__ = ["PrinterReading", "PrinterWatch"]

log = logging.getLogger(__name__)
SUPPLY_LOW_PERCENT = 10.0


@dataclass(frozen=True)
class PrinterReading:
    """The last reading of one printer."""

    name: str
    device: str | None = None
    errors: tuple[str, ...] = ()
    supplies: tuple[tuple[str, float | None], ...] = ()
    counters: Mapping[str, int] = field(default_factory=dict)
    read_at: float = 0.0
    problem: str = ""  # why it could not be read

    @property
    def needs_attention(self) -> bool:
        """Unreadable, an error bit that stops printing, device down, or a supply under 10 %."""
        low = any(percent is not None and percent < SUPPLY_LOW_PERCENT for _, percent in self.supplies)
        return bool(self.problem or blocking_errors(self.errors) or self.device == "down" or low)


class PrinterWatch:
    """Reads every agent in turn, forever; :meth:`readings` is the last of each."""

    def __init__(
        self, agents: Mapping[str, str], community: str, timeout_s: float, interval_s: float = 60.0
    ) -> None:
        self._agents = dict(agents)
        self._community = community
        self._timeout_s = timeout_s
        self.interval_s = interval_s
        self._readings: dict[str, PrinterReading] = {}

    def readings(self) -> dict[str, PrinterReading]:
        """Printer name -> its last reading."""
        return dict(self._readings)

    async def read(self, name: str, agent: str) -> PrinterReading:
        """Read one printer now."""
        host, _, port = agent.rpartition(":") if ":" in agent else (agent, "", "")
        client = SnmpClient(
            host, int(port or 161), CommunityAuth(self._community), timeout_s=self._timeout_s, retries=0
        )
        try:
            async with client:
                device = MfpSnmp(client)
                counters, status = await device.poll()
                supplies = await device.supplies()
        except MfpError as error:
            return PrinterReading(name, read_at=time.time(), problem=str(error) or type(error).__name__)
        return PrinterReading(
            name,
            device=status.device,
            errors=tuple(status.errors),
            supplies=tuple((s.description or s.type or f"supply {s.index}", s.percent) for s in supplies),
            counters=dict(counters.values),
            read_at=time.time(),
        )

    async def run(self) -> None:
        """Read every printer, then again after ``interval_s``, until cancelled."""
        while True:
            for name, agent in self._agents.items():
                try:
                    self._readings[name] = await self.read(name, agent)
                except Exception:  # one broken agent must not stop the others; logged with traceback
                    log.exception("printer status: reading %s failed", name)
            await asyncio.sleep(self.interval_s)
