"""The PCL counter against jobs written here from the format references: exact pages, colour,
duplex, copies and media, and the cases it must refuse rather than guess."""

from __future__ import annotations

import io

import pytest

from hub_server.intake.pcl import PclCount, PclLimits, PclPage, Uncountable, count_pcl
from tests.hub_server.intake.pcl_writer import (
    UEL,
    XlWriter,
    esc,
    packbits,
    pjl,
    pjl_end,
    raster_row,
    rgb_rows,
)

A4 = "iso_a4_210x297mm"
LETTER = "na_letter_8.5x11in"


def count(data: bytes, **limits: int) -> PclCount | Uncountable:
    return count_pcl(io.BytesIO(data), PclLimits(**limits))


def counted(data: bytes) -> PclCount:
    result = count(data)
    assert isinstance(result, PclCount), result
    return result


def refused(data: bytes) -> str:
    result = count(data)
    assert isinstance(result, Uncountable), result
    return result.reason


def xl_job(body: XlWriter, *pjl_lines: str) -> bytes:
    return pjl(*pjl_lines) + body.end_session().bytes() + pjl_end()


def colours(result: PclCount) -> list[bool | None]:
    return [page.color for page in result.pages]


# -- PCL XL ----------------------------------------------------------------------------------------


def test_xl_pages_duplex_copies_and_media() -> None:
    writer = XlWriter().begin_session()
    writer.begin_page(media=2).gray_brush(0).rectangle().end_page()
    writer.begin_page(media=0, duplex=True).rectangle().end_page(copies=3)
    writer.begin_page(media=2, duplex=True).end_page(copies=3)  # an empty page still prints
    result = counted(xl_job(writer))
    assert result.languages == ("PCLXL",)
    assert result.pages == (
        PclPage(False, False, 1, A4),
        PclPage(False, True, 3, LETTER),
        PclPage(False, True, 3, A4),
    )
    assert (result.page_count, result.color_page_count, result.impressions) == (3, 0, 7)


@pytest.mark.parametrize("big_endian", [False, True])
def test_xl_colour_is_what_is_painted_not_the_colour_space(big_endian: bool) -> None:
    writer = XlWriter(big_endian).begin_session()
    # page 1: RGB space, red brush chosen but only grey painted
    writer.begin_page().color_space(2).rgb_brush(255, 0, 0).rgb_brush(90, 90, 90).rectangle().end_page()
    # page 2: a red rectangle
    writer.begin_page().color_space(2).null_pen().rgb_brush(200, 10, 10).rectangle().end_page()
    # page 3: red brush, but nothing painted with it (null brush before painting)
    writer.begin_page().color_space(2).rgb_brush(0, 0, 255).null_brush().null_pen().rectangle().end_page()
    assert colours(counted(xl_job(writer))) == [False, True, False]


def test_xl_graphics_state_stack_restores_the_brush() -> None:
    writer = XlWriter().begin_session().begin_page().color_space(2).null_pen().gray_brush(0)
    writer.op(0x61).rgb_brush(255, 0, 0).op(0x60).rectangle().end_page()  # PushGS, red, PopGS
    assert colours(counted(xl_job(writer))) == [False]


def test_xl_images_are_decoded_row_by_row() -> None:
    grey = rgb_rows([[(10, 10, 10), (200, 200, 200), (0, 0, 0)]] * 3)
    red_last = rgb_rows([[(10, 10, 10)] * 3, [(10, 10, 10)] * 3, [(10, 10, 10), (250, 0, 0), (0, 0, 0)]])
    writer = XlWriter().begin_session()
    writer.begin_page().color_space(2).image(grey, 3, 3).end_page()
    writer.begin_page().color_space(2).image(red_last, 3, 3).end_page()
    writer.begin_page().color_space(2).image(packbits(grey), 3, 3, compress=1).end_page()
    writer.begin_page().color_space(2).image(packbits(red_last), 3, 3, compress=1).end_page()
    writer.begin_page().color_space(2).image(b"\xff\xd8\xff\xe0 not decoded", 3, 3, compress=2).end_page()
    writer.begin_page().color_space(1).image(
        b"\xff\xd8\xff\xe0 grey jpeg", 3, 3, compress=2, depth=2
    ).end_page()
    result = counted(xl_job(writer))
    assert colours(result) == [False, True, False, True, None, False]
    assert (result.color_page_count, result.undecided_color_page_count) == (2, 1)


