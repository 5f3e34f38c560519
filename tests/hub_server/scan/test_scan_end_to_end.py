"""Scanning end to end inside the scan subpackage: the simulated MFP sends over real SMTP
(STARTTLS) from its own loopback address -> the receiver -> attribution to the session open at
that printer (a session table stands in for the hub's registry, which is not wired yet) -> the
profile -> a private SMTP sink, Samba share or WebDAV server. Bad senders and bad mail are
refused and nothing else is delivered."""

from __future__ import annotations

import asyncio
import re
import smtplib
import subprocess
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from PIL import Image

from hub_server.scan import (
    SCAN_TO_ME,
    SCAN_TO_ME_SEARCHABLE,
    Destination,
    DirectoryLinkStore,
    EmailDestination,
    LinkError,
    LinkExpired,
    NoSessionPolicy,
    OutputFormat,
    PrinterDirectory,
    ProcessingLimits,
    RegisteredPrinter,
    ScanIntake,
    ScanIntakeConfig,
    ScanOutcome,
    ScanProcessor,
    ScanProfile,
    ScanSession,
    ScanSmtpConfig,
    ScanSmtpServer,
    SidecarFormat,
    SmbDestination,
    WebDavDestination,
    start_scan_smtp,
    verify_link,
)
from hw_sim.mfp.model import SimulatedMfp
from hw_sim.mfp.scan_to_email import VENDOR_STYLES, ScanToEmail, render_text_page
from tests.hub_server.scan.conftest import (
    PRINTER_ADDRESS,
    SCAN_ADDRESS,
    SECOND_PRINTER_ADDRESS,
    STRANGER_ADDRESS,
    ChargeRecorder,
    MailSink,
    SambaServer,
    TableSessionLocator,
    TlsMaterial,
    WebDavServer,
    now_us,
)

pytestmark = pytest.mark.slow

PAGE_TEXT = (
    "Invoice 4711 from Musterfirma GmbH in Hamburg.\n"
    "Please transfer the amount within fourteen days to the account below.\n"
    "The quick brown fox jumps over the lazy dog."
)
LINK_KEY = b"k" * 32
SMB_PROFILE = ScanProfile(
    "scan-to-home",
    "Scan to my folder",
    "Scan in meinen Ordner",
    destination="smb",
    file_name_pattern="{user}-{date}-{pages}p",
    sidecar=SidecarFormat.XML,
    price_per_page_cents=2,
)
DAV_PROFILE = ScanProfile("scan-to-cloud", "Scan to cloud", "Scan in die Cloud", destination="webdav")
PRICED_PROFILE = replace(SCAN_TO_ME, profile_id="scan-priced", price_per_page_cents=5)


@dataclass
class Hub:
    intake: ScanIntake
    smtp: ScanSmtpServer
    sessions: TableSessionLocator
    charges: ChargeRecorder
    outcomes: asyncio.Queue[ScanOutcome]
    links: DirectoryLinkStore
    spool: Path
    clock_s: list[float]

    async def next_outcome(self) -> ScanOutcome:
        return await asyncio.wait_for(self.outcomes.get(), 240)


