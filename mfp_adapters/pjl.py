"""PJL at release time: rewrite a job's header (name, USTATUS, copies, duplex, mono) while
streaming, and read the device's ``@PJL USTATUS JOB`` replies.

What a header rewrite can and cannot do (read before promising a user anything):

* It replaces the job's ``@PJL JOB`` line with ours (a unique ``NAME`` to correlate the
  ``USTATUS JOB END ... PAGES=n`` reply), adds ``@PJL USTATUS JOB=ON`` before it, drops the
  header's own ``SET`` lines for what we override (COPIES/QTY, DUPLEX/BINDING,
  RENDERMODE/PLANESINUSE) and inserts ours; device-side hold settings (HOLD, HOLDTYPE,
  HOLDKEY) are always dropped so the job prints now. Only the header is touched; the PDL body
  streams through unchanged, so memory stays bounded.
* Settings *inside* the PDL win over PJL: PCL ``ESC&l#X`` (copies) and ``ESC&l#S``
  (duplex), PostScript ``setpagedevice`` (``/NumCopies``, ``/Duplex``), PCL-XL session
  attributes. A job that carries them ignores our overrides on most devices.
* ``RENDERMODE=GRAYSCALE`` is honoured by HP and many others, not by every device.
  To force mono reliably, re-render the job or release over IPP with
  ``print-color-mode=monochrome`` (see :class:`mfp_adapters.release.IppTransport`).
* A job without a PJL header is wrapped in one; its language is guessed from its
  first bytes (``%!PS``, ``%PDF``, ``ESC E``, ``) HP-PCL XL``) or left to the device.
* A header longer than :data:`MAX_HEADER_BYTES` without ``@PJL ENTER LANGUAGE`` is
  refused (:class:`JobFormatError`) rather than buffered without bound.

The back channel (what a 9100 printer sends on the same socket) is a series of messages, each
ended by a form feed: ``@PJL USTATUS JOB`` (START / END with ``PAGES=``), replies to ``@PJL INFO
PAGECOUNT`` / ``@PJL INFO STATUS`` and the echo of ``@PJL ECHO``. :class:`PjlReplyReader`
splits and parses them; :func:`query_block` builds the queries that ask for them, ending in
an ``ECHO`` whose echo says every reply before it has arrived.

Status codes (HP PJL Technical Reference, appendix D) come in groups: 10xxx informational
(10001 ready), 30xxx-35xxx conditions that continue by themselves, 40xxx operator
intervention (40021 cover open), 41xyy paper to load, 42xyy-44xyy jams, 50xxx hardware.
:class:`PjlStatus` says "busy" for the processing codes (:data:`BUSY_CODES`) and "needs
attention" for 40000-44999: a job may still be inside the printer in both cases.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mfp_adapters.errors import JobFormatError

__all__ = [
    "BUSY_CODES",
    "MAX_HEADER_BYTES",
    "UEL",
    "EchoReply",
    "InfoReply",
    "JobOverrides",
    "PjlReplyReader",
    "PjlRewriter",
    "PjlStatus",
    "UstatusMessage",
    "UstatusReader",
    "parse_reply",
    "parse_ustatus",
    "query_block",
    "safe_job_name",
]

UEL = b"\x1b%-12345X"
MAX_HEADER_BYTES = 64 * 1024
_MAX_USTATUS_BUFFER = 64 * 1024
_ENTER = re.compile(rb"^@PJL\s+ENTER\s+LANGUAGE", re.IGNORECASE)
_JOB = re.compile(rb"^@PJL\s+(JOB|USTATUS\s+JOB)\b", re.IGNORECASE)
_SET = re.compile(rb"^@PJL\s+SET\s+(\w+)", re.IGNORECASE)
# A released job must print now: its own hold settings would park it on the device again.
_ALWAYS_DROPPED = frozenset({b"HOLD", b"HOLDTYPE", b"HOLDKEY"})
_BARE = re.compile(rb"^@PJL\s*$", re.IGNORECASE)
_MAGIC = ((b"%!PS", "POSTSCRIPT"), (b"%PDF", "PDF"), (b"\x1bE", "PCL"), (b") HP-PCL XL", "PCLXL"))
_NAME_OK = re.compile(r"[^\x20-\x7e]|\"")
_TOKEN_OK = re.compile(r"^[\x21-\x7e]{1,64}$")
# Processing (10023) and data received (10024) are from memory of HP's table, warming up (10003)
# too; the groups are cited above.
BUSY_CODES = frozenset({10003, 10023, 10024})
_ATTENTION = range(40000, 45000)


@dataclass(frozen=True)
class JobOverrides:
    """What to force at release; ``None`` keeps the job's own setting."""

    copies: int | None = None
    duplex: bool | None = None
    mono: bool = False

    def __post_init__(self) -> None:
        if self.copies is not None and not 1 <= self.copies <= 999:
            raise JobFormatError(f"copies must be 1..999, not {self.copies}")

    def pjl_lines(self) -> list[bytes]:
        """Our ``@PJL SET`` lines."""
        lines = []
        if self.copies is not None:
            lines.append(f"@PJL SET QTY={self.copies}".encode())
        if self.duplex is not None:
            lines.append(b"@PJL SET DUPLEX=" + (b"ON" if self.duplex else b"OFF"))
            if self.duplex:
                lines.append(b"@PJL SET BINDING=LONGEDGE")
        if self.mono:
            lines.append(b"@PJL SET RENDERMODE=GRAYSCALE")
        return lines

    def replaced_keys(self) -> set[bytes]:
        """The header SET keys our lines replace."""
        keys = set()
        if self.copies is not None:
            keys |= {b"COPIES", b"QTY"}
        if self.duplex is not None:
            keys |= {b"DUPLEX", b"BINDING"}
        if self.mono:
            keys |= {b"RENDERMODE", b"PLANESINUSE"}
        return keys


