"""Pull-print release: list a user's held jobs with prices, release them to the terminal's
printer with overrides, delete them, recover after a crash, expire them.

Release of one job, step by step (each numbered write is one durable transaction):

1. Plan: the job's pages, colour pages, copies, duplex and paper, what the job rules make of
   it (:mod:`.rules_store`: deleted, forced duplex or mono, fewer copies, a printer group) and
   the user's overrides (only those allowed: colour to mono, simplex to duplex,
   fewer copies). Printer status first: a printer whose SNMP status shows a blocking error
   refuses the release before anything is reserved.
2. **Reserve** (write 1): the job goes ``held`` (or ``printed``, for a reprint) ->
   ``releasing`` conditionally, a ``print_releases`` attempt row is added, and the estimate
   moves from the charged account to ``system:holds`` (refused without credit, for a
   blocking quota, arrears, or a function/colour the user may not use). The job's owner is
   charged, also when a delegate releases it.
   The attempt is now *prepared* (``releasing``, no ``sending_us``): durable before the
   transport opens a connection.
3. **Sending** (write 2): the transport has spoken to the printer and not yet sent a byte of
   the document (its ``on_start`` hook); what the printer said is recorded with the attempt:
   the IPP job id Create-Job assigned, the page counter (PJL ``INFO PAGECOUNT`` over 9100, the
   SNMP counter otherwise, when the printer has an agent). Then the decrypted spool file
   streams to the printer, with the overrides.
4. **Sent** (write 3) once the transport has taken every byte of the document.
5. **Settle** (write 4, *charged*): the reservation is reversed and the actual usage posted as
   ``performed`` (pages from PJL USTATUS / IPP when the printer reports them, otherwise the
   estimate); the job is ``printed``. Private queues shred the document now.

A transport error while prepared reverses the reservation and puts the job back (FAILED,
nothing charged). One after the sending step asks the printer (below), as recovery does.

Crash recovery (:meth:`PrintJobs.recover` at hub start, and :meth:`PrintJobs.resolve` before
every release to the same printer): a prepared attempt sent nothing and fails. A sending or
sent one is settled by what the printer says (:mod:`hub_server.domain.release_outcome`):
printed (its pages charged, once: the settlement is one transaction keyed by the attempt),
not printed (failed, the job back to held), ask later (the job stays ``releasing``, listed
as "may have printed" and released by nobody until the printer answers), or unknown: the
estimate is charged and the job is ``printed`` with ``may_have_printed`` set, listed as
such; printing it again is a reprint the user asks for. Nothing is ever re-sent by recovery.

Idempotency: a release request's key, per job, names its attempt. A retry with the same key
of a job whose attempt printed answers PRINTED again without printing; one still running is
refused; one that failed may print (it never did). The ledger key of a reservation is
``<request key>:<job id>:<attempt id>``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any, NamedTuple

from hub_server.clock import Clock
from hub_server.config import HubConfig, PrintConfig
from hub_server.domain import account_names, guest_pins, ledger, quotas, replicas, validation
from hub_server.domain.accounts import arrears_cents, charge_account
from hub_server.domain.devices import (
    DEFAULT_GROUP,
    PrinterRecord,
    list_printers,
    printer_group_of_terminal,
    printer_of_terminal,
)
from hub_server.domain.jobs import (
    DELEGATING_OWNERS,
    JOBS_DELEGATED_TO,
    KEPT_FOR_REPRINT,
    Colleague,
    delegates_of_jobs,
    estimate_note,
    ipp_state_of,
    may_release,
)
from hub_server.domain.pricing import PricedLine, UsageLine, price_lines, unit_price
from hub_server.domain.release_outcome import Outcome, SnmpAgent, Verdict, ask_printer, snmp_page_counter
from hub_server.domain.rules_store import JobRules, groups_of, submitted_facts
from hub_server.domain.sessions import GUEST_ONLY_RELEASES
from hub_server.domain.sites import releasable_here
from hub_server.domain.store import Store
from hub_server.domain.usage import UsageReport, apply_usage
from hub_server.domain.users import permissions
from hub_server.errors import (
    InvalidRequest,
    NotFound,
    PermissionDenied,
    QuotaExceeded,
    Refused,
    UserBlocked,
)
from hub_server.intake import REASON_ANALYSING, REASON_ANALYSIS_QUEUED, JobState, Spool
from hub_server.rules import Ruling, evaluate
from hub_server.storage import Row, Tx
from mfp_adapters import (
    CommunityAuth,
    IppTransport,
    JobOverrides,
    LpdTransport,
    MfpError,
    MfpSnmp,
    Raw9100Transport,
    ReleaseTransport,
    SendStart,
    SnmpClient,
)
from mfp_adapters.mib import blocking_errors

__all__ = [
    "MAX_PAGE_SIZE",
    "JobView",
    "Overrides",
    "Plan",
    "PrintJobs",
    "Progress",
    "plan_job",
]

log = logging.getLogger(__name__)

MAX_PAGE_SIZE = 10_000
RESTARTED = "the hub restarted before the job was sent"
MAY_HAVE_PRINTED = "may have printed: the printer cannot say yet"
ASK_PRINTER_TIMEOUT_S = 10.0
MAX_KEY_CHARS = 96
# How long a spool entry without a job row, or an upload without a write, may be in progress
# (registering on another replica, a slow client) before the sweep takes it for a crash's leftover.
ORPHAN_GRACE_S = 600.0
THUMBNAIL_BYTES_MAX = 256 * 1024
# When does "the transport has every byte" happen? raw9100 and IPP stream the document to
# the printer: when our stream is exhausted. LPD spools it first: only when send() returns.
SENT_AT_STREAM_END = {"raw9100": True, "ipp": True, "lpd": False}


@dataclass(frozen=True)
class Overrides:
    """What the user asks to change at release (``copies`` 0: as submitted)."""

    mono: bool = False
    duplex: bool = False
    copies: int = 0


class JobQuote(NamedTuple):
    """A held job's pages (of one copy), copies and price before release."""

    pages: int
    copies: int
    price_cents: int
    estimate_note: str  # "" when the pages were counted
    rule_note: str  # what the job rules changed ("" when nothing)


