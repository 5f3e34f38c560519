"""Run a blocking device loop in a thread and consume what it produces from asyncio.

pyserial, pyscard and nfcpy block; each driver's device loop runs in one daemon thread
and hands items to the event loop with ``call_soon_threadsafe``. The loop must check
``stop`` at least every few hundred milliseconds (all device calls here have timeouts).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from reader_drivers.errors import ReaderUnavailable

T = TypeVar("T")

Producer = Callable[[Callable[[T], None], threading.Event], None]


@dataclass(frozen=True)
class _Ended:
    error: BaseException


class ThreadFeed(Generic[T]):
    """``async with ThreadFeed(producer) as feed: item = await feed.get()``.

    ``get()`` re-raises the producer's exception, or ``ReaderUnavailable`` if it returned.
    """

    def __init__(self, producer: Producer[T], name: str, join_timeout_s: float = 3.0) -> None:
        self._producer = producer
        self._stop = threading.Event()
        self._queue: asyncio.Queue[T | _Ended] = asyncio.Queue()
        self._thread = threading.Thread(target=self._main, daemon=True, name=name)
        self._join_timeout_s = join_timeout_s
        self._loop: asyncio.AbstractEventLoop | None = None

    async def __aenter__(self) -> ThreadFeed[T]:
        self._loop = asyncio.get_running_loop()
        self._thread.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._stop.set()
        await asyncio.to_thread(self._thread.join, self._join_timeout_s)

    async def get(self) -> T:
        """The next item; raises what ended the producer."""
        item = await self._queue.get()
        if isinstance(item, _Ended):
            raise item.error
        return item

    def _emit(self, item: T | _Ended) -> None:
        assert self._loop is not None
        with contextlib.suppress(RuntimeError):  # the loop closed: nobody is listening any more
            self._loop.call_soon_threadsafe(self._queue.put_nowait, item)

    def _main(self) -> None:
        try:
            self._producer(self._emit, self._stop)
            self._emit(_Ended(ReaderUnavailable("device loop ended")))
        except BaseException as exc:  # handed to the event loop, which decides
            self._emit(_Ended(exc))
