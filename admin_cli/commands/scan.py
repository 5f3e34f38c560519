"""``printgate admin scan ...``: the printers that may send scans to the hub, the scan profiles
users pick at the terminal, and the scan log (ScanAdminService, docs/scanning.md).

A printer's SMTP password is read with ``--password-stdin`` (never a command-line argument) and
kept by the hub as an argon2 hash."""

from __future__ import annotations

import argparse

from google.protobuf.message import Message
from printgate.v1 import scan_pb2

from admin_cli.client import stdin_secret
from admin_cli.errors import UsageError
from admin_cli.render import record_of, said, table_of
from admin_cli.verbs import Verb, VerbTable

__all__ = ["add_verbs"]

PRINTER_COLUMNS = ("printer_id", "addresses", "smtp_login", "has_password")
PROFILE_COLUMNS = (
    "id",
    "name_en",
    "name_de",
    "output",
    "ocr_languages",
    "destination",
    "price_per_page_cents",
    "built_in",
)
LOG_COLUMNS = (
    "recorded_at",
    "scan_id",
    "printer_id",
    "user",
    "profile_id",
    "status",
    "pages",
    "amount_cents",
)
CHECK_COLUMNS = (
    "reported_at",
    "printer_id",
    "user",
    "status",
    "counter_pages",
    "delivered_pages",
    "failed_scans",
    "copy_pages",
    "sent_only",
)
OUTPUTS = ("pdf", "pdfa-ocr", "tiff", "jpeg")
SIDECARS = ("none", "xml", "csv")


def _printer(args: argparse.Namespace) -> Message:
    if args.password_stdin and not args.login:
        raise UsageError("--password-stdin needs --login")
    if args.login and not args.password_stdin:
        raise UsageError("a printer with --login needs --password-stdin")
    return scan_pb2.ScanPrinter(
        printer_id=args.printer,
        addresses=args.address or [],
        smtp_login=args.login or "",
        smtp_password=stdin_secret("password") if args.password_stdin else "",
    )


def _profile(args: argparse.Namespace) -> Message:
    return scan_pb2.ScanProfile(
        id=args.id,
        name_en=args.name_en,
        name_de=args.name_de,
        output=args.output,
        ocr_languages=args.ocr_language or [],
        destination=args.destination,
        file_name_pattern=args.file_name or "",
        sidecar=args.sidecar,
        price_per_page_cents=args.price_per_page_cents,
    )


def add_verbs(verbs: VerbTable) -> None:
    verbs.group("scan", "scanning: printers that send scans, scan profiles, the scan log")
    printer = verbs.add(
        "printer-add",
        "let a printer of the hub send scans (known by address, or by an SMTP login)",
        Verb("AddScanPrinter", _printer, record_of(PRINTER_COLUMNS), service="scan"),
        "printer",
    )
    printer.add_argument("--address", action="append", metavar="IP", help="an address it sends from (repeat)")
    printer.add_argument("--login", metavar="NAME", help="its SMTP login (then --password-stdin)")
    printer.add_argument("--password-stdin", action="store_true", help="read its SMTP password from stdin")
    verbs.add(
        "printers",
        "list the printers that may send scans",
        Verb(
            "ListScanPrinters",
            lambda a: scan_pb2.ListScanPrintersRequest(),
            table_of("printers", PRINTER_COLUMNS),
            service="scan",
        ),
    )
    verbs.add(
        "printer-remove",
        "stop taking scans from a printer",
        Verb(
            "RemoveScanPrinter",
            lambda a: scan_pb2.ScanPrinterRef(printer_id=a.printer),
            said("{printer} sends no more scans"),
            service="scan",
        ),
        "printer",
    )
    profile = verbs.add(
        "profile-save",
        "add or replace a scan profile",
        Verb("SaveScanProfile", _profile, record_of(PROFILE_COLUMNS), service="scan"),
        "id",
    )
    profile.add_argument("--name-en", required=True)
    profile.add_argument("--name-de", required=True)
    profile.add_argument("--output", choices=OUTPUTS, default="pdf", help="pdfa-ocr: searchable PDF/A")
    profile.add_argument("--ocr-language", action="append", metavar="CODE", help="tesseract code (repeat)")
    profile.add_argument("--destination", default="email", help='"email" or a [[scan.destinations]] name')
    profile.add_argument("--file-name", metavar="PATTERN", help="e.g. {user}-{date}-{pages}p")
    profile.add_argument("--sidecar", choices=SIDECARS, default="none", help="metadata file for a DMS")
    profile.add_argument("--price-per-page-cents", type=int, default=0)
    verbs.add(
        "profiles",
        "list the scan profiles (built-in and the admins')",
        Verb(
            "ListScanProfiles",
            lambda a: scan_pb2.ListScanProfilesAdminRequest(),
            table_of("profiles", PROFILE_COLUMNS),
            service="scan",
        ),
    )
    verbs.add(
        "profile-remove",
        "remove an admin's scan profile",
        Verb(
            "RemoveScanProfile",
            lambda a: scan_pb2.ScanProfileRef(id=a.id),
            said("scan profile {id} removed"),
            service="scan",
        ),
        "id",
    )
    log = verbs.add(
        "log",
        "the latest scans, newest first",
        Verb(
            "ListScanLog",
            lambda a: scan_pb2.ListScanLogRequest(limit=a.limit),
            table_of("entries", LOG_COLUMNS),
            service="scan",
        ),
    )
    log.add_argument("--limit", type=int, default=50)
    checks = verbs.add(
        "counter-checks",
        "per session: the MFP's scan counter against the scan pages delivered, newest first",
        Verb(
            "ListScanCounterChecks",
            lambda a: scan_pb2.ListScanCounterChecksRequest(limit=a.limit, mismatches_only=a.mismatches),
            table_of("checks", CHECK_COLUMNS),
            service="scan",
        ),
    )
    checks.add_argument("--limit", type=int, default=50)
    checks.add_argument("--mismatches", action="store_true", help="only the sessions that do not match")
