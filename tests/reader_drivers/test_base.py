"""Debounce and backoff rules of the reader interface, with explicit times."""

from __future__ import annotations

import asyncio

import pytest

from reader_drivers.base import Backoff, CardReader, Debouncer, HealthState, Technology, now_s
from tests.reader_drivers.conftest import run


def test_debounce_window_slides_with_every_sighting() -> None:
    debouncer = Debouncer(3.0)
    card, other = b"\x01", b"\x02"
    assert debouncer.admit(card, 100.0)
    assert not debouncer.admit(card, 102.9)  # still present
    assert not debouncer.admit(card, 105.8)  # seen 2.9 s ago: the window moved on
    assert debouncer.admit(card, 108.8)  # 3.0 s without a sighting: a new tap
    assert debouncer.admit(other, 108.9)  # another card is always new
    assert debouncer.admit(card, 109.0)


def test_removal_ends_the_presence() -> None:
    debouncer = Debouncer(3.0)
    assert debouncer.admit(b"\x01", 0.0)
    debouncer.card_removed()
    assert debouncer.admit(b"\x01", 0.1)


def test_backoff_doubles_to_a_ceiling_and_resets() -> None:
    backoff = Backoff(initial_s=0.1, max_s=0.5)
    assert [backoff.next_delay_s() for _ in range(5)] == [0.1, 0.2, 0.4, 0.5, 0.5]
    backoff.reset()
    assert backoff.next_delay_s() == 0.1


class _FlakyDriver(CardReader):
    """A driver whose device session hits a library bug once, then works (tests the base's loop)."""

    def __init__(self) -> None:
        super().__init__("flaky", backoff=Backoff(initial_s=0.01))
        self.sessions = 0

    async def _session(self) -> None:
        self.sessions += 1
        if self.sessions == 1:
            raise AttributeError("library bug")
        self._set_ready()
        self._publish(b"\x01\x02\x03\x04", Technology.ISO14443A, now_s())
        await asyncio.Event().wait()


def test_unexpected_session_error_is_logged_and_the_reader_restarts(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> None:
        async with _FlakyDriver() as reader:
            read = await reader.read(timeout_s=10)
            assert (read.raw_hex, read.reader_id) == ("01020304", "flaky")
            assert reader.health.reconnects == 1 and reader.health.state == HealthState.READY

    run(scenario())
    assert "unexpected error in the device session" in caplog.text
