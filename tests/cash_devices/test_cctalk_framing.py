"""ccTalk frames, byte for byte, against ../shared/reference/readers.md §4.1."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cash_devices.cctalk import (
    ChecksumMode,
    Frame,
    FrameReader,
    crc16_xmodem,
    decode_frame,
    encode_frame,
    open_link,
)
from cash_devices.errors import ConfigurationError, EchoError, FrameError, LineError, NakError, ReplyTimeout

SIMPLE = ChecksumMode.SIMPLE
CRC16 = ChecksumMode.CRC16

# (destination, source, header, data, exact bytes) from readers.md §4.1 (spec example, derived table)
SIMPLE_VECTORS = [
    (2, 1, 242, b"", "02 00 01 F2 0B"),  # spec §7.12: request serial number
    (1, 2, 0, bytes([0x4E, 0x61, 0xBC]), "01 03 02 00 4E 61 BC 8F"),  # its reply: 12,345,678
    (40, 1, 254, b"", "28 00 01 FE D9"),  # esnext-cctalk
    (2, 1, 254, b"", "02 00 01 FE FF"),
    (1, 2, 0, b"", "01 00 02 00 FD"),
    (1, 2, 5, b"", "01 00 02 05 F8"),
    (2, 1, 229, b"", "02 00 01 E5 18"),
    (2, 1, 231, b"\xff\xff", "02 02 01 E7 FF FF 16"),
    (2, 1, 228, b"\x01", "02 01 01 E4 01 17"),
    (2, 1, 227, b"", "02 00 01 E3 1A"),
    (2, 1, 184, b"\x01", "02 01 01 B8 01 43"),
    (1, 2, 0, b"EU200A", "01 06 02 00 45 55 32 30 30 41 8A"),
    (2, 1, 1, b"", "02 00 01 01 FC"),
    (2, 1, 245, b"", "02 00 01 F5 08"),
    (1, 2, 0, bytes(11), "01 0B 02 00 00 00 00 00 00 00 00 00 00 00 00 F2"),
    (1, 2, 0, bytes([1, 3, 1]) + bytes(8), "01 0B 02 00 01 03 01 00 00 00 00 00 00 00 00 ED"),
    (1, 2, 0, bytes([2, 0, 2, 3, 1]) + bytes(6), "01 0B 02 00 02 00 02 03 01 00 00 00 00 00 00 EA"),
]


@pytest.mark.parametrize(("dest", "src", "header", "data", "expected"), SIMPLE_VECTORS)
def test_simple_checksum_vectors(dest, src, header, data, expected):
    raw = bytes.fromhex(expected)
    assert encode_frame(dest, header, data, source=src, mode=SIMPLE) == raw
    assert decode_frame(raw, SIMPLE) == Frame(destination=dest, header=header, data=data, source=src)


def test_crc16_vector_simple_poll_to_bill_validator():
    raw = bytes.fromhex("28 00 B6 FE 21")  # esnext-cctalk 16-xmodemjs.test.js
    assert encode_frame(40, 254, mode=CRC16) == raw
    assert decode_frame(raw, CRC16) == Frame(destination=40, header=254, data=b"", source=None)


def test_crc16_xmodem_check_value():
    assert crc16_xmodem(b"123456789") == 0x31C3  # the published CRC-16/XMODEM check value


def test_crc16_round_trip_with_data_and_the_lsb_in_the_source_slot():
    raw = encode_frame(40, 231, b"\xff\xff", mode=CRC16)
    crc = crc16_xmodem(bytes([40, 2, 231, 0xFF, 0xFF]))
    assert raw == bytes([40, 2, crc & 0xFF, 231, 0xFF, 0xFF, crc >> 8])
    assert decode_frame(raw, CRC16).data == b"\xff\xff"


def test_serial_number_from_the_spec_example_is_little_endian():
    data = decode_frame(bytes.fromhex("01 03 02 00 4E 61 BC 8F")).data
    assert int.from_bytes(data, "little") == 12_345_678


@pytest.mark.parametrize(
    ("raw", "mode"),
    [
        ("02 00 01 FE FE", SIMPLE),  # checksum off by one
        ("28 00 B6 FE 22", CRC16),  # CRC high byte wrong
        ("28 00 B7 FE 21", CRC16),  # CRC low byte wrong
        ("28 00 01 FE D9", CRC16),  # a simple-checksum frame read in CRC mode
        ("02 01 01 FE FF", SIMPLE),  # announces one data byte, carries none
        ("02 00 01 FE", SIMPLE),  # truncated
    ],
)
def test_bad_frames_are_rejected(raw, mode):
    with pytest.raises(FrameError):
        decode_frame(bytes.fromhex(raw), mode)


def test_encode_refuses_out_of_range_fields():
    with pytest.raises(FrameError):
        encode_frame(256, 254)
    with pytest.raises(FrameError):
        encode_frame(2, 254, bytes(253))


def test_checksum_byte_is_zero_not_256_when_the_body_already_sums_to_zero():
    frame = encode_frame(0, 0, source=0)
    assert frame == bytes(5)  # the classic "256 - sum % 256" bug would raise here


def test_reader_splits_concatenated_frames_and_resyncs_after_garbage():
    reader = FrameReader(SIMPLE)
    good = bytes.fromhex("02 00 01 FE FF") + bytes.fromhex("01 06 02 00 45 55 32 30 30 41 8A")
    frames = reader.feed(b"\x07" + good[:7])
    frames += reader.feed(good[7:])
    assert [frame.header for frame in frames] == [254, 0]
    assert frames[1].data == b"EU200A"
    assert reader.rejected >= 1  # the stray 0x07 cost at least one rejection


@given(st.binary(max_size=600), st.sampled_from([SIMPLE, CRC16]))
@settings(max_examples=400, deadline=None)
def test_fuzz_reader_never_crashes_and_only_returns_valid_frames(garbage, mode):
    reader = FrameReader(mode)
    frames = reader.feed(garbage)
    for frame in frames:
        # every frame it returns must re-encode to valid bytes that decode to itself
        source = frame.source if frame.source is not None else 1
        raw = encode_frame(frame.destination, frame.header, frame.data, source=source, mode=mode)
        assert decode_frame(raw, mode) == frame
    assert reader.pending < 2 or reader.pending < reader._buffer[1] + 5


@given(
    st.integers(0, 255),
    st.integers(0, 255),
    st.binary(max_size=40),
    st.sampled_from([SIMPLE, CRC16]),
    st.data(),
)
@settings(max_examples=300, deadline=None)
def test_fuzz_round_trip_truncation_and_bit_flips(dest, header, data, mode, draw):
    raw = encode_frame(dest, header, data, mode=mode)
    assert decode_frame(raw, mode).data == data
    cut = draw.draw(st.integers(0, len(raw) - 1))
    with pytest.raises(FrameError):
        decode_frame(raw[:cut], mode)
    position = draw.draw(st.integers(2, len(raw) - 1))  # corrupt anything past [dest][n]
    flip = draw.draw(st.integers(1, 255))
    corrupted = bytearray(raw)
    corrupted[position] ^= flip
    # a single corrupted byte is always caught, by the sum and by the CRC alike
    with pytest.raises(FrameError):
        decode_frame(bytes(corrupted), mode)
    reader = FrameReader(mode)
    assert decode_frame(raw, mode) not in reader.feed(bytes(corrupted))
    assert reader.rejected >= 1


def test_link_transcript_serial_number_from_the_spec(scripted_line):
    line = scripted_line({bytes.fromhex("02 00 01 F2 0B"): bytes.fromhex("01 03 02 00 4E 61 BC 8F")})
    link = open_link(line.path, timeout_s=0.5)
    try:
        assert link.request(2, 242) == bytes([0x4E, 0x61, 0xBC])
    finally:
        link.close()
    assert line.heard == [bytes.fromhex("02 00 01 F2 0B")]


def test_link_crc16_mode_poll(scripted_line):
    ack = encode_frame(1, 0, mode=CRC16)
    line = scripted_line({bytes.fromhex("28 00 B6 FE 21"): ack})
    link = open_link(line.path, mode="crc16", timeout_s=0.5)
    try:
        assert link.request(40, 254) == b""
    finally:
        link.close()


def test_link_nak_is_an_error(scripted_line):
    line = scripted_line({bytes.fromhex("02 00 01 FE FF"): bytes.fromhex("01 00 02 05 F8")})
    link = open_link(line.path, timeout_s=0.5)
    try:
        with pytest.raises(NakError):
            link.request(2, 254)
    finally:
        link.close()


def test_link_missing_echo_is_a_wiring_error(scripted_line):
    line = scripted_line({bytes.fromhex("02 00 01 FE FF"): b""}, echo=False)
    link = open_link(line.path, timeout_s=0.2)
    try:
        with pytest.raises(EchoError, match="wiring"):
            link.request(2, 254)
    finally:
        link.close()


def test_link_without_echo_when_configured(scripted_line):
    line = scripted_line({bytes.fromhex("02 00 01 FE FF"): bytes.fromhex("01 00 02 00 FD")}, echo=False)
    link = open_link(line.path, echo=False, timeout_s=0.5)
    try:
        assert link.request(2, 254) == b""
    finally:
        link.close()


def test_link_timeout_is_retried_then_raised_and_counted(scripted_line):
    line = scripted_line({bytes.fromhex("02 00 01 FE FF"): b""})  # echo only, never a reply
    link = open_link(line.path, timeout_s=0.1, retries=2)
    try:
        with pytest.raises(ReplyTimeout):
            link.request(2, 254)
    finally:
        link.close()
    assert link.timeouts == 3
    assert len(line.heard) == 3


def test_link_corrupt_reply_is_repeated_at_once_and_counted(scripted_line):
    corrupt, good = bytes.fromhex("01 00 02 00 FE"), bytes.fromhex("01 00 02 00 FD")  # one bit flipped
    line = scripted_line({bytes.fromhex("02 00 01 FE FF"): [corrupt, good]})
    link = open_link(line.path, timeout_s=0.5)
    try:
        assert link.request(2, 254) == b""
    finally:
        link.close()
    assert (link.frames_rejected, link.repeats, link.timeouts, len(line.heard)) == (1, 1, 0, 2)


def test_link_corrupt_replies_every_time_are_counted_and_raised(scripted_line):
    line = scripted_line({bytes.fromhex("02 00 01 FE FF"): bytes.fromhex("01 00 02 00 FE")})
    link = open_link(line.path, timeout_s=0.5, retries=2)
    try:
        with pytest.raises(FrameError, match="checksum mismatch"):
            link.request(2, 254)
    finally:
        link.close()
    assert (link.frames_rejected, link.repeats, len(line.heard)) == (3, 2, 3)


def test_link_reply_from_the_wrong_device_is_rejected(scripted_line):
    line = scripted_line({bytes.fromhex("02 00 01 FE FF"): encode_frame(1, 0, source=3)})
    link = open_link(line.path, timeout_s=0.5)
    try:
        with pytest.raises(FrameError, match="from 3"):
            link.request(2, 254)
    finally:
        link.close()


def test_open_link_rejects_bad_settings():
    with pytest.raises(ConfigurationError):
        open_link("loop://", mode="parity")
    with pytest.raises(ConfigurationError):
        open_link("nosuchscheme://x")


def test_link_with_another_host_address(scripted_line):
    line = scripted_line({bytes.fromhex("02 00 09 FE F7"): bytes.fromhex("09 00 02 00 F5")})
    link = open_link(line.path, host_address=9, timeout_s=0.5)
    try:
        assert link.request(2, 254) == b""
    finally:
        link.close()
    assert line.heard == [bytes.fromhex("02 00 09 FE F7")]


def test_reader_survives_a_large_burst_of_noise(caplog):
    import random

    noise = random.Random(1).randbytes(200_000)
    reader = FrameReader(SIMPLE)
    reader.feed(noise)
    assert reader.rejected > 1000
    assert len(caplog.records) == 1  # one clear line for the whole burst
    good = bytes.fromhex("01 06 02 00 45 55 32 30 30 41 8A")
    # no sync byte in ccTalk: leftover noise can hold one frame length (≤ 260 bytes) hostage,
    # after which the reader is back in step with the traffic
    frames = reader.feed(good * 30)
    assert frames[-5:] == [decode_frame(good)] * 5
    assert frames.count(decode_frame(good)) >= 30 - 260 // len(good) - 1


def test_a_closed_port_is_a_line_error():
    link = open_link("loop://", timeout_s=0.1)
    link.close()
    with pytest.raises(LineError):
        link.request(2, 254)
