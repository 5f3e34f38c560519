"""Printing by e-mail through a running hub: the site's relay (a loopback address of its own)
hands a mail to the hub's SMTP receiver -> the PDF becomes a held job of the sender (the print
intake: analysis, prices, encrypted spool) -> a reply through the relay (a private SMTP sink)
confirms it with its price -> the terminal lists it -> released to the simulated MFP and
charged. Forged, unknown and unbounded mail is refused and nothing is held. Both backends."""

from __future__ import annotations

import asyncio
import io
import smtplib
from collections.abc import AsyncIterator
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest
import pytest_asyncio
from PIL import Image, ImageDraw

from hub_server.scan.config import EmailSettings
from hub_server.scan.email_print import RelaySender
from tests.hub_server.admin_runner import admin
from tests.hub_server.scan.conftest import MailSink, TlsMaterial
from tests.hub_server.test_release_site import PrintSite, open_site

pytestmark = pytest.mark.slow

RELAY_ADDRESS = "127.0.0.4"
PRINT_ADDRESS = "print@hub.printgate.test"


@pytest_asyncio.fixture
async def site(
    tmp_path: Path, database_url: str, tls: TlsMaterial, mail_sink: MailSink
) -> AsyncIterator[PrintSite]:
    scan = {
        "listen": "127.0.0.1:0",
        "print_recipients": [PRINT_ADDRESS],
        "print_relays": [RELAY_ADDRESS],
        "certificate": str(tls.certificate),
        "key": str(tls.key),
        "conversion_workers": 1,
        "email": {"relay": f"127.0.0.1:{mail_sink.port}", "sender": "print@hub.printgate.test"},
    }
    async with open_site(tmp_path, database_url, scan=scan) as opened:
        yield opened


def two_page_pdf() -> bytes:
    """Two A4 pages at 72 dpi: black text on white (mono)."""
    pages = []
    for number in (1, 2):
        page = Image.new("L", (595, 842), 255)
        ImageDraw.Draw(page).text((72, 72), f"Quarterly report, page {number}", fill=0)
        pages.append(page)
    out = io.BytesIO()
    pages[0].save(out, "PDF", save_all=True, append_images=pages[1:], resolution=72)
    return out.getvalue()


def jpeg_photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (600, 800), (200, 30, 30)).save(out, "JPEG")
    return out.getvalue()


def mail(sender: str, files: list[tuple[str, bytes]]) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = PRINT_ADDRESS
    message["Subject"] = "please print"
    message.set_content("see attachments")
    for name, data in files:
        message.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return message


def relay_send(
    site: PrintSite,
    message: EmailMessage,
    tls: TlsMaterial,
    *,
    envelope_from: str = "",
    source: str = RELAY_ADDRESS,
    recipient: str = PRINT_ADDRESS,
) -> tuple[int, str]:
    """The site's relay hands one mail to the hub; the final SMTP reply."""
    assert site.running.scanning is not None
    port = site.running.scanning.smtp.port
    with smtplib.SMTP("127.0.0.1", port, source_address=(source, 0), timeout=60) as client:
        client.ehlo("relay.printgate.test")
        client.starttls(context=tls.client)
        client.ehlo("relay.printgate.test")
        code, reply = client.mail(envelope_from or str(message["From"]))
        if code == 250:
            code, reply = client.rcpt(recipient)
        if code == 250:
            code, reply = client.data(message.as_bytes(policy=policy.SMTP))  # CRLF lines
        return code, reply.decode(errors="replace")


async def send(site: PrintSite, message: EmailMessage, tls: TlsMaterial, **options: str) -> tuple[int, str]:
    return await asyncio.to_thread(relay_send, site, message, tls, **options)


async def settled(site: PrintSite) -> None:
    assert site.running.scanning is not None
    await site.running.scanning.settle()


async def test_a_mailed_pdf_is_held_priced_in_the_reply_listed_released_and_charged(
    site: PrintSite, tls: TlsMaterial, mail_sink: MailSink
) -> None:
    files = [("report.pdf", two_page_pdf()), ("photo.jpg", jpeg_photo()), ("budget.xlsx", b"PK\x03\x04rest")]
    code, reply = await send(site, mail("Alice@Example.test", files), tls)
    assert (code, reply) == (250, "2.0.0 2 job(s) held, 1 refused")
    await settled(site)
    (answer,) = mail_sink.messages
    assert answer["To"] == "alice@example.test" and answer["Subject"] == "Print: please print"
    assert answer.get_content().splitlines() == [
        "report.pdf: held, 2 page(s) x 1, 0.20. Log in at any printer to print it.",
        "photo.jpg: held, 1 page(s) x 1, 0.50. Log in at any printer to print it.",
        "budget.xlsx: not printed: Office documents cannot be converted here: please send a PDF",
    ]
    token = await site.session("c-alice")
    jobs = await site.list_jobs(token)
    assert [(j.name, j.pages, j.color_pages, j.estimated_price_cents) for j in jobs] == [
        ("report.pdf", 2, 0, 20),
        ("photo.jpg", 1, 1, 50),
    ]
    progress = await site.release(token, "email-release-1", release_all=True)
    assert sorted(p.charged_cents for p in progress if p.charged_cents) == [20, 50]
    assert await site.clients.balance("alice") == 500 - 70
    assert (await site.clients.check_ledger()).ok


