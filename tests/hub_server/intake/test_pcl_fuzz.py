"""Hostile input for the PCL counter: it never raises, never hangs, stays in bounded memory and
never reports more pages than the bytes could carry; a refusal always has a reason."""

from __future__ import annotations

import io
import tracemalloc
from collections.abc import Iterator

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub_server.intake.pcl import PclCount, PclLimits, Uncountable, count_pcl
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

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _xl_seed() -> bytes:
    writer = XlWriter().begin_session()
    writer.begin_page(duplex=True).color_space(2).rgb_brush(1, 2, 3).rectangle()
    writer.image(packbits(rgb_rows([[(1, 1, 1), (9, 0, 0)]] * 2)), 2, 2, compress=1).end_page(copies=2)
    writer.begin_page().op(0x61).gray_brush(4).op(0x60).rectangle().end_page()
    return pjl("SET COPIES=2") + writer.end_session().bytes() + pjl_end()


def _pcl5_seed() -> bytes:
    body = (
        esc("E") + esc("&l26a0o1s2X") + b"text\r\n" + esc("*r3U") + esc("*r16S") + esc("*r1A") + esc("*b2M")
    )
    body += raster_row(packbits(b"\x0c\x0c"), plane=True) * 2 + raster_row(packbits(b"\x1b\x45"))
    body += esc("*rC") + b"\x0c" + esc("&f1y0X") + b"macro" + esc("&f1X") + esc("&f1y2X")
    body += esc("%0B") + b"IN;PD1,1;LBx\x03" + esc("%0A") + b"\x0c" + esc("E")
    return pjl(language="PCL") + body + pjl_end()


SEEDS = [_xl_seed(), _pcl5_seed()]


def check(data: bytes) -> PclCount | Uncountable:
    result = count_pcl(io.BytesIO(data), PclLimits(pages_max=10_000))
    assert isinstance(result, PclCount | Uncountable)
    if isinstance(result, Uncountable):
        assert result.reason
        assert result.offset is None or 0 <= result.offset <= len(data)
    else:
        assert result.page_count <= len(data)  # a page costs at least one byte (a form feed)
        assert all(page.copies is not None and 1 <= page.copies <= 32767 for page in result.pages)
        assert 1 <= result.job_copies <= 9999
    return result


def test_seeds_are_counted() -> None:
    xl, pcl5 = (check(seed) for seed in SEEDS)
    assert isinstance(xl, PclCount) and [p.color for p in xl.pages] == [True, False]
    assert isinstance(pcl5, PclCount) and pcl5.page_count == 2


@FUZZ
@given(st.binary(max_size=2048))
def test_random_bytes(data: bytes) -> None:
    check(data)


@FUZZ
@given(st.sampled_from(["PCL", "PCLXL"]), st.binary(max_size=2048))
def test_random_bodies_behind_a_pjl_header(language: str, body: bytes) -> None:
    prefix = b") HP-PCL XL;2;0;\n" if language == "PCLXL" else b""
    check(pjl(language=language) + prefix + body)


@FUZZ
@given(st.sampled_from(SEEDS), st.data())
def test_mutated_jobs(seed: bytes, data: st.DataObject) -> None:
    mutated = bytearray(seed)
    for _ in range(data.draw(st.integers(min_value=1, max_value=6))):
        at = data.draw(st.integers(min_value=0, max_value=len(mutated)))
        action = data.draw(st.sampled_from(["replace", "insert", "delete", "cut"]))
        junk = data.draw(st.binary(min_size=1, max_size=8))
        if action == "replace":
            mutated[at : at + len(junk)] = junk
        elif action == "insert":
            mutated[at:at] = junk
        elif action == "delete":
            del mutated[at : at + len(junk)]
        else:
            del mutated[at:]
    check(bytes(mutated))


@FUZZ
@given(
    st.lists(
        st.sampled_from(
            [
                b"\x0c",
                b"text",
                b"\r\n",
                esc("E"),
                esc("&l2X"),
                esc("&l1S"),
                esc("&l1O"),
                esc("*r3U"),
                esc("*v1S"),
                esc("*b2W") + b"\x0c\x0c",
                esc("&f1y0X"),
                esc("&f1X"),
                esc("&f1y2X"),
                esc("%0B") + b"PD1,1;",
                esc("%0A"),
                UEL,
            ]
        ),
        max_size=60,
    )
)
def test_random_pcl5_command_soup(parts: list[bytes]) -> None:
    data = b"".join(parts)
    result = check(esc("E") + data)
    if isinstance(result, PclCount):
        assert result.page_count <= data.count(b"\x0c") + data.count(b"\x1b") + 1


def test_length_fields_larger_than_the_job_are_refused_without_allocating() -> None:
    tracemalloc.start()
    try:
        for job in (
            pjl() + XlWriter().begin_session().begin_page().op(0xB1).bytes() + b"\xfa\xff\xff\xff\xff",
            pjl() + XlWriter().bytes() + b"\xc8\xc2\xff\xff\xff\x0f",  # a 268-million-element array
            pjl(language="PCL") + esc("E") + esc("*b32767W") + b"short",
            pjl(language="PCL") + esc("E") + esc(")s16000000W") + b"short",
        ):
            assert isinstance(count_pcl(io.BytesIO(job)), Uncountable)
        assert tracemalloc.get_traced_memory()[1] < 8 * 1024 * 1024
    finally:
        tracemalloc.stop()


def test_recursion_and_stack_bombs_are_refused() -> None:
    loop = XlWriter().ubyte_array(b"s", 0x8B).op(0x5E).bytes()  # a stream that runs itself
    writer = XlWriter().begin_session().ubyte_array(b"s", 0x8B).op(0x5B)
    writer.uint16(len(loop), 0x8C).op(0x5C).data(loop).op(0x5D)
    writer.begin_page().ubyte_array(b"s", 0x8B).op(0x5E).end_page()
    assert "nested too deep" in _reason(pjl() + writer.end_session().bytes())
    pushes = XlWriter().begin_session().begin_page()
    for _ in range(100):
        pushes.op(0x61)
    assert "stack overflow" in _reason(pjl() + pushes.bytes())
    macro = esc("E") + esc("&f1y0X") + esc("&f1y3X") + esc("&f1X") + esc("&f1y3X")  # calls itself
    assert "runs macros" in _reason(macro)


def _reason(data: bytes) -> str:
    result = count_pcl(io.BytesIO(data))
    assert isinstance(result, Uncountable), result
    return result.reason


class _LazyJob(io.RawIOBase):
    """A PCL 5 job of ``rows`` 32 kB raster rows made as it is read, never held whole."""

    def __init__(self, rows: int) -> None:
        self._parts: Iterator[bytes] = iter(
            [esc("E") + esc("*r1A")] + [raster_row(bytes(range(256)) * 128)] * rows + [esc("*rC") + b"\x0c"]
        )
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._pending:
            try:
                self._pending = next(self._parts)
            except StopIteration:
                return 0
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


def test_a_large_job_is_read_in_bounded_memory() -> None:
    tracemalloc.start()
    try:
        result = count_pcl(io.BufferedReader(_LazyJob(rows=1500)))  # about 49 MB
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert isinstance(result, PclCount) and result.page_count == 1
    assert peak < 8 * 1024 * 1024
