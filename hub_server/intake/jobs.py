"""Held-job records and the registry interface the hub implements.

Intake never stores jobs itself: it hands a ``JobRecord`` to a ``JobRegistry``. The hub
implements the registry over its storage (SQLite/PostgreSQL); ``InMemoryJobRegistry`` is the
shipped reference implementation, used by tests and by runs without a hub database.

Registry contract (every method is synchronous and called on the intake event loop, so it
must be quick, e.g. one local SQLite statement):

* ``resolve_owner(user_name)`` maps a submitted user name (authenticated IPP user,
  ``requesting-user-name`` or LPD ``P`` line, already sanitised) to a hub user id, or
  ``None`` if unknown. Intake then refuses the job or keeps it with ``owner=None``
  (held for claiming), per ``IntakeConfig.unknown_owner``.
* ``add_job(record)`` stores a new record and returns its job id (a positive int, unique,
  never reused); intake sets ``record.job_id`` from it.
* ``update_job(record)`` replaces the stored record with the same ``job_id`` (state,
  spool id, size, analysis change after Send-Document or expiry).
* ``get_job(job_id)`` returns the record or ``None``.
* ``list_jobs(owner=None)`` returns records (all when ``owner`` is None), oldest first.
* ``cancel_job(job_id, requested_by)`` marks the job canceled and returns the updated record;
  raises ``JobNotFound``, or ``JobNotCancelable`` if it is finished already or
  ``requested_by`` is neither its owner nor (for unclaimed jobs) its submitter. Intake calls
  it only for a requester whose identity was verified (HTTP authentication).

Record fields the hub should store and show:

* ``owner_verified``: True only when the owner proved who they are (HTTP authentication).
  A job whose owner merely claimed a name (IPP ``requesting-user-name``, LPD ``P`` line) is
  False: anyone on the network can submit one in anyone's name, so the terminal must not
  sweep it into "release all"; its owner picks it (or deletes it) explicitly.
* ``state_reasons`` of a held job carry where its analysis is: ``REASON_ANALYSIS_QUEUED``
  (waiting for a free analysis worker) or ``REASON_ANALYSING`` (Ghostscript running), besides
  ``REASON_HELD``. A terminal can say "still being analysed" from them.
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Protocol

from .analysis import JobAnalysis
from .errors import JobNotCancelable, JobNotFound
from .ipp_codes import JobState

__all__ = [
    "FINAL_STATES",
    "REASON_ANALYSING",
    "REASON_ANALYSIS_QUEUED",
    "REASON_HELD",
    "InMemoryJobRegistry",
    "JobRecord",
    "JobRegistry",
    "PrintTicket",
]

FINAL_STATES = frozenset({JobState.CANCELED, JobState.ABORTED, JobState.COMPLETED})
# job-state-reasons keywords (RFC 8011 section 5.3.8) of a held job.
REASON_HELD = "job-hold-until-specified"
REASON_ANALYSIS_QUEUED = "job-queued"  # "queued to be interpreted": waiting for an analysis worker
REASON_ANALYSING = "job-interpreting"  # Ghostscript is reading it now


@dataclass(frozen=True)
class PrintTicket:
    """What the submitter asked for (IPP job template attributes, LPD copies, PJL settings)."""

    copies: int = 1
    sides: str = "one-sided"
    print_color_mode: str = "auto"
    media: str | None = None


@dataclass
class JobRecord:
    """One held job as intake sees it. ``owner`` None means "held for claiming"."""

    owner: str | None
    submitted_by: str
    job_name: str
    document_format: str
    queue: str
    source: str
    created_at_s: float
    expires_at_s: float
    state: JobState = JobState.PENDING_HELD
    state_reasons: tuple[str, ...] = (REASON_HELD,)
    ticket: PrintTicket = field(default_factory=PrintTicket)
    spool_id: str | None = None
    size_bytes: int = 0
    analysis: JobAnalysis | None = None
    completed_at_s: float | None = None
    job_id: int = 0
    owner_verified: bool = False  # the owner authenticated; False: the name was only claimed


class JobRegistry(Protocol):
    """Where intake keeps job records (implemented by the hub over its storage)."""

    def resolve_owner(self, user_name: str) -> str | None:
        """The hub user id for a submitted user name, or None if unknown."""
        ...

    def add_job(self, record: JobRecord) -> int:
        """Store a new record; return its new job id."""
        ...

    def update_job(self, record: JobRecord) -> None:
        """Replace the stored record that has ``record.job_id``."""
        ...

    def get_job(self, job_id: int) -> JobRecord | None:
        """The record with ``job_id``, or None."""
        ...

    def list_jobs(self, owner: str | None = None) -> list[JobRecord]:
        """Records of ``owner`` (all records when None), oldest first."""
        ...

    def cancel_job(self, job_id: int, requested_by: str) -> JobRecord:
        """Cancel a job on behalf of ``requested_by``; return the updated record."""
        ...


class InMemoryJobRegistry:
    """A ``JobRegistry`` in a dict. ``users`` None accepts every name as its own hub user;
    otherwise names resolve case-insensitively to the matching entry of ``users``."""

    def __init__(self, users: set[str] | None = None) -> None:
        self._users = None if users is None else {user.casefold(): user for user in users}
        self._jobs: dict[int, JobRecord] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def resolve_owner(self, user_name: str) -> str | None:
        """See ``JobRegistry.resolve_owner``."""
        if self._users is None:
            return user_name or None
        return self._users.get(user_name.casefold())

    def add_job(self, record: JobRecord) -> int:
        """See ``JobRegistry.add_job``."""
        with self._lock:
            job_id = next(self._ids)
            self._jobs[job_id] = replace(record, job_id=job_id)
        return job_id

    def update_job(self, record: JobRecord) -> None:
        """See ``JobRegistry.update_job``."""
        with self._lock:
            if record.job_id not in self._jobs:
                raise JobNotFound(record.job_id)
            self._jobs[record.job_id] = replace(record)

    def get_job(self, job_id: int) -> JobRecord | None:
        """See ``JobRegistry.get_job``."""
        record = self._jobs.get(job_id)
        return None if record is None else replace(record)

    def list_jobs(self, owner: str | None = None) -> list[JobRecord]:
        """See ``JobRegistry.list_jobs``."""
        with self._lock:
            records = [r for r in self._jobs.values() if owner is None or r.owner == owner]
        return [replace(record) for record in records]

    def cancel_job(self, job_id: int, requested_by: str) -> JobRecord:
        """See ``JobRegistry.cancel_job``."""
        with self._lock:
            record = self._jobs.get(job_id)
            if record is None:
                raise JobNotFound(job_id)
            allowed = requested_by == record.owner or (
                record.owner is None and requested_by == record.submitted_by
            )
            if not allowed:
                raise JobNotCancelable(f"job {job_id} belongs to another user", not_owner=True)
            if record.state in FINAL_STATES:
                raise JobNotCancelable(f"job {job_id} is already {record.state.name.lower()}")
            record.state = JobState.CANCELED
            record.state_reasons = ("job-canceled-by-user",)
            record.completed_at_s = time.time()
            return replace(record)
