"""The web console's own facts: console accounts (admin, helpdesk, auditor), the browser
sessions of the console and the user portal, the audit log of every change made in the
console, and scheduled reports.

These tables are the ``web`` component's (:data:`WEB`), migrated with the core. A console
account is not a hub user: it logs in to the console only, with an argon2id password, and is
locked after ``max_failed_attempts`` wrong passwords like a user (:mod:`.lockout`, identity
``console:<name>``). There is no default account: the first admin is made with
``printgate admin console-user create NAME --role admin --password-stdin`` (AdminService).

A browser session is a random token in a cookie; the hub keeps only its SHA-256, the account
or user it belongs to, its CSRF token and two clocks: it ends ``idle_s`` after it was last seen
and ``absolute_s`` after it began, whichever is first, or at logout.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from dataclasses import dataclass

from hub_server.clock import Clock
from hub_server.domain import lockout
from hub_server.domain.credentials import check_password
from hub_server.domain.security import Hasher
from hub_server.domain.store import Store
from hub_server.domain.validation import CODE, MAX_LIST, require, text
from hub_server.errors import AlreadyExists, AuthenticationFailed, InvalidRequest
from hub_server.storage import Component, Row, Tx

__all__ = [
    "CONSOLE_ROLES",
    "WEB",
    "AuditEntry",
    "Console",
    "ConsoleAccount",
    "WebSession",
]

CONSOLE_ROLES = ("admin", "helpdesk", "auditor")
SESSION_KINDS = ("console", "portal")
MAX_DETAIL_CHARS = 512
SEEN_UPDATE_S = 60  # a session's last-seen time is written at most this often
LOGIN_NOT_RECOGNISED = "name or password not recognised"

MIGRATIONS: list[list[str]] = [
    # 1: console accounts, browser sessions, the audit log, scheduled reports
    [
        """CREATE TABLE console_users (
            id {id},
            username TEXT NOT NULL UNIQUE,
            role TEXT NOT NULL CHECK (role IN ('admin', 'helpdesk', 'auditor')),
            password_hash TEXT NOT NULL,
            active INTEGER NOT NULL DEFAULT 1,
            created_us BIGINT NOT NULL
        )""",
        """CREATE TABLE web_sessions (
            token_sha256 TEXT PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('console', 'portal')),
            principal_id BIGINT NOT NULL,
            csrf_token TEXT NOT NULL,
            language TEXT NOT NULL DEFAULT 'en',
            created_us BIGINT NOT NULL,
            seen_us BIGINT NOT NULL
        )""",
        "CREATE INDEX web_sessions_principal ON web_sessions (kind, principal_id)",
        """CREATE TABLE console_audit (
            id {id},
            at_us BIGINT NOT NULL,
            actor TEXT NOT NULL,
            role TEXT NOT NULL,
            action TEXT NOT NULL,
            target TEXT NOT NULL DEFAULT '',
            detail TEXT NOT NULL DEFAULT ''
        )""",
        "CREATE INDEX console_audit_at ON console_audit (at_us)",
        """CREATE TABLE report_schedules (
            id {id},
            report TEXT NOT NULL,
            dimension TEXT NOT NULL DEFAULT '',
            period TEXT NOT NULL CHECK (period IN ('week', 'month')),
            format TEXT NOT NULL CHECK (format IN ('csv', 'xlsx', 'pdf')),
            recipients TEXT NOT NULL,
            last_sent TEXT NOT NULL DEFAULT '',
            created_by TEXT NOT NULL,
            created_us BIGINT NOT NULL
        )""",
    ],
]

WEB = Component("web", MIGRATIONS)


@dataclass(frozen=True)
class ConsoleAccount:
    """A console login and its role."""

    id: int
    username: str
    role: str
    active: bool = True


@dataclass(frozen=True)
class WebSession:
    """A live browser session: whose it is (a console account or a hub user) and its CSRF token."""

    kind: str
    principal_id: int
    name: str
    role: str  # the console role; "user" in the portal
    csrf_token: str
    language: str
    seen_us: int

    def stale(self, now_us: int) -> bool:
        """True when its last-seen time is older than :data:`SEEN_UPDATE_S` (worth a write)."""
        return now_us - self.seen_us > SEEN_UPDATE_S * 1_000_000


@dataclass(frozen=True)
class AuditEntry:
    """One change made in the console."""

    id: int
    at_us: int
    actor: str
    role: str
    action: str
    target: str
    detail: str


def token_digest(token: str) -> str:
    """What the hub keeps of a session token."""
    return hashlib.sha256(token.encode()).hexdigest()


def console_identity(username: str) -> str:
    """The lockout identity of a console name (counted whether or not the account exists)."""
    return f"console:{username.lower()[:64]}"


def _account(row: Row) -> ConsoleAccount:
    return ConsoleAccount(int(row["id"]), str(row["username"]), str(row["role"]), bool(row["active"]))


def create_account(tx: Tx, username: str, role: str, password_hash: str, now_us: int) -> ConsoleAccount:
    """A new console account (a name taken, whatever its case, is refused)."""
    require(CODE, username, "console user name")
    if role not in CONSOLE_ROLES:
        raise InvalidRequest(f"a console role is one of {', '.join(CONSOLE_ROLES)}")
    taken = tx.scalar("SELECT id FROM console_users WHERE LOWER(username) = :n", {"n": username.lower()})
    if taken is not None:
        raise AlreadyExists(f"console user {username!r} already exists")
    row = tx.one(
        "INSERT INTO console_users (username, role, password_hash, created_us)"
        " VALUES (:n, :r, :h, :t) RETURNING id, username, role, active",
        {"n": username, "r": role, "h": password_hash, "t": now_us},
    )
    assert row is not None
    return _account(row)


def list_accounts(tx: Tx) -> list[ConsoleAccount]:
    """Every console account by name."""
    return [
        _account(r)
        for r in tx.execute("SELECT id, username, role, active FROM console_users ORDER BY username")
    ]


def open_session(tx: Tx, kind: str, principal_id: int, language: str, now_us: int) -> tuple[str, str]:
    """Store a new session; returns (cookie token, CSRF token). Only the token's digest is kept."""
    if kind not in SESSION_KINDS:
        raise InvalidRequest(f"unknown session kind {kind!r}")
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    tx.execute(
        "INSERT INTO web_sessions (token_sha256, kind, principal_id, csrf_token, language, created_us,"
        " seen_us) VALUES (:h, :k, :p, :c, :l, :t, :t)",
        {"h": token_digest(token), "k": kind, "p": principal_id, "c": csrf, "l": language, "t": now_us},
    )
    return token, csrf


