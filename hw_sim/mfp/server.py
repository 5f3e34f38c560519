"""One simulated MFP with all its listeners on ephemeral loopback ports.

Usage (the hub and terminal tests use exactly this)::

    async with MfpSimServer(vendor="kyocera") as mfp:
        mfp.snmp_port, mfp.raw_port, mfp.lpd_port, mfp.ipp_port   # bound on 127.0.0.1
        mfp.community                                              # "public"
        mfp.device.copy(3, color=True)                             # domain verbs, see SimulatedMfp
        mfp.device.jobs, mfp.device.history                        # what happened
        mfp.behaviour.raw_silent = True                            # 9100 never answers
        mfp.behaviour.stall_after_bytes = 65536                    # every sink stops reading there
        mfp.device.pause_engine(); mfp.device.resume_engine()      # jobs wait; the device is busy
        mfp.ipp_uri                                                # "ipp://127.0.0.1:PORT/ipp/print"

``device=`` takes a prepared :class:`SimulatedMfp`. ``fih_factory=`` (a gpiozero pin factory,
``MockFactory()`` in tests) wires a :class:`FihCopier` to the device: copies then need the
terminal's enable line and answer with count pulses (``mfp.fih``).
"""

from __future__ import annotations

import asyncio
from typing import Any

from hw_sim.mfp.agent import SnmpAgent
from hw_sim.mfp.fih import FihCopier
from hw_sim.mfp.model import SimulatedMfp
from hw_sim.mfp.sinks import IppSink, LpdSink, RawSink, SinkBehaviour

__all__ = ["MfpSimServer"]


class MfpSimServer:
    """Async context manager running SNMP (UDP), 9100, LPD and IPP (TCP) for one device."""

    def __init__(
        self,
        vendor: str = "kyocera",
        *,
        device: SimulatedMfp | None = None,
        host: str = "127.0.0.1",
        community: str = "public",
        ports: dict[str, int] | None = None,
        fih_factory: Any = None,
    ) -> None:
        self.device = device or SimulatedMfp(vendor=vendor)
        self.fih = FihCopier(fih_factory) if fih_factory is not None else None
        if self.fih is not None:
            self.fih.attach(self.device)
        self.host = host
        self.community = community
        self.behaviour = SinkBehaviour()
        self.agent = SnmpAgent(self.device, frozenset({community.encode()}))
        self.raw = RawSink(self.device, self.behaviour)
        self.lpd = LpdSink(self.device, self.behaviour)
        self.ipp = IppSink(self.device, self.behaviour)
        self._wanted = ports or {}
        self._servers: list[asyncio.base_events.Server] = []
        self._udp: asyncio.DatagramTransport | None = None
        self.snmp_port = self.raw_port = self.lpd_port = self.ipp_port = 0

    @property
    def ipp_uri(self) -> str:
        """The printer URI of the IPP sink."""
        return f"ipp://{self.host}:{self.ipp_port}/ipp/print"

    async def start(self) -> None:
        """Bind every listener (port 0 = ephemeral unless ``ports`` says otherwise)."""
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: self.agent, local_addr=(self.host, self._wanted.get("snmp", 0))
        )
        self._udp = transport
        self.snmp_port = transport.get_extra_info("sockname")[1]
        self.raw_port = await self._tcp(self.raw.handle, "raw")
        self.lpd_port = await self._tcp(self.lpd.handle, "lpd")
        self.ipp_port = await self._tcp(self.ipp.handle, "ipp")

    async def _tcp(self, handler: Any, name: str) -> int:
        server = await asyncio.start_server(handler, self.host, self._wanted.get(name, 0), limit=64 * 1024)
        self._servers.append(server)
        port: int = server.sockets[0].getsockname()[1]
        return port

    async def stop(self) -> None:
        """Close every listener and release stalled handlers."""
        self.behaviour.closing.set()
        if self._udp is not None:
            self._udp.close()
        for server in self._servers:
            server.close()
        for server in self._servers:
            await server.wait_closed()
        self._servers.clear()

    async def __aenter__(self) -> MfpSimServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()
