"""Starting and stopping the intake listeners (IPP and IPPS over HTTP, LPD) and the expiry sweep.

Every listener shares one :class:`~.connections.ConnectionGuard` (connection caps). The IPP
printer is an aiohttp application (:attr:`IntakeServer.ipp_app`, to mount at ``/ipp``):
``start_intake`` serves it on ``ipp_listen`` (plain IPP) and ``ipps_listen`` (IPPS, with the
TLS source ``tls``: a context, or a callable asked on every handshake so a replaced server
certificate is served without a restart), one application on both. The printer learns
both URIs (``printer-uri-supported`` lists each with its security and authentication).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from .connections import ConnectionGuard
from .credentials import PasswordCheck
from .dnssd import Announcement, QueueAdvert, publish
from .http_server import HttpLimits, HttpListener, Listen, SslSource, start_http
from .ipp_app import ipp_application
from .ipp_attributes import printer_uuid
from .ipp_printer import Endpoint, IppPrinter
from .jobs import JobRegistry
from .lpd import NACK, LpdServer
from .service import IntakeConfig, IntakeService
from .spool import Spool

__all__ = ["IntakeServer", "parse_listen", "start_intake"]

Connection = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]

log = logging.getLogger(__name__)


@dataclass
class IntakeServer:
    """Running intake listeners. ``ipp_port``/``ipps_port``/``lpd_port`` are the bound ports
    (0 if off)."""

    service: IntakeService
    printer: IppPrinter
    ipp_app: web.Application
    guard: ConnectionGuard
    http: HttpListener | None
    lpd_server: asyncio.Server | None
    sweeper: asyncio.Task[None]
    announcement: Announcement | None = None

    @property
    def ipp_port(self) -> int:
        """The bound plain IPP port, or 0 when plain IPP is not listening."""
        return self._port(tls=False)

    @property
    def ipps_port(self) -> int:
        """The bound IPPS port, or 0 when IPPS is not listening."""
        return self._port(tls=True)

    def _port(self, tls: bool) -> int:
        return next((e.port for e in self.printer.endpoints if e.tls == tls), 0)

    @property
    def lpd_port(self) -> int:
        """The bound LPD port, or 0 when LPD is not listening."""
        return int(self.lpd_server.sockets[0].getsockname()[1]) if self.lpd_server else 0

    @property
    def connections(self) -> dict[asyncio.BaseTransport, str]:
        """Every open connection (IPP and LPD) and its client address."""
        return self.guard.connections

    @property
    def per_address(self) -> dict[str, int]:
        """Open connections by client address."""
        return self.guard.per_address

    async def close(self) -> None:
        """Withdraw the DNS-SD announcement, stop listening, cancel the sweep and analyses."""
        if self.announcement is not None:
            self.announcement.withdraw()
        self.sweeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.sweeper
        if self.lpd_server is not None:
            self.lpd_server.close()
        if self.http is not None:
            await self.http.close()
        self.guard.close_all()
        if self.lpd_server is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.lpd_server.wait_closed(), 5.0)
        await self.service.close()


def parse_listen(text: str) -> tuple[str, int]:
    """Parse ``HOST:PORT`` / ``[IPv6]:PORT`` (for ``--ipp-listen`` / ``--lpd-listen``)."""
    host, colon, port_text = text.rpartition(":")
    if not colon or not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise ValueError(f"expected HOST:PORT, got {text!r}")
    return host.strip("[]") or "0.0.0.0", int(port_text)


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


def http_limits(config: IntakeConfig) -> HttpLimits:
    """The HTTP bounds of ``config``."""
    return HttpLimits(
        head_timeout_s=config.keepalive_timeout_s,
        header_field_bytes_max=config.header_bytes_max,
        body=config.transfer_limits,
        drain_bytes_max=config.drain_bytes_max,
    )


def _guarded(guard: ConnectionGuard, handler: Connection, refuse_with: bytes) -> Connection:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        transport = writer.transport
        if not guard.admit(transport):
            with contextlib.suppress(ConnectionError):
                writer.write(refuse_with)
            writer.close()
            return
        try:
            await handler(reader, writer)
        finally:
            guard.release(transport)

    return serve


async def start_intake(
    registry: JobRegistry,
    spool: Spool,
    ipp_listen: tuple[str, int] | None = ("127.0.0.1", 0),
    lpd_listen: tuple[str, int] | None = None,
    ipps_listen: tuple[str, int] | None = None,
    tls: SslSource | None = None,
    config: IntakeConfig | None = None,
    passwords: PasswordCheck | None = None,
    dnssd_dir: Path | None = None,
) -> IntakeServer:
    """Start plain IPP, IPPS (needs ``tls``) and/or LPD listeners.

    ``passwords`` is the hub's password check, needed when ``config.authentication`` is not
    "none" (HTTP Basic credentials are taken over IPPS only). Port 0 binds an ephemeral port;
    read it back from ``IntakeServer.ipp_port``/``ipps_port``/``lpd_port``. With
    ``dnssd_dir`` (avahi's services directory) the IPP/IPPS queue is announced over DNS-SD.
    """
    if ipps_listen is not None and tls is None:
        raise ValueError("an IPPS listener needs a TLS source")
    service = IntakeService(registry, spool, config)
    config = service.config
    guard = ConnectionGuard(config.connections_max, config.connections_per_address_max, service.count)
    printer = IppPrinter(service, passwords)
    app = ipp_application(printer, http_limits(config), service.count)
    http = lpd_server = None
    listens = [Listen(*ipp_listen)] if ipp_listen is not None else []
    if ipps_listen is not None:
        listens.append(Listen(*ipps_listen, tls=tls))
    if listens:
        root = web.Application()
        root.add_subapp("/ipp", app)
        http = await start_http(root, listens, http_limits(config), guard, service.count)
        printer.endpoints = [
            Endpoint(listen.tls is not None, port) for listen, port in zip(listens, http.ports, strict=True)
        ]
    if lpd_listen is not None:
        lpd = LpdServer(service)
        lpd_server = await asyncio.start_server(
            _guarded(guard, lpd.handle, NACK), lpd_listen[0], lpd_listen[1], limit=1024
        )
    sweeper = asyncio.get_running_loop().create_task(_sweep(service))
    server = IntakeServer(service, printer, app, guard, http, lpd_server, sweeper)
    if dnssd_dir is not None and http is not None:
        advert = QueueAdvert(
            name=f"{config.printer_name} on %h",
            uuid=str(printer_uuid(config.printer_name)),
            make_and_model=config.printer_make_and_model,
            location=config.printer_location,
            ipp_port=server.ipp_port,
            ipps_port=server.ipps_port,
            authenticates=config.authentication != "none",
        )
        try:
            server.announcement = publish(advert, dnssd_dir)
        except BaseException:
            await server.close()
            raise
    log.info(
        "intake: IPP on %s, IPPS on %s, LPD on %s",
        server.ipp_port or "off",
        server.ipps_port or "off",
        server.lpd_port or "off",
    )
    return server
