"""What phones send: JPEG photos and Apple raster (``image/urf``) accepted, analysed (pages,
colour) and held like any document; Close-Job and Identify-Printer (PWG 5100.11)."""

from __future__ import annotations

import io
import struct

import pytest
from PIL import Image

from hub_server.intake import InMemoryJobRegistry, IntakeServer, JobState, Operation, Status, Tag
from hub_server.intake.analysis import jpeg_components
from hub_server.intake.errors import AnalysisError

from .ipp_client import attribute, ipp, request

pytestmark = pytest.mark.asyncio


def jpeg(mode: str) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (64, 48), "red" if mode == "RGB" else 128).save(buffer, "JPEG")
    return buffer.getvalue()


def urf_page(width: int, height: int, dpi: int, rgb: tuple[int, int, int], duplex: int = 1) -> bytes:
    """One Apple raster page of 24-bit sRGB in one colour: lines repeated up to 256 times each,
    pixels in runs of up to 128."""
    header = struct.pack(">BBBBII", 24, 1, duplex, 4, 0, 0) + struct.pack(">IIIII", width, height, dpi, 0, 0)
    runs = b"".join(bytes([min(128, width - x) - 1, *rgb]) for x in range(0, width, 128))
    lines = b"".join(bytes([min(256, height - y) - 1]) + runs for y in range(0, height, 256))
    return header + lines


def urf(*pages: bytes) -> bytes:
    return b"UNIRAST\0" + struct.pack(">I", len(pages)) + b"".join(pages)


async def print_document(
    intake: IntakeServer, registry: InMemoryJobRegistry, document_format: str, data: bytes
) -> object:
    body = request(Operation.PRINT_JOB, (Tag.MIME_MEDIA_TYPE, "document-format", document_format))
    response = await ipp(intake.ipp_port, body + data)
    assert response.code == Status.OK, response
    await intake.service.wait_idle()
    record = registry.get_job(attribute(response, Tag.JOB, "job-id"))  # type: ignore[arg-type]
    assert record is not None and record.state == JobState.PENDING_HELD
    return record


@pytest.mark.parametrize(("mode", "color"), [("RGB", True), ("L", False)])
async def test_a_jpeg_photo_is_one_page_priced_by_its_colour(
    intake: IntakeServer, registry: InMemoryJobRegistry, mode: str, color: bool
) -> None:
    record = await print_document(intake, registry, "image/jpeg", jpeg(mode))
    analysis = record.analysis  # type: ignore[attr-defined]
    assert (analysis.document_format, analysis.page_count, analysis.color_page_count) == (
        "image/jpeg",
        1,
        1 if color else 0,
    )


async def test_apple_raster_pages_sizes_and_colour_are_counted(
    intake: IntakeServer, registry: InMemoryJobRegistry
) -> None:
    a4_300 = (2480, 3508, 300)
    data = urf(
        urf_page(*a4_300, (255, 255, 255)), urf_page(*a4_300, (200, 0, 0)), urf_page(*a4_300, (9, 9, 9))
    )
    record = await print_document(intake, registry, "image/urf", data)
    analysis = record.analysis  # type: ignore[attr-defined]
    assert (analysis.page_count, analysis.color_page_count) == (3, 1)
    assert analysis.papers == ("iso_a4_210x297mm",)  # distinct paper sizes, in order


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (urf(urf_page(8, 4, 300, (0, 0, 0)))[:-2], "raster data truncated"),
        (b"UNIRAST\0" + struct.pack(">I", 2) + urf_page(8, 4, 300, (0, 0, 0)), "announces 2 pages"),
        (b"UNIRAST\0" + struct.pack(">I", 1) + urf_page(0, 4, 300, (0, 0, 0)), "implausible"),
    ],
)
async def test_malformed_apple_raster_is_held_with_an_analysis_error(
    intake: IntakeServer, registry: InMemoryJobRegistry, data: bytes, error: str
) -> None:
    record = await print_document(intake, registry, "image/urf", data)
    analysis = record.analysis  # type: ignore[attr-defined]
    assert analysis.page_count is None and error in analysis.error


def test_jpeg_without_a_frame_header_is_refused() -> None:
    assert jpeg_components(jpeg("RGB")) == 3
    with pytest.raises(AnalysisError, match="no frame header"):
        jpeg_components(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 7)
    with pytest.raises(AnalysisError, match="marker expected"):
        jpeg_components(b"\xff\xd8garbage")


async def test_close_job_cancels_a_job_closed_before_its_document(
    intake: IntakeServer, registry: InMemoryJobRegistry
) -> None:
    created = await ipp(intake.ipp_port, request(Operation.CREATE_JOB))
    job_id = attribute(created, Tag.JOB, "job-id")
    closed = await ipp(intake.ipp_port, request(Operation.CLOSE_JOB, (Tag.INTEGER, "job-id", job_id)))
    assert closed.code == Status.OK
    assert registry.get_job(job_id).state == JobState.CANCELED  # type: ignore[arg-type,union-attr]
    other = await ipp(
        intake.ipp_port, request(Operation.CLOSE_JOB, (Tag.INTEGER, "job-id", job_id), user="mallory")
    )
    assert other.code == Status.NOT_AUTHORIZED


async def test_identify_printer_is_counted_and_only_display_is_accepted(intake: IntakeServer) -> None:
    assert (await ipp(intake.ipp_port, request(Operation.IDENTIFY_PRINTER))).code == Status.OK
    sound = request(Operation.IDENTIFY_PRINTER, (Tag.KEYWORD, "identify-actions", "sound"))
    assert (await ipp(intake.ipp_port, sound)).code == Status.ATTRIBUTES_OR_VALUES_NOT_SUPPORTED
    assert intake.service.counters["identify_requested"] == 1
