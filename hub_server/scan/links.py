"""Signed, expiring download links for scans too large to mail.

Token format (URL-safe, no padding)::

    v1.<scan id>.<base64url(user)>.<expires, unix seconds>.<base64url(HMAC-SHA256)>

The MAC covers ``v1.<scan id>.<base64url(user)>.<expires>`` with a key of at least 32 bytes
that only the hub holds (derive it from the hub secret, one purpose per key). The web console
serves ``GET /scans/<token>`` like this: :func:`verify_link` (forged or expired tokens are
refused, in constant time), then it requires that the logged-in person *is* ``grant.user``
(a forwarded link is useless to anybody else), then it streams the stored scan. The token
names the scan; it is not the scan's storage key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from dataclasses import dataclass

from .errors import LinkError, LinkExpired

__all__ = ["LinkGrant", "make_link_token", "verify_link"]

_VERSION = "v1"
_SCAN_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_TOKEN_MAX = 512
_KEY_BYTES_MIN = 32


@dataclass(frozen=True)
class LinkGrant:
    """What a valid token allows: this user may fetch this scan until ``expires_unix_s``."""

    scan_id: str
    user: str
    expires_unix_s: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise LinkError("malformed download link") from None


def _mac(key: bytes, signed: str) -> bytes:
    if len(key) < _KEY_BYTES_MIN:
        raise ValueError(f"the link key must have at least {_KEY_BYTES_MIN} bytes")
    return hmac.new(key, signed.encode("ascii"), hashlib.sha256).digest()


def make_link_token(key: bytes, scan_id: str, user: str, expires_unix_s: int) -> str:
    """A token that lets ``user`` download ``scan_id`` until ``expires_unix_s``."""
    if not _SCAN_ID.match(scan_id):
        raise ValueError("a scan id is 1-64 characters of A-Z, a-z, 0-9, - and _")
    signed = f"{_VERSION}.{scan_id}.{_b64(user.encode('utf-8'))}.{int(expires_unix_s)}"
    return f"{signed}.{_b64(_mac(key, signed))}"


def verify_link(key: bytes, token: str, now_unix_s: float) -> LinkGrant:
    """The grant a token carries; ``LinkError`` if forged or malformed, ``LinkExpired`` if old."""
    if len(token) > _TOKEN_MAX:
        raise LinkError("malformed download link")
    pieces = token.split(".")
    if len(pieces) != 5 or pieces[0] != _VERSION:
        raise LinkError("malformed download link")
    version, scan_id, user_b64, expires_text, mac_b64 = pieces
    signed = f"{version}.{scan_id}.{user_b64}.{expires_text}"
    if not hmac.compare_digest(_mac(key, signed), _unb64(mac_b64)):
        raise LinkError("download link signature does not match")
    if not expires_text.isdigit() or not _SCAN_ID.match(scan_id):
        raise LinkError("malformed download link")
    try:
        user = _unb64(user_b64).decode("utf-8")
    except UnicodeDecodeError:
        raise LinkError("malformed download link") from None
    grant = LinkGrant(scan_id, user, int(expires_text))
    if now_unix_s >= grant.expires_unix_s:
        raise LinkExpired(f"download link expired at {grant.expires_unix_s}")
    return grant
