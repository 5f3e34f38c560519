"""Scheduled syncs: a small asyncio task every hub process starts beside its servers.

Only one process of the whole site runs the rounds: before each round the scheduler takes (or
renews) the schedule lease in the database (:meth:`UserStore.claim_schedule`), so several
workers on one machine and replicas on several machines over PostgreSQL never sync twice. The
holder keeps the lease for two intervals past each claim; the others look every
``standby_check_s`` and take over once a holder has stopped renewing (a replica killed mid-way).

Every ``sync_interval_s`` the holder syncs each source in turn (in a worker thread: LDAP and
the write transaction block). A failed or refused run is logged and recorded (``status`` shows
it) and the next one comes on schedule; a scheduled run is never forced, so the mass-disable
guard always stands between a broken directory and the hub's users.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Callable

from .errors import DirectoryError
from .sync import DirectorySync

log = logging.getLogger(__name__)

STANDBY_CHECK_S = 60.0


def process_name() -> str:
    """A name for this hub process that no other process of the site shares."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class SyncScheduler:
    """Runs :meth:`DirectorySync.sync` for every source, every ``interval_s``, in the one hub
    process holding the schedule lease."""

    def __init__(
        self,
        sync: DirectorySync,
        interval_s: float,
        first_run_after_s: float | None = None,
        wall_clock_us: Callable[[], int] | None = None,
        holder: str | None = None,
        standby_check_s: float = STANDBY_CHECK_S,
    ) -> None:
        if interval_s <= 0:
            raise ValueError("interval_s must be positive")
        self.sync = sync
        self.interval_s = interval_s
        self.first_run_after_s = interval_s if first_run_after_s is None else first_run_after_s
        self.holder = holder or process_name()
        self.standby_check_s = min(standby_check_s, interval_s)
        self._clock_us = wall_clock_us or sync.clock_us
        self._task: asyncio.Task[None] | None = None
        self.completed_rounds = 0

    def start(self) -> asyncio.Task[None]:
        """Start the schedule on the running event loop."""
        self._task = asyncio.get_running_loop().create_task(self._run(), name="directory-sync")
        return self._task

    async def stop(self) -> None:
        """Stop after the run in progress (if any) is cancelled at its next await."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def claim(self, delay_s: float) -> bool:
        """Take or renew the lease for a round ``delay_s`` from now; True when this process holds it."""
        now_us = self._clock_us()
        next_run_us = now_us + int(delay_s * 1_000_000)
        lease_until_us = next_run_us + int(2 * self.interval_s * 1_000_000)
        try:
            return await asyncio.to_thread(
                self.sync.store.claim_schedule, self.holder, now_us, lease_until_us, next_run_us
            )
        except Exception:  # the database is away: try again at the next check
            log.exception("directory schedule: the lease could not be claimed")
            return False

    async def _run(self) -> None:
        delay_s = self.first_run_after_s
        while True:
            if not await self.claim(delay_s):
                await asyncio.sleep(self.standby_check_s)
                delay_s = 0.0  # a standby that takes over runs the overdue round at once
                continue
            await asyncio.sleep(delay_s)
            if await self.claim(self.interval_s):
                await self.run_once()
            delay_s = self.interval_s

    async def run_once(self) -> None:
        """Sync every source once, one after the other."""
        for source in self.sync.config.sources:
            try:
                result = await asyncio.to_thread(self.sync.sync, source.name)
            except DirectoryError as error:
                log.warning("scheduled directory sync of %s did not apply: %s", source.name, error)
            except Exception:
                log.exception("scheduled directory sync of %s failed", source.name)
            else:
                log.info("scheduled directory sync of %s: %s", source.name, result.counts)
        self.completed_rounds += 1
