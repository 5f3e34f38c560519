"""What every part of the terminal engine shares: its devices, the live session, the countdown.

:class:`TerminalCore` is the terminal's :class:`~terminal_app.session.engine.SessionEngine`; the
engine's parts (:mod:`~terminal_app.terminal.identification`, :mod:`~terminal_app.terminal.jobs`,
:mod:`~terminal_app.terminal.copy_session`) build on it, and
:class:`~terminal_app.terminal.engine.TerminalEngine` puts them together. The methods one part
needs from another are declared here, so each part names what it relies on.
"""

from __future__ import annotations

import abc
import asyncio
import math
from dataclasses import dataclass
from typing import Any

from mfp_adapters import PanelLock
from terminal_app.errors import DeviceRefused, HubCallError, HubUnreachable, NotEnoughCredit, QuotaExhausted
from terminal_app.hub import HubClient
from terminal_app.hub.values import ColorMode, Function, Session
from terminal_app.session.clock import Clock
from terminal_app.session.engine import Refusals, SessionEngine
from terminal_app.terminal.copying import CopyCounter
from terminal_app.terminal.journal import Journal, OpenCopy, UsageSender
from terminal_app.terminal.offline_cache import CachedUser, OfflineCache
from terminal_app.terminal.settings import TerminalSettings
from terminal_app.terminal.state import (
    Intent,
    MessageKey,
    PriceHints,
    ProjectView,
    QuotaView,
    Screen,
    TerminalState,
)

__all__ = ["EMPTY_SESSION", "REFUSALS", "LiveSession", "PendingCard", "TerminalCore", "session_fields"]

REFUSALS = Refusals(
    locked=MessageKey.ACCOUNT_LOCKED, denied=MessageKey.ACCESS_DENIED, offline=MessageKey.OFFLINE_REFUSED
)


@dataclass
class LiveSession:
    """The live session's private facts (the public ones are in the state)."""

    token: str  # "" for an offline session of a card not in the cache
    card_number: str  # "" for PIN and password logins
    user_id: int
    offline: bool
    deferred_card: str = ""  # offline, not cached: charge by card on reconnect
    credit_cents: int | None = None  # what this session may spend (None: post-paid, no cap)
    page_cap: int | None = None  # offline cap on impressions
    copy_id: str = ""  # set while the panel is unlocked
    copy: OpenCopy | None = None  # its durable record (the report it becomes, the baseline)


@dataclass
class PendingCard:
    """A card waiting for its PIN."""

    card_number: str
    offline_user: CachedUser | None = None


