"""The card-reader interface every driver implements, and the machinery they share.

Contract. A reader is an async source of ``CardRead`` events. ``await reader.start()``
opens the device in a background task and returns at once; the task reconnects with
exponential backoff whenever the device goes away (unplugged port, pcscd restart), so a
missing device is a ``health`` state, not an exception. Consume reads with
``async for read in reader.reads()`` or ``await reader.read(timeout_s=...)``; both are
cancellable and cancelling one loses no read. ``await reader.stop()`` closes the device.

Debounce. The same card is reported once while it stays present: a read of the card
that was last seen less than ``debounce_s`` ago (default 3 s) is suppressed, and every
sighting restarts that window, so a card left on a repeating reader never logs in again.
A reader that can tell a card left (PC/SC, NFC, TWN4 polling) ends the presence at once.

Non-goals: readers are not thread-safe; use one from one event loop.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, TypedDict

from card_numbers import ConversionChain
from reader_drivers.errors import ConversionError, ReaderError

__all__ = [
    "Backoff",
    "CardRead",
    "CardReader",
    "Debouncer",
    "HealthState",
    "ReaderHealth",
    "ReaderOptions",
    "Technology",
]

log = logging.getLogger("reader_drivers")


class Technology(StrEnum):
    """What kind of credential a read came from."""

    EM4100 = "em4100"
    ISO14443A = "iso14443a"
    HID_PROX = "hid-prox"
    KEYBOARD = "keyboard"
    MAGSTRIPE = "magstripe"


@dataclass(frozen=True)
class CardRead:
    """One card read: what the reader delivered and the normalised card number.

    ``raw`` is the credential as read (UID or ID bytes, or the typed text for a keyboard
    wedge); ``card_number`` is ``raw`` after the reader's conversion chain;
    ``monotonic_s`` is ``time.monotonic()`` when the frame's last byte arrived.
    """

    raw: bytes
    technology: str
    reader_id: str
    monotonic_s: float
    card_number: str

    @property
    def raw_hex(self) -> str:
        """``raw`` as upper-case hexadecimal."""
        return self.raw.hex().upper()


class HealthState(StrEnum):
    """Where a reader's background task is."""

    STOPPED = "stopped"
    CONNECTING = "connecting"
    READY = "ready"
    RECONNECTING = "reconnecting"


@dataclass(frozen=True)
class ReaderHealth:
    """A snapshot of a reader's state and counters (``reader.health``).

    ``last_error`` says why the device connection last failed; ``last_rejected`` why the last
    frame, burst or card number was refused (garbage on the line, a bad checksum, a failed
    conversion): the line a technician needs, without reading the log.
    """

    state: HealthState = HealthState.STOPPED
    bytes_received: int = 0
    bytes_discarded: int = 0
    frames_accepted: int = 0
    frames_rejected: int = 0
    conversions_rejected: int = 0
    reads_debounced: int = 0
    reads_dropped: int = 0
    reconnects: int = 0
    last_error: str | None = None
    last_rejected: str | None = None


@dataclass
class Backoff:
    """Exponential reconnect delay: ``initial_s``, doubled up to ``max_s``; reset on success."""

    initial_s: float = 0.1
    max_s: float = 5.0
    factor: float = 2.0
    _next_s: float = field(default=0.0, init=False)

    def next_delay_s(self) -> float:
        """Return the delay before the next attempt and grow it."""
        delay_s = self._next_s or self.initial_s
        self._next_s = min(self.max_s, delay_s * self.factor)
        return delay_s

    def reset(self) -> None:
        """Forget past failures (call when a connection succeeded)."""
        self._next_s = 0.0


class Debouncer:
    """Suppress repeated reads of the card that is still present (see module docstring)."""

    def __init__(self, window_s: float) -> None:
        self.window_s = window_s
        self._card: bytes | None = None
        self._last_seen_s = 0.0

    def admit(self, card: bytes, now_s: float) -> bool:
        """Record a sighting; return True if it is a new read to report."""
        is_new = card != self._card or now_s - self._last_seen_s >= self.window_s
        self._card, self._last_seen_s = card, now_s
        return is_new

    def card_removed(self) -> None:
        """The reader saw the field empty: the next sighting of any card is new."""
        self._card = None


class ReaderOptions(TypedDict, total=False):
    """The keyword arguments every driver passes on to ``CardReader`` (see its constructor)."""

    convert: ConversionChain | str | None
    debounce_s: float
    backoff: Backoff | None
    queue_size: int


