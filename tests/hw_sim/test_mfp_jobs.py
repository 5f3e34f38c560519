"""The simulated MFP counts pages by the job's language, as a printer does, in any chunking.

Its job and IPP parsers survive any garbage.
"""

from __future__ import annotations

import contextlib
import zlib

from hypothesis import given, settings
from hypothesis import strategies as st

from hw_sim.mfp.jobs import PjlJobReader
from hw_sim.mfp.sinks import decode_ipp_attributes

UEL = b"\x1b%-12345X"
HEADER = UEL + b'@PJL JOB NAME="t"\r\n@PJL ENTER LANGUAGE=PDF\r\n'
# Compressed streams are full of bytes that are form feeds in other languages.
NOISE = zlib.compress(bytes(range(256)) * 4)
PDF = (
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
    b"2 0 obj << /Type /Pages /Kids [3 0 R 4 0 R 5 0 R] /Count 3 >> endobj\n"
    + b"".join(
        b"%d 0 obj << /Type /Page /Parent 2 0 R >> endobj\nstream\n" % n + NOISE + b"\nendstream\n"
        for n in (3, 4, 5)
    )
    + b"%%EOF\n"
)
POSTSCRIPT = b"%!PS-Adobe-3.0\n" + b"newpath 0 0 moveto (x) show showpage\n" * 4 + b"%%EOF\n"


def _pages(job: bytes, cuts: list[int]) -> int:
    reader = PjlJobReader()
    start = 0
    for cut in sorted(set(cuts)):
        reader.feed(job[start:cut])
        start = cut
    reader.feed(job[start:])
    return reader.finish().pages


def test_pdf_pages_are_page_objects_not_form_feeds() -> None:
    assert NOISE.count(b"\x0c") > 0
    assert _pages(HEADER + PDF + UEL, []) == 3


def test_postscript_pages_are_showpages() -> None:
    assert _pages(POSTSCRIPT, []) == 4


def test_pcl_and_text_pages_end_with_form_feeds() -> None:
    assert _pages(b"page one\x0cpage two\x0cpage three", []) == 3


@given(st.lists(st.integers(min_value=0, max_value=len(HEADER + PDF)), max_size=40))
def test_any_chunking_counts_the_same(cuts: list[int]) -> None:
    assert _pages(HEADER + PDF + UEL, cuts) == 3
    assert _pages(POSTSCRIPT, [cut % len(POSTSCRIPT) for cut in cuts]) == 4


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_simulator_parsers_survive_garbage(data: bytes) -> None:
    reader = PjlJobReader()
    reader.feed(data)
    assert reader.finish().pages >= 0
    with contextlib.suppress(ValueError):
        decode_ipp_attributes(data)
