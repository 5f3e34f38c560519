"""Scanning wired into a running hub: ``[scan]`` in the hub's configuration starts the SMTP
receiver (STARTTLS with the hub's certificate); a card tap at the terminal beside the MFP is
what attributes the MFP's scan to a person (the session locator over the hub's tables); the
terminal picks a profile (ListScanProfiles / SetScanProfile); the scan is charged per page
through the ledger exactly once and logged. Both storage backends; the simulated MFP sends
real SMTP from its own loopback address to the hub, the hub mails a private sink."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import ssl
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
import pytest_asyncio
from gpiozero.pins.mock import MockFactory
from PIL import Image
from printgate.v1 import admin_pb2

from hub_server.clock import FakeClock
from hub_server.config import WebConfig
from hub_server.domain.users import UserRef
from hub_server.scan import ScanOutcome, load_scan_config
from hub_server.server import ADMIN_TOKEN_FILE, HUB_CA_FILE, RunningHub, start_hub
from hw_sim.mfp import MfpSimServer
from hw_sim.mfp.model import SimulatedMfp
from hw_sim.mfp.scan_to_email import ScanToEmail
from mfp_adapters import CommunityAuth, FihPanelLock, MfpSnmp, SnmpClient
from terminal_app.errors import HubCallError, Refused
from terminal_app.hub.client import HubClient
from terminal_app.hub.values import Outcome, UsageReport
from terminal_app.session import FakeClock as TerminalClock
from terminal_app.session import open_store
from terminal_app.session.intents import Logout
from terminal_app.terminal import (
    CardPresented,
    ChooseScanProfile,
    Journal,
    OfflineCache,
    SnmpCopyCounter,
    TerminalEngine,
)
from tests.hub_server.admin_runner import admin
from tests.hub_server.conftest import HubClients, TerminalClient, admin_channel_of, hub_config
from tests.hub_server.scan.conftest import PRINTER_ADDRESS, SCAN_ADDRESS, MailSink
from tests.hub_server.web.conftest import PASSWORD, Browser
from tests.terminal_app.conftest import DEFAULT_SETTINGS, make_engine

pytestmark = pytest.mark.slow

GRACE_S = 60
COUNTER_WAIT_S = GRACE_S + 60  # the grace, and the hub's margin for scans still being stored


@dataclass
class ScanSite:
    clients: HubClients
    running: RunningHub
    terminal: TerminalClient  # beside the MFP km-c300i
    desk: TerminalClient  # a terminal at no printer
    device: SimulatedMfp
    scanner: ScanToEmail
    sink: MailSink

    async def scan(self, pages: int) -> int:
        """The MFP scans ``pages`` blank pages and mails them to the hub; the SMTP reply code."""
        blank = [Image.new("L", (850, 1100), 250 - 10 * index) for index in range(pages)]
        (sent,) = await asyncio.to_thread(self.scanner.scan, blank)
        return sent.reply_code

    def hub_client(self, terminal: TerminalClient) -> HubClient:
        return HubClient(terminal.credentials)

    async def settled(self) -> None:
        """Every scan taken is delivered and logged."""
        assert self.running.scanning is not None
        await self.running.scanning.settle()


@pytest_asyncio.fixture
async def site(
    request: pytest.FixtureRequest, tmp_path: Path, database_url: str, mail_sink: MailSink
) -> AsyncIterator[ScanSite]:
    """The hub (scan intake, and the web portal for download links), the MFP km-c300i with a
    terminal beside it, a terminal at no printer, alice and bob."""
    folder = tmp_path / "hub"
    email: dict[str, object] = {"relay": f"127.0.0.1:{mail_sink.port}", "sender": "scans@hub.printgate.test"}
    attach_limit = request.node.get_closest_marker("scan_attach_bytes_max")
    if attach_limit is not None:
        email["attach_bytes_max"] = attach_limit.args[0]
    scan_table = {
        "listen": "127.0.0.1:0",
        "recipients": [SCAN_ADDRESS],  # no certificate: STARTTLS with the hub PKI's server certificate
        "grace_s": GRACE_S,
        "conversion_workers": 1,
        "link_base_url": "https://hub.test/scans/",
        "email": email,
    }
    web = WebConfig(listen="127.0.0.1:0")
    config = replace(hub_config(folder, database_url), scan=scan_table, web=web)
    clock = FakeClock()
    running = await start_hub(config, clock)
    token = (folder / ADMIN_TOKEN_FILE).read_text().strip()
    channel = admin_channel_of(running)
    clients = HubClients(running=running, channel=channel, admin_token=token, clock=clock)
    try:
        await clients.call_admin("UpsertPrinter", admin_pb2.Printer(name="km-c300i", address="127.0.0.1:9"))
        terminal = await clients.create_terminal("t-1", printer="km-c300i")
        desk = await clients.create_terminal("t-desk")
        await clients.create_user("alice", card="c-alice", credit_cents=500, email="alice@example.test")
        await clients.create_user("bob", card="c-bob", credit_cents=500, email="bob@example.test")
        added = await admin(clients, f"scan printer-add km-c300i --address {PRINTER_ADDRESS}")
        assert added.code == 0, added.err
        saved = await admin(
            clients,
            "scan profile-save scan-priced --name-en 'Scan to me (charged)'"
            " --name-de 'Scan an mich (kostenpflichtig)' --price-per-page-cents 5",
        )
        assert saved.code == 0, saved.err
        assert running.scanning is not None
        device = SimulatedMfp()
        scanner = ScanToEmail(
            PRINTER_ADDRESS,
            "127.0.0.1",
            running.scanning.smtp.port,
            "km-c300i@mfp.printgate.test",
            SCAN_ADDRESS,
            tls=ssl.create_default_context(cafile=folder / HUB_CA_FILE),  # the MFP trusts the hub's CA
            device=device,
        )
        yield ScanSite(clients, running, terminal, desk, device, scanner, mail_sink)
    finally:
        await clients.close()
        with contextlib.suppress(Exception):
            await running.stop(0)


def pdf_pages(data: bytes, folder: Path) -> int:
    path = folder / "delivered.pdf"
    path.write_bytes(data)
    return int(subprocess.run(["qpdf", "--show-npages", str(path)], check=True, capture_output=True).stdout)


@pytest.mark.asyncio
async def test_a_tap_then_a_scan_reaches_the_user_and_is_charged_once(site: ScanSite, tmp_path: Path) -> None:
    token = (await site.terminal.tap("c-alice")).session_token
    client = site.hub_client(site.terminal)  # the terminal's own client, plain values
    try:
        menu = await client.scan_menu(token)
        assert [(c.profile_id, c.price_per_page_cents, c.searchable) for c in menu.choices] == [
            ("scan-to-me", 0, False),
            ("scan-to-me-searchable", 0, True),
            ("scan-priced", 5, False),
        ]
        assert [c.name("de") for c in menu.choices][2] == "Scan an mich (kostenpflichtig)"
        assert menu.chosen_id == "scan-to-me"
        await client.choose_scan_profile(token, "scan-priced")
        assert (await client.scan_menu(token)).chosen_id == "scan-priced"
    finally:
        await client.close()
    assert await site.scan(3) == 250
    mail = await asyncio.wait_for(site.sink.arrived.get(), 120)
    assert mail["To"] == "alice@example.test"
    (attachment,) = list(mail.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert pdf_pages(attachment.get_content(), tmp_path) == 3
    await site.settled()
    assert await site.clients.balance("alice") == 500 - 3 * 5
    assert (await asyncio.to_thread(site.scanner.resend)).reply_code == 250  # the MFP sends it again
    await site.settled()
    assert site.sink.messages == [mail] and await site.clients.balance("alice") == 485
    (entry,) = site.running.hub.scans.log()
    assert (
        entry.user,
        entry.printer_id,
        entry.profile_id,
        entry.status,
        entry.pages,
        entry.amount_cents,
    ) == (
        "alice",
        "km-c300i",
        "scan-priced",
        "delivered",
        3,
        15,
    )
    assert (await site.clients.check_ledger()).ok
    assert [(entry.verb, entry.details) for entry in site.device.history] == [("scan", {"pages": 3})]


@pytest.mark.asyncio
async def test_the_terminal_engine_picks_the_profile_on_its_scan_tile(site: ScanSite, tmp_path: Path) -> None:
    """The terminal's engine beside the MFP: login lists the profiles, a pick applies to the scan."""
    factory = MockFactory()
    panel = FihPanelLock(pin_factory=factory, grace_s=0.0, min_pulse_s=0.002, min_period_s=0.004)
    store = open_store(tmp_path / "terminal.db")
    clock = TerminalClock()
    client = site.hub_client(site.terminal)
    parts = {
        "client": client,
        "panel": panel,
        "journal": Journal(store),
        "cache": OfflineCache(store, b"k" * 32, clock, ttl_s=86400, max_users=10),
        "clock": clock,
    }
    engine = make_engine(parts, DEFAULT_SETTINGS)
    await engine.start()
    try:
        await engine.dispatch(CardPresented("c-alice"))
        state = engine.state
        assert [p.profile_id for p in state.scan_profiles] == [
            "scan-to-me",
            "scan-to-me-searchable",
            "scan-priced",
        ]
        assert state.scan_profile == "scan-to-me"
        await engine.dispatch(ChooseScanProfile("scan-priced"))
        assert (engine.state.scan_profile, engine.state.message) == ("scan-priced", None)
        assert await site.scan(2) == 250
        await site.settled()
        assert await site.clients.balance("alice") == 500 - 2 * 5
        await engine.close()
        assert engine.state.scan_profiles == ()  # the tile goes with the session
    finally:
        await client.close()
        panel.close()
        factory.close()
        store.close()


