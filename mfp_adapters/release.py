"""Release transports: hand a held job to an MFP over raw 9100 + PJL, LPD (RFC 1179) or IPP.

All three share :class:`ReleaseTransport`::

    result = await transport.send(job_stream, "job-42", JobOverrides(copies=2, mono=True),
                                  on_start=record_it)
    result.pages_reported   # int from the device (9100 USTATUS END PAGES=n, IPP
                            # job-impressions-completed) or None when it cannot say (LPD)

``on_start`` (optional) is awaited once, after the transport has spoken to the printer and
before the first byte of the document goes out, with what the printer said then
(:class:`SendStart`: its page counter from PJL ``INFO PAGECOUNT`` over 9100, the job id IPP
Create-Job assigned). A caller that must survive its own crash records that durably there; if
``on_start`` raises, nothing of the document is sent (an IPP job already created is cancelled).

After a crash, the printer can be asked what became of a job: :func:`ipp_job_status`
(Get-Job-Attributes: ``job-state``, ``job-impressions-completed``) and :func:`pjl_status`
(``@PJL INFO STATUS`` and ``INFO PAGECOUNT`` on a connection of their own).

``job_stream`` is any async iterable of ``bytes`` chunks; it is never read whole into
memory (LPD needs the size up front, so it spools to a temporary file that stays in
memory only up to 1 MiB). Every network step has a timeout and raises
:class:`ReleaseTimeoutError`; a peer that refuses raises :class:`ReleaseRefusedError`.

Overrides: 9100 and LPD rewrite the PJL header (see :mod:`mfp_adapters.pjl` for the
limits); IPP sends them as job attributes (``copies``, ``sides``, ``print-color-mode``)
and leaves the document untouched, so they are not applied twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import secrets
import socket
import tempfile
from abc import ABC, abstractmethod
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlsplit

from mfp_adapters import ipp
from mfp_adapters.errors import ParseError, ReleaseError, ReleaseRefusedError, ReleaseTimeoutError
from mfp_adapters.pjl import (
    UEL,
    EchoReply,
    InfoReply,
    JobOverrides,
    PjlReplyReader,
    PjlRewriter,
    PjlStatus,
    UstatusMessage,
    query_block,
    safe_job_name,
)

__all__ = [
    "IppJobStatus",
    "IppTransport",
    "LpdTransport",
    "Raw9100Transport",
    "ReleaseResult",
    "ReleaseTransport",
    "SendStart",
    "StartHook",
    "ipp_job_status",
    "pjl_status",
]

log = logging.getLogger(__name__)

T = TypeVar("T")
_CHUNK = 64 * 1024
_SPOOL_IN_MEMORY = 1 << 20
_MAX_HTTP_RESPONSE = 1 << 20


@dataclass(frozen=True)
class ReleaseResult:
    """The outcome of one release."""

    transport: str
    job_name: str
    bytes_sent: int
    pages_reported: int | None
    device_result: str | None = None
    job_id: int | None = None


@dataclass(frozen=True)
class SendStart:
    """What the printer said just before the first byte of a job (see the module docstring)."""

    transport: str
    job_name: str
    page_count: int | None = None  # the printer's page counter then (PJL INFO PAGECOUNT)
    printer_job_id: int | None = None  # the job id the printer assigned (IPP Create-Job)


StartHook = Callable[[SendStart], Awaitable[None]]


class ReleaseTransport(ABC):
    """Send one job to one device."""

    name = "abstract"

    @abstractmethod
    async def send(
        self,
        job_stream: AsyncIterable[bytes],
        job_name: str,
        overrides: JobOverrides | None = None,
        *,
        on_start: StartHook | None = None,
    ) -> ReleaseResult:
        """Send the job; see the module docstring for the contract."""


async def _started(on_start: StartHook | None, start: SendStart) -> None:
    if on_start is not None:
        await on_start(start)


async def _within(awaitable: Awaitable[T], timeout_s: float, what: str) -> T:
    try:
        return await asyncio.wait_for(awaitable, timeout_s)
    except TimeoutError:
        raise ReleaseTimeoutError(f"{what}: no progress within {timeout_s} s") from None


async def _connect(
    host: str, port: int, timeout_s: float
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    try:
        return await _within(
            asyncio.open_connection(host, port, limit=_CHUNK), timeout_s, f"connect {host}:{port}"
        )
    except OSError as exc:
        raise ReleaseError(f"cannot connect to {host}:{port}: {exc}") from None


async def _rewritten(
    job_stream: AsyncIterable[bytes], job_name: str, overrides: JobOverrides | None
) -> AsyncIterator[bytes]:
    rewriter = PjlRewriter(job_name, overrides)
    async for chunk in job_stream:
        out = rewriter.feed(chunk)
        if out:
            yield out
    tail = rewriter.finish()
    if tail:
        yield tail


class Raw9100Transport(ReleaseTransport):
    """Raw TCP (AppSocket/JetDirect): ``@PJL INFO PAGECOUNT`` first, then the job with
    ``@PJL USTATUS JOB=ON`` page feedback, all on one connection."""

    name = "raw9100"

    def __init__(
        self,
        host: str,
        port: int = 9100,
        *,
        connect_timeout_s: float = 5.0,
        write_timeout_s: float = 30.0,
        end_timeout_s: float = 120.0,
        query_timeout_s: float = 5.0,
    ) -> None:
        self.host, self.port = host, port
        self.connect_timeout_s = connect_timeout_s
        self.write_timeout_s = write_timeout_s
        self.end_timeout_s = end_timeout_s
        self.query_timeout_s = query_timeout_s

    async def send(
        self,
        job_stream: AsyncIterable[bytes],
        job_name: str,
        overrides: JobOverrides | None = None,
        *,
        on_start: StartHook | None = None,
    ) -> ReleaseResult:
        """Ask the page counter, stream the rewritten job, half-close, then wait for
        ``USTATUS JOB END`` (or a timeout)."""
        name = safe_job_name(job_name)
        where = f"{self.host}:{self.port}"
        reader, writer = await _connect(self.host, self.port, self.connect_timeout_s)
        replies = PjlReplyReader()
        sent = 0
        try:
            answers, _echoed = await _ask_pjl(reader, writer, replies, ("PAGECOUNT",), self.query_timeout_s)
            pagecount = answers.get("PAGECOUNT")
            await _started(
                on_start, SendStart(self.name, name, page_count=pagecount.number if pagecount else None)
            )
            async for chunk in _rewritten(job_stream, name, overrides):
                writer.write(chunk)
                sent += len(chunk)
                await _within(writer.drain(), self.write_timeout_s, f"send to {where}")
            if writer.can_write_eof():
                writer.write_eof()
            pages, result = await self._await_end(reader, replies, name)
        except ConnectionError as exc:
            raise ReleaseError(f"{where}: connection lost after {sent} bytes: {exc}") from None
        finally:
            writer.close()
        return ReleaseResult(self.name, name, sent, pages, result)

    async def _await_end(
        self, reader: asyncio.StreamReader, replies: PjlReplyReader, name: str
    ) -> tuple[int | None, str | None]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.end_timeout_s
        while (remaining := deadline - loop.time()) > 0:
            try:
                data = await asyncio.wait_for(reader.read(4096), remaining)
            except TimeoutError:
                break
            if not data:
                log.info("9100 %s: peer closed without USTATUS END for %s", self.host, name)
                return None, None
            for message in replies.feed(data):
                if isinstance(message, UstatusMessage) and message.event == "END" and message.name == name:
                    return message.pages, message.result
        log.warning("9100 %s: no USTATUS END for %s within %.0f s", self.host, name, self.end_timeout_s)
        return None, None

    async def status(self) -> PjlStatus:
        """The printer's status and page counter now (see :func:`pjl_status`)."""
        return await pjl_status(self.host, self.port, timeout_s=self.query_timeout_s)


