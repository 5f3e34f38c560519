"""Frame parsers for serial card readers: pure byte-stream state machines, no I/O.

* ``StxEtxParser``: RDM6300 (``STX 10hex 2hex ETX``, 14 bytes) and ID-12LA/ID-20LA
  (the same with ``CR LF`` before ``ETX``, 16 bytes). The checksum is the XOR of the five
  data bytes. Hex is upper-case, as these modules send it.
* ``Twn4Parser``: Elatec TWN4 simple protocol replies, one upper-case hex line per ``CR``;
  parses the reply to SearchTag (``05 00 FF``).

``feed(data)`` returns what complete frames yielded: a ``ParsedCard`` for a card, or
``None`` for "no card in the field" (TWN4 only). Every malformed frame is reported to
``on_reject(reason)`` and counted in ``rejected``; bytes outside frames are reported to
``on_discard(count)``. ``finish()`` rejects a frame cut off by a disconnect.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import reduce
from operator import xor

from reader_drivers.base import Technology

__all__ = ["TWN4_SEARCH_TAG", "ParsedCard", "StxEtxParser", "Twn4Parser"]

STX, ETX, CR, LF = 0x02, 0x03, 0x0D, 0x0A
_UPPER_HEX = re.compile(rb"[0-9A-F]*")

TWN4_SEARCH_TAG = b"0500FF\r"  # API_RF (5), SearchTag (0), maxIDBytes 0xFF
# TWN4 tag type byte -> technology (Elatec.NET Constants.cs); others are named "twn4-XX"
TWN4_TAG_TYPES = {0x80: Technology.ISO14443A, 0x40: Technology.EM4100, 0x49: Technology.HID_PROX}


@dataclass(frozen=True)
class ParsedCard:
    """A credential a frame carried."""

    raw: bytes
    technology: str


def _ignore_reject(reason: str) -> None:
    pass


def _ignore_discard(count: int) -> None:
    pass


class _Parser:
    def __init__(
        self,
        on_reject: Callable[[str], None] = _ignore_reject,
        on_discard: Callable[[int], None] = _ignore_discard,
    ) -> None:
        self.on_reject = on_reject
        self.on_discard = on_discard
        self.rejected = 0
        self.accepted = 0

    def _rejected(self, reason: str) -> None:
        self.rejected += 1
        self.on_reject(reason)


class StxEtxParser(_Parser):
    """RDM6300 / ID-12LA / ID-20LA frames (both framings accepted)."""

    technology = Technology.EM4100
    _MAX_BODY = 14  # 10 data + 2 checksum + CR LF

    def __init__(
        self,
        on_reject: Callable[[str], None] = _ignore_reject,
        on_discard: Callable[[int], None] = _ignore_discard,
    ) -> None:
        super().__init__(on_reject, on_discard)
        self._body: bytearray | None = None  # None: waiting for STX

    def feed(self, data: bytes) -> list[ParsedCard | None]:
        """Consume bytes; return the cards of the frames they completed."""
        cards: list[ParsedCard | None] = []
        noise = 0
        for byte in data:
            if byte == STX:
                if self._body is not None:
                    self._rejected("STX inside a frame (truncated frame)")
                self._body = bytearray()
            elif self._body is None:
                noise += 1
            elif byte == ETX:
                card = self._check(bytes(self._body))
                self._body = None
                if card is not None:
                    cards.append(card)
            elif len(self._body) >= self._MAX_BODY:
                self._rejected("frame longer than 16 bytes without ETX")
                self._body = None
            else:
                self._body.append(byte)
        if noise:
            self.on_discard(noise)
        return cards

    def finish(self) -> None:
        """The stream ended: a frame in progress is rejected."""
        if self._body is not None:
            self._rejected("stream ended inside a frame")
            self._body = None

    def _check(self, body: bytes) -> ParsedCard | None:
        if body.endswith(b"\r\n"):
            body = body[:-2]
        if len(body) != 12 or not _UPPER_HEX.fullmatch(body):
            self._rejected(f"bad frame body {body[:16]!r}")
            return None
        payload = bytes.fromhex(body.decode())
        if reduce(xor, payload[:5]) != payload[5]:
            self._rejected(f"checksum {payload[5]:02X} != XOR {reduce(xor, payload[:5]):02X}")
            return None
        self.accepted += 1
        return ParsedCard(payload[:5], self.technology)


class Twn4Parser(_Parser):
    """Elatec TWN4 simple-protocol replies to SearchTag."""

    _MAX_LINE = 2 * (5 + 255)

    def __init__(
        self,
        on_reject: Callable[[str], None] = _ignore_reject,
        on_discard: Callable[[int], None] = _ignore_discard,
    ) -> None:
        super().__init__(on_reject, on_discard)
        self._line = bytearray()
        self._overlong = False

    def feed(self, data: bytes) -> list[ParsedCard | None]:
        """Consume bytes; return one result per complete reply line."""
        results: list[ParsedCard | None] = []
        for byte in data:
            if byte == CR:
                if self._overlong:
                    self._rejected("reply line too long")
                elif self._line:
                    results.extend(self._parse(bytes(self._line)))
                self._line.clear()
                self._overlong = False
            elif byte == LF:
                continue
            elif len(self._line) >= self._MAX_LINE:
                self._overlong = True
            else:
                self._line.append(byte)
        return results

    def finish(self) -> None:
        """The stream ended: a partial reply line is rejected."""
        if self._line or self._overlong:
            self._rejected("stream ended inside a reply line")
        self._line.clear()
        self._overlong = False

    def _parse(self, line: bytes) -> list[ParsedCard | None]:
        if len(line) % 2 or not _UPPER_HEX.fullmatch(line):
            self._rejected(f"reply is not upper-case hex: {line[:32]!r}")
            return []
        reply = bytes.fromhex(line.decode())
        if reply[0] != 0:
            self._rejected(f"TWN4 error code {reply[0]:02X}")
            return []
        if reply[1:] == b"\x00":
            return [None]  # no tag in the field
        return self._parse_tag(reply)

    def _parse_tag(self, reply: bytes) -> list[ParsedCard | None]:
        if len(reply) < 5 or reply[1] != 1:
            self._rejected(f"SearchTag reply malformed: {reply.hex().upper()[:32]}")
            return []
        tag_type, bit_count, id_length = reply[2], reply[3], reply[4]
        tag_id = reply[5:]
        if len(tag_id) != id_length or id_length == 0 or not (id_length - 1) * 8 < bit_count <= id_length * 8:
            self._rejected(f"SearchTag ID length/bit count inconsistent: {reply.hex().upper()[:32]}")
            return []
        self.accepted += 1
        return [ParsedCard(tag_id, TWN4_TAG_TYPES.get(tag_type, f"twn4-{tag_type:02x}"))]