@dataclass(frozen=True)
class Plan:
    """What will be printed and charged."""

    pages: int  # of one copy
    color_pages: int  # of one copy; 0 when printed in mono
    copies: int
    duplex: bool
    mono: bool
    paper: str
    estimated: bool  # pages unknown: ``unanalysed_pages`` assumed
    rule_note: str = ""  # what the job rules changed, for the user ("" when nothing)
    printer_group: str = ""  # the rules route the job to printers of this group ("": any)

    def lines(self, total_pages: int | None = None) -> list[UsageLine]:
        """Usage lines for the estimate, or for ``total_pages`` the printer reported.

        Reported pages are split mono first: when fewer pages printed than planned, the user
        is charged the cheaper pages; extra pages beyond the plan are charged as mono.
        """
        color = self.color_pages * self.copies
        mono = (self.pages - self.color_pages) * self.copies
        if total_pages is not None:
            color = min(color, max(0, total_pages - mono))
            mono = total_pages - color
        lines = [
            UsageLine("print", kind, self.paper, self.duplex, pages)
            for kind, pages in (("color", color), ("mono", mono))
            if pages
        ]
        return lines or [UsageLine("print", "mono", self.paper, self.duplex, 0)]

    def job_overrides(self) -> JobOverrides:
        """What the transport forces on the printer."""
        return JobOverrides(copies=self.copies, duplex=self.duplex, mono=self.mono)


class JobView(NamedTuple):
    """One job in a user's list (``ListJobs``; a tuple: thousands are built per call).
    ``per_copy``: one copy's price as is, in mono, in duplex and in mono duplex;
    ``owner_verified``: its owner authenticated when submitting it (False: the name was only
    claimed, so "release all" leaves it out); ``analysing``: its pages are still being counted;
    ``delegates``: the colleagues the owner passed this job on to (listed to the owner only)."""

    job_id: int
    name: str
    owner: str
    plan: Plan
    estimated_price_cents: int
    created_us: int
    expires_us: int
    delegated: bool
    printed: bool
    size_bytes: int
    document_format: str
    per_copy: tuple[int, int, int, int]
    owner_verified: bool
    analysing: bool
    may_have_printed: bool  # a release was cut off and the printer could not say what it printed
    favourite: bool = False
    delegates: tuple[Colleague, ...] = ()
    estimate_note: str = ""  # why the pages are estimated ("cannot be counted: …"), "" when counted


@dataclass(frozen=True)
class Progress:
    """One step of a release, streamed back per job."""

    job_id: int
    state: str  # sending, printed, failed, refused
    message: str = ""
    bytes_sent: int = 0
    pages_printed: int = 0
    pages_reported: bool = False
    charged_cents: int = 0


@dataclass(frozen=True)
class _Attempt:
    attempt_id: int
    job_id: int
    job_name: str
    spool_id: str
    plan: Plan
    estimate_cents: int


_JOB_COLUMNS = """j.id, j.owner_user_id, u.username AS owner, j.job_name, j.state, j.copies, j.sides,
    j.color_mode, j.page_count, j.color_pages, j.paper_size, j.doc_copies, j.doc_duplex,
    j.doc_grayscale, j.created_us, j.expires_us, j.completed_us, j.size_bytes, j.document_format,
    j.spool_id, j.favourite_us, j.queue, j.source"""


_LIST_COLUMNS = """j.id, j.owner_user_id, u.username AS owner, j.job_name, j.state, j.copies, j.sides,
    j.color_mode, j.page_count, j.color_pages, j.paper_size, j.doc_copies, j.doc_duplex, j.doc_grayscale,
    j.created_us, j.expires_us, j.size_bytes, j.document_format, j.favourite_us, j.owner_verified,
    j.state_reasons, j.may_have_printed, j.queue, j.source,
    CASE WHEN j.page_count IS NULL THEN j.analysis END AS unanalysed"""
_ANALYSIS_REASONS = frozenset({REASON_ANALYSIS_QUEUED, REASON_ANALYSING})
NOTHING_TO_RELEASE = "no jobs to release"
ONLY_CLAIMED = (
    "no jobs to release: jobs sent without a password are not released by 'all'; pick them one by one"
)


# The columns plan_job reads besides the name.
_SHAPE_COLUMNS = (
    "copies",
    "sides",
    "color_mode",
    "page_count",
    "color_pages",
    "paper_size",
    "doc_copies",
    "doc_duplex",
    "doc_grayscale",
)


def plan_job(row: Row, requested: Overrides | None, policy: PrintConfig, ruled: Ruling) -> Plan:
    """Apply what the job rules made of a job (``ruled``: the outcome for its
    :func:`~hub_server.domain.rules_store.submitted_facts`) and
    the user's overrides to it (see the module docstring).

    Raises :class:`Refused` for a job the rules delete, :class:`PermissionDenied` for an
    override the admin does not allow or more copies than the rules leave.
    """
    if ruled.deleted:
        raise Refused(f"job {row['job_name']!r} is deleted by the print rules: {ruled.reason}")
    analysed = row["page_count"] is not None
    pages = int(row["page_count"]) if analysed else policy.unanalysed_pages
    color_pages = int(row["color_pages"] or 0) if analysed else 0
    copies, duplex, mono = ruled.copies, ruled.duplex, ruled.mono
    requested = requested or Overrides()
    if requested.mono and not mono:
        _allowed(policy.allow_to_mono, "printing in mono")
        mono = True
    if requested.duplex and not duplex:
        _allowed(policy.allow_to_duplex, "printing in duplex")
        duplex = True
    if requested.copies and requested.copies != copies:
        if requested.copies > copies:
            raise PermissionDenied(f"at most {copies} copies")
        _allowed(policy.allow_fewer_copies, "fewer copies")
        copies = requested.copies
    return Plan(
        pages=pages,
        color_pages=0 if mono else color_pages,
        copies=copies,
        duplex=duplex,
        mono=mono,
        paper=row["paper_size"] or "*",
        estimated=not analysed,
        rule_note=ruled.reason,
        printer_group=ruled.printer_group,
    )


def _allowed(allowed: bool, what: str) -> None:
    if not allowed:
        raise PermissionDenied(f"{what} is not allowed here")


class _Prices:
    """Unit print prices of one printer group, looked up once per combination."""

    def __init__(self, tx: Tx, group: str) -> None:
        self.tx, self.group = tx, group
        self._cache: dict[tuple[str, str, bool], int] = {}

    def unit(self, color: str, paper: str, duplex: bool) -> int:
        key = (color, paper, duplex)
        if key not in self._cache:
            self._cache[key] = unit_price(self.tx, self.group, UsageLine("print", color, paper, duplex, 0))
        return self._cache[key]

    def estimate(self, plan: Plan) -> int:
        """What ``plan.lines()`` costs (the same arithmetic, without building lines)."""
        return self._cost(plan.pages * plan.copies, plan.color_pages * plan.copies, plan.paper, plan.duplex)

    def _cost(self, pages: int, color_pages: int, paper: str, duplex: bool) -> int:
        mono = pages - color_pages
        total = color_pages * self.unit("color", paper, duplex) if color_pages else 0
        return total + (mono * self.unit("mono", paper, duplex) if mono else 0)

    def per_copy(self, plan: Plan) -> tuple[int, int, int, int]:
        """One copy of ``plan`` as is, in mono, in duplex and in mono duplex."""
        pages, color, paper = plan.pages, plan.color_pages, plan.paper
        return (
            self._cost(pages, color, paper, plan.duplex),
            self._cost(pages, 0, paper, plan.duplex),
            self._cost(pages, color, paper, True),
            self._cost(pages, 0, paper, True),
        )