async def _ask_pjl(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    replies: PjlReplyReader,
    categories: tuple[str, ...],
    timeout_s: float,
) -> tuple[dict[str, InfoReply], bool]:
    """Send ``@PJL INFO`` for each category and an ``ECHO``; collect the replies until the echo
    (every reply before it has come) or the timeout. Returns (replies by category, echoed)."""
    token = f"printgate-{secrets.token_hex(6)}"
    writer.write(query_block(categories, token))
    await _within(writer.drain(), timeout_s, "PJL query")
    answers: dict[str, InfoReply] = {}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while (remaining := deadline - loop.time()) > 0:
        try:
            data = await asyncio.wait_for(reader.read(4096), remaining)
        except TimeoutError:
            break
        if not data:
            break
        for message in replies.feed(data):
            if isinstance(message, InfoReply):
                answers[message.category] = message
            elif isinstance(message, EchoReply) and message.text == token:
                return answers, True
    log.info("PJL query %s: no echo within %.1f s (got %s)", categories, timeout_s, sorted(answers))
    return answers, False


async def pjl_status(host: str, port: int = 9100, *, timeout_s: float = 5.0) -> PjlStatus:
    """Ask a 9100 printer ``@PJL INFO STATUS`` and ``INFO PAGECOUNT`` on a connection of its own.

    Raises :class:`ReleaseError` when it cannot connect, :class:`ReleaseTimeoutError` when the
    printer does not echo within ``timeout_s`` (it does not speak PJL, or is wedged).
    """
    reader, writer = await _connect(host, port, timeout_s)
    try:
        answers, echoed = await _ask_pjl(reader, writer, PjlReplyReader(), ("STATUS", "PAGECOUNT"), timeout_s)
        writer.write(UEL)  # end the PJL block: nothing follows
        with contextlib.suppress(ConnectionError, ReleaseTimeoutError):
            await _within(writer.drain(), timeout_s, "PJL query end")
    except ConnectionError as exc:
        raise ReleaseError(f"{host}:{port}: connection lost: {exc}") from None
    finally:
        writer.close()
    if not echoed:
        raise ReleaseTimeoutError(f"{host}:{port}: no answer to @PJL INFO STATUS within {timeout_s} s")
    return PjlStatus.from_replies(answers.get("STATUS"), answers.get("PAGECOUNT"))