def test_xl_indexed_images_use_only_the_palette_entries_their_pixels_name() -> None:
    palette = bytes((255, 255, 255, 0, 0, 0, 255, 0, 0, 128, 128, 128))  # white, black, red, grey
    only_greys = bytes((0, 1, 3, 0))  # one row of 4 eight-bit indices
    with_red = bytes((0, 1, 2, 0))
    writer = XlWriter().begin_session()
    writer.begin_page().color_space(2, palette).image(only_greys, 4, 1, indexed=True).end_page()
    writer.begin_page().color_space(2, palette).image(with_red, 4, 1, indexed=True).end_page()
    # 1-bit indices into a white/red palette: only index 0 is used (a white row)
    writer.begin_page().color_space(2, bytes((255, 255, 255, 255, 0, 0))).image(
        b"\x00\x00\x00\x00", 8, 1, indexed=True, depth=0
    ).end_page()
    assert colours(counted(xl_job(writer))) == [False, True, False]


def test_xl_raster_pattern_brush_carries_its_colour() -> None:
    red = rgb_rows([[(255, 0, 0), (255, 0, 0)]] * 2)
    grey = rgb_rows([[(9, 9, 9), (9, 9, 9)]] * 2)
    writer = XlWriter().begin_session()
    writer.begin_page().color_space(2).raster_pattern(7, red, 2, 2).raster_pattern(8, grey, 2, 2)
    writer.null_pen().pattern_brush(8).rectangle().end_page()
    writer.begin_page().color_space(2).raster_pattern(7, red, 2, 2).null_pen().pattern_brush(7).rectangle()
    writer.end_page()
    assert colours(counted(xl_job(writer))) == [False, True]


def test_xl_streams_run_where_they_are_executed() -> None:
    stream = XlWriter()
    stream.color_space(2).null_pen().rgb_brush(0, 128, 0).rectangle()
    writer = XlWriter().begin_session()
    writer.ubyte_array(b"green", 0x8B).op(0x5B)  # BeginStream StreamName
    writer.uint16(len(stream.bytes()), 0x8C).op(0x5C).data(stream.bytes()).op(0x5D)  # ReadStream, EndStream
    writer.begin_page().end_page()
    writer.begin_page().ubyte_array(b"green", 0x8B).op(0x5E).end_page()  # ExecStream
    assert colours(counted(xl_job(writer))) == [False, True]


def test_xl_pjl_settings_merge_into_the_pages() -> None:
    writer = XlWriter().begin_session().begin_page().color_space(2).null_pen().rgb_brush(255, 0, 0)
    writer.rectangle().end_page()
    writer.begin_page().end_page()
    data = xl_job(writer, "SET COPIES=2", "SET DUPLEX=ON")  # the pages say simplex themselves
    assert counted(data).pages == (PclPage(True, False, 2, A4), PclPage(False, False, 2, A4))
    grey = counted(xl_job(writer, "SET RENDERMODE=GRAYSCALE", "SET QTY=4"))
    assert (colours(grey), grey.grayscale_forced, grey.job_copies, grey.impressions) == (
        [False, False],
        True,
        4,
        8,
    )


def test_xl_pjl_duplex_applies_where_the_page_says_nothing() -> None:
    writer = XlWriter().begin_session().ubyte(0, 0x28).ubyte(2, 0x25).op(0x43).end_page()  # no plex attribute
    assert counted(xl_job(writer, "SET DUPLEX=ON")).pages == (PclPage(False, True, 1, A4),)
    assert counted(xl_job(writer)).pages == (PclPage(False, None, 1, A4),)


@pytest.mark.parametrize(
    ("job", "reason"),
    [
        (
            xl_job(XlWriter().begin_session().begin_page().end_page(copies=3), "SET COPIES=2"),
            "devices disagree",
        ),
        (xl_job(XlWriter().begin_session().begin_page().end_page(copies=2), "SET QTY=2"), "combine them"),
        (xl_job(XlWriter().begin_session().begin_page().end_page(), 'JOB NAME="x" START=2'), "page range"),
        (xl_job(XlWriter().begin_session().begin_page().end_page(), "SET COPIES=lots"), "not a number"),
        (pjl() + XlWriter().begin_session().begin_page().rectangle().bytes(), "ends inside a page"),
        (pjl() + XlWriter().begin_session().end_page().bytes(), "EndPage outside a page"),
        (pjl() + XlWriter().begin_session().begin_page().begin_page().bytes(), "BeginPage inside a page"),
        (pjl() + XlWriter().begin_session().op(0xCF).bytes(), "illegal PCL XL data type"),
        (pjl() + XlWriter().begin_session().op(0x45).bytes(), "illegal PCL XL tag 0x45"),
        (pjl() + b"' HP-PCL XL;2;0\n", "ASCII binding"),
        (pjl() + XlWriter().begin_session().begin_page().end_page(copies=0).bytes(), "PageCopies"),
        (pjl() + XlWriter().begin_session().begin_page().op(0xBF).data(b"\x1bE").bytes(), "pass-through"),
        (pjl() + XlWriter().begin_session().ubyte(1, 0x8B).op(0x5E).bytes(), "not read"),
        (pjl(language="POSTSCRIPT") + b"%!PS\nshowpage\n", "POSTSCRIPT, not PCL"),
        (pjl() + XlWriter().bytes() + b"\xfa\xf0\xff\xff\x7f", "ends"),  # a 2 GB embedded block
    ],
)
def test_xl_refusals(job: bytes, reason: str) -> None:
    assert reason in refused(job)