@pytest_asyncio.fixture
async def make_hub(
    tmp_path: Path, tls: TlsMaterial, mail_sink: MailSink, smbd: SambaServer, webdav: WebDavServer
) -> AsyncIterator[Callable[..., object]]:
    servers: list[ScanSmtpServer] = []

    async def build(
        *,
        config: ScanIntakeConfig | None = None,
        limits: ProcessingLimits | None = None,
        attach_bytes_max: int = 10 * 1024 * 1024,
        data_bytes_max: int = 16 * 1024 * 1024,
        spool: Path | None = None,
        charges: ChargeRecorder | None = None,
        sessions: TableSessionLocator | None = None,
    ) -> Hub:
        clock_s = [time.time()]
        links = DirectoryLinkStore(tmp_path / "links")
        destinations: dict[str, Destination] = {
            "email": EmailDestination(
                "127.0.0.1",
                mail_sink.port,
                "scans@hub.printgate.test",
                LINK_KEY,
                "https://hub.test/scans/",
                links,
                attach_bytes_max=attach_bytes_max,
                clock_s=lambda: clock_s[0],
            ),
            "smb": SmbDestination("127.0.0.1", "scans", smbd.username, smbd.password, port=smbd.port),
            "unclaimed": SmbDestination(
                "127.0.0.1",
                "scans",
                smbd.username,
                smbd.password,
                name="unclaimed",
                port=smbd.port,
                folder_template="unclaimed",
            ),
            "webdav": WebDavDestination(webdav.url, webdav.username, webdav.password),
        }
        profiles = {
            p.profile_id: p
            for p in (SCAN_TO_ME, SCAN_TO_ME_SEARCHABLE, SMB_PROFILE, DAV_PROFILE, PRICED_PROFILE)
        }
        printers = PrinterDirectory(
            [
                RegisteredPrinter("km-c300i", frozenset({PRINTER_ADDRESS})),
                RegisteredPrinter(
                    "xerox-wc",
                    frozenset({SECOND_PRINTER_ADDRESS}),
                    "xerox-wc",
                    PrinterDirectory.hash_password("Scan-Pass-1"),
                ),
            ]
        )
        session_table = sessions or TableSessionLocator()
        charge_recorder = charges or ChargeRecorder()
        intake = ScanIntake(
            sessions=session_table,
            profiles=profiles,
            destinations=destinations,
            processor=ScanProcessor(tmp_path / "work", limits or ProcessingLimits(conversion_workers=1)),
            spool_dir=spool or tmp_path / "spool",
            spool_key=b"s" * 32,
            meter=charge_recorder,
            config=config or ScanIntakeConfig(grace_s=120),
        )
        outcomes = intake.subscribe()
        smtp = await start_scan_smtp(
            intake,
            printers,
            ScanSmtpConfig(
                frozenset({SCAN_ADDRESS}),
                port=0,
                tls_context=tls.server,
                data_bytes_max=data_bytes_max,
            ),
        )
        servers.append(smtp)
        return Hub(
            intake,
            smtp,
            session_table,
            charge_recorder,
            outcomes,
            links,
            spool or tmp_path / "spool",
            clock_s,
        )

    yield build
    for server in servers:
        await server.close()


def mfp(hub: Hub, tls: TlsMaterial, *, address: str = PRINTER_ADDRESS, **options: Any) -> ScanToEmail:
    return ScanToEmail(
        address,
        "127.0.0.1",
        hub.smtp.port,
        "km-c300i@mfp.printgate.test",
        SCAN_ADDRESS,
        tls=tls.client,
        **options,
    )


def alice(profile_id: str | None = None, **fields: str) -> ScanSession:
    return ScanSession("alice", "session-1", profile_id, "alice@example.test", "home/alice", **fields)


def blank_pages(count: int) -> list[Image.Image]:
    return [Image.new("L", (850, 1100), 255 - 20 * index) for index in range(count)]


def pdf_pages(path: Path) -> int:
    return int(subprocess.run(["qpdf", "--show-npages", str(path)], check=True, capture_output=True).stdout)


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


