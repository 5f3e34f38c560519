"""Waiting with a time limit in loops that are stopped by cancelling their task.

``asyncio.wait_for`` on Python 3.11 swallows a cancellation that arrives in the same loop
iteration as the awaited result (CPython gh-86296, fixed in 3.12): a background loop waiting for
its wake-up event then goes round again instead of stopping, and whoever awaits the cancelled
task waits for ever. :func:`wait_at_most` uses ``asyncio.timeout``, which keeps the
cancellation.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

__all__ = ["wait_at_most"]

T = TypeVar("T")


async def wait_at_most(awaitable: Awaitable[T], timeout_s: float | None) -> T | None:
    """``awaitable``'s result, or None when ``timeout_s`` passed first (None: no limit)."""
    try:
        async with asyncio.timeout(timeout_s):
            return await awaitable
    except TimeoutError:
        return None
