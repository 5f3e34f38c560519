"""The terminal engine's job sharing: favourites kept for a reprint, and a held job passed on to a
colleague found by name.

A star (:class:`~terminal_app.terminal.state.StarJob`) keeps one of the user's own jobs on the hub
until it is taken off, so it can be printed again from the favourites list; a job passed on
(:class:`~terminal_app.terminal.state.PassJobOn`) shows up in the colleague's list at any terminal
and is charged to its owner. The colleague search answers into the state's ``colleagues``. After
each change the job list is read again, so what the screen shows is what the hub holds.
"""

from __future__ import annotations

import logging

from terminal_app.errors import HubCallError, NotSupported, QuotaExhausted, Refused
from terminal_app.terminal.core import TerminalCore
from terminal_app.terminal.jobs import colleague_view
from terminal_app.terminal.state import (
    SEARCH_QUERY_CHARS_MIN,
    MessageKey,
    PassJobOn,
    SearchColleagues,
    StarJob,
)

__all__ = ["JobSharing"]

log = logging.getLogger(__name__)


class JobSharing(TerminalCore):
    """Favourites and passing a job on (see the module docstring)."""

    def _online_token(self) -> str | None:
        session = self._session
        return None if session is None or session.offline else session.token

    async def _on_star_job(self, intent: StarJob) -> None:
        token = self._online_token()
        if token is None:
            return
        try:
            result = await self.hub.set_favourite(token, intent.job_id, intent.favourite)
        except QuotaExhausted:
            self._message(MessageKey.FAVOURITES_FULL)
            return
        except (NotSupported, Refused) as exc:
            log.info("terminal: no favourite: %s", exc)
            self._message(MessageKey.FAVOURITES_UNAVAILABLE)
            return
        except HubCallError as exc:
            self._refused_in_session(exc)
            return
        if result.favourite:
            self._message(MessageKey.FAVOURITE_ADDED, count=result.count, maximum=result.maximum)
        else:
            self._message(MessageKey.FAVOURITE_REMOVED)
        await self._load_jobs()

    async def _on_search_colleagues(self, intent: SearchColleagues) -> None:
        token = self._online_token()
        query = intent.query.strip()
        if token is None or len(query) < SEARCH_QUERY_CHARS_MIN:
            self._set(colleagues=())
            return
        try:
            found = await self.hub.search_colleagues(token, query)
        except HubCallError as exc:
            log.info("terminal: colleague search failed: %s", exc)
            self._set(colleagues=())
            if not isinstance(exc, Refused | NotSupported):
                self._refused_in_session(exc)
            return
        self._set(colleagues=tuple(colleague_view(colleague) for colleague in found))

    async def _on_pass_job_on(self, intent: PassJobOn) -> None:
        token = self._online_token()
        if token is None:
            return
        try:
            await self.hub.delegate_job(token, intent.job_id, intent.username, withdraw=intent.withdraw)
        except (NotSupported, Refused, QuotaExhausted) as exc:  # the job's document is gone, or full
            log.info("terminal: job not passed on: %s", exc)
            self._message(MessageKey.JOB_NOT_PASSED_ON)
            return
        except HubCallError as exc:
            if exc.code == "NOT_FOUND":
                self._message(MessageKey.COLLEAGUE_NOT_FOUND)
            else:
                self._refused_in_session(exc)
            return
        named = {c.username: c.label for c in self._state.colleagues}
        for job in self._state.jobs:
            named.update((c.username, c.label) for c in job.delegates)
        key = MessageKey.JOB_TAKEN_BACK if intent.withdraw else MessageKey.JOB_PASSED_ON
        self._set(colleagues=())
        self._message(key, colleague=named.get(intent.username, intent.username))
        await self._load_jobs()
