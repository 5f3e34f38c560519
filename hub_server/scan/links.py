"""Signed, expiring download links for scans too large to mail.

Token format (URL-safe, no padding)::

    v1.<scan id>.<base64url(user)>.<expires, unix seconds>.<base64url(HMAC-SHA256)>

The MAC covers ``v1.<scan id>.<base64url(user)>.<expires>`` with a key of at least 32 bytes
that only the hub holds (derive it from the hub secret, one purpose per key). The web portal
serves ``GET /portal/scans/<token>`` (``/scans/<token>`` redirects there, through the portal's
login) with :class:`ScanDownloads`: :func:`verify_link` (forged or expired tokens are refused,
in constant time), then the logged-in person must *be* ``grant.user`` (a forwarded link is
useless to anybody else), then it sends the stored scan. The token names the scan; it is not
the scan's storage key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .errors import LinkError, LinkExpired

__all__ = ["DirectoryLinkStore", "LinkGrant", "ScanDownloads", "make_link_token", "verify_link"]

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


class DirectoryLinkStore:
    """Scans kept for download: ``<root>/<scan id>/`` holds the files and ``owner.json``.

    ``keep`` is what ``EmailDestination`` calls; ``files_for`` is what the web console calls
    with a verified grant (it refuses another user's scan); ``purge`` removes expired scans.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)

    def keep(self, scan_id: str, user: str, files: tuple[tuple[str, Path], ...], expires_unix_s: int) -> None:
        """Copy the files of a scan in, with its owner and expiry."""
        folder = self.root / scan_id
        folder.mkdir(mode=0o700, exist_ok=True)
        names = []
        for name, path in files:
            safe = Path(name).name
            shutil.copyfile(path, folder / safe)
            names.append(safe)
        owner = {"user": user, "expires_unix_s": expires_unix_s, "files": names}
        (folder / "owner.json").write_text(json.dumps(owner))

    def files_for(self, grant: LinkGrant) -> list[Path]:
        """The files a verified grant may download; ``LinkError`` for another user's scan."""
        if not _SCAN_ID.match(grant.scan_id):
            raise LinkError("malformed download link")
        owner_file = self.root / grant.scan_id / "owner.json"
        if not owner_file.exists():
            raise LinkExpired("the scan is no longer kept")
        owner = json.loads(owner_file.read_text())
        if owner["user"] != grant.user:
            raise LinkError("this scan belongs to somebody else")
        return [self.root / grant.scan_id / name for name in owner["files"]]

    def purge(self, now_unix_s: float) -> int:
        """Remove every scan whose link has expired; how many."""
        removed = 0
        for owner_file in self.root.glob("*/owner.json"):
            if json.loads(owner_file.read_text())["expires_unix_s"] <= now_unix_s:
                shutil.rmtree(owner_file.parent, ignore_errors=True)
                removed += 1
        return removed


class ScanDownloads:
    """The files a download link gives its owner: what the web portal serves."""

    def __init__(
        self, key: bytes, store: DirectoryLinkStore, clock_s: Callable[[], float] = time.time
    ) -> None:
        self._key = key
        self._store = store
        self._clock_s = clock_s

    def files(self, token: str, username: str) -> list[Path]:
        """The scan's files for ``username`` (who is logged in); ``LinkExpired`` for an expired
        link or a scan no longer kept, ``LinkError`` for a forged one or somebody else's."""
        grant = verify_link(self._key, token, self._clock_s())
        if grant.user.lower() != username.lower():  # usernames are one name whatever their case
            raise LinkError("this scan belongs to somebody else")
        return self._store.files_for(grant)

    def purge(self) -> int:
        """Remove the scans whose links have expired; how many."""
        return self._store.purge(self._clock_s())
