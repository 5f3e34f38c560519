"""IPP/1.1 and IPP/2.x message encoding (RFC 8010), with hard bounds for hostile input.

A message is ``version, operation-id|status-code, request-id`` followed by attribute groups
and the end-of-attributes tag; whatever follows is document data, which this module never
touches (``parse_message`` returns the offset where it starts, so callers can stream it).

Contract: ``parse_message`` either returns a fully checked ``IppMessage`` or raises
``IppParseError`` whose ``status`` is the IPP status to answer with
(``client-error-bad-request`` for malformed input, ``client-error-request-entity-too-large``
when a limit in ``IppLimits`` is hit). ``IppIncomplete`` means "the bytes end too early":
a streaming reader may retry with more data. Values keep their tag, so unknown value tags
round-trip as raw bytes (RFC 8010 section 3.5.2). Unknown group tags are kept as groups
that operations ignore.

Python types per value tag: integer/enum ``int``; boolean ``bool``; octetString and
dateTime and unknown tags ``bytes``; resolution ``(x, y, units)``; rangeOfInteger
``(lower, upper)``; text/name with language ``(language, text)``; collection
``list[IppAttribute]``; out-of-band tags ``None``; every other string syntax ``str``.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import IntEnum

from .errors import STATUS_REQUEST_ENTITY_TOO_LARGE, IppIncomplete, IppParseError

__all__ = [
    "IppAttribute",
    "IppGroup",
    "IppLimits",
    "IppMessage",
    "IppValue",
    "Tag",
    "encode_message",
    "parse_message",
    "peek_request_id",
]


class Tag(IntEnum):
    """Delimiter and value tags of RFC 8010 section 3.5."""

    OPERATION = 0x01
    JOB = 0x02
    END = 0x03
    PRINTER = 0x04
    UNSUPPORTED_GROUP = 0x05
    UNSUPPORTED = 0x10
    UNKNOWN = 0x12
    NO_VALUE = 0x13
    NOT_SETTABLE = 0x15
    DELETE_ATTRIBUTE = 0x16
    ADMIN_DEFINE = 0x17
    INTEGER = 0x21
    BOOLEAN = 0x22
    ENUM = 0x23
    OCTET_STRING = 0x30
    DATE_TIME = 0x31
    RESOLUTION = 0x32
    RANGE_OF_INTEGER = 0x33
    BEGIN_COLLECTION = 0x34
    TEXT_WITH_LANGUAGE = 0x35
    NAME_WITH_LANGUAGE = 0x36
    END_COLLECTION = 0x37
    TEXT = 0x41
    NAME = 0x42
    KEYWORD = 0x44
    URI = 0x45
    URI_SCHEME = 0x46
    CHARSET = 0x47
    NATURAL_LANGUAGE = 0x48
    MIME_MEDIA_TYPE = 0x49
    MEMBER_NAME = 0x4A
    EXTENSION = 0x7F


_ASCII_TAGS = frozenset(
    {Tag.KEYWORD, Tag.URI, Tag.URI_SCHEME, Tag.CHARSET, Tag.NATURAL_LANGUAGE, Tag.MIME_MEDIA_TYPE}
)
_UTF8_TAGS = frozenset({Tag.TEXT, Tag.NAME, Tag.MEMBER_NAME})
_FIXED_SIZE: dict[int, int] = {
    Tag.INTEGER: 4,
    Tag.ENUM: 4,
    Tag.BOOLEAN: 1,
    Tag.DATE_TIME: 11,
    Tag.RESOLUTION: 9,
    Tag.RANGE_OF_INTEGER: 8,
}
_MAX_NAME_BYTES = 255


@dataclass(frozen=True)
class IppLimits:
    """Bounds enforced while parsing; all counts are per message."""

    max_value_bytes: int = 4096
    max_attributes_bytes: int = 256 * 1024
    max_attributes: int = 1000
    max_values_per_attribute: int = 1000
    max_collection_depth: int = 8


@dataclass(frozen=True)
class IppValue:
    """One value with its syntax tag."""

    tag: int
    value: object

    @property
    def is_out_of_band(self) -> bool:
        """True for unsupported/unknown/no-value and the other out-of-band tags."""
        return 0x10 <= self.tag <= 0x1F


@dataclass
class IppAttribute:
    """A named attribute with one or more values (``1setOf`` when more than one)."""

    name: str
    values: list[IppValue]

    @property
    def first(self) -> object:
        """The first value's Python value."""
        return self.values[0].value

    @property
    def tag(self) -> int:
        """The first value's syntax tag."""
        return self.values[0].tag


