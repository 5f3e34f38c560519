"""A simulated ID-003 note validator (JCM and compatibles) on a pty.

Written from the protocol's public facts (../shared/reference/readers.md §4.5; the public hosts
hackwin/JCMBillAcceptorID003, lamassu/lamassu-machine ``lib/id003`` and Portalum/Portalum.Id003),
not from ``cash_devices``: frames are ``FC LNG CMD DATA CRC-lo CRC-hi``, LNG counting the whole frame, the
CRC a CRC-16/KERMIT computed here from a table. The host polls with STATUS REQUEST (0x11); the
validator answers with its status. A note goes ESCROW (0x13 + escrow code) until the host sends
STACK-1/STACK-2 (0x41/0x42), RETURN (0x43) or HOLD (0x44), each answered with ACK (0x50); then
STACKING (0x14), VEND VALID (0x15) until the host's ACK (0x50, not answered), STACKED (0x16),
ENABLE (0x11). Setting commands 0xC0-0xC5 are echoed; 0x80/0x83/0x88/0x8A read a setting, the
version and the currency assignment (4 bytes per note: escrow code, country, value, exponent).
Anything else is INVALID COMMAND (0x4B); a frame whose CRC fails is not answered.

Domain verbs: ``insert_note(500)``, ``reject_note(0x72)``, ``jam()``, ``stacker_open()``,
``stacker_full()``, ``fail(0xA2)``, ``cheat()``, ``clear_fault()``, ``escrow_timeout()``,
``power_cycle("stacker")``; line faults: ``silent``, ``corrupt_replies(n)``, ``line_noise(rate)``,
``miss_frames(n, code)`` (the validator does not hear the host's next frames, e.g. its ACK).
Every action and every command but STATUS REQUEST is recorded in ``history``.
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

__all__ = ["SimId003Validator", "crc_kermit", "frame"]

# status codes (validator -> host)
ENABLE, ACCEPTING, ESCROW, STACKING, VEND_VALID, STACKED = 0x11, 0x12, 0x13, 0x14, 0x15, 0x16
REJECTING, RETURNING, HOLDING, DISABLE, INITIALIZE = 0x17, 0x18, 0x19, 0x1A, 0x1B
POWER_UP, POWER_UP_IN_ACCEPTOR, POWER_UP_IN_STACKER = 0x40, 0x41, 0x42
STACKER_FULL, STACKER_OPEN, JAM_IN_ACCEPTOR, CHEATED, FAILURE = 0x43, 0x44, 0x45, 0x48, 0x49
INVALID_COMMAND, ACK = 0x4B, 0x50
# command codes (host -> validator)
STATUS_REQUEST, RESET, STACK_1, STACK_2, RETURN, HOLD, WAIT = 0x11, 0x40, 0x41, 0x42, 0x43, 0x44, 0x45
SETTINGS = {0xC0: 2, 0xC1: 2, 0xC2: 1, 0xC3: 1, 0xC4: 1, 0xC5: 2}  # command -> data length
GET_ENABLE, GET_INHIBIT, GET_VERSION, GET_CURRENCY = 0x80, 0x83, 0x88, 0x8A
REJECT_INHIBITED = 0x79

_TABLE = []
for _index in range(256):
    _value = _index
    for _ in range(8):
        _value = (_value >> 1) ^ 0x8408 if _value & 1 else _value >> 1
    _TABLE.append(_value)


def crc_kermit(data: bytes) -> int:
    """Table-driven CRC-16/KERMIT (the driver computes it bit by bit)."""
    crc = 0
    for byte in data:
        crc = (crc >> 8) ^ _TABLE[(crc ^ byte) & 0xFF]
    return crc


def frame(code: int, data: bytes = b"") -> bytes:
    """One validator frame: FC, length of the whole frame, code, data, CRC low byte first."""
    body = bytes([0xFC, len(data) + 5, code, *data])
    crc = crc_kermit(body)
    return body + bytes([crc & 0xFF, crc >> 8])


@dataclass(frozen=True)
class SimRecord:
    """One line of the simulator's history."""

    what: str
    detail: dict[str, Any] = field(default_factory=dict)


