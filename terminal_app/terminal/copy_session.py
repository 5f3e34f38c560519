"""The terminal engine's copy session: unlock the panel, count the pages live, charge them once.

The panel unlocks only for a live session that may copy and has credit left; the copy session is
recorded in the journal *before* the panel opens (the report it will become and the counters at
unlock), so a terminal that dies mid-session charges it at its next start from what the counters
prove. Locking the panel journals the session's report and forgets the open record in one
transaction; the replay loop sends it.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import replace

from terminal_app.hub.values import ColorMode, Function, UsageLine, UsageReport
from terminal_app.terminal.copying import CopyPages, CopyUnavailable
from terminal_app.terminal.core import LiveSession, TerminalCore
from terminal_app.terminal.journal import OpenCopy
from terminal_app.terminal.state import MessageKey, Screen, SelectProject, StartCopy

__all__ = ["CopySession"]

log = logging.getLogger(__name__)


class CopySession(TerminalCore):
    """The copier beside the terminal (see the module docstring)."""

    async def _on_select_project(self, intent: SelectProject) -> None:
        if self._session is None:
            return
        codes = {project.code for project in self._state.projects}
        if intent.code not in codes and (intent.code or self._state.project_required):
            self._message(MessageKey.PROJECT_REQUIRED)
            return
        if self._session.copy_id:  # pages so far belong to the previous choice
            await self._end_copy()
        self._set(project=intent.code, screen=Screen.HOME, message=None)
        if self.settings.auto_unlock:
            await self._unlock()

    async def _on_start_copy(self, _intent: StartCopy) -> None:
        if self._session is None or self._session.copy_id:
            return
        if self._state.project_required and not self._state.project:
            self._message(MessageKey.PROJECT_REQUIRED)
            return
        await self._unlock()

    def _credit_pages(self) -> int | None:
        session = self._session
        assert session is not None
        caps: list[int] = []
        if session.page_cap is not None:
            caps.append(session.page_cap)
        if session.credit_cents is not None:
            prices = self._state.prices
            dearest = max(prices.copy_mono_cents, prices.copy_color_cents if self._state.color_allowed else 0)
            if dearest > 0:
                caps.append(max(0, session.credit_cents) // dearest)
            elif session.credit_cents <= 0:
                caps.append(0)
        if self._state.quota_pages_left is not None:
            caps.append(self._state.quota_pages_left)
        return min(caps) if caps else None

    async def _unlock(self) -> None:
        session = self._session
        if session is None or session.copy_id or not self._state.copy_allowed:
            return
        credit_pages = self._credit_pages()
        if credit_pages == 0:
            self._message(MessageKey.NOT_ENOUGH_CREDIT)
            return
        copy_id = uuid.uuid4().hex
        try:
            baseline = await self.counter.begin(copy_id)
        except CopyUnavailable as exc:
            log.warning("terminal: copying not possible: %s", exc)
            self._message(MessageKey.COPY_UNAVAILABLE)
            return
        session.copy = OpenCopy(
            copy_id, self._report_template(session, copy_id), baseline, session.deferred_card
        )
        self.journal.open_copy(session.copy, self.clock.wall_us())  # durable before the panel opens
        session.copy_id = copy_id
        self.panel.unlock(allow_color=self._state.color_allowed, credit_pages=credit_pages)
        self._next_copy_poll_s = self.clock.monotonic_s() + self.settings.copy_poll_s
        self._set(panel_unlocked=True, credit_pages=credit_pages, copy_pages_mono=0, copy_pages_color=0)
        log.info("terminal: panel unlocked for %s (credit pages %s)", self._state.username, credit_pages)

    async def _poll_copy_if_due(self) -> None:
        if (
            self._session is not None
            and self._session.copy_id
            and self.clock.monotonic_s() >= self._next_copy_poll_s
        ):
            await self.poll_copy()

    async def poll_copy(self) -> None:
        """Refresh the live page count and cost (the runner calls this every ``copy_poll_s``)."""
        session = self._session
        if session is None or not session.copy_id:
            return
        self._next_copy_poll_s = self.clock.monotonic_s() + self.settings.copy_poll_s
        pages = await self.counter.live()
        if pages.total != self._state.copy_pages:
            self._activity()
        self._show_pages(pages)
        if self._state.credit_pages is not None and pages.total >= self._state.credit_pages:
            self._message(MessageKey.CREDIT_USED_UP)

    def _show_pages(self, pages: CopyPages) -> None:
        prices = self._state.prices
        cost = pages.mono * prices.copy_mono_cents + pages.color * prices.copy_color_cents
        screen = self._state.screen
        if pages.total and screen is Screen.HOME:
            screen = Screen.COPYING
        self._set(
            copy_pages_mono=pages.mono, copy_pages_color=pages.color, copy_cost_cents=cost, screen=screen
        )

    async def _end_copy(self) -> None:
        """Lock the panel, count the session's pages and journal them (then try to send)."""
        session = self._session
        assert session is not None and session.copy_id
        copy_id, session.copy_id = session.copy_id, ""
        pulses = await self.panel.lock()
        self._set(panel_unlocked=False)
        try:
            pages = await self.counter.end(pulses)
        except Exception:
            log.exception("terminal: copy session %s could not be counted", copy_id)
            pages = CopyPages(mono=pulses.mono, color=pulses.color)
        self._show_pages(pages)
        assert session.copy is not None
        self._close_copy(session.copy, pages)
        session.copy = None
        if pages.total and session.offline and session.user_id:
            self.cache.spend(session.user_id, self._state.copy_cost_cents)

    def _report_template(self, session: LiveSession, copy_id: str) -> UsageReport:
        return UsageReport(
            session_token=session.token,
            idempotency_key=f"copy-{copy_id}",
            project_code=self._state.project,
            performed=True,
            description=f"copy session at {self.hub.terminal_id}",
        )

    def _close_copy(self, copy: OpenCopy, pages: CopyPages) -> None:
        """Journal the session's report (when it made pages, or the MFP's scan counter was read)
        and forget the open session, atomically."""
        report = None
        if pages.total or pages.scan is not None:
            lines = tuple(
                UsageLine(Function.COPY, color, self.settings.paper_size, duplex=False, pages=count)
                for color, count in ((ColorMode.MONO, pages.mono), (ColorMode.COLOR, pages.color))
                if count
            )
            report = replace(
                copy.template,
                lines=lines,
                occurred_us=self.clock.wall_us(),
                scan_counter_pages=pages.scan,
                scan_counter_sent_only=pages.scan_sent_only,
            )
        self.journal.close_copy(copy, report, self.clock.wall_us())
        self._set(pending_reports=self.journal.pending_count())
        self._replay_wakeup.set()

    async def _recover_open_copies(self) -> None:
        """Charge copy sessions a dead process left open, from what the counters prove."""
        for copy in self.journal.open_copies():
            pages = await self.counter.recover(copy.baseline)
            log.warning(
                "engine: copy session %s was cut by a restart: %d pages charged", copy.copy_id, pages.total
            )
            self._close_copy(copy, pages)