@pytest.mark.asyncio
async def test_after_logout_the_scan_is_the_users_only_within_the_grace(site: ScanSite) -> None:
    token = (await site.terminal.tap("c-alice")).session_token
    await site.terminal.logout(token)
    await site.desk.tap("c-bob")  # bob is logged in, but at no printer
    site.clients.clock.advance(GRACE_S - 1)
    assert await site.scan(1) == 250  # alice walked away; the MFP sent late: still hers
    mail = await asyncio.wait_for(site.sink.arrived.get(), 120)
    assert mail["To"] == "alice@example.test"
    await site.settled()
    site.clients.clock.advance(2)
    assert await site.scan(2) == 550  # past the grace: nobody's, never bob's
    await site.settled()
    assert [m["To"] for m in site.sink.messages] == ["alice@example.test"]
    assert [(e.user, e.pages, e.status) for e in site.running.hub.scans.log()] == [("alice", 1, "delivered")]
    assert await site.clients.balance("bob") == 500


@pytest.mark.asyncio
async def test_profiles_are_refused_where_nothing_scans(site: ScanSite) -> None:
    desk_token = (await site.desk.tap("c-bob")).session_token
    desk = site.hub_client(site.desk)
    terminal = site.hub_client(site.terminal)
    try:
        with pytest.raises(Refused, match="scanning is not set up at this printer"):
            await desk.scan_menu(desk_token)
        token = (await site.terminal.tap("c-alice")).session_token
        with pytest.raises(HubCallError, match="no scan profile 'no-such'"):
            await terminal.choose_scan_profile(token, "no-such")
        assert (await terminal.scan_menu(token)).chosen_id == "scan-to-me"
    finally:
        await desk.close()
        await terminal.close()


