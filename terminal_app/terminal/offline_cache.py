"""Users this terminal saw recently, so they can log in while the hub is unreachable.

What is kept per user: keyed hashes (HMAC-SHA256 with this terminal's secret) of the card
number and of the PIN — never the raw PIN or card number —, the name to greet them with,
what they may do, the money they had at their last online login, and the token of their last
online session. That token is what charges their offline usage on reconnect: the hub accepts
usage for an ended session up to its ``usage_report_grace_s`` (7 days by default), so the
cache's ``ttl_s`` must not be longer.

At most ``max_users`` are kept; the least recently seen go first. Entries older than ``ttl_s``
are ignored and deleted.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import sqlite3
import stat
from dataclasses import dataclass
from pathlib import Path

from terminal_app.errors import JournalError
from terminal_app.hub.values import Session
from terminal_app.session.clock import Clock

__all__ = ["CachedUser", "OfflineCache", "load_or_create_key"]

KEY_BYTES = 32
_SCHEMA = """
CREATE TABLE IF NOT EXISTS offline_users (
    user_id INTEGER PRIMARY KEY,
    username TEXT NOT NULL,
    full_name TEXT NOT NULL,
    card_hash TEXT,
    pin_hash TEXT,
    requires_pin INTEGER NOT NULL,
    session_token TEXT NOT NULL,
    available_cents INTEGER NOT NULL,
    postpaid INTEGER NOT NULL,
    copy_allowed INTEGER NOT NULL,
    color_allowed INTEGER NOT NULL,
    projects TEXT NOT NULL,
    project_required INTEGER NOT NULL,
    seen_us INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS offline_users_card ON offline_users (card_hash);
CREATE INDEX IF NOT EXISTS offline_users_pin ON offline_users (pin_hash);
"""


def load_or_create_key(path: Path) -> bytes:
    """The terminal's hashing secret: read it, or create it (mode 0600) on first start."""
    if path.exists():
        if stat.S_IMODE(path.stat().st_mode) & 0o077:  # an older terminal's: readable by others
            os.chmod(path, 0o600)
        key = path.read_bytes()
        if len(key) != KEY_BYTES:
            raise JournalError(f"{path}: expected a {KEY_BYTES}-byte key, found {len(key)} bytes")
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(KEY_BYTES)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(key)
    return key


@dataclass(frozen=True)
class CachedUser:
    """What the terminal remembers of one user."""

    user_id: int
    username: str
    full_name: str
    requires_pin: bool
    has_pin: bool
    session_token: str
    available_cents: int
    postpaid: bool
    copy_allowed: bool
    color_allowed: bool
    projects: tuple[tuple[str, str], ...]
    project_required: bool
    seen_us: int


class OfflineCache:
    """The cache of recently seen users (see the module docstring)."""

    def __init__(
        self, connection: sqlite3.Connection, key: bytes, clock: Clock, *, ttl_s: float, max_users: int
    ) -> None:
        self._db = connection
        self._key = key
        self._clock = clock
        self.ttl_s = ttl_s
        self.max_users = max_users
        self._db.executescript(_SCHEMA)

    def _hash(self, kind: str, secret: str) -> str:
        return hmac.new(self._key, f"{kind}\0{secret}".encode(), hashlib.sha256).hexdigest()

    def remember(self, session: Session, token: str, *, card_number: str = "", pin: str = "") -> None:
        """Store (or refresh) a user after an online login; keeps hashes the login did not bring."""
        old = self._db.execute(
            "SELECT card_hash, pin_hash FROM offline_users WHERE user_id = ?", (session.user.user_id,)
        ).fetchone()
        card_hash = self._hash("card", card_number) if card_number else (old["card_hash"] if old else None)
        pin_hash = self._hash("pin", pin) if pin else (old["pin_hash"] if old else None)
        self._db.execute(
            "INSERT OR REPLACE INTO offline_users VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                session.user.user_id,
                session.user.username,
                session.user.full_name,
                card_hash,
                pin_hash,
                int(session.auth_method == "card+pin"),
                token,
                session.available_cents,
                int(session.postpaid),
                int(session.copy_allowed),
                int(session.color_allowed),
                json.dumps([[p.code, p.name] for p in session.projects]),
                int(session.project_required),
                self._clock.wall_us(),
            ),
        )
        self._evict()

    def _evict(self) -> None:
        oldest_kept_us = self._clock.wall_us() - int(self.ttl_s * 1_000_000)
        self._db.execute("DELETE FROM offline_users WHERE seen_us < ?", (oldest_kept_us,))
        self._db.execute(
            "DELETE FROM offline_users WHERE user_id NOT IN"
            " (SELECT user_id FROM offline_users ORDER BY seen_us DESC LIMIT ?)",
            (self.max_users,),
        )

    def by_card(self, card_number: str) -> CachedUser | None:
        """The cached user of a card, if seen within the TTL."""
        return self._find("card_hash", self._hash("card", card_number))

    def by_pin(self, pin: str) -> CachedUser | None:
        """The cached user of a PIN (PIN-only login), if seen within the TTL."""
        return self._find("pin_hash", self._hash("pin", pin))

    def check_pin(self, user: CachedUser, pin: str) -> bool:
        """Does ``pin`` match the user's cached PIN hash?"""
        row = self._db.execute(
            "SELECT pin_hash FROM offline_users WHERE user_id = ?", (user.user_id,)
        ).fetchone()
        return bool(row and row["pin_hash"] and hmac.compare_digest(row["pin_hash"], self._hash("pin", pin)))

    def spend(self, user_id: int, amount_cents: int) -> None:
        """Lower the cached money after offline usage, so the next offline session sees less."""
        self._db.execute(
            "UPDATE offline_users SET available_cents = MAX(0, available_cents - ?) WHERE user_id = ?",
            (amount_cents, user_id),
        )

    def set_available(self, user_id: int, available_cents: int) -> None:
        """The hub told us the user's money (after a charge)."""
        self._db.execute(
            "UPDATE offline_users SET available_cents = ? WHERE user_id = ?", (available_cents, user_id)
        )

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM offline_users").fetchone()[0])

    def _find(self, column: str, digest: str) -> CachedUser | None:
        self._evict()
        row = self._db.execute(f"SELECT * FROM offline_users WHERE {column} = ?", (digest,)).fetchone()
        if row is None:
            return None
        return CachedUser(
            user_id=int(row["user_id"]),
            username=str(row["username"]),
            full_name=str(row["full_name"]),
            requires_pin=bool(row["requires_pin"]),
            has_pin=row["pin_hash"] is not None,
            session_token=str(row["session_token"]),
            available_cents=int(row["available_cents"]),
            postpaid=bool(row["postpaid"]),
            copy_allowed=bool(row["copy_allowed"]),
            color_allowed=bool(row["color_allowed"]),
            projects=tuple((str(code), str(name)) for code, name in json.loads(row["projects"])),
            project_required=bool(row["project_required"]),
            seen_us=int(row["seen_us"]),
        )
