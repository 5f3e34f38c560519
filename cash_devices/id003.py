"""JCM ID-003 framing, codes and the host side of an ID-003 line (note validators: JCM and compatibles).

Public facts this module is written from (no vendor document was available; each fact is taken
from public code that drives real validators, and the byte vectors in the tests come from there):

* Line: 9600 baud, 8 data bits, **even** parity, 1 stop bit; RS-232 without local echo.
  [hackwin/JCMBillAcceptorID003 ``jcmbillacceptorid003.h`` (``SERIAL_8E1``);
  lamassu/lamassu-machine ``lib/id003/id003rs232.js`` (``parity: 'even'``)]
* Frame: ``SYNC (0xFC)``, ``LNG`` = the whole frame's length including SYNC, LNG and the two CRC
  bytes, ``CMD``, ``DATA...``, ``CRC`` low byte first. [hackwin ``sendRequest`` (``requestSize+4``,
  ``{crc & 0xFF, crc >> 8}``); Portalum/Portalum.Id003 ``Id003Client.cs`` (``data.Length + 4``)]
* CRC: CRC-16/KERMIT (CRC-CCITT, reflected polynomial 0x8408, initial value 0, no final XOR) over
  SYNC through DATA. [lamassu ``lib/id003/crc.js`` ("CCITT-KERMIT"); hackwin ``calcCRC`` (nibble
  table ``q * 0x1081``)]
* Host commands: STATUS REQUEST 0x11, ACK 0x50 (the host's answer to VEND VALID, which gets no
  reply), RESET 0x40, STACK-1 0x41, STACK-2 0x42, RETURN 0x43, HOLD 0x44, WAIT 0x45; the validator
  answers an operation command with ACK 0x50 or INVALID COMMAND 0x4B. Setting commands 0xC0-0xC7
  are echoed back; the 0x8x requests read a setting (0x80 enable, 0x83 inhibit, 0x88 version,
  0x8A currency assignment). [hackwin; lamassu ``id003rs232.js`` (``CMD``, ``RSP``); the
  ``LeitorNotasJCM.h`` header of a public C++ driver (search excerpt), which lists request and
  response codes side by side]
* SET INHIBIT 0xC3: data 0x00 accepts, 0x01 inhibits. SET ENABLE 0xC0: two bytes, a set bit
  *disables* a denomination, bit n of the first byte is escrow code 0x61 + n (0x00 0x00 enables
  every one). [lamassu (``inhibit``/``unInhibit``, ``enableAll``); Portalum (``EnableAsync``);
  hackwin (``DENOMINATIONS_ONES_FIVES = B11111010``: bits 0 and 2 clear for 0x61 and 0x63)]
* Currency assignment (0x8A) reply: 4 bytes per denomination: escrow code, country code, value,
  exponent; the note is worth value x 10^exponent major units. [lamassu ``_denominations``]
* Status codes, reject reasons (0x71-0x7F) and failure codes: the tables below. [hackwin; lamassu
  ``RSP``/``REJECTION_REASONS``; failure codes 0xA2-0xB3 from a public C# ID-003 client (search
  excerpt), unverified against a vendor document]
* A note's life: ESCROW (0x13 + escrow code) until the host sends STACK or RETURN; STACKING;
  VEND VALID (0x15), repeated until the host answers ACK: the moment the note is the customer's
  credit; STACKED; back to ENABLE (0x11). [hackwin ``processResponse``; lamassu ``id003fsm.js``]
"""

from __future__ import annotations

import enum
import logging
import threading
from dataclasses import dataclass

import serial

from cash_devices.errors import ConfigurationError, FrameError, LineError, ReplyTimeout

__all__ = [
    "FAILURE_CODES",
    "POWER_UP_STATUSES",
    "REJECT_REASONS",
    "STATUS_NAMES",
    "Command",
    "Id003Exchange",
    "Id003Frame",
    "Id003Link",
    "Status",
    "crc16_kermit",
    "decode_frame",
    "encode_frame",
    "open_id003_link",
]

log = logging.getLogger(__name__)

SYNC = 0xFC
MIN_FRAME = 5  # SYNC LNG CMD CRC CRC
MAX_SYNC_HUNT = 256  # noise bytes skipped while looking for SYNC before giving up on a reply


