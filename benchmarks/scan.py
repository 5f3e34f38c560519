"""Scan-to-me latency and OCR throughput of the hub's scan intake.

Part 1, scan to me: the simulated MFP (``hw_sim``) sends a 10-page A4 300 dpi greyscale scan
(one PDF, as a Konica does) over SMTP on loopback from its own address; the intake attributes
it to the session open at that printer, applies "Scan to me" (PDF, no OCR: page count with
qpdf, nothing re-encoded) and mails it through a private SMTP relay (aiosmtpd) into the user's
mailbox. Latency runs from the MFP's last byte (the moment the receiver hands the complete message to
the intake) until the relay has the whole message; the figure including the upload (from the
MFP's first DATA byte) is printed beside it.
Plain SMTP here (the tests cover STARTTLS). The relay's arrival time is taken when it has the
whole message, before the test relay parses it.

Part 2, OCR: ``--ocr-scans`` scans of ``--ocr-pages`` pages of known text each (300 dpi,
skewed, noisy) sent at once with the "searchable PDF/A" profile, one OCR worker per core;
pages per minute from the first send to the last delivered mail.

Part 3, e-mail printing: a whole hub (``start_hub``: SQLite, print intake, ``[scan]`` with a
print address) takes ``--email-runs`` mails, one at a time, each with a 3-page PDF, from the
site's relay (a loopback address of its own) over SMTP; latency runs from the relay's first
byte until the terminal's ListJobs shows the job analysed (3 pages, priced), polled every 10 ms.

Last line: ``scan_to_me_p99_ms=… ocr_pages_per_min=… email_print_p99_ms=… cores=…``

Run: ``.venv/bin/python benchmarks/scan.py [--runs 20] [--ocr-scans 2 --ocr-pages 3] [--email-runs 20]``
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import smtplib
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from email import policy
from email.message import EmailMessage
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image
from printgate.v1 import admin_pb2, common_pb2, terminal_pb2

from hub_server.clock import FakeClock
from hub_server.config import PrintConfig
from hub_server.scan import (
    SCAN_TO_ME,
    SCAN_TO_ME_SEARCHABLE,
    DirectoryLinkStore,
    EmailDestination,
    PrinterDirectory,
    ProcessingLimits,
    RegisteredPrinter,
    ScanIntake,
    ScanIntakeConfig,
    ScanProcessor,
    ScanSession,
    ScanSmtpConfig,
    start_scan_smtp,
)
from hub_server.server import ADMIN_TOKEN_FILE, start_hub
from hw_sim.mfp.scan_to_email import ScanToEmail, render_text_page
from tests.hub_server.conftest import HubClients, admin_channel_of, hub_config
from tests.hub_server.scan.conftest import MailSink, TableSessionLocator

PRINTER_ADDRESS = "127.0.0.2"
SCAN_ADDRESS = "scan@hub.printgate.test"
RELAY_ADDRESS = "127.0.0.4"
PRINT_ADDRESS = "print@hub.printgate.test"
TEXT = (
    "Quarterly report of the printgate project. Revenue grew in every region; "
    "the board thanks all staff. Rechnung 4711 der Musterfirma GmbH, zahlbar binnen 14 Tagen."
)


class TimedIntake(ScanIntake):
    """The intake, noting when the receiver hands it a complete message (the MFP's last byte)."""

    received_at: list[float]

    async def receive(self, printer, raw):  # type: ignore[no-untyped-def]
        self.received_at.append(time.perf_counter())
        return await super().receive(printer, raw)


class TimedScanner(ScanToEmail):
    """The simulated MFP, noting when it starts sending each message's data."""

    started: list[float]

    def _send(self, raw: bytes):  # type: ignore[no-untyped-def]
        self.started.append(time.perf_counter())
        return super()._send(raw)


async def run(arguments: argparse.Namespace) -> None:
    cores = os.cpu_count() or 1
    work = Path(tempfile.mkdtemp(prefix="printgate-scan-bench-"))
    sink = MailSink()
    await sink.start()
    sessions = TableSessionLocator()
    sessions.log_in("mfp-1", ScanSession("alice", "s1", None, "alice@example.test"))
    email = EmailDestination(
        "127.0.0.1",
        sink.port,
        "scans@hub.test",
        b"k" * 32,
        "https://hub.test/scans/",
        DirectoryLinkStore(work / "links"),
        attach_bytes_max=200 * 1024 * 1024,
    )
    intake = TimedIntake(
        sessions=sessions,
        profiles={p.profile_id: p for p in (SCAN_TO_ME, SCAN_TO_ME_SEARCHABLE)},
        destinations={"email": email},
        processor=ScanProcessor(work / "work", ProcessingLimits(conversion_workers=cores, ocr_workers=cores)),
        spool_dir=work / "spool",
        spool_key=os.urandom(32),
        config=ScanIntakeConfig(),
    )
    intake.received_at = []
    outcomes = intake.subscribe()
    smtp = await start_scan_smtp(
        intake,
        PrinterDirectory([RegisteredPrinter("mfp-1", frozenset({PRINTER_ADDRESS}))]),
        ScanSmtpConfig(frozenset({SCAN_ADDRESS}), port=0, data_bytes_max=256 * 1024 * 1024),
    )

    def scanner() -> TimedScanner:
        device = TimedScanner(PRINTER_ADDRESS, "127.0.0.1", smtp.port, "mfp@mfp.test", SCAN_ADDRESS)
        device.started = []
        return device

    # Part 1: 10-page scans to me, no OCR
    pages = [render_text_page(f"{TEXT} Page {n}.", seed=n) for n in range(10)]
    latencies_ms, with_upload_ms = [], []
    for index in range(arguments.runs):
        device = scanner()
        await asyncio.to_thread(device.scan, pages)
        await asyncio.wait_for(sink.arrived.get(), 120)
        latencies_ms.append((sink.arrived_at[-1] - intake.received_at[-1]) * 1000)
        with_upload_ms.append((sink.arrived_at[-1] - device.started[0]) * 1000)
        outcome = await asyncio.wait_for(outcomes.get(), 120)
        assert outcome.status == "delivered" and outcome.pages == 10, outcome
        print(
            f"run {index + 1}: {latencies_ms[-1]:.0f} ms after the last byte, {with_upload_ms[-1]:.0f} in all"
        )
    print(f"scan size: {len(device.history[0].raw) / 1e6:.1f} MB")
    p99 = _p99(latencies_ms)
    print(f"scan to me after the last byte: median={statistics.median(latencies_ms):.0f} ms p99={p99:.0f} ms")
    upload_p99 = _p99(with_upload_ms)
    print(f"including the upload: median={statistics.median(with_upload_ms):.0f} ms p99={upload_p99:.0f} ms")

    # Part 2: OCR throughput
    sessions.rows[0].session = ScanSession(
        "alice", "s1", SCAN_TO_ME_SEARCHABLE.profile_id, "alice@example.test"
    )
    ocr_pages: list[Image.Image] = [
        render_text_page(f"{TEXT} Seite {n}.", seed=100 + n) for n in range(arguments.ocr_pages)
    ]
    begin = time.perf_counter()
    await asyncio.gather(*(asyncio.to_thread(scanner().scan, ocr_pages) for _ in range(arguments.ocr_scans)))
    for _ in range(arguments.ocr_scans):
        outcome = await asyncio.wait_for(outcomes.get(), 1800)
        assert outcome.status == "delivered", outcome
        await asyncio.wait_for(sink.arrived.get(), 60)
    elapsed_s = time.perf_counter() - begin
    total = arguments.ocr_scans * arguments.ocr_pages
    per_minute = total / elapsed_s * 60
    print(f"ocr: {total} pages in {elapsed_s:.1f} s = {per_minute:.1f} pages/min ({cores} workers)")

    await smtp.close()
    email_p99 = await email_printing(arguments.email_runs, work, sink)
    await sink.close()
    print(
        f"scan_to_me_p99_ms={p99:.0f} ocr_pages_per_min={per_minute:.1f} "
        f"email_print_p99_ms={email_p99:.0f} cores={cores}"
    )


def three_page_pdf() -> bytes:
    pages = [render_text_page(f"{TEXT} Page {n}.", seed=200 + n).resize((595, 842)) for n in range(3)]
    out = io.BytesIO()
    pages[0].save(out, "PDF", save_all=True, append_images=pages[1:], resolution=72)
    return out.getvalue()


def relay_mail(port: int, pdf: bytes, number: int) -> float:
    """The site's relay hands one print mail to the hub; when it started (perf_counter)."""
    message = EmailMessage()
    message["From"] = "alice@example.test"
    message["To"] = PRINT_ADDRESS
    message["Subject"] = f"report {number}"
    message.set_content("please print")
    message.add_attachment(pdf, maintype="application", subtype="pdf", filename=f"report-{number}.pdf")
    raw = message.as_bytes(policy=policy.SMTP)
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port, source_address=(RELAY_ADDRESS, 0), timeout=60) as client:
        client.sendmail("alice@example.test", [PRINT_ADDRESS], raw)
    return started


