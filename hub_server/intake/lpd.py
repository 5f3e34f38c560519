"""LPD listener (RFC 1179): "receive a printer job" into the held-job spool.

Protocol: one command line (a byte 0x01-0x05, operands, LF). For ``\\x02queue\\n`` the
daemon acknowledges with ``\\x00`` and then receives subcommands: ``\\x02count cfA…\\n`` +
control file + ``\\x00``, ``\\x03count dfA…\\n`` + data + ``\\x00``, ``\\x01\\n`` abort. Every
subcommand and file is acknowledged with ``\\x00``; any refusal is the error byte
``\\x01`` followed by closing the connection (logged with the reason and counted).

Hostile input is bounded: command lines are at most 1 KiB (the stream limit), control
files at most ``lpd_control_bytes_max``, file names must look like ``cfA``/``dfA`` + digits +
host without path separators, user and job names are sanitised, every read has an idle
timeout and data files stream into the spool within its limits. The control file's ``M``
(mail) line and other side-effect requests are ignored.

Copies are how often the control file names a data file in a print line (RFC 1179 has no
copies field). Each data file becomes one held job.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable
from dataclasses import dataclass, field

from .analysis import sniff_format
from .errors import LpdProtocolError, OwnerRefused, SpoolError
from .jobs import PrintTicket
from .names import clean_job_name, clean_user_name
from .service import IntakeService, Submission
from .spool import SpoolWriter

__all__ = ["ControlFile", "LpdServer", "parse_control_file"]

log = logging.getLogger(__name__)

ACK = b"\x00"
NACK = b"\x01"
_FILE_NAME = re.compile(r"^(cf|df)[A-Za-z][0-9]{3}[A-Za-z0-9._-]{0,200}$")
_PRINT_LETTERS = "cdfglnoprtv"
_FORMATS = {"o": "application/postscript"}  # other letters: sniffed from the data
_READ_BYTES = 64 * 1024
_CONTROL_LINES_MAX = 1000
_COPIES_MAX = 999


@dataclass
class ControlFile:
    """The fields of an LPD control file that intake uses."""

    user: str = ""
    host: str = ""
    job_name: str = ""
    source_name: str = ""
    copies: dict[str, int] = field(default_factory=dict)
    formats: dict[str, str] = field(default_factory=dict)  # "" = sniff from the data


def parse_control_file(data: bytes) -> ControlFile:
    """Parse an RFC 1179 control file; raise ``LpdProtocolError`` if it is not one."""
    text = data.decode("latin-1")
    lines = text.split("\n")
    if len(lines) > _CONTROL_LINES_MAX:
        raise LpdProtocolError(f"control file has more than {_CONTROL_LINES_MAX} lines")
    control = ControlFile()
    for line in lines:
        if not line:
            continue
        letter, operand = line[0], line[1:].rstrip("\r")
        if letter == "P":
            control.user = clean_user_name(operand)
        elif letter == "H":
            control.host = clean_user_name(operand)
        elif letter == "J":
            control.job_name = clean_job_name(operand, fallback="")
        elif letter == "N":
            control.source_name = clean_job_name(operand, fallback="")
        elif letter in _PRINT_LETTERS:
            _check_file_name(operand, "df")
            control.copies[operand] = min(_COPIES_MAX, control.copies.get(operand, 0) + 1)
            control.formats[operand] = _FORMATS.get(letter, "")
    return control


def _check_file_name(name: str, prefix: str) -> None:
    if not _FILE_NAME.match(name) or not name.startswith(prefix):
        raise LpdProtocolError(f"bad {prefix} file name {name[:40]!r}")


@dataclass
class _Job:
    """State of one receive-job command."""

    control: ControlFile | None = None
    writers: dict[str, SpoolWriter] = field(default_factory=dict)
    heads: dict[str, bytes] = field(default_factory=dict)
    owner: str | None = None


class LpdServer:
    """Serves LPD connections for one ``IntakeService``."""

    def __init__(self, service: IntakeService) -> None:
        self.service = service

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One LPD connection (asyncio.start_server callback)."""
        peer = writer.get_extra_info("peername")
        job = _Job()
        try:
            await self._command(reader, writer, job)
        except (LpdProtocolError, OwnerRefused, SpoolError, TimeoutError) as error:
            reason = (
                f"timed out after {self.service.config.idle_timeout_s} s"
                if isinstance(error, TimeoutError)
                else str(error)
            )
            self.service.count("lpd_rejected")
            log.warning("lpd: rejected job from %s: %s", peer, reason)
            with contextlib.suppress(ConnectionError):
                writer.write(NACK)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            self.service.count("lpd_dropped")
            log.info("lpd: %s closed the connection mid-job", peer)
        except Exception:  # a bug or a registry/disk failure must not kill the listener
            log.exception("lpd: job from %s failed", peer)
            with contextlib.suppress(ConnectionError):
                writer.write(NACK)
        finally:
            for spool_writer in job.writers.values():
                spool_writer.abort()
            writer.close()
            with contextlib.suppress(ConnectionError, OSError, TimeoutError):
                await asyncio.wait_for(writer.wait_closed(), 5.0)

    async def _read(self, awaitable: Awaitable[bytes]) -> bytes:
        return await asyncio.wait_for(awaitable, self.service.config.idle_timeout_s)

    async def _line(self, reader: asyncio.StreamReader) -> bytes:
        try:
            return (await self._read(reader.readuntil(b"\n")))[:-1]
        except (asyncio.LimitOverrunError, ValueError):
            raise LpdProtocolError("command line longer than 1 KiB") from None

    async def _command(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, job: _Job) -> None:
        line = await self._line(reader)
        if not line:
            raise LpdProtocolError("empty command")
        code = line[0]
        if code in (3, 4):
            writer.write(b"printgate: jobs are held until released at a printer\n")
            await writer.drain()
            return
        if code != 2:
            raise LpdProtocolError(f"command 0x{code:02x} not supported")
        writer.write(ACK)
        await writer.drain()
        await self._receive_job(reader, writer, job)

    async def _receive_job(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, job: _Job
    ) -> None:
        while True:
            try:
                line = await self._line(reader)
            except asyncio.IncompleteReadError as eof:
                if eof.partial:
                    raise
                break  # the client finished sending
            if line == b"\x01":
                self._abort(job)
                writer.write(ACK)
            else:
                await self._subcommand(line, reader, writer, job)
                writer.write(ACK)
            await writer.drain()
        self._finish(job)

    def _abort(self, job: _Job) -> None:
        for spool_writer in job.writers.values():
            spool_writer.abort()
        job.writers.clear()
        job.control = None

    async def _subcommand(
        self, line: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, job: _Job
    ) -> None:
        code, rest = line[:1], line[1:]
        count_text, _, name_bytes = rest.partition(b" ")
        name = name_bytes.decode("latin-1")
        if code not in (b"\x02", b"\x03") or not count_text.isdigit() or len(count_text) > 12:
            raise LpdProtocolError(f"bad subcommand {line[:40]!r}")
        count = int(count_text)
        if code == b"\x02":
            _check_file_name(name, "cf")
            if count > self.service.config.lpd_control_bytes_max:
                raise LpdProtocolError(f"control file of {count} bytes is too large")
            await self._ack(writer)
            data = await self._read(reader.readexactly(count))
            await self._expect_terminator(reader)
            self._set_control(job, parse_control_file(data))
        else:
            _check_file_name(name, "df")
            if count == 0:
                raise LpdProtocolError("data file without a length is not supported")
            await self._ack(writer)
            await self._receive_data(reader, job, name, count)

    async def _ack(self, writer: asyncio.StreamWriter) -> None:
        # The subcommand line is acknowledged before the client sends the file bytes.
        writer.write(ACK)
        await writer.drain()

    async def _expect_terminator(self, reader: asyncio.StreamReader) -> None:
        if await self._read(reader.readexactly(1)) != b"\x00":
            raise LpdProtocolError("file not followed by a zero byte")

    def _set_control(self, job: _Job, control: ControlFile) -> None:
        if not control.user:
            raise LpdProtocolError("control file has no usable P (user) line")
        job.control = control
        job.owner = self.service.resolve(control.user)
        for spool_writer in job.writers.values():
            spool_writer.set_owner(self.service.owner_key(job.owner, control.user))

    async def _receive_data(self, reader: asyncio.StreamReader, job: _Job, name: str, count: int) -> None:
        if name in job.writers:
            raise LpdProtocolError(f"data file {name} sent twice")
        submitted = job.control.user if job.control else "lpd-pending"
        spool_writer = self.service.open_writer(job.owner, submitted)
        job.writers[name] = spool_writer
        remaining = count
        while remaining:
            chunk = await self._read(reader.read(min(_READ_BYTES, remaining)))
            if not chunk:
                raise asyncio.IncompleteReadError(b"", remaining)
            if name not in job.heads:
                job.heads[name] = chunk[:64]
            spool_writer.write(chunk)
            remaining -= len(chunk)
        await self._expect_terminator(reader)

    def _finish(self, job: _Job) -> None:
        control = job.control
        if control is None:
            if job.writers:
                raise LpdProtocolError("data received without a control file")
            return
        for name, spool_writer in list(job.writers.items()):
            copies = control.copies.get(name)
            if copies is None:
                continue  # data file no print line refers to: discarded in handle()
            submission = Submission(
                submitted_by=control.user,
                job_name=control.job_name or control.source_name or "lpd job",
                document_format=control.formats[name] or sniff_format(job.heads.get(name, b"")),
                source="lpd",
                ticket=PrintTicket(copies=copies),
            )
            self.service.add_stored_job(self.service.new_record(submission, job.owner), spool_writer)
            del job.writers[name]
