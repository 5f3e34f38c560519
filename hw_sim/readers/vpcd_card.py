"""A virtual contactless card for PC/SC tests: a Python card answering vsmartcard's vpcd.

Facts from ../shared/reference/readers.md §1.9 and §3.2. vpcd (a pcscd reader driver)
listens on TCP; the card connects to it. Every message either way is a 2-byte
big-endian length and a payload. vpcd sends ``00`` power off, ``01`` power on, ``02``
reset (no answer), ``04`` get ATR (answer: the ATR), or a command APDU (answer: the
response APDU). The card is present while the connection is up and it answers the ATR
request; closing the socket removes it.

vpcd forwards the reader pseudo-APDU GET DATA ``FF CA P1 00 Le`` to the card, so the card
answers it as a contactless reader would (ACS API): ``P1=00`` UID + ``90 00``; Le shorter
than the UID: ``6C <length>``; Le longer: UID + ``62 82``; ``P1=01`` (ATS) on a card
without ISO 14443-4: ``6A 81``; anything else ``6A 81``. ``fail_next(sw)`` makes the next
GET DATA answer only that status word (``63 00`` "operation failed", ...).
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time

from hw_sim.readers.history import SimEvent

__all__ = ["MIFARE_1K_ATR", "VirtualCard"]

MIFARE_1K_ATR = bytes.fromhex("3B8F8001804F0CA000000306030001000000006A")
_POWER_OFF, _POWER_ON, _RESET, _GET_ATR = 0, 1, 2, 4


class VirtualCard:
    """A card that can be put on (``insert``) and taken off (``remove``) a vpcd reader."""

    def __init__(self, port: int, host: str = "127.0.0.1", atr: bytes = MIFARE_1K_ATR) -> None:
        self.host, self.port, self.atr = host, port, atr
        self.uid = b""
        self.history: list[SimEvent] = []
        self.atr_requests = 0  # vpcd asks for the ATR whenever pcscd checks the card is still there
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._fail_next: bytes | None = None

    def insert(self, uid: str, timeout_s: float = 5.0) -> None:
        """Put a card with this UID (hex) on the reader."""
        self.remove()
        self.uid = bytes.fromhex(uid)
        self._sock = socket.create_connection((self.host, self.port), timeout=timeout_s)
        self._sock.settimeout(None)
        self.history.append(SimEvent(time.monotonic(), "insert", uid.upper()))
        self._thread = threading.Thread(target=self._serve, args=(self._sock,), daemon=True)
        self._thread.start()

    def remove(self) -> None:
        """Take the card off the reader."""
        sock, self._sock = self._sock, None
        if sock is None:
            return
        self.history.append(SimEvent(time.monotonic(), "remove"))
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()
        if self._thread is not None:
            self._thread.join(2.0)

    def close(self) -> None:
        """Take the card away for good (same as ``remove``)."""
        self.remove()

    def fail_next(self, status_word: str) -> None:
        """Answer the next GET DATA with this status word only (e.g. ``"6300"``)."""
        self._fail_next = bytes.fromhex(status_word)

    def answer(self, apdu: bytes) -> bytes:
        """The card's response APDU to a command APDU."""
        if len(apdu) != 5 or apdu[:2] != b"\xff\xca" or apdu[3] != 0:
            return b"\x6a\x81"
        if self._fail_next is not None:
            status, self._fail_next = self._fail_next, None
            return status
        if apdu[2] != 0:
            return b"\x6a\x81"  # ATS requested: this card has no ISO 14443-4 layer
        wanted = apdu[4]
        if wanted == 0 or wanted == len(self.uid):
            return self.uid + b"\x90\x00"
        if wanted < len(self.uid):
            return bytes([0x6C, len(self.uid)])
        return self.uid + b"\x62\x82"

    def _serve(self, sock: socket.socket) -> None:
        with contextlib.suppress(OSError, ConnectionError):
            while True:
                request = _receive(sock)
                reply = self._reply(request)
                if reply is not None:
                    sock.sendall(struct.pack(">H", len(reply)) + reply)

    def _reply(self, request: bytes) -> bytes | None:
        if len(request) == 1:
            if request[0] != _GET_ATR:
                return None
            self.atr_requests += 1
            return self.atr
        reply = self.answer(request)
        self.history.append(SimEvent(time.monotonic(), "apdu", f"{request.hex()} -> {reply.hex()}"))
        return reply


def _receive(sock: socket.socket) -> bytes:
    (length,) = struct.unpack(">H", _exactly(sock, 2))
    return _exactly(sock, length)


def _exactly(sock: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise ConnectionError("vpcd closed the connection")
        data += chunk
    return data