def safe_job_name(name: str) -> str:
    """A job name PJL can quote: printable ASCII without ``"``, at most 80 characters."""
    return _NAME_OK.sub("_", name)[:80] or "job"


class PjlRewriter:
    """Streaming header rewrite: ``feed`` chunks, send what it returns, then send :meth:`finish`."""

    def __init__(self, job_name: str, overrides: JobOverrides | None = None) -> None:
        self.job_name = safe_job_name(job_name)
        self.overrides = overrides or JobOverrides()
        self.wrapped = False
        self._head = bytearray()
        self._scan_from = 0
        self._done = False

    def feed(self, chunk: bytes) -> bytes:
        """Bytes to send now (empty while the header is still being collected)."""
        if self._done:
            return chunk
        self._head.extend(chunk)
        if len(self._head) < len(UEL) and UEL.startswith(bytes(self._head)):
            return b""
        if not self._head.startswith(UEL):
            return self._wrap()
        return self._rewrite_if_complete()

    def finish(self) -> bytes:
        """The rest: a short job's header, and our closing ``EOJ`` if we wrapped the job."""
        out = b""
        if not self._done:
            out = self._wrap() if not self._head.startswith(UEL) else self._unterminated()
        if self.wrapped:
            out += UEL + f'@PJL EOJ NAME="{self.job_name}"\r\n'.encode() + UEL
        return out

    def _unterminated(self) -> bytes:
        # A PJL-only job (no ENTER LANGUAGE): rewrite what we have.
        return self._emit_rewritten(bytes(self._head), b"", b"")

    def _header(self, kept: list[bytes], enter: bytes | None) -> bytes:
        lines = [
            b"@PJL",
            b"@PJL USTATUS JOB=ON",
            f'@PJL JOB NAME="{self.job_name}"'.encode(),
            *self.overrides.pjl_lines(),
            *kept,
        ]
        if enter:
            lines.append(enter)
        return UEL + b"".join(line + b"\r\n" for line in lines)

    def _wrap(self) -> bytes:
        self.wrapped = True
        self._done = True
        body = bytes(self._head)
        self._head.clear()
        language = next((lang for magic, lang in _MAGIC if body.lstrip(b"\r\n ").startswith(magic)), None)
        enter = f"@PJL ENTER LANGUAGE={language}".encode() if language else None
        return self._header([], enter) + body

    def _rewrite_if_complete(self) -> bytes:
        # Only lines completed since the last call are scanned: linear in the header size.
        head = self._head
        while (end := head.find(b"\n", self._scan_from)) >= 0:
            line = bytes(head[self._scan_from : end]).rstrip(b"\r").removeprefix(UEL)
            if _ENTER.match(line):
                return self._emit_rewritten(bytes(head[: self._scan_from]), line, bytes(head[end + 1 :]))
            self._scan_from = end + 1
        if len(head) > MAX_HEADER_BYTES:
            raise JobFormatError(f"PJL header longer than {MAX_HEADER_BYTES} bytes without ENTER LANGUAGE")
        return b""

    def _emit_rewritten(self, header: bytes, enter: bytes, rest: bytes) -> bytes:
        self._done = True
        self._head.clear()
        replaced = self.overrides.replaced_keys()
        kept = []
        for raw in header.split(b"\n"):
            line = raw.rstrip(b"\r").replace(UEL, b"").strip()
            if not line or _BARE.match(line) or _JOB.match(line):
                continue
            setting = _SET.match(line)
            if setting and setting.group(1).upper() in replaced | _ALWAYS_DROPPED:
                continue
            kept.append(line)
        return self._header(kept, enter or None) + rest


@dataclass(frozen=True)
class UstatusMessage:
    """One ``@PJL USTATUS JOB`` message: ``event`` is START or END."""

    event: str
    name: str | None
    pages: int | None
    result: str | None
    job_id: int | None


@dataclass(frozen=True)
class InfoReply:
    """The reply to ``@PJL INFO <category>``: its lines and ``NAME=value`` fields."""

    category: str
    lines: tuple[str, ...]
    fields: dict[str, str]

    @property
    def number(self) -> int | None:
        """The reply as one number (``INFO PAGECOUNT``: a bare number or ``PAGECOUNT=n``)."""
        text = self.fields.get(self.category) or (self.lines[0] if len(self.lines) == 1 else "")
        return _small_int(text.strip())