async def test_job_rules_shape_mailed_jobs_and_the_reply_says_how(
    site: PrintSite, tls: TlsMaterial, mail_sink: MailSink
) -> None:
    rules = (
        r'rule add "no programs" --name-pattern "\.exe" --delete "programs are not printed"',
        'rule add "mail in mono" --source email --force-mono --note "e-mailed jobs print in mono"',
    )
    for command in rules:
        assert (await admin(site.clients, command)).code == 0
    files = [("tool.exe.pdf", two_page_pdf()), ("photo.jpg", jpeg_photo())]
    code, reply = await send(site, mail("alice@example.test", files), tls)
    assert (code, reply) == (250, "2.0.0 2 job(s) held, 0 refused")
    await settled(site)
    (answer,) = mail_sink.messages
    assert answer.get_content().splitlines() == [
        "tool.exe.pdf: not printed: programs are not printed",
        "photo.jpg: held, 1 page(s) x 1, 0.10 (print rule: e-mailed jobs print in mono)."
        " Log in at any printer to print it.",
    ]
    token = await site.session("c-alice")
    (photo,) = await site.list_jobs(token)
    assert (photo.name, photo.estimated_price_cents, photo.rule_note) == (
        "photo.jpg",
        10,
        "e-mailed jobs print in mono",
    )


async def test_forged_unknown_and_unbounded_mail_is_refused_and_nothing_is_held(
    site: PrintSite, tls: TlsMaterial, mail_sink: MailSink
) -> None:
    pdf = [("a.pdf", two_page_pdf())]
    # From says alice, the envelope (what the relay authenticated) says someone else
    forged = await send(site, mail("alice@example.test", pdf), tls, envelope_from="mallory@example.test")
    assert forged == (550, "5.7.1 the From address is not the envelope sender")
    unknown = await send(site, mail("nobody@example.test", pdf), tls)
    assert unknown == (550, "5.7.1 this address belongs to no user of the print service")
    stranger = await send(site, mail("alice@example.test", pdf), tls, source="127.0.0.9")
    assert stranger == (550, "5.7.1 not a registered printer")
    elsewhere = await send(site, mail("alice@example.test", pdf), tls, recipient="boss@hub.printgate.test")
    assert elsewhere == (550, "5.1.1 not a print address")
    flood = await send(site, mail("alice@example.test", pdf * 11), tls)
    assert flood == (552, "5.3.4 at most 10 attachments per mail")
    await settled(site)
    assert mail_sink.messages == []  # no backscatter to a forged or unknown sender
    assert await site.list_jobs(await site.session("c-alice")) == []


async def test_replies_reach_a_relay_that_requires_starttls_when_configured(
    tls: TlsMaterial, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``[scan.email] starttls``: replies (like scans and notices) go to the relay over TLS,
    verified with the system's CAs (here the test CA made the system's for this test)."""
    monkeypatch.setenv("SSL_CERT_FILE", str(tls.certificate.parent / "ca.pem"))
    relay = MailSink()
    await relay.start(tls.server)
    try:
        reply = EmailMessage()
        reply["From"], reply["To"], reply["Subject"] = "print@hub.test", "alice@site.test", "Your job"
        reply.set_content("held: 3 pages, 0.30")
        plain = EmailSettings("127.0.0.1", relay.port, "print@hub.test")
        with pytest.raises(smtplib.SMTPException, match="STARTTLS"):
            await RelaySender("127.0.0.1", relay.port, plain.sender, plain.tls_context()).send(reply)
        assert relay.messages == []
        secured = EmailSettings("127.0.0.1", relay.port, "print@hub.test", starttls=True)
        await RelaySender("127.0.0.1", relay.port, secured.sender, secured.tls_context()).send(reply)
        delivered = [(m["To"], m.get_content().strip()) for m in relay.messages]
        assert delivered == [("alice@site.test", "held: 3 pages, 0.30")]
    finally:
        await relay.close()