class TerminalCore(SessionEngine[TerminalState, Intent]):
    """The terminal engine's shared parts (see the module docstring)."""

    NOTICE = MessageKey.OPERATOR_NOTICE

    def apply_settings(self, settings: TerminalSettings) -> None:
        """Put new settings into force (central configuration): timers and rules from now on,
        the price hints at once, the default language when the next session ends."""
        self.settings = settings
        self._message_s = settings.message_s
        self._set(prices=settings.prices)

    def __init__(
        self,
        *,
        hub: HubClient,
        panel: PanelLock,
        counter: CopyCounter,
        journal: Journal,
        cache: OfflineCache,
        settings: TerminalSettings | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings or TerminalSettings()
        initial = TerminalState(language=self.settings.language, prices=self.settings.prices)
        super().__init__(initial, message_s=self.settings.message_s, clock=clock)
        self.hub = hub
        self.panel = panel
        self.counter = counter
        self.journal = journal
        self.cache = cache
        self.sender = UsageSender(journal, hub)
        self._session: LiveSession | None = None
        self._pending: PendingCard | None = None
        self._unknown_card = ""  # a card the hub did not know, offered for LinkCard
        self._thumbnails: dict[int, bytes] = {}  # this session's, by job id
        self._idle_deadline_s: float | None = None
        self._next_copy_poll_s = 0.0
        self._last_logout_s = -math.inf
        self._last_logout_card = ""
        self._replay_wakeup = asyncio.Event()

    # ================================================================ what one part needs of another

    @abc.abstractmethod
    async def _logout(self, reason: MessageKey) -> None:
        """End the live session: panel locked, usage journaled and sent, idle screen."""

    @abc.abstractmethod
    async def _unlock(self) -> None:
        """Unlock the copier for the live session (if it may copy)."""

    @abc.abstractmethod
    async def _end_copy(self) -> None:
        """Lock the panel and journal the copy session's pages."""

    @abc.abstractmethod
    async def _load_jobs(self) -> None:
        """List the live session's held jobs."""

    @abc.abstractmethod
    async def _load_scan_profiles(self) -> None:
        """List the scan profiles the live session may pick here."""

    @abc.abstractmethod
    def _forget_unknown_card(self) -> None:
        """No card is offered for linking any more."""

    # ================================================================ the session and its countdown

    @property
    def _session_live(self) -> bool:
        return self._session is not None

    def _activity(self) -> None:
        if self._idle_deadline_s is not None:
            self._idle_deadline_s = self.clock.monotonic_s() + self.settings.idle_timeout_s
            self._show_countdown()

    def _show_countdown(self) -> None:
        if self._idle_deadline_s is None:
            return
        remaining = max(0.0, self._idle_deadline_s - self.clock.monotonic_s())
        self._set(countdown_s=math.ceil(remaining), idle_warning=remaining <= self.settings.idle_warning_s)

    def _to_idle(self) -> None:
        self._idle_deadline_s = None
        self._set(screen=Screen.IDLE, countdown_s=None, idle_warning=False)

    def _hub_prices(self, session: Session) -> PriceHints:
        """The copy prices of the session (simplex, this terminal's paper size, else ``*``);
        the ones known so far when the hub sent none (an older hub)."""
        found: dict[tuple[ColorMode | None, str], int] = {}
        for priced in session.prices:
            line = priced.line
            if line.function is Function.COPY and not line.duplex:
                found[line.color, line.paper_size] = priced.unit_price_cents

        def unit(color: ColorMode, known: int) -> int:
            return found.get((color, self.settings.paper_size), found.get((color, "*"), known))

        prices = self._state.prices
        return PriceHints(
            copy_mono_cents=unit(ColorMode.MONO, prices.copy_mono_cents),
            copy_color_cents=unit(ColorMode.COLOR, prices.copy_color_cents),
        )

    def _clear_session_state(self) -> None:
        """The idle look: no session fields, no thumbnails, the terminal's default language."""
        self._thumbnails.clear()
        self._set(**EMPTY_SESSION, language=self.settings.language)

    def _refused_in_session(self, error: HubCallError) -> None:
        if isinstance(error, DeviceRefused):
            return  # the next tick ends the session and says why
        if isinstance(error, HubUnreachable):
            self._set(offline=True)
            self._message(MessageKey.OFFLINE_MODE)
        elif isinstance(error, NotEnoughCredit):
            self._message(MessageKey.NOT_ENOUGH_CREDIT)
        elif isinstance(error, QuotaExhausted):
            self._message(MessageKey.QUOTA_EXHAUSTED)
        else:
            self._message(MessageKey.ACCESS_DENIED)


# What a session shows, reset to the idle defaults when it ends.
EMPTY_SESSION: dict[str, Any] = {
    name: getattr(TerminalState(), name)
    for name in (
        "username",
        "full_name",
        "offline_session",
        "balance_cents",
        "available_cents",
        "postpaid",
        "arrears_cents",
        "quotas",
        "quota_pages_left",
        "copy_allowed",
        "color_allowed",
        "projects",
        "project_required",
        "project",
        "jobs",
        "jobs_supported",
        "release",
        "colleagues",
        "scan_profiles",
        "scan_profile",
        "panel_unlocked",
        "copy_pages_mono",
        "copy_pages_color",
        "copy_cost_cents",
        "credit_pages",
    )
}


def session_fields(session: Session, keep_project: str = "") -> dict[str, Any]:
    """The state's session fields for a session the hub answered."""
    quotas = tuple(
        QuotaView(
            name=quota.name,
            unit=quota.unit.value,
            remaining=quota.remaining,
            limit=quota.limit,
            blocking=quota.blocking,
        )
        for quota in session.quotas
    )
    blocking_pages = [q.remaining for q in quotas if q.unit == "pages" and q.blocking]
    return {
        "username": session.user.username,
        "full_name": session.user.full_name,
        "offline_session": False,
        "balance_cents": session.balance_cents,
        "available_cents": session.available_cents,
        "postpaid": session.postpaid,
        "arrears_cents": session.arrears_cents,
        "quotas": quotas,
        "quota_pages_left": min(blocking_pages) if blocking_pages else None,
        "copy_allowed": session.copy_allowed,
        "color_allowed": session.color_allowed,
        "projects": tuple(ProjectView(p.code, p.name) for p in session.projects),
        "project_required": session.project_required,
        "project": keep_project,
        "printer_name": session.printer_name,
        "printer_location": session.printer_location,
    }
