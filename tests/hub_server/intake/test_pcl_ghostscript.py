"""The PCL counter against real print files: Ghostscript's PCL XL (pxlmono, pxlcolor) and PCL 5
(ljet4, ljet4d, ljet4pjl, cljet5) writers rendering a document whose pages are known, and the
counter run the way the intake runs it: a subprocess under rlimits, read back from JSON."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hub_server.intake.pcl import PclCount, PclPage, count_pcl, result_from_json
from tests.hub_server.intake.conftest import require_binary

A4 = "iso_a4_210x297mm"
LETTER = "na_letter_8.5x11in"

# Page 1 black text and a black bar, page 2 a red square, page 3 a grey square; A4.
THREE_PAGES_PS = b"""%!PS
<< /PageSize [595 842] >> setpagedevice
/Helvetica findfont 24 scalefont setfont
72 700 moveto (printgate page one) show 72 600 300 20 rectfill showpage
1 0 0 setrgbcolor 100 100 200 200 rectfill showpage
0.5 setgray 100 100 200 200 rectfill showpage
"""
# Solid rectangles only: the colour LaserJet 5 writer dithers grey and drops small text.
BLACK_RED_PS = b"""%!PS
0 setgray 100 100 200 200 rectfill showpage
1 0 0 setrgbcolor 100 100 200 200 rectfill showpage
"""


@pytest.fixture(scope="module")
def render(tmp_path_factory: pytest.TempPathFactory):
    require_binary("gs")
    folder = tmp_path_factory.mktemp("pcl")
    (folder / "three.ps").write_bytes(THREE_PAGES_PS)
    (folder / "black-red.ps").write_bytes(BLACK_RED_PS)

    def run(device: str, source: str = "three.ps", *options: str) -> Path:
        target = folder / f"{device}-{len(options)}-{source}.prn"
        gs = ["gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", f"-sDEVICE={device}", "-r75"]
        subprocess.run(
            [*gs, *options, "-o", str(target), str(folder / source)],
            check=True,
            timeout=120,
            capture_output=True,
        )
        return target

    return run


def counted(path: Path) -> PclCount:
    result = count_pcl(path)
    assert isinstance(result, PclCount), result
    return result


def test_pxlcolor_colour_per_page(render) -> None:
    result = counted(render("pxlcolor"))
    assert result.languages == ("PCLXL",)
    assert result.pages == (
        PclPage(False, False, 1, A4),
        PclPage(True, False, 1, A4),
        PclPage(False, False, 1, A4),
    )


def test_pxlcolor_duplex_and_copies(render) -> None:
    result = counted(render("pxlcolor", "three.ps", "-dDuplex=true", "-dNumCopies=2"))
    assert result.pages == (
        PclPage(False, True, 2, A4),
        PclPage(True, True, 2, A4),
        PclPage(False, True, 2, A4),
    )
    assert result.impressions == 6


def test_pxlmono_prints_grey_by_its_pjl(render) -> None:
    result = counted(render("pxlmono"))
    assert result.grayscale_forced  # Ghostscript writes @PJL SET RENDERMODE=GRAYSCALE
    assert result.pages == (PclPage(False, False, 1, A4),) * 3


def test_ljet4_pages_and_copies(render) -> None:
    result = counted(render("ljet4", "three.ps", "-dNumCopies=3"))
    assert result.languages == ("PCL",)
    assert result.pages == (PclPage(False, None, 3, A4),) * 3
    assert result.impressions == 9


def test_ljet4d_duplex_with_an_odd_page_count(render) -> None:
    # ljet4d ends an odd job with ESC&l0H on the empty page after the last form feed
    result = counted(render("ljet4d", "three.ps", "-dDuplex=true"))
    assert result.pages == (PclPage(False, True, 1, A4),) * 3


def test_ljet4pjl_behind_its_pjl_header(render) -> None:
    path = render("ljet4pjl")
    assert path.read_bytes().startswith(b"\x1b%-12345X@PJL")
    assert counted(path).pages == (PclPage(False, None, 1, A4),) * 3


def test_cljet5_three_plane_colour(render) -> None:
    result = counted(render("cljet5", "black-red.ps"))
    assert result.pages == (PclPage(False, None, 1, LETTER), PclPage(True, None, 1, LETTER))


def test_the_intake_runs_it_in_a_limited_subprocess(render) -> None:
    require_binary("prlimit")
    path = render("pxlcolor", "three.ps", "-dDuplex=true")
    limited = ["prlimit", f"--as={1 << 30}", "--cpu=30", "--"]
    completed = subprocess.run(
        [*limited, sys.executable, "-I", "-m", "hub_server.intake.pcl", str(path)],
        check=True,
        timeout=60,
        capture_output=True,
    )
    result = result_from_json(completed.stdout)
    assert result == count_pcl(path)
    assert isinstance(result, PclCount) and result.color_page_count == 1