class LpdTransport(ReleaseTransport):
    """RFC 1179 "receive a printer job" with one control and one data file. No page feedback.

    RFC 1179 asks clients to bind a source port in 721-731; that needs root and most
    printers ignore it, so an ordinary ephemeral port is used.
    """

    name = "lpd"
    _job_numbers = itertools.count(1)

    def __init__(
        self,
        host: str,
        port: int = 515,
        *,
        queue: str = "lp",
        user: str = "printgate",
        timeout_s: float = 30.0,
    ) -> None:
        for text in (queue, user):
            if not text or any(c in text for c in " \n\r\0"):
                raise ValueError(f"bad LPD queue or user name {text!r}")
        self.host, self.port, self.queue, self.user = host, port, queue, user
        self.timeout_s = timeout_s

    async def send(
        self,
        job_stream: AsyncIterable[bytes],
        job_name: str,
        overrides: JobOverrides | None = None,
        *,
        on_start: StartHook | None = None,
    ) -> ReleaseResult:
        """Spool the rewritten job (to learn its size), then send control file and data file
        (``on_start`` between them: a control file alone prints nothing)."""
        name = safe_job_name(job_name)
        with tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY) as spool:
            size = 0
            async for chunk in _rewritten(job_stream, name, overrides):
                spool.write(chunk)
                size += len(chunk)
            spool.seek(0)
            number = next(self._job_numbers) % 1000
            host = socket.gethostname().split(".")[0][:31] or "printgate"
            control = f"H{host}\nP{self.user}\nJ{name}\nldfA{number:03d}{host}\nN{name}\n".encode()
            start = SendStart(self.name, name)
            await self._deliver(
                spool, size, control, f"{number:03d}{host}", lambda: _started(on_start, start)
            )
        return ReleaseResult(self.name, name, size, None)

    async def _deliver(
        self,
        spool: tempfile.SpooledTemporaryFile[bytes],
        size: int,
        control: bytes,
        tag: str,
        before_data: Callable[[], Awaitable[None]],
    ) -> None:
        where = f"{self.host}:{self.port}"
        reader, writer = await _connect(self.host, self.port, self.timeout_s)
        try:
            await self._command(reader, writer, f"\x02{self.queue}\n".encode(), "receive job")
            await self._command(reader, writer, f"\x02{len(control)} cfA{tag}\n".encode(), "control file")
            await self._command(reader, writer, control + b"\x00", "control file data")
            await before_data()
            await self._command(reader, writer, f"\x03{size} dfA{tag}\n".encode(), "data file")
            while chunk := spool.read(_CHUNK):
                writer.write(chunk)
                await _within(writer.drain(), self.timeout_s, f"send to {where}")
            await self._command(reader, writer, b"\x00", "data file data")
        except ConnectionError as exc:
            raise ReleaseError(f"{where}: connection lost: {exc}") from None
        finally:
            writer.close()

    async def _command(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, data: bytes, what: str
    ) -> None:
        writer.write(data)
        await _within(writer.drain(), self.timeout_s, f"LPD {what}")
        ack = await _within(reader.read(1), self.timeout_s, f"LPD {what} acknowledgement")
        if ack != b"\x00":
            raise ReleaseRefusedError(f"LPD {self.host} refused {what} (answer {ack!r})")


