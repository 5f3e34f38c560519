"""wait_at_most: a time limit that never swallows the cancellation that stops a background loop
(asyncio.wait_for on 3.11 does when the cancel meets the result: CPython gh-86296)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from printgate.waiting import wait_at_most

Wait = Callable[[Awaitable[Any], float], Awaitable[Any]]


async def cancel_as_it_wakes(wait: Wait, yields: int) -> None:
    """Cancel a loop that waits (60 s at most) for its wake-up event, ``yields`` loop turns after
    the event was set; raises CancelledError when the loop stopped, TimeoutError when it went on
    waiting."""
    event = asyncio.Event()

    async def background() -> None:
        while True:
            await wait(event.wait(), 60)
            event.clear()

    task = asyncio.create_task(background())
    await asyncio.sleep(0)
    event.set()
    for _ in range(yields):
        await asyncio.sleep(0)
    task.cancel()
    await asyncio.wait_for(task, 5)


@pytest.mark.parametrize("yields", [0, 1, 2, 3])
async def test_a_cancel_that_meets_the_wake_up_stops_the_loop(yields: int) -> None:
    with pytest.raises(asyncio.CancelledError):
        await cancel_as_it_wakes(wait_at_most, yields)


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="fixed in Python 3.12")
async def test_asyncio_wait_for_is_the_reason() -> None:
    """The race this module exists for, shown with asyncio.wait_for on this Python."""
    with pytest.raises(TimeoutError):
        await cancel_as_it_wakes(asyncio.wait_for, 1)


async def test_the_result_or_none_after_the_limit() -> None:
    assert await wait_at_most(asyncio.sleep(0, "done"), 1) == "done"
    assert await wait_at_most(asyncio.Event().wait(), 0.01) is None
