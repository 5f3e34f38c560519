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
jobs (``job_delegations``). Delegated jobs are charged to their owner.

:class:`HeldJobs` is the domain object admins reach (delegations, the job list, claiming a job
held for an unknown submitter); releasing jobs is :mod:`.release`'s.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from typing import Any

from hub_server.clock import Clock
from hub_server.domain.store import Store
from hub_server.domain.users import UserRef, group_id, resolve_user
from hub_server.domain.validation import MAX_LIST
from hub_server.errors import InvalidRequest, NotFound
from hub_server.intake import (
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
    "DELEGATING_OWNERS",
    "PAPER_NAMES",
    "Delegation",
    "HeldJobs",
    "PrintJobSummary",
    "SqlJobRegistry",
    "assign_owner",
    "delegate",
    "delegates_of",
    "estimate_note",
    "hub_state",
    "list_delegations",
    "list_print_jobs",
    "owners_delegating_to",
    "undelegate",
]

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
    " size_bytes, analysis, thumbnail_png, completed_us"
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
        owner_id = tx.scalar("SELECT id FROM users WHERE username = :u", {"u": record.owner})
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
    )


def _get(tx: Tx, job_id: int) -> JobRecord | None:
    row = tx.one(
        f"SELECT {_COLUMNS} FROM print_jobs j LEFT JOIN users u ON u.id = j.owner_user_id WHERE j.id = :id",
        {"id": job_id},
    )
    return None if row is None else _record(row)


class SqlJobRegistry:
    """The intake ``JobRegistry`` over the hub database (see the module docstring)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def resolve_owner(self, user_name: str) -> str | None:
        """An active hub user whose username matches case-insensitively, or None."""
        found = self._store.read(
            lambda tx: tx.scalar(
                "SELECT username FROM users WHERE LOWER(username) = LOWER(:n) AND active = 1 ORDER BY id",
                {"n": user_name},
            )
        )
        return None if found is None else str(found)

    def add_job(self, record: JobRecord) -> int:
        """Insert a job row; its id is the IPP job-id."""

        return self._store.write_sync(lambda tx: int(tx.scalar(_INSERT, _params(tx, record))))

    def update_job(self, record: JobRecord) -> None:
        """Replace the row of ``record.job_id``; ``JobNotFound`` when there is none."""

        def update(tx: Tx) -> None:
            params = {**_params(tx, record), "id": record.job_id}
            if not tx.execute(_UPDATE, params):
                raise JobNotFound(record.job_id)

        self._store.write_sync(update)

    def get_job(self, job_id: int) -> JobRecord | None:
        """The record, or None."""
        return self._store.read(lambda tx: _get(tx, job_id))

    def list_jobs(self, owner: str | None = None) -> list[JobRecord]:
        """Records of ``owner`` (a username), or all, oldest first."""
        where, params = ("WHERE u.username = :o", {"o": owner}) if owner is not None else ("", {})
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