class CardReader(abc.ABC):
    """Abstract base of every driver. Subclasses implement ``_session`` only.

    ``_session`` opens the device, calls ``_set_ready()``, then reports with
    ``_publish`` / ``_card_removed`` / ``_reject`` until the device fails (raise
    ``ReaderError`` or ``OSError``) or it is cancelled; it must close what it opened.
    """

    def __init__(
        self,
        reader_id: str,
        *,
        convert: ConversionChain | str | None = None,
        debounce_s: float = 3.0,
        backoff: Backoff | None = None,
        queue_size: int = 65536,
    ) -> None:
        self.reader_id = reader_id
        self.convert = ConversionChain.parse(convert) if isinstance(convert, str) else convert
        self._debouncer = Debouncer(debounce_s)
        self._backoff = backoff or Backoff()
        self._queue: asyncio.Queue[CardRead] = asyncio.Queue(queue_size)
        self._health = ReaderHealth()
        self._task: asyncio.Task[None] | None = None

    # --- public API -------------------------------------------------------------------

    @property
    def health(self) -> ReaderHealth:
        """Current state and counters."""
        return self._health

    async def start(self) -> None:
        """Start reading in the background; returns at once (see ``health``)."""
        if self._task is None:
            self._count(state=HealthState.CONNECTING)
            self._task = asyncio.get_running_loop().create_task(self._run(), name=self.reader_id)

    async def stop(self) -> None:
        """Stop reading and close the device."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._count(state=HealthState.STOPPED)

    async def read(self, timeout_s: float | None = None) -> CardRead:
        """Wait for the next read; raise ``TimeoutError`` after ``timeout_s``."""
        async with asyncio.timeout(timeout_s):
            return await self._queue.get()

    async def reads(self) -> AsyncIterator[CardRead]:
        """Yield reads for as long as the caller iterates."""
        while True:
            yield await self._queue.get()

    async def __aenter__(self) -> CardReader:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # --- for drivers ------------------------------------------------------------------

    @abc.abstractmethod
    async def _session(self) -> None:
        """Open the device and report reads until it fails or is cancelled."""

    def _set_ready(self) -> None:
        self._backoff.reset()
        self._count(state=HealthState.READY, last_error=None)

    def _received(self, byte_count: int) -> None:
        self._count(bytes_received=self._health.bytes_received + byte_count)

    def _discard(self, byte_count: int) -> None:
        """Count noise bytes that were outside any frame."""
        self._count(bytes_discarded=self._health.bytes_discarded + byte_count)
        log.warning("%s: discarded %d bytes outside any frame", self.reader_id, byte_count)

    def _reject(self, reason: str) -> None:
        """Count a rejected frame and log why."""
        self._count(frames_rejected=self._health.frames_rejected + 1, last_rejected=reason)
        log.warning("%s: rejected frame: %s", self.reader_id, reason)

    def _card_removed(self) -> None:
        self._debouncer.card_removed()

    def _publish(self, raw: bytes, technology: str, at_s: float, text: str | None = None) -> None:
        """Debounce, convert and queue one card sighting.

        ``text`` is what the conversion chain starts from: the typed text for a keyboard
        wedge; for binary credentials it defaults to ``raw`` in upper-case hex.
        """
        self._count(frames_accepted=self._health.frames_accepted + 1)
        if not self._debouncer.admit(raw, at_s):
            self._count(reads_debounced=self._health.reads_debounced + 1)
            return
        number = raw.hex().upper() if text is None else text
        try:
            number = self.convert(number) if self.convert else number
        except ConversionError as exc:
            reason = f"card {raw.hex().upper()[:64]} not converted: {exc}"
            self._count(conversions_rejected=self._health.conversions_rejected + 1, last_rejected=reason)
            log.warning("%s: %s", self.reader_id, reason)
            return
        try:
            self._queue.put_nowait(CardRead(raw, str(technology), self.reader_id, at_s, number))
        except asyncio.QueueFull:
            self._count(reads_dropped=self._health.reads_dropped + 1)
            log.warning("%s: read queue full, dropped a read", self.reader_id)

    # --- internals --------------------------------------------------------------------

    def _count(self, **changes: Any) -> None:
        # Any: each caller names one ReaderHealth field; replace() rejects an unknown name
        self._health = replace(self._health, **changes)

    async def _run(self) -> None:
        while True:
            try:
                await self._session()
                reason = "device closed"
            except (ReaderError, OSError) as exc:
                reason = str(exc) or type(exc).__name__
            except Exception as exc:  # a driver or library bug must not end the reader for good
                log.exception("%s: unexpected error in the device session", self.reader_id)
                reason = f"unexpected {type(exc).__name__}: {exc}"
            delay_s = self._backoff.next_delay_s()
            log.warning("%s: %s; reconnecting in %.2f s", self.reader_id, reason, delay_s)
            self._count(
                state=HealthState.RECONNECTING, reconnects=self._health.reconnects + 1, last_error=reason
            )
            await asyncio.sleep(delay_s)


def now_s() -> float:
    """The clock every ``CardRead.monotonic_s`` comes from."""
    return time.monotonic()
