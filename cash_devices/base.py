"""The acceptor interface every coin and note driver implements.

Contract: ``await open()`` identifies the device and leaves it **inhibited** (no money accepted);
``await enable(mask)`` accepts the denominations in ``mask`` until ``await disable()``, which sets
the master inhibit before anything else and confirms it. ``events()`` yields typed events
(:mod:`cash_devices.events`) in device order; only :class:`~cash_devices.events.CreditEvent` is
money. Drivers are asyncio objects, used from one event loop and by one consumer of ``events()``.
Non-goals: dispensing change, counting the cash box (the hub's ledger does that).
"""

from __future__ import annotations

import abc
import asyncio
import logging
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Protocol, Self, runtime_checkable

from cash_devices.errors import ConfigurationError
from cash_devices.events import CashEvent, CounterState, LinkChanged

__all__ = ["Acceptor", "Denomination", "DeviceIdentity", "Escrow", "Health", "SelfCheck"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeviceIdentity:
    """Who the device says it is. ``serial`` is the text used in idempotency keys."""

    manufacturer: str
    category: str
    product: str
    serial: str
    software_revision: str = ""
    address: int = 0


@dataclass(frozen=True)
class Denomination:
    """One position of the device's coin or bill table."""

    position: int
    code: str
    value_minor: int
    currency: str


@dataclass(frozen=True)
class SelfCheck:
    """The device's own diagnosis: ``ok`` is None when the device cannot test itself."""

    ok: bool | None
    code: int
    name: str
    detail: bytes = b""


@dataclass
class Health:
    """What the operator view shows for one acceptor."""

    online: bool = False
    enabled: bool = False
    last_error: str = ""
    timeouts: int = 0
    frames_rejected: int = 0  # corrupt replies (line noise): each is repeated at once
    repeats: int = 0  # commands sent again after a timeout or a corrupt reply
    failed_polls: int = 0  # polls that failed even when repeated; several in a row mean offline
    lost_events: int = 0
    resets: int = 0
    fraud_alarms: int = 0
    kept_without_credit: int = 0  # coins/notes the device kept but reported as errors
    counter: CounterState = field(default_factory=lambda: CounterState(0, 0))


@runtime_checkable
class Escrow(Protocol):
    """A note validator that holds a note in escrow until the host routes it."""

    async def accept_escrow(self) -> None:
        """Stack the held note (its credit follows as a :class:`~cash_devices.events.NoteStacked`)."""

    async def return_escrow(self) -> None:
        """Hand the held note back (a :class:`~cash_devices.events.NoteReturned` follows)."""


_CLOSED = object()


class Acceptor(abc.ABC):
    """Abstract coin or note acceptor (see the module docstring for the contract).

    Polling drivers report their line through :meth:`_poll_ok` and :meth:`_poll_failed`: one
    failed poll is line noise; ``offline_after_failures`` in a row report the device offline.
    """

    def __init__(self, *, offline_after_failures: int = 3) -> None:
        if offline_after_failures < 1:
            raise ConfigurationError("offline_after_failures must be at least 1")
        self.identity: DeviceIdentity | None = None
        self.denominations: dict[int, Denomination] = {}
        self.offline_after_failures = offline_after_failures
        self._failures_in_a_row = 0
        self._health = Health()
        self._queue: asyncio.Queue[object] = asyncio.Queue()
        self._emitted = 0
        self._taken = 0
        self._taken_changed = asyncio.Event()

    @abc.abstractmethod
    async def open(self) -> DeviceIdentity:
        """Connect, identify, read the denomination table; leave the device inhibited."""

    @abc.abstractmethod
    async def enable(self, mask: int | None = None) -> None:
        """Accept the positions whose bit (position - 1) is set in ``mask`` (None: every known one)."""

    @abc.abstractmethod
    async def disable(self) -> None:
        """Stop accepting money (master inhibit) and confirm it with the device."""

    @abc.abstractmethod
    async def self_check(self) -> SelfCheck:
        """Ask the device to test itself (the operator's "device self-test")."""

    @abc.abstractmethod
    async def _shutdown(self) -> None:
        """Release the transport (called once by :meth:`close`)."""

    @property
    @abc.abstractmethod
    def counter_state(self) -> CounterState:
        """The event position to persist with the journal and pass back as ``resume``."""

    @property
    def health(self) -> Health:
        """A snapshot of the device's health counters."""
        return Health(**vars(self._health))

    def mask_for(self, values_minor: Iterable[int]) -> int:
        """The enable mask for every known position whose value is in ``values_minor``."""
        wanted = set(values_minor)
        unknown = wanted - {d.value_minor for d in self.denominations.values()}
        if unknown:
            raise ConfigurationError(f"no position accepts the value(s) {sorted(unknown)}")
        return sum(1 << (d.position - 1) for d in self.denominations.values() if d.value_minor in wanted)

    def known_mask(self) -> int:
        """The mask of every position with a known value."""
        return sum(1 << (position - 1) for position in self.denominations)

    async def events(self) -> AsyncIterator[CashEvent]:
        """Yield events until the acceptor is closed."""
        while True:
            item = await self._queue.get()
            if item is _CLOSED:
                self._queue.put_nowait(_CLOSED)  # every later events() ends at once too
                return
            assert isinstance(item, CashEvent)
            self._taken += 1
            self._taken_changed.set()
            yield item

    def _emit(self, event: CashEvent) -> int:
        """Queue an event; returns its number for :meth:`_until_taken`."""
        self._queue.put_nowait(event)
        self._emitted += 1
        return self._emitted

    async def _until_taken(self, number: int) -> None:
        """Wait until the consumer of :meth:`events` has taken event ``number``.

        A consumer that makes a credit durable before its next ``await`` (as the kiosk's
        journal does) has done so by the time this returns to the driver.
        """
        while self._taken < number:
            self._taken_changed.clear()
            await self._taken_changed.wait()

    def _poll_ok(self, timeouts: int, frames_rejected: int, repeats: int) -> None:
        """A poll was answered: count the line and report the device back online if it was not."""
        self._count_line(timeouts, frames_rejected, repeats)
        self._failures_in_a_row = 0
        if not self._health.online and self.identity is not None:
            self._health.online = True
            self._emit(LinkChanged(device_serial=self.identity.serial, online=True))

    def _poll_failed(self, error: Exception, timeouts: int, frames_rejected: int, repeats: int) -> None:
        """A poll failed even when repeated: offline only after several in a row (no false alarms)."""
        self._count_line(timeouts, frames_rejected, repeats)
        self._health.failed_polls += 1
        self._failures_in_a_row += 1
        self._health.last_error = str(error)
        name = self.identity.serial if self.identity else "acceptor"
        if self._health.online and self._failures_in_a_row >= self.offline_after_failures:
            log.warning("%s stopped answering: %s", name, error)
            self._health.online = False
            self._emit(LinkChanged(device_serial=name, online=False, reason=str(error)))
        elif self._health.online:
            log.info("%s: poll failed (%s); still online", name, error)

    def _count_line(self, timeouts: int, frames_rejected: int, repeats: int) -> None:
        self._health.timeouts, self._health.frames_rejected, self._health.repeats = (
            timeouts,
            frames_rejected,
            repeats,
        )

    async def close(self) -> None:
        """Inhibit if possible, stop polling, release the transport and end ``events()``."""
        await self._shutdown()
        self._queue.put_nowait(_CLOSED)

    async def __aenter__(self) -> Self:
        if self.identity is None:  # open_acceptor() hands over an acceptor that is open already
            await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()
