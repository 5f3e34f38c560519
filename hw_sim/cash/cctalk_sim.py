"""ccTalk devices on a simulated shared line (a pty).

The line reflects every byte the host sends (the one-wire bus echo), then the addressed device
answers. Each device keeps the ccTalk event buffer: an event counter 1…255 that wraps to 1 and is
0 only after power-up, and the five newest result pairs, newest first. Domain verbs
(``insert_coin(200)``, ``insert_note(500)``, ``jam()``, ``fraud_attempt()``, ``power_cycle()``)
change the device the way a customer or a fault would; ``history`` records all of it.
"""

from __future__ import annotations

import os
import random
import select
import threading
import time
import tty
from collections import deque
from dataclasses import dataclass, field
from typing import Any

__all__ = ["SimCcTalkBus", "SimCcTalkDevice", "SimCoinAcceptor", "SimNoteValidator", "SimRecord"]

# header numbers (readers.md §4.1 table)
ACK, NAK = 0, 5
H_RESET, H_SIMPLE_POLL, H_SELF_CHECK = 1, 254, 232
H_MANUFACTURER, H_CATEGORY, H_PRODUCT, H_SERIAL, H_SOFTWARE = 246, 245, 244, 242, 241
H_MODIFY_INHIBIT, H_REQUEST_INHIBIT, H_MODIFY_MASTER, H_REQUEST_MASTER = 231, 230, 228, 227
H_COIN_CREDIT, H_COIN_ID = 229, 184
H_BILL_EVENTS, H_BILL_ID, H_BILL_SCALING, H_ROUTE_BILL, H_BILL_MODE = 159, 157, 156, 154, 153

INTER_BYTE_TIMEOUT_S = 0.05  # a partial frame older than this is discarded, as devices do

_CRC_TABLE = []
for _top in range(256):
    _value = _top << 8
    for _ in range(8):
        _value = ((_value << 1) ^ 0x1021) & 0xFFFF if _value & 0x8000 else (_value << 1) & 0xFFFF
    _CRC_TABLE.append(_value)


def crc_xmodem(data: bytes) -> int:
    """Table-driven CRC-16/XMODEM (the driver computes it bit by bit)."""
    crc = 0
    for byte in data:
        crc = ((crc << 8) & 0xFFFF) ^ _CRC_TABLE[(crc >> 8) ^ byte]
    return crc


