"""Protocol-independent intake: owner resolution, streaming into the spool, analysis, expiry.

Both front-ends (IPP and LPD) call ``IntakeService``; it talks to the hub only through the
``JobRegistry`` interface and to disk only through the ``Spool``. Analysis runs in the
background after a job is stored, so a client never waits for Ghostscript; the record is
updated (``update_job``) when the analysis is done. Plaintext for Ghostscript is written to
a private (0700) work directory, memory-backed when ``/dev/shm`` exists, and deleted at once.
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
from .errors import JobNotFound, OwnerRefused, SpoolError, SpoolJobNotFound
from .ipp_codec import IppLimits
from .ipp_codes import JobState
from .jobs import FINAL_STATES, JobRecord, JobRegistry, PrintTicket
from .spool import Spool, SpoolWriter

__all__ = ["IntakeConfig", "IntakeService", "Submission"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IntakeConfig:
    """Intake settings with their defaults (all times in seconds)."""

    printer_name: str = "printgate"
    printer_info: str = "printgate secure print queue"
    printer_location: str = ""
    printer_make_and_model: str = "printgate pull-print hub"
    queue: str = "default"
    unknown_owner: Literal["refuse", "hold"] = "refuse"
    ipp_limits: IppLimits = field(default_factory=IppLimits)
    analysis: AnalysisLimits | None = field(default_factory=AnalysisLimits)
    analysis_bytes_max: int = 256 * 1024 * 1024
    idle_timeout_s: float = 30.0
    keepalive_timeout_s: float = 60.0
    header_bytes_max: int = 16 * 1024
    connections_max: int = 256  # per listener kind together; more are closed at once
    drain_bytes_max: int = 4 * 1024 * 1024
    lpd_control_bytes_max: int = 16 * 1024
    expiry_sweep_s: float = 60.0
    # Create-Job without Send-Document is aborted after this (IPP multiple-operation-time-out).
    multiple_operation_timeout_s: float = 120.0
    authenticate: Callable[[str, str], bool] | None = None
    require_authentication: bool = False


@dataclass(frozen=True)
class Submission:
    """Who submitted a job and what they asked for (already sanitised)."""

    submitted_by: str
    job_name: str
    document_format: str
    source: str
    ticket: PrintTicket = field(default_factory=PrintTicket)


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
        self._analyses: set[asyncio.Task[None]] = set()
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
            state_reasons=("job-hold-until-specified",),
        )
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
        """Cancel via the registry and shred the spooled document."""
        record = self.registry.cancel_job(job_id, requested_by)
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
    def _start_analysis(self, record: JobRecord) -> None:
        if self.config.analysis is None or record.size_bytes > self.config.analysis_bytes_max:
            return
        task = asyncio.get_running_loop().create_task(self._analyse(record.job_id))
        self._analyses.add(task)
        task.add_done_callback(self._analyses.discard)

    async def _analyse(self, job_id: int) -> None:
        record = self.registry.get_job(job_id)
        if record is None or record.spool_id is None or self.config.analysis is None:
            return
        try:
            analysis = await self.analyse_spooled(record.spool_id, self.config.analysis)
        except (SpoolJobNotFound, JobNotFound):
            return  # cancelled or expired while we waited
        except SpoolError as error:
            log.error("intake: job %d cannot be analysed: %s", job_id, error)
            return
        current = self.registry.get_job(job_id)
        if current is not None and current.spool_id == record.spool_id:
            self.registry.update_job(replace(current, analysis=analysis))

    async def analyse_spooled(self, spool_id: str, limits: AnalysisLimits) -> JobAnalysis:
        """Decrypt ``spool_id`` to a private temporary file, analyse it, delete the file."""
        if self._work_dir is None:
            self._work_dir = Path(tempfile.mkdtemp(prefix="pg-intake-", dir=_memory_tmp()))
        path = self._work_dir / f"{spool_id}.doc"
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as stream:
                for chunk in self.spool.open_reader(spool_id):
                    stream.write(chunk)
            return await analyze_file(path, limits)
        finally:
            path.unlink(missing_ok=True)

    async def wait_idle(self) -> None:
        """Wait until every background analysis has finished (tests, shutdown)."""
        while self._analyses:
            await asyncio.gather(*list(self._analyses), return_exceptions=True)

    async def close(self) -> None:
        """Stop background work and remove the work directory."""
        for task in list(self._analyses):
            task.cancel()
        await asyncio.gather(*list(self._analyses), return_exceptions=True)
        if self._work_dir is not None:
            for leftover in self._work_dir.glob("*"):
                leftover.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                self._work_dir.rmdir()
            self._work_dir = None


def _memory_tmp() -> str | None:
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None
