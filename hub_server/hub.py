"""The hub's terminal-facing logic: who is at the terminal, what they may do, what they used.

:class:`Hub` ties storage, the clock, secrets and policy together; gRPC servicers only translate
messages to and from it.

Lockout policy: failures count per *identity*. A credential that names nobody (an unknown card,
a PIN no one has, an unknown username) counts against the terminal it was tried at
(``terminal:<id>``); a wrong second-factor PIN or password for a known user counts against that
user (``user:<id>``). After ``max_failed_attempts`` the identity is locked for ``lockout_s``; a
locked user cannot log in by any method, a locked terminal takes no anonymous credential.
An admin can unlock either. A wrong card and a wrong PIN give the same answer, "card or PIN not
recognised", after the same work (a lookup and a failure record).

Linking an unknown card (:meth:`Hub.link_card`) checks, in this order: that the hub allows it,
the password (exactly as a password login, with its lockout counting), and only then the card:
a card already linked to someone else is refused without naming them, so whether a card is taken
is learnt only with a valid password, and only what a tap of it already tells.
"""

from __future__ import annotations

import asyncio
import hmac
import time
from dataclasses import dataclass
from typing import NoReturn

from hub_server import directory, lockout
from hub_server.accounts_view import SessionView, permissions, session_view
from hub_server.clock import Clock
from hub_server.config import HubConfig
from hub_server.errors import (
    AuthenticationFailed,
    InvalidRequest,
    PermissionDenied,
    Refused,
    SessionInvalid,
)
from hub_server.lockout import Limits, record_failure, refuse_if_locked
from hub_server.pricing import COLORS, PricedLine, UsageLine, printer_group_of_terminal, unit_price
from hub_server.security import Hasher, SessionClaims, SessionSigner, pin_lookup_key, sha256_hex
from hub_server.storage.base import Database, Tx
from hub_server.usage import UsageReport, UsageResult, apply_usage

NOT_RECOGNISED = "card or PIN not recognised"
PASSWORD_NOT_RECOGNISED = "username or password not recognised"
CARD_NOT_LINKABLE = "this card cannot be linked here"
SESSION_PRICE_FUNCTIONS = ("print", "copy")
TERMINAL_CACHE_S = 10.0
MAX_SECRET_CHARS = 128


@dataclass(frozen=True)
class Credential:
    """What a person presented: a card (maybe with its PIN), a PIN, or a username and password."""

    card_number: str = ""
    pin: str = ""
    username: str = ""
    password: str = ""

    @property
    def method(self) -> str:
        """card, card+pin, pin or password."""
        if self.card_number:
            return "card+pin" if self.pin else "card"
        return "password" if self.username else "pin"


@dataclass(frozen=True)
class AuthResult:
    """The answer to an authentication."""

    second_factor_required: bool
    token: str = ""
    claims: SessionClaims | None = None
    view: SessionView | None = None