def audit(tx: Tx, actor: str, role: str, action: str, target: str, detail: str, now_us: int) -> None:
    """Append one line to the audit log (inside the caller's transaction)."""
    tx.execute(
        "INSERT INTO console_audit (at_us, actor, role, action, target, detail)"
        " VALUES (:t, :a, :r, :x, :g, :d)",
        {
            "t": now_us,
            "a": actor,
            "r": role,
            "x": action,
            "g": target[:MAX_DETAIL_CHARS],
            "d": detail[:MAX_DETAIL_CHARS],
        },
    )


class Console:
    """Console accounts, browser sessions and the audit log."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        hasher: Hasher,
        backoff: lockout.Backoff,
        idle_s: int = 1800,
        absolute_s: int = 12 * 3600,
    ) -> None:
        self._store = store
        self._clock = clock
        self._hasher = hasher
        self._backoff = backoff
        self.idle_s = idle_s
        self.absolute_s = absolute_s

    # -- accounts ---------------------------------------------------------------------------

    async def create_account(self, username: str, role: str, password: str) -> ConsoleAccount:
        """A new console account with an argon2id password."""
        password_hash = self._hasher.hash(check_password(password))
        now_us = self._clock.now_us()
        return await self._store.write(lambda tx: create_account(tx, username, role, password_hash, now_us))

    def accounts(self) -> list[ConsoleAccount]:
        """Every console account."""
        return self._store.read(list_accounts)

    async def login(self, username: str, password: str, language: str) -> tuple[str, str, ConsoleAccount]:
        """Check a console password (back-off per name, the attempt claimed before the check
        as at a terminal); open a session. Returns (token, csrf, account). A wrong name and a
        wrong password answer alike, and both count."""
        now_us = self._clock.now_us()
        identities = [console_identity(username)]
        await self._store.write(lambda tx: lockout.claim(tx, identities, self._backoff, now_us))
        row = self._store.read(
            lambda tx: tx.one(
                "SELECT id, username, role, active, password_hash FROM console_users"
                " WHERE LOWER(username) = :n AND active = 1",
                {"n": username.lower()[:64]},
            )
        )
        stored = None if row is None else str(row["password_hash"])
        matches = False
        try:
            matches = row is not None and await asyncio.to_thread(self._hasher.verify, stored, password[:128])
        finally:
            settled_us = self._clock.now_us()
            await self._store.write(
                lambda tx: lockout.settle(
                    tx, identities, self._backoff, settled_us, failed=not matches, forgiven=identities[0]
                )
            )
        if not matches or row is None:
            raise AuthenticationFailed(LOGIN_NOT_RECOGNISED)
        account = _account(row)

        def start(tx: Tx) -> tuple[str, str]:
            return open_session(tx, "console", account.id, language, now_us)

        token, csrf = await self._store.write(start)
        return token, csrf, account

    async def unlock(self, username: str) -> None:
        """Lift a console name's back-off."""
        await self._store.write(lambda tx: lockout.clear_login(tx, console_identity(username)))

    # -- sessions ---------------------------------------------------------------------------

    async def open_portal_session(self, user_id: int, language: str) -> tuple[str, str]:
        """A portal session for a hub user whose password was checked."""
        now_us = self._clock.now_us()
        return await self._store.write(lambda tx: open_session(tx, "portal", user_id, language, now_us))

    def session(self, token: str) -> WebSession | None:
        """The live session of a cookie token (None: unknown, ended or expired), with the
        account's current role: a changed or disabled account takes effect at once."""
        if not token or len(token) > 128:
            return None
        now_us = self._clock.now_us()
        row = self._store.read(lambda tx: _live_session(tx, token_digest(token)))
        if row is None or not _alive(row, now_us, self.idle_s, self.absolute_s):
            return None
        return WebSession(
            kind=str(row["kind"]),
            principal_id=int(row["principal_id"]),
            name=str(row["name"]),
            role=str(row["role"]),
            csrf_token=str(row["csrf_token"]),
            language=str(row["language"]),
            seen_us=int(row["seen_us"]),
        )

    async def touch(self, token: str) -> None:
        """Record that the session was used now (its idle clock starts again)."""
        now_us = self._clock.now_us()
        await self._store.write(
            lambda tx: tx.execute(
                "UPDATE web_sessions SET seen_us = :t WHERE token_sha256 = :h",
                {"t": now_us, "h": token_digest(token)},
            )
        )

    async def set_language(self, token: str, language: str) -> None:
        """Remember the session's language."""
        await self._store.write(
            lambda tx: tx.execute(
                "UPDATE web_sessions SET language = :l WHERE token_sha256 = :h",
                {"l": language, "h": token_digest(token)},
            )
        )

    async def logout(self, token: str) -> None:
        """End a session."""
        await self._store.write(
            lambda tx: tx.execute(
                "DELETE FROM web_sessions WHERE token_sha256 = :h", {"h": token_digest(token)}
            )
        )

    async def sweep(self) -> int:
        """Delete expired sessions; returns how many."""
        now_us = self._clock.now_us()
        idle_before = now_us - self.idle_s * 1_000_000
        started_before = now_us - self.absolute_s * 1_000_000
        rows = await self._store.write(
            lambda tx: tx.execute(
                "DELETE FROM web_sessions WHERE seen_us < :i OR created_us < :a RETURNING token_sha256",
                {"i": idle_before, "a": started_before},
            )
        )
        return len(rows)

    # -- audit ------------------------------------------------------------------------------

    async def audit(self, actor: str, role: str, action: str, target: str = "", detail: str = "") -> None:
        """Record one change made in the console."""
        text(action, "audit action")
        now_us = self._clock.now_us()
        await self._store.write(lambda tx: audit(tx, actor, role, action, target, detail, now_us))

    def audit_log(self, limit: int = 100, before_id: int = 0) -> list[AuditEntry]:
        """The newest audit lines (at most :data:`MAX_LIST`), before ``before_id`` when given."""
        limit = min(max(limit, 1), MAX_LIST)
        rows = self._store.read(
            lambda tx: tx.execute(
                "SELECT * FROM console_audit WHERE id < :b ORDER BY id DESC LIMIT :n",
                {"b": before_id or 2**62, "n": limit},
            )
        )
        return [
            AuditEntry(
                int(r["id"]),
                int(r["at_us"]),
                str(r["actor"]),
                str(r["role"]),
                str(r["action"]),
                str(r["target"]),
                str(r["detail"]),
            )
            for r in rows
        ]


def _live_session(tx: Tx, digest: str) -> Row | None:
    return tx.one(
        """SELECT s.kind, s.principal_id, s.csrf_token, s.language, s.created_us, s.seen_us,
               COALESCE(c.username, u.username) AS name,
               CASE WHEN s.kind = 'console' THEN c.role ELSE 'user' END AS role
           FROM web_sessions s
           LEFT JOIN console_users c ON s.kind = 'console' AND c.id = s.principal_id AND c.active = 1
           LEFT JOIN users u ON s.kind = 'portal' AND u.id = s.principal_id AND u.active = 1
           WHERE s.token_sha256 = :h""",
        {"h": digest},
    )


def _alive(row: Row, now_us: int, idle_s: int, absolute_s: int) -> bool:
    if row["name"] is None or row["role"] is None:
        return False  # the account or user was disabled or removed
    return (
        now_us - int(row["seen_us"]) <= idle_s * 1_000_000
        and now_us - int(row["created_us"]) <= absolute_s * 1_000_000
    )
