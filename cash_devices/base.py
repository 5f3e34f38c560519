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
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self

from cash_devices.errors import ConfigurationError
from cash_devices.events import CashEvent, CounterState

__all__ = ["Acceptor", "Denomination", "DeviceIdentity", "Health", "SelfCheck"]


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


_CLOSED = object()


class Acceptor(abc.ABC):
    """Abstract coin or note acceptor (see the module docstring for the contract)."""

    def __init__(self) -> None:
        self.identity: DeviceIdentity | None = None
        self.denominations: dict[int, Denomination] = {}
        self._health = Health()
        self._queue: asyncio.Queue[object] = asyncio.Queue()

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
            yield item

    def _emit(self, event: CashEvent) -> None:
        self._queue.put_nowait(event)

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
