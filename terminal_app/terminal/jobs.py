"""The terminal engine's held jobs: list them with thumbnails, release (with overrides), delete.

Held jobs are listed right after an online login and after every release or deletion; the first
``THUMBNAILS_MAX`` jobs get the hub's thumbnail of their first page (an empty or oversized answer is
remembered as none for the session). A release streams each job's progress into the state; its
outcome is a message (printed and failed counts, or why not), then the session's money is read
again. A session the hub has ended meanwhile is logged out with the panel locked.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import replace

from terminal_app.errors import (
    DeviceRefused,
    HubCallError,
    HubRejected,
    HubUnreachable,
    NotRecognised,
    NotSupported,
    Refused,
)
from terminal_app.hub.values import Colleague, HeldJob, JobOverrides, JobRelease, ReleaseProgress
from terminal_app.terminal.core import TerminalCore, session_fields
from terminal_app.terminal.state import (
    ColleagueView,
    DeleteJobs,
    JobView,
    MessageKey,
    ReleaseAll,
    ReleaseSelected,
    ReleaseView,
    Screen,
)

__all__ = ["THUMBNAILS_MAX", "HeldJobs", "colleague_view", "job_view", "release_view"]

log = logging.getLogger(__name__)

THUMBNAILS_MAX = 30  # thumbnails fetched per job list (the first ones: what a screen shows)
THUMBNAIL_BYTES_MAX = 256 * 1024  # a bigger PNG is not shown (the hub sends none bigger)


class HeldJobs(TerminalCore):
    """The session's held jobs (see the module docstring)."""

    async def _load_jobs(self) -> None:
        session = self._session
        if session is None or session.offline:
            return
        try:
            jobs = await self.hub.list_jobs(session.token)
        except (NotSupported, Refused) as exc:
            log.info("terminal: the hub offers no held jobs: %s", exc)
            self._set(jobs=(), jobs_supported=False)
            return
        except HubCallError as exc:
            log.info("terminal: jobs not listed: %s", exc)
            self._set(jobs=())
            return
        self._set(
            jobs=tuple(job_view(job, self._thumbnails.get(job.job_id, b"")) for job in jobs),
            jobs_supported=True,
        )
        await self._load_thumbnails()

    async def _load_thumbnails(self) -> None:
        """Fetch the thumbnails of the first listed jobs not fetched yet in this session (an empty
        or oversized answer is remembered as none), then show them."""
        missing = [
            job.job_id for job in self._state.jobs[:THUMBNAILS_MAX] if job.job_id not in self._thumbnails
        ]
        for job_id in missing:
            png = await self.thumbnail(job_id)
            if self._session is None:
                return
            self._thumbnails[job_id] = png if png and len(png) <= THUMBNAIL_BYTES_MAX else b""
        if missing:
            self._set(
                jobs=tuple(
                    replace(job, thumbnail_png=self._thumbnails.get(job.job_id, b""))
                    for job in self._state.jobs
                )
            )

    async def thumbnail(self, job_id: int) -> bytes | None:
        """A PNG of a held job's first page for the job list, or None (fetched on demand, not state)."""
        session = self._session
        if session is None or session.offline:
            return None
        try:
            return await self.hub.thumbnail(session.token, job_id)
        except HubCallError as exc:
            log.info("terminal: no thumbnail for job %d: %s", job_id, exc)
            return None

    async def _on_release_selected(self, intent: ReleaseSelected) -> None:
        overrides = dict(intent.overrides)
        jobs = tuple(JobRelease(job_id, overrides.get(job_id, JobOverrides())) for job_id in intent.job_ids)
        await self._release(jobs)

    async def _on_release_all(self, _intent: ReleaseAll) -> None:
        # The hub leaves jobs sent without a password out of "all"; with nothing else left,
        # say so instead of asking it.
        waiting = [job for job in self._state.jobs if not job.printed]
        if waiting and not any(job.owner_verified for job in waiting):
            self._message(MessageKey.RELEASE_PICK_UNVERIFIED)
            return
        await self._release(None)

    async def _release(self, jobs: tuple[JobRelease, ...] | None) -> None:
        """Release ``jobs`` (``None``: all of them) and show each job's progress."""
        session = self._session
        if session is None or session.offline or self._state.screen not in (Screen.HOME, Screen.COPYING):
            return
        if self._state.project_required and not self._state.project:
            self._message(MessageKey.PROJECT_REQUIRED)
            return
        back_to = self._state.screen
        key = f"release-{uuid.uuid4().hex}"
        self._set(screen=Screen.RELEASING, release=())
        progress: dict[int, ReleaseView] = {}
        try:
            updates = self.hub.release_jobs(
                session.token, jobs, project_code=self._state.project, idempotency_key=key
            )
            async for update in updates:
                progress[update.job_id] = release_view(update)
                self._set(release=tuple(progress.values()))
                self._activity()
        except (NotSupported, Refused) as exc:
            log.info("terminal: release refused: %s", exc)
            self._message(MessageKey.RELEASE_UNAVAILABLE)
        except HubUnreachable:
            self._set(offline=True)
            self._message(MessageKey.OFFLINE_MODE)
        except (HubRejected, DeviceRefused) as exc:
            self._refused_in_session(exc)
        else:
            printed = sum(1 for view in progress.values() if view.state == "printed")
            self._message(MessageKey.RELEASE_DONE, printed=printed, failed=len(progress) - printed)
        if self._session is not None:
            self._set(screen=back_to)
            await self._refresh_session()
            await self._load_jobs()

    async def _on_delete_jobs(self, intent: DeleteJobs) -> None:
        session = self._session
        if session is None or session.offline:
            return
        try:
            deleted = await self.hub.delete_jobs(session.token, list(intent.job_ids))
        except (NotSupported, Refused):
            self._message(MessageKey.RELEASE_UNAVAILABLE)
            return
        except HubCallError as exc:
            self._refused_in_session(exc)
            return
        self._message(MessageKey.JOBS_DELETED, deleted=deleted)
        await self._load_jobs()

    async def _refresh_session(self) -> None:
        session = self._session
        if session is None or session.offline:
            return
        try:
            fresh = await self.hub.get_session(session.token)
        except NotRecognised:
            # The hub ended the session (expired, user deactivated): leave with the panel locked.
            await self._logout(MessageKey.ACCESS_DENIED)
            return
        except HubCallError as exc:
            log.info("terminal: session not refreshed: %s", exc)
            return
        session.credit_cents = None if fresh.postpaid else fresh.available_cents
        self._set(**session_fields(fresh, keep_project=self._state.project), prices=self._hub_prices(fresh))