async def test_scan_to_me_searchable_text_layer_has_the_page_words(
    make_hub, tls, mail_sink, tmp_path
) -> None:
    hub: Hub = await make_hub()
    hub.sessions.log_in("km-c300i", alice("scan-to-me-searchable"))
    device = SimulatedMfp()
    scanner = mfp(hub, tls, device=device)
    sent = await asyncio.to_thread(scanner.scan, [render_text_page(PAGE_TEXT, seed=7)])
    assert [s.reply_code for s in sent] == [250]
    outcome = await hub.next_outcome()
    assert (outcome.status, outcome.user, outcome.pages, outcome.destination) == (
        "delivered",
        "alice",
        1,
        "email",
    )
    mail = await asyncio.wait_for(mail_sink.arrived.get(), 30)
    assert mail["To"] == "alice@example.test"
    attachments = list(mail.iter_attachments())
    assert [a.get_content_type() for a in attachments] == ["application/pdf"]
    pdf = tmp_path / "delivered.pdf"
    pdf.write_bytes(attachments[0].get_content())
    text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True).stdout.decode()
    expected, found = words(PAGE_TEXT), set(words(text))
    missing = [word for word in expected if word not in found]
    assert len(missing) <= len(expected) // 10, f"OCR missed {missing}"
    assert {"4711", "musterfirma", "hamburg"} <= found
    assert pdf_pages(pdf) == 1
    assert b"pdfaid:part" in pdf.read_bytes()  # PDF/A identification in the XMP metadata
    assert hub.charges.charges == {f"scan:{outcome.scan_id}": ("alice", "km-c300i", 1, 0)}
    assert not list(hub.spool.glob("*.scan"))  # delivered: nothing left in the spool
    assert [(entry.verb, entry.details) for entry in device.history] == [("scan", {"pages": 1})]


async def test_large_scan_is_mailed_as_a_link_that_only_its_owner_can_use(make_hub, tls, mail_sink) -> None:
    hub: Hub = await make_hub(attach_bytes_max=1000)
    hub.sessions.log_in("km-c300i", alice("scan-priced"))
    sent = await asyncio.to_thread(mfp(hub, tls).scan, blank_pages(3))
    assert [(s.reply_code, s.reply[:9]) for s in sent] == [(250, "2.0.0 sca")]
    outcome = await hub.next_outcome()
    assert (outcome.status, outcome.pages, outcome.amount_cents) == ("delivered", 3, 15)
    mail = await asyncio.wait_for(mail_sink.arrived.get(), 30)
    assert list(mail.iter_attachments()) == []
    body = mail.get_body(("plain",))
    assert body is not None
    match = re.search(r"https://hub\.test/scans/(\S+)", body.get_content())
    assert match is not None
    token = match.group(1)
    grant = verify_link(LINK_KEY, token, hub.clock_s[0])
    assert (grant.scan_id, grant.user) == (outcome.scan_id, "alice")
    [kept] = hub.links.files_for(grant)
    assert pdf_pages(kept) == 3
    with pytest.raises(LinkError, match="somebody else"):
        hub.links.files_for(replace(grant, user="mallory"))
    with pytest.raises(LinkError, match="signature"):
        verify_link(LINK_KEY, token.replace(outcome.scan_id, "0" * 32), hub.clock_s[0])
    with pytest.raises(LinkExpired):
        verify_link(LINK_KEY, token, grant.expires_unix_s)
    assert hub.links.purge(grant.expires_unix_s) == 1
    with pytest.raises(LinkExpired):
        hub.links.files_for(grant)
    assert hub.charges.charges == {f"scan:{outcome.scan_id}": ("alice", "km-c300i", 3, 15)}


async def test_scan_to_the_home_folder_on_an_smb_share(make_hub, tls, smbd) -> None:
    hub: Hub = await make_hub()
    hub.sessions.log_in("km-c300i", alice("scan-to-home"))
    await asyncio.to_thread(
        mfp(hub, tls, style=VENDOR_STYLES["ricoh"]).scan, blank_pages(2), file_format="tiff"
    )
    outcome = await hub.next_outcome()
    assert (outcome.status, outcome.destination, outcome.pages, outcome.amount_cents) == (
        "delivered",
        "smb",
        2,
        4,
    )
    folder = smbd.share_dir / "home" / "alice"
    [pdf] = folder.glob("alice-*-2p.pdf")
    assert pdf_pages(pdf) == 2
    sidecar = (folder / pdf.name).with_suffix(".xml").read_text()
    assert f"<scan_id>{outcome.scan_id}</scan_id>" in sidecar and "<pages>2</pages>" in sidecar


