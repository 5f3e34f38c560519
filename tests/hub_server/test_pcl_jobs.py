"""PCL jobs as Windows vendor drivers send them (PJL + PCL XL over LPD) held at the hub: priced by
the impressions the counter found, or, when it cannot count a job exactly, listed at the terminal
with "cannot be counted: <reason>" and priced with ``[print] unanalysed_pages``. Both backends."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from mfp_adapters import LpdTransport
from tests.hub_server.intake.pcl_writer import XlWriter, pjl, pjl_end
from tests.hub_server.test_release_site import PrintSite, open_site

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]

FALLBACK_PAGES = 4


@pytest_asyncio.fixture
async def site(tmp_path: Path, database_url: str) -> AsyncIterator[PrintSite]:
    async with open_site(
        tmp_path, database_url, lpd_listen="127.0.0.1:0", unanalysed_pages=FALLBACK_PAGES
    ) as opened:
        yield opened


async def _once(data: bytes) -> AsyncIterable[bytes]:
    yield data


async def submit_lpd(site: PrintSite, data: bytes, name: str) -> None:
    """Send a job to the hub's LPD queue as alice (as a Windows LPR port does), wait for its analysis."""
    assert site.running.printing is not None
    transport = LpdTransport("127.0.0.1", site.running.lpd_port, queue="default", user="alice")
    await transport.send(_once(data), name)
    service = site.running.printing.intake.service
    for _ in range(200):  # the LPD listener stores the job after the last acknowledgement
        if [job for job in service.registry.list_jobs("alice") if job.analysis is not None]:
            return
        await service.wait_idle()
        await asyncio.sleep(0.05)
    pytest.fail("the job was not analysed")


def three_pages_two_copies() -> bytes:
    writer = XlWriter().begin_session()
    writer.begin_page().color_space(2).null_pen().rgb_brush(200, 10, 10).rectangle().end_page(copies=2)
    writer.begin_page().gray_brush(0).rectangle().end_page(copies=2)
    writer.begin_page().gray_brush(0).rectangle().end_page(copies=2)
    return pjl("SET DUPLEX=OFF") + writer.end_session().bytes() + pjl_end()


def disagreeing_copies() -> bytes:
    writer = XlWriter().begin_session()
    writer.begin_page().rectangle().end_page(copies=3)
    return pjl("SET COPIES=2") + writer.end_session().bytes() + pjl_end()


async def test_a_counted_pcl_job_is_priced_by_its_impressions(site: PrintSite) -> None:
    await submit_lpd(site, three_pages_two_copies(), "quarterly.xlsx")
    (job,) = await site.list_jobs(await site.session("c-alice"))
    assert (job.name, job.pages, job.color_pages, job.copies, job.duplex, job.paper_size) == (
        "quarterly.xlsx",
        3,
        1,
        2,
        False,
        "A4",
    )
    assert job.estimate_note == ""
    # two copies of one colour page (50) and two mono pages (10)
    assert job.estimated_price_cents == 2 * (50 + 2 * 10)
    assert job.price_mono_per_copy_cents == 3 * 10


async def test_an_uncountable_pcl_job_says_why_and_uses_the_fallback(site: PrintSite) -> None:
    await submit_lpd(site, disagreeing_copies(), "invoice.docx")
    (job,) = await site.list_jobs(await site.session("c-alice"))
    assert job.estimate_note == (
        "cannot be counted: PJL asks for 2 copies and PCL for 3: devices disagree which wins"
    )
    # the fallback: unanalysed_pages mono pages, times the copies the PJL header asks for
    assert (job.pages, job.color_pages, job.copies) == (FALLBACK_PAGES, 0, 2)
    assert job.estimated_price_cents == FALLBACK_PAGES * 2 * 10
