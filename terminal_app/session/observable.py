"""An immutable state snapshot that front ends render, and the subscribers told of each change.

The terminal's engine and the kiosk's are one each: a UI (or the headless log)
subscribes, renders every snapshot it is given, and sends intents back; it never reads the
engine's internals.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

__all__ = ["ObservableState"]

S = TypeVar("S", bound="DataclassInstance")  # a frozen dataclass
log = logging.getLogger(__name__)


class ObservableState(Generic[S]):
    """Holds the current snapshot; :meth:`_set` replaces it and tells every subscriber."""

    def __init__(self, initial: S) -> None:
        self._state = initial
        self._subscribers: list[Callable[[S], None]] = []

    @property
    def state(self) -> S:
        """The current snapshot."""
        return self._state

    def subscribe(self, subscriber: Callable[[S], None]) -> Callable[[], None]:
        """Call ``subscriber(state)`` now and after every change; returns the unsubscribe function."""
        self._subscribers.append(subscriber)
        subscriber(self._state)
        return lambda: self._subscribers.remove(subscriber)

    def _set(self, **changes: Any) -> None:
        new = replace(self._state, **changes)
        if new == self._state:
            return
        self._state = new
        for subscriber in list(self._subscribers):
            try:
                subscriber(new)
            except Exception:  # a broken screen must not stop the engine
                log.exception("%s: a subscriber failed", type(self).__name__)