async def test_scan_to_webdav(make_hub, tls, webdav) -> None:
    hub: Hub = await make_hub()
    hub.sessions.log_in("km-c300i", alice("scan-to-cloud"))
    await asyncio.to_thread(
        mfp(hub, tls, style=VENDOR_STYLES["xerox"]).scan, blank_pages(2), file_format="jpeg"
    )
    outcome = await hub.next_outcome()
    assert (outcome.status, outcome.destination, outcome.pages) == ("delivered", "webdav", 2)
    [pdf] = (webdav.root_dir / "alice").glob("scan-*.pdf")
    assert pdf_pages(pdf) == 2


async def test_no_session_is_refused_and_nothing_is_delivered(make_hub, tls, mail_sink, smbd) -> None:
    hub: Hub = await make_hub()
    hub.sessions.log_in("xerox-wc", alice())  # alice is at the other printer
    sent = await asyncio.to_thread(mfp(hub, tls).scan, blank_pages(1))
    assert sent[0].reply_code == 550 and "nobody is logged in" in sent[0].reply
    await hub.intake.drain()
    assert mail_sink.messages == [] and hub.outcomes.empty() and hub.charges.calls == 0
    assert not list(hub.spool.iterdir())


async def test_no_session_goes_to_the_unclaimed_folder_not_to_a_person(
    make_hub, tls, mail_sink, smbd
) -> None:
    config = ScanIntakeConfig(no_session=NoSessionPolicy.UNCLAIMED, unclaimed_destination="unclaimed")
    hub: Hub = await make_hub(config=config)
    hub.sessions.log_in("xerox-wc", alice())
    sent = await asyncio.to_thread(mfp(hub, tls).scan, blank_pages(1))
    assert sent[0].reply_code == 250
    outcome = await hub.next_outcome()
    assert (outcome.status, outcome.user, outcome.destination, outcome.amount_cents) == (
        "unclaimed",
        None,
        "unclaimed",
        0,
    )
    assert len(list((smbd.share_dir / "unclaimed").glob(f"*{outcome.pages}p.pdf"))) >= 1
    assert mail_sink.messages == [] and hub.charges.calls == 0


async def test_grace_period_after_logout(make_hub, tls, mail_sink) -> None:
    hub: Hub = await make_hub(config=ScanIntakeConfig(grace_s=60))
    hub.sessions.log_in("km-c300i", alice(), at_us=now_us() - 600_000_000)
    hub.sessions.log_out("alice", at_us=now_us() - 30_000_000)  # walked away 30 s ago
    assert (await asyncio.to_thread(mfp(hub, tls).scan, blank_pages(1)))[0].reply_code == 250
    assert (await hub.next_outcome()).user == "alice"
    hub.sessions.rows[0].logout_us = now_us() - 90_000_000  # 90 s ago: past the grace
    sent = await asyncio.to_thread(mfp(hub, tls).scan, blank_pages(2))
    assert sent[0].reply_code == 550
    assert hub.sessions.asked[-1][2] == 60_000_000


async def test_split_sends_and_resends_make_one_scan(make_hub, tls, mail_sink) -> None:
    hub: Hub = await make_hub()
    hub.sessions.log_in("km-c300i", alice())
    scanner = mfp(hub, tls)
    partial = await asyncio.to_thread(scanner.scan, blank_pages(3), split_bytes=8000)
    assert len(partial) > 1 and {s.reply_code for s in partial} == {250}
    first = await hub.next_outcome()
    split = await asyncio.to_thread(
        scanner.scan, blank_pages(2), file_format="tiff", split_bytes=3000, split_style="subject"
    )
    assert len(split) > 1 and split[0].subject.endswith(f"(1/{len(split)})")
    second = await hub.next_outcome()
    resent = await asyncio.to_thread(scanner.resend)  # the last piece again: a complete duplicate
    assert resent.reply_code == 250 and "duplicate" in resent.reply
    await hub.intake.drain()
    assert (first.pages, second.pages) == (3, 2)
    assert len(mail_sink.messages) == 2 and hub.outcomes.empty()
    assert set(hub.charges.charges) == {f"scan:{first.scan_id}", f"scan:{second.scan_id}"}


