"""Scheduled reports: a report (kind, rows by, format) mailed to a few addresses after each
complete week (Monday to Sunday) or calendar month, in ``[hub] timezone``.

A schedule remembers the first day of the last period it was sent for (``last_sent``); it is
due when the last complete period before today is a later one. The mailer marks a schedule
sent only after the SMTP server accepted the message, so a period is mailed at least once; a
crash between the two sends it again, never loses it. A schedule made today is first due for
the period that ends next, not for one already past.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from hub_server.clock import Clock
from hub_server.domain.reports import (
    DIMENSIONS,
    EXPORT_FORMATS,
    REPORT_KINDS,
    Period,
    month_period,
    period_of,
)
from hub_server.domain.store import Store
from hub_server.errors import InvalidRequest, NotFound
from hub_server.storage import Row, Tx

__all__ = ["SCHEDULE_PERIODS", "ReportSchedule", "ReportSchedules", "last_complete_period"]

SCHEDULE_PERIODS = ("week", "month")
RECIPIENTS_MAX = 10
SCHEDULES_MAX = 100
# an address as mail servers take it: no spaces, no angle brackets or commas, one @
ADDRESS = re.compile(r"^[^\s@<>,;\"]{1,64}@[A-Za-z0-9.-]{1,190}\.[A-Za-z]{2,63}$")


@dataclass(frozen=True)
class ReportSchedule:
    """One scheduled report."""

    schedule_id: int
    report: str
    dimension: str
    period: str
    format: str
    recipients: tuple[str, ...]
    last_sent: str  # ISO first day of the last period sent, '' before the first
    created_by: str


def last_complete_period(kind: str, today: date, timezone: str) -> Period:
    """The last whole week (Monday to Sunday) or calendar month before ``today``."""
    if kind == "week":
        monday = today - timedelta(days=today.weekday() + 7)
        return period_of(monday, monday + timedelta(days=6), timezone)
    previous = today.replace(day=1) - timedelta(days=1)
    return month_period(previous.year, previous.month, timezone)


def _schedule(row: Row) -> ReportSchedule:
    return ReportSchedule(
        int(row["id"]),
        str(row["report"]),
        str(row["dimension"]),
        str(row["period"]),
        str(row["format"]),
        tuple(str(row["recipients"]).split(",")),
        str(row["last_sent"]),
        str(row["created_by"]),
    )


def check_recipients(text: str) -> tuple[str, ...]:
    """Addresses separated by commas, spaces or new lines: 1 to :data:`RECIPIENTS_MAX`."""
    addresses = tuple(dict.fromkeys(a for a in re.split(r"[\s,;]+", text.strip()) if a))
    if not 1 <= len(addresses) <= RECIPIENTS_MAX:
        raise InvalidRequest(f"give 1 to {RECIPIENTS_MAX} e-mail addresses")
    for address in addresses:
        if not ADDRESS.match(address):
            raise InvalidRequest(f"not an e-mail address: {address[:80]!r}")
    return addresses


class ReportSchedules:
    """Scheduled reports: made and removed by admins, read by the mailer."""

    def __init__(self, store: Store, clock: Clock, timezone: str) -> None:
        self._store = store
        self._clock = clock
        self._timezone = timezone

    def _today(self) -> date:
        return datetime.fromtimestamp(self._clock.now_us() / 1_000_000, ZoneInfo(self._timezone)).date()

    def schedules(self) -> list[ReportSchedule]:
        """Every schedule, oldest first."""
        rows = self._store.read(lambda tx: tx.execute("SELECT * FROM report_schedules ORDER BY id"))
        return [_schedule(r) for r in rows]

    async def create(
        self, report: str, dimension: str, period: str, fmt: str, recipients: str, created_by: str
    ) -> ReportSchedule:
        """A new schedule; its first mail covers the first period that ends from now on."""
        if report not in REPORT_KINDS or period not in SCHEDULE_PERIODS or fmt not in EXPORT_FORMATS:
            raise InvalidRequest("unknown report, period or format")
        if dimension not in DIMENSIONS:
            raise InvalidRequest(f"rows are by one of {', '.join(DIMENSIONS)}")
        addresses = check_recipients(recipients)
        already = last_complete_period(period, self._today(), self._timezone).first.isoformat()
        now_us = self._clock.now_us()

        def insert(tx: Tx) -> ReportSchedule:
            if int(tx.scalar("SELECT COUNT(*) FROM report_schedules") or 0) >= SCHEDULES_MAX:
                raise InvalidRequest(f"at most {SCHEDULES_MAX} scheduled reports")
            row = tx.one(
                """INSERT INTO report_schedules
                       (report, dimension, period, format, recipients, last_sent, created_by, created_us)
                   VALUES (:r, :d, :p, :f, :to, :sent, :by, :at) RETURNING *""",
                {
                    "r": report,
                    "d": dimension,
                    "p": period,
                    "f": fmt,
                    "to": ",".join(addresses),
                    "sent": already,
                    "by": created_by,
                    "at": now_us,
                },
            )
            assert row is not None
            return _schedule(row)

        return await self._store.write(insert)

    async def delete(self, schedule_id: int) -> None:
        """Remove a schedule."""

        def remove(tx: Tx) -> None:
            if not tx.execute("SELECT id FROM report_schedules WHERE id = :i", {"i": schedule_id}):
                raise NotFound("no such scheduled report")
            tx.execute("DELETE FROM report_schedules WHERE id = :i", {"i": schedule_id})

        await self._store.write(remove)

    def due(self) -> list[tuple[ReportSchedule, Period]]:
        """The schedules whose last complete period has not been sent, with that period."""
        today = self._today()
        found = []
        for schedule in self.schedules():
            period = last_complete_period(schedule.period, today, self._timezone)
            if period.first.isoformat() > schedule.last_sent:
                found.append((schedule, period))
        return found

    async def mark_sent(self, schedule_id: int, period: Period) -> None:
        """Record that ``period`` was mailed (never moves backwards)."""
        first = period.first.isoformat()
        await self._store.write(
            lambda tx: tx.execute(
                "UPDATE report_schedules SET last_sent = :f WHERE id = :i AND last_sent < :f",
                {"f": first, "i": schedule_id},
            )
        )
