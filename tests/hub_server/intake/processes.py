"""Counting the analysis helpers (Ghostscript) a process has started, from /proc."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Process:
    """One live process: its id, parent, command name, nice value and command line."""

    pid: int
    ppid: int
    comm: str
    nice: int
    cmdline: str


def _read(pid_dir: Path) -> Process | None:
    try:
        stat = (pid_dir / "stat").read_text()
        cmdline = (pid_dir / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None  # gone while we looked
    # "pid (comm) state ppid ..."; comm may contain spaces and parentheses: split at the last ")".
    head, _, rest = stat.rpartition(")")
    fields = rest.split()
    if fields[0] == "Z":
        return None  # a zombie has already died; it only waits to be reaped
    return Process(
        pid=int(head.split(" (", 1)[0]),
        ppid=int(fields[1]),
        comm=head.split(" (", 1)[1],
        nice=int(fields[16]),
        cmdline=cmdline,
    )


def live_descendants(root_pid: int, comm: str) -> list[Process]:
    """Live (non-zombie) processes named ``comm`` anywhere below ``root_pid``."""
    processes = [p for p in (_read(d) for d in Path("/proc").iterdir() if d.name.isdigit()) if p]
    children: dict[int, list[Process]] = {}
    for process in processes:
        children.setdefault(process.ppid, []).append(process)
    found, stack = [], list(children.get(root_pid, []))
    while stack:
        process = stack.pop()
        if process.comm == comm:
            found.append(process)
        stack.extend(children.get(process.pid, []))
    return found


def own_nice() -> int:
    return os.getpriority(os.PRIO_PROCESS, 0)


class PeakCounter:
    """Samples the live ``comm`` processes below ``root_pid`` every few milliseconds and keeps
    the highest count seen, until stopped."""

    def __init__(self, root_pid: int, comm: str = "gs", interval_s: float = 0.02) -> None:
        self.root_pid, self.comm, self.interval_s = root_pid, comm, interval_s
        self.peak = 0
        self.samples = 0
        self.commands: set[str] = set()  # every command line seen
        self._task: asyncio.Task[None] | None = None

    async def _sample(self) -> None:
        while True:
            found = live_descendants(self.root_pid, self.comm)
            self.commands.update(process.cmdline for process in found)
            self.peak, self.samples = max(self.peak, len(found)), self.samples + 1
            await asyncio.sleep(self.interval_s)

    def start(self) -> PeakCounter:
        self._task = asyncio.get_running_loop().create_task(self._sample())
        return self

    async def stop(self) -> int:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        return self.peak


async def until(condition: Callable[[], bool], timeout_s: float = 20.0, interval_s: float = 0.02) -> None:
    """Poll ``condition`` (observable state) instead of sleeping a guessed time; the timeout
    only bounds a hang, it is not a speed assertion."""
    async with asyncio.timeout(timeout_s):
        while not condition():
            await asyncio.sleep(interval_s)