async def test_printer_identity_comes_from_address_or_credential(make_hub, tls, mail_sink) -> None:
    hub: Hub = await make_hub()
    hub.sessions.log_in("xerox-wc", alice())
    stranger = await asyncio.to_thread(mfp(hub, tls, address=STRANGER_ADDRESS).scan, blank_pages(1))
    assert stranger[0].reply_code == 550 and "not a registered printer" in stranger[0].reply
    no_login = await asyncio.to_thread(mfp(hub, tls, address=SECOND_PRINTER_ADDRESS).scan, blank_pages(1))
    assert no_login[0].reply_code == 530
    with pytest.raises(smtplib.SMTPAuthenticationError):
        await asyncio.to_thread(
            mfp(hub, tls, address=STRANGER_ADDRESS, login=("xerox-wc", "wrong")).scan, blank_pages(1)
        )
    # the right credential identifies the Xerox even from an unregistered address
    good = await asyncio.to_thread(
        mfp(hub, tls, address=STRANGER_ADDRESS, login=("xerox-wc", "Scan-Pass-1")).scan, blank_pages(1)
    )
    assert good[0].reply_code == 250
    outcome = await hub.next_outcome()
    assert (outcome.printer_id, outcome.user) == ("xerox-wc", "alice")
    assert len(mail_sink.messages) == 1


async def test_auth_and_mail_are_refused_without_starttls(make_hub, tls) -> None:
    hub: Hub = await make_hub()

    def plain_client() -> tuple[int, bytes]:
        with smtplib.SMTP(
            "127.0.0.1", hub.smtp.port, source_address=(PRINTER_ADDRESS, 0), timeout=30
        ) as client:
            client.ehlo()
            return client.docmd("MAIL", "FROM:<km@mfp.test>")

    code, reply = await asyncio.to_thread(plain_client)
    assert code == 530 and b"STARTTLS" in reply


async def test_recipient_flood_is_bounded(make_hub, tls, mail_sink) -> None:
    hub: Hub = await make_hub()
    hub.sessions.log_in("km-c300i", alice())

    def flood() -> dict[str, tuple[int, bytes]]:
        with smtplib.SMTP(
            "127.0.0.1", hub.smtp.port, source_address=(PRINTER_ADDRESS, 0), timeout=30
        ) as client:
            client.starttls(context=tls.client)
            client.ehlo()
            client.mail("km@mfp.test")
            replies = {f"scan{i}@x.test": client.rcpt(f"scan{i}@x.test") for i in range(3)}
            replies |= {f"{i}-{SCAN_ADDRESS}": client.rcpt(SCAN_ADDRESS) for i in range(40)}
            client.rset()
            return replies

    replies = await asyncio.to_thread(flood)
    codes = [code for code, _ in replies.values()]
    assert codes.count(550) == 3 and codes.count(250) == 5 and codes.count(452) == 35
    assert mail_sink.messages == []


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (b"this is not MIME at all, just text\r\n", 554),
        (
            b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n"
            b"Content-Type: application/zip\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            b"UEsDBBQAAAAIAA==\r\n--x--\r\n",
            554,
        ),
        (
            b"MIME-Version: 1.0\r\nContent-Type: image/tiff\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            b"SUkqAAgAAAADAAABBAABAAAAoIYBAAEBBAABAAAAoIYBAAIBAwABAAAACAAAAA==\r\n",
            554,
        ),  # 100000 x 100000
    ],
)
async def test_bad_mail_is_refused(make_hub, tls, mail_sink, payload: bytes, code: int) -> None:
    hub: Hub = await make_hub()
    hub.sessions.log_in("km-c300i", alice())

    def send() -> int:
        with smtplib.SMTP(
            "127.0.0.1", hub.smtp.port, source_address=(PRINTER_ADDRESS, 0), timeout=30
        ) as client:
            client.starttls(context=tls.client)
            try:
                client.sendmail("km@mfp.test", [SCAN_ADDRESS], payload)
            except smtplib.SMTPDataError as error:
                return error.smtp_code
            return 250

    assert await asyncio.to_thread(send) == code
    await hub.intake.drain()
    assert mail_sink.messages == [] and hub.charges.calls == 0


