"""An ESC/POS receipt printer on TCP (port 9100 style) that reads back what was printed.

The byte stream is tokenised with the command lengths of ../shared/reference/readers.md §5.2:
text is decoded with the selected code page, lines keep their alignment and bold/double flags,
native QR codes (``GS ( k``, store then print) and barcodes (``GS k``) are decoded, raster
images are measured, and every cut (``GS V``) closes one receipt. ``DLE EOT n`` is answered at
once with one status byte built from the settable state (``paper_out()``, ``go_offline()``…).
Unknown or impossible sequences are recorded in ``errors``; nothing crashes the printer.
"""

from __future__ import annotations

import os
import select
import socket
import threading
import tty
from dataclasses import dataclass, field
from typing import Any

__all__ = ["EscPosParser", "PrintedLine", "SimReceipt", "SimReceiptPrinter"]

ESC, GS, DLE, FS, LF, CR, HT = 0x1B, 0x1D, 0x10, 0x1C, 0x0A, 0x0D, 0x09
EOT = 0x04
MAX_COMMAND_BYTES = 1 << 20  # a raster or QR bigger than this is refused, not waited for

# ESC t n -> Python codec (Epson code page numbers)
CODE_PAGES = {0: "cp437", 2: "cp850", 3: "cp860", 4: "cp863", 5: "cp865", 15: "iso8859_15",
              16: "cp1252", 17: "cp866", 18: "cp852", 19: "cp858"}  # fmt: skip
BARCODE_TYPES = {0: "UPC-A", 1: "UPC-E", 2: "EAN13", 3: "EAN8", 4: "CODE39", 5: "ITF", 6: "CODABAR",
                 65: "UPC-A", 66: "UPC-E", 67: "EAN13", 68: "EAN8", 69: "CODE39", 70: "ITF",
                 71: "CODABAR", 72: "CODE93", 73: "CODE128"}  # fmt: skip
# commands of fixed length whose argument we keep or ignore: (prefix, second byte) -> total length
FIXED = {
    (ESC, ord("@")): 2, (ESC, ord("2")): 2, (ESC, ord("t")): 3, (ESC, ord("!")): 3,
    (ESC, ord("E")): 3, (ESC, ord("-")): 3, (ESC, ord("a")): 3, (ESC, ord("M")): 3,
    (ESC, ord("{")): 3, (ESC, ord("d")): 3, (ESC, ord("3")): 3, (ESC, ord("J")): 3,
    (ESC, ord("G")): 3, (ESC, ord("R")): 3, (ESC, ord("V")): 3, (ESC, ord("p")): 5,
    (GS, ord("h")): 3, (GS, ord("w")): 3, (GS, ord("H")): 3, (GS, ord("f")): 3,
    (GS, ord("b")): 3, (GS, ord("B")): 3, (GS, ord("!")): 3, (GS, ord("L")): 4, (GS, ord("W")): 4,
    (FS, ord(".")): 2, (FS, ord("&")): 2, (FS, ord("C")): 3,
}  # fmt: skip
PAPER_BITS = {"ok": 0x00, "low": 0x0C, "out": 0x60}


@dataclass(frozen=True)
class PrintedLine:
    """One printed line and how it looked."""

    text: str
    align: str = "left"
    bold: bool = False
    double_height: bool = False
    double_width: bool = False


@dataclass
class SimReceipt:
    """Everything between two cuts."""

    lines: list[PrintedLine] = field(default_factory=list)
    qr_codes: list[str] = field(default_factory=list)
    barcodes: list[tuple[str, str]] = field(default_factory=list)
    images: list[tuple[int, int]] = field(default_factory=list)
    drawer_kicks: int = 0
    cut: str = ""

    @property
    def text(self) -> list[str]:
        """Just the text of each line."""
        return [line.text for line in self.lines]


@dataclass
class _Style:
    align: str = "left"
    bold: bool = False
    double_height: bool = False
    double_width: bool = False
    code_page: str = "cp437"


