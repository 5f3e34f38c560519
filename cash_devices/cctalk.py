"""ccTalk framing and the host side of a ccTalk line.

A ccTalk frame is ``[dest][n][src][header][data × n][checksum]``. In the *simple checksum*
mode the last byte makes the sum of the whole frame 0 mod 256. In the *CRC-16* mode (CRC-CCITT
/ XModem: polynomial 0x1021, initial value 0) the CRC runs over ``[dest, n, header, data…]``; its
low byte takes the place of the source address and its high byte ends the frame.

The line is a single shared wire: the host reads back every byte it sends (local echo) and must
discard it before the reply. :class:`CcTalkLink` does one request/reply transaction at a time and
is blocking (pyserial); the async drivers run it in a worker thread. It is not thread-safe: one
owner per line.

Header numbers and the ACK/NAK/BUSY conventions follow ../shared/reference/readers.md §4.1.
"""

from __future__ import annotations

import enum
import logging
import threading
from dataclasses import dataclass, field

import serial

from cash_devices.errors import (
    BusyError,
    ConfigurationError,
    EchoError,
    FrameError,
    LineError,
    NakError,
    ReplyTimeout,
)

__all__ = [
    "CcTalkLink",
    "ChecksumMode",
    "Exchange",
    "Frame",
    "FrameReader",
    "Header",
    "crc16_xmodem",
    "decode_frame",
    "encode_frame",
    "open_link",
]

log = logging.getLogger(__name__)

HOST_ADDRESS = 1
MAX_DATA_BYTES = 252  # n is one byte and the whole frame must fit 256 bytes


class ChecksumMode(enum.Enum):
    """How a frame is protected: 8-bit sum or CRC-16 (XModem) with the low byte in the source slot."""

    SIMPLE = "simple"
    CRC16 = "crc16"


class Header(enum.IntEnum):
    """ccTalk headers used by printgate (the reply header is 0 = ACK)."""

    ACK = 0
    RESET_DEVICE = 1
    NAK = 5
    BUSY = 6
    ROUTE_BILL = 154
    MODIFY_BILL_OPERATING_MODE = 153
    REQUEST_COUNTRY_SCALING = 156
    REQUEST_BILL_ID = 157
    READ_BUFFERED_BILL_EVENTS = 159
    REQUEST_COIN_ID = 184
    REQUEST_MASTER_INHIBIT = 227
    MODIFY_MASTER_INHIBIT = 228
    READ_BUFFERED_CREDIT = 229
    REQUEST_INHIBIT_STATUS = 230
    MODIFY_INHIBIT_STATUS = 231
    PERFORM_SELF_CHECK = 232
    REQUEST_SOFTWARE_REVISION = 241
    REQUEST_SERIAL_NUMBER = 242
    REQUEST_PRODUCT_CODE = 244
    REQUEST_EQUIPMENT_CATEGORY = 245
    REQUEST_MANUFACTURER_ID = 246
    SIMPLE_POLL = 254


@dataclass(frozen=True)
class Frame:
    """One decoded ccTalk frame. ``source`` is ``None`` in CRC-16 mode (the slot holds the CRC)."""

    destination: int
    header: int
    data: bytes = b""
    source: int | None = None


def crc16_xmodem(payload: bytes) -> int:
    """CRC-CCITT (XModem): polynomial 0x1021, initial value 0, no reflection, no final XOR."""
    crc = 0
    for byte in payload:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def _simple_checksum(body: bytes) -> int:
    # (-sum) & 0xFF is 0 (not 256) when the sum is already 0 mod 256
    return -sum(body) & 0xFF


def encode_frame(
    destination: int,
    header: int,
    data: bytes = b"",
    *,
    source: int = HOST_ADDRESS,
    mode: ChecksumMode = ChecksumMode.SIMPLE,
) -> bytes:
    """Return the bytes of one frame; raises :class:`FrameError` on out-of-range fields."""
    for name, value in (("destination", destination), ("source", source), ("header", header)):
        if not 0 <= value <= 255:
            raise FrameError(f"ccTalk {name} {value} is not a byte")
    if len(data) > MAX_DATA_BYTES:
        raise FrameError(f"ccTalk data of {len(data)} bytes exceeds {MAX_DATA_BYTES}")
    if mode is ChecksumMode.SIMPLE:
        body = bytes([destination, len(data), source, header]) + data
        return body + bytes([_simple_checksum(body)])
    crc = crc16_xmodem(bytes([destination, len(data), header]) + data)
    return bytes([destination, len(data), crc & 0xFF, header]) + data + bytes([crc >> 8])


