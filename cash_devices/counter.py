"""The buffered-event counter rules of ccTalk headers 229 (coins) and 159 (bills).

A poll reply is ``[counter][1A][1B]…[5A][5B]`` with pair 1 the newest. The counter is 0 only
after power-up or reset and otherwise runs 1…255 and wraps to 1 (../shared/reference/readers.md
§4.1). :class:`CounterTracker` turns successive replies into the new pairs, oldest first, plus
the two alarms: a reset (counter back at 0) and lost events (a jump larger than the buffer).
It never produces a pair the device did not report, so it can never invent credit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cash_devices.errors import FrameError
from cash_devices.events import CounterState

__all__ = ["BUFFER_EVENTS", "CounterTracker", "CounterUpdate", "NewPair"]

BUFFER_EVENTS = 5
REPLY_BYTES = 1 + 2 * BUFFER_EVENTS


@dataclass(frozen=True)
class NewPair:
    """One buffered event: its counter value, the driver epoch it belongs to, and results A/B."""

    event_counter: int
    epoch: int
    result_a: int
    result_b: int


@dataclass
class CounterUpdate:
    """What one poll reply adds: a reset, a count of lost events, and the new pairs."""

    reset: bool = False
    lost: int = 0
    lost_from: int = 0
    pairs: list[NewPair] = field(default_factory=list)


class CounterTracker:
    """Follow the device's event counter across polls.

    With ``resume=None`` the first reply only synchronises (the buffer is not replayed: it was
    probably processed before, says the spec). With a persisted ``resume`` state the driver
    continues from there, so events that happened while the host was down are delivered (and
    deduplicated downstream by their idempotency key).
    """

    def __init__(self, resume: CounterState | None = None) -> None:
        self.epoch = resume.epoch if resume else 0
        self.last: int | None = resume.event_counter if resume else None
        self.resets = 0
        self.lost_total = 0

    @property
    def state(self) -> CounterState:
        """The position to persist (counter 0 until the first poll)."""
        return CounterState(epoch=self.epoch, event_counter=self.last or 0)

    def update(self, reply: bytes) -> CounterUpdate:
        """Consume one 229/159 reply; raises :class:`FrameError` if it is not 11 bytes."""
        if len(reply) != REPLY_BYTES:
            raise FrameError(f"buffered event reply has {len(reply)} bytes, expected {REPLY_BYTES}")
        counter = reply[0]
        if self.last is None:
            self.last = counter
            return CounterUpdate()
        if counter == 0:
            return self._on_zero()
        return self._advance_to(counter, reply[1:])

    def _on_zero(self) -> CounterUpdate:
        if self.last == 0:
            return CounterUpdate()
        self.last = 0
        self.epoch += 1
        self.resets += 1
        return CounterUpdate(reset=True)

    def _advance_to(self, counter: int, pairs: bytes) -> CounterUpdate:
        assert self.last is not None
        new = (counter - self.last) % 255 if self.last else counter
        update = CounterUpdate(lost=max(0, new - BUFFER_EVENTS), lost_from=self.last)
        for age in range(new - 1, -1, -1):  # oldest first; age 0 is the newest (pair 1)
            self._step()
            if age < BUFFER_EVENTS:
                result_a, result_b = pairs[2 * age], pairs[2 * age + 1]
                update.pairs.append(NewPair(self.last, self.epoch, result_a, result_b))
        self.lost_total += update.lost
        return update

    def _step(self) -> None:
        assert self.last is not None
        if self.last == 255:
            self.epoch += 1  # the counter wraps 255 -> 1 and never passes through 0
        self.last = self.last % 255 + 1
