"""The skeleton both engines are built on: intents, one handler at a time, messages, refusals.

A :class:`SessionEngine` holds an immutable state (:class:`~terminal_app.session.observable.ObservableState`),
takes intents through :meth:`~SessionEngine.submit` and handles them one at a time in
:meth:`~SessionEngine.run`, between its timers (:meth:`~SessionEngine.tick`). An exception in any
handler or timer ends the session the safe way (:meth:`~SessionEngine._emergency_end`: the panel
locked, the acceptors inhibited). A message shown with no session left expires after
``message_s``. Touch, DismissMessage, SetLanguage and ShowNotice mean the same on every device
(each role names the notice's message key: ``NOTICE``).

A failed identification is classified once (:func:`refusal`) and worded by each engine's own
message keys (:class:`Refusals`): the terminal and the kiosk tell a locked account, an unknown
credential and an unreachable hub apart the same way.
"""

from __future__ import annotations

import abc
import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from printgate.waiting import wait_at_most

from terminal_app.errors import AccessDenied, HubCallError, HubUnreachable, NotRecognised
from terminal_app.session.clock import Clock, SystemClock
from terminal_app.session.intents import (
    LANGUAGES,
    CardPresented,
    DismissMessage,
    SetLanguage,
    ShowNotice,
    Touch,
)
from terminal_app.session.observable import ObservableState

__all__ = ["DEVICE_CHECK_S", "Refusal", "Refusals", "SessionEngine", "SessionState", "refusal"]

log = logging.getLogger(__name__)
# An idle engine still runs its timers this often: they notice when the hub stops trusting the
# device (its certificate expired while nobody used it).
DEVICE_CHECK_S = 30.0


class SessionState(Protocol):
    """What every engine's state has: a frozen dataclass with these fields."""

    __dataclass_fields__: ClassVar[dict[str, Any]]

    @property
    def offline(self) -> bool:
        """The hub is unreachable now."""
        ...

    @property
    def message(self) -> StrEnum | None:
        """The message shown (a key; the UI words it)."""
        ...


S = TypeVar("S", bound=SessionState)
I = TypeVar("I")  # noqa: E741 - the intent type, as S is the state's
M = TypeVar("M", bound=StrEnum)


class Refusal(StrEnum):
    """Why the hub (or the lack of it) refused an identification."""

    NOT_RECOGNISED = "not_recognised"  # card, PIN or password unknown
    LOCKED = "locked"  # too many failed attempts
    DENIED = "denied"  # blocked, not allowed here
    OFFLINE = "offline"  # the hub did not answer


def refusal(error: HubCallError) -> Refusal:
    """Classify a failed identification."""
    if isinstance(error, HubUnreachable):
        return Refusal.OFFLINE
    if isinstance(error, NotRecognised):
        return Refusal.NOT_RECOGNISED
    if isinstance(error, AccessDenied) and "locked" in error.detail:
        return Refusal.LOCKED
    return Refusal.DENIED


@dataclass(frozen=True)
class Refusals(Generic[M]):
    """An engine's message keys for the refusals that are not about a particular credential."""

    locked: M
    denied: M
    offline: M

    def key(self, reason: Refusal, not_recognised: M) -> M:
        """The message for ``reason``; ``not_recognised`` names what was not recognised."""
        return {
            Refusal.NOT_RECOGNISED: not_recognised,
            Refusal.LOCKED: self.locked,
            Refusal.DENIED: self.denied,
            Refusal.OFFLINE: self.offline,
        }[reason]


