"""Simulated serial card readers on a pseudo-terminal: RDM6300, ID-12LA and Elatec TWN4.

Written from the wire formats in ../shared/reference/readers.md §1.1, §1.2 and §1.4,
not from the drivers:

* RDM6300: ``STX`` + 10 upper-case hex characters (5 ID bytes) + 2 hex characters of
  XOR checksum + ``ETX``; the module repeats the frame while a tag stays in the field.
* ID-12LA / ID-20LA: the same with ``CR LF`` before ``ETX``.
* TWN4 simple protocol: the host writes ``0500FF\\r`` (SearchTag); the reader answers
  ``00`` (no error) + ``01`` found + tag type + ID bit count + ID length + ID, in hex,
  then ``\\r``; or ``0000\\r`` when no tag is in the field.

The driver opens ``sim.path`` (a symlink to the pty's slave side) like any serial port.
``unplug()`` closes the pty, as pulling a USB adapter would; ``replug()`` makes a new one
behind the same path. Every action is recorded in ``history``.
"""

from __future__ import annotations

import contextlib
import os
import select
import tempfile
import threading
import time
import tty

from hw_sim.readers.history import SimEvent

__all__ = ["SERIAL_PROTOCOLS", "SerialReaderSim", "em_frame", "twn4_reply"]

SERIAL_PROTOCOLS = ("rdm6300", "id12la", "twn4")
_TWN4_TAG_TYPES = {"iso14443a": 0x80, "em4100": 0x40, "hid-prox": 0x49}


def _card_bytes(card: str) -> bytes:
    data = bytes.fromhex(card)
    if not data:
        raise ValueError("a card needs at least one ID byte")
    return data


def _xor(data: bytes) -> int:
    result = 0
    for byte in data:
        result ^= byte
    return result


def em_frame(card: str, line_end: bytes = b"") -> bytes:
    """RDM6300 frame (``line_end=b""``) or ID-12LA frame (``line_end=b"\\r\\n"``) for 5 ID bytes."""
    data = _card_bytes(card)
    if len(data) != 5:
        raise ValueError("an EM4100 ID is 5 bytes (10 hex digits)")
    return b"\x02" + f"{data.hex().upper()}{_xor(data):02X}".encode() + line_end + b"\x03"


def twn4_reply(card: str | None, technology: str = "iso14443a") -> bytes:
    """The TWN4 answer to SearchTag with ``card`` in the field (or none)."""
    if card is None:
        return b"0000\r"
    data = _card_bytes(card)
    reply = bytes([0x00, 0x01, _TWN4_TAG_TYPES[technology], len(data) * 8, len(data)]) + data
    return reply.hex().upper().encode() + b"\r"


