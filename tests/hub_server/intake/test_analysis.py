"""Document analysis with real Ghostscript: pages, colour per page, paper, thumbnail, bombs."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import pytest

from hub_server.intake import AnalysisLimits, analyze_file
from hub_server.intake.analysis import paper_name, parse_pjl_header, sniff_format
from tests.hub_server.intake.pcl_writer import XlWriter, esc, pjl, pjl_end

UEL = b"\x1b%-12345X"


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", ["pdf", "ps"])
async def test_mono_and_colour_pages(documents: dict[str, Path], kind: str) -> None:
    analysis = await analyze_file(documents[kind])
    assert analysis.error is None
    assert analysis.page_count == 2
    assert [page.color for page in analysis.pages] == [False, True]
    assert analysis.color_page_count == 1
    assert analysis.papers == ("iso_a4_210x297mm",)  # portrait page 1, landscape page 2
    mono, colour = analysis.pages
    assert mono.coverage_cmyk is not None and colour.coverage_cmyk is not None
    assert mono.coverage_cmyk[:3] == (0.0, 0.0, 0.0) and mono.coverage_cmyk[3] > 0
    assert (
        colour.coverage_cmyk[0] == 0.0 and colour.coverage_cmyk[1] > 0.05 and colour.coverage_cmyk[2] > 0.05
    )
    assert analysis.thumbnail_png is not None and analysis.thumbnail_png.startswith(b"\x89PNG\r\n\x1a\n")


@pytest.mark.asyncio
async def test_pjl_wrapped_postscript_reads_settings_and_pages(
    tmp_path: Path, documents: dict[str, Path]
) -> None:
    job = tmp_path / "job.prn"
    job.write_bytes(
        UEL
        + b'@PJL JOB NAME="x"\r\n@PJL SET QTY=3\r\n@PJL SET DUPLEX=ON\r\n@PJL SET RENDERMODE=GRAYSCALE\r\n'
        b"@PJL ENTER LANGUAGE=POSTSCRIPT\r\n" + documents["ps"].read_bytes() + UEL
    )
    analysis = await analyze_file(job)
    assert analysis.document_format == "application/vnd.hp-pjl"
    assert (
        analysis.document_settings.copies,
        analysis.document_settings.duplex,
        analysis.document_settings.grayscale,
    ) == (3, True, True)
    assert analysis.page_count == 2 and analysis.color_page_count == 1


@pytest.mark.asyncio
async def test_pcl_xl_behind_pjl_is_counted_in_a_subprocess(tmp_path: Path) -> None:
    writer = XlWriter().begin_session()
    writer.begin_page(duplex=True).gray_brush(0).rectangle().end_page(copies=3)
    writer.begin_page(duplex=True).color_space(2).null_pen().rgb_brush(200, 10, 10).rectangle().end_page(
        copies=3
    )
    job = tmp_path / "job.prn"
    job.write_bytes(pjl("SET DUPLEX=ON") + writer.end_session().bytes() + pjl_end())
    analysis = await analyze_file(job)
    assert (analysis.document_format, analysis.error) == ("application/vnd.hp-pjl", None)
    assert (analysis.page_count, analysis.color_page_count) == (2, 1)
    assert (analysis.document_settings.copies, analysis.document_settings.duplex) == (3, True)
    assert analysis.papers == ("iso_a4_210x297mm",)
    assert analysis.document_settings.language == "PCLXL"


@pytest.mark.asyncio
async def test_pcl_copies_that_differ_per_page_price_every_impression(tmp_path: Path) -> None:
    writer = XlWriter().begin_session()
    writer.begin_page().rectangle().end_page()
    writer.begin_page(media=0).rectangle().end_page(copies=3)
    job = tmp_path / "job.prn"
    job.write_bytes(pjl("SET RENDERMODE=GRAYSCALE") + writer.end_session().bytes() + pjl_end())
    analysis = await analyze_file(job)
    # one A4 page once, one Letter page three times: four impressions of one copy
    assert (analysis.page_count, analysis.document_settings.copies) == (4, 1)
    assert [page.paper for page in analysis.pages] == ["iso_a4_210x297mm"] + ["na_letter_8.5x11in"] * 3
    assert analysis.document_settings.grayscale is True


@pytest.mark.asyncio
async def test_headerless_pcl_is_known_by_its_first_bytes(tmp_path: Path) -> None:
    writer = XlWriter().begin_session()
    writer.begin_page().color_space(2).null_pen().rgb_brush(0, 0, 255).rectangle().end_page()
    job = tmp_path / "job.pcl"
    job.write_bytes(writer.end_session().bytes())
    analysis = await analyze_file(job)
    assert (analysis.document_format, analysis.page_count, analysis.color_page_count) == (
        "application/vnd.hp-pcl",
        1,
        1,
    )
    pcl5 = tmp_path / "job5.pcl"
    pcl5.write_bytes(esc("E") + b"page one" + b"\x0c" + b"page two" + b"\x0c" + esc("E"))
    analysis = await analyze_file(pcl5)
    assert (analysis.document_format, analysis.page_count, analysis.error) == (
        "application/vnd.hp-pcl",
        2,
        None,
    )


@pytest.mark.asyncio
async def test_a_pcl_job_that_cannot_be_counted_says_why(tmp_path: Path) -> None:
    writer = XlWriter().begin_session()
    writer.begin_page().rectangle().end_page(copies=3)
    job = tmp_path / "job.prn"
    job.write_bytes(pjl("SET COPIES=2") + writer.end_session().bytes() + pjl_end())
    analysis = await analyze_file(job)
    assert analysis.page_count is None and analysis.pages == ()
    assert analysis.error == (
        "cannot be counted: PJL asks for 2 copies and PCL for 3: devices disagree which wins"
    )
    assert analysis.document_settings.copies == 2  # what the PJL header says, for the record


@pytest.mark.asyncio
async def test_an_empty_pcl_job_has_no_pages(tmp_path: Path) -> None:
    job = tmp_path / "job.pcl"
    job.write_bytes(UEL + b"@PJL SET COPIES=2\r\n@PJL ENTER LANGUAGE=PCL\r\n\x1bE\x1b&l1S" + UEL)
    analysis = await analyze_file(job)
    assert (analysis.page_count, analysis.error, analysis.document_settings.language) == (0, None, "PCL")


@pytest.mark.asyncio
async def test_postscript_endless_loop_is_killed_at_the_timeout(tmp_path: Path) -> None:
    bomb = tmp_path / "loop.ps"
    bomb.write_bytes(b"%!PS\n{ 1 pop } loop\n")
    analysis = await analyze_file(bomb, AnalysisLimits(timeout_s=2.0))
    assert analysis.page_count is None
    assert analysis.error == "ghostscript timed out after 2.0 s"


@pytest.mark.asyncio
async def test_memory_bomb_hits_the_address_space_limit(tmp_path: Path) -> None:
    # Asks for ~2 GB of strings; the rlimit (256 MB here) makes gs fail instead of the hub swapping.
    bomb = tmp_path / "memory.ps"
    bomb.write_bytes(b"%!PS\n/a 40 array def 0 1 39 { a exch 50000000 string put } for showpage\n")
    analysis = await analyze_file(bomb, AnalysisLimits(timeout_s=30.0, memory_bytes_max=256 * 1024 * 1024))
    assert analysis.page_count is None
    assert analysis.error is not None and analysis.error.startswith("ghostscript failed")


@pytest.mark.asyncio
async def test_recursive_form_pdf_bomb_is_killed_at_the_timeout(tmp_path: Path) -> None:
    # Form n draws form n+1 sixteen times, 12 levels deep: 16**12 fills if rendered naively.
    depth = 12
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /XObject << /F 5 0 R >> >>"
        b" /Contents 4 0 R >>",
        _stream(b"<<", b"/F Do"),
    ]
    draw_many = b" ".join(b"q 0.99 0 0 0.99 %d 1 cm /F Do Q" % i for i in range(16))
    for level in range(depth):
        last = level == depth - 1
        resources = b"<< >>" if last else b"<< /XObject << /F %d 0 R >> >>" % (6 + level)
        objects.append(
            _stream(
                b"<< /Type /XObject /Subtype /Form /BBox [0 0 595 842] /Resources %s" % resources,
                b"0 0 1 rg 0 0 10 10 re f" if last else draw_many,
            )
        )
    bomb = tmp_path / "forms.pdf"
    bomb.write_bytes(_pdf(objects))
    analysis = await analyze_file(bomb, AnalysisLimits(timeout_s=3.0))
    assert analysis.page_count is None
    assert analysis.error == "ghostscript timed out after 3.0 s"


def _stream(dictionary_head: bytes, data: bytes) -> bytes:
    return dictionary_head + b" /Length %d >>\nstream\n%s\nendstream" % (len(data), data)


def _pdf(objects: list[bytes]) -> bytes:
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


@pytest.mark.parametrize(
    ("head", "mime"),
    [
        (b"%PDF-1.7", "application/pdf"),
        (b"%!PS-Adobe", "application/postscript"),
        (b"RaS2", "image/pwg-raster"),
        (UEL + b"@PJL", "application/vnd.hp-pjl"),
        (b"\x1bE", "application/vnd.hp-pcl"),
        (b") HP-PCL XL;2;0", "application/vnd.hp-pcl"),
        (b"GIF89a", "application/octet-stream"),
    ],
)
def test_sniff_format(head: bytes, mime: str) -> None:
    assert sniff_format(head) == mime


def test_paper_names_either_orientation() -> None:
    assert paper_name(595, 842) == paper_name(842, 595) == "iso_a4_210x297mm"
    assert paper_name(612, 792) == "na_letter_8.5x11in"
    assert paper_name(100, 100) is None


def test_pjl_header_hostile_values_ignored() -> None:
    settings, offset = parse_pjl_header(b"@PJL SET COPIES=999999999\r\n@PJL SET DUPLEX=MAYBE\r\n")
    assert (settings.copies, settings.duplex, offset) == (None, None, 0)


def _pwg(tmp_path: Path, source: Path, name: str, *options: str) -> Path:
    """PWG raster written by Ghostscript's own pwgraster device (not by our code)."""
    target = tmp_path / name
    subprocess.run(
        [
            "gs",
            "-q",
            "-dSAFER",
            "-dBATCH",
            "-dNOPAUSE",
            "-sDEVICE=pwgraster",
            "-r30",
            *options,
            "-o",
            str(target),
            str(source),
        ],
        check=True,
        timeout=60,
        capture_output=True,
    )
    return target


