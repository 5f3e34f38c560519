"""Bounds on every name, text, amount and key the hub keeps, and on admin listings, so nothing
grows without limit and no sum of money overflows (docs/security.md, "Amount bounds")."""

from __future__ import annotations

import re

from hub_server.errors import InvalidRequest

__all__ = [
    "CODE",
    "MAX_AMOUNT_CENTS",
    "MAX_BALANCE_CENTS",
    "MAX_KEY_CHARS",
    "MAX_LIST",
    "MAX_PRICE_CENTS_PER_PAGE",
    "MAX_TEXT",
    "NAME",
    "amount",
    "idempotency_key",
    "require",
    "text",
]

CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")  # usernames, role names, project codes
NAME = re.compile(r"^[^\x00-\x1f]{1,128}$")  # group, printer and printer-group names
MAX_TEXT = 256
MAX_LIST = 1000  # the most rows one admin listing returns
MAX_KEY_CHARS = 128  # an idempotency key

# Money. One amount (a credit limit, an adjustment, a voucher's value) is at most 10^11 minor
# units (1 000 000 000.00), a price at most 10^6 a page; a usage line has at most 10^6 pages
# (pricing.MAX_PAGES_PER_LINE) and a report 64 lines, so a charge stays below 6.4 * 10^13. No
# balance may pass +-10^15 (the ledger refuses the posting): every sum stays far inside the
# signed 64-bit integers of the database columns and the protobuf fields (9.2 * 10^18).
MAX_AMOUNT_CENTS = 100_000_000_000
MAX_PRICE_CENTS_PER_PAGE = 1_000_000
MAX_BALANCE_CENTS = 1_000_000_000_000_000


def require(pattern: re.Pattern[str], value: str, what: str) -> str:
    """``value`` if it matches ``pattern`` in full, else :class:`InvalidRequest` naming ``what``."""
    if not pattern.fullmatch(value):
        raise InvalidRequest(f"invalid {what}: {value[:80]!r}")
    return value


def text(value: str, what: str) -> str:
    """``value`` if it is at most :data:`MAX_TEXT` printable characters."""
    if len(value) > MAX_TEXT or not value.isprintable():
        raise InvalidRequest(f"{what} must be at most {MAX_TEXT} printable characters")
    return value


def amount(value: int, what: str, *, low: int = 0, high: int = MAX_AMOUNT_CENTS) -> int:
    """``value`` if ``low <= value <= high``, else :class:`InvalidRequest` naming ``what`` and
    the bounds."""
    if not low <= value <= high:
        raise InvalidRequest(f"{what} must be {low}..{high} minor units, not {value}")
    return value


def idempotency_key(key: str, max_chars: int = MAX_KEY_CHARS) -> str:
    """``key`` if it is 1..``max_chars`` printable characters, not all of them blanks."""
    if not 1 <= len(key) <= max_chars or not key.isprintable() or not key.strip():
        raise InvalidRequest(f"idempotency key must be 1..{max_chars} printable characters, not only blanks")
    return key
