"""Who is calling and who is at the terminal: terminal keys, admin tokens, card / PIN / password
logins, linking an unknown card, and the login back-off. :class:`Authentication` is the domain
object the services call.

Lockout policy (:mod:`.lockout`, docs/security.md "Login lockout"): every failed login counts
against the terminal it was tried at (``terminal:<id>``) and, when it named a known user (a wrong
second-factor PIN, a wrong password), against that user (``user:<id>``). Each identity may fail
``max_failed_attempts`` times; then it waits before each further attempt, ``backoff_first_s``
doubling per failure up to ``lockout_s``. A waiting user cannot log in by any method; a waiting
terminal takes no credential. A user's failures are forgotten at their next login, a terminal's
after ``lockout_s`` without a failure there; an admin can clear either.

An attempt that costs an argon2 check (a password, a card's PIN) is claimed in the database
before the check and settled after it, so parallel guesses get exactly the free attempts,
across every hub process and replica. A PIN alone or an unknown card is looked up in the write
transaction that counts its failure. A wrong card and a wrong PIN give the same answer, "card or
PIN not recognised". A lockout is logged (WARNING) with the identity, never the secret; card
numbers and typed usernames appear only as keyed tags (:func:`~.security.log_tag`).

Directory passwords (docs/directory.md): for a user linked to a directory source with
``password_login``, :meth:`Authentication._verify` asks the directory (an LDAP bind)
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
from typing import TypeVar

from hub_server.clock import Clock
from hub_server.config import HubConfig
from hub_server.dirsync import DirectoryPasswords, Verdict
from hub_server.domain import cards, credentials, devices, guest_pins, lockout
from hub_server.domain.lockout import Backoff, GuardCounters, Lockout, terminal_identity, user_identity
from hub_server.domain.security import (
    Hasher,
    SessionClaims,
    SessionSigner,
    log_tag,
    pin_lookup_key,
    sha256_hex,
)
from hub_server.domain.sessions import SessionView, guest_view, session_view
from hub_server.domain.store import Store
from hub_server.domain.users import USERNAME_IS, UserRef, permissions, resolve_user
from hub_server.errors import AuthenticationFailed, InvalidRequest, PermissionDenied, Refused
from hub_server.storage import Row, Tx

__all__ = [
    "AuthResult",
    "Authentication",
    "Credential",
    "LoginCounters",
    "terminal_identity",
    "user_identity",
]

log = logging.getLogger(__name__)
T = TypeVar("T")

NOT_RECOGNISED = "card or PIN not recognised"
DIRECTORY_UNAVAILABLE = "directory unavailable: directory passwords cannot be checked now"
PASSWORD_NOT_RECOGNISED = "username or password not recognised"
CARD_NOT_LINKABLE = "this card cannot be linked here"
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


@dataclass(frozen=True)
class LoginCounters:
    """Failed logins as operators (and the fleet's alerts) see them: per terminal and per user,
    totals since the hub's first start and the state now (``blocked_until_us`` in the future:
    waiting out a back-off)."""

    terminals: dict[str, GuardCounters]
    users: dict[int, GuardCounters]

    @property
    def failures_total(self) -> int:
        """Every failed login at every terminal."""
        return sum(counters.failures_total for counters in self.terminals.values())


@dataclass(frozen=True)
class _Attempt:
    """One login attempt, for the counting and the log lines (never the secret itself)."""

    terminal_id: str
    method: str
    tag: str  # a keyed tag of the card number or the typed username ("" for a PIN alone)


class Authentication:
    """Callers (terminals, admins) and people (logins, card links, the login back-off)."""

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
        self._checks: set[asyncio.Task[bool | None]] = set()
        auth = config.auth
        self.backoff = Backoff(auth.max_failed_attempts, auth.backoff_first_s, auth.lockout_s)

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
        self.admin_name(token)

    def admin_name(self, token: str) -> str:
        """Who an admin token is, for audit records; :class:`AuthenticationFailed` when unknown."""
        digest = sha256_hex(token[:MAX_SECRET_CHARS])
        name = self._store.read(lambda tx: credentials.admin_token_name(tx, digest))
        if name is None:
            raise AuthenticationFailed("admin credential not recognised")
        return name

    # -- authentication ---------------------------------------------------------------------

    async def authenticate(self, terminal_id: str, credential: Credential) -> AuthResult:
        """Identify the person at a terminal (see the module docstring for the lockout policy)."""
        if credential.card_number:
            return await self._by_card(terminal_id, credential)
        if credential.username:
            return await self._by_password(terminal_id, credential)
        return await self._by_pin(terminal_id, credential)

    async def _by_card(self, terminal_id: str, credential: Credential) -> AuthResult:
        try:
            number = cards.normalise_card_number(credential.card_number)
        except InvalidRequest:
            number = ""
        attempt = _Attempt(terminal_id, credential.method, log_tag(self._secret, "card", number))
        terminal = terminal_identity(terminal_id)
        now_us = self._clock.now_us()

        def find(tx: Tx) -> tuple[int, str | None, bool] | None:
            lockout.refuse_if_blocked(tx, [terminal], self.backoff, now_us)
            row = tx.one(
                "SELECT u.id, u.pin_hash FROM cards c JOIN users u ON u.id = c.user_id"
                " WHERE c.number = :n AND u.active = 1",
                {"n": number},
            )
            if row is None:
                return None
            user_id = int(row["id"])
            lockout.refuse_if_blocked(tx, [user_identity(user_id)], self.backoff, now_us)
            pin_hash = None if row["pin_hash"] is None else str(row["pin_hash"])
            return user_id, pin_hash, permissions(tx, user_id).requires_card_pin

        # A known card that needs no PIN checks no secret: a read. A card nobody holds is looked
        # up again in the write that takes the terminal's attempt and counts its failure.
        found = self._store.read(find)
        if found is None:
            found = await self._attempt_lookup(attempt, [terminal], find)
        user_id, pin_hash, requires_pin = found
        if requires_pin:
            if not credential.pin:
                return AuthResult(second_factor_required=True)
            await self._check_secret(attempt, user_id, pin_hash, credential.pin, NOT_RECOGNISED)
        return await self._succeed(user_id, terminal_id, credential.method)

    async def _by_pin(self, terminal_id: str, credential: Credential) -> AuthResult:
        pin = credential.pin[:MAX_SECRET_CHARS]
        guest = guest_pins.is_guest_code(pin)
        pin_login = self._config.auth.pin_login
        if not pin_login and not guest:
            raise PermissionDenied("PIN login is disabled on this hub")
        lookup = pin_lookup_key(self._secret, pin)
        now_us = self._clock.now_us()
        terminal = terminal_identity(terminal_id)

        def find(tx: Tx) -> int | Row | None:
            found = (
                tx.scalar("SELECT id FROM users WHERE pin_lookup = :k AND active = 1", {"k": lookup})
                if pin_login
                else None
            )
            if found is not None:
                lockout.refuse_if_blocked(tx, [user_identity(int(found))], self.backoff, now_us)
                return int(found)
            # A user's PIN wins: a guest code is tried only where it is nobody's PIN.
            return guest_pins.code_row(tx, pin) if guest else None

        # The lookup happens in the write that takes the terminal's attempt: a burst of PINs
        # gets exactly the free attempts looked up.
        found: int | Row = await self._attempt_lookup(_Attempt(terminal_id, "pin", ""), [terminal], find)
        if not isinstance(found, int):
            return await self._by_guest_code(terminal_id, pin, found)
        if self._store.read(lambda tx: permissions(tx, found)).requires_card_pin:
            raise PermissionDenied("this account needs its card and PIN together")
        return await self._succeed(found, terminal_id, "pin")

    async def _by_guest_code(self, terminal_id: str, code: str, row: Row) -> AuthResult:
        """A guest's release code (:mod:`.guest_pins`): its secret checked like a PIN, counted
        against the terminal only (a guess must not lock every guest out); the session it opens
        may release its one job."""
        owner_id = int(row["owner_user_id"])
        attempt = _Attempt(terminal_id, "guest-pin", "")
        secret = code[guest_pins.SELECTOR_DIGITS :]
        await self._check_secret(
            attempt, owner_id, str(row["secret_hash"]), secret, NOT_RECOGNISED, count_user=False
        )
        guest_pins.usable(row, self._clock.now_us())
        return await self._succeed(owner_id, terminal_id, "guest-pin", guest_job_id=int(row["job_id"]))

    async def _by_password(self, terminal_id: str, credential: Credential) -> AuthResult:
        user_id = await self._check_password(terminal_id, credential.username, credential.password)
        return await self._succeed(user_id, terminal_id, "password")

    async def _check_password(self, terminal_id: str, username: str, password: str) -> int:
        """The user id a username + password proves, or :class:`AuthenticationFailed` (counted)."""
        username = username[:MAX_SECRET_CHARS]
        row = self._store.read(
            lambda tx: tx.one(
                f"SELECT id, password_hash FROM users WHERE {USERNAME_IS} AND active = 1", {"u": username}
            )
        )
        attempt = _Attempt(terminal_id, "password", log_tag(self._secret, "username", username))
        user_id = None if row is None else int(row["id"])
        stored_hash = None if row is None or row["password_hash"] is None else str(row["password_hash"])
        await self._check_secret(
            attempt, user_id, stored_hash, password, PASSWORD_NOT_RECOGNISED, directory_username=username
        )
        assert user_id is not None
        return user_id

    async def _check_secret(
        self,
        attempt: _Attempt,
        user_id: int | None,
        stored_hash: str | None,
        secret: str,
        message: str,
        directory_username: str | None = None,
        count_user: bool = True,
    ) -> None:
        """Claim an attempt of the terminal (and the user, unless not ``count_user``), check
        ``secret`` with argon2 (the same work for an unknown user) or, for a password of a directory user
        (``directory_username``), by the directory's bind; settle; :class:`AuthenticationFailed`
        when it failed, :class:`Refused` when the directory cannot answer (nothing counted)."""
        identities = [terminal_identity(attempt.terminal_id)]
        if user_id is not None and count_user:
            identities.append(user_identity(user_id))
        now_us = self._clock.now_us()
        await self._store.write(lambda tx: lockout.claim(tx, identities, self.backoff, now_us))
        # The check and its settling finish even when the caller goes away (a cancelled call):
        # a claimed attempt is always settled, never left to count as stale.
        check = asyncio.ensure_future(
            self._check_and_settle(attempt, identities, user_id, stored_hash, secret, directory_username)
        )
        self._checks.add(check)
        check.add_done_callback(self._checks.discard)
        matches = await asyncio.shield(check)
        if matches is None:
            raise Refused(DIRECTORY_UNAVAILABLE)
        if not matches:
            raise AuthenticationFailed(message)

    async def _check_and_settle(
        self,
        attempt: _Attempt,
        identities: list[str],
        user_id: int | None,
        stored_hash: str | None,
        secret: str,
        directory_username: str | None,
    ) -> bool | None:
        """True or False, settled as a success or a failure; None (the directory cannot answer
        and the site refuses then) settled as neither."""
        matches: bool | None = False
        try:
            matches = await self._verify(stored_hash, secret, directory_username)
            matches = matches and user_id is not None
        finally:
            failed = matches is False
            forgiven = user_identity(user_id) if matches and user_id is not None else ""
            now_us = self._clock.now_us()
            lockouts = await self._store.write(
                lambda tx: lockout.settle(
                    tx, identities, self.backoff, now_us, failed=failed, forgiven=forgiven
                )
            )
            if failed:
                self._log_failure(attempt, identities, lockouts)
        return matches

    async def _attempt_lookup(
        self, attempt: _Attempt, identities: list[str], find: Callable[[Tx], T | None]
    ) -> T:
        """One write: take an attempt of ``identities`` (or refuse), run ``find``; when it finds
        nobody, count the failure and raise :class:`AuthenticationFailed`."""
        now_us = self._clock.now_us()

        def run(tx: Tx) -> tuple[T | None, list[Lockout]]:
            lockout.check_attempt(tx, identities, self.backoff, now_us)
            found = find(tx)
            if found is not None:
                return found, []
            return None, lockout.record_failure(tx, identities, self.backoff, now_us)

        found, lockouts = await self._store.write(run)
        if found is None:
            self._log_failure(attempt, identities, lockouts)
            raise AuthenticationFailed(NOT_RECOGNISED)
        return found

    def _log_failure(self, attempt: _Attempt, identities: list[str], lockouts: list[Lockout]) -> None:
        counted = ", ".join(identities)
        credential = f" {attempt.tag}" if attempt.tag else ""
        log.info(
            "login failed at terminal %s: %s%s (counted: %s)",
            attempt.terminal_id,
            attempt.method,
            credential,
            counted,
        )
        for locked in lockouts:
            log.warning(
                "login: %s waits %d s after %d failed attempts (last: %s%s at terminal %s)",
                locked.identity,
                locked.wait_s,
                locked.failures,
                attempt.method,
                credential,
                attempt.terminal_id,
            )

    async def verify_password(self, username: str, password: str) -> bool:
        """A print client's HTTP Basic credentials: True when they are an active user's who is
        not locked out. The checks and lockout of a password at a terminal; like the web
        portal, a name that is nobody's counts against that name only (``ipp:<name>``), so
        guessing cannot lock the print queue for everyone."""
        origin = f"ipp:{username.lower()[:MAX_SECRET_CHARS]}"
        try:
            await self._check_password(origin, username, password)
        except (AuthenticationFailed, PermissionDenied):  # wrong, unknown, or locked out
            return False
        return True

    def password_version(self, username: str) -> str | None:
        """A digest that changes with ``username``'s password; None when no active user has
        that name and a password, or the user is locked out. Print intake's credential cache
        drops an entry when this changes, so a new password, a disabled account or a lockout
        takes effect at the next request (no argon2 here: one indexed read)."""
        now_us = self._clock.now_us()

        def read(tx: Tx) -> str | None:
            row = tx.one(
                f"SELECT id, password_hash FROM users WHERE {USERNAME_IS} AND active = 1",
                {"u": username[:MAX_SECRET_CHARS]},
            )
            if row is None or row["password_hash"] is None:
                return None
            try:
                lockout.refuse_if_blocked(tx, [user_identity(int(row["id"]))], self.backoff, now_us)
            except PermissionDenied:
                return None
            return sha256_hex(str(row["password_hash"]))

        return self._store.read(read)

    async def check_web_password(self, username: str, password: str) -> int:
        """The user a web portal login proves: the checks and lockout of a password at a
        terminal, but a name that is nobody's counts against that name (the portal is
        everyone's: it must not lock for all)."""
        origin = f"web:{username.lower()[:MAX_SECRET_CHARS]}"
        return await self._check_password(origin, username, password)

    async def _verify(
        self, stored_hash: str | None, secret: str, directory_username: str | None
    ) -> bool | None:
        """Whether ``secret`` is right: by an LDAP bind for the password of a directory user
        (``directory_username``), else by argon2 against ``stored_hash``. None when the directory
        cannot answer and the site's ``password_outage`` refuses then (docs/directory.md)."""
        if directory_username is not None and self._directory is not None:
            verdict = await asyncio.to_thread(self._directory.verify, directory_username, secret)
            if verdict is not Verdict.NOT_DIRECTORY_USER and verdict is not Verdict.UNAVAILABLE:
                return verdict is Verdict.MATCH
            if verdict is Verdict.UNAVAILABLE:
                if not self._directory.outage_falls_back_to_local or stored_hash is None:
                    return None
                log.warning(
                    "directory unavailable: a directory user's password is checked against the hub's hash"
                )
        return await asyncio.to_thread(self._hasher.verify, stored_hash, secret[:MAX_SECRET_CHARS])

    async def link_card(self, terminal_id: str, card_number: str, username: str, password: str) -> AuthResult:
        """Link a card nobody holds to the user who proves their password; open their session.

        See the module docstring for the order of the checks and what each answer tells.
        """
        if not self._config.auth.self_link_cards:
            raise Refused("linking cards at the terminal is disabled on this hub")
        number = cards.normalise_card_number(card_number)
        user_id = await self._check_password(terminal_id, username, password)
        now_us = self._clock.now_us()

        def link(tx: Tx) -> None:
            holder = cards.holder(tx, number)
            if holder is None:
                cards.add_card(tx, user_id, number, f"linked at terminal {terminal_id}", now_us)
            elif holder != user_id:
                raise Refused(CARD_NOT_LINKABLE)

        await self._store.write(link)
        return await self._succeed(user_id, terminal_id, "password")

    async def _succeed(
        self, user_id: int, terminal_id: str, method: str, guest_job_id: int = 0
    ) -> AuthResult:
        identity = user_identity(user_id)
        now_us = self._clock.now_us()
        view_of = guest_view if guest_job_id else session_view

        def load(tx: Tx) -> tuple[bool, SessionView]:
            failures = lockout.has_failures(tx, identity)
            return failures, view_of(tx, user_id, now_us, self._config.timezone)

        had_failures, view = self._store.read(load)
        if had_failures:  # a card alone proves the user too: their earlier failures are forgiven
            await self._store.write(lambda tx: lockout.forgive(tx, identity))
        token = self._signer.issue(
            user_id, terminal_id, method, now_us, self._config.auth.session_ttl_s, guest_job_id
        )
        claims = self._signer.check(token)
        if self._presence is not None and not guest_job_id:  # a guest's scans are nobody's
            record = self._presence
            await self._store.write(lambda tx: record(tx, claims))
        return AuthResult(second_factor_required=False, token=token, claims=claims, view=view)

    # -- admins -------------------------------------------------------------------------------

    async def unlock_user(self, user: UserRef) -> None:
        """Lift a user's login back-off (admin)."""

        def unlock(tx: Tx) -> None:
            lockout.clear_login(tx, user_identity(resolve_user(tx, user)))

        await self._store.write(unlock)

    async def unlock_terminal(self, terminal_id: str) -> None:
        """Lift a terminal's login back-off (admin)."""

        def unlock(tx: Tx) -> None:
            devices.require_terminal(tx, terminal_id)
            lockout.clear_login(tx, terminal_identity(terminal_id))

        await self._store.write(unlock)

    def login_counters(self) -> LoginCounters:
        """Failed logins and lockouts per terminal and per user (for operators and alerts)."""
        counters = self._store.read(lockout.login_counters)
        terminals = {
            c.identity.removeprefix(lockout.TERMINAL_PREFIX): c
            for c in counters
            if c.identity.startswith(lockout.TERMINAL_PREFIX)
        }
        users = {
            int(c.identity.removeprefix(lockout.USER_PREFIX)): c
            for c in counters
            if c.identity.startswith(lockout.USER_PREFIX)
        }
        return LoginCounters(terminals=terminals, users=users)
