"""Held print jobs in the hub's database: the intake ``JobRegistry`` over SQL, and delegations.

Table ``print_jobs`` keeps one row per job (owner NULL while unclaimed). ``state`` is the hub's
word for where a job is (``held``, ``releasing``, ``printed``, ``canceled``, ``expired``,
``aborted``); ``ipp_state``/``state_reasons`` are what IPP clients see. Both are written
together here, from one mapping, so they never disagree. The analysis is stored as JSON, and
the figures the job list needs (pages, colour pages, paper, document settings) are copied
into their own columns so listing 2,000 jobs reads no JSON.

Registry calls run on the intake event loop: each is one short statement (reads through
``db.read``, writes through ``db.write_sync``).

Delegation: a user (the owner) lets another user or every member of a group release their
jobs (``job_delegations``, set by admins), or passes one job on to a colleague at a terminal
(``job_delegates``). Delegated jobs are charged to their owner.

Favourites: an owner stars a held or printed job (``favourite_us``); a favourite is neither
expired nor shredded by the reprint window until it is unstarred, at most
:data:`FAVOURITES_MAX` per user. A hub with private queues shreds every document once printed:
it keeps no favourites.

:class:`HeldJobs` is the domain object admins reach (delegations, the job list, claiming a job
held for an unknown submitter); :class:`JobSharing` the one terminals reach (favourites, passing a
job on, finding the colleague); releasing jobs is :mod:`.release`'s.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from hub_server.clock import Clock
from hub_server.domain.rules_store import IntakeRuling, JobRules
from hub_server.domain.sites import stamp_job
from hub_server.domain.store import Store
from hub_server.domain.users import USERNAME_IS, UserRef, group_id, resolve_user
from hub_server.domain.validation import MAX_LIST
from hub_server.errors import InvalidRequest, NotFound, PermissionDenied, QuotaExceeded, Refused
from hub_server.intake import (
    REASON_ANALYSING,
    REASON_ANALYSIS_QUEUED,
    DocumentSettings,
    JobAnalysis,
    JobNotCancelable,
    JobNotFound,
    JobRecord,
    JobState,
    PageInfo,
    PrintTicket,
)
from hub_server.storage import Row, Tx

__all__ = [
    "DELEGATES_PER_JOB_MAX",
    "DELEGATING_OWNERS",
    "FAVOURITES_MAX",
    "JOBS_DELEGATED_TO",
    "KEPT_FOR_REPRINT",
    "PAPER_NAMES",
    "SEARCH_LIMIT_MAX",
    "Colleague",
    "Delegation",
    "Favourites",
    "HeldJobs",
    "JobSharing",
    "PrintJobSummary",
    "SqlJobRegistry",
    "assign_owner",
    "delegate",
    "delegates_of",
    "delegates_of_jobs",
    "estimate_note",
    "hub_state",
    "list_delegations",
    "list_print_jobs",
    "may_release",
    "owners_delegating_to",
    "search_colleagues",
    "undelegate",
]

_COUNTING = frozenset({REASON_ANALYSIS_QUEUED, REASON_ANALYSING})


def _keep(spool_id: str) -> None:
    """No spool to shred (a registry without the print intake)."""


# PWG media names (what analysis reports) -> the paper names prices are set for.
PAPER_NAMES = {
    "iso_a3_297x420mm": "A3",
    "iso_a4_210x297mm": "A4",
    "iso_a5_148x210mm": "A5",
    "na_letter_8.5x11in": "Letter",
    "na_legal_8.5x14in": "Legal",
    "na_ledger_11x17in": "Ledger",
}

_IPP_OF_STATE = {
    "held": JobState.PENDING_HELD,
    "releasing": JobState.PROCESSING,
    "printed": JobState.COMPLETED,
    "canceled": JobState.CANCELED,
    "expired": JobState.ABORTED,
    "aborted": JobState.ABORTED,
}
_COLUMNS = (
    "j.id AS id, owner_user_id, u.username AS owner, submitted_by, job_name, document_format, queue, source,"
    " j.created_us, expires_us, ipp_state, state_reasons, copies, sides, color_mode, media, spool_id,"
    " size_bytes, analysis, thumbnail_png, completed_us, owner_verified"
)


def hub_state(state: JobState, reasons: tuple[str, ...]) -> str:
    """The hub's state word for an IPP job state."""
    if state == JobState.ABORTED:
        return "expired" if "job-expired" in reasons else "aborted"
    return {
        JobState.PROCESSING: "releasing",
        JobState.PROCESSING_STOPPED: "releasing",
        JobState.COMPLETED: "printed",
        JobState.CANCELED: "canceled",
    }.get(state, "held")


