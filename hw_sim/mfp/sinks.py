"""The simulated MFP's job sinks: raw 9100 with PJL INFO/ECHO/USTATUS, LPD (RFC 1179), IPP (RFC 8010/8011).

Each sink streams the job through :class:`PjlJobReader` (bounded memory) and hands a
:class:`JobRecord` to the device, whose counters then move. Behaviour switches for
bad-peer tests live on :class:`SinkBehaviour`.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import struct
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from hw_sim.mfp.jobs import JobTicket, PjlJobReader
from hw_sim.mfp.model import JobRecord, SimulatedMfp

__all__ = ["IppJob", "IppSink", "LpdSink", "RawSink", "SinkBehaviour", "decode_ipp_attributes"]

log = logging.getLogger(__name__)

_CHUNK = 64 * 1024
_MAX_LINE = 8 * 1024
_MAX_IPP_HEADER = 64 * 1024
_MAX_LPD_FILE = 1 << 34


class SinkBehaviour:
    """Fault switches for bad-peer and crash tests (every sink of one simulated MFP obeys them).

    * ``raw_silent``: 9100 reads the job but never answers (no ``USTATUS``).
    * ``raw_stall``: 9100 stops reading at once (set it false again to go on).
    * ``stall_after_bytes``: every sink stops reading a connection once that many bytes came in
      (``None``: never); clearing it lets them go on. ``stalled`` is set once one did stop.
    * :meth:`hold_answers` / :meth:`release_answers`: PJL replies, LPD acknowledgements and IPP
      responses wait (a printer busy warming up); what the printer does with the data does not.
    """

    _POLL_S = 0.02

    def __init__(self) -> None:
        self.raw_silent = False
        self.raw_stall = False
        self.stall_after_bytes: int | None = None
        self.stalled = asyncio.Event()  # set once a sink stopped reading at stall_after_bytes
        self.closing = asyncio.Event()
        self._answering = asyncio.Event()
        self._answering.set()

    def hold_answers(self) -> None:
        """From now on, answers wait until :meth:`release_answers`."""
        self._answering.clear()

    def release_answers(self) -> None:
        """Send the held answers and answer at once again."""
        self._answering.set()

    async def may_answer(self) -> bool:
        """Wait until answers are allowed; False when the simulator is closing."""
        while not self._answering.is_set():
            if self.closing.is_set():
                return False
            await asyncio.sleep(self._POLL_S)
        return True

    async def may_read(self, received: int, raw: bool = False) -> bool:
        """Wait while reading is stalled; False when the simulator is closing."""
        while (raw and self.raw_stall) or (
            self.stall_after_bytes is not None and received >= self.stall_after_bytes
        ):
            if self.closing.is_set():
                return False
            self.stalled.set()
            await asyncio.sleep(self._POLL_S)
        return not self.closing.is_set()


def _record(
    device: SimulatedMfp,
    protocol: str,
    ticket: JobTicket,
    user: str | None,
    copies: int = 1,
    mono: bool = False,
    duplex: bool = False,
    name: str | None = None,
) -> JobRecord:
    total_copies = ticket.copies * copies
    return JobRecord(
        protocol=protocol,
        name=name or ticket.name,
        user=user,
        pages=ticket.pages,
        copies=total_copies,
        impressions=ticket.pages * total_copies,
        color=device.color_device and not (ticket.mono or mono),
        duplex=ticket.duplex or duplex,
        bytes_received=ticket.bytes_received,
    )


def _print_now(device: SimulatedMfp, job: JobRecord, on_printed: Callable[[JobRecord], None]) -> None:
    """Hand ``job`` to the engine; ``on_printed`` runs on this event loop once it has printed
    (at once, or when a paused engine resumes, maybe from another thread)."""
    loop = asyncio.get_running_loop()
    loop_thread = threading.get_ident()

    def printed(record: JobRecord) -> None:
        if threading.get_ident() == loop_thread:
            on_printed(record)
        else:
            loop.call_soon_threadsafe(on_printed, record)

    device.record_job(job, printed)


class RawSink:
    """Port 9100: answer ``@PJL INFO``/``ECHO`` as they come, read the job to EOF, print it,
    answer ``@PJL USTATUS JOB`` START (accepted) and END (printed) when asked.

    ``INFO PAGECOUNT`` answers the life page count, ``INFO STATUS`` the engine's state
    (:meth:`SimulatedMfp.pjl_status`); other ``INFO`` categories answer ``?`` lines as an
    unsupported category.
    """

    def __init__(self, device: SimulatedMfp, behaviour: SinkBehaviour) -> None:
        self.device = device
        self.behaviour = behaviour
        self._ids = itertools.count(1)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One connection: PJL queries, at most one job."""
        try:
            job = PjlJobReader()
            received = 0
            while await self.behaviour.may_read(received, raw=True):
                chunk = await reader.read(_CHUNK)
                if not chunk:
                    break
                received += len(chunk)
                job.feed(chunk)
                await self._answer(job, writer)
            else:
                return  # closing
            ticket = job.finish()
            await self._answer(job, writer)
            if not ticket.has_body:
                return  # PJL commands only: nothing to print
            if self.behaviour.raw_silent:
                await self.behaviour.closing.wait()
                return
            record = _record(self.device, "raw9100", ticket, ticket.settings.get("USERNAME"))
            printing: asyncio.Future[JobRecord] = asyncio.get_running_loop().create_future()

            def on_printed(done: JobRecord) -> None:
                if not printing.done():
                    printing.set_result(done)

            _print_now(self.device, record, on_printed)
            job_id = next(self._ids)
            if ticket.ustatus_job:
                await self._send(writer, self._start(ticket.name or ""))
            printed = await printing
            if ticket.ustatus_job:
                await self._send(writer, self._end(ticket.name or "", job_id, printed))
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            log.info("raw sink: connection lost: %s", exc)
        finally:
            writer.close()

    async def _send(self, writer: asyncio.StreamWriter, data: bytes) -> None:
        if await self.behaviour.may_answer():
            writer.write(data)
            await writer.drain()

    async def _answer(self, job: PjlJobReader, writer: asyncio.StreamWriter) -> None:
        while job.queries:
            await self._send(writer, self._reply(job.queries.pop(0)))

    def _reply(self, line: str) -> bytes:
        words = line.split(None, 2)
        if words[1].upper() == "ECHO":
            return (line.strip() + "\r\n\x0c").encode("latin-1")
        category = words[2].strip().upper() if len(words) > 2 else ""
        if category == "PAGECOUNT":
            body = f"{self.device.counts()['life_count']}\r\n"
        elif category == "STATUS":
            code, display, online = self.device.pjl_status()
            body = f'CODE={code}\r\nDISPLAY="{display}"\r\nONLINE={"TRUE" if online else "FALSE"}\r\n'
        else:
            body = "?\r\n"
        return f"@PJL INFO {category}\r\n{body}\x0c".encode("latin-1")

    @staticmethod
    def _start(name: str) -> bytes:
        return f'@PJL USTATUS JOB\r\nSTART\r\nNAME="{name}"\r\n\x0c'.encode("latin-1")

    @staticmethod
    def _end(name: str, job_id: int, record: JobRecord) -> bytes:
        pages = record.impressions if record.result == "OK" else 0
        return (
            f'@PJL USTATUS JOB\r\nEND\r\nNAME="{name}"\r\nPAGES={pages}\r\n'
            f"ID={job_id}\r\nRESULT={record.result}\r\n\x0c"
        ).encode("latin-1")