def _check_guest_limits(tx: Tx, job_id: int, lines: list[PricedLine]) -> None:
    """Refuse a guest job over the limits its code was issued under, at this printer's prices."""
    limits = guest_pins.guest_limits(tx, job_id)
    if limits is None:
        raise Refused(GUEST_ONLY_RELEASES)
    pages = sum(line.pages for line in lines)
    cents = sum(line.amount_cents for line in lines)
    if pages > limits.pages_max or cents > limits.price_max_cents:
        raise Refused(
            f"job {job_id} is over the guest limit here ({pages} pages, {cents} cents;"
            f" at most {limits.pages_max} pages, {limits.price_max_cents} cents)"
        )


def _nothing(job_id: int) -> None:
    """The default withdrawal hook: no intake to tell."""


def transport_for(printer: PrinterRecord) -> ReleaseTransport:
    """The release transport of a printer (``address`` is ``host[:port]`` or an ipp:// URI)."""
    if printer.transport == "ipp":
        uri = printer.address if "://" in printer.address else f"ipp://{printer.address}/ipp/print"
        return IppTransport(uri)
    host, _, port = printer.address.rpartition(":") if ":" in printer.address else (printer.address, "", "")
    if printer.transport == "lpd":
        return LpdTransport(host, int(port or 515))
    return Raw9100Transport(host, int(port or 9100))


