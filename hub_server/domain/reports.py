"""Reports over the books: usage by user, department, project, printer, site or day; paper and CO2
(what pull printing saved); cash and voucher reconciliation; and the console's dashboard.

Every figure comes from the ledger's own records, by the time a transaction was *recorded*
(the books' time, hub clock), in half-open periods ``[start, end)`` whose days begin at local
midnight in ``[hub] timezone``:

* usage: the ``usage`` transactions and their priced lines; ``charged`` is what their lines
  cost, which is exactly what they posted to ``system:revenue``; ``refunded`` is what reversals
  of usage transactions recorded in the period took back from it. ``charged - refunded`` equals
  the movement of ``system:revenue`` over the period (:meth:`Reports.ledger_totals`);
* a user's department is the one they have when the report is made;
* sheets: a duplex line of ``p`` pages takes ``ceil(p / 2)`` sheets, a simplex line ``p``
  (print and copy only; scan and fax use no paper here);
* CO2: :data:`CO2_MG_PER_SHEET` per sheet, paper production only (see its comment);
* cash: coins and notes credited at each kiosk (``cash`` transactions, what they took from the
  kiosk's ``system:cashbox:<id>`` account), emptyings with expected, counted and difference;
  vouchers redeemed (what ``system:vouchers`` handed out).

A period is at most :data:`MAX_PERIOD_DAYS` long, so no URL parameter can ask for an
unbounded query.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hub_server.clock import Clock
from hub_server.config import HubConfig
from hub_server.documents import FORMATS, Column, Table, Value, render
from hub_server.domain import account_names
from hub_server.domain.store import Store
from hub_server.errors import InvalidRequest
from hub_server.storage import Tx

__all__ = [
    "CO2_MG_PER_SHEET",
    "DIMENSIONS",
    "EXPORT_FORMATS",
    "MAX_PERIOD_DAYS",
    "REPORT_KINDS",
    "Dashboard",
    "LedgerTotals",
    "Period",
    "Reports",
]

REPORT_KINDS = ("usage", "environment", "cash")
EXPORT_FORMATS = FORMATS  # format -> (content type, file extension)
DIMENSIONS = ("user", "department", "project", "printer", "site", "day")
MAX_PERIOD_DAYS = 366
# 4.5 g CO2e per A4/Letter sheet: the paper's production only (not the printer's energy, not
# toner). It is the default of PaperCut NG/MF's environmental dashboard (its manual, chapter
# "Environmental Impact", config key environment.co2-grams-per-sheet), which makes our figures
# comparable with what sites already report. Milligrams keep the sums in integers.
CO2_MG_PER_SHEET = 4500
TOP_ROWS = 10
_DAY_US = 86_400_000_000

_PAGES = """
    SUM(CASE WHEN l.function = 'print' THEN l.pages ELSE 0 END) AS print_pages,
    SUM(CASE WHEN l.function = 'copy' THEN l.pages ELSE 0 END) AS copy_pages,
    SUM(CASE WHEN l.function IN ('scan', 'fax') THEN l.pages ELSE 0 END) AS other_pages,
    SUM(CASE WHEN l.function IN ('print', 'copy') AND l.color = 'mono' THEN l.pages ELSE 0 END) AS mono_pages,
    SUM(CASE WHEN l.function IN ('print', 'copy') AND l.color = 'color' THEN l.pages ELSE 0 END)
        AS color_pages,
    SUM(CASE WHEN l.function IN ('print', 'copy') AND l.duplex = 1 THEN l.pages ELSE 0 END) AS duplex_pages,
    SUM(CASE WHEN l.function NOT IN ('print', 'copy') THEN 0
             WHEN l.duplex = 1 THEN (l.pages + 1) / 2 ELSE l.pages END) AS sheets,
    COUNT(DISTINCT t.id) AS transactions,
    SUM(l.amount_cents) AS charged_cents"""

# dimension -> (key expression, label expression, joins on the usage transaction ``t``)
_DIMENSION_SQL: dict[str, tuple[str, str, str]] = {
    "user": ("t.user_id", "MAX(u.username)", "LEFT JOIN users u ON u.id = t.user_id"),
    "department": (
        "u.department_id",
        "MAX(g.name)",
        "LEFT JOIN users u ON u.id = t.user_id LEFT JOIN user_groups g ON g.id = u.department_id",
    ),
    "project": ("t.project_id", "MAX(p.code)", "LEFT JOIN projects p ON p.id = t.project_id"),
    "printer": (
        "pr.id",
        "MAX(pr.name)",
        "LEFT JOIN terminals d ON d.id = t.terminal_id LEFT JOIN printers pr ON pr.id = d.printer_id",
    ),
    "site": (  # where the printer stands (docs/scale.md, "Sites")
        "sp.site_id",
        "MAX(si.name)",
        "LEFT JOIN terminals d ON d.id = t.terminal_id"
        " LEFT JOIN site_printers sp ON sp.printer_id = d.printer_id"
        " LEFT JOIN sites si ON si.id = sp.site_id",
    ),
    "day": ("days.n", "MAX(days.label)", "JOIN days ON t.recorded_us >= days.s AND t.recorded_us < days.e"),
}
_NONE_LABEL = {
    "user": "(none)",
    "department": "(no department)",
    "project": "(no project)",
    "printer": "(no printer)",
    "site": "(no site)",
}


@dataclass(frozen=True)
class Period:
    """``[start_us, end_us)``, from local midnight of ``first`` to local midnight after ``last``."""

    first: date
    last: date
    start_us: int
    end_us: int

    @property
    def label(self) -> str:
        """``2026-03-01 – 2026-03-31``."""
        return f"{self.first.isoformat()} – {self.last.isoformat()}"

    def days(self) -> list[tuple[int, int, str]]:
        """(start_us, end_us, ISO date) of every local day of the period."""
        return [
            (
                _midnight_us(self.first + timedelta(days=n), self._zone),
                _midnight_us(self.first + timedelta(days=n + 1), self._zone),
                (self.first + timedelta(days=n)).isoformat(),
            )
            for n in range((self.last - self.first).days + 1)
        ]

    _zone: ZoneInfo = field(default=ZoneInfo("UTC"), repr=False, compare=False)


def _midnight_us(day: date, zone: ZoneInfo) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=zone).timestamp() * 1_000_000)


def period_of(first: date, last: date, timezone: str) -> Period:
    """The period from ``first`` to ``last`` (both included), validated."""
    if last < first:
        raise InvalidRequest("a report period ends on or after the day it starts")
    if (last - first).days + 1 > MAX_PERIOD_DAYS:
        raise InvalidRequest(f"a report period is at most {MAX_PERIOD_DAYS} days")
    zone = ZoneInfo(timezone)
    return Period(first, last, _midnight_us(first, zone), _midnight_us(last + timedelta(days=1), zone), zone)


def parse_period(first: str, last: str, timezone: str) -> Period:
    """A period from two ISO dates (what a URL or the admin CLI carries)."""
    try:
        return period_of(date.fromisoformat(first), date.fromisoformat(last), timezone)
    except ValueError as error:
        raise InvalidRequest(f"dates are YYYY-MM-DD: {error}") from None


def month_period(year: int, month: int, timezone: str) -> Period:
    """One calendar month."""
    first = date(year, month, 1)
    following = date(year + month // 12, month % 12 + 1, 1)
    return period_of(first, following - timedelta(days=1), timezone)


def _days_cte(period: Period) -> tuple[str, dict[str, Any]]:
    days = period.days()
    values = ", ".join(f"(:ds{n}, :de{n}, {n}, :dl{n})" for n in range(len(days)))
    params: dict[str, Any] = {}
    for n, (start, end, label) in enumerate(days):
        params.update({f"ds{n}": start, f"de{n}": end, f"dl{n}": label})
    return f"WITH days (s, e, n, label) AS (VALUES {values}) ", params


def _revenue_id(tx: Tx) -> int:
    found = tx.scalar("SELECT id FROM accounts WHERE name = :n", {"n": account_names.REVENUE})
    return int(found) if found is not None else -1


def usage_rows(tx: Tx, period: Period, dimension: str) -> list[dict[str, Any]]:
    """Usage per ``dimension`` value: pages, sheets, charged and refunded cents."""
    if dimension not in _DIMENSION_SQL:
        raise InvalidRequest(f"a usage report is by one of {', '.join(DIMENSIONS)}")
    key, label, joins = _DIMENSION_SQL[dimension]
    prefix, params = _days_cte(period) if dimension == "day" else ("", {})
    params.update({"s": period.start_us, "e": period.end_us})
    rows = tx.execute(
        f"""{prefix}SELECT {key} AS k, {label} AS label, {_PAGES}
            FROM transactions t JOIN usage_lines l ON l.transaction_id = t.id {joins}
            WHERE t.kind = 'usage' AND t.recorded_us >= :s AND t.recorded_us < :e
            GROUP BY {key}""",
        params,
    )
    refund_key = key.replace("t.recorded_us", "r.recorded_us")
    refunds = {
        row["k"]: int(row["refunded"] or 0)
        for row in tx.execute(
            f"""{prefix}SELECT {refund_key} AS k, -SUM(e.amount_cents) AS refunded
                FROM transactions r
                JOIN transactions t ON t.id = CAST(r.idempotency_key AS BIGINT)
                JOIN entries e ON e.transaction_id = r.id AND e.account_id = :revenue
                {joins.replace("t.recorded_us", "r.recorded_us")}
                WHERE r.kind = 'reversal' AND r.idempotency_scope = 'reversal' AND t.kind = 'usage'
                  AND r.recorded_us >= :s AND r.recorded_us < :e
                GROUP BY {refund_key}""",
            {**params, "revenue": _revenue_id(tx)},
        )
    }
    merged: dict[Any, dict[str, Any]] = {}
    for row in rows:
        merged[row["k"]] = {**row, "refunded_cents": refunds.pop(row["k"], 0)}
    for k, refunded in refunds.items():  # refunds of usage from before the period
        merged[k] = {"k": k, "label": None, "refunded_cents": refunded}
    if refunds and dimension != "day":
        _fill_labels(tx, dimension, [m for m in merged.values() if m["label"] is None and m["k"] is not None])
    return list(merged.values())


def _fill_labels(tx: Tx, dimension: str, rows: list[dict[str, Any]]) -> None:
    table, column = {
        "user": ("users", "username"),
        "department": ("user_groups", "name"),
        "project": ("projects", "code"),
        "printer": ("printers", "name"),
        "site": ("sites", "name"),
    }[dimension]
    for row in rows:
        row["label"] = tx.scalar(f"SELECT {column} FROM {table} WHERE id = :i", {"i": row["k"]})


_USAGE_COLUMNS = (
    ("print_pages", "Print pages", "count"),
    ("copy_pages", "Copy pages", "count"),
    ("other_pages", "Scan/fax pages", "count"),
    ("mono_pages", "Mono pages", "count"),
    ("color_pages", "Colour pages", "count"),
    ("duplex_pages", "Duplex pages", "count"),
    ("sheets", "Sheets", "count"),
    ("transactions", "Transactions", "count"),
    ("charged_cents", "Charged", "cents"),
    ("refunded_cents", "Refunded", "cents"),
)


def usage_table(rows: list[dict[str, Any]], period: Period, dimension: str, currency: str) -> Table:
    """The usage rows as a table: most charged first (by day: in date order), with totals."""
    if dimension == "day":
        rows = sorted(rows, key=lambda r: int(r["k"]))
    else:
        rows = sorted(rows, key=lambda r: (-int(r.get("charged_cents") or 0), str(r["label"] or "")))
    heading = {
        "user": "User",
        "department": "Department",
        "project": "Project",
        "printer": "Printer",
        "site": "Site",
        "day": "Day",
    }
    columns = [Column("label", heading[dimension], "text")]
    columns += [Column(key, title, kind) for key, title, kind in _USAGE_COLUMNS]  # type: ignore[arg-type]
    columns.append(Column("net_cents", "Net", "cents"))
    body: list[list[Value]] = []
    for row in rows:
        values = [int(row.get(key) or 0) for key, _, _ in _USAGE_COLUMNS]
        label = row["label"] if row["label"] is not None else _NONE_LABEL.get(dimension, "")
        body.append([str(label), *values, values[-2] - values[-1]])
    totals: list[Value] = ["Total", *(sum(int(r[i] or 0) for r in body) for i in range(1, len(columns)))]
    return Table(
        title=f"Usage by {dimension}",
        subtitle=f"{period.label} · amounts in {currency}",
        columns=columns,
        rows=body,
        totals=totals,
        chart_columns=(4, 5),  # mono and colour pages
        notes=(
            "Charged: what the usage lines cost, as posted to system:revenue; refunded: reversals of"
            " usage recorded in the period. Charged minus refunded equals the revenue account's"
            " movement over the period.",
            "Sheets: duplex pages take one sheet per two pages; scan and fax use no paper.",
        ),
    )


def environment_table(tx: Tx, period: Period) -> Table:
    """Per day: pages and sheets printed, duplex rate, jobs never printed and the sheets and
    CO2 that saved (pull printing: a job nobody released is never printed)."""
    prefix, params = _days_cte(period)
    params.update({"s": period.start_us, "e": period.end_us})
    used = {
        int(r["n"]): r
        for r in tx.execute(
            f"""{prefix}SELECT days.n AS n, {_PAGES}
                FROM transactions t JOIN usage_lines l ON l.transaction_id = t.id
                JOIN days ON t.recorded_us >= days.s AND t.recorded_us < days.e
                WHERE t.kind = 'usage' AND t.recorded_us >= :s AND t.recorded_us < :e
                GROUP BY days.n""",
            params,
        )
    }
    saved = {
        int(r["n"]): r
        for r in tx.execute(
            f"""{prefix}SELECT days.n AS n, COUNT(*) AS jobs,
                    SUM(COALESCE(j.copies, 1) * CASE WHEN j.sides LIKE 'two-sided%'
                        THEN (COALESCE(j.page_count, 0) + 1) / 2 ELSE COALESCE(j.page_count, 0) END) AS sheets
                FROM print_jobs j JOIN days ON j.completed_us >= days.s AND j.completed_us < days.e
                WHERE j.state IN ('expired', 'canceled') AND j.completed_us >= :s AND j.completed_us < :e
                  AND NOT EXISTS (SELECT 1 FROM print_releases r
                                  WHERE r.job_id = j.id AND r.state = 'printed')
                GROUP BY days.n""",
            params,
        )
    }
    body: list[list[Any]] = []
    for n, (_, _, label) in enumerate(period.days()):
        u, s = used.get(n, {}), saved.get(n, {})
        pages = int(u.get("mono_pages") or 0) + int(u.get("color_pages") or 0)
        sheets, saved_sheets = int(u.get("sheets") or 0), int(s.get("sheets") or 0)
        duplex = int(u.get("duplex_pages") or 0)
        body.append(
            [
                label,
                int(u.get("mono_pages") or 0),
                int(u.get("color_pages") or 0),
                round(100.0 * duplex / pages, 1) if pages else 0.0,
                sheets,
                sheets * CO2_MG_PER_SHEET // 1000,
                int(s.get("jobs") or 0),
                saved_sheets,
                saved_sheets * CO2_MG_PER_SHEET // 1000,
            ]
        )
    total_pages = sum(r[1] + r[2] for r in body)
    total_duplex = sum(int(u.get("duplex_pages") or 0) for u in used.values())
    totals: list[Value] = [
        "Total",
        sum(r[1] for r in body),
        sum(r[2] for r in body),
        round(100.0 * total_duplex / total_pages, 1) if total_pages else 0.0,
        *(sum(r[i] for r in body) for i in range(4, 9)),
    ]
    return Table(
        title="Paper and CO2",
        subtitle=period.label,
        columns=[
            Column("day", "Day", "text"),
            Column("mono_pages", "Mono pages", "count"),
            Column("color_pages", "Colour pages", "count"),
            Column("duplex_rate", "Duplex %", "percent"),
            Column("sheets", "Sheets", "count"),
            Column("co2_g", "CO2 (g)", "grams"),
            Column("jobs_not_printed", "Jobs never printed", "count"),
            Column("sheets_saved", "Sheets saved", "count"),
            Column("co2_saved_g", "CO2 saved (g)", "grams"),
        ],
        rows=body,
        totals=totals,
        chart_columns=(4, 7),
        chart_rows_max=MAX_PERIOD_DAYS,
        notes=(
            f"CO2: {CO2_MG_PER_SHEET / 1000:g} g CO2e per sheet, paper production only (the default of"
            " PaperCut NG/MF's environmental dashboard, environment.co2-grams-per-sheet); printer energy"
            " and toner are not counted.",
            "Saved: held jobs deleted or expired without ever printing, at their analysed pages, copies"
            " and sides.",
        ),
    )


def cash_table(tx: Tx, period: Period) -> Table:
    """Per kiosk: coins and notes credited, boxes emptied (expected, counted, difference); and
    vouchers redeemed."""
    params = {"s": period.start_us, "e": period.end_us}
    credited = tx.execute(
        """SELECT c.kiosk_id AS k,
               SUM(CASE WHEN c.device_kind = 'coin' THEN c.value_cents ELSE 0 END) AS coins,
               SUM(CASE WHEN c.device_kind = 'note' THEN c.value_cents ELSE 0 END) AS notes,
               COUNT(*) AS events
           FROM cash_events c JOIN transactions t ON t.id = c.transaction_id
           WHERE t.recorded_us >= :s AND t.recorded_us < :e GROUP BY c.kiosk_id""",
        params,
    )
    emptied = {
        r["k"]: r
        for r in tx.execute(
            """SELECT kiosk_id AS k, COUNT(*) AS emptyings, SUM(expected_cents) AS expected,
                   SUM(counted_cents) AS counted
               FROM cashbox_emptyings WHERE emptied_us >= :s AND emptied_us < :e GROUP BY kiosk_id""",
            params,
        )
    }
    kiosks: dict[str, list[Any]] = {}
    for row in credited:
        kiosks[str(row["k"])] = [
            str(row["k"]),
            int(row["events"]),
            int(row["coins"]),
            int(row["notes"]),
            0,
            0,
            0,
            0,
        ]
    for kiosk, row in emptied.items():
        line = kiosks.setdefault(str(kiosk), [str(kiosk), 0, 0, 0, 0, 0, 0, 0])
        line[4:8] = [
            int(row["emptyings"]),
            int(row["expected"]),
            int(row["counted"]),
            int(row["counted"]) - int(row["expected"]),
        ]
    vouchers = tx.one(
        """SELECT COUNT(*) AS n, COALESCE(SUM(b.value_cents), 0) AS total
           FROM vouchers v JOIN voucher_batches b ON b.id = v.batch_id
           JOIN transactions t ON t.id = v.transaction_id
           WHERE t.recorded_us >= :s AND t.recorded_us < :e""",
        params,
    )
    assert vouchers is not None
    adjusted = tx.one(
        """SELECT COUNT(DISTINCT t.id) AS n, COALESCE(-SUM(e.amount_cents), 0) AS total
           FROM entries e JOIN accounts a ON a.id = e.account_id
           JOIN transactions t ON t.id = e.transaction_id
           WHERE a.name = :a AND t.recorded_us >= :s AND t.recorded_us < :e""",
        {**params, "a": account_names.ADJUSTMENTS},
    )
    assert adjusted is not None
    body = [kiosks[k] for k in sorted(kiosks)]
    body.append(["Vouchers redeemed", int(vouchers["n"]), 0, 0, 0, 0, 0, 0])
    body.append(["Adjustments by admins", int(adjusted["n"]), 0, 0, 0, 0, 0, 0])
    columns = [
        Column("source", "Kiosk", "text"),
        Column("events", "Coins/notes or vouchers", "count"),
        Column("coins_cents", "Coins credited", "cents"),
        Column("notes_cents", "Notes credited", "cents"),
        Column("emptyings", "Emptyings", "count"),
        Column("expected_cents", "Expected at emptying", "cents"),
        Column("counted_cents", "Counted", "cents"),
        Column("difference_cents", "Difference", "cents"),
        Column("credited_cents", "Credited in all", "cents"),
    ]
    for line in body[:-2]:
        line.append(line[2] + line[3])
    body[-2].append(int(vouchers["total"]))
    body[-1].append(int(adjusted["total"]))
    totals: list[Value] = ["Total", *(sum(int(r[i]) for r in body) for i in range(1, len(columns)))]
    return Table(
        title="Cash, vouchers and adjustments",
        subtitle=period.label,
        columns=columns,
        rows=body,
        totals=totals,
        chart_columns=(2, 3),
        notes=(
            "Credited: what coins and notes put on users' credit, from each kiosk's system:cashbox"
            " account; vouchers: what system:vouchers handed out; adjustments: what admins added to"
            " (or, negative, took from) credit and accounts, from system:adjustments.",
        ),
    )


@dataclass(frozen=True)
class LedgerTotals:
    """What the ledger itself says about a period (the figures every report must match)."""

    revenue_cents: int  # movement of system:revenue (usage charged minus refunds)
    cash_cents: int  # what the kiosks' cash boxes credited
    vouchers_cents: int  # what redeemed vouchers credited
    adjustments_cents: int  # what admins added (negative: took away)


def ledger_totals(tx: Tx, period: Period) -> LedgerTotals:
    """Sums of ledger entries by account, over transactions recorded in the period."""
    rows = tx.execute(
        """SELECT a.name, SUM(e.amount_cents) AS total
           FROM entries e JOIN transactions t ON t.id = e.transaction_id
           JOIN accounts a ON a.id = e.account_id
           WHERE t.recorded_us >= :s AND t.recorded_us < :e AND a.kind = 'system'
             AND (a.name IN (:revenue, :vouchers, :adjustments)
                  OR (a.name LIKE 'system:cashbox:%' AND t.kind = 'cash'))
           GROUP BY a.name""",
        {
            "s": period.start_us,
            "e": period.end_us,
            "revenue": account_names.REVENUE,
            "vouchers": account_names.VOUCHERS,
            "adjustments": account_names.ADJUSTMENTS,
        },
    )
    by_name = {str(r["name"]): int(r["total"]) for r in rows}
    return LedgerTotals(
        revenue_cents=by_name.get(account_names.REVENUE, 0),
        cash_cents=-sum(v for k, v in by_name.items() if k.startswith("system:cashbox:")),
        vouchers_cents=-by_name.get(account_names.VOUCHERS, 0),
        adjustments_cents=-by_name.get(account_names.ADJUSTMENTS, 0),
    )


# -- the dashboard ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PageCounts:
    """Pages of one function and colour today, this week and this month."""

    function: str
    color: str
    today: int
    week: int
    month: int


@dataclass(frozen=True)
class Ranked:
    """A user or department and its pages and charge this month."""

    name: str
    pages: int
    charged_cents: int


@dataclass(frozen=True)
class Dashboard:
    """What the console's first page shows, and how long it took to compute."""

    pages: list[PageCounts]
    top_users: list[Ranked]
    top_departments: list[Ranked]
    held_jobs: int
    held_oldest_us: int | None
    terminals: int
    kiosks: int
    printers: int
    computed_us: int
    compute_ms: float = 0.0