def job_view(job: HeldJob, thumbnail_png: bytes) -> JobView:
    """A held job as the job list shows it."""
    return JobView(
        job_id=job.job_id,
        name=job.name,
        owner=job.owner,
        pages=job.pages,
        color_pages=job.color_pages,
        copies=job.copies,
        duplex=job.duplex,
        price_cents=job.estimated_price_cents,
        delegated=job.delegated,
        printed=job.printed,
        allowed_mono=job.allowed_mono,
        allowed_duplex=job.allowed_duplex,
        allowed_fewer_copies=job.allowed_fewer_copies,
        price_per_copy_cents=job.price_per_copy_cents,
        price_mono_per_copy_cents=job.price_mono_per_copy_cents,
        price_duplex_per_copy_cents=job.price_duplex_per_copy_cents,
        price_mono_duplex_per_copy_cents=job.price_mono_duplex_per_copy_cents,
        owner_verified=job.owner_verified,
        analysing=job.analysing,
        may_have_printed=job.may_have_printed,
        thumbnail_png=thumbnail_png,
        favourite=job.favourite,
        delegates=tuple(colleague_view(colleague) for colleague in job.delegates),
        estimate_note=job.estimate_note,
        rule_note=job.rule_note,
    )


def colleague_view(colleague: Colleague) -> ColleagueView:
    """A colleague as the screens show them."""
    return ColleagueView(colleague.username, colleague.full_name, colleague.department)


def release_view(update: ReleaseProgress) -> ReleaseView:
    """One job's release progress as the state shows it."""
    return ReleaseView(
        job_id=update.job_id,
        state=update.state.value,
        pages_printed=update.pages_printed,
        charged_cents=update.charged_cents,
        message=update.message,
    )