# -- PCL 5 ----------------------------------------------------------------------------------------


def pcl5(*parts: bytes, pjl_lines: tuple[str, ...] = ()) -> bytes:
    return pjl(*pjl_lines, language="PCL") + esc("E") + b"".join(parts) + esc("E") + pjl_end()


def test_pcl5_form_feeds_resets_and_blank_pages() -> None:
    result = counted(
        pcl5(
            esc("&l26A") + esc("&l0O") + b"page one\r\n\x0c",
            b"page two\x0c",
            b"\x0c",  # a form feed on an empty page feeds a blank sheet
            esc("*p300x300Y") + b"page four, no form feed",  # ended by the closing ESC E
        )
    )
    assert result.pages == (PclPage(False, None, 1, A4),) * 4
    # cursor moves only, then a reset: nothing prints
    assert counted(pcl5(b"x\x0c" + esc("*p100x100Y") + b"  \r\n")).page_count == 1


def test_pcl5_copies_apply_from_their_page_on_until_reset() -> None:
    job = pcl5(b"one\x0c", esc("&l3X") + b"two\x0c", b"three\x0c", esc("E") + b"four\x0c")
    assert [page.copies for page in counted(job).pages] == [1, 3, 3, 1]
    # after a reset the PJL COPIES default applies again
    job = pcl5(esc("&l2X") + b"one\x0c", esc("E") + b"two\x0c", pjl_lines=("SET COPIES=2",))
    assert [page.copies for page in counted(job).pages] == [2, 2]


def test_pcl5_duplex_and_combined_commands() -> None:
    job = pcl5(esc("&l1s26a0O") + b"front\x0c", b"back\x0c", esc("&l0S") + b"simplex\x0c")
    assert [(page.duplex, page.media) for page in counted(job).pages] == [(True, A4), (True, A4), (False, A4)]


def test_pcl5_binary_data_is_skipped_by_its_count() -> None:
    row = b"\x0c\x0c\x1bE\x0c" * 8  # form feeds and a reset inside raster data are pixels
    job = pcl5(esc("*r1A") + esc("*b0M") + raster_row(row) * 5 + esc("*rC") + b"\x0c")
    assert counted(job).page_count == 1
    font = esc(")s40W") + b"\x0c" * 40 + esc("(s10W") + b"\x1b\x0c" * 5
    assert counted(pcl5(font + b"text\x0c")).page_count == 1


def test_pcl5_page_setting_commands_end_marked_pages_only() -> None:
    job = pcl5(b"portrait", esc("&l1O") + b"landscape", esc("&l26A"), esc("&l26A"))
    assert counted(job).page_count == 2
    # a filled rectangle of known size marks the page; of unknown size it is unsure
    assert counted(pcl5(esc("*c100a100b0P"))).page_count == 1
    assert "may be blank" in refused(pcl5(esc("*c0P")))


def test_pcl5_three_plane_raster_colour() -> None:
    grey = esc("*r3U") + esc("*r16S") + esc("*r1A") + esc("*b0M")
    grey += (
        raster_row(b"\xf0\x0f", plane=True) + raster_row(b"\xf0\x0f", plane=True) + raster_row(b"\xf0\x0f")
    )
    red = esc("*r-3U") + esc("*r16S") + esc("*r1A") + esc("*b2M")  # CMY: magenta + yellow = red
    red += raster_row(packbits(b"\x00\x00"), plane=True) + raster_row(packbits(b"\x80\x00"), plane=True)
    red += raster_row(packbits(b"\x80\x00"))
    delta = esc("*r3U") + esc("*r16S") + esc("*r1A") + esc("*b3M")  # delta rows: seed, then one byte changed
    delta += (raster_row(b"\x20\xff\xff", plane=True) * 2 + raster_row(b"\x20\xff\xff")) * 2
    delta += raster_row(b"\x00\x0f", plane=True) + raster_row(b"", plane=True) + raster_row(b"")
    job = pcl5(grey + esc("*rC") + b"\x0c", red + esc("*rC") + b"\x0c", delta + esc("*rC") + b"\x0c")
    assert colours(counted(job)) == [False, True, True]