def frame_length(prefix: bytes | bytearray) -> int:
    """Total frame length announced by the first two bytes ``[dest][n]``."""
    return prefix[1] + 5


def decode_frame(raw: bytes, mode: ChecksumMode = ChecksumMode.SIMPLE) -> Frame:
    """Decode exactly one frame; raises :class:`FrameError` if it is malformed."""
    if len(raw) < 5:
        raise FrameError(f"ccTalk frame of {len(raw)} bytes is shorter than 5")
    if len(raw) != frame_length(raw):
        raise FrameError(f"ccTalk frame announces {raw[1]} data bytes but is {len(raw)} bytes long")
    data = raw[4:-1]
    if mode is ChecksumMode.SIMPLE:
        if sum(raw) & 0xFF:
            raise FrameError(f"ccTalk checksum mismatch in {raw.hex(' ')}")
        return Frame(destination=raw[0], header=raw[3], data=data, source=raw[2])
    expected = crc16_xmodem(bytes([raw[0], raw[1], raw[3]]) + data)
    if raw[2] | raw[-1] << 8 != expected:
        raise FrameError(f"ccTalk CRC-16 mismatch in {raw.hex(' ')}")
    return Frame(destination=raw[0], header=raw[3], data=data)


@dataclass(frozen=True)
class Exchange:
    """The data of a device's ACK reply, and how many times the command was sent to get it."""

    data: bytes
    attempts: int


@dataclass
class FrameReader:
    """Split a byte stream into frames, resynchronising after garbage.

    A frame that fails its check is counted in ``rejected`` and the reader drops its first byte
    and tries again at the next one, so one corrupt byte costs at most a few frames.
    """

    mode: ChecksumMode = ChecksumMode.SIMPLE
    rejected: int = 0
    _buffer: bytearray = field(default_factory=bytearray)

    def feed(self, chunk: bytes) -> list[Frame]:
        """Add bytes; return every complete valid frame found so far."""
        self._buffer += chunk
        frames: list[Frame] = []
        rejected_before = self.rejected
        last_error: FrameError | None = None
        while len(self._buffer) >= 2 and len(self._buffer) >= frame_length(self._buffer):
            size = frame_length(self._buffer)
            try:
                frames.append(decode_frame(bytes(self._buffer[:size]), self.mode))
            except FrameError as error:
                self.rejected += 1
                last_error = error
                del self._buffer[0]
                continue
            del self._buffer[:size]
        if last_error is not None:  # one line per chunk, not one per byte of a noise burst
            log.warning(
                "ccTalk: %d candidate frames rejected while resynchronising (last: %s)",
                self.rejected - rejected_before,
                last_error,
            )
        return frames

    @property
    def pending(self) -> int:
        """Bytes held while waiting for the rest of a frame."""
        return len(self._buffer)


