"""Typed events an acceptor yields from ``async for event in acceptor.events()``.

Only :class:`CreditEvent` subclasses (:class:`CoinAccepted`, :class:`NoteStacked`) mean money
that belongs to the customer now. A note held in escrow (:class:`NoteEscrowed`) is *not* credit:
it can still be returned. Everything else is for the operator view and the audit log.

Every event carries ``device_serial``; credit and escrow events also carry the device's
``event_counter`` and the driver's ``epoch`` (incremented when the counter wraps 255 → 1 or the
device resets), so ``idempotency_key`` is unique for the life of the device as long as the caller
persists :class:`CounterState` and hands it back when it reopens the device.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = [
    "CashEvent",
    "CoinAccepted",
    "CounterState",
    "CreditEvent",
    "DeviceError",
    "ErrorKind",
    "LinkChanged",
    "LostEvents",
    "NoteEscrowed",
    "NoteReturned",
    "NoteStacked",
    "Reset",
    "UnmappedCredit",
]


@dataclass(frozen=True)
class CounterState:
    """Where the driver is in the device's event sequence; persist it to resume exactly once."""

    epoch: int
    event_counter: int


class ErrorKind(enum.Enum):
    """What an error/status code means for the operator."""

    REJECT = "reject"  # the coin or note went back to the customer; nothing was kept
    FRAUD = "fraud"  # a fraud attempt was detected
    FAULT = "fault"  # the device needs attention (jam, sensor blocked, stacker problem)
    STATUS = "status"  # informational (stacker inserted, null event)


@dataclass(frozen=True, kw_only=True)
class CashEvent:
    """Base class of every acceptor event."""

    device_serial: str


@dataclass(frozen=True, kw_only=True)
class CreditEvent(CashEvent):
    """Money that is now in the cash box and must be credited exactly once."""

    value_minor: int
    currency: str
    event_counter: int
    epoch: int
    position: int

    @property
    def idempotency_key(self) -> str:
        """``serial/epoch/counter``: unique per event; prefix it with the kiosk id at the hub."""
        return f"{self.device_serial}/{self.epoch}/{self.event_counter}"


@dataclass(frozen=True, kw_only=True)
class CoinAccepted(CreditEvent):
    """A coin was validated and kept. ``coin_id`` is the device's name for it (``EU200A``)."""

    coin_id: str
    sorter_path: int = 0


@dataclass(frozen=True, kw_only=True)
class NoteStacked(CreditEvent):
    """A note went into the stacker. ``escrow_id`` links it to its :class:`NoteEscrowed`, if any."""

    bill_id: str
    escrow_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class NoteEscrowed(CashEvent):
    """A note is held in escrow: show it, then stack or return it. Not credit yet."""

    value_minor: int
    currency: str
    bill_id: str
    position: int
    escrow_id: str


@dataclass(frozen=True, kw_only=True)
class NoteReturned(CashEvent):
    """The note held in escrow went back to the customer."""

    escrow_id: str | None


@dataclass(frozen=True, kw_only=True)
class DeviceError(CashEvent):
    """An error, fraud or status code reported by the device (named from the ccTalk tables)."""

    code: int
    name: str
    kind: ErrorKind
    kept: bool | None = None  # True: money stayed in the machine without credit (reconcile it)


@dataclass(frozen=True, kw_only=True)
class Reset(CashEvent):
    """The device reset or lost power; credits in flight may be lost and its setup was re-applied."""

    epoch: int


@dataclass(frozen=True, kw_only=True)
class LostEvents(CashEvent):
    """Operator alarm: the event counter jumped further than the device buffers.

    ``count`` events (coins, notes or errors) happened that the driver never saw; it did not
    invent credit for them. ``from_counter``/``to_counter`` bound the gap.
    """

    count: int
    from_counter: int
    to_counter: int


@dataclass(frozen=True, kw_only=True)
class UnmappedCredit(CashEvent):
    """Operator alarm: money was kept in a position with no known value; not credited."""

    position: int
    event_counter: int
    epoch: int


@dataclass(frozen=True, kw_only=True)
class LinkChanged(CashEvent):
    """The device stopped (``online=False``) or started again answering polls."""

    online: bool
    reason: str = ""
