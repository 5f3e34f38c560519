"""A streaming reader of print jobs as the simulated MFP sees them (PJL facts from HP's PJL reference).

The PJL header (after ``ESC%-12345X``) is read up to ``@PJL ENTER LANGUAGE``; the PDL
body is never held in memory: only its pages are counted. Page rules of the simulator, by the
body's language (from its first bytes, as a printer's language sniffing does):

* PDF (``%PDF``): each page object (``/Type /Page``, not ``/Pages``) is a page;
* PostScript (``%!``): each ``showpage`` is a page;
* anything else (PCL, text): each form feed (``0x0C``, the page eject) ends a page, and a
  non-empty body without one is one page.

A connection that carries only PJL commands (``@PJL INFO PAGECOUNT``, ``@PJL ECHO`` ..., each
block opened by a UEL) and no page data is not a print job: :attr:`JobTicket.has_body` is false.
The ``INFO`` and ``ECHO`` lines of the header are collected in :attr:`PjlJobReader.queries` as
they arrive, so a sink can answer them before the job's data follows (as a printer does on its
back channel).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["JobTicket", "PjlJobReader"]

UEL = b"\x1b%-12345X"
_MAX_HEADER = 64 * 1024
_SET = re.compile(rb"^@PJL\s+SET\s+(\w+)\s*=\s*\"?([^\"\r\n]*)\"?", re.IGNORECASE)
_JOB = re.compile(rb"^@PJL\s+JOB\b(?:.*?NAME\s*=\s*\"([^\"]*)\")?", re.IGNORECASE)
_USTATUS_JOB = re.compile(rb"^@PJL\s+USTATUS\s+JOB\s*=\s*ON", re.IGNORECASE)
_ENTER = re.compile(rb"^@PJL\s+ENTER\s+LANGUAGE", re.IGNORECASE)
_QUERY = re.compile(rb"^@PJL\s+(INFO|ECHO)\b", re.IGNORECASE)
_PAGE_MARKS = {"pdf": re.compile(rb"/Type\s*/Page(?![A-Za-z])"), "postscript": re.compile(rb"\bshowpage\b")}
_SNIFF_BYTES = 4  # "%PDF"
_MARK_TAIL = 32  # longer than any page mark, so a mark split across chunks is still found once


@dataclass
class JobTicket:
    """What the device understood of one job."""

    name: str | None = None
    ustatus_job: bool = False
    settings: dict[str, str] = field(default_factory=dict)
    pages: int = 0
    bytes_received: int = 0
    header_lines: list[str] = field(default_factory=list)
    body_bytes: int = 0  # page data (PDL), trailer excluded

    @property
    def has_body(self) -> bool:
        """Page data came: something to print (PJL commands alone print nothing)."""
        return self.body_bytes > 0

    @property
    def copies(self) -> int:
        """COPIES or QTY (1 when absent or not a number 1..999)."""
        for key in ("QTY", "COPIES"):
            text = self.settings.get(key, "")
            if text.isdigit() and 1 <= int(text) <= 999:
                return int(text)
        return 1

    @property
    def duplex(self) -> bool:
        """``@PJL SET DUPLEX=ON``."""
        return self.settings.get("DUPLEX", "").upper() == "ON"

    @property
    def mono(self) -> bool:
        """``RENDERMODE=GRAYSCALE`` (or PLANESINUSE=1) forces mono."""
        return (
            self.settings.get("RENDERMODE", "").upper() == "GRAYSCALE"
            or self.settings.get("PLANESINUSE") == "1"
        )


def _sniff_language(start: bytes) -> str:
    if start.startswith(b"%PDF"):
        return "pdf"
    return "postscript" if start.startswith(b"%!") else ""


class PjlJobReader:
    """Feed job bytes in chunks; :meth:`finish` returns the :class:`JobTicket`."""

    def __init__(self) -> None:
        self.ticket = JobTicket()
        self._head = bytearray()
        self._pjl = False
        self._in_body = False
        self._in_trailer = False
        self._carry = b""
        self._page_open = False
        self._language: str | None = None
        self._sniffed = b""
        self._tail = b""
        self.queries: list[str] = []  # INFO / ECHO lines not yet answered (the sink pops them)

    def feed(self, chunk: bytes) -> None:
        """Consume the next chunk of the job."""
        self.ticket.bytes_received += len(chunk)
        if self._in_body:
            self._count(chunk)
            return
        self._head.extend(chunk)
        self._parse_head()

    def _parse_head(self) -> None:
        if not self._pjl:
            if len(self._head) < len(UEL) and UEL.startswith(bytes(self._head)):
                return
            if not self._head.startswith(UEL):
                self._enter_body(bytes(self._head))  # no PJL: the whole thing is PDL
                return
            self._pjl = True
        while (end := self._head.find(b"\n")) >= 0:
            line = bytes(self._head[:end]).rstrip(b"\r")
            while line.startswith(UEL):  # a new PJL block (a query block, then the job)
                line = line[len(UEL) :]
            if line.strip() and not line.upper().startswith(b"@PJL"):
                self._enter_body(bytes(self._head).removeprefix(UEL))  # PDL without ENTER LANGUAGE
                return
            del self._head[: end + 1]
            self._header_line(line)
            if _ENTER.match(line):
                self._enter_body(bytes(self._head))
                return
        if len(self._head) > _MAX_HEADER:
            self._enter_body(bytes(self._head))

    def _header_line(self, line: bytes) -> None:
        self.ticket.header_lines.append(line.decode("latin-1"))
        if _QUERY.match(line):
            self.queries.append(line.decode("latin-1"))
        elif match := _SET.match(line):
            self.ticket.settings[match.group(1).decode("latin-1").upper()] = match.group(2).decode("latin-1")
        elif match := _JOB.match(line):
            if match.group(1) is not None:
                self.ticket.name = match.group(1).decode("latin-1")
        elif _USTATUS_JOB.match(line):
            self.ticket.ustatus_job = True

    def _enter_body(self, rest: bytes) -> None:
        self._in_body = True
        self._head.clear()
        self._count(rest)

    def _count(self, chunk: bytes) -> None:
        # The trailer after the closing UEL (``@PJL EOJ``) is not page data; a UEL may be
        # split across chunks, so the last few bytes wait for the next chunk.
        if self._in_trailer:
            return
        data = self._carry + chunk
        uel = data.find(UEL)
        if uel >= 0:
            self._in_trailer = True
            self._carry = b""
            self._pages_in(data[:uel])
            return
        keep = len(UEL) - 1
        self._carry = data[-keep:] if len(data) > keep else data
        self._pages_in(data[: len(data) - len(self._carry)])

    def _pages_in(self, data: bytes) -> None:
        self.ticket.body_bytes += len(data)
        self._scan(data)

    def _scan(self, data: bytes) -> None:
        if not data:
            return
        if self._language is None:
            # Decide on the first bytes of the body, however the chunks were cut.
            self._sniffed += data
            if len(self._sniffed.lstrip()) < _SNIFF_BYTES:
                return
            self._language = _sniff_language(self._sniffed.lstrip())
            data, self._sniffed = self._sniffed, b""
        mark = _PAGE_MARKS.get(self._language or "")
        if mark is not None:
            # A mark that ends where the data ends may go on in the next chunk ("/Page" of
            # "/Pages"): it is counted once the next bytes (or the end of the job) decide.
            window = self._tail + data
            self.ticket.pages += sum(
                1 for found in mark.finditer(window) if len(self._tail) <= found.end() < len(window)
            )
            self._tail = window[-_MARK_TAIL:]
            return
        self.ticket.pages += data.count(b"\x0c")
        tail = data[data.rfind(b"\x0c") + 1 :]
        if b"\x0c" in data:
            self._page_open = bool(tail.strip())
        elif tail.strip():
            self._page_open = True

    def finish(self) -> JobTicket:
        """The job is complete: a trailing page without a form feed still counts."""
        if not self._in_body and bytes(self._head).replace(UEL, b"").strip():
            self._enter_body(bytes(self._head))
        if self._carry and not self._in_trailer:
            self._pages_in(self._carry)
            self._carry = b""
        if self._language is None and self._sniffed.strip():
            self._language = _sniff_language(self._sniffed.lstrip())
            self._scan(self._sniffed)
        mark = _PAGE_MARKS.get(self._language or "")
        if mark is not None:
            ends = [found.end() for found in mark.finditer(self._tail)]
            self.ticket.pages += ends.count(len(self._tail))
        if self._page_open:
            self.ticket.pages += 1
            self._page_open = False
        return self.ticket
