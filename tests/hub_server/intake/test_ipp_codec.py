"""The IPP codec against hand-assembled RFC 8010 bytes, bounds, and hostile input."""

from __future__ import annotations

import contextlib
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub_server.intake import (
    IppIncomplete,
    IppLimits,
    IppMessage,
    IppParseError,
    Tag,
    encode_message,
    parse_message,
)
from hub_server.intake.ipp_codec import IppAttribute, IppValue


def record(tag: int, name: str, value: bytes) -> bytes:
    """One attribute-with-one-value record exactly as RFC 8010 section 3.1.4 lays it out."""
    raw_name = name.encode()
    return bytes([tag]) + struct.pack(">H", len(raw_name)) + raw_name + struct.pack(">H", len(value)) + value


HEAD = b"\x01\x01\x00\x0b\x00\x00\x00\x01"  # IPP/1.1 Get-Printer-Attributes, request-id 1
OP = HEAD + b"\x01"  # ... followed by the operation group tag

# Get-Printer-Attributes, request-id 7, IPP/1.1, with a two-valued requested-attributes.
GOLDEN_REQUEST = (
    b"\x01\x01\x00\x0b\x00\x00\x00\x07"
    + b"\x01"
    + record(0x47, "attributes-charset", b"utf-8")
    + record(0x48, "attributes-natural-language", b"en")
    + record(0x45, "printer-uri", b"ipp://localhost/ipp/print")
    + record(0x44, "requested-attributes", b"printer-name")
    + record(0x44, "", b"printer-state")
    + b"\x03"
)


def test_golden_request_parses_to_exact_values() -> None:
    message, offset = parse_message(GOLDEN_REQUEST + b"%PDF-1.4")
    assert (message.version, message.code, message.request_id) == ((1, 1), 0x000B, 7)
    assert offset == len(GOLDEN_REQUEST)
    group = message.group(Tag.OPERATION)
    assert group is not None
    assert [a.name for a in group.attributes] == [
        "attributes-charset",
        "attributes-natural-language",
        "printer-uri",
        "requested-attributes",
    ]
    assert [v.value for v in group.attributes[3].values] == ["printer-name", "printer-state"]


def test_encode_reproduces_golden_bytes() -> None:
    message, _ = parse_message(GOLDEN_REQUEST)
    assert encode_message(message) == GOLDEN_REQUEST


def test_every_value_syntax_round_trips() -> None:
    message = IppMessage((2, 0), 0x0000, 99)
    group = message.new_group(Tag.PRINTER)
    group.add("int", Tag.INTEGER, -5, 2**31 - 1)
    group.add("bool", Tag.BOOLEAN, True, False)
    group.add("enum", Tag.ENUM, 3)
    group.add("octets", Tag.OCTET_STRING, b"\x00\xff")
    group.add("when", Tag.DATE_TIME, b"\x07\xea\x0b\x1b\x09\x1e\x00\x00+\x00\x00")
    group.add("res", Tag.RESOLUTION, (600, 300, 3))
    group.add("range", Tag.RANGE_OF_INTEGER, (1, 999))
    group.add("text-lang", Tag.TEXT_WITH_LANGUAGE, ("de", "Grüße"))
    group.add("name", Tag.NAME, "Zoë")
    group.add("none", Tag.NO_VALUE, None)
    group.add("col", Tag.BEGIN_COLLECTION, [IppAttribute("x-dimension", [IppValue(Tag.INTEGER, 21000)])])
    parsed, _ = parse_message(encode_message(message))
    assert parsed == message


def test_collection_wire_format_matches_rfc_8010_3_1_6() -> None:
    col = [IppAttribute("x-dimension", [IppValue(Tag.INTEGER, 21000)])]
    message = IppMessage((1, 1), 0, 1, [])
    message.new_group(Tag.JOB).add("media-size", Tag.BEGIN_COLLECTION, col)
    expected = (
        b"\x01\x01\x00\x00\x00\x00\x00\x01\x02"
        + record(0x34, "media-size", b"")
        + record(0x4A, "", b"x-dimension")
        + record(0x21, "", struct.pack(">i", 21000))
        + record(0x37, "", b"")
        + b"\x03"
    )
    assert encode_message(message) == expected