class CcTalkLink:
    """The host end of a ccTalk line: one request, its echo, one reply.

    ``echo`` says whether the line reflects our own bytes (true for the one-wire bus and most
    RS-232 adapters); when it does, a missing or different echo raises :class:`EchoError`.
    A reply that timed out or arrived corrupt (bad checksum or CRC, wrong length or addressing:
    line noise) is retried at once, up to ``retries`` times, as ccTalk says a failed command is
    simply repeated; ``timeouts``, ``frames_rejected`` and ``repeats`` count them. NAK and BUSY
    are deliberate answers and are not retried. Several devices on one line share one link: a
    transaction holds the line's lock from the request to the end of the reply.
    """

    def __init__(
        self,
        port: serial.Serial,
        *,
        mode: ChecksumMode = ChecksumMode.SIMPLE,
        host_address: int = HOST_ADDRESS,
        echo: bool = True,
        retries: int = 2,
    ) -> None:
        self.port = port
        self.mode = mode
        self.host_address = host_address
        self.echo = echo
        self.retries = retries
        self.timeouts = 0
        self.frames_rejected = 0
        self.repeats = 0  # commands sent again after a timeout or a corrupt reply
        self._line = threading.Lock()

    def request(self, destination: int, header: int, data: bytes = b"") -> bytes:
        """Send one command and return the data of the device's ACK reply."""
        return self.exchange(destination, header, data).data

    def exchange(self, destination: int, header: int, data: bytes = b"") -> Exchange:
        """Like :meth:`request`, and say how many times the command went out.

        A command sent more than once may have been carried out by an earlier attempt whose
        reply was lost or garbled: a caller of a command that is not idempotent needs to know.
        """
        request = encode_frame(destination, header, data, source=self.host_address, mode=self.mode)
        for attempt in range(1, self.retries + 2):
            try:
                with self._line:
                    return Exchange(self._transact(destination, request), attempt)
            except serial.SerialException as error:
                raise LineError(f"ccTalk line failed: {error}") from error
            except (ReplyTimeout, FrameError) as error:  # frame errors were counted where found
                if isinstance(error, ReplyTimeout):
                    self.timeouts += 1
                if attempt > self.retries:
                    raise
                self.repeats += 1
                log.info("ccTalk header %d to %d: %s; repeating it", header, destination, error)
        raise AssertionError("unreachable")  # the loop returns or raises

    def close(self) -> None:
        """Close the serial port."""
        self.port.close()

    def _transact(self, destination: int, request: bytes) -> bytes:
        self.port.reset_input_buffer()
        self.port.write(request)
        self.port.flush()
        if self.echo:
            self._discard_echo(request)
        reply = self._read_frame()
        return self._check_reply(destination, reply)

    def _discard_echo(self, request: bytes) -> None:
        echoed = self.port.read(len(request))
        if echoed != request:
            what = "missing" if not echoed else f"different ({echoed.hex(' ')})"
            raise EchoError(f"ccTalk echo of {request.hex(' ')} {what}: check RX/TX wiring")

    def _read_frame(self) -> Frame:
        prefix = self.port.read(2)
        if len(prefix) < 2:
            raise ReplyTimeout(f"ccTalk reply timed out after {len(prefix)} bytes")
        rest_length = frame_length(prefix) - 2
        rest = self.port.read(rest_length)
        if len(rest) < rest_length:
            raise ReplyTimeout(f"ccTalk reply truncated: {len(rest)} of {rest_length} bytes")
        try:
            return decode_frame(prefix + rest, self.mode)
        except FrameError as error:
            self.frames_rejected += 1
            log.warning("ccTalk reply rejected: %s", error)
            raise

    def _check_reply(self, destination: int, reply: Frame) -> bytes:
        if reply.destination != self.host_address:
            self.frames_rejected += 1
            raise FrameError(f"ccTalk reply addressed to {reply.destination}, not {self.host_address}")
        if reply.source is not None and reply.source != destination:
            self.frames_rejected += 1
            raise FrameError(f"ccTalk reply from {reply.source}, expected {destination}")
        if reply.header == Header.NAK:
            raise NakError(f"ccTalk device {destination} answered NAK")
        if reply.header == Header.BUSY:
            raise BusyError(f"ccTalk device {destination} answered BUSY")
        if reply.header != Header.ACK:
            self.frames_rejected += 1
            raise FrameError(f"ccTalk reply header {reply.header} is not ACK")
        return reply.data


def open_link(
    url: str,
    *,
    mode: ChecksumMode | str = ChecksumMode.SIMPLE,
    host_address: int = HOST_ADDRESS,
    echo: bool = True,
    timeout_s: float = 0.2,
    retries: int = 2,
    baudrate: int = 9600,
) -> CcTalkLink:
    """Open a ccTalk line on a serial device path or pyserial URL (9600 8N1 by default)."""
    try:
        checksum = ChecksumMode(mode)
    except ValueError as error:
        raise ConfigurationError(f"unknown ccTalk checksum mode {mode!r}") from error
    if not 0 <= host_address <= 255:
        raise ConfigurationError(f"ccTalk host address {host_address} is not a byte")
    try:
        # every pyserial URL handler implements the Serial API (reset_input_buffer included)
        port = serial.serial_for_url(url, baudrate=baudrate, timeout=timeout_s, write_timeout=timeout_s)
    except (serial.SerialException, ValueError) as error:
        raise ConfigurationError(f"cannot open ccTalk line {url!r}: {error}") from error
    return CcTalkLink(port, mode=checksum, host_address=host_address, echo=echo, retries=retries)