async def email_printing(runs: int, work: Path, sink: MailSink) -> float:
    """Part 3: mailed PDF -> a held job the terminal lists, through a whole hub."""
    scan = {
        "listen": "127.0.0.1:0",
        "require_starttls": False,
        "print_recipients": [PRINT_ADDRESS],
        "print_relays": [RELAY_ADDRESS],
        "email": {"relay": f"127.0.0.1:{sink.port}", "sender": PRINT_ADDRESS},
    }
    config = replace(hub_config(work / "hub"), printing=PrintConfig(ipp_listen="127.0.0.1:0"), scan=scan)
    running = await start_hub(config, FakeClock(time.time_ns() // 1000))
    channel = admin_channel_of(running)
    token = (work / "hub" / ADMIN_TOKEN_FILE).read_text().strip()
    clients = HubClients(running=running, channel=channel, admin_token=token, clock=FakeClock())
    try:
        await clients.call_admin("UpsertPrinter", admin_pb2.Printer(name="mfp-1", address="127.0.0.1:9"))
        terminal = await clients.create_terminal("t-1", printer="mfp-1")
        await clients.set_price(common_pb2.FUNCTION_PRINT, common_pb2.COLOR_MODE_MONO, 10)
        await clients.create_user("alice", card="c-alice", credit_cents=100_000, email="alice@example.test")
        session = (await terminal.tap("c-alice")).session_token
        assert running.scanning is not None
        port = running.scanning.smtp.port
        pdf = three_page_pdf()
        latencies_ms = []
        for number in range(runs):
            started = await asyncio.to_thread(relay_mail, port, pdf, number)
            while True:
                reply = await terminal.stub.ListJobs(terminal_pb2.ListJobsRequest(session_token=session))
                if len(reply.jobs) > number and reply.jobs[-1].pages == 3:
                    break
                await asyncio.sleep(0.01)
            latencies_ms.append((time.perf_counter() - started) * 1000)
            assert reply.jobs[-1].estimated_price_cents == 30, reply.jobs[-1]
            print(f"e-mail print {number + 1}: {latencies_ms[-1]:.0f} ms to a listed job")
        await running.scanning.settle()
        assert len(sink.messages) >= runs  # every mail had its reply
        email_p99 = _p99(latencies_ms)
        print(f"e-mail printing: median={statistics.median(latencies_ms):.0f} ms p99={email_p99:.0f} ms")
        return email_p99
    finally:
        await clients.close()
        await running.stop(0)


def _p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--ocr-scans", type=int, default=2)
    parser.add_argument("--ocr-pages", type=int, default=3)
    parser.add_argument("--email-runs", type=int, default=20)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
