"""The device's bounded outbox: what waits for the broker, while offline or in flight.

Two classes of entries share one bound (count and bytes):

* **telemetry** (the state snapshot, the presence status) is kept per key, latest wins: a newer
  snapshot replaces an unsent older one. When the bound is reached telemetry is dropped first,
  oldest first — the next snapshot brings the device's state back anyway;
* **events** are kept in order and dropped only when no telemetry is left to drop, oldest first,
  and every dropped event is counted (:attr:`OfflineBuffer.events_dropped`), so the hub learns
  how many it missed.

Thread-safe; every method is O(1) or O(entries) under one lock and never waits for the network,
so the card-tap path can publish into it at any time.
"""

from __future__ import annotations

import itertools
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

__all__ = ["Entry", "OfflineBuffer"]


@dataclass
class Entry:
    """One message to publish."""

    topic: str
    payload: bytes
    qos: int
    retain: bool
    telemetry_key: str | None = None  # set for telemetry (coalesced by key), None for events
    sequence: int = 0
    in_flight: bool = field(default=False, compare=False)

    @property
    def is_event(self) -> bool:
        return self.telemetry_key is None


class OfflineBuffer:
    """Bounded by ``max_entries`` and ``max_bytes``; see the module docstring."""

    def __init__(self, max_entries: int = 1000, max_bytes: int = 4 * 1024 * 1024) -> None:
        if max_entries < 1 or max_bytes < 1:
            raise ValueError("the buffer needs room for at least one entry")
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._entries: OrderedDict[int, Entry] = OrderedDict()
        self._telemetry: dict[str, int] = {}
        self._bytes = 0
        self._sequence = itertools.count(1)
        self.events_dropped = 0
        self.telemetry_dropped = 0
        self.telemetry_superseded = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    @property
    def size_bytes(self) -> int:
        with self._lock:
            return self._bytes

    def _remove(self, sequence: int) -> Entry:
        entry = self._entries.pop(sequence)
        self._bytes -= len(entry.payload)
        if entry.telemetry_key is not None and self._telemetry.get(entry.telemetry_key) == sequence:
            del self._telemetry[entry.telemetry_key]
        return entry

    def _evict_one(self) -> None:
        # Oldest telemetry first (it is superseded by the next snapshot); then the oldest event.
        for sequence, entry in self._entries.items():
            if not entry.is_event and not entry.in_flight:
                self._remove(sequence)
                self.telemetry_dropped += 1
                return
        for sequence, entry in self._entries.items():
            if not entry.in_flight:
                self._remove(sequence)
                self.events_dropped += 1
                return
        raise OverflowError("every buffered entry is in flight")

    def put(self, entry: Entry) -> None:
        """Add an entry (replacing unsent telemetry of the same key), evicting as needed."""
        if len(entry.payload) > self.max_bytes:
            raise ValueError("one message is larger than the whole buffer")
        with self._lock:
            if entry.telemetry_key is not None:
                older = self._telemetry.get(entry.telemetry_key)
                if older is not None and not self._entries[older].in_flight:
                    self._remove(older)
                    self.telemetry_superseded += 1
            while self._entries and (
                len(self._entries) >= self.max_entries or self._bytes + len(entry.payload) > self.max_bytes
            ):
                self._evict_one()
            entry.sequence = next(self._sequence)
            entry.in_flight = False
            self._entries[entry.sequence] = entry
            self._bytes += len(entry.payload)
            if entry.telemetry_key is not None:
                self._telemetry[entry.telemetry_key] = entry.sequence

    def next_unsent(self, priority_topics: tuple[str, ...] = ()) -> Entry | None:
        """The entry to send next: unsent ones on ``priority_topics`` first, then in order."""
        with self._lock:
            unsent = [entry for entry in self._entries.values() if not entry.in_flight]
            for entry in unsent:
                if entry.topic in priority_topics:
                    return entry
            return unsent[0] if unsent else None

    def mark_in_flight(self, entry: Entry) -> None:
        with self._lock:
            entry.in_flight = True

    def acknowledged(self, entry: Entry) -> None:
        """The broker has it: forget it."""
        with self._lock:
            if self._entries.get(entry.sequence) is entry:
                self._remove(entry.sequence)

    def requeue_in_flight(self) -> int:
        """The connection dropped: everything in flight is unsent again; how many."""
        with self._lock:
            count = 0
            for entry in self._entries.values():
                if entry.in_flight:
                    entry.in_flight = False
                    count += 1
            # Of several snapshots of one key now unsent, only the newest is worth sending.
            for key, newest in list(self._telemetry.items()):
                for sequence, entry in list(self._entries.items()):
                    if entry.telemetry_key == key and sequence != newest:
                        self._remove(sequence)
                        self.telemetry_superseded += 1
            return count

    def entries(self) -> list[Entry]:
        """A copy of the buffered entries, oldest first (for inspection)."""
        with self._lock:
            return list(self._entries.values())
