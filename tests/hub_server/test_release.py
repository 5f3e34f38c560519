"""Pull-print release end to end, on both backends: real ipptool submissions to the hub's IPP
queue, ListJobs/ReleaseJobs/DeleteJobs over gRPC, a simulated MFP (9100 + PJL USTATUS, SNMP)
as the printer, and the ledger checked to the cent."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from printgate.v1 import admin_pb2, terminal_pb2

from mfp_adapters import Raw9100Transport
from terminal_app.hub import HubClient
from terminal_app.hub import client as hub_client
from tests.hub_server.intake.conftest import MONO_COLOR_PS
from tests.hub_server.test_release_crash import BIG_PAGE_PS
from tests.hub_server.test_release_site import THREE_PAGES_PS, PrintSite, open_site

pytestmark = pytest.mark.asyncio

PRINTED = terminal_pb2.RELEASE_STATE_PRINTED
REFUSED = terminal_pb2.RELEASE_STATE_REFUSED
SENDING = terminal_pb2.RELEASE_STATE_SENDING


@pytest_asyncio.fixture
async def site(tmp_path: Path, database_url: str) -> AsyncIterator[PrintSite]:
    async with open_site(tmp_path, database_url, refuse_name_pattern=r"secret") as opened:
        yield opened


@pytest.fixture
def three_pages(tmp_path: Path) -> Path:
    path = tmp_path / "three-pages.ps"
    path.write_bytes(THREE_PAGES_PS)
    return path


def release_item(
    job_id: int, mono: bool = False, duplex: bool = False, copies: int = 0
) -> terminal_pb2.JobRelease:
    return terminal_pb2.JobRelease(
        job_id=job_id, overrides=terminal_pb2.JobOverrides(mono=mono, duplex=duplex, copies=copies)
    )


async def test_ipptool_pdf_and_postscript_are_held_for_their_user(site: PrintSite, tmp_path: Path) -> None:
    ps = tmp_path / "mono-color.ps"
    ps.write_bytes(MONO_COLOR_PS)
    pdf = tmp_path / "mono-color.pdf"
    gs = ["gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=pdfwrite", "-o", str(pdf), str(ps)]
    subprocess.run(gs, check=True, timeout=60)
    await site.submit(pdf, "alice", stock_test=True)
    await site.submit(ps, "ALICE", stock_test=True)
    jobs = await site.list_jobs(await site.session("c-alice"))
    assert [(j.owner, j.pages, j.color_pages, j.copies, j.duplex, j.printed) for j in jobs] == [
        ("alice", 2, 1, 1, False, False),
        ("alice", 2, 1, 1, False, False),
    ]
    assert [j.document_format for j in jobs] == ["application/pdf", "application/postscript"]
    # mono page 10 + colour page 50, simplex, one copy
    assert [j.estimated_price_cents for j in jobs] == [60, 60]
    assert jobs[0].allowed == terminal_pb2.AllowedOverrides(to_mono=True, to_duplex=True, fewer_copies=True)
    thumbnail = await site.terminal.stub.GetThumbnail(
        terminal_pb2.GetThumbnailRequest(session_token=await site.session("c-alice"), job_id=jobs[0].id),
    )
    assert thumbnail.png.startswith(b"\x89PNG\r\n\x1a\n")


async def test_release_with_mono_and_duplex_charges_the_printed_pages(
    site: PrintSite, three_pages: Path
) -> None:
    await site.submit(three_pages, "alice", name="report", copies=2)
    token = await site.session("c-alice")
    (job,) = await site.list_jobs(token)
    assert (job.pages, job.color_pages, job.copies, job.duplex, job.paper_size) == (3, 1, 2, False, "A4")
    assert job.estimated_price_cents == 2 * 50 + 4 * 10  # as submitted: colour, simplex, 2 copies
    progress = await site.release(token, "key-1", [release_item(job.id, mono=True, duplex=True)])
    assert [p.state for p in progress] == [SENDING, PRINTED]
    done = progress[-1]
    # The printer reported 6 impressions (3 pages x 2 copies): 6 mono duplex pages at 7.
    assert (done.pages_printed, done.pages_reported_by_printer, done.charged_cents) == (6, True, 42)
    (printed,) = site.mfp.device.jobs
    assert (printed.protocol, printed.pages, printed.copies, printed.duplex, printed.color) == (
        "raw9100",
        3,
        2,
        True,
        False,
    )
    assert printed.name == f"printgate-{job.id}-1"
    assert await site.clients.balance("alice") == 500 - 42
    assert site.holds_cents() == 0
    assert (await site.clients.check_ledger()).ok
    assert site.job_state(job.id) == "printed"


async def test_fewer_copies_and_a_retry_with_the_same_key_prints_once(
    site: PrintSite, three_pages: Path
) -> None:
    await site.submit(three_pages, "alice", copies=3)
    token = await site.session("c-alice")
    (job,) = await site.list_jobs(token)
    first = await site.release(token, "same-key", [release_item(job.id, copies=1)])
    again = await site.release(token, "same-key", [release_item(job.id, copies=1)])
    assert first[-1].charged_cents == again[-1].charged_cents == 50 + 2 * 10
    assert again[-1].message == "already printed by this request"
    assert len(site.mfp.device.jobs) == 1 and site.mfp.device.jobs[0].copies == 1
    assert await site.clients.balance("alice") == 500 - 70
    # More copies than submitted is not an override anyone may make.
    refused = await site.release(token, "more", [release_item(job.id, copies=4)])
    assert refused[-1].state == REFUSED and "at most 3 copies" in refused[-1].message


async def test_reprint_of_a_printed_job(site: PrintSite, three_pages: Path) -> None:
    await site.submit(three_pages, "alice")
    token = await site.session("c-alice")
    (job,) = await site.list_jobs(token)
    await site.release(token, "k1", [release_item(job.id, mono=True)])
    (listed,) = await site.list_jobs(token)
    assert listed.printed
    reprint = await site.release(token, "k2", [release_item(job.id, mono=True)])
    assert reprint[-1].state == PRINTED
    assert len(site.mfp.device.jobs) == 2
    assert await site.clients.balance("alice") == 500 - 2 * 30
    assert site.holds_cents() == 0


async def test_no_credit_is_refused_and_nothing_moves(site: PrintSite, three_pages: Path) -> None:
    await site.clients.create_user("bob", card="c-bob", credit_cents=20)
    await site.submit(three_pages, "bob")
    token = await site.session("c-bob")
    (job,) = await site.list_jobs(token)
    progress = await site.release(token, "k", [release_item(job.id)])
    assert [p.state for p in progress] == [REFUSED]
    assert "cannot cover" in progress[0].message
    assert site.mfp.device.jobs == []
    assert await site.clients.balance("bob") == 20 and site.holds_cents() == 0
    assert site.job_state(job.id) == "held"


async def test_a_jammed_printer_refuses_release(site: PrintSite, three_pages: Path) -> None:
    await site.submit(three_pages, "alice")
    token = await site.session("c-alice")
    (job,) = await site.list_jobs(token)
    site.mfp.device.jam()
    progress = await site.release(token, "k", [release_item(job.id)])
    assert [p.state for p in progress] == [REFUSED]
    assert progress[0].message == "printer mfp-1 cannot print now: jammed"
    assert site.mfp.device.jobs == [] and await site.clients.balance("alice") == 500
    site.mfp.device.clear()
    assert (await site.release(token, "k2", [release_item(job.id)]))[-1].state == PRINTED


async def test_a_rule_refused_name_is_deleted_at_intake(site: PrintSite, three_pages: Path) -> None:
    # [print] refuse_name_pattern became a rule at the hub's first start; it deletes the job
    # once analysed, with its reason, and shreds the document
    await site.submit(three_pages, "alice", name="top-secret plans")
    token = await site.session("c-alice")
    assert await site.list_jobs(token) == []
    row = site.running.db.read(
        lambda tx: tx.one("SELECT id, state, spool_id, rule_note FROM print_jobs ORDER BY id DESC")
    )
    assert row is not None
    assert (row["state"], row["spool_id"], row["rule_note"]) == (
        "canceled",
        None,
        "jobs with this name are not printed here",
    )
    progress = await site.release(token, "k", [release_item(int(row["id"]))])
    assert [p.state for p in progress] == [REFUSED]
    assert progress[0].message == f"job {row['id']} is canceled"


async def test_delete_shreds_own_jobs_only(site: PrintSite, three_pages: Path) -> None:
    await site.clients.create_user("bob", card="c-bob")
    await site.submit(three_pages, "alice")
    token = await site.session("c-alice")
    (job,) = await site.list_jobs(token)
    assert site.running.printing is not None
    spool = site.running.printing.jobs.spool
    assert len(spool.entries()) == 1
    bob = await site.session("c-bob")
    deleted = await site.terminal.stub.DeleteJobs(
        terminal_pb2.DeleteJobsRequest(session_token=bob, job_ids=[job.id])
    )
    assert deleted.deleted == 0 and len(spool.entries()) == 1
    deleted = await site.terminal.stub.DeleteJobs(
        terminal_pb2.DeleteJobsRequest(session_token=token, job_ids=[job.id])
    )
    assert deleted.deleted == 1 and spool.entries() == []
    assert await site.list_jobs(token) == [] and site.job_state(job.id) == "canceled"


async def test_delegated_jobs_are_listed_released_and_charged_to_their_owner(
    site: PrintSite, three_pages: Path
) -> None:
    await site.clients.create_user("bob", card="c-bob", credit_cents=100)
    await site.submit(three_pages, "alice")
    bob = await site.session("c-bob")
    assert await site.list_jobs(bob) == []
    await site.clients.call_admin(
        "DelegateJobs",
        admin_pb2.Delegation(
            owner=admin_pb2.UserRef(username="alice"), delegate_user=admin_pb2.UserRef(username="bob")
        ),
    )
    (job,) = await site.list_jobs(bob)
    assert job.delegated and job.owner == "alice"
    # picked, not "all": alice's job was sent without a password (release all leaves it out)
    progress = await site.release(bob, "k", [release_item(job.id)])
    assert progress[-1].state == PRINTED
    assert await site.clients.balance("alice") == 500 - 70
    assert await site.clients.balance("bob") == 100
    listed = await site.clients.call_admin("ListDelegations", admin_pb2.ListDelegationsRequest())
    assert [(d.owner.username, d.delegate_user.username) for d in listed.delegations] == [("alice", "bob")]


async def test_list_jobs_in_pages(site: PrintSite, three_pages: Path) -> None:
    for name in ("one", "two", "three"):
        await site.submit(three_pages, "alice", name=name)
    token = await site.session("c-alice")

    async def page(size: int, page_token: str = "") -> terminal_pb2.ListJobsResponse:
        request = terminal_pb2.ListJobsRequest(session_token=token, page_size=size, page_token=page_token)
        return await site.terminal.stub.ListJobs(request)

    first = await page(2)
    assert [job.name for job in first.jobs] == ["one", "two"] and first.next_page_token
    second = await page(2, first.next_page_token)
    assert [job.name for job in second.jobs] == ["three"] and second.next_page_token == ""
    assert [job.name for job in (await page(0)).jobs] == ["one", "two", "three"]


async def test_the_terminal_client_asks_in_pages_and_gets_every_job(
    site: PrintSite, three_pages: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("one", "two", "three"):
        await site.submit(three_pages, "alice", name=name)
    token = await site.session("c-alice")
    monkeypatch.setattr(hub_client, "LIST_JOBS_PAGE_SIZE", 2)
    client = HubClient(site.terminal.credentials)
    try:
        assert [job.name for job in await client.list_jobs(token)] == ["one", "two", "three"]
    finally:
        await client.close()


@pytest.mark.parametrize(("transport", "reported"), [("lpd", False), ("ipp", True)])
async def test_release_over_lpd_and_ipp(
    site: PrintSite, three_pages: Path, transport: str, reported: bool
) -> None:
    address = site.mfp.ipp_uri if transport == "ipp" else f"127.0.0.1:{site.mfp.lpd_port}"
    await site.clients.call_admin(
        "UpsertPrinter", admin_pb2.Printer(name="mfp-1", address=address, transport=transport)
    )
    await site.submit(three_pages, "alice")
    token = await site.session("c-alice")
    (job,) = await site.list_jobs(token)
    progress = await site.release(token, "k", [release_item(job.id, mono=True)])
    assert progress[-1].state == PRINTED
    assert (progress[-1].pages_printed, progress[-1].pages_reported_by_printer) == (3, reported)
    assert [(j.protocol, j.pages, j.color) for j in site.mfp.device.jobs] == [(transport, 3, False)]
    assert await site.clients.balance("alice") == 500 - 30 and site.holds_cents() == 0


async def test_a_terminal_hanging_up_mid_release_does_not_strand_the_job(
    site: PrintSite, three_pages: Path
) -> None:
    assert site.running.printing is not None
    # The printer takes the job but never answers; the hub waits 1 s for its page count.
    site.mfp.behaviour.raw_silent = True
    port = site.mfp.raw_port
    site.running.printing.jobs.transports = lambda printer: Raw9100Transport(
        "127.0.0.1", port, end_timeout_s=1.0
    )
    await site.submit(three_pages, "alice")
    token = await site.session("c-alice")
    (job,) = await site.list_jobs(token)
    request = terminal_pb2.ReleaseJobsRequest(
        session_token=token, jobs=[release_item(job.id)], idempotency_key="hang-up"
    )
    call = site.terminal.stub.ReleaseJobs(request)
    assert (await call.read()).state == SENDING
    call.cancel()
    for _ in range(200):
        if site.job_state(job.id) == "printed":
            break
        await asyncio.sleep(0.05)
    assert site.job_state(job.id) == "printed"
    assert await site.clients.balance("alice") == 500 - 70 and site.holds_cents() == 0


async def test_sweep_expires_held_jobs_and_printed_documents(site: PrintSite, three_pages: Path) -> None:
    assert site.running.printing is not None
    jobs = site.running.printing.jobs
    await site.submit(three_pages, "alice", name="to-print")
    await site.submit(three_pages, "alice", name="forgotten")
    token = await site.session("c-alice")
    printed, forgotten = await site.list_jobs(token)
    await site.release(token, "k", [release_item(printed.id)])
    assert jobs.sweep() == [] and len(jobs.spool.entries()) == 2
    site.clients.clock.advance(4 * 3600 + 1)  # past expiry_hours: the held job expires
    assert len(jobs.sweep()) == 1
    assert (site.job_state(forgotten.id), site.job_state(printed.id)) == ("expired", "printed")
    assert [job.id for job in await site.list_jobs(await site.session("c-alice"))] == [printed.id]
    site.clients.clock.advance(20 * 3600)  # past reprint_hours: the printed document goes too
    assert len(jobs.sweep()) == 1 and jobs.spool.entries() == []
    assert await site.list_jobs(await site.session("c-alice")) == []


@pytest.mark.parametrize(("policy", "outcome"), [("allow", PRINTED), ("refuse", REFUSED)])
async def test_a_silent_snmp_agent_allows_or_refuses_as_configured(
    tmp_path: Path, three_pages: Path, policy: str, outcome: int
) -> None:
    database = f"sqlite:///{tmp_path / 'hub.db'}"
    async with open_site(tmp_path, database, snmp_unreachable=policy, snmp_timeout_s=0.3) as site:
        await site.submit(three_pages, "alice")
        token = await site.session("c-alice")
        (job,) = await site.list_jobs(token)
        site.mfp.device.snmp_silent = True
        progress = await site.release(token, "k", [release_item(job.id)])
        assert progress[-1].state == outcome
        if outcome == REFUSED:
            assert progress[-1].message == "printer mfp-1 does not answer status queries; try again later"
            assert site.mfp.device.jobs == [] and await site.clients.balance("alice") == 500


async def test_a_line_cut_mid_document_asks_the_printer_before_refunding(
    site: PrintSite, tmp_path: Path
) -> None:
    """The printer stops reading part-way through and the hub gives up (write timeout): it asks
    the printer (PJL page counter), which printed nothing, so the job is back to held and
    uncharged; the printer, reading on, gets a cut-off job that prints no page."""
    assert site.running.printing is not None
    port = site.mfp.raw_port
    site.running.printing.jobs.transports = lambda printer: Raw9100Transport(
        "127.0.0.1", port, write_timeout_s=0.5
    )
    big = tmp_path / "big.ps"
    big.write_bytes(BIG_PAGE_PS)
    await site.submit(big, "alice")
    token = await site.session("c-alice")
    (job,) = await site.list_jobs(token)
    site.mfp.behaviour.stall_after_bytes = 64 * 1024
    progress = await site.release(token, "cut", [release_item(job.id)])
    assert progress[-1].state == terminal_pb2.RELEASE_STATE_FAILED
    assert progress[-1].message == "not printed: the page counter did not move"
    site.mfp.behaviour.stall_after_bytes = None
    assert [(listed.printed, listed.may_have_printed) for listed in await site.list_jobs(token)] == [
        (False, False)
    ]
    assert await site.clients.balance("alice") == 500 and site.holds_cents() == 0
    assert sum(printed.impressions for printed in site.mfp.device.jobs) == 0
