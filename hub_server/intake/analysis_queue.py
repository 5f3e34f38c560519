"""A bounded queue of document analyses: at most ``workers`` run at once, the rest wait.

Every analysis costs a Ghostscript process for up to its timeout, and a job is cheap to
submit, so without a bound a handful of hostile ``{} loop`` jobs would take every core from
the hub. Jobs wait in submission order for a free worker. ``stop(job_id)`` ends a job's
analysis whether it is waiting or running: a running one is cancelled, which kills its
Ghostscript process group (``analysis._run_limited``) before the cancellation completes.

The queue knows nothing of jobs or registries: it runs the coroutine function it is given
once a worker is free, and keeps one entry per job id.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

__all__ = ["AnalysisQueue"]


class AnalysisQueue:
    """Runs at most ``workers`` analyses at once, in submission order."""

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise ValueError(f"analysis workers must be at least 1, not {workers}")
        self.workers = workers
        self._slots = asyncio.Semaphore(workers)
        self._tasks: dict[int, asyncio.Task[None]] = {}
        # Tasks holding a worker; a stopped task stays here until its helper is dead.
        self._running: set[asyncio.Task[None]] = set()

    @property
    def busy_workers(self) -> int:
        """Workers taken now, by current or by stopped analyses still being killed."""
        return len(self._running)

    @property
    def running(self) -> frozenset[int]:
        """Job ids whose analysis holds a worker now."""
        return frozenset(job_id for job_id, task in self._tasks.items() if task in self._running)

    @property
    def waiting(self) -> list[int]:
        """Job ids waiting for a worker, oldest first."""
        return [job_id for job_id, task in self._tasks.items() if task not in self._running]

    def __contains__(self, job_id: int) -> bool:
        return job_id in self._tasks

    def submit(self, job_id: int, analyse: Callable[[], Awaitable[None]]) -> None:
        """Run ``analyse()`` for ``job_id`` once a worker is free (replacing an earlier entry
        of the same job)."""
        self.stop(job_id)
        task = asyncio.get_running_loop().create_task(self._run(analyse))
        self._tasks[job_id] = task
        task.add_done_callback(lambda done: self._forget(job_id, done))

    def stop(self, job_id: int) -> bool:
        """End ``job_id``'s analysis now, waiting or running; False if it had none."""
        task = self._tasks.pop(job_id, None)
        if task is None:
            return False
        task.cancel()
        return True

    async def wait_idle(self) -> None:
        """Wait until no analysis is waiting or running."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)

    async def close(self) -> None:
        """Stop every analysis and wait until their helpers are dead."""
        tasks = list(self._tasks.values())
        for job_id in list(self._tasks):
            self.stop(job_id)
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _run(self, analyse: Callable[[], Awaitable[None]]) -> None:
        async with self._slots:
            task: asyncio.Task[None] = asyncio.current_task()  # type: ignore[assignment]
            self._running.add(task)
            try:
                await analyse()
            finally:
                self._running.discard(task)

    def _forget(self, job_id: int, done: asyncio.Task[None]) -> None:
        if self._tasks.get(job_id) is done:
            del self._tasks[job_id]