def ipp_state_of(state: str) -> JobState:
    """The IPP job state shown for a hub state word."""
    return _IPP_OF_STATE[state]


def _us(seconds: float | None) -> int | None:
    return None if seconds is None else round(seconds * 1_000_000)


def _s(microseconds: Any) -> float | None:
    return None if microseconds is None else int(microseconds) / 1_000_000


def _analysis_json(analysis: JobAnalysis) -> str:
    return json.dumps(
        {
            "document_format": analysis.document_format,
            "page_count": analysis.page_count,
            "pages": [
                [p.width_pt, p.height_pt, list(p.coverage_cmyk) if p.coverage_cmyk else None, p.color]
                for p in analysis.pages
            ],
            "settings": asdict(analysis.document_settings),
            "error": analysis.error,
        }
    )


def _analysis_from(text: str | None, thumbnail: Any) -> JobAnalysis | None:
    if text is None:
        return None
    data = json.loads(text)
    pages = tuple(
        PageInfo(width, height, tuple(coverage) if coverage else None, color)
        for width, height, coverage, color in data["pages"]
    )
    return JobAnalysis(
        document_format=data["document_format"],
        page_count=data["page_count"],
        pages=pages,
        document_settings=DocumentSettings(**data["settings"]),
        thumbnail_png=bytes(thumbnail) if thumbnail is not None else None,
        error=data["error"],
    )


def estimate_note(analysis_json: str | None) -> str:
    """Why a job's pages are estimated, from its stored analysis: the analysis's own words
    (``cannot be counted: <reason>`` for a PCL job the counter refuses), "" when none is known."""
    if analysis_json is None:
        return ""
    error = json.loads(analysis_json).get("error")
    return str(error) if error else ""


def _paper(analysis: JobAnalysis) -> str | None:
    papers = [paper for paper in analysis.papers if paper]
    return PAPER_NAMES.get(papers[0], "other") if papers else None


def _flag(value: bool | None) -> int | None:
    return None if value is None else int(value)


def _params(tx: Tx, record: JobRecord) -> dict[str, Any]:
    owner_id = None
    if record.owner is not None:
        owner_id = tx.scalar(f"SELECT id FROM users WHERE {USERNAME_IS}", {"u": record.owner})
        if owner_id is None:
            raise NotFound(f"no hub user {record.owner!r}")
    analysis = record.analysis
    settings = analysis.document_settings if analysis else DocumentSettings()
    return {
        "owner": owner_id,
        "submitted_by": record.submitted_by,
        "job_name": record.job_name,
        "document_format": record.document_format,
        "queue": record.queue,
        "source": record.source,
        "created": _us(record.created_at_s),
        "expires": _us(record.expires_at_s),
        "state": hub_state(record.state, record.state_reasons),
        "ipp_state": int(record.state),
        "reasons": ",".join(record.state_reasons),
        "copies": record.ticket.copies,
        "sides": record.ticket.sides,
        "color_mode": record.ticket.print_color_mode,
        "media": record.ticket.media,
        "spool_id": record.spool_id,
        "size": record.size_bytes,
        "analysis": _analysis_json(analysis) if analysis else None,
        "thumbnail": analysis.thumbnail_png if analysis else None,
        "page_count": analysis.page_count if analysis else None,
        "color_pages": analysis.color_page_count if analysis and analysis.page_count is not None else None,
        "paper": _paper(analysis) if analysis else None,
        "doc_copies": settings.copies,
        "doc_duplex": _flag(settings.duplex),
        "doc_grayscale": _flag(settings.grayscale),
        "completed": _us(record.completed_at_s),
        "owner_verified": int(record.owner_verified),
    }