class SessionEngine(ObservableState[S], Generic[S, I], abc.ABC):
    """The skeleton of the terminal's and the kiosk's engines (see the module docstring)."""

    NOTICE: ClassVar[StrEnum]  # the role's message key of an operator notice (args: text)

    def __init__(self, initial: S, *, message_s: float, clock: Clock | None) -> None:
        super().__init__(initial)
        self.clock: Clock = clock or SystemClock()
        self._message_s = message_s
        self._intents: asyncio.Queue[I] = asyncio.Queue()
        self._message_until_s: float | None = None
        self._stopping = False

    # ================================================================ hooks

    @abc.abstractmethod
    async def start(self) -> None:
        """Bring the devices into their safe state and show the idle screen."""

    @abc.abstractmethod
    async def tick(self) -> None:
        """Apply the timers."""

    @abc.abstractmethod
    def _wait_s(self) -> float | None:
        """How long :meth:`run` may wait for an intent before the timers are due (None: forever)."""

    @abc.abstractmethod
    async def _emergency_end(self) -> None:
        """After an unexpected error: the devices safe whatever happens, the session ended."""

    @abc.abstractmethod
    def _handlers(self) -> dict[type, Callable[[Any], Awaitable[None]]]:
        """Each intent type's handler (:meth:`_common_handlers` included)."""

    @abc.abstractmethod
    def _activity(self) -> None:
        """A touch or another intent: restart the countdown if one runs."""

    @property
    def _session_live(self) -> bool:
        """Is a user's session open (messages then stay until replaced)?"""
        return False

    # ================================================================ messages

    def _message(self, key: StrEnum | None, **args: object) -> None:
        self._set(message=key, message_args=tuple((k, str(v)) for k, v in args.items()))
        self._message_until_s = self.clock.monotonic_s() + self._message_s if key else None

    def _expire_message(self) -> None:
        """Drop a message whose time is up, unless a session is live."""
        now = self.clock.monotonic_s()
        if self._message_until_s is not None and now >= self._message_until_s and not self._session_live:
            self._message(None)

    # ================================================================ intents

    def submit(self, intent: I) -> None:
        """Queue an intent (from the UI or the reader task); :meth:`run` handles it."""
        self._intents.put_nowait(intent)

    async def run(self) -> None:
        """Start, then handle intents and timers until :meth:`close`."""
        await self.start()
        self._start_background()
        try:
            while not self._stopping:
                wait_s = self._wait_s()
                wait_s = DEVICE_CHECK_S if wait_s is None else min(wait_s, DEVICE_CHECK_S)
                intent = await wait_at_most(self._intents.get(), wait_s)
                if intent is not None and not self._stopping:
                    await self.dispatch(intent)
                await self._guarded(self._timers(), "tick")
        finally:
            await self._stop_background()

    async def _timers(self) -> None:
        await self.tick()

    def _start_background(self) -> None:
        """Start what runs beside the intents while :meth:`run` runs (nothing by default)."""

    async def _stop_background(self) -> None:
        """Stop what :meth:`_start_background` started."""

    def _wake(self, intent: I) -> None:
        """Stop waiting for an intent (:meth:`close` ends :meth:`run` this way)."""
        self._intents.put_nowait(intent)

    async def dispatch(self, intent: I) -> None:
        """Handle one intent now. An exception in a handler ends the session the safe way."""
        handler = self._handlers().get(type(intent))
        if handler is None:
            raise TypeError(f"not an intent of {type(self).__name__}: {intent!r}")
        if not isinstance(intent, CardPresented | ShowNotice):
            self._activity()
        await self._guarded(handler(intent), type(intent).__name__)

    async def _guarded(self, work: Awaitable[None], what: str) -> None:
        try:
            await work
        except Exception:
            log.exception("%s: %s failed; ending the session", type(self).__name__, what)
            await self._emergency_end()

    def _common_handlers(self) -> dict[type, Callable[[Any], Awaitable[None]]]:
        return {
            Touch: self._on_touch,
            DismissMessage: self._on_dismiss,
            SetLanguage: self._on_set_language,
            ShowNotice: self._on_show_notice,
        }

    async def _on_touch(self, _intent: Touch) -> None:
        """Only restarts the countdown (done in dispatch)."""

    async def _on_dismiss(self, _intent: DismissMessage) -> None:
        self._message(None)

    async def _on_show_notice(self, intent: ShowNotice) -> None:
        self._message(self.NOTICE, text=intent.text)
        self._message_until_s = self.clock.monotonic_s() + intent.duration_s

    async def _on_set_language(self, intent: SetLanguage) -> None:
        if intent.language in LANGUAGES:
            self._set(language=intent.language)
