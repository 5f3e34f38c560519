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

E-mail printing (``email_print_p99_ms``) is a different part of issue 20 and does not exist
yet, so it is not measured and not printed.

Last line: ``scan_to_me_p99_ms=… ocr_pages_per_min=… cores=…``

Run: ``.venv/bin/python benchmarks/scan.py [--runs 20] [--ocr-scans 2 --ocr-pages 3]``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image

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
from hw_sim.mfp.scan_to_email import ScanToEmail, render_text_page
from tests.hub_server.scan.conftest import MailSink, TableSessionLocator

PRINTER_ADDRESS = "127.0.0.2"
SCAN_ADDRESS = "scan@hub.printgate.test"
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
    await sink.close()
    print(f"scan_to_me_p99_ms={p99:.0f} ocr_pages_per_min={per_minute:.1f} cores={cores}")


def _p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--ocr-scans", type=int, default=2)
    parser.add_argument("--ocr-pages", type=int, default=3)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
