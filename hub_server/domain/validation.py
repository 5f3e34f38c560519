"""Bounds on every name and text the hub keeps, and on admin listings, so nothing grows without
limit."""

from __future__ import annotations

import re

from hub_server.errors import InvalidRequest

__all__ = ["CODE", "MAX_LIST", "MAX_TEXT", "NAME", "require", "text"]

CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")  # usernames, role names, project codes
NAME = re.compile(r"^[^\x00-\x1f]{1,128}$")  # group, printer and printer-group names
MAX_TEXT = 256
MAX_LIST = 1000  # the most rows one admin listing returns


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
