"""Issue 19 at the hub's job list: "release all" leaves out jobs whose owner only claimed the
name (anyone on the network can send one in anyone's name), the list says which jobs those are
and which are still being analysed, and a job the hub deletes or expires has its analysis
stopped at once, not at intake's next poll. Both backends, real IPP submissions (ipptool and
raw IPP), a simulated MFP as the printer."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import grpc
import pytest
import pytest_asyncio
from printgate.v1 import admin_pb2, terminal_pb2

from hub_server.domain.release import ONLY_CLAIMED
from hub_server.intake import IntakeService, Operation, Tag
from tests.hub_server.intake.ipp_client import attribute, ipp, request
from tests.hub_server.intake.processes import live_descendants, until
from tests.hub_server.intake.test_analysis_queue import HOSTILE_PS
from tests.hub_server.test_release_site import THREE_PAGES_PS, PrintSite, open_site

pytestmark = pytest.mark.asyncio

PRINTED = terminal_pb2.RELEASE_STATE_PRINTED
SENDING = terminal_pb2.RELEASE_STATE_SENDING


@pytest_asyncio.fixture
async def site(tmp_path: Path, database_url: str) -> AsyncIterator[PrintSite]:
    async with open_site(tmp_path, database_url) as opened:
        yield opened


def intake_of(site: PrintSite) -> IntakeService:
    assert site.running.printing is not None
    return site.running.printing.intake.service


def mark_verified(site: PrintSite, job_id: int) -> None:
    """Record ``job_id`` as an authenticated submission, as intake records one (the hub's IPP
    queue cannot authenticate yet: that is the trust issue's)."""
    registry = site.running.hub.job_registry
    record = registry.get_job(job_id)
    assert record is not None and not record.owner_verified
    registry.update_job(replace(record, owner_verified=True))


async def submit_two(site: PrintSite, tmp_path: Path) -> tuple[int, int]:
    document = tmp_path / "three-pages.ps"
    document.write_bytes(THREE_PAGES_PS)
    await site.submit(document, "alice", name="claimed")
    await site.submit(document, "alice", name="verified")
    claimed, verified = (record.job_id for record in site.running.hub.job_registry.list_jobs("alice"))
    mark_verified(site, verified)
    return claimed, verified


async def test_release_all_skips_a_job_whose_owner_was_only_claimed(site: PrintSite, tmp_path: Path) -> None:
    claimed, verified = await submit_two(site, tmp_path)
    token = await site.session("c-alice")
    listed = {job.id: job for job in await site.list_jobs(token)}
    assert {job_id: (job.name, job.owner_verified) for job_id, job in listed.items()} == {
        claimed: ("claimed", False),
        verified: ("verified", True),
    }
    assert not any(job.analysing for job in listed.values())

    progress = await site.release(token, "all-1", release_all=True)
    assert [(p.job_id, p.state) for p in progress] == [(verified, SENDING), (verified, PRINTED)]
    assert (site.job_state(claimed), site.job_state(verified)) == ("held", "printed")
    assert len(site.mfp.device.jobs) == 1
    # mono 10 x 2 pages + colour 50 x 1 page
    assert await site.clients.balance("alice") == 500 - 70

    # "all" again: only the claimed job is left, and "all" never takes it
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await site.release(token, "all-2", release_all=True)
    assert (refused.value.code(), refused.value.details()) == (grpc.StatusCode.INVALID_ARGUMENT, ONLY_CLAIMED)
    assert site.job_state(claimed) == "held" and len(site.mfp.device.jobs) == 1

    # picked one by one, the owner releases it
    item = terminal_pb2.JobRelease(job_id=claimed)
    picked = await site.release(token, "one", [item])
    assert [p.state for p in picked] == [SENDING, PRINTED]
    assert site.job_state(claimed) == "printed" and len(site.mfp.device.jobs) == 2
    assert await site.clients.balance("alice") == 500 - 140
    assert site.holds_cents() == 0 and (await site.clients.check_ledger()).ok


async def hostile_job(site: PrintSite, user: str = "alice") -> int:
    response = await ipp(site.running.ipp_port, request(Operation.PRINT_JOB, user=user) + HOSTILE_PS)
    return int(attribute(response, Tag.JOB, "job-id"))  # type: ignore[call-overload]


async def test_jobs_being_analysed_are_marked_and_deleting_one_stops_its_analysis_at_once(
    site: PrintSite,
) -> None:
    intake = intake_of(site)
    running, waiting = await hostile_job(site), await hostile_job(site)  # one worker: one waits
    await until(lambda: intake.analyses.running == frozenset({running}))
    await until(lambda: len(live_descendants(os.getpid(), "gs")) == 1)
    token = await site.session("c-alice")
    listed = {job.id: job for job in await site.list_jobs(token)}
    assert {job_id: job.analysing for job_id, job in listed.items()} == {running: True, waiting: True}

    # The terminal deletes the running one: its analysis is stopped before the call returns
    # (before this wiring the entry stayed until intake's own one-second poll noticed).
    delete = terminal_pb2.DeleteJobsRequest(session_token=token, job_ids=[running])
    deleted = await site.terminal.stub.DeleteJobs(delete)
    assert deleted.deleted == 1
    assert running not in intake.analyses
    # An admin deletes the waiting one: it never starts.
    await site.clients.call_admin("DeletePrintJobs", admin_pb2.DeletePrintJobsRequest(job_ids=[waiting]))
    assert waiting not in intake.analyses
    # a stopped analysis holds its worker until its Ghostscript group is dead; none is left
    await until(lambda: intake.analyses.busy_workers == 0 and not live_descendants(os.getpid(), "gs"))


async def test_an_expired_job_has_its_analysis_stopped_by_the_sweep(site: PrintSite) -> None:
    intake = intake_of(site)
    job_id = await hostile_job(site)
    await until(lambda: intake.analyses.running == frozenset({job_id}))
    site.clients.clock.advance(site.running.hub.config.printing.expiry_hours * 3600 + 1)
    assert site.running.printing is not None
    site.running.printing.jobs.sweep()  # as the hub's sweep task runs it: on the event loop
    assert job_id not in intake.analyses
    assert site.job_state(job_id) == "expired"
    # a stopped analysis holds its worker until its Ghostscript group is dead; none is left
    await until(lambda: intake.analyses.busy_workers == 0 and not live_descendants(os.getpid(), "gs"))