# escrow code -> (value, exponent): the note is worth value x 10^exponent major units
EURO_NOTES = {0x62: (5, 0), 0x63: (1, 1), 0x64: (2, 1), 0x65: (5, 1), 0x66: (1, 2), 0x67: (2, 2)}


class SimId003Validator:
    """An ID-003 validator on a pty; ``path`` is the serial device for the host."""

    def __init__(
        self,
        notes: dict[int, tuple[int, int]] | None = None,
        *,
        version: str = "i(EUR)100-SS ID003-05V300-45 28JUN23",
        country: int = 0x00,
        minor_digits: int = 2,
    ) -> None:
        self.notes = dict(EURO_NOTES if notes is None else notes)
        self.version, self.country, self.minor_digits = version, country, minor_digits
        self.history: list[SimRecord] = []
        self.lock = threading.RLock()
        self.inhibited = True
        self.disabled_mask = 0xFFFF  # SET ENABLE data: a set bit disables escrow code 0x61 + bit
        self.settings: dict[int, bytes] = {}
        self.held: int | None = None  # escrow code of the note in escrow
        self.stacked: list[int] = []  # escrow codes of the notes in the cash box
        self.steady: tuple[int, bytes] | None = (POWER_UP, b"")  # None: ENABLE or DISABLE
        self.fault: tuple[int, bytes] | None = None
        self.silent = False
        self.polls_answered = 0
        self.replies_corrupted = 0
        self._script: deque[tuple[int, bytes]] = deque()  # statuses shown for one poll each
        self._corrupt_pending = 0
        self._missed: tuple[int, int | None] = (0, None)  # frames not heard, and of which code
        self._noise_rate = 0.0
        self._random = random.Random(0)
        self._stop = threading.Event()
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.path = os.ttyname(self._slave)
        self._thread = threading.Thread(target=self._serve, name="sim-id003", daemon=True)

    # -- life cycle ---------------------------------------------------------------------------
    def start(self) -> SimId003Validator:
        """Start answering; returns self."""
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop and release the pty."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)
        os.close(self._master)
        os.close(self._slave)

    def __enter__(self) -> SimId003Validator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- domain verbs --------------------------------------------------------------------------
    def insert_note(self, value_minor: int) -> bool:
        """A customer feeds a note worth ``value_minor``; False if it was refused at once."""
        code = self._code_for(value_minor)
        with self.lock:
            enabled = not self.inhibited and not self.disabled_mask >> (code - 0x61) & 1
            accepted = enabled and self.held is None and self.fault is None and self.steady is None
            self._record("note", value=value_minor, code=code, accepted=accepted)
            if not accepted:
                self._script.extend([(ACCEPTING, b""), (REJECTING, bytes([REJECT_INHIBITED]))])
                return False
            self.held = code
            self._script.append((ACCEPTING, b""))
            self.steady = (ESCROW, bytes([code]))
            return True

    def reject_note(self, reason: int = 0x72) -> None:
        """A note the validator refuses (a reject reason 0x71-0x7F); it goes back at once."""
        with self.lock:
            self._record("reject", reason=reason)
            self._script.extend([(ACCEPTING, b""), (REJECTING, bytes([reason]))])

    def escrow_timeout(self) -> None:
        """Nobody routed the held note in time: the validator hands it back by itself."""
        with self.lock:
            if self.held is None:
                raise ValueError("no note is held in escrow")
            self._record("escrow-timeout", code=self.held)
            self._return_held()

    def jam(self) -> None:
        """A note jams in the acceptor until ``clear_fault()``."""
        self._set_fault("jam", JAM_IN_ACCEPTOR)

    def stacker_open(self) -> None:
        """The cash box is taken out."""
        self._set_fault("stacker-open", STACKER_OPEN)

    def stacker_full(self) -> None:
        """The cash box is full."""
        self._set_fault("stacker-full", STACKER_FULL)

    def fail(self, code: int = 0xA2) -> None:
        """A hardware failure (FAILURE + failure code, e.g. 0xA2 stack motor failure)."""
        self._set_fault("failure", FAILURE, bytes([code]))

    def cheat(self) -> None:
        """A fraud attempt (a note on a string): CHEATED for one poll."""
        with self.lock:
            self._record("cheat")
            self._script.append((CHEATED, b""))

    def clear_fault(self) -> None:
        """A technician fixed it."""
        with self.lock:
            self.fault = None
            self._record("fault-cleared")

    def power_cycle(self, bill: str | None = None) -> None:
        """Lose power; ``bill`` "acceptor" or "stacker" says where a note was at that moment."""
        with self.lock:
            self._record("power-cycle", bill=bill)
            code = {None: POWER_UP, "acceptor": POWER_UP_IN_ACCEPTOR, "stacker": POWER_UP_IN_STACKER}[bill]
            if bill == "stacker" and self.held is not None:
                self.stacked.append(self.held)
            self.held, self.fault = None, None
            self._script.clear()
            self.steady = (code, b"")
            self.inhibited, self.disabled_mask = True, 0xFFFF

    def corrupt_replies(self, count: int) -> None:
        """Flip one bit in each of the next ``count`` replies (SYNC and LNG spared)."""
        with self.lock:
            self._corrupt_pending = count
            self._record("corrupt-replies", count=count)

    def miss_frames(self, count: int, code: int | None = None) -> None:
        """Noise on the host's line: the next ``count`` frames (of ``code``, if given) are not heard."""
        with self.lock:
            self._missed = (count, code)
            self._record("miss-frames", count=count, code=code)

    def line_noise(self, rate: float, seed: int = 0) -> None:
        """Flip one bit in this fraction of the replies from now on (0 turns it off)."""
        with self.lock:
            self._noise_rate, self._random = rate, random.Random(seed)
            self._record("line-noise", rate=rate)

    def count(self, what: str) -> int:
        """How many history records of this kind there are."""
        with self.lock:
            return sum(1 for record in self.history if record.what == what)

    # -- protocol -------------------------------------------------------------------------------
    def answer(self, code: int, data: bytes) -> tuple[int, bytes] | None:
        """The reply ``(code, data)`` to one command, or None (no reply)."""
        with self.lock:
            if self.silent:
                return None
            missed, of_code = self._missed
            if missed and of_code in (None, code):
                self._missed = (missed - 1, of_code)
                self._record("missed", code=code)
                return None
            if code == STATUS_REQUEST and not data:
                self.polls_answered += 1
                return self._status()
            self._record("command", code=code, data=data.hex())
            if code == ACK and not data:
                self._host_ack()
                return None  # the host's ACK is not answered
            if code in (RESET, STACK_1, STACK_2, RETURN, HOLD, WAIT) and not data:
                return self._operation(code)
            if SETTINGS.get(code) == len(data):
                return self._setting(code, data)
            return self._request(code, data)

    def _status(self) -> tuple[int, bytes]:
        if self._script:
            return self._script.popleft()
        if self.fault is not None:
            return self.fault
        if self.steady is not None:
            return self.steady
        return (DISABLE, b"") if self.inhibited else (ENABLE, b"")

    def _host_ack(self) -> None:
        if self.steady == (VEND_VALID, b""):
            self._record("stacked", code=self.stacked[-1])
            self.steady = None
            self._script.append((STACKED, b""))

    def _operation(self, code: int) -> tuple[int, bytes]:
        if code == RESET:
            self.held, self.fault, self.steady = None, None, None
            self._script.clear()
            self._script.append((INITIALIZE, b""))
            self.inhibited, self.disabled_mask = True, 0xFFFF
            return (ACK, b"")
        if code == WAIT:
            return (ACK, b"")
        if self.held is None or self.steady is None or self.steady[0] != ESCROW:
            return (INVALID_COMMAND, b"")
        if code == HOLD:
            self._record("hold", code=self.held)
            self._script.append((HOLDING, b""))
        elif code == RETURN:
            self._record("returned", code=self.held)
            self._return_held()
        else:  # STACK-1 / STACK-2: the note goes to the cash box; VEND VALID until the host's ACK
            self.stacked.append(self.held)
            self._record("stack", code=self.held)
            self.held = None
            self._script.append((STACKING, b""))
            self.steady = (VEND_VALID, b"")
        return (ACK, b"")

    def _setting(self, code: int, data: bytes) -> tuple[int, bytes]:
        self.settings[code] = data
        if code == 0xC0:
            self.disabled_mask = data[0] | data[1] << 8
        elif code == 0xC3:
            self.inhibited = bool(data[0] & 1)
        return (code, data)  # setting commands are echoed

    def _request(self, code: int, data: bytes) -> tuple[int, bytes]:
        if data:
            return (INVALID_COMMAND, b"")
        if code == GET_ENABLE:
            return (code, self.disabled_mask.to_bytes(2, "little"))
        if code == GET_INHIBIT:
            return (code, bytes([int(self.inhibited)]))
        if code == GET_VERSION:
            return (code, self.version.encode("ascii"))
        if code == GET_CURRENCY:
            table = b"".join(bytes([escrow, self.country, value, exponent])
                             for escrow, (value, exponent) in sorted(self.notes.items()))  # fmt: skip
            return (code, table)
        return (INVALID_COMMAND, b"")

    def _return_held(self) -> None:
        self.held = None
        self.steady = None
        self._script.append((RETURNING, b""))

    def _set_fault(self, what: str, code: int, data: bytes = b"") -> None:
        with self.lock:
            self._record(what)
            self.fault = (code, data)

    def _code_for(self, value_minor: int) -> int:
        for code, (value, exponent) in self.notes.items():
            if value * 10 ** (exponent + self.minor_digits) == value_minor:
                return code
        raise ValueError(f"this validator has no note worth {value_minor}")

    def _record(self, what: str, **detail: Any) -> None:
        self.history.append(SimRecord(what, detail))

    # -- the line -------------------------------------------------------------------------------
    def _serve(self) -> None:
        pending = b""
        last_byte_at = time.monotonic()
        while not self._stop.is_set():
            ready, _, _ = select.select([self._master], [], [], 0.02)
            if not ready:
                if pending and time.monotonic() - last_byte_at > 0.05:
                    self._record("discarded", bytes=pending.hex())
                    pending = b""
                continue
            try:
                pending += os.read(self._master, 1024)
            except OSError:
                return
            last_byte_at = time.monotonic()
            pending = self._take_frames(pending)

    def _take_frames(self, pending: bytes) -> bytes:
        while pending:
            if pending[0] != 0xFC:  # resynchronise on the next SYNC
                pending = pending[1:]
                continue
            if len(pending) < 2 or len(pending) < pending[1]:
                return pending
            size = max(pending[1], 5)
            raw, pending = pending[:size], pending[size:]
            if len(raw) < 5 or crc_kermit(raw[:-2]) != raw[-2] | raw[-1] << 8:
                self._record("bad-frame", bytes=raw.hex())
                continue  # a frame whose CRC fails is not answered
            reply = self.answer(raw[2], raw[3:-2])
            if reply is not None:
                os.write(self._master, self._noisy(frame(*reply)))
        return pending

    def _noisy(self, reply: bytes) -> bytes:
        with self.lock:
            if self._corrupt_pending:
                self._corrupt_pending -= 1
            elif not (self._noise_rate and self._random.random() < self._noise_rate):
                return reply
            index = self._random.randrange(2, len(reply))
            bit = self._random.randrange(8)
            self.replies_corrupted += 1
            self._record("noise", reply=reply.hex(), byte=index, bit=bit)
        corrupted = bytearray(reply)
        corrupted[index] ^= 1 << bit
        return bytes(corrupted)