def build(dest: int, src: int, header: int, data: bytes, crc16: bool) -> bytes:
    """One ccTalk frame from the device side."""
    if crc16:
        crc = crc_xmodem(bytes([dest, len(data), header, *data]))
        return bytes([dest, len(data), crc % 256, header, *data, crc // 256])
    body = bytes([dest, len(data), src, header, *data])
    return body + bytes([(256 - sum(body) % 256) % 256])


def parse(frame: bytes, crc16: bool) -> tuple[int, int, bytes] | None:
    """``(source, header, data)`` of a valid frame (source 1 in CRC mode), else None."""
    data = frame[4:-1]
    if crc16:
        ok = crc_xmodem(bytes([frame[0], frame[1], frame[3], *data])) == frame[2] + 256 * frame[-1]
        return (1, frame[3], data) if ok else None
    return (frame[2], frame[3], data) if sum(frame) % 256 == 0 else None


@dataclass(frozen=True)
class SimRecord:
    """One line of a simulator's history: what happened and its details."""

    what: str
    detail: dict[str, Any] = field(default_factory=dict)


class SimCcTalkDevice:
    """Common ccTalk slave behaviour: identity, inhibits, the event buffer, lossy polls."""

    category = "Unknown"
    product = "SIM"
    poll_header = H_SIMPLE_POLL

    def __init__(self, address: int, *, crc16: bool = False, serial_number: int = 12_345_678) -> None:
        self.address = address
        self.crc16 = crc16
        self.serial_number = serial_number
        self.manufacturer = "SIM"
        self.history: list[SimRecord] = []
        self.lock = threading.RLock()
        self.counter = 0
        self.buffer: deque[tuple[int, int]] = deque(maxlen=5)  # newest first
        self.master_accepting = False
        self.inhibit_mask = 0
        self.silent = False  # unplugged or dead: no replies at all (the line still echoes)
        self.polls_answered = 0
        self.fault_code = 0  # what header 232 "perform self-check" reports
        self.refused: set[int] = set()  # headers answered with NAK (a confused or busy device)
        self._drop_rate = 0.0
        self._random = random.Random(0)

    # -- domain verbs ------------------------------------------------------------------------
    def power_cycle(self) -> None:
        """Lose power: counter back to 0, buffer empty, everything inhibited."""
        with self.lock:
            self.counter = 0
            self.buffer.clear()
            self.master_accepting = False
            self.inhibit_mask = 0
            self._record("power-cycle")

    def refuse(self, *headers: int) -> None:
        """NAK these headers from now on (``refuse()`` with none stops refusing)."""
        with self.lock:
            self.refused = set(headers)
            self._record("refuse", headers=sorted(headers))

    def clear_fault(self) -> None:
        """A technician fixed it: self-check reports OK again."""
        with self.lock:
            self.fault_code = 0
            self._record("fault-cleared")

    def lossy(self, rate: float, seed: int = 0) -> None:
        """Drop this fraction of event polls without answering (0 turns it off)."""
        with self.lock:
            self._drop_rate = rate
            self._random = random.Random(seed)
            self._record("lossy", rate=rate)

    def set_counter(self, counter: int) -> None:
        """Jump the event counter (e.g. to 254, to watch it wrap)."""
        with self.lock:
            self.counter = counter

    def count(self, what: str) -> int:
        """How many history records of this kind there are."""
        with self.lock:
            return sum(1 for record in self.history if record.what == what)

    # -- protocol ------------------------------------------------------------------------------
    def push_event(self, result_a: int, result_b: int) -> int:
        """Append one buffered event; returns its counter value (1…255, wrapping to 1)."""
        with self.lock:
            self.counter = 1 if self.counter == 255 else self.counter + 1
            self.buffer.appendleft((result_a, result_b))
            return self.counter

    def answer(self, header: int, data: bytes) -> bytes | None:
        """The reply frame's ``(header, data)`` packed as header byte + data, or None (silent)."""
        with self.lock:
            if self.silent:
                return None
            if header == self.poll_header and self._drop_rate and self._random.random() < self._drop_rate:
                self._record("dropped-poll", counter=self.counter)
                return None
            reply = None if header in self.refused else self.handle(header, data)
            if header != self.poll_header:  # polls come ten times a second: count them instead
                self._record("request", header=header, data=data.hex(), nak=reply is None)
            else:
                self.polls_answered += 1
            return bytes([ACK, *reply]) if reply is not None else bytes([NAK])

    def handle(self, header: int, data: bytes) -> bytes | None:
        """Reply data for one command, or None for NAK."""
        text = {
            H_MANUFACTURER: self.manufacturer,
            H_CATEGORY: self.category,
            H_PRODUCT: self.product,
            H_SOFTWARE: "1.0",
        }
        if header in text:
            return text[header].encode("ascii")
        if header == H_SERIAL:
            return self.serial_number.to_bytes(3, "little")
        if header == H_SIMPLE_POLL:
            return b""
        if header == H_SELF_CHECK:
            return bytes([self.fault_code])
        if header == H_RESET:
            self.power_cycle()
            return b""
        return self._inhibits_and_events(header, data)

    def _inhibits_and_events(self, header: int, data: bytes) -> bytes | None:
        if header == H_MODIFY_INHIBIT and len(data) == 2:
            self.inhibit_mask = data[0] | data[1] << 8
            return b""
        if header == H_REQUEST_INHIBIT:
            return self.inhibit_mask.to_bytes(2, "little")
        if header == H_MODIFY_MASTER and len(data) == 1:
            self.master_accepting = bool(data[0] & 1)
            return b""
        if header == H_REQUEST_MASTER:
            return bytes([int(self.master_accepting)])
        if header == self.poll_header:
            pairs = list(self.buffer) + [(0, 0)] * (5 - len(self.buffer))
            return bytes([self.counter, *(byte for pair in pairs for byte in pair)])
        return self.handle_kind(header, data)

    def handle_kind(self, header: int, data: bytes) -> bytes | None:
        """Commands specific to the device kind (None = NAK)."""
        return None

    @staticmethod
    def _position(matches: list[bool], value: int) -> int:
        if True not in matches:
            raise ValueError(f"this device has no position for the value {value}")
        return matches.index(True) + 1

    def accepts(self, position: int) -> bool:
        """Whether a coin/note in this position would be accepted now."""
        return self.master_accepting and bool(self.inhibit_mask >> (position - 1) & 1)

    def _record(self, what: str, **detail: Any) -> None:
        self.history.append(SimRecord(what, detail))


class SimCoinAcceptor(SimCcTalkDevice):
    """A ccTalk coin acceptor with a coin table of ``EU``-style six-character ids."""

    category = "Coin Acceptor"
    product = "SIMCOIN"
    poll_header = H_COIN_CREDIT

    def __init__(
        self,
        address: int = 2,
        *,
        crc16: bool = False,
        serial_number: int = 12_345_678,
        coins: tuple[str, ...] = ("EU005A", "EU010A", "EU020A", "EU050A", "EU100A", "EU200A"),
    ) -> None:
        super().__init__(address, crc16=crc16, serial_number=serial_number)
        self.coins = list(coins) + ["......"] * (16 - len(coins))

    def insert_coin(self, value: int) -> int:
        """A customer drops a coin worth ``value`` minor units; returns the event counter."""
        with self.lock:
            position = self._position([coin[2:5] == f"{value:03d}" for coin in self.coins], value)
            accepted = self.accepts(position)
            self._record("coin", value=value, position=position, accepted=accepted)
            # accepted: (position, sorter path 1); refused: error 2 "inhibited coin", coin returned
            return self.push_event(position, 1) if accepted else self.push_event(0, 2)

    def jam(self) -> int:
        """The credit sensor is blocked: error code 14, and self-check fault 3 until cleared."""
        with self.lock:
            self._record("jam")
            self.fault_code = 3  # fault on credit sensor
            return self.push_event(0, 14)

    def fraud_attempt(self) -> int:
        """A coin on a string is pulled back (error code 20)."""
        with self.lock:
            self._record("fraud")
            return self.push_event(0, 20)

    def handle_kind(self, header: int, data: bytes) -> bytes | None:
        if header == H_COIN_ID and len(data) == 1 and 1 <= data[0] <= 16:
            return self.coins[data[0] - 1].encode("ascii")
        return None


class SimNoteValidator(SimCcTalkDevice):
    """A ccTalk bill validator with escrow; bill ids ``CCVVVVI`` scaled by the country factor."""

    category = "Bill Validator"
    product = "SIMNOTE"
    poll_header = H_BILL_EVENTS

    def __init__(
        self,
        address: int = 40,
        *,
        crc16: bool = False,
        serial_number: int = 7_654_321,
        bills: tuple[str, ...] = ("EU0005A", "EU0010A", "EU0020A", "EU0050A"),
        scaling: dict[str, tuple[int, int]] | None = None,
    ) -> None:
        super().__init__(address, crc16=crc16, serial_number=serial_number)
        self.bills = list(bills) + ["......."] * (16 - len(bills))
        self.scaling = scaling or {"EU": (100, 2)}
        self.escrow_enabled = False
        self.held: int | None = None

    def insert_note(self, value: int) -> int:
        """A customer feeds a note worth ``value`` minor units; returns the event counter."""
        with self.lock:
            position = self._position([self._value(bill) == value for bill in self.bills], value)
            accepted = self.accepts(position) and self.held is None
            self._record("note", value=value, position=position, accepted=accepted)
            if not accepted:
                return self.push_event(0, 4)  # inhibited bill, handed back
            if self.escrow_enabled:
                self.held = position
                return self.push_event(position, 1)
            return self.push_event(position, 0)

    def jam(self) -> int:
        """A note jams in the transport: error code 6, and self-check fault 39 until cleared."""
        with self.lock:
            self._record("jam")
            self.fault_code = 39  # bill jammed
            return self.push_event(0, 6)

    def fraud_attempt(self) -> int:
        """A note on a string is detected (error code 18)."""
        with self.lock:
            self._record("fraud")
            return self.push_event(0, 18)

    def power_cycle(self) -> None:
        """Lose power: a held note is lost from escrow tracking, escrow mode resets."""
        with self.lock:
            super().power_cycle()
            self.held = None
            self.escrow_enabled = False

    def handle_kind(self, header: int, data: bytes) -> bytes | None:
        if header == H_BILL_ID and len(data) == 1 and 1 <= data[0] <= 16:
            return self.bills[data[0] - 1].encode("ascii")
        if header == H_BILL_SCALING and len(data) == 2:
            factor, decimals = self.scaling.get(data.decode("ascii", "replace"), (0, 0))
            return bytes([factor % 256, factor // 256, decimals])
        if header == H_BILL_MODE and len(data) == 1:
            self.escrow_enabled = bool(data[0] & 2)
            return b""
        if header == H_ROUTE_BILL and len(data) == 1:
            return self._route(data[0])
        return None

    def escrow_timeout(self) -> int:
        """Nobody routed the held note in time: the validator hands it back by itself."""
        with self.lock:
            if self.held is None:
                raise ValueError("no note is held in escrow")
            self._record("escrow-timeout", position=self.held)
            self.held = None
            return self.push_event(0, 1)

    def _route(self, how: int) -> bytes:
        if self.held is None:
            return b"\xfe"  # 254: escrow is empty
        if how == 255:
            self._record("escrow-extended", position=self.held)
            return b""
        position, self.held = self.held, None
        self._record("route", how=how, position=position)
        if how == 1:
            self.push_event(position, 0)  # stacked: now it is money
        else:
            self.push_event(0, 1)  # returned from escrow
        return b""

    def _value(self, bill: str) -> int:
        if not bill[2:6].isdigit():
            return -1
        return int(bill[2:6]) * self.scaling.get(bill[:2], (0, 0))[0]


class SimCcTalkBus:
    """A ccTalk line on a pty: it echoes every byte and routes frames to the addressed device.

    Line noise: :meth:`line_noise` (a fraction of replies, seeded) and :meth:`corrupt_replies`
    (the next N replies) flip one bit of a reply on its way to the host. The length byte is
    spared, so the host receives a complete frame whose checksum (or CRC) fails, as a noisy
    cable delivers it; ``replies_corrupted`` counts them and ``history`` records each.
    """

    def __init__(self, *devices: SimCcTalkDevice, echo: bool = True) -> None:
        self.devices = {device.address: device for device in devices}
        self.echo = echo
        self.history: list[SimRecord] = []
        self.replies_corrupted = 0
        self._noise_lock = threading.Lock()
        self._noise_rate = 0.0
        self._noise_random = random.Random(0)
        self._corrupt_pending = 0
        self._corrupt_header: int | None = None
        self._stop = threading.Event()
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.path = os.ttyname(self._slave)
        self._thread = threading.Thread(target=self._serve, name="sim-cctalk-bus", daemon=True)

    def start(self) -> SimCcTalkBus:
        """Start answering; returns self. ``path`` is the serial device for the host."""
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop the line and release the pty."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)
        os.close(self._master)
        os.close(self._slave)

    def __enter__(self) -> SimCcTalkBus:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def line_noise(self, rate: float, seed: int = 0) -> None:
        """Flip one bit in this fraction of the replies from now on (0 turns the noise off)."""
        with self._noise_lock:
            self._noise_rate = rate
            self._noise_random = random.Random(seed)
            self.history.append(SimRecord("line-noise", {"rate": rate, "seed": seed}))

    def corrupt_replies(self, count: int, *, header: int | None = None) -> None:
        """Flip one bit in each of the next ``count`` replies (only to ``header``, if given)."""
        with self._noise_lock:
            self._corrupt_pending, self._corrupt_header = count, header
            self.history.append(SimRecord("corrupt-replies", {"count": count, "header": header}))

    def _noisy(self, frame: bytes, header: int) -> bytes:
        with self._noise_lock:
            if self._corrupt_pending and self._corrupt_header in (None, header):
                self._corrupt_pending -= 1
            elif not (self._noise_rate and self._noise_random.random() < self._noise_rate):
                return frame
            index = self._noise_random.choice([i for i in range(len(frame)) if i != 1])
            bit = self._noise_random.randrange(8)
            self.replies_corrupted += 1
            self.history.append(SimRecord("noise", {"reply": frame.hex(), "byte": index, "bit": bit}))
        corrupted = bytearray(frame)
        corrupted[index] ^= 1 << bit
        return bytes(corrupted)

    def _serve(self) -> None:
        pending = b""
        last_byte_at = time.monotonic()
        while not self._stop.is_set():
            ready, _, _ = select.select([self._master], [], [], 0.02)
            if not ready:
                if pending and time.monotonic() - last_byte_at > INTER_BYTE_TIMEOUT_S:
                    self.history.append(SimRecord("discarded", {"bytes": pending.hex()}))
                    pending = b""
                continue
            try:
                chunk = os.read(self._master, 1024)
            except OSError:
                return
            last_byte_at = time.monotonic()
            if self.echo:
                os.write(self._master, chunk)
            pending = self._take_frames(pending + chunk)

    def _take_frames(self, pending: bytes) -> bytes:
        while len(pending) >= 2 and len(pending) >= pending[1] + 5:
            size = pending[1] + 5
            frame, pending = pending[:size], pending[size:]
            self._deliver(frame)
        return pending

    def _deliver(self, frame: bytes) -> None:
        device = self.devices.get(frame[0])
        if device is None:
            return  # addressed to nobody on this line
        parsed = parse(frame, device.crc16)
        if parsed is None:
            self.history.append(SimRecord("bad-frame", {"bytes": frame.hex()}))
            return  # a device ignores a frame whose checksum fails
        source, header, data = parsed
        reply = device.answer(header, data)
        if reply is not None:
            frame = build(source, device.address, reply[0], reply[1:], device.crc16)
            os.write(self._master, self._noisy(frame, header))
