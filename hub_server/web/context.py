"""What the handlers share: the hub's domain, the web settings, web print, printer status,
the login limiter and the dashboard cache; and rendering a page in the reader's language."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import aiohttp_jinja2
from aiohttp import web

from hub_server.config import WebConfig
from hub_server.domain import Hub
from hub_server.domain.console import WebSession
from hub_server.domain.reports import Dashboard
from hub_server.scan import ScanDownloads
from hub_server.web import i18n
from hub_server.web.printers import PrinterWatch
from hub_server.web.security import CSRF_FIELD, LoginLimiter

__all__ = ["CONTEXT", "SESSION", "Uploads", "WebContext", "blocking", "render", "session_of"]

T = TypeVar("T")


class Uploads(Protocol):
    """Where web print hands a document (the hub's print intake)."""

    async def submit(
        self, username: str, job_name: str, document_format: str, chunks: AsyncIterator[bytes]
    ) -> int:
        """Store the document as a held job of ``username``; its job id."""
        ...


@dataclass
class WebContext:
    """One hub's web apps."""

    hub: Hub
    config: WebConfig
    uploads: Uploads | None = None
    printers: PrinterWatch | None = None
    scan_downloads: ScanDownloads | None = None  # scans too large to mail (when scanning runs)
    limiter: LoginLimiter = field(default_factory=lambda: LoginLimiter(10))
    _dashboard: tuple[float, Dashboard] | None = None
    _dashboard_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def __post_init__(self) -> None:
        self.limiter = LoginLimiter(self.config.logins_per_minute)

    @property
    def currency(self) -> str:
        """The site's currency (ISO 4217)."""
        return self.hub.config.currency

    @property
    def timezone(self) -> str:
        """The site's time zone."""
        return self.hub.config.timezone

    async def dashboard(self) -> Dashboard:
        """The dashboard's figures, computed at most once per ``dashboard_cache_s`` (one
        computation at a time: the others wait for it instead of starting their own)."""
        async with self._dashboard_lock:
            cached = self._dashboard
            if cached is None or time.monotonic() - cached[0] > self.config.dashboard_cache_s:
                board = await blocking(self.hub.reports.dashboard)
                self._dashboard = cached = (time.monotonic(), board)
            return cached[1]


CONTEXT = web.AppKey("context", WebContext)
SESSION: web.RequestKey[WebSession | None] = web.RequestKey("session")


async def blocking(function: Callable[..., T], *args: Any) -> T:
    """Run a domain read in a worker thread, so a long report never holds the event loop."""
    return await asyncio.to_thread(function, *args)


def session_of(request: web.Request) -> WebSession:
    """The request's session (the middleware has refused requests without one)."""
    session: WebSession | None = request.get(SESSION)
    if session is None:
        raise web.HTTPUnauthorized()
    return session


def render(request: web.Request, template: str, status: int = 200, **values: Any) -> web.Response:
    """A page in the reader's language, with what every page needs."""
    context = request.config_dict[CONTEXT]
    session: WebSession | None = request.get(SESSION)
    return aiohttp_jinja2.render_template(
        template,
        request,
        {
            "session": session,
            "csrf_field": CSRF_FIELD,
            "csrf_token": session.csrf_token if session else "",
            "language": i18n.current(),
            "currency": context.currency,
            "timezone": context.timezone,
            "path": request.path,
            "app_root": "/console/" if request.path.startswith("/console/") else "/portal/",
            **values,
        },
        status=status,
    )
