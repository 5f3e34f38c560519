"""The terminal's durable journal of usage reports, and the replay that empties it.

Every usage report is written here, with its idempotency key, *before* it is first sent
(SQLite, WAL, ``synchronous=FULL``: a committed row survives a kill -9 or a power cut). It is
deleted only when the hub acknowledges it (``CREATED`` or ``ALREADY_APPLIED``). Replays go in
journal order, one at a time, with the same key every time, so the hub applies each report
exactly once however often the terminal crashes or the network drops. A report is stored as the
serialized ``ReportUsageRequest`` (:func:`terminal_app.hub.wire.encode_report`), the format of every
journal written so far.

A report the hub refuses for good (unknown session, idempotency conflict, a card nobody
owns) is kept with state ``failed`` and its reason, for an operator to look at; it is not
retried and does not block the reports behind it.

An unlocked copy session is recorded too (``open_copy_sessions``: the report it will become
and the counters at unlock), so a terminal that dies mid-session charges it at its next start
from the counters' difference (SNMP), instead of losing it.

Reports of offline sessions of users the terminal had not cached carry the card number
instead of a session token: the replay identifies the card once (``deferred_card``), stores
the token it got on the row, and then sends the report like any other.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from dataclasses import dataclass, replace

from terminal_app.errors import DeviceRefused, HubRejected, HubUnreachable, JournalError
from terminal_app.hub import HubClient
from terminal_app.hub.values import ReportReceipt, SecondFactorRequired, UsageReport
from terminal_app.hub.wire import decode_report, encode_report

__all__ = ["FlushResult", "Journal", "JournalEntry", "OpenCopy", "UsageSender"]

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS usage_journal (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    idempotency_key TEXT NOT NULL UNIQUE,
    request BLOB NOT NULL,
    deferred_card TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    created_us INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS open_copy_sessions (
    copy_id TEXT PRIMARY KEY,
    template BLOB NOT NULL,
    baseline TEXT NOT NULL,
    deferred_card TEXT NOT NULL DEFAULT '',
    started_us INTEGER NOT NULL
);
"""


@dataclass(frozen=True)
class JournalEntry:
    """One usage report waiting for the hub's acknowledgement."""

    seq: int
    report: UsageReport
    deferred_card: str
    state: str
    attempts: int
    last_error: str

    @property
    def key(self) -> str:
        """The report's idempotency key."""
        return self.report.idempotency_key


class Journal:
    """Usage reports in the order they were made (see the module docstring)."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection
        try:
            self._db.executescript(SCHEMA)
        except sqlite3.Error as exc:
            raise JournalError(f"cannot create the usage journal: {exc}") from exc

    def append(self, report: UsageReport, created_us: int, deferred_card: str = "") -> JournalEntry:
        """Store a report durably; returns it with its sequence number."""
        if not report.idempotency_key:
            raise JournalError("a journaled report needs its idempotency key")
        try:
            cursor = self._db.execute(
                "INSERT INTO usage_journal (idempotency_key, request, deferred_card, created_us)"
                " VALUES (?, ?, ?, ?)",
                (report.idempotency_key, encode_report(report), deferred_card, created_us),
            )
        except sqlite3.Error as exc:
            raise JournalError(f"cannot journal report {report.idempotency_key}: {exc}") from exc
        assert cursor.lastrowid is not None
        return JournalEntry(cursor.lastrowid, report, deferred_card, "pending", 0, "")

    def open_copy(self, copy: OpenCopy, started_us: int) -> None:
        """Remember an unlocked copy session durably, so a restart can still charge it."""
        try:
            self._db.execute(
                "INSERT INTO open_copy_sessions VALUES (?, ?, ?, ?, ?)",
                (
                    copy.copy_id,
                    encode_report(copy.template),
                    json.dumps(copy.baseline),
                    copy.deferred_card,
                    started_us,
                ),
            )
        except sqlite3.Error as exc:
            raise JournalError(f"cannot record copy session {copy.copy_id}: {exc}") from exc

    def open_copies(self) -> list[OpenCopy]:
        """Copy sessions left open (by a crash), oldest first."""
        rows = self._db.execute("SELECT * FROM open_copy_sessions ORDER BY started_us").fetchall()
        return [
            OpenCopy(
                copy_id=str(row["copy_id"]),
                template=decode_report(row["template"]),
                baseline={str(k): int(v) for k, v in json.loads(row["baseline"]).items()},
                deferred_card=str(row["deferred_card"]),
            )
            for row in rows
        ]

    def close_copy(self, copy: OpenCopy, report: UsageReport | None, created_us: int) -> None:
        """End a copy session: journal its report (if it made pages) and forget it, in one transaction."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
            if report is not None:
                self.append(report, created_us, deferred_card=copy.deferred_card)
            self._db.execute("DELETE FROM open_copy_sessions WHERE copy_id = ?", (copy.copy_id,))
            self._db.execute("COMMIT")
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise

    def pending(self) -> list[JournalEntry]:
        """Reports still to send, oldest first."""
        rows = self._db.execute("SELECT * FROM usage_journal WHERE state = 'pending' ORDER BY seq").fetchall()
        return [self._entry(row) for row in rows]

    def failed(self) -> list[JournalEntry]:
        """Reports the hub refused for good."""
        rows = self._db.execute("SELECT * FROM usage_journal WHERE state = 'failed' ORDER BY seq").fetchall()
        return [self._entry(row) for row in rows]

    def pending_count(self) -> int:
        """How many reports wait for the hub."""
        return int(
            self._db.execute("SELECT COUNT(*) FROM usage_journal WHERE state = 'pending'").fetchone()[0]
        )

    def acknowledge(self, key: str) -> None:
        """The hub applied the report: forget it."""
        self._db.execute("DELETE FROM usage_journal WHERE idempotency_key = ?", (key,))

    def attempted(self, key: str, error: str) -> None:
        """Count a send that did not get an answer."""
        self._db.execute(
            "UPDATE usage_journal SET attempts = attempts + 1, last_error = ? WHERE idempotency_key = ?",
            (error[:500], key),
        )

    def identified(self, key: str, token: str) -> None:
        """A deferred card was identified: keep its session token with the report."""
        row = self._db.execute(
            "SELECT request FROM usage_journal WHERE idempotency_key = ?", (key,)
        ).fetchone()
        report = replace(decode_report(row["request"]), session_token=token)
        self._db.execute(
            "UPDATE usage_journal SET request = ?, deferred_card = '' WHERE idempotency_key = ?",
            (encode_report(report), key),
        )

    def fail(self, key: str, error: str) -> None:
        """The hub refused the report for good: keep it for an operator, stop sending it."""
        self._db.execute(
            "UPDATE usage_journal SET state = 'failed', attempts = attempts + 1, last_error = ?"
            " WHERE idempotency_key = ?",
            (error[:500], key),
        )

    @staticmethod
    def _entry(row: sqlite3.Row) -> JournalEntry:
        return JournalEntry(
            seq=int(row["seq"]),
            report=decode_report(row["request"]),
            deferred_card=str(row["deferred_card"]),
            state=str(row["state"]),
            attempts=int(row["attempts"]),
            last_error=str(row["last_error"]),
        )