@dataclass(frozen=True)
class EchoReply:
    """The echo of ``@PJL ECHO <text>``."""

    text: str


PjlMessage = UstatusMessage | InfoReply | EchoReply


@dataclass(frozen=True)
class PjlStatus:
    """What ``@PJL INFO STATUS`` (and ``INFO PAGECOUNT``) said about the printer."""

    code: int | None
    display: str
    online: bool | None
    page_count: int | None = None

    @property
    def busy(self) -> bool:
        """Processing a job (or warming up before one)."""
        return self.code in BUSY_CODES

    @property
    def needs_attention(self) -> bool:
        """Stopped for an operator (cover, paper, jam): a job may be waiting inside."""
        return self.code is not None and self.code in _ATTENTION

    @classmethod
    def from_replies(cls, status: InfoReply | None, pagecount: InfoReply | None) -> PjlStatus:
        """Build from the two INFO replies (either may be missing)."""
        fields = status.fields if status else {}
        online = fields.get("ONLINE", "").upper()
        return cls(
            code=_small_int(fields.get("CODE")),
            display=fields.get("DISPLAY", ""),
            online=None if not online else online == "TRUE",
            page_count=pagecount.number if pagecount else None,
        )


def query_block(categories: tuple[str, ...], echo_token: str) -> bytes:
    """A PJL block asking ``@PJL INFO`` for each category, then ``@PJL ECHO echo_token``.

    It opens with a UEL and leaves the printer in PJL: a job (starting with its own UEL) may
    follow on the same connection.
    """
    if not _TOKEN_OK.match(echo_token) or not all(c.isalpha() for c in categories):
        raise JobFormatError(f"bad PJL query {categories!r} / echo token {echo_token!r}")
    lines = [
        b"@PJL",
        *(f"@PJL INFO {c.upper()}".encode() for c in categories),
        f"@PJL ECHO {echo_token}".encode(),
    ]
    return UEL + b"".join(line + b"\r\n" for line in lines)


class PjlReplyReader:
    """Split the back channel into form-feed terminated messages and parse those we know."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self.discarded_bytes = 0

    def feed(self, data: bytes) -> list[PjlMessage]:
        """Parse complete messages in ``data``; a runaway message without a form feed is dropped."""
        self._buffer.extend(data)
        messages = []
        while (end := self._buffer.find(b"\x0c")) >= 0:
            raw = bytes(self._buffer[:end])
            del self._buffer[: end + 1]
            message = parse_reply(raw)
            if message is not None:
                messages.append(message)
        if len(self._buffer) > _MAX_USTATUS_BUFFER:
            self.discarded_bytes += len(self._buffer)
            self._buffer.clear()
        return messages


class UstatusReader:
    """A :class:`PjlReplyReader` that keeps only the ``USTATUS JOB`` messages."""

    def __init__(self) -> None:
        self._replies = PjlReplyReader()

    @property
    def discarded_bytes(self) -> int:
        """Bytes of runaway messages dropped."""
        return self._replies.discarded_bytes

    def feed(self, data: bytes) -> list[UstatusMessage]:
        """Parse complete messages in ``data``; only USTATUS JOB ones are returned."""
        return [message for message in self._replies.feed(data) if isinstance(message, UstatusMessage)]


def parse_reply(raw: bytes) -> PjlMessage | None:
    """Parse one back-channel message (without its form feed); ``None`` if it is none we know."""
    text = raw.decode("latin-1")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return None
    echo = re.match(r"@PJL\s+ECHO\s*(.*)$", lines[0], re.IGNORECASE)
    if echo:
        return EchoReply(echo.group(1).strip())
    info = re.match(r"@PJL\s+INFO\s+(\w+)\s*$", lines[0], re.IGNORECASE)
    if info:
        return InfoReply(info.group(1).upper(), tuple(lines[1:]), _fields(lines[1:]))
    return parse_ustatus(raw)


def _fields(lines: list[str]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in lines:
        key, sep, value = line.partition("=")
        if sep:
            fields[key.strip().upper()] = value.strip().strip('"')
    return fields


def parse_ustatus(raw: bytes) -> UstatusMessage | None:
    """Parse one message body (without its form feed); ``None`` if it is not USTATUS JOB."""
    lines = [line.strip() for line in raw.decode("latin-1").splitlines() if line.strip()]
    if not lines or not re.match(r"@PJL\s+USTATUS\s+JOB\s*$", lines[0], re.IGNORECASE):
        return None
    fields = _fields(lines[1:])
    event = next((line.upper() for line in lines[1:] if "=" not in line), "")
    if event not in ("START", "END"):
        return None
    return UstatusMessage(
        event=event,
        name=fields.get("NAME"),
        pages=_small_int(fields.get("PAGES")),
        result=fields.get("RESULT"),
        job_id=_small_int(fields.get("ID")),
    )


def _small_int(text: str | None) -> int | None:
    if text is None or not text.isdigit() or len(text) > 9:
        return None
    return int(text)
