"""The simulated MFP's job sinks: raw 9100 with PJL USTATUS, LPD (RFC 1179), IPP Print-Job (RFC 8010/8011).

Each sink streams the job through :class:`PjlJobReader` (bounded memory) and hands a
:class:`JobRecord` to the device, whose counters then move. Behaviour switches for
bad-peer tests live on :class:`SinkBehaviour`.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import struct
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from hw_sim.mfp.jobs import JobTicket, PjlJobReader
from hw_sim.mfp.model import JobRecord, SimulatedMfp

__all__ = ["IppSink", "LpdSink", "RawSink", "SinkBehaviour", "decode_ipp_attributes"]

log = logging.getLogger(__name__)

_CHUNK = 64 * 1024
_MAX_LINE = 8 * 1024
_MAX_IPP_HEADER = 64 * 1024
_MAX_LPD_FILE = 1 << 34


@dataclass
class SinkBehaviour:
    """Fault switches: ``raw_silent`` reads the job but never answers; ``raw_stall`` stops reading."""

    raw_silent: bool = False
    raw_stall: bool = False
    closing: asyncio.Event = field(default_factory=asyncio.Event)


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
    job = JobRecord(
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
    device.record_job(job)
    return device.jobs[-1]


class RawSink:
    """Port 9100: read to EOF, print, answer ``@PJL USTATUS JOB`` START/END when asked."""

    def __init__(self, device: SimulatedMfp, behaviour: SinkBehaviour) -> None:
        self.device = device
        self.behaviour = behaviour
        self._ids = itertools.count(1)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One connection = one job."""
        try:
            job = PjlJobReader()
            while True:
                if self.behaviour.raw_stall:
                    await self.behaviour.closing.wait()
                    return
                chunk = await reader.read(_CHUNK)
                if not chunk:
                    break
                job.feed(chunk)
            ticket = job.finish()
            if self.behaviour.raw_silent:
                await self.behaviour.closing.wait()
                return
            record = _record(self.device, "raw9100", ticket, ticket.settings.get("USERNAME"))
            if ticket.ustatus_job:
                writer.write(self._ustatus(ticket.name or "", record))
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            log.info("raw sink: connection lost: %s", exc)
        finally:
            writer.close()

    def _ustatus(self, name: str, record: JobRecord) -> bytes:
        job_id = next(self._ids)
        start = f'@PJL USTATUS JOB\r\nSTART\r\nNAME="{name}"\r\n\x0c'
        pages = record.impressions if record.result == "OK" else 0
        end = (
            f'@PJL USTATUS JOB\r\nEND\r\nNAME="{name}"\r\nPAGES={pages}\r\n'
            f"ID={job_id}\r\nRESULT={record.result}\r\n\x0c"
        )
        return (start + end).encode("latin-1")