def _starts(now_us: int, timezone: str) -> tuple[int, int, int]:
    zone = ZoneInfo(timezone)
    today = datetime.fromtimestamp(now_us / 1_000_000, zone).date()
    week = today - timedelta(days=today.weekday())
    return _midnight_us(today, zone), _midnight_us(week, zone), _midnight_us(today.replace(day=1), zone)


def dashboard(tx: Tx, now_us: int, timezone: str) -> Dashboard:
    """Pages by function and colour (today, week, month), the month's top users and
    departments by pages, held jobs waiting and the device registry's counts."""
    day, week, month = _starts(now_us, timezone)
    params = {"day": day, "week": week, "month": month, "start": min(week, month)}
    pages = [
        PageCounts(str(r["function"]), str(r["color"]), int(r["today"]), int(r["week"]), int(r["month"]))
        for r in tx.execute(
            """SELECT l.function, l.color,
                   SUM(CASE WHEN t.recorded_us >= :day THEN l.pages ELSE 0 END) AS today,
                   SUM(CASE WHEN t.recorded_us >= :week THEN l.pages ELSE 0 END) AS week,
                   SUM(CASE WHEN t.recorded_us >= :month THEN l.pages ELSE 0 END) AS month
               FROM transactions t JOIN usage_lines l ON l.transaction_id = t.id
               WHERE t.kind = 'usage' AND t.recorded_us >= :start
               GROUP BY l.function, l.color ORDER BY l.function, l.color""",
            params,
        )
    ]
    ranked = """SELECT {key} AS k, SUM(l.pages) AS pages, SUM(l.amount_cents) AS charged
                FROM transactions t JOIN usage_lines l ON l.transaction_id = t.id {join}
                WHERE t.kind = 'usage' AND t.recorded_us >= :month AND {key} IS NOT NULL
                GROUP BY {key} ORDER BY SUM(l.pages) DESC, {key} LIMIT :top"""
    users = tx.execute(ranked.format(key="t.user_id", join=""), {"month": month, "top": TOP_ROWS})
    departments = tx.execute(
        ranked.format(key="u.department_id", join="JOIN users u ON u.id = t.user_id"),
        {"month": month, "top": TOP_ROWS},
    )
    held = tx.one("SELECT COUNT(*) AS n, MIN(created_us) AS oldest FROM print_jobs WHERE state = 'held'")
    devices = {
        str(r["kind"]): int(r["n"])
        for r in tx.execute("SELECT kind, COUNT(*) AS n FROM terminals WHERE active = 1 GROUP BY kind")
    }
    assert held is not None
    return Dashboard(
        pages=pages,
        top_users=_names(tx, "users", "username", users),
        top_departments=_names(tx, "user_groups", "name", departments),
        held_jobs=int(held["n"]),
        held_oldest_us=int(held["oldest"]) if held["oldest"] is not None else None,
        terminals=devices.get("terminal", 0),
        kiosks=devices.get("kiosk", 0),
        printers=int(tx.scalar("SELECT COUNT(*) AS n FROM printers") or 0),
        computed_us=now_us,
    )