class Hub:
    """Authentication, sessions and usage over one database."""

    def __init__(self, db: Database, config: HubConfig, clock: Clock, secret: bytes) -> None:
        self.db = db
        self.config = config
        self.clock = clock
        self.secret = secret
        self.hasher = Hasher(config.auth.argon2_time_cost, config.auth.argon2_memory_kib)
        self.signer = SessionSigner(secret)
        self._terminals: dict[str, tuple[str, float]] = {}

    # -- callers ----------------------------------------------------------------------------

    def check_terminal(self, terminal_id: str, key: str) -> None:
        """Accept a terminal's id and key, or raise :class:`AuthenticationFailed`."""
        digest = sha256_hex(key[:MAX_SECRET_CHARS])
        cached = self._terminals.get(terminal_id)
        if cached and cached[1] > time.monotonic() and hmac.compare_digest(cached[0], digest):
            return
        stored = self.db.read(
            lambda tx: tx.scalar(
                "SELECT key_sha256 FROM terminals WHERE id = :t AND active = 1", {"t": terminal_id}
            )
        )
        if stored is None or not hmac.compare_digest(str(stored), digest):
            raise AuthenticationFailed("unknown terminal or wrong terminal key")
        self._terminals[terminal_id] = (digest, time.monotonic() + TERMINAL_CACHE_S)

    def check_admin(self, token: str) -> None:
        """Accept an admin token, or raise :class:`AuthenticationFailed`."""
        digest = sha256_hex(token[:MAX_SECRET_CHARS])
        found = self.db.read(
            lambda tx: tx.scalar("SELECT id FROM admin_tokens WHERE token_sha256 = :h", {"h": digest})
        )
        if found is None:
            raise AuthenticationFailed("admin credential not recognised")

    # -- authentication ---------------------------------------------------------------------

    async def authenticate(self, terminal_id: str, credential: Credential) -> AuthResult:
        """Identify the person at a terminal (see the module docstring for the lockout policy)."""
        now_us = self.clock.now_us()
        self._refuse_if_locked(f"terminal:{terminal_id}", now_us)
        if credential.card_number:
            return await self._by_card(terminal_id, credential, now_us)
        if credential.username:
            return await self._by_password(terminal_id, credential, now_us)
        return await self._by_pin(terminal_id, credential, now_us)

    async def _by_card(self, terminal_id: str, credential: Credential, now_us: int) -> AuthResult:
        try:
            number = directory.normalise_card_number(credential.card_number)
        except InvalidRequest:
            number = ""

        def find(tx: Tx) -> tuple[int, str | None, bool] | None:
            row = tx.one(
                "SELECT u.id, u.pin_hash FROM cards c JOIN users u ON u.id = c.user_id"
                " WHERE c.number = :n AND u.active = 1",
                {"n": number},
            )
            if row is None:
                return None
            user_id = int(row["id"])
            refuse_if_locked(tx, f"user:{user_id}", now_us)
            return user_id, row["pin_hash"], permissions(tx, user_id).requires_card_pin

        found = self.db.read(find)
        if found is None:
            await self._fail(f"terminal:{terminal_id}", now_us)
        user_id, pin_hash, requires_pin = found
        if requires_pin:
            if not credential.pin:
                return AuthResult(second_factor_required=True)
            matches = await asyncio.to_thread(self.hasher.verify, pin_hash, credential.pin[:MAX_SECRET_CHARS])
            if not matches:
                await self._fail(f"user:{user_id}", now_us)
        return await self._succeed(user_id, terminal_id, credential.method, now_us)

    async def _by_pin(self, terminal_id: str, credential: Credential, now_us: int) -> AuthResult:
        if not self.config.auth.pin_login:
            raise PermissionDenied("PIN login is disabled on this hub")
        lookup = pin_lookup_key(self.secret, credential.pin[:MAX_SECRET_CHARS])
        user_id = self.db.read(
            lambda tx: tx.scalar("SELECT id FROM users WHERE pin_lookup = :k AND active = 1", {"k": lookup})
        )
        if user_id is None:
            await self._fail(f"terminal:{terminal_id}", now_us)
        self._refuse_if_locked(f"user:{user_id}", now_us)
        if self.db.read(lambda tx: permissions(tx, int(user_id))).requires_card_pin:
            raise PermissionDenied("this account needs its card and PIN together")
        return await self._succeed(int(user_id), terminal_id, "pin", now_us)

    async def _by_password(self, terminal_id: str, credential: Credential, now_us: int) -> AuthResult:
        user_id = await self._check_password(terminal_id, credential.username, credential.password, now_us)
        return await self._succeed(user_id, terminal_id, "password", now_us)

    async def _check_password(self, terminal_id: str, username: str, password: str, now_us: int) -> int:
        """The user id a username + password proves, or :class:`AuthenticationFailed` (counted)."""
        credential = Credential(username=username, password=password)
        row = self.db.read(
            lambda tx: tx.one(
                "SELECT id, password_hash FROM users WHERE username = :u AND active = 1",
                {"u": credential.username[:MAX_SECRET_CHARS]},
            )
        )
        if row is not None:
            self._refuse_if_locked(f"user:{row['id']}", now_us)
        stored_hash = row["password_hash"] if row else None
        matches = await asyncio.to_thread(
            self.hasher.verify, stored_hash, credential.password[:MAX_SECRET_CHARS]
        )
        if not matches or row is None:
            identity = f"user:{row['id']}" if row else f"terminal:{terminal_id}"
            await self._fail(identity, now_us, PASSWORD_NOT_RECOGNISED)
        assert row is not None
        return int(row["id"])

    async def link_card(self, terminal_id: str, card_number: str, username: str, password: str) -> AuthResult:
        """Link a card nobody holds to the user who proves their password; open their session.

        See the module docstring for the order of the checks and what each answer tells.
        """
        if not self.config.auth.self_link_cards:
            raise Refused("linking cards at the terminal is disabled on this hub")
        number = directory.normalise_card_number(card_number)
        now_us = self.clock.now_us()
        self._refuse_if_locked(f"terminal:{terminal_id}", now_us)
        user_id = await self._check_password(terminal_id, username, password, now_us)

        def link(tx: Tx) -> None:
            holder = tx.scalar("SELECT user_id FROM cards WHERE number = :n", {"n": number})
            if holder is None:
                directory.add_card(tx, user_id, number, f"linked at terminal {terminal_id}", now_us)
            elif int(holder) != user_id:
                raise Refused(CARD_NOT_LINKABLE)

        await self.db.write(link)
        return await self._succeed(user_id, terminal_id, "password", now_us)

    def _refuse_if_locked(self, identity: str, now_us: int) -> None:
        self.db.read(lambda tx: refuse_if_locked(tx, identity, now_us))

    async def _fail(self, identity: str, now_us: int, message: str = NOT_RECOGNISED) -> NoReturn:
        limits = Limits(self.config.auth.max_failed_attempts, self.config.auth.lockout_s)
        await self.db.write(lambda tx: record_failure(tx, identity, limits, now_us))
        raise AuthenticationFailed(message)

    async def _succeed(self, user_id: int, terminal_id: str, method: str, now_us: int) -> AuthResult:
        identity = f"user:{user_id}"

        def load(tx: Tx) -> tuple[object, SessionView]:
            failures = tx.scalar("SELECT failures FROM auth_failures WHERE identity = :i", {"i": identity})
            return failures, session_view(tx, user_id, now_us, self.config.timezone)

        had_failures, view = self.db.read(load)
        if had_failures:
            await self.db.write(lambda tx: lockout.clear(tx, identity))
        token = self.signer.issue(user_id, terminal_id, method, now_us, self.config.auth.session_ttl_s)
        return AuthResult(
            second_factor_required=False, token=token, claims=self.signer.check(token), view=view
        )

    async def unlock(self, identity: str) -> None:
        """Lift a lockout (admin)."""
        await self.db.write(lambda tx: lockout.clear(tx, identity))

    # -- sessions -----------------------------------------------------------------------------

    def session_prices(self, terminal_id: str) -> list[PricedLine]:
        """Unit prices of print and copy pages at the terminal's printer group (``Session.prices``):
        mono/colour x simplex/duplex, once per paper size the price list names (``*``: any other)."""

        def read(tx: Tx) -> list[PricedLine]:
            group = printer_group_of_terminal(tx, terminal_id)
            sizes = [
                str(row["paper_size"])
                for row in tx.execute(
                    "SELECT DISTINCT paper_size FROM prices WHERE printer_group IN (:g, 'default')"
                    " ORDER BY paper_size",
                    {"g": group},
                )
            ]
            lines = []
            for function in SESSION_PRICE_FUNCTIONS:
                for paper in sizes:
                    for color in COLORS:
                        for duplex in (False, True):
                            unit = unit_price(tx, group, UsageLine(function, color, paper, duplex, 1))
                            lines.append(PricedLine(function, color, paper, duplex, 1, unit, unit))
            return lines

        return self.db.read(read)

    def per_copy_prices(
        self, terminal_id: str, shapes: list[tuple[int, int, str, bool]]
    ) -> list[tuple[int, int, int, int]]:
        """For job shapes (pages, colour pages, paper, duplex) of one copy, after the job rules:
        the price of one copy as is, in mono, in duplex, and in mono duplex, at the terminal's
        printer group (each unit price looked up once)."""

        def read(tx: Tx) -> list[tuple[int, int, int, int]]:
            group = printer_group_of_terminal(tx, terminal_id)
            units: dict[tuple[str, str, bool], int] = {}

            def cost(pages: int, color_pages: int, paper: str, duplex: bool) -> int:
                total = 0
                for color, count in (("color", color_pages), ("mono", pages - color_pages)):
                    if count:
                        key = (color, paper, duplex)
                        if key not in units:
                            units[key] = unit_price(tx, group, UsageLine("print", color, paper, duplex, 0))
                        total += count * units[key]
                return total

            return [
                (
                    cost(pages, color, paper, duplex),
                    cost(pages, 0, paper, duplex),
                    cost(pages, color, paper, True),
                    cost(pages, 0, paper, True),
                )
                for pages, color, paper, duplex in shapes
            ]

        return self.db.read(read)

    def _claims_for(self, token: str, terminal_id: str) -> SessionClaims:
        claims = self.signer.check(token)
        if claims.terminal_id != terminal_id:
            raise PermissionDenied("this session belongs to another terminal")
        return claims

    def get_session(self, terminal_id: str, token: str) -> tuple[SessionClaims, SessionView]:
        """A live session's claims and view."""
        claims = self._claims_for(token, terminal_id)
        now_us = self.clock.now_us()
        if claims.expires_us <= now_us:
            raise SessionInvalid("session expired")

        def view(tx: Tx) -> SessionView:
            if tx.scalar("SELECT 1 FROM ended_sessions WHERE session_id = :s", {"s": claims.session_id}):
                raise SessionInvalid("session ended")
            if not tx.scalar("SELECT active FROM users WHERE id = :u", {"u": claims.user_id}):
                raise SessionInvalid("user is no longer active")
            return session_view(tx, claims.user_id, now_us, self.config.timezone)

        return claims, self.db.read(view)

    async def logout(self, terminal_id: str, token: str) -> None:
        """End a session."""
        claims = self._claims_for(token, terminal_id)
        now_us = self.clock.now_us()
        await self.db.write(
            lambda tx: tx.execute(
                "INSERT INTO ended_sessions (session_id, ended_us) VALUES (:s, :t) ON CONFLICT DO NOTHING",
                {"s": claims.session_id, "t": now_us},
            )
        )

    async def report_usage(self, terminal_id: str, token: str, report: UsageReport) -> UsageResult:
        """Charge a session's usage exactly once.

        The session may have ended or expired (a terminal replays its journal after being
        offline): usage is accepted up to ``usage_report_grace_s`` after the session's expiry.
        """
        claims = self._claims_for(token, terminal_id)
        now_us = self.clock.now_us()
        if now_us > claims.expires_us + self.config.auth.usage_report_grace_s * 1_000_000:
            raise SessionInvalid("session too old to report usage for")
        bound = UsageReport(
            user_id=claims.user_id,
            terminal_id=terminal_id,
            idempotency_key=report.idempotency_key,
            lines=report.lines,
            project_code=report.project_code,
            occurred_us=report.occurred_us,
            performed=report.performed,
            description=report.description,
        )
        return await self.db.write(lambda tx: apply_usage(tx, bound, now_us, self.config.timezone))