@dataclass(frozen=True)
class OpenCopy:
    """A copy session that was unlocked and not yet closed (the process may have died in it)."""

    copy_id: str
    template: UsageReport  # the report to send, without lines yet
    baseline: dict[str, int]  # the counters at unlock ({} when pulses were counted)
    deferred_card: str


@dataclass(frozen=True)
class FlushResult:
    """What one pass over the journal did."""

    acknowledged: list[ReportReceipt]
    failed: int
    remaining: int
    unreachable: bool


class UsageSender:
    """Send journaled reports in order; one pass at a time."""

    def __init__(self, journal: Journal, hub: HubClient) -> None:
        self.journal = journal
        self.hub = hub
        self._lock = asyncio.Lock()

    async def flush(self) -> FlushResult:
        """Send every pending report, oldest first; stop at the first unreachable hub."""
        async with self._lock:
            acknowledged: list[ReportReceipt] = []
            failed = 0
            for entry in self.journal.pending():
                try:
                    acknowledged.append(await self._send(entry))
                except HubUnreachable as exc:
                    self.journal.attempted(entry.key, str(exc))
                    return FlushResult(acknowledged, failed, self.journal.pending_count(), True)
                except DeviceRefused as exc:
                    # The hub refused the terminal, not the report: it waits for the enrollment.
                    self.journal.attempted(entry.key, str(exc))
                    return FlushResult(acknowledged, failed, self.journal.pending_count(), False)
                except HubRejected as exc:
                    log.error("journal: report %s refused for good: %s", entry.key, exc)
                    self.journal.fail(entry.key, str(exc))
                    failed += 1
            return FlushResult(acknowledged, failed, self.journal.pending_count(), False)

    async def _send(self, entry: JournalEntry) -> ReportReceipt:
        report = entry.report
        if entry.deferred_card:
            report = await self._identify(entry)
        reply = await self.hub.report_usage(report)
        if reply.outcome is None:  # neither CREATED nor ALREADY_APPLIED: not known to be charged
            raise HubUnreachable("UNKNOWN", "unexpected report outcome")
        self.journal.acknowledge(entry.key)
        log.info("journal: report %s acknowledged (%s cents)", entry.key, reply.charged_cents)
        return reply

    async def _identify(self, entry: JournalEntry) -> UsageReport:
        # Authenticate is not idempotent for the lockout count: one attempt per report, ever;
        # its token is stored before the report is sent, so a later replay does not repeat it.
        answer = await self.hub.authenticate_card(entry.deferred_card)
        if isinstance(answer, SecondFactorRequired) or not answer.session_token:
            raise HubRejected(
                "SECOND_FACTOR", "this card needs its PIN: usage made offline cannot be charged"
            )
        self.journal.identified(entry.key, answer.session_token)
        return replace(entry.report, session_token=answer.session_token)