# (column, parameter) pairs written by add_job and update_job.
_FIELDS = (
    ("owner_user_id", "owner"),
    ("submitted_by", "submitted_by"),
    ("job_name", "job_name"),
    ("document_format", "document_format"),
    ("queue", "queue"),
    ("source", "source"),
    ("created_us", "created"),
    ("expires_us", "expires"),
    ("state", "state"),
    ("ipp_state", "ipp_state"),
    ("state_reasons", "reasons"),
    ("copies", "copies"),
    ("sides", "sides"),
    ("color_mode", "color_mode"),
    ("media", "media"),
    ("spool_id", "spool_id"),
    ("size_bytes", "size"),
    ("analysis", "analysis"),
    ("thumbnail_png", "thumbnail"),
    ("page_count", "page_count"),
    ("color_pages", "color_pages"),
    ("paper_size", "paper"),
    ("doc_copies", "doc_copies"),
    ("doc_duplex", "doc_duplex"),
    ("doc_grayscale", "doc_grayscale"),
    ("completed_us", "completed"),
    ("owner_verified", "owner_verified"),
)
_INSERT = (
    f"INSERT INTO print_jobs ({', '.join(c for c, _ in _FIELDS)})"
    f" VALUES ({', '.join(':' + p for _, p in _FIELDS)}) RETURNING id"
)
# Once the hub released, printed, deleted or expired a job, its state is the hub's: an intake
# update built from an older read (analysis ending just then) changes the rest, not the state,
# and does not bring back the document of a deleted or expired job.
_HUB_STATES = "('releasing', 'printed', 'canceled', 'expired')"
_KEPT_COLUMNS = {
    "state": _HUB_STATES,
    "ipp_state": _HUB_STATES,
    "state_reasons": _HUB_STATES,
    "completed_us": _HUB_STATES,
    "spool_id": "('canceled', 'expired')",
}


def _assignment(column: str, parameter: str) -> str:
    if column in _KEPT_COLUMNS:
        return f"{column} = CASE WHEN state IN {_KEPT_COLUMNS[column]} THEN {column} ELSE :{parameter} END"
    return f"{column} = :{parameter}"


_UPDATE = (
    f"UPDATE print_jobs SET {', '.join(_assignment(c, p) for c, p in _FIELDS)} WHERE id = :id RETURNING id"
)


def _record(row: Row) -> JobRecord:
    reasons = tuple(reason for reason in str(row["state_reasons"]).split(",") if reason)
    return JobRecord(
        owner=row["owner"],
        submitted_by=row["submitted_by"],
        job_name=row["job_name"],
        document_format=row["document_format"],
        queue=row["queue"],
        source=row["source"],
        created_at_s=_s(row["created_us"]) or 0.0,
        expires_at_s=_s(row["expires_us"]) or 0.0,
        state=JobState(int(row["ipp_state"])),
        state_reasons=reasons,
        ticket=PrintTicket(
            copies=int(row["copies"]),
            sides=row["sides"],
            print_color_mode=row["color_mode"],
            media=row["media"],
        ),
        spool_id=row["spool_id"],
        size_bytes=int(row["size_bytes"]),
        analysis=_analysis_from(row["analysis"], row["thumbnail_png"]),
        completed_at_s=_s(row["completed_us"]),
        job_id=int(row["id"]),
        owner_verified=bool(row["owner_verified"]),
    )


def _get(tx: Tx, job_id: int) -> JobRecord | None:
    row = tx.one(
        f"SELECT {_COLUMNS} FROM print_jobs j LEFT JOIN users u ON u.id = j.owner_user_id WHERE j.id = :id",
        {"id": job_id},
    )
    return None if row is None else _record(row)


