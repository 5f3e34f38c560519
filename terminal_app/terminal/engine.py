"""The terminal engine: one terminal's behaviour, from a card tap to the locked panel.

Driven by events — card reads, UI intents (:mod:`terminal_app.terminal.state`), timers
(:meth:`TerminalEngine.tick`), hub replies, and the copier's page counts
(:meth:`TerminalEngine.poll_copy`) — it publishes an immutable :class:`TerminalState` to its
subscribers after every change. It imports no UI toolkit.

Screens::

    STARTING ──(panel locked, journal opened)──> IDLE
    IDLE ──card/PIN/password──> IDENTIFYING ──second factor──> SECOND_FACTOR ──PIN──> IDENTIFYING
    IDENTIFYING ──card not recognised──> IDLE + unknown_card ──LinkCard(username, password)──> IDENTIFYING
    IDENTIFYING ──ok──> SELECT_PROJECT (project required) ──project──> HOME
                 ──ok──> HOME (panel unlocked when copying is allowed and credit is left)
                 ──refused / not recognised / offline and not cached──> IDLE + message
    HOME ──pages counted──> COPYING        HOME/COPYING ──release──> RELEASING ──> HOME/COPYING
    any session screen ──logout / idle timeout / same card again / hub revoked it──> LOGGING_OUT ──> IDLE
    panel cannot be locked ──> OUT_OF_ORDER (retried on every tick; nobody may log in)
    the hub refuses this terminal ──> DISABLED (revoked) | REENROLL (certificate expired): the
        session ends the safe way, nobody may log in; back to IDLE once it is enrolled again

The panel lock is the safety rule: it is locked first thing at start (whatever a crashed
process left behind), unlocked only while a session is live, and locked on every way out —
logout, timeout, cancel, a hub that revokes the session, an exception in any handler, and
:meth:`TerminalEngine.close`. The language goes back to the terminal's default when a session ends.
Usage always goes through the journal; it is charged when the hub is back.

The engine is put together from its parts: :class:`~terminal_app.terminal.identification.Identification`
(who is there, online and offline), :class:`~terminal_app.terminal.jobs.HeldJobs` (list, release,
delete), :class:`~terminal_app.terminal.sharing.JobSharing` (favourites, a job passed on),
:class:`~terminal_app.terminal.scanning.ScanTile` (the scan profile to apply) and
:class:`~terminal_app.terminal.copy_session.CopySession` (unlock, count, charge), over
:class:`~terminal_app.terminal.core.TerminalCore` and the skeleton both roles share
(:class:`~terminal_app.session.engine.SessionEngine`). This module keeps the life cycle, leaving a
session, the timers and the journal's replay.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from printgate.waiting import wait_at_most

from mfp_adapters import PanelLock, PaperTray, trays_needing_paper
from mfp_adapters.mib import blocking_errors
from terminal_app.errors import DeviceDisabled, HubCallError
from terminal_app.hub import HubClient
from terminal_app.hub.values import ColorMode, Function, ReportReceipt
from terminal_app.session.clock import Clock
from terminal_app.session.intents import Cancel, CardPresented, Logout, PasswordEntered, PinEntered, Touch
from terminal_app.terminal.copy_session import CopySession
from terminal_app.terminal.copying import CopyCounter
from terminal_app.terminal.core import EMPTY_SESSION
from terminal_app.terminal.identification import Identification
from terminal_app.terminal.jobs import HeldJobs
from terminal_app.terminal.journal import Journal
from terminal_app.terminal.offline_cache import OfflineCache
from terminal_app.terminal.scanning import ScanTile
from terminal_app.terminal.settings import TerminalSettings
from terminal_app.terminal.sharing import JobSharing
from terminal_app.terminal.state import (
    ChooseScanProfile,
    DeleteJobs,
    LinkCard,
    MessageKey,
    PassJobOn,
    ReleaseAll,
    ReleaseSelected,
    Screen,
    SearchColleagues,
    SelectProject,
    StarJob,
    StartCopy,
    TerminalState,
    TrayView,
)

__all__ = ["CONNECTIVITY_CHECK_S", "Subscriber", "TerminalEngine"]

log = logging.getLogger(__name__)

Subscriber = Callable[[TerminalState], None]
CONNECTIVITY_CHECK_S = 5.0
OUT_OF_SERVICE = (Screen.DISABLED, Screen.REENROLL)


class TerminalEngine(Identification, HeldJobs, JobSharing, ScanTile, CopySession):
    """One terminal's engine (see the module docstring)."""

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
        super().__init__(
            hub=hub,
            panel=panel,
            counter=counter,
            journal=journal,
            cache=cache,
            settings=settings,
            clock=clock,
        )
        self._replay: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Crash recovery: lock the panel first, then show the idle screen and count the journal."""
        await self._lock_panel_at_start()
        await self._recover_open_copies()
        self._set(pending_reports=self.journal.pending_count())
        if self._state.screen is not Screen.OUT_OF_ORDER:
            self._set(screen=Screen.IDLE)

    async def _lock_panel_at_start(self) -> None:
        try:
            counts = await self.panel.lock()
        except Exception as exc:  # any panel failure: nobody may use the copier
            log.error("terminal: cannot lock the panel at start: %s", exc)
            self._set(screen=Screen.OUT_OF_ORDER, panel_unlocked=False)
            self._message(MessageKey.PANEL_FAULT)
            return
        if counts.total:
            log.warning("terminal: %d impressions counted after a crash were not charged", counts.total)

    def _start_background(self) -> None:
        self._replay = asyncio.create_task(self._replay_loop(), name="journal-replay")

    async def _stop_background(self) -> None:
        if self._replay is not None:
            self._replay.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._replay

    def _wait_s(self) -> float | None:
        now = self.clock.monotonic_s()
        wakeups = [self._message_until_s]
        if self._idle_deadline_s is not None:
            remaining = self._idle_deadline_s - now
            wakeups.append(now + (remaining - math.floor(remaining) or 1.0))  # next whole second
        if self._session is not None and self._session.copy_id:
            wakeups.append(self._next_copy_poll_s)
        due = [at for at in wakeups if at is not None]
        if self._state.screen in (Screen.OUT_OF_ORDER, *OUT_OF_SERVICE):
            due.append(now + 1.0)
        return max(0.0, min(due) - now) if due else None

    async def close(self) -> None:
        """Log out a live session (panel locked, usage journaled) and stop :meth:`run`."""
        self._stopping = True
        if self._session is not None:
            await self._logout(MessageKey.LOGGED_OUT)
        self._wake(Touch())

    def _handlers(self) -> dict[type, Callable[[Any], Awaitable[None]]]:
        return {
            **self._common_handlers(),
            CardPresented: self._on_card,
            PinEntered: self._on_pin,
            PasswordEntered: self._on_password,
            LinkCard: self._on_link_card,
            Cancel: self._on_cancel,
            Logout: self._on_logout,
            SelectProject: self._on_select_project,
            ReleaseSelected: self._on_release_selected,
            ReleaseAll: self._on_release_all,
            DeleteJobs: self._on_delete_jobs,
            StarJob: self._on_star_job,
            SearchColleagues: self._on_search_colleagues,
            PassJobOn: self._on_pass_job_on,
            StartCopy: self._on_start_copy,
            ChooseScanProfile: self._on_choose_scan_profile,
        }

    async def _on_cancel(self, _intent: Cancel) -> None:
        if self._state.screen is Screen.SECOND_FACTOR or self._unknown_card:
            self._pending = None
            self._forget_unknown_card()
            self._to_idle()
        elif self._session is not None:
            await self._logout(MessageKey.LOGGED_OUT)

    async def _on_logout(self, _intent: Logout) -> None:
        if self._session is not None:
            await self._logout(MessageKey.LOGGED_OUT)

    async def _logout(self, reason: MessageKey) -> None:
        session = self._session
        if session is None:
            return
        self._set(screen=Screen.LOGGING_OUT, countdown_s=None, idle_warning=False)
        self._idle_deadline_s = None
        try:
            if session.copy_id:
                await self._end_copy()
        finally:
            self._session = None
            self._last_logout_s = self.clock.monotonic_s()
            self._last_logout_card = session.card_number
        if not session.offline:
            await self.flush_journal()
            if not self._state.offline:
                with contextlib.suppress(HubCallError):
                    await self.hub.logout(session.token)
        self._clear_session_state()
        self._to_idle()
        self._message(reason)

    async def _emergency_end(self) -> None:
        """After an unexpected error: lock the panel whatever happens, end the session."""
        session, self._session = self._session, None
        self._pending = None
        self._idle_deadline_s = None
        try:
            if session is not None and session.copy_id:
                self._session = session
                await self._end_copy()
                self._session = None
            else:
                await self.panel.lock()
        except Exception:
            log.exception("terminal: the panel could not be locked")
            self._session = None
            self._thumbnails.clear()
            self._set(
                **EMPTY_SESSION,
                language=self.settings.language,
                screen=Screen.OUT_OF_ORDER,
                countdown_s=None,
                idle_warning=False,
            )
            self._message(MessageKey.PANEL_FAULT)
            return
        if session is not None:
            self._last_logout_s = self.clock.monotonic_s()
            self._last_logout_card = session.card_number
        self._clear_session_state()
        self._to_idle()

    async def tick(self) -> None:
        """Apply the timers: idle countdown and logout, message expiry, panel retry when out of order."""
        now = self.clock.monotonic_s()
        self._expire_message()
        if self._state.screen is Screen.OUT_OF_ORDER:
            await self._retry_lock()
            return
        if await self._out_of_service():
            return
        if self._idle_deadline_s is None:
            return
        if now >= self._idle_deadline_s:
            if self._session is not None:
                await self._logout(MessageKey.TIMED_OUT)
            else:
                self._pending = None
                self._forget_unknown_card()
                self._to_idle()
            return
        self._show_countdown()

    async def _out_of_service(self) -> bool:
        """While the hub refuses this terminal nobody may use it (DISABLED: revoked; REENROLL:
        its certificate expired); a live session ends the safe way first (panel locked, usage
        journaled: it is charged once the terminal is enrolled again). Back to IDLE when the hub
        trusts it again. True while out of service."""
        refused = self.hub.device_refusal
        if refused is None:
            if self._state.screen in OUT_OF_SERVICE:
                log.warning("terminal: the hub accepts this terminal again: back in service")
                self._to_idle()
                self._message(None)
            return False
        disabled = isinstance(refused, DeviceDisabled)
        screen = Screen.DISABLED if disabled else Screen.REENROLL
        if self._state.screen is not screen:
            log.error("terminal: out of service, the hub refuses this terminal: %s", refused)
            if self._session is not None:
                await self._logout(MessageKey.LOGGED_OUT)
            self._pending = None
            self._forget_unknown_card()
            self._idle_deadline_s = None
            key = MessageKey.DEVICE_DISABLED if disabled else MessageKey.REENROLL_REQUIRED
            self._set(screen=screen, countdown_s=None, idle_warning=False, message=key, message_args=())
            self._message_until_s = None  # the reason stays on screen as long as the state
        return True

    async def _retry_lock(self) -> None:
        try:
            await self.panel.lock()
        except Exception as exc:
            log.warning("terminal: panel still cannot be locked: %s", exc)
            return
        log.info("terminal: panel locked again: back in service")
        self._to_idle()
        self._message(None)

    async def _timers(self) -> None:
        await self.tick()
        await self._guarded(self._poll_copy_if_due(), "copy poll")

    def printer_status(self, errors: list[str]) -> None:
        """The printer's error bits changed (the runner polls the MFP)."""
        current = tuple(errors)
        if current == self._state.printer_errors:
            return
        self._set(printer_errors=current)
        if "jammed" in current:
            self._message(MessageKey.PRINTER_JAMMED)
        elif blocking_errors(current):
            self._message(MessageKey.PRINTER_ERROR, errors=", ".join(current))

    def printer_trays(self, trays: list[PaperTray]) -> None:
        """The printer's paper trays were read (the runner polls the MFP): the automatic ones that
        are low or empty are shown before a release."""
        low = tuple(
            TrayView(tray.name or f"#{tray.index}", tray.state.value, tray.media or "")
            for tray in trays_needing_paper(trays)
        )
        if low != self._state.paper_low:
            self._set(paper_low=low)

    async def flush_journal(self) -> None:
        """Send the journal now (the run loop does this by itself when reports wait)."""
        result = await self.sender.flush()
        for reply in result.acknowledged:
            self._learn(reply)
        self._set(pending_reports=result.remaining, offline=result.unreachable)

    def _learn(self, receipt: ReportReceipt) -> None:
        prices = self._state.prices
        for priced in receipt.priced_lines:
            if priced.line.function is Function.COPY and not priced.line.duplex:
                if priced.line.color is ColorMode.COLOR:
                    prices = replace(prices, copy_color_cents=priced.unit_price_cents)
                else:
                    prices = replace(prices, copy_mono_cents=priced.unit_price_cents)
        self._set(prices=prices)

    async def _replay_loop(self) -> None:
        """Send the journal whenever it has reports; retry with growing pauses while offline.

        While online and idle it only glances at the channel every ``CONNECTIVITY_CHECK_S``, so
        the idle screen says "offline" before anyone taps (keepalive finds a dead path in 30 s).
        """
        delay_s = 1.0
        while True:
            if self.journal.pending_count() or self._state.offline:
                if self.journal.pending_count():
                    await self.flush_journal()
                elif await self.hub.reachable(timeout_s=2.0):
                    self._set(offline=False)
                waiting = self._state.offline or self.hub.device_refusal is not None
                delay_s = min(self.settings.replay_interval_s, delay_s * 2) if waiting else 1.0
            elif self.hub.connection_failed():
                self._set(offline=True)
            self._replay_wakeup.clear()
            busy = self._state.offline or self.journal.pending_count()
            await wait_at_most(self._replay_wakeup.wait(), delay_s if busy else CONNECTIVITY_CHECK_S)
