"""The web console (``/console/``) and the user portal (``/portal/``): aiohttp applications
on the hub's event loop, beside the gRPC services.

Like the gRPC servicers, this is a front end: a translation layer over the :class:`Hub`'s
domain objects (it imports the kernel, the domain, capability packages such as ``documents``,
and itself; never storage, never SQL, never gRPC). Start it with :func:`start_web`; the hub
(``hub_server.server``) does so when ``[web] listen`` is set. See docs/web-console.md.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from dataclasses import dataclass

from aiohttp import web

from hub_server.config import WebConfig
from hub_server.domain import Hub
from hub_server.scan import ScanDownloads
from hub_server.web.app import build_app
from hub_server.web.context import Uploads, WebContext
from hub_server.web.mail import mail_reports
from hub_server.web.printers import PrinterWatch

__all__ = ["PrinterWatch", "Uploads", "WebContext", "WebServer", "build_app", "start_web"]

log = logging.getLogger(__name__)
SESSION_SWEEP_S = 600.0


@dataclass
class WebServer:
    """A running web listener and its background tasks."""

    runner: web.AppRunner
    site: web.TCPSite
    context: WebContext
    tasks: list[asyncio.Task[None]]

    @property
    def port(self) -> int:
        """The bound port."""
        server = self.site._server
        assert isinstance(server, asyncio.base_events.Server)
        port: int = server.sockets[0].getsockname()[1]
        return port

    async def close(self) -> None:
        """Stop listening and the background tasks."""
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.runner.cleanup()


async def _sweep_sessions(hub: Hub) -> None:
    while True:
        await asyncio.sleep(SESSION_SWEEP_S)
        try:
            await hub.console.sweep()
        except Exception:  # the sweep must survive a database hiccup; logged with traceback
            log.exception("web: session sweep failed")


async def start_web(
    hub: Hub,
    config: WebConfig,
    host: str,
    port: int,
    ssl_context: ssl.SSLContext | None = None,
    uploads: Uploads | None = None,
    printers: PrinterWatch | None = None,
    reuse_port: bool = False,
    scan_downloads: ScanDownloads | None = None,
) -> WebServer:
    """Serve the console and the portal on ``host:port`` (HTTPS with ``ssl_context``)."""
    context = WebContext(hub, config, uploads, printers, scan_downloads=scan_downloads)
    runner = web.AppRunner(build_app(context), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port, ssl_context=ssl_context, reuse_port=reuse_port or None)
    await site.start()
    loop = asyncio.get_running_loop()
    tasks = [loop.create_task(_sweep_sessions(hub))]
    if printers is not None:
        tasks.append(loop.create_task(printers.run()))
    if config.smtp_host:
        tasks.append(loop.create_task(mail_reports(hub, config)))
    server = WebServer(runner, site, context, tasks)
    log.info("web: console and portal on %s:%d (%s)", host, server.port, "https" if ssl_context else "http")
    return server
