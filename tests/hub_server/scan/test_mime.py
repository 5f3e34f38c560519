"""Scan MIME parsing: what devices send, split sends, duplicates, bounds, and fuzzed garbage."""

from __future__ import annotations

import base64
import io
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from hub_server.scan import MimeError, MimeLimits, ScanMessage, parse_scan_message
from hub_server.scan.mime import DuplicateFilter, SplitAssembler, sniff_scan_kind
from hw_sim.mfp.scan_to_email import VENDOR_STYLES, ScanToEmail

PDF = b"%PDF-1.4\n%fake but signed like a PDF\n"


def huge_tiff_header() -> bytes:
    """A 1x1 TIFF whose header is changed to claim 100000 x 100000 pixels (a decompression bomb)."""
    out = io.BytesIO()
    Image.new("L", (1, 1)).save(out, "TIFF")
    data = bytearray(out.getvalue())
    ifd = struct.unpack_from("<I", data, 4)[0]
    for index in range(struct.unpack_from("<H", data, ifd)[0]):
        entry = ifd + 2 + 12 * index
        tag, kind = struct.unpack_from("<HH", data, entry)
        if tag in (256, 257):  # ImageWidth, ImageLength
            struct.pack_into("<I" if kind == 4 else "<H", data, entry + 8, 100_000 if kind == 4 else 60_000)
    return bytes(data)


def tiff(pages: int, size: tuple[int, int] = (40, 30)) -> bytes:
    out = io.BytesIO()
    frames = [Image.new("L", size, 10 * index) for index in range(pages)]
    frames[0].save(out, "TIFF", save_all=True, append_images=frames[1:])
    return out.getvalue()


def message(*parts: bytes, subject: str = "Scan from KM_C300i", message_id: str = "<1@mfp>") -> bytes:
    body = b"".join(b"--b\r\n" + part + b"\r\n" for part in parts)
    return (
        f"Message-ID: {message_id}\r\nSubject: {subject}\r\nMIME-Version: 1.0\r\n".encode()
        + b"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
        + body
        + b"--b--\r\n"
    )


def attachment(data: bytes, name: str = "scan.pdf", content_type: str = "application/pdf") -> bytes:
    encoded = base64.encodebytes(data)
    return (
        f'Content-Type: {content_type}\r\nContent-Disposition: attachment; filename="{name}"\r\n'.encode()
        + b"Content-Transfer-Encoding: base64\r\n\r\n"
        + encoded
    )


TEXT_8BIT = (
    "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nGrüße\r\n".encode()
)


def test_what_devices_send() -> None:
    parsed = parse_scan_message(
        message(
            TEXT_8BIT,
            attachment(PDF),
            attachment(tiff(3), "=?utf-8?q?B=C3=BCro.tif?=", "application/octet-stream"),
        )
    )
    assert parsed.message_id == "<1@mfp>" and parsed.subject == "Scan from KM_C300i"
    assert [(a.file_name, a.kind) for a in parsed.attachments] == [("scan.pdf", "pdf"), ("Büro.tif", "tiff")]
    assert parsed.attachments[0].data == PDF and parsed.split is None


def test_sniffing_trusts_bytes_not_labels() -> None:
    assert [sniff_scan_kind(d) for d in (PDF, tiff(1), b"\xff\xd8\xff\xe0", b"PK\x03\x04")] == [
        "pdf",
        "tiff",
        "jpeg",
        None,
    ]
    with pytest.raises(MimeError, match="application/pdf is not a PDF"):
        parse_scan_message(message(attachment(b"PK\x03\x04 a zip named .pdf")))


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"plain text, no MIME\r\n", "no PDF, TIFF or JPEG"),
        (message(attachment(b"PK\x03\x04", "bomb.zip", "application/zip")), "application/zip"),
        (message(*[attachment(PDF)] * 40), "more than 32 attachments"),
        (
            message(attachment(huge_tiff_header(), "big.tif", "image/tiff")),
            "DecompressionBomb|over the limit",
        ),
        (message(attachment(b"II*\x00garbage", "bad.tif", "image/tiff")), "does not open"),
        (
            b"Subject: x\r\nContent-Type: multipart/mixed; boundary=a\r\n\r\n"
            + b"--a\r\nContent-Type: multipart/mixed; boundary=a\r\n\r\n" * 20,
            "",
        ),
    ],
)
def test_refused(raw: bytes, reason: str) -> None:
    with pytest.raises(MimeError, match=reason):
        parse_scan_message(raw, MimeLimits(image_pixels_max=100_000_000))


