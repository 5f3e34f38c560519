"""Who is calling and who is at the terminal: terminal keys, admin tokens, card / PIN / password
logins, linking an unknown card, and lockouts. :class:`Authentication` is the domain object the
services call.

Lockout policy: failures count per *identity*. A credential that names nobody (an unknown card,
a PIN no one has, an unknown username) counts against the terminal it was tried at
(``terminal:<id>``); a wrong second-factor PIN or password for a known user counts against that
user (``user:<id>``). After ``max_failed_attempts`` the identity is locked for ``lockout_s``; a
locked user cannot log in by any method, a locked terminal takes no anonymous credential.
An admin can unlock either. A wrong card and a wrong PIN give the same answer, "card or PIN not
recognised", after the same work (a lookup and a failure record).

Directory passwords (docs/directory.md): for a user linked to a directory source with
``password_login``, :meth:`Authentication._directory_password` asks the directory (an LDAP bind)
instead of the hub's own hash, behind the same lockout; when the directory cannot answer, the
hub does what ``[directory] password_outage`` says and counts nothing against the user.

Linking an unknown card (:meth:`Authentication.link_card`) checks, in this order: that the hub allows it,
the password (exactly as a password login, with its lockout counting), and only then the card:
a card already linked to someone else is refused without naming them, so whether a card is taken
is learnt only with a valid password, and only what a tap of it already tells.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn

from hub_server.clock import Clock
from hub_server.config import HubConfig
from hub_server.dirsync import DirectoryPasswords, Verdict
from hub_server.domain import cards, credentials, devices, lockout
from hub_server.domain.lockout import Limits, record_failure, refuse_if_locked
from hub_server.domain.security import Hasher, SessionClaims, SessionSigner, pin_lookup_key, sha256_hex
from hub_server.domain.sessions import SessionView, session_view
from hub_server.domain.store import Store
from hub_server.domain.users import UserRef, permissions, resolve_user
from hub_server.errors import AuthenticationFailed, InvalidRequest, PermissionDenied, Refused
from hub_server.storage import Tx

__all__ = ["AuthResult", "Authentication", "Credential", "terminal_identity", "user_identity"]

log = logging.getLogger(__name__)

NOT_RECOGNISED = "card or PIN not recognised"
DIRECTORY_UNAVAILABLE = "directory unavailable: directory passwords cannot be checked now"
PASSWORD_NOT_RECOGNISED = "username or password not recognised"
CARD_NOT_LINKABLE = "this card cannot be linked here"
TERMINAL_CACHE_S = 10.0
MAX_SECRET_CHARS = 128


def user_identity(user_id: int) -> str:
    """The lockout identity of a user's logins."""
    return f"user:{user_id}"


def terminal_identity(terminal_id: str) -> str:
    """The lockout identity of the credentials naming nobody that were tried at a terminal."""
    return f"terminal:{terminal_id}"


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


