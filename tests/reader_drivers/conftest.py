"""Fixtures and helpers for the reader driver tests: simulators over real transports."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from hw_sim.readers import SerialReaderSim
from reader_drivers.base import CardReader, HealthState

T = TypeVar("T")


def run(scenario: Coroutine[Any, Any, T], timeout_s: float = 60.0) -> T:
    """Run one async test scenario with a generous overall timeout (not a timed assertion)."""
    return asyncio.run(asyncio.wait_for(scenario, timeout_s))


async def until(predicate: Callable[[], bool], timeout_s: float = 15.0) -> None:
    """Wait until ``predicate()`` holds; fail the test if it never does."""
    async with asyncio.timeout(timeout_s):
        while not predicate():
            await asyncio.sleep(0.01)


async def ready(reader: CardReader, reconnects: int = 0) -> None:
    """Wait until the reader has (re)opened its device."""
    await until(lambda: reader.health.state == HealthState.READY and reader.health.reconnects >= reconnects)


async def no_more_reads(reader: CardReader, settle: Awaitable[None] | None = None) -> None:
    """Assert nothing else is queued once the reader had time to process what was sent."""
    if settle is not None:
        await settle
    with pytest.raises(TimeoutError):
        await reader.read(timeout_s=0.3)


@pytest.fixture
def serial_sim(tmp_path: Path) -> Iterator[Callable[..., SerialReaderSim]]:
    """Factory for started serial simulators on ptys; all are closed at teardown."""
    started: list[SerialReaderSim] = []

    def make(protocol: str, **options: Any) -> SerialReaderSim:
        sim = SerialReaderSim(protocol, str(tmp_path / f"tty-{protocol}-{len(started)}"), **options).start()
        started.append(sim)
        return sim

    yield make
    for sim in started:
        sim.close()
