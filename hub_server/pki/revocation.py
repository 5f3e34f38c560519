"""Which device certificates are revoked, answered from memory and kept current across replicas.

Revocations live in the database (``pki_revocations``); every revocation also bumps the counter
``pki_state.revocation_version`` in the same transaction. Each replica's :class:`RevocationCache`
holds the revoked serials that have not expired yet, and polls the counter every
``poll_interval_s`` (1 s: one primary-key read). When it changed, the cache reads the whole set
again, counter and set from one snapshot, so it never pairs a new counter with an old set.
A revocation made on this replica refreshes at once (:meth:`RevocationCache.refresh`); one made
on another replica is honoured here within one poll interval.

Checking a serial is a set lookup. When the database cannot be read, the cache keeps the last
set it read and logs once; certificates are short-lived, and a renewal checks the database
itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from hub_server.clock import Clock
from hub_server.pki import store
from hub_server.storage.base import Database, Tx

__all__ = ["RevocationCache"]

log = logging.getLogger(__name__)
POLL_INTERVAL_S = 1.0


class RevocationCache:
    """The revoked serials (lower-case hex) of this hub's device certificates."""

    def __init__(self, db: Database, clock: Clock, poll_interval_s: float = POLL_INTERVAL_S) -> None:
        self._db = db
        self._clock = clock
        self.poll_interval_s = poll_interval_s
        self._version = -1
        self._revoked: frozenset[str] = frozenset()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._changed: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._reading: asyncio.Future[bool] | None = None  # a refresh running in a worker thread
        self._failing = False
        self.refresh()

    @property
    def version(self) -> int:
        """The revocation counter the cached set belongs to."""
        return self._version

    def is_revoked(self, serial: str) -> bool:
        """True when the certificate with this serial is revoked (as of the last refresh)."""
        return serial in self._revoked

    def refresh(self) -> bool:
        """Read the counter and, when it moved, the set; True when the set was reloaded.
        Safe from any thread."""
        version = self._db.read(store.revocation_version)
        if version == self._version:
            return False

        def read(tx: Tx) -> tuple[int, list[tuple[str, int]]]:
            return store.revocation_version(tx), store.revoked_serials(tx, self._clock.now_us())

        self._version, revoked = self._db.read(read)
        self._revoked = frozenset(serial for serial, _ in revoked)
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake)
        return True

    def _wake(self) -> None:
        if self._changed is not None:
            self._changed.set()
            self._changed = None

    async def wait_revoked(self, serial: str) -> None:
        """Return once ``serial`` is revoked (to end a long-lived stream of that device); needs
        :meth:`start`."""
        while not self.is_revoked(serial):
            if self._changed is None:
                self._changed = asyncio.Event()
            await self._changed.wait()

    async def _poll(self) -> None:
        while True:
            try:
                # shielded: cancelling the poll must not forget a read still running in its
                # thread (stop() waits for it before the database may be closed under it)
                self._reading = asyncio.ensure_future(asyncio.to_thread(self.refresh))
                await asyncio.shield(self._reading)
                self._failing = False
            except Exception:
                if not self._failing:
                    log.exception("cannot read revocations; keeping the %d known", len(self._revoked))
                self._failing = True
            await asyncio.sleep(self.poll_interval_s)

    def start(self) -> None:
        """Poll in the background of the running event loop."""
        self._loop = asyncio.get_running_loop()
        self._task = self._loop.create_task(self._poll(), name="pki-revocation-poll")

    async def stop(self) -> None:
        """Stop polling, and wait for a read in progress: the database is closed next, and
        SQLite crashes the process when a connection is closed under a running query."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._reading is not None:
            with contextlib.suppress(Exception):
                await self._reading
            self._reading = None