@pytest.mark.asyncio
@pytest.mark.scan_attach_bytes_max(1000)
async def test_a_scan_too_large_to_mail_is_a_link_only_its_owner_downloads(site: ScanSite) -> None:
    """The mail carries a link instead of the file; the portal gives the scan to its owner after
    login, to nobody else, and a forged link to nobody."""
    await site.running.hub.users.set_password(UserRef(username="alice"), PASSWORD)
    await site.running.hub.users.set_password(UserRef(username="bob"), PASSWORD)
    token = (await site.terminal.tap("c-alice")).session_token
    assert await site.scan(2) == 250
    await site.settled()
    await site.terminal.logout(token)
    (mail,) = site.sink.messages
    assert mail["To"] == "alice@example.test" and not list(mail.iter_attachments())
    body = mail.get_body(("plain",))
    assert body is not None
    link = re.search(r"https://hub\.test/scans/(\S+)", body.get_content())
    assert link is not None
    kept = list((site.running.hub.config.data_dir / "scan" / "links").glob("*/*.pdf"))
    assert len(kept) == 1
    assert site.running.web is not None
    base = f"https://127.0.0.1:{site.running.web.port}"
    tls = ssl.create_default_context(cafile=site.running.hub.config.data_dir / HUB_CA_FILE)
    path = f"/scans/{link.group(1)}"
    alice, bob = Browser(base, tls), Browser(base, tls)
    try:
        status, page = await alice.get(path)  # not logged in: the portal's login, then back here
        assert status == 200 and "login_token" in page
        await alice.login("portal", "alice")
        status, data, content_type = await alice.get_bytes(path)
        assert (status, content_type) == (200, "application/pdf")
        assert data == kept[0].read_bytes() and pdf_pages(data, kept[0].parent.parent) == 2
        await bob.login("portal", "bob")
        assert (await bob.get_bytes(path))[0] == 404  # a forwarded link is useless to bob
        forged = path[:-4] + ("AAAA" if not path.endswith("AAAA") else "BBBB")
        assert (await alice.get_bytes(forged))[0] == 404
    finally:
        await alice.close()
        await bob.close()


