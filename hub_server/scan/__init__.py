"""Scan intake for the hub: MFPs scan to e-mail, the hub attributes each scan to the person
logged in at that printer, applies their scan profile (PDF, searchable PDF/A, TIFF, JPEG) and
delivers it (e-mail or download link, SMB folder, WebDAV folder), metered exactly once.

This subpackage imports nothing else of ``hub_server``: the hub plugs in through
``SessionLocator`` (who is at a printer), ``ScanMeter`` (charging) and the data it configures
(``PrinterDirectory``, profiles, destinations). Start with ``ScanIntake`` and
``start_scan_smtp``; see ``docs/scanning.md``.
"""

from __future__ import annotations

from .attribution import (
    NoSessionPolicy,
    PrinterDirectory,
    RegisteredPrinter,
    ScanMeter,
    ScanSession,
    SessionLocator,
)
from .config import DestinationSettings, EmailSettings, ScanSettings, build_destinations, load_scan_config
from .destinations import (
    Delivery,
    Destination,
    EmailDestination,
    LinkStore,
    SmbDestination,
    WebDavDestination,
)
from .email_print import EmailPrintConfig, EmailPrinting, HeldPrint, PrintMailbox, RelaySender, ReleaseCode
from .errors import (
    DeliveryError,
    LinkError,
    LinkExpired,
    MimeError,
    NoSession,
    ProcessingError,
    ScanError,
    ScanRefused,
)
from .links import DirectoryLinkStore, LinkGrant, ScanDownloads, make_link_token, verify_link
from .mime import MimeLimits, ScanAttachment, ScanMessage, parse_scan_message
from .outbox import OUTBOX_CAPACITY, Outbox, OutgoingMail
from .pipeline import ProcessedScan, ProcessingLimits, ScanProcessor
from .profiles import (
    SCAN_TO_ME,
    SCAN_TO_ME_SEARCHABLE,
    OutputFormat,
    ScanMetadata,
    ScanProfile,
    SidecarFormat,
)
from .service import ScanIntake, ScanIntakeConfig, ScanOutcome
from .smtp import ScanSmtpConfig, ScanSmtpServer, start_scan_smtp

__all__ = [
    "OUTBOX_CAPACITY",
    "SCAN_TO_ME",
    "SCAN_TO_ME_SEARCHABLE",
    "Delivery",
    "DeliveryError",
    "Destination",
    "DestinationSettings",
    "DirectoryLinkStore",
    "EmailDestination",
    "EmailPrintConfig",
    "EmailPrinting",
    "EmailSettings",
    "HeldPrint",
    "LinkError",
    "LinkExpired",
    "LinkGrant",
    "LinkStore",
    "MimeError",
    "MimeLimits",
    "NoSession",
    "NoSessionPolicy",
    "Outbox",
    "OutgoingMail",
    "OutputFormat",
    "PrintMailbox",
    "PrinterDirectory",
    "ProcessedScan",
    "ProcessingError",
    "ProcessingLimits",
    "RegisteredPrinter",
    "RelaySender",
    "ReleaseCode",
    "ScanAttachment",
    "ScanDownloads",
    "ScanError",
    "ScanIntake",
    "ScanIntakeConfig",
    "ScanMessage",
    "ScanMetadata",
    "ScanMeter",
    "ScanOutcome",
    "ScanProcessor",
    "ScanProfile",
    "ScanRefused",
    "ScanSession",
    "ScanSettings",
    "ScanSmtpConfig",
    "ScanSmtpServer",
    "SessionLocator",
    "SidecarFormat",
    "SmbDestination",
    "WebDavDestination",
    "build_destinations",
    "load_scan_config",
    "make_link_token",
    "parse_scan_message",
    "start_scan_smtp",
    "verify_link",
]