@dataclass
class IppGroup:
    """An attribute group (operation, job, printer, unsupported or an unknown tag)."""

    tag: int
    attributes: list[IppAttribute] = field(default_factory=list)

    def get(self, name: str) -> IppAttribute | None:
        """The first attribute called ``name`` in this group, if any."""
        return next((attribute for attribute in self.attributes if attribute.name == name), None)

    def add(self, name: str, tag: int, *values: object) -> None:
        """Append an attribute whose values all share ``tag``."""
        self.attributes.append(IppAttribute(name, [IppValue(tag, value) for value in values]))


@dataclass
class IppMessage:
    """An IPP request (``code`` = operation-id) or response (``code`` = status-code)."""

    version: tuple[int, int]
    code: int
    request_id: int
    groups: list[IppGroup] = field(default_factory=list)

    def group(self, tag: int) -> IppGroup | None:
        """The first group with ``tag``, if any."""
        return next((group for group in self.groups if group.tag == tag), None)

    def groups_of(self, tag: int) -> Iterator[IppGroup]:
        """Every group with ``tag`` (Get-Jobs responses have one job group per job)."""
        return (group for group in self.groups if group.tag == tag)

    def new_group(self, tag: int) -> IppGroup:
        """Append and return an empty group."""
        group = IppGroup(tag)
        self.groups.append(group)
        return group


# --------------------------------------------------------------------------- parsing


