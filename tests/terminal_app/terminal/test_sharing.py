"""Favourites, a held job passed on to a colleague, and "paper low" before a release, through the
engine: a hub with print intake, jobs submitted with the real ipptool, two terminals' engines (the
owner's and the colleague's) over real gRPC, the simulated MFP as the printer and its SNMP agent
read by the real adapter."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

from gpiozero.pins.mock import MockFactory
from printgate.v1 import admin_pb2

from mfp_adapters import CommunityAuth, FihPanelLock, MfpSnmp, SnmpClient
from terminal_app.hub import HubClient
from terminal_app.session import FakeClock, open_store
from terminal_app.terminal import (
    CardPresented,
    ColleagueView,
    Journal,
    Logout,
    MessageKey,
    OfflineCache,
    PassJobOn,
    PulseCopyCounter,
    ReleaseSelected,
    SearchColleagues,
    StarJob,
    TerminalEngine,
    TrayView,
)
from tests.hub_server.test_release_site import THREE_PAGES_PS, PrintSite, open_site
from tests.terminal_app.conftest import ALICE_CARD, BOB_CARD


@asynccontextmanager
async def engine_at(site: PrintSite, folder: Path) -> AsyncIterator[TerminalEngine]:
    """A terminal engine at the site's printer, with its own journal and panel."""
    folder.mkdir()
    async with AsyncExitStack() as stack:
        factory = MockFactory()
        stack.callback(factory.close)
        panel = FihPanelLock(pin_factory=factory, grace_s=0.0)
        stack.callback(panel.close)
        store = open_store(folder / "terminal.db")
        stack.callback(store.close)
        client = HubClient(site.terminal.credentials)
        stack.push_async_callback(client.close)
        engine = TerminalEngine(
            hub=client,
            panel=panel,
            counter=PulseCopyCounter(panel),
            journal=Journal(store),
            cache=OfflineCache(store, b"k" * 32, FakeClock(), ttl_s=3600, max_users=10),
            clock=FakeClock(),
        )
        stack.push_async_callback(engine.close)
        await engine.start()
        yield engine


