"""LPD listener (RFC 1179): "receive a printer job" into the held-job spool.

Protocol: one command line (a byte 0x01-0x05, operands, LF). For ``\\x02queue\\n`` the
daemon acknowledges with ``\\x00`` and then receives subcommands: ``\\x02count cfA…\\n`` +
control file + ``\\x00``, ``\\x03count dfA…\\n`` + data + ``\\x00``, ``\\x01\\n`` abort. Every
subcommand and file is acknowledged with ``\\x00``; any refusal is the error byte
``\\x01`` followed by closing the connection (logged with the reason and counted).

Hostile input is bounded: command lines are at most 1 KiB (the stream limit), control
files at most ``lpd_control_bytes_max``, file names must look like ``cfA``/``dfA`` + digits +
host without path separators, user and job names are sanitised, every read of a connection
shares one ``TransferBudget`` (idle timeout, minimum average rate, deadline: a client cannot
hold a connection by trickling bytes), every acknowledgement must be read within the idle
timeout, and data files stream into the spool within its limits. The control file's ``M``
(mail) line and other side-effect requests are ignored.

LPD has no authentication: the ``P`` line only claims a user, so every LPD job is stored
with ``owner_verified`` False.

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
from .transfer import TransferBudget, TransferTooSlow

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


class LpdServer:
    """Serves LPD connections for one ``IntakeService``."""

    def __init__(self, service: IntakeService) -> None:
        self.service = service

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One LPD connection (asyncio.start_server callback)."""
        await _Connection(self.service, reader, writer).serve()


class _Connection:
    """One LPD connection: one command, for "receive job" its subcommands and files. Every
    read is bounded by one ``TransferBudget`` for the whole connection."""

    def __init__(
        self, service: IntakeService, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.service = service
        self.reader = reader
        self.writer = writer
        self.budget = TransferBudget(service.config.transfer_limits)
        self.control: ControlFile | None = None
        self.writers: dict[str, SpoolWriter] = {}
        self.heads: dict[str, bytes] = {}
        self.owner: str | None = None

    async def serve(self) -> None:
        peer = self.writer.get_extra_info("peername")
        try:
            await self._command()
        except (LpdProtocolError, OwnerRefused, SpoolError, TransferTooSlow) as error:
            self.service.count("lpd_rejected")
            if isinstance(error, TransferTooSlow):
                self.service.count("lpd_too_slow")
            log.warning("lpd: rejected job from %s: %s", peer, error)
            with contextlib.suppress(ConnectionError):
                await self._send(NACK)
        except (ConnectionError, asyncio.IncompleteReadError) as error:
            self.service.count("lpd_dropped")
            log.info("lpd: %s closed the connection mid-job: %s", peer, error or "end of stream")
        except Exception:  # a bug or a registry/disk failure must not kill the listener
            log.exception("lpd: job from %s failed", peer)
            with contextlib.suppress(ConnectionError):
                self.writer.write(NACK)
        finally:
            for spool_writer in self.writers.values():
                spool_writer.abort()
            self.writer.close()
            with contextlib.suppress(ConnectionError, OSError, TimeoutError):
                await asyncio.wait_for(self.writer.wait_closed(), 5.0)

    async def _read(self, awaitable: Awaitable[bytes]) -> bytes:
        data = await self.budget.wait(awaitable)
        self.budget.received(len(data))
        return data

    async def _send(self, data: bytes) -> None:
        """Write ``data``; a client that does not read it within the idle timeout is gone."""
        self.writer.write(data)
        timeout_s = self.service.config.idle_timeout_s
        try:
            await asyncio.wait_for(self.writer.drain(), timeout_s)
        except TimeoutError:
            raise ConnectionError(f"client read nothing for {timeout_s:g} s") from None

    async def _line(self) -> bytes:
        try:
            return (await self._read(self.reader.readuntil(b"\n")))[:-1]
        except (asyncio.LimitOverrunError, ValueError):
            raise LpdProtocolError("command line longer than 1 KiB") from None

    async def _command(self) -> None:
        line = await self._line()
        if not line:
            raise LpdProtocolError("empty command")
        code = line[0]
        if code in (3, 4):
            await self._send(b"printgate: jobs are held until released at a printer\n")
            return
        if code != 2:
            raise LpdProtocolError(f"command 0x{code:02x} not supported")
        await self._send(ACK)
        await self._receive_job()

    async def _receive_job(self) -> None:
        while True:
            try:
                line = await self._line()
            except asyncio.IncompleteReadError as eof:
                if eof.partial:
                    raise
                break  # the client finished sending
            if line == b"\x01":
                self._abort()
            else:
                await self._subcommand(line)
            await self._send(ACK)
        self._finish()

    def _abort(self) -> None:
        for spool_writer in self.writers.values():
            spool_writer.abort()
        self.writers.clear()
        self.control = None

    async def _subcommand(self, line: bytes) -> None:
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
            await self._send(ACK)  # the subcommand line is acknowledged before the file bytes
            data = await self._read(self.reader.readexactly(count))
            await self._expect_terminator()
            self._set_control(parse_control_file(data))
        else:
            _check_file_name(name, "df")
            if count == 0:
                raise LpdProtocolError("data file without a length is not supported")
            await self._send(ACK)
            await self._receive_data(name, count)

    async def _expect_terminator(self) -> None:
        if await self._read(self.reader.readexactly(1)) != b"\x00":
            raise LpdProtocolError("file not followed by a zero byte")

    def _set_control(self, control: ControlFile) -> None:
        if not control.user:
            raise LpdProtocolError("control file has no usable P (user) line")
        self.control = control
        self.owner = self.service.resolve(control.user)
        for spool_writer in self.writers.values():
            spool_writer.set_owner(self.service.owner_key(self.owner, control.user))

    async def _receive_data(self, name: str, count: int) -> None:
        if name in self.writers:
            raise LpdProtocolError(f"data file {name} sent twice")
        submitted = self.control.user if self.control else "lpd-pending"
        spool_writer = self.service.open_writer(self.owner, submitted)
        self.writers[name] = spool_writer
        remaining = count
        while remaining:
            chunk = await self._read(self.reader.read(min(_READ_BYTES, remaining)))
            if not chunk:
                raise asyncio.IncompleteReadError(b"", remaining)
            if name not in self.heads:
                self.heads[name] = chunk[:64]
            spool_writer.write(chunk)
            remaining -= len(chunk)
        await self._expect_terminator()

    def _finish(self) -> None:
        control = self.control
        if control is None:
            if self.writers:
                raise LpdProtocolError("data received without a control file")
            return
        for name, spool_writer in list(self.writers.items()):
            copies = control.copies.get(name)
            if copies is None:
                continue  # data file no print line refers to: discarded in serve()
            submission = Submission(
                submitted_by=control.user,
                job_name=control.job_name or control.source_name or "lpd job",
                document_format=control.formats[name] or sniff_format(self.heads.get(name, b"")),
                source="lpd",
                ticket=PrintTicket(copies=copies),
            )  # LPD has no authentication: the owner is only claimed (owner_verified False)
            self.service.add_stored_job(self.service.new_record(submission, self.owner), spool_writer)
            del self.writers[name]