class Command(enum.IntEnum):
    """Host -> validator command codes."""

    STATUS_REQUEST = 0x11
    ACK = 0x50
    RESET = 0x40
    STACK_1 = 0x41
    STACK_2 = 0x42
    RETURN = 0x43
    HOLD = 0x44
    WAIT = 0x45
    SET_ENABLE = 0xC0
    SET_SECURITY = 0xC1
    SET_COMMUNICATION_MODE = 0xC2
    SET_INHIBIT = 0xC3
    SET_DIRECTION = 0xC4
    SET_OPTIONAL_FUNCTION = 0xC5
    GET_ENABLE = 0x80
    GET_INHIBIT = 0x83
    GET_VERSION = 0x88
    GET_CURRENCY_ASSIGNMENT = 0x8A


class Status(enum.IntEnum):
    """Validator -> host status codes (the reply to STATUS REQUEST)."""

    ENABLE = 0x11  # idling, accepting notes
    ACCEPTING = 0x12
    ESCROW = 0x13
    STACKING = 0x14
    VEND_VALID = 0x15
    STACKED = 0x16
    REJECTING = 0x17
    RETURNING = 0x18
    HOLDING = 0x19
    DISABLE = 0x1A  # inhibited
    INITIALIZE = 0x1B
    POWER_UP = 0x40
    POWER_UP_BILL_IN_ACCEPTOR = 0x41
    POWER_UP_BILL_IN_STACKER = 0x42
    STACKER_FULL = 0x43
    STACKER_OPEN = 0x44
    JAM_IN_ACCEPTOR = 0x45
    JAM_IN_STACKER = 0x46
    PAUSE = 0x47
    CHEATED = 0x48
    FAILURE = 0x49
    COMMUNICATION_ERROR = 0x4A
    INVALID_COMMAND = 0x4B
    ACK = 0x50


STATUS_NAMES: dict[int, str] = {status.value: status.name.lower().replace("_", " ") for status in Status}
POWER_UP_STATUSES = frozenset(
    {Status.POWER_UP, Status.POWER_UP_BILL_IN_ACCEPTOR, Status.POWER_UP_BILL_IN_STACKER}
)

REJECT_REASONS: dict[int, str] = {
    0x71: "insertion error",
    0x72: "magnetic pattern error",
    0x73: "sensor detected something while idle",
    0x74: "data amplitude error",
    0x75: "feed error",
    0x76: "denomination assessing error",
    0x77: "photo pattern error",
    0x78: "photo level error",
    0x79: "inhibited (by command or DIP switch)",
    0x7A: "unknown rejection",
    0x7B: "operation error",
    0x7C: "note in the transport at the wrong time",
    0x7D: "length error",
    0x7E: "color pattern error",
    0x7F: "true bill feature error",
}

FAILURE_CODES: dict[int, str] = {
    0xA2: "stack motor failure",
    0xA5: "transport motor speed failure",
    0xA6: "transport motor failure",
    0xA8: "solenoid failure",
    0xA9: "PB unit failure",
    0xAB: "cash box not ready",
    0xAF: "validator head removed",
    0xB0: "boot ROM failure",
    0xB1: "external ROM failure",
    0xB2: "RAM failure",
    0xB3: "external ROM writing failure",
}


@dataclass(frozen=True)
class Id003Frame:
    """One decoded frame: its command or status code and its data."""

    code: int
    data: bytes = b""


def crc16_kermit(data: bytes) -> int:
    """CRC-16/KERMIT: reflected 0x1021 (0x8408), initial 0, no final XOR; sent low byte first."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
    return crc


def encode_frame(code: int, data: bytes = b"") -> bytes:
    """The bytes of one frame; raises :class:`FrameError` if it cannot be one."""
    if not 0 <= code <= 255:
        raise FrameError(f"ID-003 code {code} is not a byte")
    length = MIN_FRAME + len(data)
    if length > 255:
        raise FrameError(f"ID-003 data of {len(data)} bytes does not fit one frame")
    body = bytes([SYNC, length, code]) + data
    crc = crc16_kermit(body)
    return body + bytes([crc & 0xFF, crc >> 8])


def decode_frame(raw: bytes) -> Id003Frame:
    """Decode exactly one frame; raises :class:`FrameError` if it is malformed."""
    if len(raw) < MIN_FRAME or raw[0] != SYNC:
        raise FrameError(f"ID-003 frame {raw.hex(' ')} is too short or lacks SYNC")
    if raw[1] != len(raw):
        raise FrameError(f"ID-003 frame announces {raw[1]} bytes but is {len(raw)} long")
    crc = crc16_kermit(raw[:-2])
    if raw[-2:] != bytes([crc & 0xFF, crc >> 8]):
        raise FrameError(f"ID-003 CRC mismatch in {raw.hex(' ')}")
    return Id003Frame(raw[2], raw[3:-2])


@dataclass(frozen=True)
class Id003Exchange:
    """The validator's reply to one command, and how many times the command was sent to get it."""

    reply: Id003Frame
    attempts: int


