"""Scheduled syncs: a small asyncio task the hub starts beside its servers.

Every ``sync_interval_s`` each source is synced in turn (in a worker thread: LDAP and the write
transaction block). A failed or refused run is logged and recorded (``status`` shows it) and
the next one comes on schedule; a scheduled run is never forced, so the mass-disable guard
always stands between a broken directory and the hub's users.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from .errors import DirectoryError
from .sync import DirectorySync

log = logging.getLogger(__name__)


class SyncScheduler:
    """Runs :meth:`DirectorySync.sync` for every source, every ``interval_s``."""

    def __init__(
        self,
        sync: DirectorySync,
        interval_s: float,
        first_run_after_s: float | None = None,
        wall_clock_us: Callable[[], int] | None = None,
    ) -> None:
        if interval_s <= 0:
            raise ValueError("interval_s must be positive")
        self.sync = sync
        self.interval_s = interval_s
        self.first_run_after_s = interval_s if first_run_after_s is None else first_run_after_s
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

    async def _run(self) -> None:
        delay_s = self.first_run_after_s
        while True:
            self.sync.next_run_us = self._clock_us() + int(delay_s * 1_000_000)
            await asyncio.sleep(delay_s)
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
