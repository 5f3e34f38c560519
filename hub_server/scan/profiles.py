"""Scan profiles as data: what a user picks at the terminal before pressing scan on the MFP.

A profile names its output (PDF, searchable PDF/A by OCR, TIFF, JPEG), the OCR languages, the
destination (by name, looked up in the configured destinations), a file-name pattern, an
optional metadata sidecar for a document management system, and a price per page in cents.
The hub stores profiles and lets admins edit them; this module only defines them, renders
file names and sidecars, and validates.
"""

from __future__ import annotations

import csv
import enum
import io
import re
import string
from dataclasses import dataclass, field
from datetime import UTC, datetime
from xml.etree import ElementTree

__all__ = [
    "SCAN_TO_ME",
    "SCAN_TO_ME_SEARCHABLE",
    "OutputFormat",
    "ScanMetadata",
    "ScanProfile",
    "SidecarFormat",
    "render_file_name",
    "render_sidecar",
]

_OCR_LANGUAGE = re.compile(r"^[a-z]{3}(_[a-z]+)?$")
_FIELDS = frozenset({"user", "printer", "date", "time", "pages", "scan_id", "profile"})
_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")
_FILE_NAME_MAX = 120


class OutputFormat(enum.StrEnum):
    """What the delivered file is."""

    PDF = "pdf"
    SEARCHABLE_PDF_A = "pdfa-ocr"  # PDF/A-2b with a text layer (ocrmypdf + tesseract)
    TIFF = "tiff"  # one multi-page TIFF
    JPEG = "jpeg"  # one JPEG per page

    @property
    def extension(self) -> str:
        """File-name extension of the output."""
        return {"pdf": "pdf", "pdfa-ocr": "pdf", "tiff": "tif", "jpeg": "jpg"}[self.value]


class SidecarFormat(enum.StrEnum):
    """A metadata file beside the scan, for a DMS that imports folders."""

    NONE = "none"
    XML = "xml"
    CSV = "csv"


@dataclass(frozen=True)
class ScanProfile:
    """One scan profile. ``destination`` names an entry of the configured destinations."""

    profile_id: str
    name_en: str
    name_de: str
    output: OutputFormat = OutputFormat.PDF
    ocr_languages: tuple[str, ...] = ("deu", "eng")
    destination: str = "email"
    file_name_pattern: str = "scan-{date}-{time}-{pages}p"
    sidecar: SidecarFormat = SidecarFormat.NONE
    price_per_page_cents: int = 0

    def __post_init__(self) -> None:
        if not self.profile_id or not self.name_en or not self.name_de:
            raise ValueError("a profile needs an id and a name in English and German")
        if self.price_per_page_cents < 0:
            raise ValueError("price_per_page_cents must not be negative")
        if self.output is OutputFormat.SEARCHABLE_PDF_A and not self.ocr_languages:
            raise ValueError("a searchable PDF needs at least one OCR language")
        for language in self.ocr_languages:
            if not _OCR_LANGUAGE.match(language):
                raise ValueError(f"OCR language {language!r} is not a tesseract language code")
        names = {name for _, name, _, _ in string.Formatter().parse(self.file_name_pattern) if name}
        if names - _FIELDS:
            raise ValueError(f"unknown file-name fields {sorted(names - _FIELDS)}; use {sorted(_FIELDS)}")

    def name(self, language: str) -> str:
        """The profile's name for the terminal's language (``de`` or ``en``)."""
        return self.name_de if language == "de" else self.name_en


SCAN_TO_ME = ScanProfile("scan-to-me", "Scan to me", "Scan an mich")
SCAN_TO_ME_SEARCHABLE = ScanProfile(
    "scan-to-me-searchable",
    "Scan to me (searchable)",
    "Scan an mich (durchsuchbar)",
    output=OutputFormat.SEARCHABLE_PDF_A,
)


@dataclass(frozen=True)
class ScanMetadata:
    """Facts about one delivered scan, for file names and sidecars."""

    scan_id: str
    user: str
    printer_id: str
    profile_id: str
    pages: int
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def render_file_name(profile: ScanProfile, metadata: ScanMetadata) -> str:
    """The output file name: the pattern filled in, made safe for any file system or share."""
    values = {
        "user": metadata.user,
        "printer": metadata.printer_id,
        "date": metadata.received_at.strftime("%Y-%m-%d"),
        "time": metadata.received_at.strftime("%H%M%S"),
        "pages": str(metadata.pages),
        "scan_id": metadata.scan_id,
        "profile": metadata.profile_id,
    }
    stem = _UNSAFE.sub("_", profile.file_name_pattern.format(**values)).strip(". ")[:_FILE_NAME_MAX]
    return f"{stem or metadata.scan_id}.{profile.output.extension}"


def render_sidecar(profile: ScanProfile, metadata: ScanMetadata, file_name: str) -> tuple[str, bytes] | None:
    """The sidecar's file name and bytes, or None when the profile has none."""
    fields = {
        "file": file_name,
        "scan_id": metadata.scan_id,
        "user": metadata.user,
        "printer": metadata.printer_id,
        "profile": metadata.profile_id,
        "pages": str(metadata.pages),
        "received_at": metadata.received_at.isoformat(),
    }
    stem = file_name.rsplit(".", 1)[0]
    if profile.sidecar is SidecarFormat.XML:
        root = ElementTree.Element("scan")
        for key, value in fields.items():
            ElementTree.SubElement(root, key).text = value
        return f"{stem}.xml", ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)
    if profile.sidecar is SidecarFormat.CSV:
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\r\n")
        writer.writerow(fields.keys())
        writer.writerow(fields.values())
        return f"{stem}.csv", text.getvalue().encode("utf-8")
    return None