class LpdSink:
    """RFC 1179 "receive a printer job" (command 0x02) with control and data subcommands.

    A job prints once both files came in whole (a connection lost before that prints nothing);
    the acknowledgement of the last file follows the printing, and may be held
    (:meth:`SinkBehaviour.hold_answers`) without changing what was printed.
    """

    def __init__(self, device: SimulatedMfp, behaviour: SinkBehaviour | None = None) -> None:
        self.device = device
        self.behaviour = behaviour or SinkBehaviour()
        self.control_files: list[bytes] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One connection: one daemon command."""
        try:
            line = await reader.readuntil(b"\n")
            if line[:1] != b"\x02":
                writer.write(b"\x01")
                return
            await self._ack(writer)
            await self._receive_job(reader, writer)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ValueError) as exc:
            log.info("lpd sink: dropped connection: %s", exc)
        finally:
            writer.close()

    async def _ack(self, writer: asyncio.StreamWriter, answer: bytes = b"\x00") -> None:
        if await self.behaviour.may_answer():
            writer.write(answer)
            await writer.drain()

    async def _receive_job(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        control: bytes | None = None
        ticket: JobTicket | None = None
        while control is None or ticket is None:
            line = await reader.readuntil(b"\n")
            command = line[:1]
            if command == b"\x01":  # abort
                control, ticket = None, None
                await self._ack(writer)
                continue
            count_text, _, _name = line[1:].strip().partition(b" ")
            count = int(count_text)
            if not 0 < count < _MAX_LPD_FILE or command not in (b"\x02", b"\x03"):
                await self._ack(writer, b"\x01")
                return
            await self._ack(writer)
            if command == b"\x02":
                control = await reader.readexactly(count)
            else:
                ticket = await self._data(reader, count)
            if await reader.readexactly(1) != b"\x00":
                await self._ack(writer, b"\x01")
                return
            if control is not None and ticket is not None:
                self.control_files.append(control)
                self._print(control, ticket)
            await self._ack(writer)

    async def _data(self, reader: asyncio.StreamReader, count: int) -> JobTicket:
        job = PjlJobReader()
        remaining = count
        while remaining:
            if not await self.behaviour.may_read(count - remaining):
                raise ConnectionError("simulator closing")
            chunk = await reader.read(min(_CHUNK, remaining))
            if not chunk:
                raise asyncio.IncompleteReadError(b"", remaining)
            job.feed(chunk)
            remaining -= len(chunk)
        return job.finish()

    def _print(self, control: bytes, ticket: JobTicket) -> None:
        fields = [line for line in control.decode("latin-1").split("\n") if line]
        user = next((f[1:] for f in fields if f[0] == "P"), None)
        name = next((f[1:] for f in fields if f[0] == "J"), None)
        copies = max(1, sum(1 for f in fields if f[0] == "l"))
        if ticket.has_body:
            record = _record(self.device, "lpd", ticket, user, copies=copies, name=name)
            _print_now(self.device, record, lambda _printed: None)


def decode_ipp_attributes(data: bytes) -> tuple[int, int, dict[str, list[bytes]], int] | None:
    """Parse an IPP message head: (operation/status, request id, {name: raw values}, end offset).

    ``None`` when ``data`` does not yet hold the end-of-attributes tag; ``ValueError`` if malformed.
    """
    if len(data) < 9:
        return None
    code, request_id = struct.unpack(">HI", data[2:8])
    attributes: dict[str, list[bytes]] = {}
    pos, last = 8, ""
    while pos < len(data):
        tag = data[pos]
        pos += 1
        if tag == 0x03:
            return code, request_id, attributes, pos
        if tag < 0x10:
            continue
        if pos + 2 > len(data):
            return None
        (name_len,) = struct.unpack(">H", data[pos : pos + 2])
        name = data[pos + 2 : pos + 2 + name_len].decode("utf-8", errors="strict")
        pos += 2 + name_len
        if pos + 2 > len(data):
            return None
        (value_len,) = struct.unpack(">H", data[pos : pos + 2])
        value = data[pos + 2 : pos + 2 + value_len]
        if len(value) < value_len:
            return None
        pos += 2 + value_len
        last = name or last
        attributes.setdefault(last, []).append(value)
    return None


def _ipp_attr(tag: int, name: str, value: bytes) -> bytes:
    encoded = name.encode()
    return bytes([tag]) + struct.pack(">H", len(encoded)) + encoded + struct.pack(">H", len(value)) + value


@dataclass
class IppJob:
    """One job of the simulated IPP printer; ``state`` is the RFC 8011 job-state enum."""

    job_id: int
    name: str | None
    user: str | None
    copies: int
    mono: bool
    duplex: bool
    created_at: float
    state: int = 3  # pending
    reasons: str = "job-incoming"
    impressions: int = 0


_PENDING, _PROCESSING, _CANCELED, _ABORTED, _COMPLETED = 3, 5, 7, 8, 9
_NOT_FOUND, _NOT_POSSIBLE, _NOT_SUPPORTED = 0x0406, 0x040C, 0x0501


class IppSink:
    """HTTP/1.1 POST with one IPP request: Print-Job, Create-Job + Send-Document, Cancel-Job,
    Get-Job-Attributes (RFC 8011).

    Job states as a printer keeps them: Create-Job makes a ``pending`` job (reason
    ``job-incoming``) that waits for its document; Send-Document (or Print-Job) hands the
    document to the engine: ``processing`` until it has printed, then ``completed`` with
    ``job-impressions-completed``. A document cut off mid-stream aborts the job and prints
    nothing (``aborted``, ``aborted-by-system``); a pending job that gets no document within
    :attr:`multiple_operation_timeout_s` is aborted too. The job history is kept until
    :meth:`forget_jobs` (a printer purging it).
    """

    multiple_operation_timeout_s = 120.0

    def __init__(self, device: SimulatedMfp, behaviour: SinkBehaviour | None = None) -> None:
        self.device = device
        self.behaviour = behaviour or SinkBehaviour()
        self.requests: list[dict[str, list[bytes]]] = []
        self.jobs: dict[int, IppJob] = {}
        self._ids = itertools.count(1)

    def forget_jobs(self) -> None:
        """Purge the job history (Get-Job-Attributes then answers not-found)."""
        self.jobs.clear()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One HTTP request per connection (the client sends ``Connection: close``)."""
        try:
            headers = await self._headers(reader)
            body = self._body(reader, headers)
            response = await self._ipp(body)
            async for _rest in body:  # what the operation did not read (the chunked terminator)
                pass
            if await self.behaviour.may_answer():
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/ipp\r\nConnection: close\r\n"
                    + f"Content-Length: {len(response)}\r\n\r\n".encode()
                    + response
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ValueError) as exc:
            log.info("ipp sink: bad request: %s", exc)
            writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        finally:
            writer.close()

    @staticmethod
    async def _headers(reader: asyncio.StreamReader) -> dict[str, str]:
        request_line = await reader.readuntil(b"\r\n")
        if not request_line.startswith(b"POST "):
            raise ValueError("only POST is served")
        headers: dict[str, str] = {}
        while (line := await reader.readuntil(b"\r\n")) != b"\r\n":
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
            if len(headers) > 100:
                raise ValueError("too many headers")
        return headers

    async def _body(self, reader: asyncio.StreamReader, headers: dict[str, str]) -> AsyncIterator[bytes]:
        received = 0
        if headers.get("transfer-encoding", "").lower() == "chunked":
            while await self.behaviour.may_read(received):
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await reader.readuntil(b"\r\n")
                    return
                received += size
                yield await reader.readexactly(size)
                await reader.readexactly(2)
            raise ConnectionError("simulator closing")
        remaining = int(headers.get("content-length", "0"))
        while remaining > 0:
            if not await self.behaviour.may_read(received):
                raise ConnectionError("simulator closing")
            chunk = await reader.read(min(_CHUNK, remaining))
            if not chunk:
                raise asyncio.IncompleteReadError(b"", remaining)
            remaining -= len(chunk)
            received += len(chunk)
            yield chunk

    async def _ipp(self, body: AsyncIterator[bytes]) -> bytes:
        head = bytearray()
        parsed = None
        async for chunk in body:
            head.extend(chunk)
            parsed = decode_ipp_attributes(bytes(head))
            if parsed is not None:
                break
            if len(head) > _MAX_IPP_HEADER:
                raise ValueError("IPP attributes too long")
        if parsed is None:
            raise ValueError("truncated IPP request")
        operation, request_id, attributes, offset = parsed
        self.requests.append(attributes)
        document = _document(bytes(head[offset:]), body)
        if operation == 0x0002:
            job = self._new_job(attributes)
            await self._take_document(job, document)
            return self._response(0x0000, request_id, self._job_group(job))
        if operation == 0x0005:
            job = self._new_job(attributes)
            return self._response(0x0000, request_id, self._job_group(job))
        found = self._job(attributes)
        if operation == 0x0006:
            return await self._send_document(request_id, found, document)
        if operation == 0x0008:
            return self._cancel(request_id, found)
        if operation == 0x0009:
            if found is None:
                return self._response(_NOT_FOUND, request_id, b"")
            return self._response(0x0000, request_id, self._job_group(found))
        return self._response(_NOT_SUPPORTED, request_id, b"")

    def _new_job(self, attributes: dict[str, list[bytes]]) -> IppJob:
        copies = struct.unpack(">i", attributes["copies"][0])[0] if "copies" in attributes else 1
        job = IppJob(
            job_id=next(self._ids),
            name=attributes.get("job-name", [b""])[0].decode() or None,
            user=attributes.get("requesting-user-name", [b""])[0].decode() or None,
            copies=max(1, copies),
            mono=attributes.get("print-color-mode", [b""])[0] == b"monochrome",
            duplex=attributes.get("sides", [b"one-sided"])[0].startswith(b"two-sided"),
            created_at=time.monotonic(),
        )
        self.jobs[job.job_id] = job
        return job

    def _job(self, attributes: dict[str, list[bytes]]) -> IppJob | None:
        if "job-id" not in attributes or len(attributes["job-id"][0]) != 4:
            return None
        job = self.jobs.get(struct.unpack(">i", attributes["job-id"][0])[0])
        waited_s = time.monotonic() - job.created_at if job else 0.0
        if job is not None and job.state == _PENDING and waited_s > self.multiple_operation_timeout_s:
            job.state, job.reasons = _ABORTED, "aborted-by-system"
        return job

    async def _send_document(
        self, request_id: int, job: IppJob | None, document: AsyncIterator[bytes]
    ) -> bytes:
        if job is None:
            return self._response(_NOT_FOUND, request_id, b"")
        if job.state != _PENDING:
            return self._response(_NOT_POSSIBLE, request_id, b"")
        await self._take_document(job, document)
        return self._response(0x0000, request_id, self._job_group(job))

    async def _take_document(self, job: IppJob, document: AsyncIterator[bytes]) -> None:
        reader = PjlJobReader()
        try:
            async for chunk in document:
                reader.feed(chunk)
        except BaseException:
            job.state, job.reasons = _ABORTED, "aborted-by-system"
            raise
        ticket = reader.finish()
        record = _record(
            self.device, "ipp", ticket, job.user, copies=job.copies, mono=job.mono, duplex=job.duplex,
            name=job.name,
        )  # fmt: skip
        job.state, job.reasons = _PROCESSING, "job-printing"
        if not ticket.has_body:
            job.state, job.reasons = _ABORTED, "document-format-error"
            return
        _print_now(self.device, record, lambda printed: self._printed(job, printed))

    @staticmethod
    def _printed(job: IppJob, record: JobRecord) -> None:
        if record.result == "OK":
            job.state, job.reasons = _COMPLETED, "job-completed-successfully"
            job.impressions = record.impressions
        else:
            job.state, job.reasons = _ABORTED, "aborted-by-system"

    def _cancel(self, request_id: int, job: IppJob | None) -> bytes:
        if job is None:
            return self._response(_NOT_FOUND, request_id, b"")
        if job.state != _PENDING:
            return self._response(_NOT_POSSIBLE, request_id, b"")
        job.state, job.reasons = _CANCELED, "job-canceled-by-user"
        return self._response(0x0000, request_id, self._job_group(job))

    @staticmethod
    def _job_group(job: IppJob) -> bytes:
        return (
            b"\x02"
            + _ipp_attr(0x21, "job-id", struct.pack(">i", job.job_id))
            + _ipp_attr(0x23, "job-state", struct.pack(">i", job.state))
            + _ipp_attr(0x44, "job-state-reasons", job.reasons.encode())
            + _ipp_attr(0x42, "job-name", (job.name or "").encode())
            + _ipp_attr(0x21, "job-impressions-completed", struct.pack(">i", job.impressions))
        )

    @staticmethod
    def _response(status: int, request_id: int, groups: bytes) -> bytes:
        operation = (
            b"\x01"
            + _ipp_attr(0x47, "attributes-charset", b"utf-8")
            + _ipp_attr(0x48, "attributes-natural-language", b"en")
        )
        return struct.pack(">BBHI", 1, 1, status, request_id) + operation + groups + b"\x03"


async def _document(first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    if first:
        yield first
    async for chunk in rest:
        yield chunk
