"""A minimal IPP/1.1 message codec (RFC 8010) for job submission, cancelling and Get-Job-Attributes.

Only the value tags a release needs are typed; anything else decodes to raw bytes.
Malformed input raises :class:`ParseError`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from mfp_adapters.errors import ParseError

__all__ = [
    "JOB_ABORTED",
    "JOB_CANCELED",
    "JOB_COMPLETED",
    "JOB_GROUP",
    "OPERATION_GROUP",
    "TAG_BOOLEAN",
    "TAG_CHARSET",
    "TAG_ENUM",
    "TAG_INTEGER",
    "TAG_KEYWORD",
    "TAG_MIME",
    "TAG_NAME",
    "TAG_NATURAL_LANGUAGE",
    "TAG_URI",
    "IppAttribute",
    "IppMessage",
    "decode",
    "encode",
]

OPERATION_GROUP, JOB_GROUP, END_TAG = 0x01, 0x02, 0x03
# job-state (RFC 8011 5.3.7): 3 pending, 4 pending-held, 5 processing, 6 processing-stopped, then
# the final ones:
JOB_CANCELED, JOB_ABORTED, JOB_COMPLETED = 7, 8, 9
TAG_INTEGER, TAG_BOOLEAN, TAG_ENUM = 0x21, 0x22, 0x23
TAG_TEXT, TAG_NAME, TAG_KEYWORD, TAG_URI = 0x41, 0x42, 0x44, 0x45
TAG_CHARSET, TAG_NATURAL_LANGUAGE, TAG_MIME = 0x47, 0x48, 0x49
_INT_TAGS = (TAG_INTEGER, TAG_ENUM)
_STR_TAGS = (TAG_TEXT, TAG_NAME, TAG_KEYWORD, TAG_URI, TAG_CHARSET, TAG_NATURAL_LANGUAGE, TAG_MIME)
_MAX_MESSAGE = 1 << 20

IppValue = int | bool | str | bytes


@dataclass(frozen=True)
class IppAttribute:
    """One attribute: value tag, name and value(s)."""

    tag: int
    name: str
    values: tuple[IppValue, ...]


@dataclass
class IppMessage:
    """A request (``code`` = operation id) or a response (``code`` = status code)."""

    code: int
    request_id: int
    groups: list[tuple[int, list[IppAttribute]]] = field(default_factory=list)
    version: tuple[int, int] = (1, 1)

    def get(self, name: str) -> IppValue | None:
        """First value of the first attribute called ``name`` in any group."""
        values = self.values(name)
        return values[0] if values else None

    def values(self, name: str) -> tuple[IppValue, ...]:
        """Every value of the first attribute called ``name`` in any group (empty if none)."""
        for _, attributes in self.groups:
            for attribute in attributes:
                if attribute.name == name and attribute.values:
                    return attribute.values
        return ()


def _encode_value(tag: int, value: IppValue) -> bytes:
    if tag in _INT_TAGS and isinstance(value, int):
        return struct.pack(">i", value)
    if tag == TAG_BOOLEAN and isinstance(value, bool):
        return b"\x01" if value else b"\x00"
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, bytes):
        return value
    raise ParseError(f"cannot encode {value!r} with tag 0x{tag:02x}")


def encode(message: IppMessage) -> bytes:
    """Encode ``message`` (attributes only; the document follows it on the wire)."""
    out = bytearray(struct.pack(">BBHI", *message.version, message.code, message.request_id))
    for group_tag, attributes in message.groups:
        out.append(group_tag)
        for attribute in attributes:
            for position, value in enumerate(attribute.values):
                name = attribute.name.encode() if position == 0 else b""
                body = _encode_value(attribute.tag, value)
                if len(name) > 0x7FFF or len(body) > 0x7FFF:
                    raise ParseError(f"attribute {attribute.name!r} too long")
                out += bytes([attribute.tag]) + struct.pack(">H", len(name)) + name
                out += struct.pack(">H", len(body)) + body
    out.append(END_TAG)
    return bytes(out)


def _decode_value(tag: int, body: bytes) -> IppValue:
    if tag in _INT_TAGS:
        if len(body) != 4:
            raise ParseError(f"integer of {len(body)} bytes")
        return int(struct.unpack(">i", body)[0])
    if tag == TAG_BOOLEAN:
        if len(body) != 1:
            raise ParseError("boolean of wrong length")
        return body != b"\x00"
    if tag in _STR_TAGS:
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            raise ParseError("attribute text is not UTF-8") from None
    return body


def decode(data: bytes) -> tuple[IppMessage, int]:
    """Decode a message; returns it and the offset where document data would start."""
    if len(data) > _MAX_MESSAGE:
        raise ParseError("IPP message too large")
    if len(data) < 9:
        raise ParseError("IPP message shorter than its header")
    major, minor, code, request_id = struct.unpack(">BBHI", data[:8])
    message = IppMessage(code, request_id, version=(major, minor))
    pos = 8
    current: list[IppAttribute] | None = None
    while pos < len(data):
        tag = data[pos]
        pos += 1
        if tag == END_TAG:
            return message, pos
        if tag < 0x10:
            current = []
            message.groups.append((tag, current))
            continue
        if current is None:
            raise ParseError("attribute before any group")
        name, pos = _chunk(data, pos)
        value, pos = _chunk(data, pos)
        decoded = _decode_value(tag, value)
        if name:
            current.append(IppAttribute(tag, name.decode("utf-8", errors="replace"), (decoded,)))
        elif current:
            last = current[-1]
            current[-1] = IppAttribute(last.tag, last.name, (*last.values, decoded))
        else:
            raise ParseError("additional value without an attribute")
    raise ParseError("IPP message without end-of-attributes tag")


def _chunk(data: bytes, pos: int) -> tuple[bytes, int]:
    if pos + 2 > len(data):
        raise ParseError("truncated IPP length")
    (length,) = struct.unpack(">H", data[pos : pos + 2])
    end = pos + 2 + length
    if end > len(data):
        raise ParseError("truncated IPP value")
    return data[pos + 2 : end], end
