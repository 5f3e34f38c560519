"""HTTP Basic credentials of IPP clients, checked against the hub's passwords.

The hub hands in a :class:`PasswordCheck`: ``verify(username, password)`` runs the hub's
full check (argon2, lockout counting) and ``version(username)`` is a cheap lookup (no
hashing) of something that changes whenever that user's password changes or the user can no
longer log in (None then), e.g. a digest of the stored password hash and the active flag.

A print job is several requests (CUPS: Validate-Job, Create-Job, Send-Document, then
Get-Job-Attributes every few seconds), each with the same credentials. :class:`CredentialCache`
pays for one full verification and then answers from memory for ``ttl_s``:

* entries are keyed by an HMAC (a key made per process) of the username and password, so the
  cache never holds a password, and a different password is simply another key;
* a hit still asks ``version(username)`` and is dropped when the version changed: a password
  change (or a disabled user) takes effect at the next request, on every hub replica that
  shares the database;
* only successful verifications are cached: every failure goes to the hub, which counts it
  towards the lockout;
* requests arriving together with the same uncached credentials share one verification, and
  at most ``verifications_max`` verifications run at once (argon2 is expensive: a flood of
  wrong passwords must not take the hub's CPU);
* at most ``entries_max`` entries; the oldest go first.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

__all__ = ["CredentialCache", "PasswordCheck"]


@dataclass(frozen=True)
class PasswordCheck:
    """The hub's password check: ``verify`` (full, counted by the lockout) and ``version``
    (cheap; changes with the password, None when the user cannot log in)."""

    verify: Callable[[str, str], Awaitable[bool]]
    version: Callable[[str], str | None]


@dataclass(frozen=True)
class _Entry:
    username: str
    version: str
    expires_s: float


class CredentialCache:
    """Verified credentials for ``ttl_s``, re-checked against the password version on each use."""

    def __init__(
        self,
        check: PasswordCheck,
        ttl_s: float = 60.0,
        entries_max: int = 4096,
        verifications_max: int = 2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._check = check
        self._ttl_s = ttl_s
        self._entries_max = entries_max
        self._clock = clock
        self._key = os.urandom(32)
        self._entries: OrderedDict[bytes, _Entry] = OrderedDict()
        self._pending: dict[bytes, asyncio.Future[bool]] = {}
        self._slots = asyncio.Semaphore(verifications_max)
        self.verifications = 0  # full verifications asked of the hub (for tests and metrics)

    def _digest(self, username: str, password: str) -> bytes:
        user = username.encode()
        message = len(user).to_bytes(4, "big") + user + password.encode()
        return hmac.new(self._key, message, hashlib.sha256).digest()

    def _hit(self, key: bytes, username: str) -> bool:
        entry = self._entries.get(key)
        if entry is None:
            return False
        if entry.expires_s <= self._clock() or self._check.version(username) != entry.version:
            del self._entries[key]
            return False
        return True

    async def verified(self, username: str, password: str) -> bool:
        """True when the hub accepts these credentials (from memory when it did lately)."""
        key = self._digest(username, password)
        if self._hit(key, username):
            return True
        pending = self._pending.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            accepted = await self._verify(key, username, password)
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # retrieved: waiters get it, nobody else must see a warning
            raise
        finally:
            del self._pending[key]
        future.set_result(accepted)
        return accepted

    async def _verify(self, key: bytes, username: str, password: str) -> bool:
        async with self._slots:
            version = self._check.version(username)  # before: a change during the check is seen
            self.verifications += 1
            accepted = await self._check.verify(username, password)
        if accepted and version is not None:
            self._entries[key] = _Entry(username, version, self._clock() + self._ttl_s)
            self._entries.move_to_end(key)
            while len(self._entries) > self._entries_max:
                self._entries.popitem(last=False)
        return accepted