class SqlJobRegistry:
    """The intake ``JobRegistry`` over the hub database (see the module docstring).

    With ``rules``, a held job whose analysis is done (or that gets none) goes through the job
    rules as it is written: one they delete is cancelled in the same transaction and its
    document handed to ``shred`` once that is durable."""

    def __init__(
        self,
        store: Store,
        site: str = "",
        rules: JobRules | None = None,
        shred: Callable[[str], object] = _keep,
    ) -> None:
        self._store = store
        self._site = site  # the site whose replica this is: the jobs it takes in belong to it
        self._rules = rules
        self._shred = shred

    def resolve_owner(self, user_name: str) -> str | None:
        """An active hub user whose username matches case-insensitively, or None."""
        found = self._store.read(
            lambda tx: tx.scalar(
                f"SELECT username FROM users WHERE {USERNAME_IS} AND active = 1", {"u": user_name}
            )
        )
        return None if found is None else str(found)

    def add_job(self, record: JobRecord) -> int:
        """Insert a job row (of this replica's site); its id is the IPP job-id."""

        def add(tx: Tx) -> tuple[int, IntakeRuling | None]:
            job_id = int(tx.scalar(_INSERT, _params(tx, record)))
            stamp_job(tx, job_id, self._site)
            return job_id, self._ruled(tx, record, job_id)

        job_id, ruled = self._store.write_sync(add)
        self._after_rules(ruled)
        return job_id

    def update_job(self, record: JobRecord) -> None:
        """Replace the row of ``record.job_id``; ``JobNotFound`` when there is none."""

        def update(tx: Tx) -> IntakeRuling | None:
            params = {**_params(tx, record), "id": record.job_id}
            if not tx.execute(_UPDATE, params):
                raise JobNotFound(record.job_id)
            return self._ruled(tx, record, record.job_id)

        self._after_rules(self._store.write_sync(update))

    def _after_rules(self, ruled: IntakeRuling | None) -> None:
        """Once the transaction is durable: shred what the rules deleted, mail their notice."""
        if ruled is None:
            return
        if ruled.shred_spool_id:
            self._shred(ruled.shred_spool_id)
        if ruled.mail is not None and self._rules is not None:
            self._rules.send(ruled.mail)

    def _ruled(self, tx: Tx, record: JobRecord, job_id: int) -> IntakeRuling | None:
        """The rules over a held job that is counted (or will not be): what to do once committed
        (None when they did not run)."""
        counting = not _COUNTING.isdisjoint(record.state_reasons)
        if (
            self._rules is None
            or record.state != JobState.PENDING_HELD
            or counting
            or record.spool_id is None
        ):
            return None
        return self._rules.apply_at_intake(tx, job_id, time.time_ns() // 1000)

    def get_job(self, job_id: int) -> JobRecord | None:
        """The record, or None."""
        return self._store.read(lambda tx: _get(tx, job_id))

    def list_jobs(self, owner: str | None = None) -> list[JobRecord]:
        """Records of ``owner`` (a username), or all, oldest first."""
        where, params = (
            ("WHERE LOWER(u.username) = LOWER(:o)", {"o": owner}) if owner is not None else ("", {})
        )
        rows = self._store.read(
            lambda tx: tx.execute(
                f"SELECT {_COLUMNS} FROM print_jobs j LEFT JOIN users u ON u.id = j.owner_user_id"
                f" {where} ORDER BY j.id",
                params,
            )
        )
        return [_record(row) for row in rows]

    def cancel_job(self, job_id: int, requested_by: str) -> JobRecord:
        """Cancel for its owner (or, unclaimed, its submitter); a job being printed cannot be."""

        def cancel(tx: Tx) -> JobRecord:
            record = _get(tx, job_id)
            if record is None:
                raise JobNotFound(job_id)
            allowed = requested_by == record.owner or (
                record.owner is None and requested_by == record.submitted_by
            )
            if not allowed:
                raise JobNotCancelable(f"job {job_id} belongs to another user", not_owner=True)
            state = tx.scalar("SELECT state FROM print_jobs WHERE id = :id", {"id": job_id})
            if state != "held":
                raise JobNotCancelable(f"job {job_id} is {state}")
            tx.execute(
                "UPDATE print_jobs SET state = 'canceled', ipp_state = :s,"
                " state_reasons = 'job-canceled-by-user', completed_us = :now WHERE id = :id",
                {"s": int(JobState.CANCELED), "now": time.time_ns() // 1000, "id": job_id},
            )
            cancelled = _get(tx, job_id)
            assert cancelled is not None
            return cancelled

        return self._store.write_sync(cancel)


# -- delegation ----------------------------------------------------------------------------------


def delegate(tx: Tx, owner_id: int, user_id: int | None, group_id: int | None, now_us: int) -> bool:
    """Let a user or a group release ``owner_id``'s jobs; False if that delegation existed."""
    if (user_id is None) == (group_id is None):
        raise ValueError("delegate to exactly one user or one group")
    column = "delegate_user_id" if user_id is not None else "delegate_group_id"
    exists = tx.scalar(
        f"SELECT 1 FROM job_delegations WHERE owner_user_id = :o AND {column} = :d",
        {"o": owner_id, "d": user_id if user_id is not None else group_id},
    )
    if exists:
        return False
    tx.execute(
        "INSERT INTO job_delegations (owner_user_id, delegate_user_id, delegate_group_id, created_us)"
        " VALUES (:o, :u, :g, :now)",
        {"o": owner_id, "u": user_id, "g": group_id, "now": now_us},
    )
    return True


def undelegate(tx: Tx, owner_id: int, user_id: int | None, group_id: int | None) -> bool:
    """Withdraw a delegation; False if there was none."""
    column = "delegate_user_id" if user_id is not None else "delegate_group_id"
    return bool(
        tx.execute(
            f"DELETE FROM job_delegations WHERE owner_user_id = :o AND {column} = :d RETURNING id",
            {"o": owner_id, "d": user_id if user_id is not None else group_id},
        )
    )


@dataclass(frozen=True)
class Delegation:
    """``owner`` lets ``user`` (a user) or every member of ``group`` release their jobs."""

    owner: UserRef
    user: UserRef | None = None
    group: str = ""


def list_delegations(tx: Tx, owner_id: int | None = None) -> list[Delegation]:
    """Delegations (by username and group name), of one owner or all."""
    rows = tx.execute(
        """SELECT o.username AS owner, du.username AS delegate_user, g.name AS delegate_group
           FROM job_delegations d JOIN users o ON o.id = d.owner_user_id
           LEFT JOIN users du ON du.id = d.delegate_user_id
           LEFT JOIN user_groups g ON g.id = d.delegate_group_id
           WHERE (CAST(:o AS BIGINT) IS NULL OR d.owner_user_id = :o) ORDER BY o.username, d.id""",
        {"o": owner_id},
    )
    return [
        Delegation(
            owner=UserRef(username=str(row["owner"])),
            user=None if row["delegate_user"] is None else UserRef(username=str(row["delegate_user"])),
            group="" if row["delegate_user"] is not None else str(row["delegate_group"]),
        )
        for row in rows
    ]


# Ids of the owners who delegate to user ``:u`` (directly, by group or by department).
DELEGATING_OWNERS = """SELECT d.owner_user_id FROM job_delegations d
    WHERE d.delegate_user_id = :u
       OR d.delegate_group_id IN (SELECT group_id FROM group_members WHERE user_id = :u)
       OR d.delegate_group_id = (SELECT department_id FROM users WHERE id = :u)"""


def owners_delegating_to(tx: Tx, user_id: int) -> set[int]:
    """Ids of the users who let ``user_id`` release their jobs."""
    return {int(row["owner_user_id"]) for row in tx.execute(DELEGATING_OWNERS, {"u": user_id})}


def delegates_of(tx: Tx, owner_id: int, user_id: int) -> bool:
    """True when ``user_id`` may release ``owner_id``'s jobs (themselves included)."""
    return owner_id == user_id or owner_id in owners_delegating_to(tx, user_id)


_ADMIN_COLUMNS = """j.id, u.username AS owner, j.submitted_by, j.job_name, j.state, j.page_count,
    j.color_pages, j.copies, j.size_bytes, j.source, j.created_us, j.expires_us
    FROM print_jobs j LEFT JOIN users u ON u.id = j.owner_user_id"""


@dataclass(frozen=True)
class PrintJobSummary:
    """A job as admins list it (``pages`` -1: not analysed)."""

    id: int
    owner: str
    submitted_by: str
    name: str
    state: str
    pages: int
    color_pages: int
    copies: int
    size_bytes: int
    source: str
    created_us: int
    expires_us: int


def _summary(row: Row) -> PrintJobSummary:
    return PrintJobSummary(
        id=int(row["id"]),
        owner=str(row["owner"] or ""),
        submitted_by=str(row["submitted_by"]),
        name=str(row["job_name"]),
        state=str(row["state"]),
        pages=-1 if row["page_count"] is None else int(row["page_count"]),
        color_pages=int(row["color_pages"] or 0),
        copies=int(row["copies"]),
        size_bytes=int(row["size_bytes"]),
        source=str(row["source"]),
        created_us=int(row["created_us"]),
        expires_us=int(row["expires_us"]),
    )


def list_print_jobs(tx: Tx, owner_id: int | None, limit: int) -> list[PrintJobSummary]:
    """Jobs not yet cleaned away (newest first) for admins: one owner's or everyone's."""
    rows = tx.execute(
        f"""SELECT {_ADMIN_COLUMNS}
           WHERE (CAST(:o AS BIGINT) IS NULL OR j.owner_user_id = :o) ORDER BY j.id DESC LIMIT :n""",
        {"o": owner_id, "n": limit},
    )
    return [_summary(row) for row in rows]


def assign_owner(tx: Tx, job_id: int, owner_id: int) -> PrintJobSummary:
    """Claim a held job that has no owner for ``owner_id``; NotFound otherwise."""
    if not tx.execute(
        "UPDATE print_jobs SET owner_user_id = :o WHERE id = :j AND owner_user_id IS NULL AND state = 'held'"
        " RETURNING id",
        {"o": owner_id, "j": job_id},
    ):
        raise NotFound(f"no held job {job_id} waiting for an owner")
    row = tx.one(f"SELECT {_ADMIN_COLUMNS} WHERE j.id = :j", {"j": job_id})
    assert row is not None
    return _summary(row)


def _delegation_ids(tx: Tx, delegation: Delegation) -> tuple[int, int | None, int | None]:
    owner = resolve_user(tx, delegation.owner)
    if delegation.user is not None:
        return owner, resolve_user(tx, delegation.user), None
    if delegation.group:
        return owner, None, group_id(tx, delegation.group)
    raise InvalidRequest("a delegate user or group is needed")


class HeldJobs:
    """Held print jobs for admins: delegations, the job list, claiming unowned jobs."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def delegate(self, delegation: Delegation) -> None:
        """Add a delegation (adding one that exists changes nothing)."""
        now_us = self._clock.now_us()
        await self._store.write(lambda tx: delegate(tx, *_delegation_ids(tx, delegation), now_us))

    async def undelegate(self, delegation: Delegation) -> None:
        """Withdraw a delegation (:class:`NotFound` when there is none)."""

        def remove(tx: Tx) -> None:
            if not undelegate(tx, *_delegation_ids(tx, delegation)):
                raise NotFound("no such delegation")

        await self._store.write(remove)

    def delegations(self, owner: UserRef | None = None) -> list[Delegation]:
        """Every delegation, or one owner's."""
        return self._store.read(
            lambda tx: list_delegations(tx, None if owner is None else resolve_user(tx, owner))
        )

    def all(self, owner: UserRef | None = None, limit: int = 0) -> list[PrintJobSummary]:
        """Jobs newest first, of one owner or all (``limit`` 0 or above 1000: 1000)."""
        limit = min(limit or MAX_LIST, MAX_LIST)
        return self._store.read(
            lambda tx: list_print_jobs(tx, None if owner is None else resolve_user(tx, owner), limit)
        )

    async def assign(self, job_id: int, owner: UserRef) -> PrintJobSummary:
        """Give a job held for claiming to a user."""
        return await self._store.write(lambda tx: assign_owner(tx, job_id, resolve_user(tx, owner)))


# -- at the terminal: favourites and one job passed on to a colleague ----------------------------

FAVOURITES_MAX = 20  # starred jobs per user: each keeps its document on the spool
DELEGATES_PER_JOB_MAX = 10  # colleagues one job may be passed on to
SEARCH_QUERY_CHARS = (2, 64)  # a colleague search needs at least two characters
SEARCH_LIMIT_DEFAULT, SEARCH_LIMIT_MAX = 10, 20

# A printed job (alias ``j``) whose document is kept for a reprint: inside the reprint window
# (``:since``), or a favourite.
KEPT_FOR_REPRINT = "(j.completed_us >= :since OR j.favourite_us IS NOT NULL)"
# Ids of the jobs passed on to user ``:u`` one by one.
JOBS_DELEGATED_TO = "SELECT job_id FROM job_delegates WHERE user_id = :u"
# Jobs whose document is still there to print (a favourite counts while it is).
_LIVE = "state IN ('held', 'releasing', 'printed') AND spool_id IS NOT NULL"


@dataclass(frozen=True)
class Colleague:
    """Someone a job can be passed on to, as a terminal shows them."""

    username: str
    full_name: str
    department: str


@dataclass(frozen=True)
class Favourites:
    """A star set or taken away, and how many the owner has now (of ``maximum``)."""

    favourite: bool
    count: int
    maximum: int


def may_release(tx: Tx, job_id: int, owner_id: int, user_id: int) -> bool:
    """True when ``user_id`` may release (and see) job ``job_id`` of ``owner_id``: their own, an
    owner's who delegates all their jobs to them, or this one job passed on to them."""
    if delegates_of(tx, owner_id, user_id):
        return True
    found = tx.scalar(
        "SELECT 1 FROM job_delegates WHERE job_id = :j AND user_id = :u", {"j": job_id, "u": user_id}
    )
    return found is not None


def _own_live_job(tx: Tx, user_id: int, job_id: int) -> Row:
    row = tx.one("SELECT owner_user_id, state, spool_id FROM print_jobs WHERE id = :j", {"j": job_id})
    if row is None or row["owner_user_id"] is None:
        raise NotFound(f"no job {job_id}")
    if int(row["owner_user_id"]) != user_id:
        raise PermissionDenied("only the job's owner may do this")
    if row["state"] not in ("held", "releasing", "printed") or row["spool_id"] is None:
        raise Refused(f"job {job_id} is {row['state']}: its document is gone")
    return row


def _favourite_count(tx: Tx, user_id: int) -> int:
    return int(
        tx.scalar(
            "SELECT COUNT(*) FROM print_jobs"
            f" WHERE owner_user_id = :u AND favourite_us IS NOT NULL AND {_LIVE}",
            {"u": user_id},
        )
    )


def set_favourite(tx: Tx, user_id: int, job_id: int, favourite: bool, now_us: int) -> Favourites:
    """Star (or unstar) one of the user's own jobs whose document is still kept."""
    _own_live_job(tx, user_id, job_id)
    starred = tx.scalar("SELECT favourite_us FROM print_jobs WHERE id = :j", {"j": job_id}) is not None
    if favourite and not starred:
        if _favourite_count(tx, user_id) >= FAVOURITES_MAX:
            raise QuotaExceeded(f"at most {FAVOURITES_MAX} favourite jobs: take the star off one first")
        tx.execute("UPDATE print_jobs SET favourite_us = :now WHERE id = :j", {"now": now_us, "j": job_id})
    elif starred and not favourite:
        tx.execute("UPDATE print_jobs SET favourite_us = NULL WHERE id = :j", {"j": job_id})
    return Favourites(favourite, _favourite_count(tx, user_id), FAVOURITES_MAX)


def _like(text: str) -> str:
    """``text`` as a literal inside a LIKE pattern (escape character ``\\``)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_colleagues(tx: Tx, user_id: int, query: str, limit: int) -> list[Colleague]:
    """Active users other than ``user_id`` whose username starts with ``query`` or whose full name
    contains it (case-insensitive; username matches first), at most ``limit``
    (0: :data:`SEARCH_LIMIT_DEFAULT`, above :data:`SEARCH_LIMIT_MAX`: that many)."""
    query = query.strip()
    shortest, longest = SEARCH_QUERY_CHARS
    if not shortest <= len(query) <= longest or not query.isprintable():
        raise InvalidRequest(f"a search needs {shortest} to {longest} printable characters")
    if limit < 0:
        raise InvalidRequest("limit must be >= 0")
    folded = _like(query.lower())
    rows = tx.execute(
        """SELECT u.username, u.full_name, g.name AS department FROM users u
           LEFT JOIN user_groups g ON g.id = u.department_id
           WHERE u.active = 1 AND u.id <> :me
             AND (LOWER(u.username) LIKE :prefix ESCAPE '\\' OR LOWER(u.full_name) LIKE :part ESCAPE '\\')
           ORDER BY CASE WHEN LOWER(u.username) LIKE :prefix ESCAPE '\\' THEN 0 ELSE 1 END,
                    LOWER(u.full_name), u.username
           LIMIT :n""",
        {
            "me": user_id,
            "prefix": folded + "%",
            "part": "%" + folded + "%",
            "n": min(limit or SEARCH_LIMIT_DEFAULT, SEARCH_LIMIT_MAX),
        },
    )
    return [_colleague(row) for row in rows]


def _colleague(row: Row) -> Colleague:
    return Colleague(str(row["username"]), str(row["full_name"]), str(row["department"] or ""))


def delegates_of_jobs(tx: Tx, owner_id: int) -> dict[int, tuple[Colleague, ...]]:
    """The colleagues each of the owner's held or printed jobs is passed on to, by job id."""
    rows = tx.execute(
        """SELECT d.job_id, u.username, u.full_name, g.name AS department FROM job_delegates d
           JOIN print_jobs j ON j.id = d.job_id JOIN users u ON u.id = d.user_id
           LEFT JOIN user_groups g ON g.id = u.department_id
           WHERE j.owner_user_id = :o AND j.state IN ('held', 'printed') ORDER BY d.job_id, u.username""",
        {"o": owner_id},
    )
    found: dict[int, tuple[Colleague, ...]] = {}
    for row in rows:
        found[int(row["job_id"])] = (*found.get(int(row["job_id"]), ()), _colleague(row))
    return found


def _job_delegates(tx: Tx, job_id: int) -> list[Colleague]:
    rows = tx.execute(
        """SELECT u.username, u.full_name, g.name AS department FROM job_delegates d
           JOIN users u ON u.id = d.user_id LEFT JOIN user_groups g ON g.id = u.department_id
           WHERE d.job_id = :j ORDER BY u.username""",
        {"j": job_id},
    )
    return [_colleague(row) for row in rows]


def delegate_job(
    tx: Tx, owner_id: int, job_id: int, username: str, withdraw: bool, now_us: int
) -> list[Colleague]:
    """Pass one of the owner's jobs on to an active colleague (or take it back); returns the
    job's colleagues now. Passing it on twice changes nothing."""
    _own_live_job(tx, owner_id, job_id)
    found = tx.one("SELECT id, active FROM users WHERE username = :n", {"n": username})
    if found is None or (not withdraw and not found["active"]):
        raise NotFound(f"no active user {username[:64]!r}")
    colleague_id = int(found["id"])
    if colleague_id == owner_id:
        raise InvalidRequest("a job cannot be passed on to its owner")
    params = {"j": job_id, "u": colleague_id}
    if withdraw:
        if not tx.execute(
            "DELETE FROM job_delegates WHERE job_id = :j AND user_id = :u RETURNING job_id", params
        ):
            raise NotFound(f"job {job_id} is not passed on to {username!r}")
    elif tx.scalar("SELECT 1 FROM job_delegates WHERE job_id = :j AND user_id = :u", params) is None:
        count = int(tx.scalar("SELECT COUNT(*) FROM job_delegates WHERE job_id = :j", {"j": job_id}))
        if count >= DELEGATES_PER_JOB_MAX:
            raise QuotaExceeded(f"a job may be passed on to at most {DELEGATES_PER_JOB_MAX} colleagues")
        tx.execute(
            "INSERT INTO job_delegates (job_id, user_id, delegated_by, created_us) VALUES (:j, :u, :o, :now)",
            {**params, "o": owner_id, "now": now_us},
        )
    return _job_delegates(tx, job_id)


class JobSharing:
    """What a user does with their jobs at a terminal besides printing: favourites, passing a job
    on to a colleague, finding that colleague."""

    def __init__(self, store: Store, clock: Clock, *, keeps_printed: bool) -> None:
        self._store = store
        self._clock = clock
        self._keeps_printed = keeps_printed  # False with private queues: no favourites

    async def set_favourite(self, user_id: int, job_id: int, favourite: bool) -> Favourites:
        """Star or unstar one of the user's jobs (:class:`QuotaExceeded` beyond the bound)."""
        if favourite and not self._keeps_printed:
            raise Refused("this hub shreds every document once printed: it keeps no favourites")
        now_us = self._clock.now_us()
        return await self._store.write(lambda tx: set_favourite(tx, user_id, job_id, favourite, now_us))

    def search(self, user_id: int, query: str, limit: int = 0) -> list[Colleague]:
        """Colleagues to pass a job on to (see :func:`search_colleagues`)."""
        return self._store.read(lambda tx: search_colleagues(tx, user_id, query, limit))

    async def delegate(
        self, user_id: int, job_id: int, username: str, withdraw: bool = False
    ) -> list[Colleague]:
        """Pass one of the user's jobs on to ``username`` (or take it back); the job's colleagues now."""
        now_us = self._clock.now_us()
        return await self._store.write(
            lambda tx: delegate_job(tx, user_id, job_id, username, withdraw, now_us)
        )