async def test_star_reprint_pass_on_and_take_back(tmp_path: Path, database_url: str) -> None:
    async with open_site(tmp_path, database_url, card=ALICE_CARD, credit_cents=500) as site:
        await site.clients.create_user("bob", card=BOB_CARD, credit_cents=100, full_name="Bob Builder")
        await site.clients.create_user("bobby", full_name="Roberta Tables", department="Accounts")
        await site.clients.call_admin("UpsertPrinter", _printer(site, location="Floor 2, by the lifts"))
        document = tmp_path / "three.ps"
        document.write_bytes(THREE_PAGES_PS)
        await site.submit(document, "alice", name="poster")
        await site.submit(document, "alice", name="minutes")
        async with engine_at(site, tmp_path / "alice") as engine:
            await engine.dispatch(CardPresented(ALICE_CARD))
            state = engine.state
            assert (state.printer_name, state.printer_location) == ("mfp-1", "Floor 2, by the lifts")
            poster, minutes = state.jobs
            assert not poster.favourite and state.favourites == ()
            await engine.dispatch(StarJob(poster.job_id))
            assert engine.state.message is MessageKey.FAVOURITE_ADDED
            assert engine.state.message_args == (("count", "1"), ("maximum", "20"))
            assert [job.name for job in engine.state.favourites] == ["poster"]
            await engine.dispatch(ReleaseSelected((poster.job_id,)))
            await engine.dispatch(ReleaseSelected((poster.job_id,)))  # reprinted from the favourites
            assert engine.state.message_args == (("printed", "1"), ("failed", "0"))
            assert len(site.mfp.device.jobs) == 2
            assert engine.state.balance_cents == 500 - 2 * 70 == await site.clients.balance("alice")
            assert [(job.name, job.printed, job.favourite) for job in engine.state.favourites] == [
                ("poster", True, True)
            ]
            await engine.dispatch(SearchColleagues("b"))  # too short: not asked
            assert engine.state.colleagues == ()
            await engine.dispatch(SearchColleagues("bob"))
            assert engine.state.colleagues == (
                ColleagueView("bob", "Bob Builder", ""),
                ColleagueView("bobby", "Roberta Tables", "Accounts"),
            )
            await engine.dispatch(PassJobOn(minutes.job_id, "bob"))
            assert engine.state.message is MessageKey.JOB_PASSED_ON
            assert engine.state.message_args == (("colleague", "Bob Builder"),)
            assert engine.state.colleagues == ()  # the search is done with
            assert engine.state.jobs[1].delegates == (ColleagueView("bob", "Bob Builder", ""),)
            await engine.dispatch(PassJobOn(minutes.job_id, "nobody"))
            assert engine.state.message is MessageKey.COLLEAGUE_NOT_FOUND
            await engine.dispatch(Logout())
        async with engine_at(site, tmp_path / "bob") as engine:
            await engine.dispatch(CardPresented(BOB_CARD))
            (passed,) = engine.state.jobs
            assert (passed.name, passed.owner, passed.delegated) == ("minutes", "alice", True)
            await engine.dispatch(StarJob(passed.job_id))  # only its owner may
            assert engine.state.message is MessageKey.ACCESS_DENIED and not engine.state.jobs[0].favourite
            await engine.dispatch(ReleaseSelected((passed.job_id,)))
            assert engine.state.message_args == (("printed", "1"), ("failed", "0"))
            assert engine.state.balance_cents == 100 == await site.clients.balance("bob")
            assert await site.clients.balance("alice") == 500 - 3 * 70
            await engine.dispatch(Logout())
        async with engine_at(site, tmp_path / "alice-again") as engine:
            await engine.dispatch(CardPresented(ALICE_CARD))
            minutes_now = engine.state.jobs[1]
            await engine.dispatch(PassJobOn(minutes_now.job_id, "bob", withdraw=True))
            assert engine.state.message is MessageKey.JOB_TAKEN_BACK
            assert engine.state.message_args == (("colleague", "Bob Builder"),)
            assert engine.state.jobs[1].delegates == ()
            await engine.dispatch(StarJob(poster.job_id, favourite=False))
            assert engine.state.message is MessageKey.FAVOURITE_REMOVED and engine.state.favourites == ()
        assert (await site.clients.check_ledger()).ok and site.holds_cents() == 0


async def test_paper_low_is_read_from_the_printer_and_shown_before_a_release(
    tmp_path: Path, database_url: str
) -> None:
    async with open_site(tmp_path, database_url, card=ALICE_CARD) as site:
        snmp = MfpSnmp(SnmpClient("127.0.0.1", site.mfp.snmp_port, CommunityAuth("public"), timeout_s=2.0))
        async with engine_at(site, tmp_path / "t") as engine:
            engine.printer_trays(await snmp.trays())
            assert not engine.state.paper_low
            site.mfp.device.set_paper(2, 30)  # 6 % of a 500-sheet cassette
            site.mfp.device.set_paper(3, 0)  # the bypass tray never makes it "low"
            engine.printer_trays(await snmp.trays())
            (tray,) = engine.state.paper_low
            assert (tray.state, tray.media) == ("low", "A4") and tray.name
            assert tray != TrayView(tray.name, "empty")
            site.mfp.device.set_paper(1, 0)
            engine.printer_trays(await snmp.trays())
            assert [found.state for found in engine.state.paper_low] == ["empty", "low"]
            await engine.dispatch(CardPresented(ALICE_CARD))
            assert len(engine.state.paper_low) == 2  # a session starts with it in view
            await engine.dispatch(Logout())
            site.mfp.device.set_paper(1, 500)
            site.mfp.device.set_paper(2, 500)
            engine.printer_trays(await snmp.trays())
            assert engine.state.paper_low == ()
        await snmp.client.aclose()


def _printer(site: PrintSite, location: str) -> admin_pb2.Printer:
    return admin_pb2.Printer(
        name="mfp-1", address=f"127.0.0.1:{site.mfp.raw_port}", transport="raw9100", location=location
    )
