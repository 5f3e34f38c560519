"""Protocol-independent intake: owner resolution, streaming into the spool, analysis, expiry.

Both front-ends (IPP and LPD) call ``IntakeService``; it talks to the hub only through the
``JobRegistry`` interface and to disk only through the ``Spool``. Analysis runs in the
background after a job is stored, so a client never waits for Ghostscript: at most
``analysis_workers`` at once (``AnalysisQueue``), the others wait, and the job's
``state_reasons`` say which (``job-queued``, then ``job-interpreting``, then neither); the
record is updated (``update_job``) when the analysis is done. A running analysis checks every
``analysis_check_s`` that its job is still held with the same document and is killed when it
is not (deleted, cancelled, expired, through intake or behind its back by the hub);
``stop_analysis`` kills it at once. Plaintext for Ghostscript is written to a private (0700)
work directory, memory-backed when ``/dev/shm`` exists, and deleted at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from .analysis import AnalysisLimits, JobAnalysis, analyze_file
from .analysis_queue import AnalysisQueue
from .errors import JobNotFound, OwnerRefused, SpoolError, SpoolJobNotFound
from .ipp_codec import IppLimits
from .ipp_codes import JobState
from .jobs import (
    FINAL_STATES,
    REASON_ANALYSING,
    REASON_ANALYSIS_QUEUED,
    REASON_HELD,
    JobRecord,
    JobRegistry,
    PrintTicket,
)
from .spool import Spool, SpoolWriter
from .transfer import TransferLimits

__all__ = ["IntakeConfig", "IntakeService", "Submission"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IntakeConfig:
    """Intake settings with their defaults (all times in seconds)."""

    printer_name: str = "printgate"
    printer_info: str = "printgate secure print queue"
    printer_location: str = ""
    printer_make_and_model: str = "printgate pull-print hub"
    printer_organization: str = ""
    printer_organizational_unit: str = ""
    printer_geo_location: str = ""  # a "geo:" URI (RFC 5870); empty: unknown
    queue: str = "default"
    unknown_owner: Literal["refuse", "hold"] = "refuse"
    ipp_limits: IppLimits = field(default_factory=IppLimits)
    analysis: AnalysisLimits | None = field(default_factory=AnalysisLimits)
    analysis_bytes_max: int = 256 * 1024 * 1024
    analysis_workers: int = 1  # Ghostscript runs at once; more jobs wait ("job-queued")
    analysis_check_s: float = 1.0  # a running analysis checks this often that its job is held
    idle_timeout_s: float = 30.0
    # A request head must be complete this long after the connection opened or the previous
    # answer was sent (so it is also how long an idle kept-alive connection stays open).
    keepalive_timeout_s: float = 30.0
    # IPP request bodies and LPD connections: at least this average rate once the grace
    # period is over, and never longer than the deadline, whatever the rate. The grace is
    # the idle timeout: a desktop's filters may stream a document after a long first pause.
    body_min_bytes_per_s: int = 1024
    body_rate_grace_s: float = 30.0
    body_deadline_s: float = 3600.0
    header_bytes_max: int = 16 * 1024  # one request line or header line
    connections_max: int = 256  # IPP and LPD together; more are closed at once
    connections_per_address_max: int = 32  # from one client address, IPP and LPD together
    drain_bytes_max: int = 4 * 1024 * 1024
    lpd_control_bytes_max: int = 16 * 1024
    expiry_sweep_s: float = 60.0
    # Create-Job without Send-Document is aborted after this (IPP multiple-operation-time-out).
    multiple_operation_timeout_s: float = 120.0
    # IPP clients and HTTP Basic (over TLS only): "none" (every owner is only claimed),
    # "basic" (credentials optional; an authenticated user owns their jobs for sure) or
    # "required" (a job from a client without credentials is refused with HTTP 401).
    authentication: Literal["none", "basic", "required"] = "none"
    credential_cache_s: float = 60.0  # a verified username + password is trusted this long

    def __post_init__(self) -> None:
        """Refuse bounds that would switch a protection off (``ValueError``)."""
        positive = {
            "analysis_workers": self.analysis_workers,
            "analysis_check_s": self.analysis_check_s,
            "idle_timeout_s": self.idle_timeout_s,
            "body_min_bytes_per_s": self.body_min_bytes_per_s,
            "body_deadline_s": self.body_deadline_s,
            "connections_max": self.connections_max,
            "connections_per_address_max": self.connections_per_address_max,
        }
        if self.authentication not in ("none", "basic", "required"):
            raise ValueError('intake: authentication must be "none", "basic" or "required"')
        wrong = [name for name, value in positive.items() if not value > 0]
        if wrong or self.body_rate_grace_s < 0:
            raise ValueError(f"intake: {', '.join(wrong) or 'body_rate_grace_s'} must be positive")

    @property
    def transfer_limits(self) -> TransferLimits:
        """The bounds of one IPP request body or one LPD connection."""
        return TransferLimits(
            idle_timeout_s=self.idle_timeout_s,
            min_bytes_per_s=self.body_min_bytes_per_s,
            rate_grace_s=self.body_rate_grace_s,
            deadline_s=self.body_deadline_s,
        )


@dataclass(frozen=True)
class Submission:
    """Who submitted a job and what they asked for (already sanitised)."""

    submitted_by: str
    job_name: str
    document_format: str
    source: str
    ticket: PrintTicket = field(default_factory=PrintTicket)
    verified: bool = False  # submitted_by was authenticated, not merely claimed


class IntakeService:
    """Creates, stores, analyses, cancels and expires held jobs."""

    def __init__(
        self,
        registry: JobRegistry,
        spool: Spool,
        config: IntakeConfig | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.registry = registry
        self.spool = spool
        self.config = config or IntakeConfig()
        self.clock = clock
        self.started_at_s = clock()
        self.counters: dict[str, int] = {}
        self.analyses = AnalysisQueue(self.config.analysis_workers)
        self._work_dir: Path | None = None  # created on the first analysis

    def count(self, event: str) -> None:
        """Increment a named counter (rejections, jobs, timeouts) for metrics and tests."""
        self.counters[event] = self.counters.get(event, 0) + 1

    # ------------------------------------------------------------------ owners
    def resolve(self, submitted_by: str) -> str | None:
        """Map a sanitised submitter to a hub owner; ``OwnerRefused`` if policy refuses."""
        owner = self.registry.resolve_owner(submitted_by) if submitted_by else None
        if owner is None and self.config.unknown_owner == "refuse":
            self.count("owner_refused")
            raise OwnerRefused(f"{submitted_by or 'anonymous'!r} is not a hub user")
        return owner

    def owner_key(self, owner: str | None, submitted_by: str) -> str:
        """The spool's per-user limit key: the hub owner, or the unclaimed submitter."""
        return owner if owner is not None else f"unclaimed:{submitted_by}"

    # ------------------------------------------------------------------ jobs
    def new_record(self, submission: Submission, owner: str | None) -> JobRecord:
        """A fresh held record (not yet stored)."""
        now = self.clock()
        return JobRecord(
            owner=owner,
            submitted_by=submission.submitted_by,
            job_name=submission.job_name,
            document_format=submission.document_format,
            queue=self.config.queue,
            source=submission.source,
            created_at_s=now,
            expires_at_s=now + self.spool.policy(self.config.queue).expiry_s,
            ticket=submission.ticket,
            owner_verified=submission.verified and owner is not None,
        )

    def open_writer(self, owner: str | None, submitted_by: str) -> SpoolWriter:
        """A spool writer charged to this owner's limits (job-count limit checked now)."""
        return self.spool.open_writer(self.owner_key(owner, submitted_by), self.config.queue)

    async def write_stream(self, writer: SpoolWriter, chunks: AsyncIterator[bytes]) -> None:
        """Copy a document stream into ``writer`` chunk by chunk."""
        async for chunk in chunks:
            writer.write(chunk)

    def add_stored_job(self, record: JobRecord, writer: SpoolWriter) -> JobRecord:
        """Commit the spool entry, register the job and start its analysis."""
        entry = writer.commit()
        record = replace(record, spool_id=entry.spool_id, size_bytes=entry.size_bytes)
        record.expires_at_s = entry.expires_at_s
        record.state_reasons = self._held_reasons(record)
        with self._shred_on_error(entry.spool_id):
            record.job_id = self.registry.add_job(record)
        self.count("jobs_stored")
        log.info(
            "intake: job %d from %s (%s, %d bytes) held for %s",
            record.job_id,
            record.submitted_by,
            record.source,
            record.size_bytes,
            record.owner or "claiming",
        )
        self._start_analysis(record)
        return record

    def attach_document(self, record: JobRecord, writer: SpoolWriter, document_format: str) -> JobRecord:
        """Commit ``writer`` as the document of an existing (Create-Job) record."""
        entry = writer.commit()
        record = replace(
            record,
            spool_id=entry.spool_id,
            size_bytes=entry.size_bytes,
            document_format=document_format,
            expires_at_s=entry.expires_at_s,
        )
        record.state_reasons = self._held_reasons(record)
        with self._shred_on_error(entry.spool_id):
            self.registry.update_job(record)
        self.count("jobs_stored")
        self._start_analysis(record)
        return record

    @contextlib.contextmanager
    def _shred_on_error(self, spool_id: str) -> Iterator[None]:
        """A spool entry the registry failed to record would be orphaned: shred it."""
        try:
            yield
        except BaseException:
            self.spool.shred(spool_id)
            raise

    def cancel(self, job_id: int, requested_by: str) -> JobRecord:
        """Cancel via the registry, stop its analysis and shred the spooled document.

        ``requested_by`` must be a verified identity: the front-ends never pass a merely
        claimed name here."""
        record = self.registry.cancel_job(job_id, requested_by)
        self.stop_analysis(job_id)
        if record.spool_id:
            self.spool.shred(record.spool_id)
        return record

    def mark_printed(self, job_id: int) -> JobRecord:
        """Record that a released job printed: ``completed``, and shredded at once when its
        queue is private (other queues keep it for reprint until it expires)."""
        record = self.registry.get_job(job_id)
        if record is None:
            raise JobNotFound(job_id)
        record = replace(
            record,
            state=JobState.COMPLETED,
            state_reasons=("job-completed-successfully",),
            completed_at_s=self.clock(),
        )
        if record.spool_id and self.spool.release_done(record.spool_id):
            record.spool_id = None
        self.registry.update_job(record)
        return record

    def expire(self) -> list[int]:
        """Abort held jobs past their expiry, shred them and orphaned spool entries."""
        now = self.clock()
        expired = []
        for record in self.registry.list_jobs():
            if record.state not in FINAL_STATES and record.expires_at_s <= now:
                self.stop_analysis(record.job_id)
                if record.spool_id:
                    self.spool.shred(record.spool_id)
                self.registry.update_job(
                    replace(
                        record, state=JobState.ABORTED, state_reasons=("job-expired",), completed_at_s=now
                    )
                )
                expired.append(record.job_id)
        self.spool.expire(now)
        return expired

    # ------------------------------------------------------------------ analysis
    def _analysed(self, record: JobRecord) -> bool:
        return self.config.analysis is not None and record.size_bytes <= self.config.analysis_bytes_max

    def _held_reasons(self, record: JobRecord) -> tuple[str, ...]:
        """A freshly stored job's reasons: held, and waiting for analysis if it will get one."""
        return (REASON_HELD, REASON_ANALYSIS_QUEUED) if self._analysed(record) else (REASON_HELD,)

    def _start_analysis(self, record: JobRecord) -> None:
        if self._analysed(record):
            job_id = record.job_id
            self.analyses.submit(job_id, lambda: self._analyse(job_id))

    def stop_analysis(self, job_id: int) -> bool:
        """Kill ``job_id``'s analysis now, waiting or running (its Ghostscript process group
        dies before this job's worker is free again). The hub calls this when it deletes or
        expires a job itself; intake's own cancel and expiry do. False if there was none."""
        stopped = self.analyses.stop(job_id)
        if stopped:
            log.info("intake: analysis of job %d stopped", job_id)
        return stopped

    async def _analyse(self, job_id: int) -> None:
        try:
            await self._analyse_held_job(job_id)
        except Exception:  # a registry or disk failure must not go unseen in a background task
            log.exception("intake: analysis of job %d failed", job_id)

    async def _analyse_held_job(self, job_id: int) -> None:
        record = self.registry.get_job(job_id)
        limits = self.config.analysis
        if record is None or record.spool_id is None or limits is None or record.state in FINAL_STATES:
            return  # withdrawn while it waited for a worker
        spool_id = record.spool_id
        self._set_reasons(record, (REASON_HELD, REASON_ANALYSING))
        analysis: JobAnalysis | None = None
        try:
            analysis = await self._while_held(
                job_id, spool_id, asyncio.ensure_future(self.analyse_spooled(spool_id, limits))
            )
        except (SpoolJobNotFound, JobNotFound):
            pass  # shredded while we read it
        except SpoolError as error:
            log.error("intake: job %d cannot be analysed: %s", job_id, error)
        current = self.registry.get_job(job_id)
        if current is None or current.spool_id != spool_id or current.state in FINAL_STATES:
            return
        if current.state == JobState.PENDING_HELD:
            current.state_reasons = (REASON_HELD,)
        self.registry.update_job(replace(current, analysis=analysis or current.analysis))

    async def _while_held(
        self, job_id: int, spool_id: str, work: asyncio.Future[JobAnalysis]
    ) -> JobAnalysis | None:
        """``work``'s result, or None once the job is no longer held with this document
        (``work`` is then cancelled and its helper killed before this returns)."""
        try:
            while True:
                done, _ = await asyncio.wait({work}, timeout=self.config.analysis_check_s)
                if done:
                    return work.result()
                current = self.registry.get_job(job_id)
                if current is None or current.spool_id != spool_id or current.state in FINAL_STATES:
                    log.info("intake: job %d was withdrawn; its analysis is stopped", job_id)
                    return None
        finally:
            if not work.done():
                work.cancel()
                await asyncio.gather(work, return_exceptions=True)

    def _set_reasons(self, record: JobRecord, reasons: tuple[str, ...]) -> None:
        if record.state == JobState.PENDING_HELD and record.state_reasons != reasons:
            self.registry.update_job(replace(record, state_reasons=reasons))

    async def analyse_spooled(self, spool_id: str, limits: AnalysisLimits) -> JobAnalysis:
        """Decrypt ``spool_id`` to a private temporary file, analyse it, delete the file.

        Decryption runs in a thread, so a large document does not stall the event loop (and
        with it the hub's gRPC calls); a cancellation waits for that thread before the file
        is deleted, so no plaintext is left behind."""
        if self._work_dir is None:
            self._work_dir = Path(tempfile.mkdtemp(prefix="pg-intake-", dir=_memory_tmp()))
        path = self._work_dir / f"{spool_id}.doc"
        decrypt = asyncio.ensure_future(asyncio.to_thread(self._decrypt_to, spool_id, path))
        try:
            await asyncio.shield(decrypt)
            return await analyze_file(path, limits)
        finally:
            if not decrypt.done():
                await asyncio.gather(decrypt, return_exceptions=True)
            path.unlink(missing_ok=True)

    def _decrypt_to(self, spool_id: str, path: Path) -> None:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as stream:
            for chunk in self.spool.open_reader(spool_id):
                stream.write(chunk)

    async def wait_idle(self) -> None:
        """Wait until every background analysis has finished (tests, shutdown)."""
        await self.analyses.wait_idle()

    async def close(self) -> None:
        """Stop background work (killing running analyses) and remove the work directory."""
        await self.analyses.close()
        if self._work_dir is not None:
            for leftover in self._work_dir.glob("*"):
                leftover.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                self._work_dir.rmdir()
            self._work_dir = None


def _memory_tmp() -> str | None:
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None