class LpdSink:
    """RFC 1179 "receive a printer job" (command 0x02) with control and data subcommands."""

    def __init__(self, device: SimulatedMfp) -> None:
        self.device = device
        self.control_files: list[bytes] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One connection: one daemon command."""
        try:
            line = await reader.readuntil(b"\n")
            if line[:1] != b"\x02":
                writer.write(b"\x01")
                return
            writer.write(b"\x00")
            await self._receive_job(reader, writer)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ValueError) as exc:
            log.info("lpd sink: dropped connection: %s", exc)
        finally:
            writer.close()

    async def _receive_job(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        control: bytes | None = None
        ticket: JobTicket | None = None
        while control is None or ticket is None:
            line = await reader.readuntil(b"\n")
            command = line[:1]
            if command == b"\x01":  # abort
                control, ticket = None, None
                writer.write(b"\x00")
                continue
            count_text, _, _name = line[1:].strip().partition(b" ")
            count = int(count_text)
            if not 0 < count < _MAX_LPD_FILE or command not in (b"\x02", b"\x03"):
                writer.write(b"\x01")
                return
            writer.write(b"\x00")
            if command == b"\x02":
                control = await reader.readexactly(count)
            else:
                ticket = await self._data(reader, count)
            if await reader.readexactly(1) != b"\x00":
                writer.write(b"\x01")
                return
            writer.write(b"\x00")
            await writer.drain()
        self.control_files.append(control)
        self._print(control, ticket)

    @staticmethod
    async def _data(reader: asyncio.StreamReader, count: int) -> JobTicket:
        job = PjlJobReader()
        remaining = count
        while remaining:
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
        _record(self.device, "lpd", ticket, user, copies=copies, name=name)


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


class IppSink:
    """HTTP/1.1 POST with an IPP Print-Job (0x0002) or Get-Job-Attributes (0x0009) request."""

    def __init__(self, device: SimulatedMfp) -> None:
        self.device = device
        self.requests: list[dict[str, list[bytes]]] = []
        self._jobs: dict[int, JobRecord] = {}
        self._ids = itertools.count(1)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One HTTP request per connection (the client sends ``Connection: close``)."""
        try:
            headers = await self._headers(reader)
            body = self._body(reader, headers)
            response = await self._ipp(body)
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

    @staticmethod
    async def _body(reader: asyncio.StreamReader, headers: dict[str, str]) -> AsyncIterator[bytes]:
        if headers.get("transfer-encoding", "").lower() == "chunked":
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await reader.readuntil(b"\r\n")
                    return
                yield await reader.readexactly(size)
                await reader.readexactly(2)
        remaining = int(headers.get("content-length", "0"))
        while remaining > 0:
            chunk = await reader.read(min(_CHUNK, remaining))
            if not chunk:
                raise asyncio.IncompleteReadError(b"", remaining)
            remaining -= len(chunk)
            yield chunk

    async def _ipp(self, body: AsyncIterator[bytes]) -> bytes:
        head = bytearray()
        parsed = None
        job = PjlJobReader()
        async for chunk in body:
            if parsed is None:
                head.extend(chunk)
                parsed = decode_ipp_attributes(bytes(head))
                if parsed is None:
                    if len(head) > _MAX_IPP_HEADER:
                        raise ValueError("IPP attributes too long")
                    continue
                job.feed(bytes(head[parsed[3] :]))
            else:
                job.feed(chunk)
        if parsed is None:
            raise ValueError("truncated IPP request")
        operation, request_id, attributes, _ = parsed
        self.requests.append(attributes)
        if operation == 0x0002:
            return self._print_job(request_id, attributes, job.finish())
        if operation == 0x0009:
            return self._job_attributes(request_id, attributes)
        return self._response(0x0501, request_id, b"")  # server-error-operation-not-supported

    def _print_job(self, request_id: int, attributes: dict[str, list[bytes]], ticket: JobTicket) -> bytes:
        copies = struct.unpack(">i", attributes["copies"][0])[0] if "copies" in attributes else 1
        mono = attributes.get("print-color-mode", [b""])[0] == b"monochrome"
        duplex = attributes.get("sides", [b"one-sided"])[0].startswith(b"two-sided")
        user = attributes.get("requesting-user-name", [b""])[0].decode() or None
        name = attributes.get("job-name", [b""])[0].decode() or None
        record = _record(
            self.device, "ipp", ticket, user, copies=max(1, copies), mono=mono, duplex=duplex, name=name
        )
        job_id = next(self._ids)
        self._jobs[job_id] = record
        return self._response(0x0000, request_id, self._job_group(job_id, record))

    def _job_attributes(self, request_id: int, attributes: dict[str, list[bytes]]) -> bytes:
        job_id = struct.unpack(">i", attributes["job-id"][0])[0] if "job-id" in attributes else 0
        record = self._jobs.get(job_id)
        if record is None:
            return self._response(0x0406, request_id, b"")  # client-error-not-found
        return self._response(0x0000, request_id, self._job_group(job_id, record))

    @staticmethod
    def _job_group(job_id: int, record: JobRecord) -> bytes:
        state = 9 if record.result == "OK" else 8  # completed / aborted
        return (
            b"\x02"
            + _ipp_attr(0x21, "job-id", struct.pack(">i", job_id))
            + _ipp_attr(0x23, "job-state", struct.pack(">i", state))
            + _ipp_attr(0x21, "job-impressions-completed", struct.pack(">i", record.impressions))
        )

    @staticmethod
    def _response(status: int, request_id: int, groups: bytes) -> bytes:
        operation = (
            b"\x01"
            + _ipp_attr(0x47, "attributes-charset", b"utf-8")
            + _ipp_attr(0x48, "attributes-natural-language", b"en")
        )
        return struct.pack(">BBHI", 1, 1, status, request_id) + operation + groups + b"\x03"