async def test_oversized_message_is_refused_as_it_arrives(make_hub, tls, mail_sink) -> None:
    hub: Hub = await make_hub(data_bytes_max=200_000)
    hub.sessions.log_in("km-c300i", alice())
    noisy = [Image.effect_noise((900, 900), 64).convert("L")]
    sent = await asyncio.to_thread(mfp(hub, tls).scan, noisy, file_format="tiff")
    assert sent[0].reply_code == 552
    await hub.intake.drain()
    assert mail_sink.messages == []


async def test_a_pdf_that_hangs_ocr_is_stopped_and_kept_aside(make_hub, tls, mail_sink) -> None:
    limits = ProcessingLimits(conversion_workers=1, ocr_timeout_s=3, memory_bytes_max=512 * 1024 * 1024)
    hub: Hub = await make_hub(limits=limits)
    hub.sessions.log_in("km-c300i", alice("scan-to-me-searchable"))
    huge_page = [Image.new("1", (1, 1), 1)]  # 1 pixel at 0.005 dpi: a page 200 inches square
    sent = await asyncio.to_thread(mfp(hub, tls).scan, huge_page, dpi=0.005)  # type: ignore[arg-type]
    assert sent[0].reply_code == 250
    outcome = await hub.next_outcome()
    assert outcome.status == "failed" and outcome.error is not None
    assert "timed out" in outcome.error or "failed" in outcome.error
    assert mail_sink.messages == [] and hub.charges.calls == 0
    assert [path.suffix for path in hub.spool.iterdir()] == [".failed"]


async def test_a_hub_that_stopped_after_250_delivers_once_on_restart(
    make_hub, tls, mail_sink, tmp_path
) -> None:
    charges = ChargeRecorder()
    sessions = TableSessionLocator()
    sessions.log_in("km-c300i", alice("scan-priced"))
    spool = tmp_path / "shared-spool"
    first: Hub = await make_hub(spool=spool, charges=charges, sessions=sessions)
    first.intake._process = _never_finishes  # type: ignore[method-assign]  # the hub dies mid-way
    assert (await asyncio.to_thread(mfp(first, tls).scan, blank_pages(2)))[0].reply_code == 250
    await first.smtp.close()
    [kept] = spool.glob("*.scan")
    assert b"%PDF" not in kept.read_bytes()  # encrypted at rest
    second: Hub = await make_hub(spool=spool, charges=charges, sessions=sessions)
    assert await second.intake.recover() == 1
    outcome = await second.next_outcome()
    assert (outcome.status, outcome.pages, outcome.amount_cents) == ("delivered", 2, 10)
    assert await second.intake.recover() == 0
    assert len(mail_sink.messages) == 1
    assert charges.charges == {f"scan:{outcome.scan_id}": ("alice", "km-c300i", 2, 10)}


async def _never_finishes(stored: object) -> ScanOutcome:
    await asyncio.Event().wait()
    raise AssertionError("unreachable")


def test_output_formats_have_their_extensions() -> None:
    assert [f.extension for f in OutputFormat] == ["pdf", "pdf", "tif", "jpg"]