@dataclass(frozen=True)
class IppJobStatus:
    """What Get-Job-Attributes said about one job (RFC 8011 ``job-state``: 3 pending, 4
    pending-held, 5 processing, 6 processing-stopped, 7 canceled, 8 aborted, 9 completed).
    ``state`` is None when the printer does not know the job (never had it, or purged it)."""

    job_id: int
    state: int | None
    reasons: tuple[str, ...] = ()
    impressions: int | None = None

    @property
    def known(self) -> bool:
        """The printer still knows the job."""
        return self.state is not None

    @property
    def finished(self) -> bool:
        """Completed, canceled or aborted: nothing more will print."""
        return self.state in (ipp.JOB_CANCELED, ipp.JOB_ABORTED, ipp.JOB_COMPLETED)


_CREATE_JOB, _SEND_DOCUMENT, _PRINT_JOB = 0x0005, 0x0006, 0x0002
_CANCEL_JOB, _GET_JOB_ATTRIBUTES = 0x0008, 0x0009
_OPERATION_NOT_SUPPORTED, _NOT_FOUND = 0x0501, 0x0406


class IppTransport(ReleaseTransport):
    """IPP Create-Job, then Send-Document over HTTP/1.1 (chunked upload), then
    Get-Job-Attributes for the page count. A printer without Create-Job gets Print-Job."""

    name = "ipp"

    def __init__(
        self,
        printer_uri: str,
        *,
        user: str = "printgate",
        document_format: str = "application/octet-stream",
        timeout_s: float = 30.0,
        end_timeout_s: float = 60.0,
        poll_interval_s: float = 1.0,
    ) -> None:
        parts = urlsplit(printer_uri)
        if parts.scheme not in ("ipp", "http") or not parts.hostname:
            raise ValueError(f"not an ipp:// printer URI: {printer_uri!r}")
        self.printer_uri = printer_uri
        self.host = parts.hostname
        self.port = parts.port or 631
        self.path = parts.path or "/"
        self.user, self.document_format = user, document_format
        self.timeout_s, self.end_timeout_s, self.poll_interval_s = timeout_s, end_timeout_s, poll_interval_s
        self._request_ids = itertools.count(1)

    def _operation(self, code: int, *extra: ipp.IppAttribute) -> ipp.IppMessage:
        attributes = [
            ipp.IppAttribute(ipp.TAG_CHARSET, "attributes-charset", ("utf-8",)),
            ipp.IppAttribute(ipp.TAG_NATURAL_LANGUAGE, "attributes-natural-language", ("en",)),
            ipp.IppAttribute(ipp.TAG_URI, "printer-uri", (self.printer_uri,)),
            ipp.IppAttribute(ipp.TAG_NAME, "requesting-user-name", (self.user,)),
            *extra,
        ]
        return ipp.IppMessage(code, next(self._request_ids), [(ipp.OPERATION_GROUP, attributes)])

    def _job_request(self, code: int, name: str, overrides: JobOverrides | None) -> ipp.IppMessage:
        request = self._operation(code, ipp.IppAttribute(ipp.TAG_NAME, "job-name", (name,)))
        if code == _PRINT_JOB:
            request.groups[0][1].append(self._format())
        job_attributes = self._job_attributes(overrides)
        if job_attributes:
            request.groups.append((ipp.JOB_GROUP, job_attributes))
        return request

    def _format(self) -> ipp.IppAttribute:
        return ipp.IppAttribute(ipp.TAG_MIME, "document-format", (self.document_format,))

    @staticmethod
    def _job_id(job_id: int) -> ipp.IppAttribute:
        return ipp.IppAttribute(ipp.TAG_INTEGER, "job-id", (job_id,))

    @staticmethod
    def _job_attributes(overrides: JobOverrides | None) -> list[ipp.IppAttribute]:
        if overrides is None:
            return []
        attributes = []
        if overrides.copies is not None:
            attributes.append(ipp.IppAttribute(ipp.TAG_INTEGER, "copies", (overrides.copies,)))
        if overrides.duplex is not None:
            sides = "two-sided-long-edge" if overrides.duplex else "one-sided"
            attributes.append(ipp.IppAttribute(ipp.TAG_KEYWORD, "sides", (sides,)))
        if overrides.mono:
            attributes.append(ipp.IppAttribute(ipp.TAG_KEYWORD, "print-color-mode", ("monochrome",)))
        return attributes

    async def send(
        self,
        job_stream: AsyncIterable[bytes],
        job_name: str,
        overrides: JobOverrides | None = None,
        *,
        on_start: StartHook | None = None,
    ) -> ReleaseResult:
        """Create-Job (its job id goes to ``on_start``), Send-Document with the document
        streamed after the attributes, then poll the job's impressions."""
        name = safe_job_name(job_name)
        created = await self._call(self._job_request(_CREATE_JOB, name, overrides))
        if created.code == _OPERATION_NOT_SUPPORTED:
            return await self._print_job(job_stream, name, overrides, on_start)
        self._refused(created, "the job")
        job_id = _int(created.get("job-id"))
        if job_id is None:
            raise ReleaseError(f"IPP {self.printer_uri}: Create-Job answered without a job-id")
        try:
            await _started(on_start, SendStart(self.name, name, printer_job_id=job_id))
        except BaseException:
            with contextlib.suppress(ReleaseError, OSError):
                await self._call(self._operation(_CANCEL_JOB, self._job_id(job_id)))
            raise
        request = self._operation(
            _SEND_DOCUMENT,
            self._job_id(job_id),
            self._format(),
            ipp.IppAttribute(ipp.TAG_BOOLEAN, "last-document", (True,)),
        )
        sent, response = await self._upload(request, job_stream)
        self._refused(response, f"the document of job {job_id}")
        pages = await self._pages(job_id)
        return ReleaseResult(self.name, name, sent, pages, f"0x{response.code:04x}", job_id)

    async def _print_job(
        self,
        job_stream: AsyncIterable[bytes],
        name: str,
        overrides: JobOverrides | None,
        on_start: StartHook | None,
    ) -> ReleaseResult:
        await _started(on_start, SendStart(self.name, name))
        sent, response = await self._upload(self._job_request(_PRINT_JOB, name, overrides), job_stream)
        self._refused(response, "the job")
        job_id = _int(response.get("job-id"))
        pages = await self._pages(job_id) if job_id is not None else None
        return ReleaseResult(self.name, name, sent, pages, f"0x{response.code:04x}", job_id)

    def _refused(self, response: ipp.IppMessage, what: str) -> None:
        if response.code >= 0x0400:
            raise ReleaseRefusedError(f"IPP {self.printer_uri} refused {what}: status 0x{response.code:04x}")

    async def _upload(
        self, request: ipp.IppMessage, job_stream: AsyncIterable[bytes]
    ) -> tuple[int, ipp.IppMessage]:
        sent = 0

        async def body() -> AsyncIterator[bytes]:
            nonlocal sent
            yield ipp.encode(request)
            async for chunk in job_stream:
                sent += len(chunk)
                yield chunk

        response = await self._post(body())
        return sent, response

    async def _call(self, request: ipp.IppMessage) -> ipp.IppMessage:
        async def one() -> AsyncIterator[bytes]:
            yield ipp.encode(request)

        return await self._post(one())

    async def job_status(self, job_id: int) -> IppJobStatus:
        """Get-Job-Attributes: the job's state, its reasons and the impressions completed."""
        response = await self._call(self._operation(_GET_JOB_ATTRIBUTES, self._job_id(job_id)))
        if response.code == _NOT_FOUND:
            return IppJobStatus(job_id, None)
        self._refused(response, f"Get-Job-Attributes of job {job_id}")
        reasons = tuple(str(value) for value in response.values("job-state-reasons"))
        return IppJobStatus(
            job_id, _int(response.get("job-state")), reasons, _int(response.get("job-impressions-completed"))
        )

    async def _pages(self, job_id: int) -> int | None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.end_timeout_s
        while loop.time() < deadline:
            status = await self.job_status(job_id)
            if status.state in (ipp.JOB_CANCELED, ipp.JOB_ABORTED) or not status.known:
                return None
            if status.state == ipp.JOB_COMPLETED:
                return status.impressions
            await asyncio.sleep(self.poll_interval_s)
        return None

    async def _post(self, chunks: AsyncIterator[bytes]) -> ipp.IppMessage:
        where = f"{self.host}:{self.port}"
        reader, writer = await _connect(self.host, self.port, self.timeout_s)
        try:
            writer.write(
                f"POST {self.path} HTTP/1.1\r\nHost: {where}\r\nContent-Type: application/ipp\r\n"
                "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n".encode()
            )
            async for chunk in chunks:
                if chunk:
                    writer.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                    await _within(writer.drain(), self.timeout_s, f"send to {where}")
            writer.write(b"0\r\n\r\n")
            await _within(writer.drain(), self.timeout_s, f"send to {where}")
            raw = b""
            # Stop at the end of the answer, not only at EOF: a printer may keep the connection open.
            while not _http_complete(raw) and len(raw) <= _MAX_HTTP_RESPONSE:
                more = await _within(reader.read(65536), self.timeout_s, f"answer from {where}")
                if not more:
                    break
                raw += more
        except ConnectionError as exc:
            raise ReleaseError(f"{where}: connection lost: {exc}") from None
        finally:
            writer.close()
        return self._parse_http(raw)

    def _parse_http(self, raw: bytes) -> ipp.IppMessage:
        head, sep, body = raw.partition(b"\r\n\r\n")
        status_line = head.split(b"\r\n", 1)[0]
        if not sep or not status_line.startswith(b"HTTP/1."):
            raise ReleaseError(f"IPP {self.printer_uri}: not an HTTP answer")
        status = status_line.split(b" ")[1] if len(status_line.split(b" ")) > 1 else b""
        if status != b"200":
            raise ReleaseRefusedError(f"IPP {self.printer_uri}: HTTP {status.decode('latin-1')}")
        if b"transfer-encoding: chunked" in head.lower():
            body = _dechunk(body)
        try:
            message, _ = ipp.decode(body)
        except ParseError as exc:
            raise ReleaseError(f"IPP {self.printer_uri}: bad IPP answer: {exc}") from None
        return message


def _http_complete(raw: bytes) -> bool:
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.lower().split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip() == b"content-length" and value.strip().isdigit():
            return len(body) >= int(value)
        if name.strip() == b"transfer-encoding" and b"chunked" in value:
            return body.endswith(b"0\r\n\r\n")
    return False


def _dechunk(body: bytes) -> bytes:
    out = bytearray()
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        try:
            size = int(size_line.split(b";")[0], 16)
        except ValueError:
            raise ParseError("bad chunk size in HTTP answer") from None
        if size == 0:
            break
        out += rest[:size]
        body = rest[size + 2 :]
    return bytes(out)


def _int(value: ipp.IppValue | None) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


async def ipp_job_status(printer_uri: str, job_id: int, *, timeout_s: float = 10.0) -> IppJobStatus:
    """Ask an IPP printer what became of job ``job_id`` (Get-Job-Attributes)."""
    return await IppTransport(printer_uri, timeout_s=timeout_s).job_status(job_id)