class SerialReaderSim:
    """A serial card reader on a pty; drive it with ``tap``/``hold``/``remove``/``noise``."""

    def __init__(
        self,
        protocol: str = "rdm6300",
        link_path: str | None = None,
        *,
        repeat_interval_s: float = 0.1,
        technology: str = "iso14443a",
    ) -> None:
        if protocol not in SERIAL_PROTOCOLS:
            raise ValueError(f"unknown protocol {protocol!r}; choose from {SERIAL_PROTOCOLS}")
        self.protocol = protocol
        self.path = link_path or os.path.join(tempfile.mkdtemp(prefix="pg-reader-"), "tty")
        self.repeat_interval_s = repeat_interval_s
        self.technology = technology
        self.history: list[SimEvent] = []
        self._lock = threading.Lock()
        self._fds: tuple[int, int] | None = None
        self._card: str | None = None
        self._until_s = 0.0  # the held card leaves the field at this time
        self._taps_pending = 0  # TWN4: polls that still see a tapped card
        self._next_repeat_s = 0.0
        self._stop = threading.Event()
        self._worker = threading.Thread(target=self._serve, daemon=True, name=f"sim-{protocol}")

    # --- life cycle -------------------------------------------------------------------

    def start(self) -> SerialReaderSim:
        """Create the pty and start answering; returns self."""
        self.replug()
        self._worker.start()
        return self

    def close(self) -> None:
        """Stop the simulator and remove its pty."""
        self._stop.set()
        if self._worker.is_alive():
            self._worker.join(2.0)
        self._close_pty()

    def __enter__(self) -> SerialReaderSim:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def unplug(self) -> None:
        """The device vanishes: the pty is closed and the path removed."""
        self._record("unplug")
        self._close_pty()

    def replug(self) -> None:
        """A (new) device appears behind ``path``."""
        master, slave = os.openpty()
        tty.setraw(slave)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        os.symlink(os.ttyname(slave), self.path)
        with self._lock:
            self._fds = (master, slave)
        self._record("plug", os.ttyname(slave))

    # --- domain verbs -----------------------------------------------------------------

    def frame(self, card: str) -> bytes:
        """The bytes this reader sends for ``card`` (for TWN4: its SearchTag reply)."""
        if self.protocol == "twn4":
            return twn4_reply(card, self.technology)
        return em_frame(card, b"\r\n" if self.protocol == "id12la" else b"")

    def tap(self, card: str) -> None:
        """A card passes the reader: one frame (TWN4: found by the next poll only)."""
        frame = self.frame(card)  # validates the card before anything is recorded
        self._record("tap", card)
        if self.protocol == "twn4":
            with self._lock:
                self._card, self._taps_pending, self._until_s = card, 1, 0.0
        else:
            self._write(frame)

    def hold(self, card: str, seconds: float) -> None:
        """A card stays in the field for ``seconds`` (frames repeat, polls find it)."""
        self.frame(card)
        self._record("hold", f"{card} {seconds:g}s")
        with self._lock:
            self._card, self._taps_pending = card, 0
            self._until_s = time.monotonic() + seconds
            self._next_repeat_s = 0.0

    def remove(self) -> None:
        """The card leaves the field."""
        self._record("remove")
        with self._lock:
            self._card, self._taps_pending, self._until_s = None, 0, 0.0

    def noise(self, data: bytes) -> None:
        """Line noise: raw bytes on the wire."""
        self._record("noise", f"{len(data)} bytes")
        self._write(data)

    def send_raw(self, data: bytes) -> None:
        """Arbitrary bytes, e.g. a frame cut short before ``unplug()``."""
        self._record("raw", data.hex())
        self._write(data)

    def burst(self, cards: list[str]) -> None:
        """Send one frame per card back to back (blocks until the port took them all)."""
        self._record("burst", f"{len(cards)} frames")
        self._write(b"".join(self.frame(card) for card in cards))

    # --- internals --------------------------------------------------------------------

    def _record(self, action: str, detail: str = "") -> None:
        self.history.append(SimEvent(time.monotonic(), action, detail))

    def _write(self, data: bytes) -> None:
        with self._lock:
            fds = self._fds
        if fds is None:
            raise ConnectionError("the simulated reader is unplugged")
        view = memoryview(data)
        while view:
            view = view[os.write(fds[0], view) :]

    def _close_pty(self) -> None:
        with self._lock:
            fds, self._fds = self._fds, None
        if fds is not None:
            for fd in fds:
                os.close(fd)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)

    def _serve(self) -> None:
        pending = b""
        while not self._stop.is_set():
            with self._lock:
                master = self._fds[0] if self._fds else None
            if master is None:
                time.sleep(0.02)
                continue
            try:
                pending = self._serve_once(master, pending)
            except OSError:  # unplugged under us
                pending = b""

    def _serve_once(self, master: int, pending: bytes) -> bytes:
        readable, _, _ = select.select([master], [], [], 0.02)
        if readable:
            pending += os.read(master, 4096)
            while b"\r" in pending:
                request, _, pending = pending.partition(b"\r")
                self._answer(request.strip())
        if self.protocol != "twn4":
            self._repeat_held_card()
        return pending[-1024:]

    def _answer(self, request: bytes) -> None:
        if request != b"0500FF":
            self._write(b"01\r")  # error code: unknown function
            return
        with self._lock:
            card = self._present_card()
            if self._taps_pending:
                self._taps_pending -= 1
        self._write(twn4_reply(card, self.technology))

    def _present_card(self) -> str | None:
        if self._taps_pending or time.monotonic() < self._until_s:
            return self._card
        return None

    def _repeat_held_card(self) -> None:
        now = time.monotonic()
        with self._lock:
            card = self._card if now < self._until_s and now >= self._next_repeat_s else None
            if card is not None:
                self._next_repeat_s = now + self.repeat_interval_s
        if card is not None:
            self._write(self.frame(card))
