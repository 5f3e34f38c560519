"""A minimal BER codec for SNMP v1/v2c messages, written from X.690 and RFC 1157/3416.

Only what an agent needs: decode a request (GET, GETNEXT, GETBULK, SET) and encode
a response. Every decode error raises :class:`BerError` (a ``ValueError``).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "BerError",
    "Message",
    "decode_message",
    "decode_oid",
    "encode_message",
    "encode_oid",
]

INTEGER, OCTET_STRING, NULL, OID, SEQUENCE = 0x02, 0x04, 0x05, 0x06, 0x30
IP_ADDRESS, COUNTER32, GAUGE32, TIMETICKS, COUNTER64 = 0x40, 0x41, 0x42, 0x43, 0x46
NO_SUCH_OBJECT, NO_SUCH_INSTANCE, END_OF_MIB_VIEW = 0x80, 0x81, 0x82
GET, GETNEXT, RESPONSE, SET, GETBULK = 0xA0, 0xA1, 0xA2, 0xA3, 0xA5
_MAX_LENGTH = 65535

# A typed SNMP value: (tag, payload); payload is an int, bytes, an OID tuple or None.
Value = tuple[int, int | bytes | tuple[int, ...] | None]


class BerError(ValueError):
    """The bytes are not a well-formed SNMP message."""


@dataclass
class Message:
    """An SNMP v1/v2c message.

    For GETBULK, ``error_status`` and ``error_index`` carry non-repeaters and max-repetitions.
    """

    version: int
    community: bytes
    pdu_type: int
    request_id: int
    error_status: int
    error_index: int
    var_binds: list[tuple[tuple[int, ...], Value]]


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _tlv(tag: int, body: bytes) -> bytes:
    return bytes([tag]) + _length(len(body)) + body


def _int_body(n: int) -> bytes:
    return n.to_bytes(max(1, (n.bit_length() + 8) // 8), "big", signed=True)


def _uint_body(n: int) -> bytes:
    # Unsigned application types are still two's complement on the wire: add a 0x00 pad.
    return n.to_bytes(max(1, (n.bit_length() + 8) // 8), "big", signed=False)


def encode_oid(oid: tuple[int, ...]) -> bytes:
    """The body of an OBJECT IDENTIFIER (without tag and length)."""
    if len(oid) < 2:
        raise BerError("an OID needs at least two arcs")
    out = bytearray()
    for arc in (oid[0] * 40 + oid[1], *oid[2:]):
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out.extend(reversed(chunk))
    return bytes(out)


def decode_oid(body: bytes) -> tuple[int, ...]:
    """Decode an OBJECT IDENTIFIER body."""
    if not body or body[-1] & 0x80:
        raise BerError("truncated OID")
    arcs: list[int] = []
    value = 0
    for byte in body:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    first = arcs[0]
    head = (min(first // 40, 2), first - 40 * min(first // 40, 2))
    return head + tuple(arcs[1:])


def encode_value(value: Value) -> bytes:
    """TLV of a typed value."""
    tag, payload = value
    if tag in (NULL, NO_SUCH_OBJECT, NO_SUCH_INSTANCE, END_OF_MIB_VIEW):
        return _tlv(tag, b"")
    if tag == INTEGER and isinstance(payload, int):
        return _tlv(tag, _int_body(payload))
    if tag in (COUNTER32, GAUGE32, TIMETICKS, COUNTER64) and isinstance(payload, int):
        return _tlv(tag, _uint_body(payload))
    if tag in (OCTET_STRING, IP_ADDRESS) and isinstance(payload, bytes):
        return _tlv(tag, payload)
    if tag == OID and isinstance(payload, tuple):
        return _tlv(tag, encode_oid(payload))
    raise BerError(f"cannot encode tag 0x{tag:02x} with {type(payload).__name__}")


def encode_message(msg: Message) -> bytes:
    """Encode a whole message."""
    binds = b"".join(_tlv(SEQUENCE, _tlv(OID, encode_oid(o)) + encode_value(v)) for o, v in msg.var_binds)
    pdu = _tlv(
        msg.pdu_type,
        _tlv(INTEGER, _int_body(msg.request_id))
        + _tlv(INTEGER, _int_body(msg.error_status))
        + _tlv(INTEGER, _int_body(msg.error_index))
        + _tlv(SEQUENCE, binds),
    )
    return _tlv(SEQUENCE, _tlv(INTEGER, _int_body(msg.version)) + _tlv(OCTET_STRING, msg.community) + pdu)


def _read(data: bytes, pos: int) -> tuple[int, bytes, int]:
    """Read one TLV at ``pos``: (tag, body, next position)."""
    if pos + 2 > len(data):
        raise BerError("truncated TLV header")
    tag, first = data[pos], data[pos + 1]
    pos += 2
    if first & 0x80:
        count = first & 0x7F
        if count == 0 or count > 3 or pos + count > len(data):
            raise BerError("bad length octets")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    else:
        length = first
    if length > _MAX_LENGTH or pos + length > len(data):
        raise BerError("length beyond the message")
    return tag, data[pos : pos + length], pos + length


def _expect(data: bytes, pos: int, tag: int) -> tuple[bytes, int]:
    got, body, pos = _read(data, pos)
    if got != tag:
        raise BerError(f"expected tag 0x{tag:02x}, got 0x{got:02x}")
    return body, pos


def _int(body: bytes) -> int:
    if not body or len(body) > 9:
        raise BerError("bad INTEGER")
    return int.from_bytes(body, "big", signed=True)


def _decode_value(tag: int, body: bytes) -> Value:
    if tag == INTEGER:
        return tag, _int(body)
    if tag in (COUNTER32, GAUGE32, TIMETICKS, COUNTER64):
        if not body or len(body) > 9:
            raise BerError("bad unsigned integer")
        return tag, int.from_bytes(body, "big")
    if tag in (OCTET_STRING, IP_ADDRESS):
        return tag, body
    if tag == OID:
        return tag, decode_oid(body)
    if tag in (NULL, NO_SUCH_OBJECT, NO_SUCH_INSTANCE, END_OF_MIB_VIEW):
        return tag, None
    raise BerError(f"unsupported value tag 0x{tag:02x}")


def decode_message(data: bytes) -> Message:
    """Decode a whole message; raises :class:`BerError` on anything malformed."""
    body, end = _expect(data, 0, SEQUENCE)
    if end != len(data):
        raise BerError("trailing bytes after the message")
    version_body, pos = _expect(body, 0, INTEGER)
    community, pos = _expect(body, pos, OCTET_STRING)
    pdu_type, pdu, pos = _read(body, pos)
    if pdu_type not in (GET, GETNEXT, RESPONSE, SET, GETBULK):
        raise BerError(f"unsupported PDU type 0x{pdu_type:02x}")
    request_id, p = _expect(pdu, 0, INTEGER)
    status, p = _expect(pdu, p, INTEGER)
    index, p = _expect(pdu, p, INTEGER)
    binds_body, p = _expect(pdu, p, SEQUENCE)
    binds = []
    q = 0
    while q < len(binds_body):
        bind, q = _expect(binds_body, q, SEQUENCE)
        oid_body, r = _expect(bind, 0, OID)
        tag, value_body, r = _read(bind, r)
        binds.append((decode_oid(oid_body), _decode_value(tag, value_body)))
    return Message(
        _int(version_body), community, pdu_type, _int(request_id), _int(status), _int(index), binds
    )