class Id003Link:
    """The host end of an ID-003 line: one command, one reply.

    A reply that timed out or arrived corrupt (CRC, length, noise before SYNC) is retried at once,
    up to ``retries`` times; ``timeouts``, ``frames_rejected`` and ``repeats`` count them. The
    reply is returned whatever it says (INVALID COMMAND included), with the number of attempts:
    a repeated command may have been carried out by the attempt whose reply was lost. Blocking
    (pyserial); the driver runs it in a worker thread.
    """

    def __init__(self, port: serial.Serial, *, retries: int = 2) -> None:
        self.port = port
        self.retries = retries
        self.timeouts = 0
        self.frames_rejected = 0
        self.repeats = 0
        self._line = threading.Lock()

    def exchange(self, code: int, data: bytes = b"") -> Id003Exchange:
        """Send one command and return the validator's reply (after retries)."""
        request = encode_frame(code, data)
        for attempt in range(1, self.retries + 2):
            try:
                with self._line:
                    reply = self._transact(request)
            except serial.SerialException as error:
                raise LineError(f"ID-003 line failed: {error}") from error
            except (ReplyTimeout, FrameError) as error:
                if isinstance(error, ReplyTimeout):
                    self.timeouts += 1
                if attempt > self.retries:
                    raise
                self.repeats += 1
                log.info("ID-003 command %#04x: %s; repeating it", code, error)
                continue
            return Id003Exchange(reply, attempt)
        raise AssertionError("unreachable")  # the loop returns or raises

    def send(self, code: int, data: bytes = b"") -> None:
        """Send a command that gets no reply (the host's ACK to VEND VALID)."""
        try:
            with self._line:
                self.port.write(encode_frame(code, data))
                self.port.flush()
        except serial.SerialException as error:
            raise LineError(f"ID-003 line failed: {error}") from error

    def close(self) -> None:
        """Close the serial port."""
        self.port.close()

    def _transact(self, request: bytes) -> Id003Frame:
        self.port.reset_input_buffer()
        self.port.write(request)
        self.port.flush()
        head = self._hunt_sync()
        rest_length = head[1] - 2
        if head[1] < MIN_FRAME:
            self.frames_rejected += 1
            raise FrameError(f"ID-003 reply announces {head[1]} bytes")
        rest = self.port.read(rest_length)
        if len(rest) < rest_length:
            raise ReplyTimeout(f"ID-003 reply truncated: {len(rest)} of {rest_length} bytes")
        try:
            return decode_frame(head + rest)
        except FrameError as error:
            self.frames_rejected += 1
            log.warning("ID-003 reply rejected: %s", error)
            raise

    def _hunt_sync(self) -> bytes:
        """SYNC and LNG of the reply, skipping noise before SYNC."""
        for skipped in range(MAX_SYNC_HUNT):
            first = self.port.read(1)
            if not first:
                raise ReplyTimeout(f"ID-003 reply timed out ({skipped} noise bytes)")
            if first[0] == SYNC:
                length = self.port.read(1)
                if not length:
                    raise ReplyTimeout("ID-003 reply timed out after SYNC")
                if skipped:
                    self.frames_rejected += 1
                    log.warning("ID-003: %d noise bytes before a reply", skipped)
                return first + length
        self.frames_rejected += 1
        raise FrameError(f"ID-003: no SYNC in {MAX_SYNC_HUNT} bytes")


def open_id003_link(url: str, *, timeout_s: float = 0.3, retries: int = 2) -> Id003Link:
    """Open an ID-003 line on a serial device or pyserial URL: 9600 baud, 8E1."""
    try:
        port = serial.serial_for_url(
            url,
            baudrate=9600,
            bytesize=serial.EIGHTBITS,
            parity=serial.PARITY_EVEN,
            stopbits=serial.STOPBITS_ONE,
            timeout=timeout_s,
            write_timeout=timeout_s,
        )
    except (serial.SerialException, ValueError) as error:
        raise ConfigurationError(f"cannot open ID-003 line {url!r}: {error}") from error
    return Id003Link(port, retries=retries)