def test_size_bound() -> None:
    with pytest.raises(MimeError, match="message over 100 bytes"):
        parse_scan_message(message(attachment(PDF)), MimeLimits(message_bytes_max=100))


def _device_messages(split_style: str) -> list[bytes]:
    """The simulated MFP's split messages, captured instead of sent."""
    scanner = ScanToEmail("127.0.0.2", "127.0.0.1", 1, "km@mfp", "scan@hub", VENDOR_STYLES["konica"])
    captured: list[bytes] = []
    scanner._send = lambda raw: captured.append(raw)  # type: ignore[method-assign,assignment,return-value]
    pages = [Image.new("L", (300, 300), 40 * index) for index in range(3)]
    scanner.scan(pages, file_format="tiff", split_bytes=900, split_style=split_style)
    return captured


@pytest.mark.parametrize("split_style", ["partial", "subject"])
def test_split_sends_reassemble_in_any_order(split_style: str) -> None:
    pieces = _device_messages(split_style)
    assert len(pieces) > 2
    assembler = SplitAssembler()
    results = [assembler.add("p1", parse_scan_message(raw)) for raw in reversed(pieces)]
    assert results[:-1] == [None] * (len(pieces) - 1)
    whole = results[-1]
    assert whole is not None and [a.kind for a in whole.attachments] == ["tiff"]
    with Image.open(io.BytesIO(whole.attachments[0].data)) as image:
        assert image.n_frames == 3  # type: ignore[attr-defined]
    assert whole.split is None and whole.partial is None


def test_split_pieces_of_two_printers_do_not_mix() -> None:
    pieces = _device_messages("subject")
    assembler = SplitAssembler()
    assert assembler.add("p1", parse_scan_message(pieces[0])) is None
    for raw in pieces[1:]:
        assert assembler.add("p2", parse_scan_message(raw)) is None


def test_stale_split_pieces_expire_and_bounds_hold() -> None:
    now = [0.0]
    assembler = SplitAssembler(MimeLimits(split_timeout_s=60), clock=lambda: now[0])
    pieces = _device_messages("partial")
    assert assembler.add("p1", parse_scan_message(pieces[0])) is None
    now[0] = 61
    assert assembler.add("p1", parse_scan_message(pieces[1])) is None
    assert len(assembler.expired) == 1
    tight = SplitAssembler(MimeLimits(split_pending_bytes_max=1000))
    with pytest.raises(MimeError, match="too many bytes"):
        for raw in pieces:
            tight.add("p1", parse_scan_message(raw))


def test_duplicates_are_message_id_and_content() -> None:
    seen = DuplicateFilter(capacity=2)
    first = parse_scan_message(message(attachment(PDF)))
    other_content = parse_scan_message(message(attachment(PDF + b"x")))
    assert not seen.is_duplicate("p1", first)
    assert seen.is_duplicate("p1", first)
    assert not seen.is_duplicate("p2", first)  # another printer
    assert not seen.is_duplicate("p1", other_content)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000))
def test_garbage_is_a_mime_error_or_a_scan(raw: bytes) -> None:
    try:
        parsed = parse_scan_message(raw)
    except MimeError as error:
        assert error.reply.startswith("554 ")
    else:
        assert isinstance(parsed, ScanMessage)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_device_mail_is_a_mime_error_or_a_scan(data: st.DataObject) -> None:
    raw = bytearray(message(TEXT_8BIT, attachment(tiff(2))))
    for _ in range(data.draw(st.integers(1, 5))):
        at = data.draw(st.integers(0, len(raw)))
        raw[at : at + 4] = data.draw(st.binary(min_size=0, max_size=6))
    try:
        parsed = parse_scan_message(bytes(raw))
    except MimeError:
        return
    assert all(a.kind in ("pdf", "tiff", "jpeg") for a in parsed.attachments)