class EscPosParser:
    """Incremental ESC/POS tokeniser; ``feed`` returns the bytes to send back (status replies)."""

    def __init__(self, status: Any = None) -> None:
        self.receipts: list[SimReceipt] = []
        self.errors: list[str] = []
        self.status_queries: list[int] = []
        self._status = status or (lambda n: 0x12)
        self._buffer = bytearray()
        self._current = SimReceipt()
        self._style = _Style()
        self._text = bytearray()
        self._qr_store = b""

    @property
    def unfinished(self) -> SimReceipt:
        """What was printed since the last cut."""
        return self._current

    def feed(self, data: bytes) -> bytes:
        """Consume bytes; returns the replies to real-time status requests in order."""
        self._buffer += data
        replies = bytearray()
        while self._buffer:
            used, reply = self._step()
            if used == 0:
                break  # an incomplete command: wait for more bytes
            del self._buffer[:used]
            replies += reply
        return bytes(replies)

    # -- tokenising -------------------------------------------------------------------------
    def _step(self) -> tuple[int, bytes]:
        first = self._buffer[0]
        if first == LF:
            self._end_line()
            return 1, b""
        if first == DLE:
            return self._dle()
        if first in (ESC, GS, FS):
            return self._command(first)
        if first == CR:
            return 1, b""
        if first < 0x20 and first != HT:
            self._error(f"unknown control byte {first:#04x}")
            return 1, b""
        return self._take_text(), b""

    def _take_text(self) -> int:
        end = 0
        while end < len(self._buffer) and (self._buffer[end] >= 0x20 or self._buffer[end] == HT):
            end += 1
        self._text += self._buffer[:end]
        return end

    def _dle(self) -> tuple[int, bytes]:
        if len(self._buffer) < 3:
            return 0, b""
        if self._buffer[1] != EOT:
            self._error(f"unknown DLE command {self._buffer[1]:#04x}")
            return 2, b""
        self.status_queries.append(self._buffer[2])
        return 3, bytes([self._status(self._buffer[2])])

    def _command(self, prefix: int) -> tuple[int, bytes]:
        if len(self._buffer) < 2:
            return 0, b""
        key = (prefix, self._buffer[1])
        if key in FIXED:
            size = FIXED[key]
            if len(self._buffer) < size:
                return 0, b""
            self._apply_fixed(key, bytes(self._buffer[2:size]))
            return size, b""
        variable = {
            (GS, ord("V")): self._cut,
            (GS, ord("k")): self._barcode,
            (GS, ord("(")): self._gs_paren,
            (GS, ord("v")): self._raster,
            (ESC, ord("*")): self._bit_image,
        }.get(key)
        if variable is None:
            self._error(f"unknown command {prefix:#04x} {self._buffer[1]:#04x}")
            return 2, b""
        return variable(), b""

    def _apply_fixed(self, key: tuple[int, int], args: bytes) -> None:
        prefix, command = key[0], chr(key[1])
        style = self._style
        if prefix == ESC and command == "@":
            self._style = _Style()
        elif prefix == ESC and command == "t":
            style.code_page = CODE_PAGES.get(args[0], "cp437")
        elif prefix == ESC and command == "!":
            style.bold, style.double_height, style.double_width = (
                bool(args[0] & 0x08), bool(args[0] & 0x10), bool(args[0] & 0x20))  # fmt: skip
        elif prefix == ESC and command == "E":
            style.bold = bool(args[0] & 1)
        elif prefix == ESC and command == "a":
            style.align = {0: "left", 1: "center", 2: "right", 48: "left", 49: "center", 50: "right"}.get(
                args[0], "left"
            )
        elif prefix == GS and command == "!":
            style.double_width, style.double_height = args[0] >> 4 > 0, args[0] & 0x0F > 0
        elif prefix == ESC and command == "d":
            self._end_line(only_if_text=True)
        elif prefix == ESC and command == "p":
            self._current.drawer_kicks += 1

    def _cut(self) -> int:
        if len(self._buffer) < 3:
            return 0
        mode = self._buffer[2]
        size = 4 if mode in (65, 66) else 3
        if len(self._buffer) < size:
            return 0
        if mode not in (0, 1, 48, 49, 65, 66):
            self._error(f"invalid cut mode {mode}")
            return size
        self._end_line(only_if_text=True)
        self._current.cut = "partial" if mode in (1, 49, 66) else "full"
        self.receipts.append(self._current)
        self._current = SimReceipt()
        return size

    def _barcode(self) -> int:
        if len(self._buffer) < 3:
            return 0
        kind = self._buffer[2]
        if kind not in BARCODE_TYPES:
            self._error(f"unknown barcode type {kind}")
            return 3
        if kind >= 65:
            if len(self._buffer) < 4 or len(self._buffer) < 4 + self._buffer[3]:
                return 0
            data, size = bytes(self._buffer[4 : 4 + self._buffer[3]]), 4 + self._buffer[3]
        else:
            end = self._buffer.find(0, 3)
            if end < 0 and len(self._buffer) > 3 + 255:
                self._error("barcode without its NUL terminator")
                return 3
            if end < 0:
                return 0
            data, size = bytes(self._buffer[3:end]), end + 1
        self._current.barcodes.append((BARCODE_TYPES[kind], data.decode("ascii", "replace")))
        return size

    def _gs_paren(self) -> int:
        if len(self._buffer) < 5:
            return 0
        size = 5 + self._buffer[3] + 256 * self._buffer[4]
        if len(self._buffer) < size:
            return self._wait_or_drop(size, "GS ( command")
        body = bytes(self._buffer[5:size])
        if self._buffer[2] == ord("k") and len(body) >= 2 and body[0] == 0x31:
            if body[1] == 0x50 and len(body) >= 3:
                self._qr_store = body[3:]
            elif body[1] == 0x51:
                self._current.qr_codes.append(self._qr_store.decode("utf-8", "replace"))
        return size

    def _raster(self) -> int:
        if len(self._buffer) < 8:
            return 0
        if self._buffer[2] not in (0x30, 0):
            self._error("unknown GS v command")
            return 3
        width_bytes = self._buffer[4] + 256 * self._buffer[5]
        height = self._buffer[6] + 256 * self._buffer[7]
        size = 8 + width_bytes * height
        if len(self._buffer) < size:
            return self._wait_or_drop(size, "raster image")
        self._current.images.append((width_bytes * 8, height))
        return size

    def _bit_image(self) -> int:
        if len(self._buffer) < 5:
            return 0
        columns = self._buffer[3] + 256 * self._buffer[4]
        size = 5 + columns * (3 if self._buffer[2] in (32, 33) else 1)
        if len(self._buffer) < size:
            return self._wait_or_drop(size, "bit image")
        self._current.images.append((columns, 24 if self._buffer[2] in (32, 33) else 8))
        return size

    def _wait_or_drop(self, size: int, what: str) -> int:
        if size <= MAX_COMMAND_BYTES and len(self._buffer) < MAX_COMMAND_BYTES:
            return 0
        self._error(f"{what} too large ({size} bytes): dropped its header")
        return 2

    # -- output ----------------------------------------------------------------------------
    def _end_line(self, only_if_text: bool = False) -> None:
        if only_if_text and not self._text:
            return
        style = self._style
        text = bytes(self._text).decode(style.code_page, "replace")
        self._current.lines.append(
            PrintedLine(text, style.align, style.bold, style.double_height, style.double_width)
        )
        self._text.clear()

    def _error(self, message: str) -> None:
        self.errors.append(message)