class PrintJobs:
    """The hub's print-job use cases over its database and the intake spool."""

    def __init__(
        self,
        store: Store,
        config: HubConfig,
        clock: Clock,
        spool: Spool,
        rules: JobRules,
        transports: Callable[[PrinterRecord], ReleaseTransport] = transport_for,
        replica_id: str = "",
    ) -> None:
        self.store = store
        self.rules = rules
        self.replica_id = replica_id
        self.config = config
        self.policy = config.printing
        self.clock = clock
        self.spool = spool
        self.transports = transports
        self._sending: set[asyncio.Future[Progress]] = set()
        # Called with the id of every job the hub deletes or expires (the server points it at
        # intake's ``stop_analysis``, so a withdrawn job's analysis is killed at once).
        self.withdrawn: Callable[[int], object] = _nothing
        self._in_flight: set[int] = set()  # attempt ids this process is sending

    # -- listing ------------------------------------------------------------------------------

    def _since_us(self, now_us: int) -> int:
        return now_us - int(self.policy.reprint_hours * 3600 * 1_000_000)

    def list_jobs(
        self,
        terminal_id: str,
        user_id: int,
        limit: int = 0,
        after_job_id: int = 0,
        printer_group: str = "",
        only_job_id: int = 0,
    ) -> tuple[list[JobView], int]:
        """Held jobs of the user, of those who delegate to them and those passed on to them, and
        printed ones kept for a reprint (recent, or favourites), oldest first, priced at this
        terminal's printer group: one query for the owners, one (by the owner/state index) for
        their jobs, one for the colleagues the user passed jobs on to, one per kind of price.

        ``limit`` (0: all, at most :data:`MAX_PAGE_SIZE`) jobs with ids above ``after_job_id``;
        returns them and the id to continue after (0: no more). ``printer_group`` prices them
        at that group instead of the terminal's (the web portal, which is at no printer).
        ``only_job_id``: a guest's release session, which sees that job while it is held."""
        if limit < 0:
            raise InvalidRequest("page_size must be >= 0 and page_token one this hub returned")
        limit = min(limit, MAX_PAGE_SIZE)
        since_us = self._since_us(self.clock.now_us())

        def read(tx: Tx) -> tuple[list[JobView], int]:
            prices = _Prices(tx, printer_group or printer_group_of_terminal(tx, terminal_id))
            owners = [
                int(row["id"])
                for row in tx.execute(
                    f"SELECT id FROM users WHERE id = :u OR id IN ({DELEGATING_OWNERS})", {"u": user_id}
                )
            ]
            marks = ", ".join(f":o{index}" for index in range(len(owners)))
            rows = tx.execute(
                f"""SELECT {_LIST_COLUMNS} FROM print_jobs j JOIN users u ON u.id = j.owner_user_id
                    WHERE (j.owner_user_id IN ({marks}) OR j.id IN ({JOBS_DELEGATED_TO}))
                      AND j.state IN ('held', 'printed', 'releasing')
                      AND (j.state = 'held' OR (j.state = 'releasing' AND j.may_have_printed = 1)
                           OR (j.state = 'printed' AND j.spool_id IS NOT NULL AND {KEPT_FOR_REPRINT}))
                      AND j.id > :after {f"AND {releasable_here()}" if terminal_id else ""}
                      {"AND j.id = :only AND j.state = 'held'" if only_job_id else ""}
                    ORDER BY j.id {"LIMIT :limit" if limit else ""}""",
                {
                    "terminal": terminal_id,
                    "u": user_id,
                    "since": since_us,
                    "after": after_job_id,
                    "only": only_job_id,
                    "limit": limit + 1,
                    **{f"o{index}": owner for index, owner in enumerate(owners)},
                },
            )
            delegates = delegates_of_jobs(tx, user_id)
            more = bool(limit) and len(rows) > limit
            rows = rows[:limit] if more else rows
            rules = self.rules.current(tx)
            groups = groups_of(tx, sorted({int(row["owner_user_id"]) for row in rows}))
            group_prices = {prices.group: prices}
            # Jobs come in few shapes (pages, colour, copies, sides): plan and price each shape once.
            plans: dict[tuple[Any, ...], tuple[Plan, int, tuple[int, int, int, int]]] = {}
            views = []
            for row in rows:
                owner_groups = groups.get(int(row["owner_user_id"]), frozenset())
                ruled = evaluate(rules, submitted_facts(row, self.policy.unanalysed_pages, owner_groups))
                if ruled.deleted:
                    continue  # a job the rules delete cannot be released: not offered
                shape = (*(row[column] for column in _SHAPE_COLUMNS), ruled)
                if shape not in plans:
                    plan = plan_job(row, None, self.policy, ruled)
                    group = plan.printer_group or prices.group
                    priced = group_prices.setdefault(group, _Prices(tx, group))
                    plans[shape] = plan, priced.estimate(plan), priced.per_copy(plan)
                plan, estimate, per_copy = plans[shape]
                owner_id = row["owner_user_id"]
                views.append(
                    JobView(
                        row["id"],
                        row["job_name"],
                        row["owner"],
                        plan,
                        estimate,
                        row["created_us"],
                        row["expires_us"],
                        owner_id != user_id,
                        row["state"] == "printed",
                        row["size_bytes"],
                        row["document_format"],
                        per_copy,
                        bool(row["owner_verified"]),
                        not _ANALYSIS_REASONS.isdisjoint(str(row["state_reasons"]).split(",")),
                        bool(row["may_have_printed"]),
                        row["favourite_us"] is not None,
                        delegates.get(row["id"], ()),
                        estimate_note(row["unanalysed"]),
                    )
                )
            return views, (rows[-1]["id"] if more else 0)

        return self.store.read(read)

    def quote(self, job_id: int) -> JobQuote | None:
        """A held job's pages and price as submitted, at the default price list (what an
        e-mail reply can promise before anyone picks a printer); None when it is not held."""

        def read(tx: Tx) -> JobQuote | None:
            row = tx.one(
                f"SELECT {_LIST_COLUMNS} FROM print_jobs j JOIN users u ON u.id = j.owner_user_id"
                " WHERE j.id = :j AND j.state = 'held'",
                {"j": job_id},
            )
            if row is None:
                return None
            owner_id = int(row["owner_user_id"])
            facts = submitted_facts(
                row, self.policy.unanalysed_pages, groups_of(tx, [owner_id]).get(owner_id, frozenset())
            )
            ruled = self.rules.ruling(tx, facts)
            if ruled.deleted:
                return None
            plan = plan_job(row, None, self.policy, ruled)
            estimate = _Prices(tx, plan.printer_group or DEFAULT_GROUP).estimate(plan)
            return JobQuote(
                plan.pages, plan.copies, estimate, estimate_note(row["unanalysed"]), plan.rule_note
            )

        return self.store.read(read)

    def allowed_overrides(self) -> tuple[bool, bool, bool]:
        """(to mono, to duplex, fewer copies) as the admin allows."""
        return self.policy.allow_to_mono, self.policy.allow_to_duplex, self.policy.allow_fewer_copies

    def thumbnail(self, user_id: int, job_id: int) -> bytes:
        """The PNG of a job's first page (empty when analysis made none)."""

        def read(tx: Tx) -> bytes:
            row = tx.one("SELECT owner_user_id, thumbnail_png FROM print_jobs WHERE id = :j", {"j": job_id})
            if row is None or row["owner_user_id"] is None:
                raise NotFound(f"no job {job_id}")
            if not may_release(tx, job_id, int(row["owner_user_id"]), user_id):
                raise PermissionDenied("this job belongs to another user")
            png = bytes(row["thumbnail_png"] or b"")
            return png if len(png) <= THUMBNAIL_BYTES_MAX else b""

        return self.store.read(read)

    # -- deleting -----------------------------------------------------------------------------

    async def delete(self, user_id: int | None, job_ids: list[int]) -> int:
        """Cancel the user's own held (or printed) jobs (any user's: ``user_id`` None, for
        admins) and shred their documents. A job being printed is not touched."""
        now_us = self.clock.now_us()

        def cancel(tx: Tx) -> list[tuple[int, str]]:
            cancelled = []
            for job_id in job_ids:
                spool_id = tx.scalar("SELECT spool_id FROM print_jobs WHERE id = :j", {"j": job_id})
                row = tx.one(
                    "UPDATE print_jobs SET state = 'canceled', ipp_state = :s,"
                    " state_reasons = 'job-canceled-by-user', completed_us = :now, spool_id = NULL"
                    " WHERE id = :j AND (CAST(:u AS BIGINT) IS NULL OR owner_user_id = :u)"
                    " AND state IN ('held', 'printed')"
                    " RETURNING id",
                    {"s": int(JobState.CANCELED), "now": now_us, "j": job_id, "u": user_id},
                )
                if row is not None:
                    cancelled.append((job_id, spool_id or ""))
            return cancelled

        cancelled = await self.store.write(cancel)
        for job_id, spool_id in cancelled:
            self.withdrawn(job_id)
            if spool_id:
                self.spool.shred(spool_id)
        return len(cancelled)

    # -- releasing ----------------------------------------------------------------------------

    async def release(
        self,
        terminal_id: str,
        user_id: int,
        jobs: dict[int, Overrides],
        release_all: bool,
        project_code: str,
        key: str,
        only_job_id: int = 0,
    ) -> AsyncIterator[Progress]:
        """Release jobs one after the other, yielding progress (see the module docstring).
        ``only_job_id``: a guest's release session, which may release that job (once) only."""
        if any(overrides.copies < 0 for overrides in jobs.values()):
            raise InvalidRequest("copies must not be negative")
        validation.idempotency_key(key, MAX_KEY_CHARS)
        printer = self.store.read(lambda tx: printer_of_terminal(tx, terminal_id))
        resolved = await self.resolve(printer.id)
        if only_job_id:
            for job_id in sorted(set(jobs) - {only_job_id}):
                yield Progress(job_id, "refused", GUEST_ONLY_RELEASES)
            if not release_all and only_job_id not in jobs:
                return
            jobs = {only_job_id: jobs.get(only_job_id, Overrides())}
        elif release_all:
            # A job whose owner only claimed the name may have been sent by anyone: "all" leaves
            # it out, its owner picks it (or deletes it) explicitly.
            listed = [
                view
                for view in self.list_jobs(terminal_id, user_id)[0]
                if not view.printed and not view.may_have_printed
            ]
            jobs = {view.job_id: jobs.get(view.job_id, Overrides()) for view in listed if view.owner_verified}
            if not jobs and listed:
                raise InvalidRequest(ONLY_CLAIMED)
        if not jobs:
            raise InvalidRequest(NOTHING_TO_RELEASE)
        problem = await self.printer_problem(printer)
        for job_id, overrides in jobs.items():
            if resolved.get(job_id) in (Verdict.PRINTED, Verdict.UNKNOWN):
                # The user asked while the job showed "may have printed"; it did: not again unasked.
                yield Progress(
                    job_id, "refused", "printed before the hub restarted; release it again to reprint"
                )
                continue
            if problem:
                yield Progress(job_id, "refused", problem)
                continue
            async for progress in self._release_one(
                terminal_id, user_id, printer, job_id, overrides, project_code, key, bool(only_job_id)
            ):
                yield progress

    async def printer_problem(self, printer: PrinterRecord) -> str:
        """Why the printer cannot print now (its SNMP status), or "" when it can or has no agent."""
        agent = self.policy.printer_snmp.get(printer.name)
        if not agent:
            return ""
        host, _, port = agent.rpartition(":") if ":" in agent else (agent, "", "")
        client = SnmpClient(
            host,
            int(port or 161),
            CommunityAuth(self.policy.snmp_community),
            timeout_s=self.policy.snmp_timeout_s,
            retries=0,
        )
        try:
            async with client:
                status = await MfpSnmp(client).status()
        except MfpError as error:
            log.warning("release: status of printer %s unknown: %s", printer.name, error)
            if self.policy.snmp_unreachable == "refuse":
                return f"printer {printer.name} does not answer status queries; try again later"
            return ""
        blocking = blocking_errors(status.errors)
        if blocking or status.device == "down":
            return f"printer {printer.name} cannot print now: {', '.join(blocking) or 'device down'}"
        return ""

    async def _release_one(
        self,
        terminal_id: str,
        user_id: int,
        printer: PrinterRecord,
        job_id: int,
        overrides: Overrides,
        project_code: str,
        key: str,
        guest: bool,
    ) -> AsyncIterator[Progress]:
        now_us = self.clock.now_us()
        try:
            attempt = await self.store.write(
                lambda tx: self._reserve(
                    tx, terminal_id, user_id, printer, job_id, overrides, project_code, key, now_us, guest
                )
            )
        except (Refused, PermissionDenied, QuotaExceeded, NotFound) as error:
            yield Progress(job_id, "refused", str(error))
            return
        if isinstance(attempt, Progress):
            yield attempt  # this request printed the job before: answer again, print nothing
            return
        # The send runs as its own task, started before anything is yielded: a terminal that
        # hangs up mid-release does not leave the job half-done; it prints and settles (or fails
        # and refunds) all the same. In flight from now on: no resolve() of another release takes it.
        self._in_flight.add(attempt.attempt_id)
        task = asyncio.ensure_future(self._send(printer, attempt))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)
        yield Progress(job_id, "sending")
        yield await asyncio.shield(task)

    async def wait_releases(self, timeout_s: float) -> None:
        """Let releases in progress finish (hub shutdown); recovery handles what does not."""
        if self._sending:
            await asyncio.wait(list(self._sending), timeout=timeout_s)

    def _reserve(
        self,
        tx: Tx,
        terminal_id: str,
        user_id: int,
        printer: PrinterRecord,
        job_id: int,
        overrides: Overrides,
        project_code: str,
        key: str,
        now_us: int,
        guest: bool = False,
    ) -> _Attempt | Progress:
        row = tx.one(
            f"SELECT {_JOB_COLUMNS}, CASE WHEN {releasable_here()} THEN 1 ELSE 0 END AS releasable_here"
            " FROM print_jobs j JOIN users u ON u.id = j.owner_user_id WHERE j.id = :j",
            {"j": job_id, "terminal": terminal_id},
        )
        if row is None:
            raise NotFound(f"no job {job_id}")
        owner_id = int(row["owner_user_id"])
        if not may_release(tx, job_id, owner_id, user_id):
            raise PermissionDenied("this job belongs to another user")
        if not row["releasable_here"]:
            raise Refused(f"job {job_id} was printed at a site whose jobs do not roam: release it there")
        previous = tx.one(
            "SELECT id, state, pages_printed, pages_reported, charged_cents FROM print_releases"
            " WHERE job_id = :j AND release_key = :k AND state <> 'failed' ORDER BY id DESC",
            {"j": job_id, "k": key},
        )
        if previous is not None:
            if previous["state"] != "printed":
                raise Refused(f"job {job_id} {self._busy_reason(tx, job_id)}")
            return Progress(
                job_id,
                "printed",
                "already printed by this request",
                pages_printed=int(previous["pages_printed"] or 0),
                pages_reported=bool(previous["pages_reported"]),
                charged_cents=int(previous["charged_cents"] or 0),
            )
        state = row["state"]
        kept = int(row["completed_us"] or 0) >= self._since_us(now_us) or row["favourite_us"] is not None
        reprint = state == "printed" and kept
        if state == "releasing":
            raise Refused(f"job {job_id} {self._busy_reason(tx, job_id)}")
        if state != "held" and (guest or not reprint):  # a guest's code prints its job once
            raise Refused(f"job {job_id} is {state}")
        if not row["spool_id"]:
            raise Refused(f"the document of job {job_id} is gone")
        facts = submitted_facts(
            row, self.policy.unanalysed_pages, groups_of(tx, [owner_id]).get(owner_id, frozenset())
        )
        plan = plan_job(row, overrides, self.policy, self.rules.ruling(tx, facts))
        if plan.printer_group and plan.printer_group != printer.printer_group:
            raise Refused(
                f"job {job_id} prints only at printers of group {plan.printer_group!r} ({plan.rule_note})"
            )
        project = self._project(owner_id, user_id, project_code)
        lines = price_lines(tx, printer.printer_group, plan.lines())
        self._check_may_print(tx, owner_id, lines, now_us)
        if guest:
            _check_guest_limits(tx, job_id, lines)
        if not tx.execute(
            "UPDATE print_jobs SET state = 'releasing', ipp_state = :s, state_reasons = 'job-printing'"
            " WHERE id = :j AND state = :from RETURNING id",
            {"s": int(JobState.PROCESSING), "j": job_id, "from": state},
        ):
            raise Refused(f"job {job_id} is no longer {state}")
        attempt_id = int(
            tx.scalar(
                """INSERT INTO print_releases (job_id, release_key, user_id, charged_user_id, terminal_id,
                       state, from_state, plan, created_us, printer_id, transport)
                   VALUES (:j, :k, :u, :o, :t, 'releasing', :from, :plan, :now, :p, :tr) RETURNING id""",
                {
                    "j": job_id,
                    "k": key,
                    "u": user_id,
                    "o": owner_id,
                    "t": terminal_id,
                    "from": state,
                    "plan": json.dumps({"plan": asdict(plan), "project": project}),
                    "now": now_us,
                    "p": printer.id,
                    "tr": printer.transport,
                },
            )
        )
        replicas.claim(tx, attempt_id, self.replica_id)
        if guest:
            guest_pins.spend(tx, job_id, attempt_id, now_us)
        estimate = sum(line.amount_cents for line in lines)
        account, _, project_id = charge_account(tx, owner_id, project)
        claim = ledger.open_transaction(
            tx,
            kind="print-hold",
            recorded_us=now_us,
            idempotency=(
                "print-release",
                f"{key}:{job_id}:{attempt_id}",
                ledger.request_fingerprint({"job": job_id, "attempt": attempt_id, "estimate": estimate}),
            ),
            user_id=owner_id,
            terminal_id=terminal_id,
            project_id=project_id,
            description=f"reserved for print job {job_id}",
        )
        holds = ledger.create_account(tx, account_names.HOLDS, "system", now_us)
        ledger.post(
            tx, claim.transaction_id, [ledger.Posting(account, -estimate), ledger.Posting(holds, estimate)]
        )
        tx.execute(
            "UPDATE print_releases SET reservation_tx = :r WHERE id = :a",
            {"r": claim.transaction_id, "a": attempt_id},
        )
        return _Attempt(attempt_id, job_id, row["job_name"], row["spool_id"], plan, estimate)

    @staticmethod
    def _busy_reason(tx: Tx, job_id: int) -> str:
        flagged = tx.scalar("SELECT may_have_printed FROM print_jobs WHERE id = :j", {"j": job_id})
        return MAY_HAVE_PRINTED if flagged else "is being released already"

    @staticmethod
    def _project(owner_id: int, user_id: int, project_code: str) -> str:
        # A delegate's project is theirs, not the owner's: delegated jobs go to the owner's account.
        return project_code if owner_id == user_id else ""

    def _check_may_print(self, tx: Tx, owner_id: int, lines: list[PricedLine], now_us: int) -> None:
        allowed = permissions(tx, owner_id)
        if "print" not in allowed.allowed_functions:
            raise PermissionDenied("printing is not allowed for this user")
        if any(line.color == "color" and line.pages for line in lines) and not allowed.color_allowed:
            raise PermissionDenied("colour is not allowed for this user: release it in mono")
        if arrears_cents(tx, owner_id) > 0:
            raise UserBlocked("arrears from an earlier session must be paid first")
        for state in quotas.quota_states(tx, owner_id, now_us, self.config.timezone):
            need = quotas.amount_for(state.rule, lines)
            if state.rule.action == "block" and need and state.used + need > state.rule.limit:
                raise QuotaExceeded(
                    f"quota {state.rule.name!r} ({state.rule.limit} {state.rule.unit} per"
                    f" {state.rule.period}) would be exceeded"
                )

    async def _send(self, printer: PrinterRecord, attempt: _Attempt) -> Progress:
        at_stream_end = SENT_AT_STREAM_END.get(printer.transport, False)
        sent = {"bytes": 0, "marked": False, "sending": False}

        async def document() -> AsyncIterator[bytes]:
            for chunk in self.spool.open_reader(attempt.spool_id):
                sent["bytes"] += len(chunk)
                yield chunk
            if at_stream_end:
                await self._mark_sent(attempt.attempt_id)
                sent["marked"] = True

        async def on_start(start: SendStart) -> None:
            await self._mark_sending(printer, attempt.attempt_id, start)
            sent["sending"] = True

        pages: int | None = None
        try:
            transport = self.transports(printer)
            result = await transport.send(
                document(),
                f"printgate-{attempt.job_id}-{attempt.attempt_id}",
                attempt.plan.job_overrides(),
                on_start=on_start,
            )
            pages = result.pages_reported
        except Exception as error:
            message = str(error) or type(error).__name__
            if not sent["sending"]:
                await self.store.write(lambda tx: self._fail(tx, attempt.attempt_id, message))
                log.warning("release: job %d not printed: %s", attempt.job_id, message)
                return Progress(attempt.job_id, "failed", f"not printed: {message}", bytes_sent=sent["bytes"])
            log.warning(
                "release: job %d cut off after the first byte (%s): asking the printer",
                attempt.job_id,
                message,
            )
            return await self._conclude(printer, attempt, sent["bytes"])
        finally:
            self._in_flight.discard(attempt.attempt_id)
        if not sent["marked"]:
            await self._mark_sent(attempt.attempt_id)
        return await self._settle_and_report(attempt.attempt_id, pages, sent["bytes"])

    async def _conclude(self, printer: PrinterRecord, attempt: _Attempt, bytes_sent: int) -> Progress:
        """A release cut off after its sending step: settle it as the printer says."""
        row = self.store.read(
            lambda tx: tx.one("SELECT * FROM print_releases WHERE id = :a", {"a": attempt.attempt_id})
        )
        assert row is not None
        outcome = await self._ask(printer, row)
        await self._apply(row, outcome)
        job_id = attempt.job_id
        if outcome.verdict is Verdict.NOT_PRINTED:
            return Progress(job_id, "failed", f"not printed: {outcome.why}", bytes_sent=bytes_sent)
        if outcome.verdict is Verdict.ASK_LATER:
            return Progress(job_id, "failed", f"{MAY_HAVE_PRINTED} ({outcome.why})", bytes_sent=bytes_sent)
        charged = self.store.read(
            lambda tx: tx.one(
                "SELECT pages_printed, pages_reported, charged_cents FROM print_releases WHERE id = :a",
                {"a": attempt.attempt_id},
            )
        )
        assert charged is not None
        message = "printed" if outcome.verdict is Verdict.PRINTED else f"may have printed: {outcome.why}"
        return Progress(
            job_id,
            "printed",
            message,
            bytes_sent=bytes_sent,
            pages_printed=int(charged["pages_printed"] or 0),
            pages_reported=bool(charged["pages_reported"]),
            charged_cents=int(charged["charged_cents"] or 0),
        )

    def _agent(self, printer: PrinterRecord) -> SnmpAgent | None:
        address = self.policy.printer_snmp.get(printer.name)
        if not address:
            return None
        host, _, port = address.rpartition(":") if ":" in address else (address, "", "")
        return SnmpAgent(host, int(port or 161), self.policy.snmp_community, self.policy.snmp_timeout_s)

    async def _mark_sending(self, printer: PrinterRecord, attempt_id: int, start: SendStart) -> None:
        """Write 2: what the printer said before the first byte, so it can be asked after a crash."""
        counter = start.page_count
        if counter is None and start.printer_job_id is None:
            counter = await snmp_page_counter(self._agent(printer))
        now_us = self.clock.now_us()
        await self.store.write(
            lambda tx: tx.execute(
                "UPDATE print_releases SET sending_us = :now, printer_job_id = :j, page_count_before = :c"
                " WHERE id = :a AND state = 'releasing'",
                {"now": now_us, "j": start.printer_job_id, "c": counter, "a": attempt_id},
            )
        )

    async def _mark_sent(self, attempt_id: int) -> None:
        now_us = self.clock.now_us()
        await self.store.write(
            lambda tx: tx.execute(
                "UPDATE print_releases SET state = 'sent', sent_us = :now"
                " WHERE id = :a AND state = 'releasing'",
                {"now": now_us, "a": attempt_id},
            )
        )

    async def _settle_and_report(self, attempt_id: int, pages: int | None, bytes_sent: int) -> Progress:
        job_id, spool_id, printed, charged = await self.store.write(
            lambda tx: self._settle(tx, attempt_id, pages)
        )
        if spool_id and self.spool.release_done(spool_id):
            await self.store.write(
                lambda tx: tx.execute("UPDATE print_jobs SET spool_id = NULL WHERE id = :j", {"j": job_id})
            )
        return Progress(
            job_id,
            "printed",
            "printed",
            bytes_sent=bytes_sent,
            pages_printed=printed,
            pages_reported=pages is not None,
            charged_cents=charged,
        )

    def _settle(
        self, tx: Tx, attempt_id: int, pages: int | None, may_have_printed: bool = False
    ) -> tuple[int, str | None, int, int]:
        """Write 4: reverse the reservation, post the actual usage, job printed. Returns
        (job id, spool id, pages charged, cents charged)."""
        now_us = self.clock.now_us()
        # Claimed first, conditionally: a second settler (another replica's recovery) waits for
        # this row, then finds it settled and applies nothing.
        claimed = tx.execute(
            "UPDATE print_releases SET state = 'printed' WHERE id = :a AND state IN ('releasing', 'sent')"
            " RETURNING id",
            {"a": attempt_id},
        )
        attempt = tx.one(
            "SELECT r.*, j.spool_id FROM print_releases r JOIN print_jobs j ON j.id = r.job_id"
            " WHERE r.id = :a",
            {"a": attempt_id},
        )
        assert attempt is not None
        if not claimed:  # settled or failed already
            return (
                int(attempt["job_id"]),
                attempt["spool_id"],
                int(attempt["pages_printed"] or 0),
                int(attempt["charged_cents"] or 0),
            )
        stored = json.loads(attempt["plan"])
        plan = Plan(**stored["plan"])
        lines = plan.lines(pages)
        ledger.reverse(tx, int(attempt["reservation_tx"]), now_us, "print reservation settled")
        result = apply_usage(
            tx,
            UsageReport(
                user_id=int(attempt["charged_user_id"]),
                terminal_id=attempt["terminal_id"],
                idempotency_key=f"print-release:{attempt_id}",
                lines=lines,
                project_code=stored["project"],
                performed=True,
                description=f"print job {attempt['job_id']}",
            ),
            now_us,
            self.config.timezone,
        )
        printed = sum(line.pages for line in lines)
        tx.execute(
            """UPDATE print_releases SET state = 'printed', settle_tx = :s, pages_printed = :p,
                   pages_reported = :r, charged_cents = :c, finished_us = :now WHERE id = :a""",
            {
                "s": result.transaction_id,
                "p": printed,
                "r": int(pages is not None),
                "c": result.charged_cents,
                "now": now_us,
                "a": attempt_id,
            },
        )
        tx.execute(
            "UPDATE print_jobs SET state = 'printed', ipp_state = :s, may_have_printed = :m,"
            " state_reasons = 'job-completed-successfully', completed_us = :now WHERE id = :j",
            {"s": int(JobState.COMPLETED), "m": int(may_have_printed), "now": now_us, "j": attempt["job_id"]},
        )
        return int(attempt["job_id"]), attempt["spool_id"], printed, result.charged_cents

    def _fail(self, tx: Tx, attempt_id: int, message: str) -> None:
        """Never printed: reverse the reservation and put the job back where it was."""
        now_us = self.clock.now_us()
        # Conditional: an attempt already failed or settled (by another replica's recovery) is
        # left as it is, so its reservation is never reversed twice.
        attempt = tx.one(
            "UPDATE print_releases SET state = 'failed', message = :m, finished_us = :now"
            " WHERE id = :a AND state = 'releasing' RETURNING job_id, from_state, reservation_tx",
            {"m": message[:256], "now": now_us, "a": attempt_id},
        )
        if attempt is None:
            return
        ledger.reverse(tx, int(attempt["reservation_tx"]), now_us, "print job not printed")
        guest_pins.restore(tx, attempt_id)  # a guest's code was not spent by what never printed
        back = attempt["from_state"]
        reasons = "job-hold-until-specified" if back == "held" else "job-completed-successfully"
        tx.execute(
            "UPDATE print_jobs SET state = :st, ipp_state = :s, state_reasons = :r, may_have_printed = 0"
            " WHERE id = :j AND state = 'releasing'",
            {"st": back, "s": int(ipp_state_of(back)), "r": reasons, "j": attempt["job_id"]},
        )

    # -- start-up and housekeeping --------------------------------------------------------------

    async def recover(self) -> dict[int, Verdict]:
        """At start: settle every attempt a crash cut off (see the module docstring)."""
        verdicts = await self.resolve(None)
        if verdicts:
            log.warning(
                "release recovery: %s",
                ", ".join(f"job {job_id}: {verdict.value}" for job_id, verdict in verdicts.items()),
            )
        return verdicts

    async def resolve(self, printer_id: int | None) -> dict[int, Verdict]:
        """Settle the cut-off attempts (of one printer, or all): a prepared one failed, the
        others as their printer says. Attempts this process is sending are left alone.
        Returns the verdict by job id (ASK_LATER ones stay as they are).

        Only attempts no live replica is sending are taken (:func:`.replicas.orphaned`): this
        replica's own that it is not sending now, and those of replicas silent for good."""
        now_us = self.clock.now_us()

        def read(tx: Tx) -> Sequence[Row]:
            orphans = [
                attempt_id for attempt_id, _ in replicas.orphaned(tx, self.replica_id, now_us, own=True)
            ]
            if not orphans:
                return []
            marks = ", ".join(f":a{index}" for index in range(len(orphans)))
            return tx.execute(
                f"SELECT * FROM print_releases WHERE id IN ({marks})"
                " AND (CAST(:p AS BIGINT) IS NULL OR printer_id = :p) ORDER BY id",
                {"p": printer_id, **{f"a{index}": attempt_id for index, attempt_id in enumerate(orphans)}},
            )

        pending = self.store.read(read)
        verdicts: dict[int, Verdict] = {}
        for row in pending:
            attempt_id = int(row["id"])
            if attempt_id in self._in_flight:
                continue
            if row["state"] == "releasing" and row["sending_us"] is None:
                await self.store.write(partial(self._fail, attempt_id=attempt_id, message=RESTARTED))
                verdicts[int(row["job_id"])] = Verdict.NOT_PRINTED
                continue
            printer_id = row["printer_id"]
            printers = (
                [] if printer_id is None else self.store.read(partial(list_printers, printer_id=printer_id))
            )
            outcome = (
                await self._ask(printers[0], row)
                if printers
                else Outcome(Verdict.UNKNOWN, why="the printer is gone")
            )
            await self._apply(row, outcome)
            verdicts[int(row["job_id"])] = outcome.verdict
        return verdicts

    async def _ask(self, printer: PrinterRecord, row: Row) -> Outcome:
        transport = self.transports(printer)
        page_count_before = row["page_count_before"]
        printer_job_id = row["printer_job_id"]
        question = ask_printer(
            transport,
            None if printer_job_id is None else int(printer_job_id),
            None if page_count_before is None else int(page_count_before),
            self._agent(printer),
        )
        try:  # bounded: hub start and the next release wait for this answer
            return await asyncio.wait_for(question, ASK_PRINTER_TIMEOUT_S)
        except TimeoutError:
            return Outcome(Verdict.ASK_LATER, why=f"no answer within {ASK_PRINTER_TIMEOUT_S:.0f} s")

    async def _apply(self, row: Row, outcome: Outcome) -> None:
        attempt_id = int(row["id"])
        log.warning(
            "release: attempt %d of job %s: %s (%s)",
            attempt_id,
            row["job_id"],
            outcome.verdict.value,
            outcome.why,
        )
        if outcome.verdict is Verdict.PRINTED:
            await self.store.write(partial(self._settle, attempt_id=attempt_id, pages=outcome.pages))
        elif outcome.verdict is Verdict.NOT_PRINTED:
            await self.store.write(partial(self._fail, attempt_id=attempt_id, message=outcome.why))
        elif outcome.verdict is Verdict.UNKNOWN:
            await self.store.write(
                partial(self._settle, attempt_id=attempt_id, pages=None, may_have_printed=True)
            )
        else:
            await self.store.write(
                lambda tx: tx.execute(
                    "UPDATE print_jobs SET may_have_printed = 1 WHERE id = :j AND state = 'releasing'",
                    {"j": row["job_id"]},
                )
            )
            return
        spool_id = self.store.read(
            lambda tx: tx.scalar("SELECT spool_id FROM print_jobs WHERE id = :j", {"j": row["job_id"]})
        )
        if outcome.verdict is not Verdict.NOT_PRINTED and spool_id and self.spool.release_done(spool_id):
            await self.store.write(
                lambda tx: tx.execute(
                    "UPDATE print_jobs SET spool_id = NULL WHERE id = :j", {"j": row["job_id"]}
                )
            )

    def heartbeat(self) -> None:
        """Tell the other replicas this one is alive (its releases are not theirs to recover)."""
        now_us = self.clock.now_us()
        self.store.write_sync(lambda tx: replicas.beat(tx, self.replica_id, now_us))

    async def heartbeat_forever(self, interval_s: float = replicas.HEARTBEAT_S) -> None:
        """The heartbeat task (errors are logged, the task survives)."""
        while True:
            await asyncio.sleep(interval_s)
            try:
                await asyncio.to_thread(self.heartbeat)
            except Exception:  # a database hiccup: the next beat comes soon, well within the grace
                log.warning("print jobs: heartbeat not recorded", exc_info=True)

    def sweep(self) -> list[str]:
        """Expire held jobs past their time and drop printed documents past the reprint window
        (favourites are kept until unstarred); shred their spool files, and spool files no job
        refers to. Returns shredded spool ids."""
        now_us = self.clock.now_us()

        def expire(tx: Tx) -> tuple[list[int], list[str]]:
            expired = tx.execute(
                "UPDATE print_jobs SET state = 'expired', ipp_state = :s, state_reasons = 'job-expired',"
                " completed_us = :now WHERE state = 'held' AND expires_us <= :now AND favourite_us IS NULL"
                " RETURNING id, spool_id",
                {"s": int(JobState.ABORTED), "now": now_us},
            )
            stale = tx.execute(
                "SELECT id, spool_id FROM print_jobs WHERE spool_id IS NOT NULL"
                " AND (state IN ('canceled', 'expired', 'aborted')"
                "      OR (state = 'printed' AND completed_us < :since AND favourite_us IS NULL))",
                {"since": self._since_us(now_us)},
            )
            for row in stale:
                tx.execute("UPDATE print_jobs SET spool_id = NULL WHERE id = :j", {"j": row["id"]})
            spool_ids = [row["spool_id"] for row in [*expired, *stale] if row["spool_id"]]
            return [int(row["id"]) for row in expired], spool_ids

        withdrawn, spool_ids = self.store.write_sync(expire)
        for job_id in withdrawn:
            self.withdrawn(job_id)
        shredded = [spool_id for spool_id in spool_ids if self.spool.shred(spool_id)]
        return shredded + self.shred_orphans()

    def shred_orphans(self) -> list[str]:
        """Spool entries no job row refers to (a crash between spooling and registering), and
        uploads abandoned mid-stream. Entries younger than ``ORPHAN_GRACE_S`` are left alone:
        with a spool shared by replicas, another replica may be registering them right now."""
        self.spool.drop_abandoned_uploads(ORPHAN_GRACE_S)
        known = {
            row["spool_id"]
            for row in self.store.read(
                lambda tx: tx.execute("SELECT spool_id FROM print_jobs WHERE spool_id IS NOT NULL")
            )
        }
        settled_before_s = self.clock.now_us() / 1_000_000 - ORPHAN_GRACE_S
        return [
            entry.spool_id
            for entry in self.spool.entries()
            if entry.spool_id not in known
            and entry.created_at_s < settled_before_s
            and self.spool.shred(entry.spool_id)
        ]

    async def sweep_forever(self, interval_s: float = 60.0) -> None:
        """The periodic expiry task, which also settles the releases a replica dead for good
        left behind (errors are logged, the task survives)."""
        while True:
            await asyncio.sleep(interval_s)
            try:
                shredded = self.sweep()
                await self.resolve(None)
            except Exception:  # a database hiccup must not end expiry for good
                log.exception("print jobs: expiry sweep failed")
                continue
            if shredded:
                log.info("print jobs: shredded %d expired documents", len(shredded))