class _Cursor:
    """Bounds-checked reader over the message bytes."""

    def __init__(self, data: bytes, limits: IppLimits) -> None:
        self.data = memoryview(data)
        self.offset = 0
        self.limits = limits

    def take(self, count: int) -> bytes:
        end = self.offset + count
        if end > len(self.data):
            raise IppIncomplete(f"message truncated at byte {len(self.data)} (needed {end})")
        if end > self.limits.max_attributes_bytes:
            raise IppParseError(
                f"attribute section exceeds {self.limits.max_attributes_bytes} bytes",
                STATUS_REQUEST_ENTITY_TOO_LARGE,
            )
        chunk = bytes(self.data[self.offset : end])
        self.offset = end
        return chunk

    def u8(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        value: int = struct.unpack(">H", self.take(2))[0]
        return value

    def peek(self) -> int:
        if self.offset >= len(self.data):
            raise IppIncomplete("message ends before the end-of-attributes tag")
        return self.data[self.offset]


@dataclass
class _Raw:
    """One attribute-with-one-value record as it appears on the wire."""

    tag: int
    name: str
    value: bytes


def _read_record(cursor: _Cursor) -> _Raw:
    # An extension tag (0x7F) keeps its four-octet real type inside the value, which stays
    # opaque like every unknown syntax (RFC 8010 section 3.5.2).
    tag = cursor.u8()
    name_length = cursor.u16()
    if name_length > _MAX_NAME_BYTES:
        raise IppParseError(f"attribute name of {name_length} bytes exceeds {_MAX_NAME_BYTES}")
    name = _ascii(cursor.take(name_length), "attribute name")
    value_length = cursor.u16()
    if value_length > cursor.limits.max_value_bytes:
        raise IppParseError(
            f"value of {name or 'additional value'} is {value_length} bytes "
            f"(limit {cursor.limits.max_value_bytes})",
            STATUS_REQUEST_ENTITY_TOO_LARGE,
        )
    return _Raw(tag, name, cursor.take(value_length))


def _ascii(raw: bytes, what: str) -> str:
    try:
        return raw.decode("ascii")
    except UnicodeDecodeError:
        raise IppParseError(f"{what} is not US-ASCII") from None


def _utf8(raw: bytes, what: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise IppParseError(f"{what} is not UTF-8") from None


def _decode_with_language(raw: bytes, name: str) -> tuple[str, str]:
    if len(raw) < 4:
        raise IppParseError(f"{name}: withLanguage value too short")
    language_length = struct.unpack(">H", raw[:2])[0]
    if 2 + language_length + 2 > len(raw):
        raise IppParseError(f"{name}: bad language length")
    language = _ascii(raw[2 : 2 + language_length], f"{name} language")
    text_start = 4 + language_length
    text_length = struct.unpack(">H", raw[2 + language_length : text_start])[0]
    if text_start + text_length != len(raw):
        raise IppParseError(f"{name}: bad text length")
    return language, _utf8(raw[text_start:], name)


def _decode_value(tag: int, raw: bytes, name: str) -> object:
    """Turn one wire value into its Python form (collections are handled by the caller)."""
    expected = _FIXED_SIZE.get(tag)
    if expected is not None and len(raw) != expected:
        raise IppParseError(f"{name}: tag 0x{tag:02x} needs {expected} bytes, got {len(raw)}")
    if tag in (Tag.INTEGER, Tag.ENUM):
        return struct.unpack(">i", raw)[0]
    if tag == Tag.BOOLEAN:
        if raw[0] > 1:
            raise IppParseError(f"{name}: boolean value {raw[0]}")
        return raw[0] == 1
    if tag == Tag.RESOLUTION:
        return struct.unpack(">iib", raw)
    if tag == Tag.RANGE_OF_INTEGER:
        return struct.unpack(">ii", raw)
    if tag in (Tag.TEXT_WITH_LANGUAGE, Tag.NAME_WITH_LANGUAGE):
        return _decode_with_language(raw, name)
    if tag in _ASCII_TAGS:
        return _ascii(raw, name)
    if tag in _UTF8_TAGS:
        return _utf8(raw, name)
    if 0x10 <= tag <= 0x1F:
        return None
    return raw  # octetString, dateTime and unknown syntaxes stay opaque


class _Parser:
    def __init__(self, cursor: _Cursor) -> None:
        self.cursor = cursor
        self.attribute_count = 0

    def count_attribute(self) -> None:
        self.attribute_count += 1
        if self.attribute_count > self.cursor.limits.max_attributes:
            raise IppParseError(
                f"more than {self.cursor.limits.max_attributes} attributes",
                STATUS_REQUEST_ENTITY_TOO_LARGE,
            )

    def append_value(self, attribute: IppAttribute, value: IppValue) -> None:
        if len(attribute.values) >= self.cursor.limits.max_values_per_attribute:
            raise IppParseError(
                f"{attribute.name} has more than {self.cursor.limits.max_values_per_attribute} values",
                STATUS_REQUEST_ENTITY_TOO_LARGE,
            )
        attribute.values.append(value)

    def value_from(self, record: _Raw, name: str, depth: int) -> IppValue:
        if record.tag == Tag.BEGIN_COLLECTION:
            return IppValue(Tag.BEGIN_COLLECTION, self.collection(name, depth + 1))
        if record.tag in (Tag.END_COLLECTION, Tag.MEMBER_NAME):
            raise IppParseError(f"{name}: tag 0x{record.tag:02x} outside a collection")
        return IppValue(record.tag, _decode_value(record.tag, record.value, name))

    def collection(self, name: str, depth: int) -> list[IppAttribute]:
        """Parse collection members up to the matching endCollection (RFC 8010 3.1.6)."""
        if depth > self.cursor.limits.max_collection_depth:
            raise IppParseError(f"{name}: collections nested deeper than allowed")
        members: list[IppAttribute] = []
        while True:
            record = _read_record(self.cursor)
            if record.tag == Tag.END_COLLECTION:
                return members
            if record.name:
                raise IppParseError(f"{name}: collection member record has a name")
            if record.tag == Tag.MEMBER_NAME:
                member_name = _ascii(record.value, f"{name} member name")
                if not member_name:
                    raise IppParseError(f"{name}: empty member name")
                value_record = _read_record(self.cursor)
                if value_record.name or value_record.tag in (Tag.MEMBER_NAME, Tag.END_COLLECTION):
                    raise IppParseError(f"{name}.{member_name}: missing member value")
                self.count_attribute()
                members.append(IppAttribute(member_name, [self.value_from(value_record, member_name, depth)]))
            elif members:
                self.append_value(members[-1], self.value_from(record, members[-1].name, depth))
            else:
                raise IppParseError(f"{name}: collection value before a member name")

    def groups(self) -> list[IppGroup]:
        groups: list[IppGroup] = []
        while True:
            tag = self.cursor.peek()
            if tag == Tag.END:
                self.cursor.u8()
                return groups
            if tag == 0x00:
                raise IppParseError("reserved delimiter tag 0x00")
            if tag <= 0x0F:
                self.cursor.u8()
                groups.append(IppGroup(tag))
                continue
            if not groups:
                raise IppParseError("attribute before the first group tag")
            self.attribute(groups[-1])

    def attribute(self, group: IppGroup) -> None:
        record = _read_record(self.cursor)
        if record.name:
            self.count_attribute()
            group.attributes.append(IppAttribute(record.name, [self.value_from(record, record.name, 0)]))
        elif group.attributes:
            current = group.attributes[-1]
            self.append_value(current, self.value_from(record, current.name, 0))
        else:
            raise IppParseError("additional value without an attribute")


def parse_message(data: bytes, limits: IppLimits | None = None) -> tuple[IppMessage, int]:
    """Parse one IPP message; returns it and the offset of the first document byte.

    Raises ``IppIncomplete`` if ``data`` stops before the end-of-attributes tag and
    ``IppParseError`` (with ``status``) if it is malformed or breaks ``limits``.
    """
    cursor = _Cursor(data, limits or IppLimits())
    major, minor = cursor.u8(), cursor.u8()
    code = cursor.u16()
    request_id: int = struct.unpack(">i", cursor.take(4))[0]
    message = IppMessage((major, minor), code, request_id)
    message.groups = _Parser(cursor).groups()
    return message, cursor.offset


def peek_request_id(data: bytes | bytearray) -> int:
    """The request-id of a (possibly malformed) message, or 0 if too short to tell."""
    if len(data) < 8:
        return 0
    request_id: int = struct.unpack(">i", data[4:8])[0]
    return request_id


# --------------------------------------------------------------------------- encoding


def _encode_with_language(value: object) -> bytes:
    pair = value if isinstance(value, tuple) else ("", value)
    language_bytes, text_bytes = str(pair[0]).encode("ascii"), str(pair[1]).encode("utf-8")
    return (
        struct.pack(">H", len(language_bytes))
        + language_bytes
        + struct.pack(">H", len(text_bytes))
        + text_bytes
    )


def _encode_scalar(tag: int, value: object) -> bytes:
    if tag in (Tag.INTEGER, Tag.ENUM):
        return struct.pack(">i", value)
    if tag == Tag.BOOLEAN:
        return b"\x01" if value else b"\x00"
    if tag == Tag.RESOLUTION:
        return struct.pack(">iib", *value)  # type: ignore[misc]
    if tag == Tag.RANGE_OF_INTEGER:
        return struct.pack(">ii", *value)  # type: ignore[misc]
    if tag in (Tag.TEXT_WITH_LANGUAGE, Tag.NAME_WITH_LANGUAGE):
        return _encode_with_language(value)
    if value is None:
        return b""
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8")


def _record(tag: int, name: str, value: bytes) -> bytes:
    name_bytes = name.encode("ascii")
    if len(value) > 0xFFFF:
        raise ValueError(f"value of {name or 'additional value'} is longer than 65535 bytes")
    return (
        bytes([tag]) + struct.pack(">H", len(name_bytes)) + name_bytes + struct.pack(">H", len(value)) + value
    )


def _encode_attribute(attribute: IppAttribute, *, member: bool = False) -> Iterable[bytes]:
    for index, value in enumerate(attribute.values):
        name = "" if member or index else attribute.name
        if value.tag == Tag.BEGIN_COLLECTION:
            yield _record(Tag.BEGIN_COLLECTION, name, b"")
            for item in value.value:  # type: ignore[attr-defined]
                yield _record(Tag.MEMBER_NAME, "", item.name.encode("ascii"))
                yield from _encode_attribute(item, member=True)
            yield _record(Tag.END_COLLECTION, "", b"")
        else:
            yield _record(value.tag, name, _encode_scalar(value.tag, value.value))


def encode_message(message: IppMessage) -> bytes:
    """Serialise a message (without document data)."""
    parts = [
        bytes(message.version),
        struct.pack(">Hi", message.code, message.request_id),
    ]
    for group in message.groups:
        parts.append(bytes([group.tag]))
        for attribute in group.attributes:
            parts.extend(_encode_attribute(attribute))
    parts.append(bytes([Tag.END]))
    return b"".join(parts)