class SimReceiptPrinter:
    """An ESC/POS printer on TCP (and on ptys via :meth:`serve_pty`) with a settable status and
    domain verbs; one parser per connection."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.online = True
        self.paper = "ok"
        self.connections = 0
        self._parsers: list[EscPosParser] = []
        self._lock = threading.Lock()
        self._server = socket.create_server((host, port))
        self._server.settimeout(0.1)
        self.host, self.port = self._server.getsockname()[:2]
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._ptys: list[int] = []

    # -- domain verbs -----------------------------------------------------------------------
    def paper_out(self) -> None:
        """The roll ran out (the printer also goes offline, as real ones do)."""
        self.paper = "out"

    def paper_low(self) -> None:
        """The near-end sensor trips."""
        self.paper = "low"

    def refill(self) -> None:
        """A new roll: paper OK."""
        self.paper = "ok"

    def go_offline(self) -> None:
        """Cover open or an error: offline."""
        self.online = False

    def go_online(self) -> None:
        """Back online."""
        self.online = True

    @property
    def receipts(self) -> list[SimReceipt]:
        """Every receipt cut so far, over all connections."""
        with self._lock:
            return [receipt for parser in self._parsers for receipt in parser.receipts]

    @property
    def errors(self) -> list[str]:
        """Every parse error so far."""
        with self._lock:
            return [error for parser in self._parsers for error in parser.errors]

    def status_byte(self, request: int) -> int:
        """The DLE EOT reply: fixed bits 0x12, 0x08 offline (n=1), paper bits (n=4)."""
        offline = not self.online or self.paper == "out"
        if request == 1:
            return 0x12 | (0x08 if offline else 0)
        if request == 4:
            return 0x12 | PAPER_BITS[self.paper]
        return 0x12

    # -- server -----------------------------------------------------------------------------
    def start(self) -> SimReceiptPrinter:
        """Start accepting connections; returns self."""
        thread = threading.Thread(target=self._accept_loop, name="sim-escpos", daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def serve_pty(self) -> str:
        """Also listen on a new pty (for ``escpos.printer.Serial``); returns its device path."""
        master, slave = os.openpty()
        tty.setraw(slave)
        self._ptys += [master, slave]
        parser = self._new_parser()
        thread = threading.Thread(target=self._serve_pty, args=(master, parser), daemon=True)
        thread.start()
        self._threads.append(thread)
        return os.ttyname(slave)

    def close(self) -> None:
        """Stop serving and close the listening socket and ptys."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=2)
        self._server.close()
        for descriptor in self._ptys:
            os.close(descriptor)

    def _new_parser(self) -> EscPosParser:
        parser = EscPosParser(self.status_byte)
        with self._lock:
            self._parsers.append(parser)
            self.connections += 1
        return parser

    def _serve_pty(self, master: int, parser: EscPosParser) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([master], [], [], 0.05)
            if not ready:
                continue
            try:
                data = os.read(master, 4096)
            except OSError:
                return
            with self._lock:
                reply = parser.feed(data)
            if reply:
                os.write(master, reply)

    def __enter__(self) -> SimReceiptPrinter:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._server.accept()
            except (TimeoutError, OSError):
                continue
            parser = self._new_parser()
            thread = threading.Thread(target=self._serve, args=(connection, parser), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, connection: socket.socket, parser: EscPosParser) -> None:
        connection.settimeout(0.1)
        with connection:
            while not self._stop.is_set():
                try:
                    data = connection.recv(4096)
                except TimeoutError:
                    continue
                except OSError:
                    return
                if not data:
                    return
                with self._lock:
                    reply = parser.feed(data)
                if reply:
                    connection.sendall(reply)
