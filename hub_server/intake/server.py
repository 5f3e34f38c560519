"""Starting and stopping the intake listeners (IPP over HTTP/IPPS, LPD) and the expiry sweep.

Connections are capped twice, IPP and LPD together: ``connections_max`` in all and
``connections_per_address_max`` from one client address (an IPv4 address, or the IPv4
address inside an IPv4-mapped IPv6 one), so one host cannot take every slot. A connection
over either cap is closed at once (LPD clients get the error byte first); the refusal is
counted and logged, at most once a minute per address.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import ssl
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from .http11 import HttpLimits, serve_connection
from .ipp_printer import IppPrinter
from .jobs import JobRegistry
from .lpd import NACK, LpdServer
from .service import IntakeConfig, IntakeService
from .spool import Spool

__all__ = ["IntakeServer", "parse_listen", "start_intake"]

Connection = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]

log = logging.getLogger(__name__)

REFUSAL_LOG_INTERVAL_S = 60.0


@dataclass
class IntakeServer:
    """Running intake listeners. ``ipp_port``/``lpd_port`` are the bound ports (0 if off)."""

    service: IntakeService
    ipp_server: asyncio.Server | None
    lpd_server: asyncio.Server | None
    sweeper: asyncio.Task[None]
    connections: dict[asyncio.Task[None], asyncio.StreamWriter]
    per_address: Counter[str] = field(default_factory=Counter)

    @property
    def ipp_port(self) -> int:
        """The bound IPP port, or 0 when IPP is not listening."""
        return _port(self.ipp_server)

    @property
    def lpd_port(self) -> int:
        """The bound LPD port, or 0 when LPD is not listening."""
        return _port(self.lpd_server)

    async def close(self) -> None:
        """Stop listening, cancel the sweep and background analyses."""
        self.sweeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.sweeper
        for server in (self.ipp_server, self.lpd_server):
            if server is not None:
                server.close()
        for writer in list(self.connections.values()):
            writer.close()
        if self.connections:
            await asyncio.wait(list(self.connections), timeout=10.0)
        for server in (self.ipp_server, self.lpd_server):
            if server is not None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(server.wait_closed(), 5.0)
        await self.service.close()


def parse_listen(text: str) -> tuple[str, int]:
    """Parse ``HOST:PORT`` / ``[IPv6]:PORT`` (for ``--ipp-listen`` / ``--lpd-listen``)."""
    host, colon, port_text = text.rpartition(":")
    if not colon or not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise ValueError(f"expected HOST:PORT, got {text!r}")
    return host.strip("[]") or "0.0.0.0", int(port_text)


def _port(server: asyncio.Server | None) -> int:
    if server is None or not server.sockets:
        return 0
    port: int = server.sockets[0].getsockname()[1]
    return port


def client_address(peer: object) -> str:
    """The address a connection counts against: the host part of ``peername``, with an
    IPv4-mapped IPv6 address reduced to its IPv4 address."""
    host = peer[0] if isinstance(peer, tuple) and peer else str(peer)
    try:
        address = ipaddress.ip_address(str(host))
    except ValueError:
        return str(host)
    mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
    return str(mapped or address)


class _RefusalLog:
    """Logs refused connections at most once per ``interval_s`` per address, with the count
    of refusals not logged in between (a flood must not become a flood of log lines)."""

    def __init__(self, interval_s: float = REFUSAL_LOG_INTERVAL_S) -> None:
        self.interval_s = interval_s
        self._last: dict[str, tuple[float, int]] = {}

    def refused(self, address: str, why: str) -> None:
        now = time.monotonic()
        last_s, quiet = self._last.get(address, (-self.interval_s, 0))
        if now - last_s < self.interval_s:
            self._last[address] = (last_s, quiet + 1)
            return
        if len(self._last) > 10_000:  # bounded memory under a spoofed-address flood
            self._last.clear()
        self._last[address] = (now, 0)
        also = f" ({quiet} more refused since the last report)" if quiet else ""
        log.warning("intake: refused a connection from %s: %s%s", address, why, also)


async def _sweep(service: IntakeService) -> None:
    while True:
        await asyncio.sleep(service.config.expiry_sweep_s)
        try:
            expired = service.expire()
        except Exception:  # the sweep must survive a registry hiccup; logged with traceback
            log.exception("intake: expiry sweep failed")
            continue
        if expired:
            log.info("intake: expired jobs %s", expired)


async def start_intake(
    registry: JobRegistry,
    spool: Spool,
    ipp_listen: tuple[str, int] | None = ("127.0.0.1", 0),
    lpd_listen: tuple[str, int] | None = None,
    ssl_context: ssl.SSLContext | None = None,
    config: IntakeConfig | None = None,
) -> IntakeServer:
    """Start IPP (IPPS when ``ssl_context`` is given) and/or LPD listeners.

    Port 0 binds an ephemeral port; read it back from ``IntakeServer.ipp_port``/``lpd_port``.
    """
    service = IntakeService(registry, spool, config)
    config = service.config
    limits = HttpLimits(
        header_timeout_s=config.idle_timeout_s,
        keepalive_timeout_s=config.keepalive_timeout_s,
        body=config.transfer_limits,
        drain_bytes_max=config.drain_bytes_max,
    )
    printer = IppPrinter(service)
    connections: dict[asyncio.Task[None], asyncio.StreamWriter] = {}
    per_address: Counter[str] = Counter()
    refusals = _RefusalLog()

    def refusal(address: str) -> str | None:
        if len(connections) >= config.connections_max:
            return f"{len(connections)} connections are open (connections_max)"
        if per_address[address] >= config.connections_per_address_max:
            return f"{per_address[address]} connections from this address are open (per-address cap)"
        return None

    def tracked(handler: Connection, refuse_with: bytes = b"") -> Connection:
        # Python 3.11's Server has no close_clients(): remember connections to close and await.
        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            address = client_address(writer.get_extra_info("peername"))
            why = refusal(address)
            if why is not None:
                # Many stalled clients must not exhaust file descriptors or spool writers.
                service.count("connections_refused")
                refusals.refused(address, why)
                with contextlib.suppress(ConnectionError):
                    writer.write(refuse_with)
                writer.close()
                return
            task: asyncio.Task[None] = asyncio.current_task()  # type: ignore[assignment]
            connections[task] = writer
            per_address[address] += 1
            try:
                await handler(reader, writer)
            finally:
                connections.pop(task, None)
                per_address[address] -= 1
                if not per_address[address]:
                    del per_address[address]

        return serve

    ipp_server = lpd_server = None
    if ipp_listen is not None:
        ipp_server = await asyncio.start_server(
            tracked(lambda r, w: serve_connection(r, w, printer.handle_http, limits, service.count)),
            ipp_listen[0],
            ipp_listen[1],
            ssl=ssl_context,
            limit=config.header_bytes_max,
        )
    if lpd_listen is not None:
        lpd = LpdServer(service)
        lpd_server = await asyncio.start_server(
            tracked(lpd.handle, refuse_with=NACK), lpd_listen[0], lpd_listen[1], limit=1024
        )
    sweeper = asyncio.get_running_loop().create_task(_sweep(service))
    server = IntakeServer(service, ipp_server, lpd_server, sweeper, connections, per_address)
    log.info("intake: IPP on %s, LPD on %s", server.ipp_port or "off", server.lpd_port or "off")
    return server