@pytest.mark.asyncio
async def test_pwg_raster_pages_size_and_colour(tmp_path: Path, documents: dict[str, Path]) -> None:
    srgb = _pwg(tmp_path, documents["ps"], "srgb.pwg", "-dcupsColorSpace=19", "-dcupsBitsPerColor=8")
    analysis = await analyze_file(srgb)
    assert analysis.error is None
    assert (analysis.document_format, analysis.page_count) == ("image/pwg-raster", 2)
    assert [(p.width_pt, p.height_pt, p.color) for p in analysis.pages] == [
        (595.0, 842.0, False),
        (842.0, 595.0, True),
    ]
    assert analysis.papers == ("iso_a4_210x297mm",)
    gray = await analyze_file(_pwg(tmp_path, documents["ps"], "gray.pwg", "-dcupsColorSpace=18"))
    assert [p.color for p in gray.pages] == [False, False]


@pytest.mark.asyncio
async def test_pwg_raster_truncated_or_hostile_is_an_error(
    tmp_path: Path, documents: dict[str, Path]
) -> None:
    data = _pwg(tmp_path, documents["ps"], "ok.pwg", "-dcupsColorSpace=19").read_bytes()
    cut = tmp_path / "cut.pwg"
    cut.write_bytes(data[:-5])  # inside the last page's compressed lines
    assert (await analyze_file(cut)).error == "raster scan failed: pwg raster: raster data truncated"
    huge = bytearray(data)
    huge[4 + 372 : 4 + 380] = struct.pack(">II", 2_000_000, 2_000_000)  # absurd width x height
    bad = tmp_path / "huge.pwg"
    bad.write_bytes(bytes(huge))
    error = (await analyze_file(bad)).error
    assert error is not None and "implausible page 2000000x2000000" in error
