"""The intake's HTTP front-end on aiohttp: hardened listeners and streamed request bodies.

aiohttp parses HTTP/1.1 (``Content-Length`` and ``chunked`` bodies, ``Expect: 100-continue``,
keep-alive) and TLS comes from an ``ssl.SSLContext``. What this module adds around it:

* :func:`start_http` runs one aiohttp application (the IPP printer, and whatever else the hub
  composes with it: ``root.add_subapp(prefix, app)``) on one or more listeners, each plain or
  TLS, all behind one :class:`~.connections.ConnectionGuard` (connection caps). A TLS source
  may be a context or a callable returning the context in force: it is asked on every
  handshake, so a replaced server certificate is served without a restart.
* A request head (line and headers: at most ``header_field_bytes_max`` per line,
  ``headers_max`` lines) must arrive within ``head_timeout_s`` of the connection's start or of
  the previous response (aiohttp's keep-alive timeout), however slowly it trickles in.
* :class:`BodyReader` reads ``request.content`` chunk by chunk within a ``TransferBudget``
  (idle timeout, minimum average rate, deadline): a client that stalls or trickles mid-upload
  is answered 408 and dropped. Bodies are never buffered whole: aiohttp stops reading the
  socket while a chunk waits for us.
* :func:`serve` adapts an aiohttp request to the framework-free :class:`HttpRequest` /
  :class:`HttpResponse` the printer speaks; a body left unread after the answer is discarded
  up to ``drain_bytes_max`` to keep the connection, beyond that the connection is closed after
  a short lingering read (so the client sees the answer rather than a reset).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestHandler

from .connections import ConnectionGuard
from .transfer import TransferBudget, TransferLimits, TransferTooSlow

__all__ = [
    "BodyReader",
    "HttpError",
    "HttpLimits",
    "HttpListener",
    "HttpRequest",
    "HttpResponse",
    "Listen",
    "SslSource",
    "serve",
    "server_ssl_context",
    "start_http",
]

log = logging.getLogger(__name__)

READ_BYTES = 64 * 1024
# A TLS source: the context to serve with, or a callable asked for it on every handshake.
SslSource = ssl.SSLContext | Callable[[], ssl.SSLContext]


class HttpError(Exception):
    """A request the server answers with an HTTP error status and then closes."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Content(Protocol):
    """A request body stream: aiohttp's ``request.content`` (or an ``asyncio.StreamReader``)."""

    async def read(self, n: int = -1) -> bytes:
        """Up to ``n`` bytes; ``b""`` at the end of the body."""


class BodyReader:
    """Reads a request body within a ``TransferBudget`` that starts when the reader is made
    (right after the request head)."""

    def __init__(self, content: Content, limits: TransferLimits, empty: bool = False) -> None:
        self._content = content
        self._budget = TransferBudget(limits)
        self.complete = empty
        self.bytes_read = 0

    async def read(self, max_bytes: int = READ_BYTES) -> bytes:
        """Up to ``max_bytes`` of body; ``b""`` once the body is complete."""
        if self.complete:
            return b""
        try:
            data = await self._budget.wait(self._content.read(max_bytes))
        except TransferTooSlow as error:
            raise HttpError(408, f"request body: {error}") from None
        except (web.RequestPayloadError, ConnectionError, asyncio.IncompleteReadError) as error:
            raise HttpError(400, f"request body: {error or 'connection closed mid-body'}") from None
        if not data:
            self.complete = True
        self.bytes_read += len(data)
        self._budget.received(len(data))
        return data

    async def drain(self, max_bytes: int) -> bool:
        """Discard the rest of the body; False if more than ``max_bytes`` remain."""
        discarded = 0
        while not self.complete:
            discarded += len(await self.read())
            if discarded > max_bytes:
                return False
        return True


@dataclass
class HttpRequest:
    """A request head plus a streaming body, as the printer sees it."""

    method: str
    target: str
    headers: Mapping[str, str]
    body: BodyReader
    tls: bool = False
    peer: str = ""

    def header(self, name: str, default: str = "") -> str:
        """A header value by case-insensitive name."""
        wanted = name.lower()
        return next((value for key, value in self.headers.items() if key.lower() == wanted), default)


@dataclass
class HttpResponse:
    """A complete response (IPP responses are small; documents never go back out)."""

    status: int
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    close: bool = False


@dataclass(frozen=True)
class HttpLimits:
    """Bounds of every connection and request on an intake HTTP listener."""

    head_timeout_s: float = 30.0
    header_field_bytes_max: int = 8190
    headers_max: int = 100
    body: TransferLimits = field(default_factory=TransferLimits)
    drain_bytes_max: int = 4 * 1024 * 1024
    linger_s: float = 2.0


Handler = Callable[[HttpRequest], Awaitable[HttpResponse]]