def _names(tx: Tx, table: str, column: str, rows: Sequence[Any]) -> list[Ranked]:
    ids = [int(r["k"]) for r in rows]
    if not ids:
        return []
    marks = ", ".join(f":i{n}" for n in range(len(ids)))
    names = {
        int(r["id"]): str(r[column])
        for r in tx.execute(
            f"SELECT id, {column} FROM {table} WHERE id IN ({marks})", {f"i{n}": i for n, i in enumerate(ids)}
        )
    }
    return [Ranked(names.get(int(r["k"]), "?"), int(r["pages"]), int(r["charged"])) for r in rows]


class Reports:
    """Reports and the dashboard, for the console and the admin API."""

    def __init__(self, store: Store, config: HubConfig, clock: Clock) -> None:
        self._store = store
        self._config = config
        self._clock = clock

    @property
    def timezone(self) -> str:
        """The zone whose midnights start the report days."""
        return self._config.timezone

    def period(self, first: str, last: str) -> Period:
        """A validated period from ISO dates."""
        return parse_period(first, last, self._config.timezone)

    def month(self, year: int, month: int) -> Period:
        """A calendar month."""
        if not 1 <= month <= 12 or not 2000 <= year <= 9999:
            raise InvalidRequest("no such month")
        return month_period(year, month, self._config.timezone)

    def table(self, kind: str, period: Period, dimension: str = "user") -> Table:
        """One report as a table (``kind`` in :data:`REPORT_KINDS`)."""
        if kind == "usage":
            currency = self._config.currency
            return self._store.read(
                lambda tx: usage_table(usage_rows(tx, period, dimension), period, dimension, currency)
            )
        if kind == "environment":
            return self._store.read(lambda tx: environment_table(tx, period))
        if kind == "cash":
            return self._store.read(lambda tx: cash_table(tx, period))
        raise InvalidRequest(f"a report is one of {', '.join(REPORT_KINDS)}")

    def export(self, kind: str, period: Period, dimension: str, fmt: str) -> bytes:
        """One report as CSV, XLSX or PDF."""
        table = self.table(kind, period, dimension)
        try:
            return render(table, fmt)
        except ValueError as error:
            raise InvalidRequest(str(error)) from None

    def ledger_totals(self, period: Period) -> LedgerTotals:
        """What the ledger says the period's totals are."""
        return self._store.read(lambda tx: ledger_totals(tx, period))

    def dashboard(self) -> Dashboard:
        """The dashboard's figures, now."""
        started = time.perf_counter()
        now_us = self._clock.now_us()
        board = self._store.read(lambda tx: dashboard(tx, now_us, self._config.timezone))
        return Dashboard(**{**board.__dict__, "compute_ms": (time.perf_counter() - started) * 1000})