def test_pcl5_text_colour_follows_the_foreground() -> None:
    job = pcl5(
        esc("*r3U") + esc("*v0S") + b"black\x0c",  # RGB palette: 0 black
        esc("*v1S") + b"red\x0c",  # 1 red
        esc("*v7S") + b"white\x0c",  # 7 white
        esc("*v1S") + b"   \x0c",  # red foreground but only spaces
        esc("*v1I") + esc("*v0S") + b"reassigned palette\x0c",
        esc("E") + esc("*v3S") + b"back to black and white\x0c",
    )
    assert colours(counted(job)) == [False, True, False, False, None, False]


def test_pcl5_macros_are_summarised_and_run() -> None:
    define = esc("&f5y0X") + b"overlay text" + esc("&f1X")
    assert counted(pcl5(define + esc("&f5y2X") + esc("E"))).page_count == 1  # run: the text marks the page
    assert counted(pcl5(define + b"\x0c")).page_count == 1  # defined, never run
    with_eject = esc("&f6y0X") + b"page\x0c" + esc("&f1X")
    assert "ejects pages" in refused(pcl5(with_eject + esc("&f6y3X")))
    assert "not read" in refused(pcl5(esc("&f9y2X")))


def test_pcl5_text_that_could_run_off_the_page_is_refused() -> None:
    ten_lines = b"line\r\n" * 10 + b"\x0c"
    assert counted(pcl5(esc("&l26a0o6D") + ten_lines)).page_count == 1
    assert "bottom margin" in refused(pcl5(esc("&l26a0o6D") + b"line\r\n" * 80))
    assert "bottom margin" in refused(pcl5(esc("*p0x3400Y") + b"low\r\n"))


def test_pcl5_hpgl2_segments() -> None:
    drawing = esc("%0B") + b"IN;SP1;PU100,100;PD200,200;LBPG inside a label\x03;" + esc("%0A")
    assert counted(pcl5(drawing + b"\x0c")).page_count == 1
    assert "may be blank" in refused(pcl5(drawing))
    assert "HP-GL/2 PG" in refused(pcl5(esc("%0B") + b"IN;PD0,0;PG;" + esc("%0A") + b"\x0c"))


@pytest.mark.parametrize(
    ("part", "reason"),
    [
        (esc("Y") + b"shown\x0c" + esc("Z"), "display functions"),
        (esc("*z4W") + b"\x0c\x0c\x0c\x0c", "unknown data command"),
        (esc("&s0C") + b"wrapping text", "end-of-line wrap"),
        (esc("&a2G"), "blank side"),
        (esc("&l0X"), "outside 1..32767"),
        (esc("*b99999999W"), "outside 0.."),
        (esc("&l2") + b"\x01", "malformed escape sequence"),
        (esc("&l" + "9" * 40 + "X"), "overlong value"),
        (esc("*r5U"), "simple colour mode 5"),
        (esc("&f1y0X") + b"never closed", "inside a macro definition"),
        (b"\x1b\x01", "ESC followed by 0x01"),
    ],
)
def test_pcl5_refusals(part: bytes, reason: str) -> None:
    job = pjl(language="PCL") + esc("E") + part
    assert reason in refused(job)


def test_pcl5_without_pjl_and_after_several_languages() -> None:
    assert counted(esc("E") + b"headerless\x0c" + esc("E")).pages == (PclPage(False, None, 1, None),)
    xl = XlWriter().begin_session().begin_page().end_page().end_session().bytes()
    mixed = (
        pjl(language="PCL") + esc("E") + b"a\x0c" + UEL + b"@PJL ENTER LANGUAGE=PCLXL\r\n" + xl + pjl_end()
    )
    result = counted(mixed)
    assert (result.languages, result.page_count) == (("PCL", "PCLXL"), 2)


def test_page_limit_is_a_refusal_not_a_truncated_count() -> None:
    result = count(esc("E") + b"\x0c" * 50, pages_max=40)
    assert isinstance(result, Uncountable) and result.reason == "more than 40 pages"
    assert counted(esc("E") + b"\x0c" * 40).page_count == 40


def test_nothing_to_count() -> None:
    assert refused(UEL + b"@PJL JOB\r\n@PJL EOJ\r\n" + UEL) == "the job holds no PCL data"
    assert counted(pjl(language="PCL") + pjl_end()).page_count == 0  # an empty PCL section prints nothing
    assert "not recognisably PCL" in refused(b"just some text\n")