def test_unknown_value_tag_is_kept_opaque_and_unknown_group_kept() -> None:
    data = OP + record(0x5F, "future-attr", b"\x01\x02") + b"\x0e"
    data += record(0x21, "in-unknown-group", b"\x00\x00\x00\x01") + b"\x03"
    message, _ = parse_message(data)
    attribute = message.groups[0].attributes[0]
    assert (attribute.tag, attribute.first) == (0x5F, b"\x01\x02")
    assert message.groups[1].tag == 0x0E
    assert encode_message(message) == data


@pytest.mark.parametrize(
    ("data", "status", "fragment"),
    [
        (
            OP + record(0x21, "n", b"\x00\x01") + b"\x03",
            0x0400,
            "needs 4",
        ),
        (OP + record(0x22, "b", b"\x02") + b"\x03", 0x0400, "boolean"),
        (OP + record(0x42, "n", b"\xff\xfe") + b"\x03", 0x0400, "UTF-8"),
        (
            b"\x01\x01\x00\x0b\x00\x00\x00\x01" + record(0x21, "n", b"\0\0\0\1") + b"\x03",
            0x0400,
            "before the first",
        ),
        (
            OP + record(0x21, "", b"\0\0\0\1") + b"\x03",
            0x0400,
            "additional",
        ),
        (b"\x01\x01\x00\x0b\x00\x00\x00\x01\x00\x03", 0x0400, "0x00"),
        (OP + record(0x37, "x", b"") + b"\x03", 0x0400, "outside"),
    ],
)
def test_malformed_messages_get_bad_request(data: bytes, status: int, fragment: str) -> None:
    with pytest.raises(IppParseError) as caught:
        parse_message(data)
    assert caught.value.status == status
    assert fragment in str(caught.value)


def test_value_longer_than_limit_is_entity_too_large() -> None:
    data = OP + record(0x41, "t", b"a" * 5000) + b"\x03"
    with pytest.raises(IppParseError) as caught:
        parse_message(data, IppLimits(max_value_bytes=4096))
    assert caught.value.status == 0x0408


def test_ten_megabytes_of_attributes_rejected_at_the_byte_limit() -> None:
    # 10 MB of 60 KB text values (the wire maximum per value is 65535).
    value = record(0x41, "", b"x" * 60_000)
    data = OP + record(0x41, "big", b"x") + value * 170 + b"\x03"
    with pytest.raises(IppParseError) as caught:
        parse_message(data, IppLimits(max_value_bytes=65535))
    assert caught.value.status == 0x0408
    assert "exceeds 262144 bytes" in str(caught.value)


def test_attribute_count_and_collection_depth_limits() -> None:
    many = b"".join(record(0x21, f"a{i}", b"\0\0\0\1") for i in range(11))
    with pytest.raises(IppParseError, match="more than 10 attributes"):
        parse_message(b"\x01\x01\x00\x0b\x00\x00\x00\x01\x01" + many + b"\x03", IppLimits(max_attributes=10))
    nested = record(0x34, "c", b"") + (record(0x4A, "", b"m") + record(0x34, "", b"")) * 20
    with pytest.raises(IppParseError, match="nested deeper"):
        parse_message(b"\x01\x01\x00\x0b\x00\x00\x00\x01\x01" + nested)


def test_every_truncation_is_incomplete() -> None:
    for cut in range(len(GOLDEN_REQUEST)):
        with pytest.raises(IppIncomplete):
            parse_message(GOLDEN_REQUEST[:cut])


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2048))
def test_random_bytes_parse_or_raise_parse_error(data: bytes) -> None:
    try:
        message, offset = parse_message(data)
    except IppParseError as error:
        assert error.status in (0x0400, 0x0408)
        return
    assert 8 < offset <= len(data)
    assert encode_message(message)  # whatever parsed can be written back


@settings(max_examples=300)
@given(st.integers(min_value=8, max_value=len(GOLDEN_REQUEST) - 1), st.binary(min_size=1, max_size=8))
def test_mutated_golden_request_never_crashes(position: int, junk: bytes) -> None:
    mutated = GOLDEN_REQUEST[:position] + junk + GOLDEN_REQUEST[position + len(junk) :]
    with contextlib.suppress(IppParseError):
        parse_message(mutated)