async def test_admin_scan_verbs(site: ScanSite) -> None:
    printers = await admin(site.clients, "scan printers")
    assert (printers.code, printers.out.splitlines()) == (
        0,
        ["PRINTER_ID  ADDRESSES  SMTP_LOGIN  HAS_PASSWORD", "km-c300i    127.0.0.2  -           no"],
    )
    login = await admin(
        site.clients, "scan printer-add km-c300i --login km --password-stdin", stdin="Scan-Pass-1\n"
    )
    assert login.code == 0 and "Scan-Pass-1" not in login.out
    assert login.out.splitlines()[-1] == "has_password  yes"
    # the receiver knows the new login at once: a printer with a login must use it
    assert site.running.hub.scans.printer_directory().by_credential("km", "Scan-Pass-1") is not None
    assert (await site.scan(1)) == 550  # from its address without logging in: refused now
    site.scanner.login = ("km", "Scan-Pass-1")
    assert (await site.scan(1)) == 550  # logged in, but nobody is at the printer
    unknown = await admin(site.clients, "scan printer-add no-such --address 127.0.0.5")
    assert (unknown.code, unknown.err) == (1, "printgate admin: NOT_FOUND: no printer named 'no-such'\n")
    bad = await admin(site.clients, "scan profile-save x --name-en X --name-de X --file-name '{owner}'")
    assert bad.code == 1 and "unknown file-name fields ['owner']" in bad.err
    built_in = await admin(site.clients, "scan profile-save scan-to-me --name-en X --name-de X")
    assert built_in.code == 1 and "built-in" in built_in.err
    profiles = await admin(site.clients, "scan profiles")
    assert [line.split()[0] for line in profiles.out.splitlines()] == [
        "ID",
        "scan-to-me",
        "scan-to-me-searchable",
        "scan-priced",
    ]
    removed = await admin(site.clients, "scan profile-remove scan-priced")
    assert (removed.code, removed.out) == (0, "scan profile scan-priced removed\n")
    gone = await admin(site.clients, "scan printer-remove km-c300i")
    assert gone.code == 0 and site.running.hub.scans.printers() == []
    assert (await admin(site.clients, "scan log")).out == "(none)\n"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"listen": "127.0.0.1:25", "require_starttls": False}, "recipients"),
        (
            {"listen": "127.0.0.1:25", "recipients": ["scan@x.test"], "certificate": "/etc/scan.pem"},
            "certificate and key go together",
        ),
        ({"listen": "nowhere", "recipients": ["scan@x.test"], "require_starttls": False}, "HOST:PORT"),
        ({"grace": 5}, "unknown key"),
        ({"grace_s": True}, "wrong type"),
        ({"email": {"relay": "mail:25", "sender": "nobody"}}, "sender"),
        ({"destinations": [{"name": "x", "type": "ftp"}]}, "type must be"),
        (
            {
                "listen": "127.0.0.1:25",
                "recipients": ["scan@x.test"],
                "require_starttls": False,
                "no_session": "unclaimed",
            },
            "unclaimed_destination",
        ),
    ],
)
def test_bad_scan_tables_are_refused_with_the_key_named(table: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load_scan_config(table)


@contextlib.asynccontextmanager
async def metered_terminal(
    site: ScanSite, folder: Path, device: SimulatedMfp | None = None
) -> AsyncIterator[TerminalEngine]:
    """The terminal beside the MFP (``device``, else the site's), metering its sessions with the
    MFP's counters over SNMP."""
    factory = MockFactory()
    panel = FihPanelLock(pin_factory=factory, grace_s=0.0, min_pulse_s=0.002, min_period_s=0.004)
    store = open_store(folder / "terminal.db")
    clock = TerminalClock()
    client = site.hub_client(site.terminal)
    async with MfpSimServer(device=device or site.device) as server:
        snmp = MfpSnmp(SnmpClient("127.0.0.1", server.snmp_port, CommunityAuth("public")))
        engine = TerminalEngine(
            hub=client,
            panel=panel,
            counter=SnmpCopyCounter(snmp),
            journal=Journal(store),
            cache=OfflineCache(store, b"k" * 32, clock, ttl_s=86400, max_users=10),
            settings=DEFAULT_SETTINGS,
            clock=clock,
        )
        await engine.start()
        try:
            yield engine
        finally:
            await engine.close()
            await snmp.client.aclose()
            await client.close()
            panel.close()
            factory.close()
            store.close()


def checks(site: ScanSite) -> list[tuple[str, str, int, int, int, int]]:
    return [
        (c.user, c.status, c.counter_pages, c.delivered_pages, c.failed_scans, c.copy_pages)
        for c in site.running.hub.scans.counter_checks()
    ]


@pytest.mark.asyncio
async def test_the_mfps_scan_counter_matches_the_scans_delivered_late_ones_included(
    site: ScanSite, tmp_path: Path
) -> None:
    """The MFP's scan counter over the session reaches the hub with the session-end usage; a
    scan mailed after logout (within the grace) is waited for, then the two agree."""
    assert site.running.scanning is not None
    async with metered_terminal(site, tmp_path) as engine:
        await engine.dispatch(CardPresented("c-alice"))
        assert engine.state.panel_unlocked
        assert await site.scan(2) == 250
        site.scanner.device = None  # the MFP scans one page now and mails it after the logout
        site.device.scan(1)
        await engine.dispatch(Logout())
        assert engine.state.pending_reports == 0
    await site.settled()
    assert await site.running.scanning.check_counters() == []  # the grace has not passed
    assert checks(site) == [("alice", "pending", 3, 0, 0, 0)]
    site.clients.clock.advance(GRACE_S - 1)
    assert await site.scan(1) == 250  # the late mail: still alice's
    await site.settled()
    site.clients.clock.advance(COUNTER_WAIT_S - GRACE_S + 2)
    (done,) = await site.running.scanning.check_counters()
    assert (done.status, done.counter_pages, done.delivered_pages) == ("match", 3, 3)
    assert checks(site) == [("alice", "match", 3, 3, 0, 0)]
    assert await site.running.scanning.check_counters() == []  # compared once
    listed = await admin(site.clients, "scan counter-checks")
    assert listed.code == 0, listed.err
    header, row = listed.out.splitlines()
    assert header.split() == [
        "REPORTED_AT",
        "PRINTER_ID",
        "USER",
        "STATUS",
        "COUNTER_PAGES",
        "DELIVERED_PAGES",
        "FAILED_SCANS",
        "COPY_PAGES",
        "SENT_ONLY",
    ]
    assert row.split()[1:] == ["km-c300i", "alice", "match", "3", "3", "0", "0", "yes"]
    assert await site.clients.balance("alice") == 500  # "Scan to me" is free; nothing else charged
    assert (await site.clients.check_ledger()).ok


@pytest.mark.asyncio
async def test_a_scan_counter_mismatch_is_kept_and_logged_and_charges_nothing_more(
    site: ScanSite, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The MFP counted pages that never arrived: the session is a mismatch for the admins, the
    log line names user, printer and pages (no card, no token), and only delivered pages cost."""
    assert site.running.scanning is not None
    async with metered_terminal(site, tmp_path) as engine:
        await engine.dispatch(CardPresented("c-alice"))
        await engine.dispatch(ChooseScanProfile("scan-priced"))
        assert await site.scan(1) == 250
        site.device.scan(4)  # scanned, but the mail was lost on the way
        await engine.dispatch(Logout())
    await site.settled()
    token = (await site.terminal.tap("c-bob")).session_token  # bob copies nothing, scans nothing
    await site.terminal.logout(token)
    site.clients.clock.advance(COUNTER_WAIT_S + 1)
    with caplog.at_level(logging.WARNING, logger="hub_server.domain.scan_store"):
        (done,) = await site.running.scanning.check_counters()
    assert (done.user, done.status, done.counter_pages, done.delivered_pages) == ("alice", "mismatch", 5, 1)
    (line,) = [r.getMessage() for r in caplog.records if "scan counter check" in r.getMessage()]
    assert line == (
        "scan counter check: session of alice at km-c300i: the MFP counted 5 scanned page(s),"
        " 1 delivered, 0 failed scan(s); nothing charged for the difference"
    )
    assert "c-alice" not in line and done.session_id not in line
    assert await site.clients.balance("alice") == 500 - 5  # one page delivered at 5 cents
    listed = await admin(site.clients, "scan counter-checks --mismatches")
    assert [row.split()[1:] for row in listed.out.splitlines()[1:]] == [
        ["km-c300i", "alice", "mismatch", "5", "1", "0", "0", "yes"]
    ]
    # the four pages finish after the check (another hub's intake, a long OCR): compared again
    late = ScanOutcome(
        "late-scan", "km-c300i", "alice", "scan-priced", "delivered", 4, session_id=done.session_id
    )
    await site.running.hub.scans.record_outcome(late)
    assert checks(site) == [("alice", "pending", 5, 1, 0, 0)]
    (again,) = await site.running.scanning.check_counters()
    assert (again.status, again.delivered_pages) == ("match", 5)


@pytest.mark.asyncio
async def test_a_session_with_copies_is_not_compared(site: ScanSite, tmp_path: Path) -> None:
    """Many MFPs' scan counters also count the originals read for a copy (a Ricoh's profile has
    no counter of the scans sent): with copies in the session the hub keeps both figures and does
    not call it a mismatch."""
    assert site.running.scanning is not None
    ricoh = SimulatedMfp("ricoh")
    site.scanner.device = ricoh
    async with metered_terminal(site, tmp_path, ricoh) as engine:
        await engine.dispatch(CardPresented("c-alice"))
        ricoh.copy(2)
        assert await site.scan(1) == 250
        await engine.dispatch(Logout())
    await site.settled()
    site.clients.clock.advance(COUNTER_WAIT_S + 1)
    (done,) = await site.running.scanning.check_counters()
    assert (done.status, done.counter_pages, done.delivered_pages, done.copy_pages) == (
        "not_compared",
        1,
        1,
        2,
    )


@pytest.mark.asyncio
async def test_a_counter_of_scans_sent_is_compared_even_with_copies(site: ScanSite, tmp_path: Path) -> None:
    """A Sharp counts the scans it sent apart (its profile's ``scan_sent``): copies made in the
    same session are not in that counter, so the session is compared."""
    assert site.running.scanning is not None
    sharp = SimulatedMfp("sharp")
    site.scanner.device = sharp
    async with metered_terminal(site, tmp_path, sharp) as engine:
        await engine.dispatch(CardPresented("c-alice"))
        sharp.copy(2)
        assert await site.scan(2) == 250
        await engine.dispatch(Logout())
    await site.settled()
    site.clients.clock.advance(COUNTER_WAIT_S + 1)
    (done,) = await site.running.scanning.check_counters()
    assert (done.status, done.counter_pages, done.delivered_pages, done.copy_pages, done.sent_only) == (
        "match",
        2,
        2,
        2,
        True,
    )


@pytest.mark.asyncio
async def test_a_replayed_counter_report_counts_once(site: ScanSite) -> None:
    """The terminal's journal may send a report again: the counter is added once; a terminal at
    no printer has nothing to compare."""
    token = (await site.terminal.tap("c-alice")).session_token
    desk_token = (await site.desk.tap("c-bob")).session_token
    client, desk = site.hub_client(site.terminal), site.hub_client(site.desk)
    try:
        report = UsageReport(session_token=token, idempotency_key="copy-replayed", scan_counter_pages=2)
        first, again = await client.report_usage(report), await client.report_usage(report)
        assert (first.outcome, again.outcome, first.charged_cents) == (
            Outcome.CREATED,
            Outcome.ALREADY_APPLIED,
            0,
        )
        await client.report_usage(replace(report, idempotency_key="copy-second", scan_counter_pages=1))
        elsewhere = UsageReport(session_token=desk_token, idempotency_key="copy-desk", scan_counter_pages=4)
        assert (await desk.report_usage(elsewhere)).outcome is Outcome.CREATED
    finally:
        await client.close()
        await desk.close()
    assert checks(site) == [("alice", "pending", 3, 0, 0, 0)]
