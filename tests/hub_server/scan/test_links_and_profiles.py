"""Download-link tokens (forgery, expiry, fuzz) and scan profiles as data (names, sidecars)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from xml.etree import ElementTree

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub_server.scan import (
    SCAN_TO_ME,
    LinkError,
    LinkExpired,
    OutputFormat,
    ScanMetadata,
    ScanProfile,
    SidecarFormat,
    make_link_token,
    verify_link,
)
from hub_server.scan.profiles import render_file_name, render_sidecar

KEY = bytes(range(32))


def test_a_token_carries_its_grant_until_it_expires() -> None:
    token = make_link_token(KEY, "abc123", "jörg.müller", 1_700_000_000)
    grant = verify_link(KEY, token, 1_699_999_999)
    assert (grant.scan_id, grant.user, grant.expires_unix_s) == ("abc123", "jörg.müller", 1_700_000_000)
    with pytest.raises(LinkExpired):
        verify_link(KEY, token, 1_700_000_000)


@pytest.mark.parametrize("index", range(5))
def test_every_field_is_signed(index: int) -> None:
    token = make_link_token(KEY, "abc123", "alice", 1_700_000_000)
    pieces = token.split(".")
    pieces[index] = {0: "v2", 1: "abc124", 2: "Ym9i", 3: "1800000000", 4: pieces[4][:-2] + "AA"}[index]
    with pytest.raises(LinkError):
        verify_link(KEY, ".".join(pieces), 1_600_000_000)


def test_another_key_or_a_short_key() -> None:
    token = make_link_token(KEY, "abc123", "alice", 1_700_000_000)
    with pytest.raises(LinkError, match="signature"):
        verify_link(bytes(32), token, 1_600_000_000)
    with pytest.raises(ValueError, match="32 bytes"):
        make_link_token(b"short", "abc123", "alice", 1)
    with pytest.raises(ValueError, match="scan id"):
        make_link_token(KEY, "../etc/passwd", "alice", 1)


@given(st.text(max_size=600))
def test_garbage_tokens_are_link_errors(token: str) -> None:
    with pytest.raises(LinkError):
        verify_link(KEY, token, 0)


METADATA = ScanMetadata("s1", "alice", "km-c300i", "p1", 3, datetime(2024, 1, 15, 10, 30, 5, tzinfo=UTC))


def test_file_names_are_filled_in_and_made_safe() -> None:
    profile = ScanProfile(
        "p1", "P", "P", output=OutputFormat.TIFF, file_name_pattern="{user}/{printer} {date} {pages}p"
    )
    assert render_file_name(profile, METADATA) == "alice_km-c300i 2024-01-15 3p.tif"
    evil = ScanProfile("p1", "P", "P", file_name_pattern="../../{user}")
    assert render_file_name(evil, METADATA) == "_.._alice.pdf"
    assert render_file_name(SCAN_TO_ME, METADATA) == "scan-2024-01-15-103005-3p.pdf"


def test_sidecars_for_a_dms() -> None:
    xml = ScanProfile("p1", "P", "P", sidecar=SidecarFormat.XML)
    name, data = render_sidecar(xml, METADATA, "scan.pdf") or ("", b"")
    root = ElementTree.fromstring(data)
    assert name == "scan.xml" and root.findtext("user") == "alice" and root.findtext("pages") == "3"
    csv_profile = ScanProfile("p1", "P", "P", sidecar=SidecarFormat.CSV)
    name, data = render_sidecar(csv_profile, METADATA, "scan.pdf") or ("", b"")
    rows = list(csv.DictReader(io.StringIO(data.decode())))
    assert name == "scan.csv" and rows[0]["file"] == "scan.pdf" and rows[0]["printer"] == "km-c300i"
    assert render_sidecar(SCAN_TO_ME, METADATA, "scan.pdf") is None


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"price_per_page_cents": -1}, "negative"),
        ({"ocr_languages": ("english",)}, "tesseract language"),
        ({"output": OutputFormat.SEARCHABLE_PDF_A, "ocr_languages": ()}, "at least one OCR language"),
        ({"file_name_pattern": "{password}"}, "unknown file-name fields"),
        ({"name_de": ""}, "name in English and German"),
    ],
)
def test_profiles_are_validated(fields: dict[str, object], reason: str) -> None:
    base: dict[str, object] = {"profile_id": "p", "name_en": "P", "name_de": "P"}
    with pytest.raises(ValueError, match=reason):
        ScanProfile(**(base | fields))  # type: ignore[arg-type]
    assert SCAN_TO_ME.name("de") == "Scan an mich" and SCAN_TO_ME.name("en") == "Scan to me"
