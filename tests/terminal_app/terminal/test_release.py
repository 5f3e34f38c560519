"""Held-job release through the engine: a hub with print intake, a job submitted with the real
ipptool, listed on the home screen with its price, released as mono to the simulated MFP."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

from gpiozero.pins.mock import MockFactory

from hub_server.intake import REASON_ANALYSING, REASON_HELD
from mfp_adapters import FihPanelLock
from terminal_app.hub import HubClient
from terminal_app.session import FakeClock, open_store
from terminal_app.terminal import (
    CardPresented,
    DeleteJobs,
    JobOverrides,
    Journal,
    MessageKey,
    OfflineCache,
    PulseCopyCounter,
    ReleaseAll,
    ReleaseSelected,
    Screen,
    TerminalEngine,
)
from tests.hub_server.test_release_site import THREE_PAGES_PS, PrintSite, open_site
from tests.terminal_app.conftest import ALICE_CARD


@contextlib.asynccontextmanager
async def terminal_at(site: PrintSite, tmp_path: Path) -> AsyncIterator[TerminalEngine]:
    """A terminal engine of the site's enrolled terminal, beside a mock copier panel; closed after."""
    factory = MockFactory()
    panel = FihPanelLock(pin_factory=factory, grace_s=0.0)
    store = open_store(tmp_path / "terminal.db")
    client = HubClient(site.terminal.credentials)
    engine = TerminalEngine(
        hub=client,
        panel=panel,
        counter=PulseCopyCounter(panel),
        journal=Journal(store),
        cache=OfflineCache(store, b"k" * 32, FakeClock(), ttl_s=3600, max_users=10),
        clock=FakeClock(),
    )
    try:
        yield engine
    finally:
        await engine.close()
        await client.close()
        panel.close()
        factory.close()
        store.close()


async def test_list_release_as_mono_and_delete(tmp_path: Path, database_url: str) -> None:
    async with open_site(tmp_path, database_url, card=ALICE_CARD, credit_cents=500) as site:
        document = tmp_path / "three.ps"
        document.write_bytes(THREE_PAGES_PS)
        await site.submit(document, "alice", name="report")
        await site.submit(document, "alice", name="draft")
        async with terminal_at(site, tmp_path) as engine:
            screens: list[Screen] = []
            engine.subscribe(lambda state: screens.append(state.screen))
            await engine.start()
            await engine.dispatch(CardPresented(ALICE_CARD))
            state = engine.state
            assert state.jobs_supported and [job.name for job in state.jobs] == ["report", "draft"]
            report, draft = state.jobs
            assert (report.pages, report.color_pages, report.price_cents) == (3, 1, 50 + 2 * 10)
            assert report.allowed_mono
            # the hub's prices per override (mono 10/7, colour 50/40 per side simplex/duplex)
            assert report.price_for(JobOverrides()) == 50 + 2 * 10
            assert report.price_for(JobOverrides(mono=True)) == 3 * 10
            assert report.price_for(JobOverrides(duplex=True)) == 40 + 2 * 7
            assert report.price_for(JobOverrides(mono=True, duplex=True)) == 3 * 7
            # the thumbnails came with the list, as the hub's GetThumbnail gives them
            thumbnail = await engine.thumbnail(report.job_id)
            assert thumbnail is not None and thumbnail.startswith(b"\x89PNG\r\n\x1a\n")
            assert report.thumbnail_png == thumbnail and draft.thumbnail_png.startswith(b"\x89PNG")
            assert await engine.thumbnail(987654) is None  # not one of hers
            overrides = ((report.job_id, JobOverrides(mono=True)),)
            await engine.dispatch(ReleaseSelected((report.job_id,), overrides))
            state = engine.state
            assert (state.screen, state.message) == (Screen.HOME, MessageKey.RELEASE_DONE)
            assert state.message_args == (("printed", "1"), ("failed", "0"))
            [progress] = state.release
            assert (progress.state, progress.pages_printed, progress.charged_cents) == ("printed", 3, 30)
            assert [(job.name, job.printed) for job in state.jobs] == [("report", True), ("draft", False)]
            assert state.jobs[0].thumbnail_png == thumbnail  # kept across the reload, not fetched again
            assert state.balance_cents == 500 - 30 == await site.clients.balance("alice")
            [printed] = site.mfp.device.jobs  # the hub names the job it sends after its own id
            assert (printed.impressions, printed.color) == (3, False)
            await engine.dispatch(DeleteJobs((draft.job_id,)))
            assert engine.state.message is MessageKey.JOBS_DELETED
            assert engine.state.message_args == (("deleted", "1"),)
            assert [job.name for job in engine.state.jobs] == ["report"]
            assert Screen.RELEASING in screens and screens[-1] is Screen.HOME


async def test_print_all_leaves_out_jobs_sent_without_a_password(tmp_path: Path, database_url: str) -> None:
    """Issue 19: a job whose owner only claimed the name is marked on the list and left out of
    "print all"; picked explicitly it prints. A job still being counted is marked too."""
    async with open_site(tmp_path, database_url, card=ALICE_CARD, credit_cents=500) as site:
        document = tmp_path / "three.ps"
        document.write_bytes(THREE_PAGES_PS)
        await site.submit(document, "alice", name="claimed")
        await site.submit(document, "alice", name="verified")
        registry = site.running.hub.job_registry
        claimed_record, verified_record = registry.list_jobs("alice")
        # as intake records an authenticated submission (the hub's queue cannot ask for one yet)
        registry.update_job(replace(verified_record, owner_verified=True))
        registry.update_job(replace(claimed_record, state_reasons=(REASON_HELD, REASON_ANALYSING)))
        async with terminal_at(site, tmp_path) as engine:
            await engine.start()
            await engine.dispatch(CardPresented(ALICE_CARD))
            assert [(job.name, job.owner_verified, job.analysing) for job in engine.state.jobs] == [
                ("claimed", False, True),
                ("verified", True, False),
            ]
            await engine.dispatch(ReleaseAll())
            state = engine.state
            assert (state.message, state.message_args) == (
                MessageKey.RELEASE_DONE,
                (("printed", "1"), ("failed", "0")),
            )
            assert [(job.name, job.printed) for job in state.jobs] == [("claimed", False), ("verified", True)]
            assert len(site.mfp.device.jobs) == 1
            # only the claimed job waits: "print all" says to pick it, and prints nothing
            await engine.dispatch(ReleaseAll())
            assert engine.state.message is MessageKey.RELEASE_PICK_UNVERIFIED
            assert len(site.mfp.device.jobs) == 1
            claimed = engine.state.jobs[0]
            await engine.dispatch(ReleaseSelected((claimed.job_id,), ()))
            assert engine.state.message_args == (("printed", "1"), ("failed", "0"))
            assert len(site.mfp.device.jobs) == 2
            assert engine.state.balance_cents == 500 - 2 * 70 == await site.clients.balance("alice")
