"""The PWG raster scanner against Ghostscript-written rasters and hostile bytes."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub_server.intake.pwg_raster import PwgRasterError, scan


@pytest.fixture(scope="module")
def cmyk_raster(tmp_path_factory: pytest.TempPathFactory, documents: dict[str, Path]) -> bytes:
    target = tmp_path_factory.mktemp("pwg") / "cmyk.pwg"
    subprocess.run(
        [
            "gs",
            "-q",
            "-dSAFER",
            "-dBATCH",
            "-dNOPAUSE",
            "-sDEVICE=pwgraster",
            "-r20",
            "-dcupsColorSpace=6",
            "-dcupsBitsPerColor=8",
            "-dDuplex=true",
            "-dNumCopies=3",
            "-o",
            str(target),
            str(documents["ps"]),
        ],
        check=True,
        timeout=60,
        capture_output=True,
    )
    return target.read_bytes()


def test_cmyk_pages_colour_copies_and_duplex(cmyk_raster: bytes) -> None:
    pages = scan(io.BytesIO(cmyk_raster))
    assert [(p.color, p.copies, p.duplex) for p in pages] == [(False, 3, True), (True, 3, True)]


def test_not_pwg_raster() -> None:
    with pytest.raises(PwgRasterError, match="no RaS2 sync word"):
        scan(io.BytesIO(b"%PDF-1.7"))
    with pytest.raises(PwgRasterError, match="PwgRaster media class"):
        scan(io.BytesIO(b"RaS2" + b"\0" * 1796))


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_mutated_rasters_scan_or_raise_pwg_error(cmyk_raster: bytes, data: st.DataObject) -> None:
    at = data.draw(st.integers(min_value=0, max_value=len(cmyk_raster) - 1))
    junk = data.draw(st.binary(min_size=1, max_size=16))
    cut = data.draw(st.integers(min_value=at, max_value=len(cmyk_raster)))
    mutated = (cmyk_raster[:at] + junk + cmyk_raster[at + len(junk) :])[:cut]
    try:
        pages = scan(io.BytesIO(mutated))
    except PwgRasterError:
        return
    assert all(page.copies >= 1 for page in pages)
