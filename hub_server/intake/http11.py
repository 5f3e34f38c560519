"""A small asyncio HTTP/1.1 server, just enough for IPP (RFC 8010 section 4 / RFC 9112).

What it does: request line and headers bounded by the stream limit (``header_bytes_max``,
431 beyond it) and a header timeout (for the whole head, however slowly it trickles in);
``Content-Length`` and ``chunked`` request bodies (CUPS sends chunked); ``Expect:
100-continue``; keep-alive (HTTP/1.1 default) with an idle timeout between requests; TLS
when the listener is given an ``ssl.SSLContext``. Every body read is bounded by a
``TransferBudget`` (idle timeout, minimum average rate, deadline), so a client that stalls or
trickles mid-upload is answered 408 and dropped; a client that stops reading our response is
dropped after the idle timeout.

Bodies are never buffered: the handler reads ``HttpRequest.body`` chunk by chunk. If the
handler answers before reading the whole body, up to ``drain_bytes_max`` is read and
discarded to keep the connection usable; beyond that the connection is closed.

Non-goals: pipelining beyond one request at a time, response streaming, HTTP/2.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from .transfer import TransferBudget, TransferLimits, TransferTooSlow

__all__ = ["BodyReader", "HttpError", "HttpRequest", "HttpResponse", "serve_connection"]

log = logging.getLogger(__name__)

_READ_BYTES = 64 * 1024
_CHUNK_LINE_MAX = 1024
_HEADERS_MAX = 100
_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    411: "Length Required",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    431: "Request Header Fields Too Large",
    501: "Not Implemented",
    505: "HTTP Version Not Supported",
}


class HttpError(Exception):
    """A request the server answers with an HTTP error status and then closes."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class BodyReader:
    """Reads a request body (Content-Length or chunked) within a ``TransferBudget`` that
    starts when the body reader is made (right after the request head)."""

    def __init__(
        self, reader: asyncio.StreamReader, length: int | None, chunked: bool, limits: TransferLimits
    ) -> None:
        self._reader = reader
        self._remaining = length or 0
        self._chunked = chunked
        self._chunk_left = 0
        self._budget = TransferBudget(limits)
        self.complete = not chunked and not length
        self.bytes_read = 0

    async def _wait(self, awaitable: Awaitable[bytes]) -> bytes:
        try:
            return await self._budget.wait(awaitable)
        except TransferTooSlow as error:
            raise HttpError(408, f"request body: {error}") from None
        except asyncio.IncompleteReadError:
            raise HttpError(400, "connection closed mid-body") from None
        except asyncio.LimitOverrunError:
            raise HttpError(400, "chunk header line too long") from None

    async def read(self, max_bytes: int = _READ_BYTES) -> bytes:
        """Up to ``max_bytes`` of body; ``b""`` once the body is complete."""
        if self.complete:
            return b""
        data = await (self._read_chunked(max_bytes) if self._chunked else self._read_plain(max_bytes))
        self.bytes_read += len(data)
        self._budget.received(len(data))
        return data

    async def _read_plain(self, max_bytes: int) -> bytes:
        data = await self._wait(self._reader.read(min(max_bytes, self._remaining)))
        if not data:
            raise HttpError(400, "connection closed mid-body")
        self._remaining -= len(data)
        self.complete = self._remaining == 0
        return data

    async def _read_chunked(self, max_bytes: int) -> bytes:
        if self._chunk_left == 0:
            size = await self._chunk_size()
            if size == 0:
                await self._skip_trailers()
                self.complete = True
                return b""
            self._chunk_left = size
        data = await self._wait(self._reader.read(min(max_bytes, self._chunk_left)))
        if not data:
            raise HttpError(400, "connection closed mid-chunk")
        self._chunk_left -= len(data)
        if self._chunk_left == 0 and await self._wait(self._reader.readexactly(2)) != b"\r\n":
            raise HttpError(400, "chunk not followed by CRLF")
        return data

    async def _line(self) -> bytes:
        line = await self._wait(self._reader.readuntil(b"\n"))
        if len(line) > _CHUNK_LINE_MAX:
            raise HttpError(400, "chunk line too long")
        return line.rstrip(b"\r\n")

    async def _chunk_size(self) -> int:
        text = (await self._line()).split(b";", 1)[0].strip()
        if not text or len(text) > 15 or any(c not in b"0123456789abcdefABCDEF" for c in text):
            raise HttpError(400, "bad chunk size")
        return int(text, 16)

    async def _skip_trailers(self) -> None:
        for _ in range(_HEADERS_MAX):
            if not await self._line():
                return
        raise HttpError(400, "too many trailer lines")

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
    """A parsed request head plus a streaming body."""

    method: str
    target: str
    version: str
    headers: dict[str, str]
    body: BodyReader
    tls: bool = False
    peer: str = ""

    def header(self, name: str, default: str = "") -> str:
        """A header value by case-insensitive name."""
        return self.headers.get(name.lower(), default)


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
    """Timeouts and size bounds for one connection."""

    header_timeout_s: float = 30.0
    keepalive_timeout_s: float = 60.0
    body: TransferLimits = field(default_factory=TransferLimits)
    drain_bytes_max: int = 4 * 1024 * 1024
    linger_s: float = 2.0