class Authentication:
    """Callers (terminals, admins) and people (logins, card links, lockouts)."""

    def __init__(
        self,
        store: Store,
        config: HubConfig,
        clock: Clock,
        secret: bytes,
        hasher: Hasher,
        signer: SessionSigner,
        directory: DirectoryPasswords | None = None,
        presence: Callable[[Tx, SessionClaims], None] | None = None,
    ) -> None:
        self._store = store
        self._directory = directory
        self._presence = presence  # records where a session was opened (the scan intake's need)
        self._config = config
        self._clock = clock
        self._secret = secret
        self._hasher = hasher
        self._signer = signer
        self._terminals: dict[str, tuple[str, float]] = {}

    # -- callers ----------------------------------------------------------------------------

    def check_terminal(self, terminal_id: str, key: str) -> None:
        """Accept a terminal's id and key, or raise :class:`AuthenticationFailed`."""
        digest = sha256_hex(key[:MAX_SECRET_CHARS])
        cached = self._terminals.get(terminal_id)
        if cached and cached[1] > time.monotonic() and hmac.compare_digest(cached[0], digest):
            return
        stored = self._store.read(lambda tx: devices.terminal_key_digest(tx, terminal_id))
        if stored is None or not hmac.compare_digest(stored, digest):
            raise AuthenticationFailed("unknown terminal or wrong terminal key")
        self._terminals[terminal_id] = (digest, time.monotonic() + TERMINAL_CACHE_S)

    def check_admin(self, token: str) -> None:
        """Accept an admin token, or raise :class:`AuthenticationFailed`."""
        digest = sha256_hex(token[:MAX_SECRET_CHARS])
        if not self._store.read(lambda tx: credentials.admin_token_known(tx, digest)):
            raise AuthenticationFailed("admin credential not recognised")

    # -- authentication ---------------------------------------------------------------------

    async def authenticate(self, terminal_id: str, credential: Credential) -> AuthResult:
        """Identify the person at a terminal (see the module docstring for the lockout policy)."""
        now_us = self._clock.now_us()
        self._refuse_if_locked(terminal_identity(terminal_id), now_us)
        if credential.card_number:
            return await self._by_card(terminal_id, credential, now_us)
        if credential.username:
            return await self._by_password(terminal_id, credential, now_us)
        return await self._by_pin(terminal_id, credential, now_us)

    async def _by_card(self, terminal_id: str, credential: Credential, now_us: int) -> AuthResult:
        try:
            number = cards.normalise_card_number(credential.card_number)
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
            refuse_if_locked(tx, user_identity(user_id), now_us)
            pin_hash = None if row["pin_hash"] is None else str(row["pin_hash"])
            return user_id, pin_hash, permissions(tx, user_id).requires_card_pin

        found = self._store.read(find)
        if found is None:
            await self._fail(terminal_identity(terminal_id), now_us)
        user_id, pin_hash, requires_pin = found
        if requires_pin:
            if not credential.pin:
                return AuthResult(second_factor_required=True)
            matches = await asyncio.to_thread(
                self._hasher.verify, pin_hash, credential.pin[:MAX_SECRET_CHARS]
            )
            if not matches:
                await self._fail(user_identity(user_id), now_us)
        return await self._succeed(user_id, terminal_id, credential.method, now_us)

    async def _by_pin(self, terminal_id: str, credential: Credential, now_us: int) -> AuthResult:
        if not self._config.auth.pin_login:
            raise PermissionDenied("PIN login is disabled on this hub")
        lookup = pin_lookup_key(self._secret, credential.pin[:MAX_SECRET_CHARS])
        found = self._store.read(
            lambda tx: tx.scalar("SELECT id FROM users WHERE pin_lookup = :k AND active = 1", {"k": lookup})
        )
        if found is None:
            await self._fail(terminal_identity(terminal_id), now_us)
        user_id = int(found)
        self._refuse_if_locked(user_identity(user_id), now_us)
        if self._store.read(lambda tx: permissions(tx, user_id)).requires_card_pin:
            raise PermissionDenied("this account needs its card and PIN together")
        return await self._succeed(user_id, terminal_id, "pin", now_us)

    async def _by_password(self, terminal_id: str, credential: Credential, now_us: int) -> AuthResult:
        user_id = await self._check_password(terminal_id, credential.username, credential.password, now_us)
        return await self._succeed(user_id, terminal_id, "password", now_us)

    async def _check_password(self, terminal_id: str, username: str, password: str, now_us: int) -> int:
        """The user id a username + password proves, or :class:`AuthenticationFailed` (counted)."""
        credential = Credential(username=username, password=password)
        row = self._store.read(
            lambda tx: tx.one(
                "SELECT id, password_hash FROM users WHERE username = :u AND active = 1",
                {"u": credential.username[:MAX_SECRET_CHARS]},
            )
        )
        if row is not None:
            self._refuse_if_locked(user_identity(int(row["id"])), now_us)
        stored_hash = None if row is None or row["password_hash"] is None else str(row["password_hash"])
        matches = await self._directory_password(credential.username, credential.password, stored_hash)
        if matches is None:
            matches = await asyncio.to_thread(
                self._hasher.verify, stored_hash, credential.password[:MAX_SECRET_CHARS]
            )
        if not matches or row is None:
            identity = user_identity(int(row["id"])) if row else terminal_identity(terminal_id)
            await self._fail(identity, now_us, PASSWORD_NOT_RECOGNISED)
        assert row is not None
        return int(row["id"])

    async def _directory_password(self, username: str, password: str, stored_hash: str | None) -> bool | None:
        """The directory's answer for a directory user's password (an LDAP bind), or None when
        the hub's own hash decides: not a directory user, or an outage with ``password_outage =
        "local"`` and a hash an admin set. Any other outage refuses, counting nothing."""
        if self._directory is None:
            return None
        verdict = await asyncio.to_thread(self._directory.verify, username, password)
        if verdict is Verdict.NOT_DIRECTORY_USER:
            return None
        if verdict is Verdict.UNAVAILABLE:
            if self._directory.outage_falls_back_to_local and stored_hash is not None:
                log.warning("directory unavailable: the hub's own password of %r is checked", username)
                return None
            raise Refused(DIRECTORY_UNAVAILABLE)
        return verdict is Verdict.MATCH

    async def link_card(self, terminal_id: str, card_number: str, username: str, password: str) -> AuthResult:
        """Link a card nobody holds to the user who proves their password; open their session.

        See the module docstring for the order of the checks and what each answer tells.
        """
        if not self._config.auth.self_link_cards:
            raise Refused("linking cards at the terminal is disabled on this hub")
        number = cards.normalise_card_number(card_number)
        now_us = self._clock.now_us()
        self._refuse_if_locked(terminal_identity(terminal_id), now_us)
        user_id = await self._check_password(terminal_id, username, password, now_us)

        def link(tx: Tx) -> None:
            holder = cards.holder(tx, number)
            if holder is None:
                cards.add_card(tx, user_id, number, f"linked at terminal {terminal_id}", now_us)
            elif holder != user_id:
                raise Refused(CARD_NOT_LINKABLE)

        await self._store.write(link)
        return await self._succeed(user_id, terminal_id, "password", now_us)

    def _refuse_if_locked(self, identity: str, now_us: int) -> None:
        self._store.read(lambda tx: refuse_if_locked(tx, identity, now_us))

    async def _fail(self, identity: str, now_us: int, message: str = NOT_RECOGNISED) -> NoReturn:
        limits = Limits(self._config.auth.max_failed_attempts, self._config.auth.lockout_s)
        await self._store.write(lambda tx: record_failure(tx, identity, limits, now_us))
        raise AuthenticationFailed(message)

    async def _succeed(self, user_id: int, terminal_id: str, method: str, now_us: int) -> AuthResult:
        identity = user_identity(user_id)

        def load(tx: Tx) -> tuple[bool, SessionView]:
            failures = lockout.has_failures(tx, identity)
            return failures, session_view(tx, user_id, now_us, self._config.timezone)

        had_failures, view = self._store.read(load)
        if had_failures:
            await self._store.write(lambda tx: lockout.clear(tx, identity))
        token = self._signer.issue(user_id, terminal_id, method, now_us, self._config.auth.session_ttl_s)
        claims = self._signer.check(token)
        if self._presence is not None:
            record = self._presence
            await self._store.write(lambda tx: record(tx, claims))
        return AuthResult(second_factor_required=False, token=token, claims=claims, view=view)

    async def unlock_user(self, user: UserRef) -> None:
        """Lift a user's login lockout (admin)."""

        def unlock(tx: Tx) -> None:
            lockout.clear(tx, user_identity(resolve_user(tx, user)))

        await self._store.write(unlock)

    async def unlock_terminal(self, terminal_id: str) -> None:
        """Lift a terminal's lockout for credentials that named nobody (admin)."""

        def unlock(tx: Tx) -> None:
            devices.require_terminal(tx, terminal_id)
            lockout.clear(tx, terminal_identity(terminal_id))

        await self._store.write(unlock)
