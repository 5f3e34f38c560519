"""Favourite jobs, one job passed on to a colleague, and the colleague search, on both backends:
real ipptool submissions to the hub's IPP queue, the TerminalService RPCs over gRPC, the simulated
MFP as the printer, the sweep on the hub's clock and the ledger checked to the cent."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from pathlib import Path
from typing import Any

import grpc
import pytest
import pytest_asyncio
from printgate.v1 import terminal_pb2

from hub_server.domain.jobs import DELEGATES_PER_JOB_MAX, FAVOURITES_MAX, SEARCH_LIMIT_MAX
from hub_server.intake import JobRecord
from tests.hub_server.test_release_site import THREE_PAGES_PS, PrintSite, open_site

pytestmark = pytest.mark.asyncio

PRINTED = terminal_pb2.RELEASE_STATE_PRINTED
REFUSED = terminal_pb2.RELEASE_STATE_REFUSED


@pytest_asyncio.fixture
async def site(tmp_path: Path, database_url: str) -> AsyncIterator[PrintSite]:
    async with open_site(tmp_path, database_url) as opened:
        await opened.clients.create_user("bob", card="c-bob", credit_cents=100, full_name="Bob Builder")
        await opened.clients.create_user("carol", card="c-carol", full_name="Carol Bobson")
        yield opened


@pytest.fixture
def three_pages(tmp_path: Path) -> Path:
    path = tmp_path / "three-pages.ps"
    path.write_bytes(THREE_PAGES_PS)
    return path


async def call(site: PrintSite, name: str, request: object) -> Any:
    return await getattr(site.terminal.stub, name)(request)


async def star(site: PrintSite, token: str, job_id: int, favourite: bool = True) -> Any:
    request = terminal_pb2.SetFavouriteRequest(session_token=token, job_id=job_id, favourite=favourite)
    return await call(site, "SetFavourite", request)


async def pass_on(
    site: PrintSite, token: str, job_id: int, username: str, withdraw: bool = False
) -> list[str]:
    request = terminal_pb2.DelegateJobRequest(
        session_token=token, job_id=job_id, username=username, withdraw=withdraw
    )
    reply = await call(site, "DelegateJob", request)
    return [colleague.username for colleague in reply.delegates]


async def search(site: PrintSite, token: str, query: str, limit: int = 0) -> list[tuple[str, str]]:
    request = terminal_pb2.SearchColleaguesRequest(session_token=token, query=query, limit=limit)
    reply = await call(site, "SearchColleagues", request)
    return [(colleague.username, colleague.full_name) for colleague in reply.colleagues]


async def refused(coroutine: Awaitable[object]) -> grpc.StatusCode:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await coroutine
    return caught.value.code()


async def test_a_favourite_outlives_the_reprint_window_and_expiry_until_unstarred(
    site: PrintSite, three_pages: Path
) -> None:
    assert site.running.printing is not None
    jobs = site.running.printing.jobs
    await site.submit(three_pages, "alice", name="kept")
    await site.submit(three_pages, "alice", name="held-kept")
    await site.submit(three_pages, "alice", name="ordinary")
    token = await site.session("c-alice")
    kept, held_kept, ordinary = await site.list_jobs(token)
    assert not kept.favourite
    await site.release(token, "k1", [terminal_pb2.JobRelease(job_id=kept.id)])
    await site.release(token, "k2", [terminal_pb2.JobRelease(job_id=ordinary.id)])
    reply = await star(site, token, kept.id)
    assert (reply.favourite, reply.favourites, reply.favourites_max) == (True, 1, FAVOURITES_MAX)
    again = await star(site, token, kept.id)  # starring twice changes nothing
    assert (again.favourite, again.favourites) == (True, 1)
    assert (await star(site, token, held_kept.id)).favourites == 2
    site.clients.clock.advance(30 * 3600)  # past the expiry (4 h) and the reprint window (24 h)
    assert len(jobs.sweep()) == 1  # only the ordinary printed document is shredded
    states = [site.job_state(job_id) for job_id in (kept.id, held_kept.id, ordinary.id)]
    assert states == ["printed", "held", "printed"]
    token = await site.session("c-alice")
    listed = await site.list_jobs(token)
    assert [(job.name, job.favourite, job.printed) for job in listed] == [
        ("kept", True, True),
        ("held-kept", True, False),
    ]
    reprint = await site.release(token, "k3", [terminal_pb2.JobRelease(job_id=kept.id, overrides=None)])
    assert reprint[-1].state == PRINTED and len(site.mfp.device.jobs) == 3
    assert await site.clients.balance("alice") == 500 - 3 * 70
    unstarred = await star(site, token, kept.id, favourite=False)
    assert (unstarred.favourite, unstarred.favourites) == (False, 1)
    await star(site, token, held_kept.id, favourite=False)
    assert len(jobs.sweep()) == 1  # the held one expired long ago; the reprint is inside its window
    assert (site.job_state(kept.id), site.job_state(held_kept.id)) == ("printed", "expired")
    assert [job.name for job in await site.list_jobs(token)] == ["kept"]
    site.clients.clock.advance(25 * 3600)
    assert len(jobs.sweep()) == 1  # and now the reprinted one's window has passed
    assert await site.list_jobs(await site.session("c-alice")) == []
    assert (await site.clients.check_ledger()).ok and site.holds_cents() == 0


async def test_only_the_owner_stars_a_job_whose_document_is_kept(site: PrintSite, three_pages: Path) -> None:
    await site.submit(three_pages, "alice")
    alice = await site.session("c-alice")
    (job,) = await site.list_jobs(alice)
    bob = await site.session("c-bob")
    assert await refused(star(site, bob, job.id)) == grpc.StatusCode.PERMISSION_DENIED
    assert await refused(star(site, alice, 999_999)) == grpc.StatusCode.NOT_FOUND
    deleted = await call(
        site, "DeleteJobs", terminal_pb2.DeleteJobsRequest(session_token=alice, job_ids=[job.id])
    )
    assert deleted.deleted == 1
    assert await refused(star(site, alice, job.id)) == grpc.StatusCode.FAILED_PRECONDITION


async def test_favourites_are_bounded_per_user(site: PrintSite) -> None:
    registry = site.running.hub.job_registry
    now_s = site.clients.clock.now_us() / 1_000_000
    ids = [
        registry.add_job(
            JobRecord("alice", "alice", f"job-{n}", "application/pdf", "default", "ipp", now_s, now_s + 3600,
                      spool_id=f"spool-{n}")
        )
        for n in range(FAVOURITES_MAX + 1)
    ]  # fmt: skip
    token = await site.session("c-alice")
    for count, job_id in enumerate(ids[:FAVOURITES_MAX], start=1):
        assert (await star(site, token, job_id)).favourites == count
    assert await refused(star(site, token, ids[-1])) == grpc.StatusCode.RESOURCE_EXHAUSTED
    await star(site, token, ids[0], favourite=False)
    assert (await star(site, token, ids[-1])).favourites == FAVOURITES_MAX


async def test_a_hub_with_private_queues_keeps_no_favourites(tmp_path: Path, three_pages: Path) -> None:
    async with open_site(tmp_path, f"sqlite:///{tmp_path / 'hub.db'}", private=True) as site:
        await site.submit(three_pages, "alice")
        token = await site.session("c-alice")
        (job,) = await site.list_jobs(token)
        assert await refused(star(site, token, job.id)) == grpc.StatusCode.FAILED_PRECONDITION


async def test_a_job_passed_on_is_listed_released_and_charged_to_its_owner(
    site: PrintSite, three_pages: Path
) -> None:
    await site.submit(three_pages, "alice", name="for-bob")
    await site.submit(three_pages, "alice", name="mine")
    alice = await site.session("c-alice")
    for_bob, mine = await site.list_jobs(alice)
    assert await pass_on(site, alice, for_bob.id, "bob") == ["bob"]
    assert await pass_on(site, alice, for_bob.id, "bob") == ["bob"]  # twice: no change
    assert await pass_on(site, alice, for_bob.id, "carol") == ["bob", "carol"]
    listed = {job.name: job for job in await site.list_jobs(alice)}
    assert [c.username for c in listed["for-bob"].delegates] == ["bob", "carol"]
    assert [c.full_name for c in listed["for-bob"].delegates] == ["Bob Builder", "Carol Bobson"]
    assert list(listed["mine"].delegates) == [] and not listed["for-bob"].delegated
    bob = await site.session("c-bob")
    (seen,) = await site.list_jobs(bob)  # the one job, not alice's others
    assert (seen.id, seen.owner, seen.delegated, list(seen.delegates)) == (for_bob.id, "alice", True, [])
    thumbnail = await call(
        site, "GetThumbnail", terminal_pb2.GetThumbnailRequest(session_token=bob, job_id=seen.id)
    )
    assert thumbnail.png.startswith(b"\x89PNG")
    others = call(site, "GetThumbnail", terminal_pb2.GetThumbnailRequest(session_token=bob, job_id=mine.id))
    assert await refused(others) == grpc.StatusCode.PERMISSION_DENIED
    stolen = await site.release(bob, "b0", [terminal_pb2.JobRelease(job_id=mine.id)])
    assert stolen[-1].state == REFUSED and site.mfp.device.jobs == []
    assert await refused(star(site, bob, seen.id)) == grpc.StatusCode.PERMISSION_DENIED
    assert await refused(pass_on(site, bob, seen.id, "carol")) == grpc.StatusCode.PERMISSION_DENIED
    progress = await site.release(bob, "b1", [terminal_pb2.JobRelease(job_id=seen.id)])
    assert progress[-1].state == PRINTED and len(site.mfp.device.jobs) == 1
    assert await site.clients.balance("alice") == 500 - 70  # the owner pays, not bob
    assert await site.clients.balance("bob") == 100
    assert site.job_state(for_bob.id) == "printed" and site.job_state(mine.id) == "held"
    carol = await site.session("c-carol")
    (reprintable,) = await site.list_jobs(carol)  # printed, inside the reprint window
    assert (reprintable.id, reprintable.printed) == (for_bob.id, True)
    assert (await site.clients.check_ledger()).ok and site.holds_cents() == 0


async def test_a_job_taken_back_is_no_longer_the_colleagues(site: PrintSite, three_pages: Path) -> None:
    await site.submit(three_pages, "alice")
    alice = await site.session("c-alice")
    (job,) = await site.list_jobs(alice)
    await pass_on(site, alice, job.id, "bob")
    await pass_on(site, alice, job.id, "carol")
    assert await pass_on(site, alice, job.id, "bob", withdraw=True) == ["carol"]
    missing = pass_on(site, alice, job.id, "bob", withdraw=True)
    assert await refused(missing) == grpc.StatusCode.NOT_FOUND
    bob = await site.session("c-bob")
    assert await site.list_jobs(bob) == []
    refusal = await site.release(bob, "b1", [terminal_pb2.JobRelease(job_id=job.id)])
    assert refusal[-1].state == REFUSED and site.mfp.device.jobs == []
    assert await site.clients.balance("alice") == 500


async def test_passing_a_job_on_is_checked_and_bounded(site: PrintSite, three_pages: Path) -> None:
    await site.submit(three_pages, "alice")
    alice = await site.session("c-alice")
    (job,) = await site.list_jobs(alice)
    assert await refused(pass_on(site, alice, job.id, "nobody")) == grpc.StatusCode.NOT_FOUND
    assert await refused(pass_on(site, alice, job.id, "alice")) == grpc.StatusCode.INVALID_ARGUMENT
    assert await refused(pass_on(site, alice, 999_999, "bob")) == grpc.StatusCode.NOT_FOUND
    await site.clients.create_user("gone", active=False)
    assert await refused(pass_on(site, alice, job.id, "gone")) == grpc.StatusCode.NOT_FOUND
    names = [f"colleague{n:02d}" for n in range(DELEGATES_PER_JOB_MAX + 1)]
    for name in names:
        await site.clients.create_user(name)
    for name in names[:DELEGATES_PER_JOB_MAX]:
        await pass_on(site, alice, job.id, name)
    assert await refused(pass_on(site, alice, job.id, names[-1])) == grpc.StatusCode.RESOURCE_EXHAUSTED
    listed = await site.list_jobs(alice)
    assert [c.username for c in listed[0].delegates] == names[:DELEGATES_PER_JOB_MAX]
    await call(site, "DeleteJobs", terminal_pb2.DeleteJobsRequest(session_token=alice, job_ids=[job.id]))
    assert await refused(pass_on(site, alice, job.id, "bob")) == grpc.StatusCode.FAILED_PRECONDITION


async def test_the_colleague_search_finds_names_and_never_the_caller(site: PrintSite) -> None:
    await site.clients.create_user("bobby", full_name="Roberta Tables", department="Accounts")
    await site.clients.create_user("robert", full_name="Robert Bobrowski")
    await site.clients.create_user("bob_", full_name="Underscore Bob")
    await site.clients.create_user("bobinactive", full_name="Bob Gone", active=False)
    alice = await site.session("c-alice")
    # username prefix matches first (by full name), then full-name matches; inactive users never
    assert await search(site, alice, "bob") == [
        ("bob", "Bob Builder"),
        ("bobby", "Roberta Tables"),
        ("bob_", "Underscore Bob"),
        ("carol", "Carol Bobson"),
        ("robert", "Robert Bobrowski"),
    ]
    assert await search(site, alice, "  BOB_ ") == [("bob_", "Underscore Bob")]  # "_" is no wildcard
    assert await search(site, alice, "b%") == []  # "%" is literal too
    assert await search(site, alice, "bob", limit=2) == [("bob", "Bob Builder"), ("bobby", "Roberta Tables")]
    reply = await call(
        site, "SearchColleagues", terminal_pb2.SearchColleaguesRequest(session_token=alice, query="tables")
    )
    assert [(c.username, c.department) for c in reply.colleagues] == [("bobby", "Accounts")]
    assert await search(site, alice, "alice") == []  # never the caller
    bob = await site.session("c-bob")
    assert [name for name, _ in await search(site, bob, "bob")] == ["bobby", "bob_", "carol", "robert"]
    for query in ("b", "x" * 65, "bo\x00b"):
        assert await refused(search(site, alice, query)) == grpc.StatusCode.INVALID_ARGUMENT
    assert await refused(search(site, alice, "bob", limit=-1)) == grpc.StatusCode.INVALID_ARGUMENT
    for n in range(SEARCH_LIMIT_MAX + 5):
        await site.clients.create_user(f"many{n:02d}")
    assert len(await search(site, alice, "many", limit=1000)) == SEARCH_LIMIT_MAX
    assert len(await search(site, alice, "many")) == 10


async def test_sharing_needs_a_live_session(site: PrintSite, three_pages: Path) -> None:
    await site.submit(three_pages, "alice")
    alice = await site.session("c-alice")
    (job,) = await site.list_jobs(alice)
    await site.terminal.logout(alice)
    for attempt in (
        star(site, alice, job.id),
        pass_on(site, alice, job.id, "bob"),
        search(site, alice, "bob"),
    ):
        assert await refused(attempt) == grpc.StatusCode.UNAUTHENTICATED