def _parse_head(head: bytes) -> tuple[str, str, str, dict[str, str]]:
    try:
        text = head.decode("iso-8859-1")
    except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes everything
        raise HttpError(400, "undecodable header") from None
    lines = text.split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise HttpError(400 if len(parts) != 3 else 505, f"bad request line {lines[0][:80]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip() or len(headers) >= _HEADERS_MAX:
            raise HttpError(400, "malformed or too many header lines")
        key = name.lower()
        headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
    return parts[0], parts[1], parts[2], headers


def _body_framing(headers: dict[str, str]) -> tuple[int | None, bool]:
    encoding = headers.get("transfer-encoding", "").lower()
    if encoding:
        if encoding != "chunked":
            raise HttpError(501, f"transfer-encoding {encoding!r} not supported")
        if "content-length" in headers:
            raise HttpError(400, "both Content-Length and chunked")
        return None, True
    length_text = headers.get("content-length", "0")
    if not length_text.isdigit() or len(length_text) > 15:
        raise HttpError(400, "bad Content-Length")
    return int(length_text), False


def _serialise(response: HttpResponse, keep_alive: bool) -> bytes:
    reason = _REASONS.get(response.status, "Unknown")
    lines = [
        f"HTTP/1.1 {response.status} {reason}",
        f"Content-Type: {response.content_type}",
        f"Content-Length: {len(response.body)}",
        "Connection: " + ("keep-alive" if keep_alive else "close"),
        *(f"{name}: {value}" for name, value in response.headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + response.body


Handler = Callable[[HttpRequest], Awaitable[HttpResponse]]


async def _send(writer: asyncio.StreamWriter, data: bytes, timeout_s: float) -> None:
    """Write ``data``; a client that does not read it within ``timeout_s`` is gone."""
    writer.write(data)
    try:
        await asyncio.wait_for(writer.drain(), timeout_s)
    except TimeoutError:
        raise ConnectionError(f"client read nothing of our answer for {timeout_s:g} s") from None


async def _read_head(reader: asyncio.StreamReader, timeout_s: float) -> bytes | None:
    """The next request head, or None when the client is gone or silent."""
    try:
        return await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout_s)
    except (asyncio.IncompleteReadError, TimeoutError, ConnectionError):
        return None
    except (asyncio.LimitOverrunError, ValueError):
        raise HttpError(431, "request head too large") from None


async def _one_request(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    handler: Handler,
    limits: HttpLimits,
    first: bool,
) -> tuple[bool, bool]:
    """Serve one request; returns (keep the connection open, request body left unread)."""
    head = await _read_head(reader, limits.header_timeout_s if first else limits.keepalive_timeout_s)
    if head is None:
        return False, False
    method, target, version, headers = _parse_head(head[:-4])
    length, chunked = _body_framing(headers)
    if headers.get("expect", "").lower() == "100-continue":
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    body = BodyReader(reader, length, chunked, limits.body)
    peer = writer.get_extra_info("peername")
    request = HttpRequest(
        method, target, version, headers, body, writer.get_extra_info("sslcontext") is not None, str(peer)
    )
    response = await handler(request)
    keep_alive = (
        not response.close and version == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
    )
    if not body.complete:
        keep_alive = keep_alive and await body.drain(limits.drain_bytes_max)
    await _send(writer, _serialise(response, keep_alive), limits.body.idle_timeout_s)
    return keep_alive, not body.complete


async def _linger(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, limits: HttpLimits) -> None:
    """Lingering close: half-close, then discard what the client is still sending for a
    moment, so it reads our error response instead of a connection reset."""
    with contextlib.suppress(ConnectionError, OSError, TimeoutError, RuntimeError):
        if writer.can_write_eof():
            writer.write_eof()
        async with asyncio.timeout(limits.linger_s):
            while await reader.read(_READ_BYTES):
                pass


async def serve_connection(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    handler: Handler,
    limits: HttpLimits,
    count: Callable[[str], None] = lambda event: None,
) -> None:
    """Serve requests on one connection until close, error or timeout.

    ``count`` is told ``http_<status>`` for every request refused at the HTTP level."""
    first, unread = True, False
    peer = writer.get_extra_info("peername")
    try:
        keep_alive = True
        while keep_alive:
            keep_alive, unread = await _one_request(reader, writer, handler, limits, first)
            first = False
    except HttpError as error:
        unread = True
        count(f"http_{error.status}")
        # A body that stalls or trickles is how a client would hold connections: say so loudly.
        level = logging.WARNING if error.status == 408 else logging.INFO
        log.log(level, "http: %s from %s: %s", error.status, peer, error)
        with contextlib.suppress(ConnectionError):
            response = _serialise(HttpResponse(error.status, f"{error}\n".encode()), keep_alive=False)
            await _send(writer, response, limits.body.idle_timeout_s)
    except ConnectionError as error:
        log.info("http: connection from %s ended: %s", peer, error)
    except asyncio.IncompleteReadError:
        pass
    finally:
        if unread:  # we answered before the client finished sending
            await _linger(reader, writer, limits)
        writer.close()
        with contextlib.suppress(ConnectionError, OSError, TimeoutError):
            await asyncio.wait_for(writer.wait_closed(), 5.0)
