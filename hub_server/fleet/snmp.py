"""Printers without a terminal: the hub polls their SNMP agents into the fleet's state and alerts.

Each printer is a fleet device of kind ``printer`` and source ``snmp`` (its id is its name in
``[fleet.printers]``). A poll reads status and supplies through ``mfp_adapters.MfpSnmp``; a
printer whose agent does not answer is offline (and, after ``offline_after_s``, alerted like a
terminal). MQTT messages can never overwrite a polled printer's record.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from hub_server.fleet.component import FleetComponent
from hub_server.fleet.facts import Presence, StateFacts, Supply
from mfp_adapters import MfpSnmp, SnmpClient
from mfp_adapters.errors import MfpError
from mfp_adapters.mib import BLOCKING_ERROR_BITS
from mfp_adapters.snmp import CommunityAuth

__all__ = ["BLOCKING_ERROR_BITS", "PrinterPoller", "PrinterTarget"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PrinterTarget:
    """One printer's SNMP agent (v2c)."""

    name: str
    host: str
    port: int = 161
    community: str = "public"

    @classmethod
    def parse(cls, name: str, address: str, community: str = "public") -> PrinterTarget:
        """From a ``[fleet.printers]`` entry ``name = "host[:port]"``."""
        host, _, port = address.rpartition(":") if address.count(":") == 1 else (address, "", "")
        return cls(name, host or address, int(port) if port else 161, community)


class PrinterPoller:
    """Polls every printer each ``interval_s`` (at most ``concurrency`` at a time)."""

    def __init__(
        self,
        fleet: FleetComponent,
        printers: list[PrinterTarget],
        *,
        interval_s: float = 60.0,
        timeout_s: float = 2.0,
        retries: int = 1,
        concurrency: int = 8,
    ) -> None:
        self.fleet = fleet
        self.printers = printers
        self.interval_s = interval_s
        self.timeout_s = timeout_s
        self.retries = retries
        self._limit = asyncio.Semaphore(concurrency)
        self._readers: dict[str, MfpSnmp] = {}
        self.polls = 0
        self.failures = 0

    def _reader(self, printer: PrinterTarget) -> MfpSnmp:
        reader = self._readers.get(printer.name)
        if reader is None:
            client = SnmpClient(
                printer.host,
                printer.port,
                CommunityAuth(printer.community),
                timeout_s=self.timeout_s,
                retries=self.retries,
            )
            reader = self._readers[printer.name] = MfpSnmp(client)
        return reader

    async def poll(self, printer: PrinterTarget) -> StateFacts | None:
        """Poll one printer into the fleet; its facts, or None when it did not answer."""
        async with self._limit:
            self.polls += 1
            try:
                reader = self._reader(printer)
                status = await reader.status()
                supplies = await reader.supplies()
            except (MfpError, OSError, TimeoutError) as error:
                self.failures += 1
                log.info("printer %s did not answer SNMP: %s", printer.name, type(error).__name__)
                await self.fleet.record_local(printer.name, Presence(False, 0, "printer", None), None)
                return None
        facts = StateFacts(
            kind="printer",
            session=0,
            seq=0,
            software_version=None,
            boot_slot=None,
            config_version=None,
            reader_driver=None,
            reader_present=None,
            mfp_status=status.device,
            mfp_errors=tuple(sorted(set(status.errors))),
            mfp_reachable=True,
            supplies=tuple(Supply(s.description or f"supply {s.index}", s.type, s.percent) for s in supplies),
            journal_backlog=None,
            certificate_not_after_s=None,
            events_dropped=None,
        )
        await self.fleet.record_local(printer.name, Presence(True, 0, "printer", None), facts)
        return facts

    async def poll_all(self) -> None:
        await asyncio.gather(*(self.poll(printer) for printer in self.printers))

    async def run(self) -> None:
        """Poll every printer every ``interval_s`` until cancelled."""
        while True:
            await self.poll_all()
            await asyncio.sleep(self.interval_s)

    async def close(self) -> None:
        for reader in self._readers.values():
            await reader.client.aclose()