async def serve(
    request: web.Request, handler: Handler, limits: HttpLimits, count: Callable[[str], None]
) -> web.Response:
    """Run ``handler`` for one aiohttp request and turn its answer into an aiohttp response.

    ``count`` is told ``http_<status>`` for every request refused at the HTTP level."""
    peer = str(request.transport.get_extra_info("peername")) if request.transport else ""
    body = BodyReader(request.content, limits.body, empty=not request.body_exists)
    exchange = HttpRequest(request.method, request.path_qs, request.headers, body, request.secure, peer)
    try:
        answer = await handler(exchange)
    except HttpError as error:
        count(f"http_{error.status}")
        # A body that stalls or trickles is how a client would hold connections: say so loudly.
        log.log(
            logging.WARNING if error.status == 408 else logging.INFO,
            "http: %s from %s: %s",
            error.status,
            peer,
            error,
        )
        answer = HttpResponse(error.status, f"{error}\n".encode(), close=True)
    response = web.Response(status=answer.status, body=answer.body, headers=answer.headers, content_type=None)
    response.headers["Content-Type"] = answer.content_type
    keep = not answer.close
    if keep and not body.complete:
        with contextlib.suppress(HttpError):
            keep = await body.drain(limits.drain_bytes_max)
        keep = keep and body.complete
    if not keep:
        response.force_close()
    return response


def server_ssl_context(source: SslSource) -> ssl.SSLContext:
    """The context a listener serves TLS with. A callable source is asked on every handshake
    (from OpenSSL's server-name callback, called with or without SNI), so the certificate in
    force is the one it returns then.

    No TLS 1.3 session tickets are sent (``num_tickets = 0``, set on a given context too):
    CUPS's GnuTLS client (ipptool, the ipp backend) reads tickets arriving after the
    handshake as an error and drops the request ("Host is down")."""
    if isinstance(source, ssl.SSLContext):
        source.num_tickets = 0
        return source
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.num_tickets = 0

    def current(connection: ssl.SSLObject, server_name: str | None, _: ssl.SSLContext) -> None:
        connection.context = source()

    context.sni_callback = current
    return context


class _ServerLog(logging.LoggerAdapter):  # type: ignore[type-arg]
    """aiohttp's server log. A malformed request is the client's doing: counted
    (``http_<status>``) and logged at INFO without a traceback; anything else is a fault of
    ours and keeps its ERROR line and traceback."""

    def __init__(self, count: Callable[[str], None]) -> None:
        super().__init__(log, {})
        self._count = count

    def exception(self, msg: object, *args: object, exc_info: object = True, **kwargs: object) -> None:
        if isinstance(exc_info, HttpProcessingError):
            self._count(f"http_{exc_info.code}")
            self.info("http: %s %s", exc_info.code, exc_info.message)
            return
        self.error(msg, *args, exc_info=exc_info, **kwargs)  # type: ignore[arg-type]


class _Guarded(asyncio.Protocol):
    """An aiohttp connection behind the connection guard: refused connections are closed
    before aiohttp sees them, admitted ones are counted out when they close."""

    def __init__(self, make: Callable[[], RequestHandler], guard: ConnectionGuard) -> None:
        self._make = make
        self._guard = guard
        self._inner: RequestHandler | None = None
        self._transport: asyncio.BaseTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if not self._guard.admit(transport):
            transport.close()
            return
        self._transport = transport
        self._inner = self._make()
        self._inner.connection_made(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._transport is not None:
            self._guard.release(self._transport)
        if self._inner is not None:
            self._inner.connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._inner is not None:
            self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        # Like aiohttp: a client that half-closes is done; the transport closes.
        return None

    def pause_writing(self) -> None:
        if self._inner is not None:
            self._inner.pause_writing()

    def resume_writing(self) -> None:
        if self._inner is not None:
            self._inner.resume_writing()


@dataclass(frozen=True)
class Listen:
    """One listener: address, port (0: any free one) and TLS (None: plain HTTP)."""

    host: str
    port: int
    tls: SslSource | None = None


@dataclass
class HttpListener:
    """An aiohttp application being served; ``ports`` are the bound ports, in ``Listen`` order."""

    runner: web.AppRunner
    servers: list[asyncio.Server]

    @property
    def ports(self) -> list[int]:
        """The bound port of each listener."""
        return [int(server.sockets[0].getsockname()[1]) for server in self.servers]

    async def close(self, grace_s: float = 5.0) -> None:
        """Stop listening, let running requests finish (within ``grace_s``), close connections."""
        for server in self.servers:
            server.close()
        await self.runner.cleanup()
        for server in self.servers:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(server.wait_closed(), grace_s)


async def start_http(
    app: web.Application,
    listens: Sequence[Listen],
    limits: HttpLimits,
    guard: ConnectionGuard,
    count: Callable[[str], None] = lambda event: None,
) -> HttpListener:
    """Serve ``app`` on every listener in ``listens`` (all behind ``guard``); ``count`` is told
    ``http_<status>`` for every request aiohttp refuses as malformed."""
    runner = web.AppRunner(
        app,
        handle_signals=False,
        access_log=None,
        logger=_ServerLog(count),
        shutdown_timeout=5.0,
        keepalive_timeout=limits.head_timeout_s,
        max_line_size=limits.header_field_bytes_max,
        max_field_size=limits.header_field_bytes_max,
        max_headers=limits.headers_max,
        lingering_time=limits.linger_s,
    )
    await runner.setup()
    make = runner.server
    assert make is not None
    loop = asyncio.get_running_loop()
    servers: list[asyncio.Server] = []
    try:
        for listen in listens:
            tls = server_ssl_context(listen.tls) if listen.tls is not None else None
            servers.append(
                await loop.create_server(
                    lambda: _Guarded(make, guard),
                    listen.host,
                    listen.port,
                    ssl=tls,
                    ssl_handshake_timeout=limits.head_timeout_s if tls else None,
                    reuse_address=True,
                )
            )
    except BaseException:
        await HttpListener(runner, servers).close()
        raise
    return HttpListener(runner, servers)
