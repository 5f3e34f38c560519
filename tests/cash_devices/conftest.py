"""Fixtures for the cash device tests: pty lines, a scripted ccTalk peer, simulators."""

from __future__ import annotations

import asyncio
import os
import select
import threading
import tty
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest


@dataclass
class ScriptedLine:
    """A pty whose far end echoes what it hears and then answers from a script.

    ``replies`` maps a request (exact bytes) to the bytes sent back after the echo, or to a list
    of them sent one per request (the last one repeats); ``heard`` records every request in order.
    This is a byte-level peer for transcript tests, not a device.
    """

    path: str
    replies: dict[bytes, bytes | list[bytes]]
    heard: list[bytes] = field(default_factory=list)
    echo: bool = True


def _next_reply(replies: dict[bytes, bytes | list[bytes]], request: bytes) -> bytes:
    reply = replies[request]
    if isinstance(reply, bytes):
        return reply
    return reply.pop(0) if len(reply) > 1 else reply[0]


def _serve_script(master: int, line: ScriptedLine, stop: threading.Event) -> None:
    pending = b""
    while not stop.is_set():
        ready, _, _ = select.select([master], [], [], 0.05)
        if not ready:
            continue
        try:
            pending += os.read(master, 512)
        except OSError:
            return
        for request in list(line.replies):
            if pending.startswith(request):
                pending = pending[len(request) :]
                line.heard.append(request)
                os.write(master, (request if line.echo else b"") + _next_reply(line.replies, request))


@pytest.fixture
def scripted_line() -> Iterator[Callable[..., ScriptedLine]]:
    """Factory: ``scripted_line({request: reply}, echo=True)`` -> a served pty path."""
    started: list[tuple[int, int, threading.Event, threading.Thread]] = []

    def make(replies: dict[bytes, bytes | list[bytes]], echo: bool = True) -> ScriptedLine:
        master, slave = os.openpty()
        tty.setraw(slave)
        line = ScriptedLine(os.ttyname(slave), replies, echo=echo)
        stop = threading.Event()
        thread = threading.Thread(target=_serve_script, args=(master, line, stop), daemon=True)
        thread.start()
        started.append((master, slave, stop, thread))
        return line

    yield make
    for master, slave, stop, thread in started:
        stop.set()
        thread.join(timeout=2)
        os.close(master)
        os.close(slave)


def run(coroutine_function: Callable[[], Any], timeout_s: float = 60) -> Any:
    """Run one async scenario to completion (no pytest-asyncio here); the timeout is a hang guard."""
    return asyncio.run(asyncio.wait_for(coroutine_function(), timeout_s))


class EventWaiter:
    """Pull events from an acceptor one by one, skipping link noise, with a hang guard."""

    def __init__(self, acceptor: Any, skip: tuple[type, ...] = ()) -> None:
        self._events = acceptor.events().__aiter__()
        self._skip = skip

    async def next(self, timeout_s: float = 10) -> Any:
        while True:
            event = await asyncio.wait_for(self._events.__anext__(), timeout_s)
            if not isinstance(event, self._skip):
                return event


async def until(predicate: Callable[[], bool], timeout_s: float = 10) -> None:
    """Wait until ``predicate()`` holds (polling; a hang guard, not a timing assertion)."""
    async with asyncio.timeout(timeout_s):
        while not predicate():
            await asyncio.sleep(0.01)
