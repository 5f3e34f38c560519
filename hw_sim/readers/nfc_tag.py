"""A simulated ISO 14443-A tag answering nfcpy's ``udp`` reader device.

Facts from ../shared/reference/readers.md §1.9 and §3.1. The reader sends datagrams
``b"<bitrate type> <hex payload>"`` (``b"106A 26"``) from an ephemeral port to the tag's
bound port; the tag answers to the sender in the same form. The tag answers:

* SENS_REQ ``26`` / ALL_REQ ``52`` with its ATQA (LSB first on the wire: ``0400``);
* SDD_REQ ``93 20`` / ``95 20`` / ``97 20`` with the cascade level's 4 bytes + BCC, where
  every level but the last starts with the cascade tag ``88``;
* SEL_REQ ``93 70 <5 bytes>`` with SAK ``04`` (UID not complete) or the tag's SAK.

Unknown commands are ignored, as a tag that does not understand them would. With no
tag in the field nothing answers. ``corrupt_next()`` sends one malformed datagram.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from functools import reduce
from operator import xor

from hw_sim.readers.history import SimEvent

__all__ = ["NfcTagSim", "cascade_levels"]

_SEL_CODES = (0x93, 0x95, 0x97)
# UID length -> (ATQA as sent, LSB first; SAK of the complete tag)
_DEFAULTS = {4: (b"\x04\x00", 0x08), 7: (b"\x44\x00", 0x00), 10: (b"\x84\x00", 0x00)}


def cascade_levels(uid: bytes) -> list[bytes]:
    """The 5-byte SDD answers (4 bytes + BCC) for each cascade level of a 4/7/10-byte UID."""
    if len(uid) not in _DEFAULTS:
        raise ValueError("an ISO 14443-A UID is 4, 7 or 10 bytes")
    parts = {4: [uid], 7: [b"\x88" + uid[:3], uid[3:]], 10: [b"\x88" + uid[:3], b"\x88" + uid[3:6], uid[6:]]}
    return [part + bytes([reduce(xor, part)]) for part in parts[len(uid)]]


class NfcTagSim:
    """A tag that can be placed in, and removed from, the field of an nfcpy ``udp`` reader."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind((host, port))
        self._sock.settimeout(0.1)
        self.host, self.port = self._sock.getsockname()
        self.history: list[SimEvent] = []
        self._levels: list[bytes] = []
        self._atqa, self._sak = b"", 0
        self._corrupt: bytes | None = None
        self.requests_unanswered = 0  # reader polls that found no tag
        self.last_answer_s = 0.0  # time.monotonic() when the last answer was sent
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True, name="sim-nfc-tag")

    @property
    def path(self) -> str:
        """The nfcpy device path that reaches this tag."""
        return f"udp:{self.host}:{self.port}"

    def start(self) -> NfcTagSim:
        """Start answering; returns self."""
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop answering and release the port."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(2.0)
        self._sock.close()

    def __enter__(self) -> NfcTagSim:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def place(self, uid: str, *, sak: int | None = None, atqa: bytes | None = None) -> None:
        """Put a tag with this UID (hex, 4/7/10 bytes) in the field."""
        uid_bytes = bytes.fromhex(uid)
        levels = cascade_levels(uid_bytes)
        default_atqa, default_sak = _DEFAULTS[len(uid_bytes)]
        self._atqa, self._sak = atqa or default_atqa, default_sak if sak is None else sak
        self._levels = levels
        self.history.append(SimEvent(time.monotonic(), "place", uid.upper()))

    def remove(self) -> None:
        """Take the tag out of the field."""
        self._levels = []
        self.history.append(SimEvent(time.monotonic(), "remove"))

    def corrupt_next(self, datagram: bytes = b"106A zz-not-hex") -> None:
        """Answer the next request with this malformed datagram instead."""
        self._corrupt = datagram

    def answer(self, request: bytes) -> bytes | None:
        """The payload the tag sends back for a request payload (None: stays silent)."""
        levels = self._levels
        if not levels or not request:
            return None
        if request in (b"\x26", b"\x52"):
            return self._atqa
        if len(request) >= 2 and request[0] in _SEL_CODES:
            level = _SEL_CODES.index(request[0])
            if level >= len(levels):
                return None
            if request[1] == 0x20:
                return levels[level]
            if request[1] == 0x70 and request[2:] == levels[level]:
                return bytes([0x04 if level + 1 < len(levels) else self._sak])
        return None

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                datagram, sender = self._sock.recvfrom(1024)
            except (TimeoutError, OSError):
                continue
            reply = self._reply(datagram)
            if reply is not None:
                self.last_answer_s = time.monotonic()
                with contextlib.suppress(OSError):
                    self._sock.sendto(reply, sender)

    def _reply(self, datagram: bytes) -> bytes | None:
        try:
            bitrate, payload = datagram.split()
            request = bytes.fromhex(payload.decode("ascii"))
        except ValueError:
            return None  # RFOFF or anything else without a payload
        answer = self.answer(request)
        self.requests_unanswered += answer is None
        if answer is None:
            return None
        if self._corrupt is not None:  # replaces a real answer, so the reader is listening for it
            corrupt, self._corrupt = self._corrupt, None
            return corrupt
        return bitrate + b" " + answer.hex().encode()
