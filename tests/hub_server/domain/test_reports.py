"""Reports on both backends: a generated month of usage, refunds, adjustments, cash and
vouchers, and every report's totals against the ledger (through :func:`ledger_totals`, and
against the entries read here with plain SQL), the period boundaries, the exports and the
search as you type."""

from __future__ import annotations

import csv
import io
import random
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from hub_server.clock import FakeClock
from hub_server.domain import Hub, account_names
from hub_server.domain.accounts import Adjustment
from hub_server.domain.devices import PrinterRecord, TerminalRecord
from hub_server.domain.kiosk import CashEvent, Emptying
from hub_server.domain.pricing import PriceRecord, UsageLine
from hub_server.domain.projects import ProjectRecord
from hub_server.domain.reports import DIMENSIONS, MAX_PERIOD_DAYS, Period
from hub_server.domain.usage import UsageReport, apply_usage
from hub_server.domain.users import UserRecord, UserRef
from hub_server.errors import InvalidRequest
from hub_server.storage import Database, Tx
from tests.hub_server.conftest import hub_config

MARCH = datetime(2026, 3, 1, tzinfo=UTC)
DAY_S = 86_400


def _us(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000)


@dataclass
class Generated:
    """What the generator did, counted on its own (not read back from the hub)."""

    pages: int = 0
    colour_pages: int = 0
    charged_cents: int = 0
    refunded_cents: int = 0
    cash_cents: int = 0
    voucher_cents: int = 0
    adjusted_cents: int = 0
    usage_ids: list[int] = field(default_factory=list)


async def _setup(hub: Hub) -> None:
    for function in ("print", "copy"):
        for colour, cents in (("mono", 5), ("color", 25)):
            await hub.prices.set(PriceRecord(function, colour, cents))
            await hub.prices.set(PriceRecord(function, colour, cents - 2, duplex=True))
    for name in ("floor-1", "floor-2"):
        await hub.devices.upsert_printer(PrinterRecord(name, address="127.0.0.1:9"))
        await hub.devices.create_terminal(TerminalRecord(f"t-{name}", printer=name))
    await hub.devices.create_terminal(TerminalRecord("k-1", kind="kiosk"))
    for n in range(9):
        await hub.users.create(UserRecord(f"user{n}", full_name=f"User {n}", department=f"dept{n % 3}"))
        await hub.accounts.adjust(
            Adjustment(100_000, "start credit", f"start-{n}", user=UserRef(username=f"user{n}"))
        )
    await hub.projects.create(ProjectRecord("P-1", all_users=True))


async def _month(hub: Hub, clock: FakeClock, seed: int) -> Generated:
    """Usage on random days of March 2026 (and some in February and April, which the March
    report must leave out), refunds, adjustments, cash and vouchers."""
    rng = random.Random(seed)
    made = Generated()
    store = hub.accounts._store  # the generator writes usage as terminals do, one transaction each
    start = _us(MARCH)
    user_ids = {u.username: u.id for u in (hub.users.get(UserRef(username=f"user{n}")) for n in range(9))}
    for index in range(240):
        day = rng.randrange(-3, 34)  # before, in and after March
        clock._now_us = start + day * DAY_S * 1_000_000 + rng.randrange(DAY_S) * 1_000_000
        pages, colour = rng.randint(1, 9), rng.random() < 0.3
        line = UsageLine(
            function=rng.choice(("print", "copy")),
            color="color" if colour else "mono",
            paper_size="A4",
            duplex=rng.random() < 0.4,
            pages=pages,
        )
        report = UsageReport(
            user_id=user_ids[f"user{rng.randrange(9)}"],
            terminal_id=rng.choice(("t-floor-1", "t-floor-2")),
            idempotency_key=f"u-{seed}-{index}",
            lines=[line],
            project_code="P-1" if rng.random() < 0.2 else "",
            performed=True,
        )
        now = clock.now_us()

        def apply(tx: Tx, r: UsageReport = report, t: int = now) -> Any:
            return apply_usage(tx, r, t, "UTC")

        result = await store.write(apply)
        if 0 <= day < 31:
            made.pages += pages
            made.colour_pages += pages if colour else 0
            made.charged_cents += result.charged_cents
        made.usage_ids.append(result.transaction_id)
    # refunds recorded on 10 March: some of March's usage, some of February's
    clock._now_us = start + 9 * DAY_S * 1_000_000
    for transaction_id in rng.sample(made.usage_ids, 12):

        def charged_of(tx: Tx, t: int = transaction_id) -> int:
            return int(
                tx.scalar("SELECT SUM(amount_cents) FROM usage_lines WHERE transaction_id = :t", {"t": t})
            )

        charged = hub.accounts._store.read(charged_of)
        await hub.accounts.refund(transaction_id, "jammed")
        await hub.accounts.refund(transaction_id, "jammed")  # a second click refunds nothing more
        made.refunded_cents += charged
    # an admin's corrections on 11 March (and one in April, outside the report)
    for day, amount in ((10, 250), (10, -75), (40, 999)):
        clock._now_us = start + day * DAY_S * 1_000_000
        await hub.accounts.adjust(
            Adjustment(amount, "correction", f"fix-{day}-{amount}", user=UserRef(username="user3"))
        )
        made.adjusted_cents += amount if day < 31 else 0
    # cash at the kiosk on 12 March, and vouchers redeemed on 20 March
    clock._now_us = start + 11 * DAY_S * 1_000_000
    recharge = await hub.kiosks.open_recharge("k-1", user_ids["user1"])
    for n, value in enumerate((200, 100, 500, 1000)):
        kind = "note" if value >= 500 else "coin"
        event = CashEvent("k-1", recharge.recharge_id, f"cash-{n}", value, "EUR", f"{value}", kind)
        await hub.kiosks.credit(event)
        await hub.kiosks.credit(event)  # the kiosk's retry
        made.cash_cents += value
    await hub.kiosks.close_recharge("k-1", recharge.recharge_id)
    await hub.kiosks.empty(Emptying("k-1", {("coin", 200): 1, ("coin", 100): 1, ("note", 500): 1}, "empty-1"))
    batch = await hub.vouchers.create_batch(
        value_cents=750, count=3, expires_us=_us(MARCH) * 2, prefix="", label=""
    )
    clock._now_us = start + 19 * DAY_S * 1_000_000
    for code in batch.codes[:2]:
        await hub.vouchers.redeem_for_user(code, UserRef(username="user2"))
        made.voucher_cents += 750
    return made


def _revenue_by_sql(db: Database, period: Period) -> int:
    """The revenue account's movement over the period, read here without the domain."""

    def read(tx: Tx) -> int:
        return int(
            tx.scalar(
                """SELECT COALESCE(SUM(e.amount_cents), 0) FROM entries e
                   JOIN accounts a ON a.id = e.account_id JOIN transactions t ON t.id = e.transaction_id
                   WHERE a.name = :n AND t.recorded_us >= :s AND t.recorded_us < :e""",
                {"n": account_names.REVENUE, "s": period.start_us, "e": period.end_us},
            )
        )

    return db.read(read)


@pytest.fixture
async def month(db: Database, tmp_path: Path) -> tuple[Hub, Generated]:
    clock = FakeClock(_us(MARCH) - 10 * DAY_S * 1_000_000)
    hub = Hub(db, hub_config(tmp_path), clock, b"s" * 32)
    await _setup(hub)
    return hub, await _month(hub, clock, seed=16)


async def test_every_usage_report_matches_the_ledger(month: tuple[Hub, Generated], db: Database) -> None:
    hub, made = month
    march = hub.reports.month(2026, 3)
    ledger = hub.reports.ledger_totals(march)
    assert ledger.revenue_cents == made.charged_cents - made.refunded_cents == _revenue_by_sql(db, march)
    for dimension in DIMENSIONS:
        table = hub.reports.table("usage", march, dimension)
        headings = [c.key for c in table.columns]
        totals: dict[str, Any] = dict(zip(headings, table.totals or [], strict=True))
        assert totals["charged_cents"] == made.charged_cents, dimension
        assert totals["net_cents"] == ledger.revenue_cents, dimension
        assert totals["mono_pages"] + totals["color_pages"] == made.pages, dimension
        assert totals["color_pages"] == made.colour_pages, dimension
        # the rows add up to the totals
        for index, column in enumerate(table.columns[1:], start=1):
            assert sum(int(row[index] or 0) for row in table.rows) == totals[column.key], (
                dimension,
                column.key,
            )
    by_day = hub.reports.table("usage", march, "day")
    assert [row[0] for row in by_day.rows][:2] == ["2026-03-01", "2026-03-02"]


async def test_cash_and_vouchers_match_the_ledger(month: tuple[Hub, Generated]) -> None:
    hub, made = month
    march = hub.reports.month(2026, 3)
    table = hub.reports.table("cash", march)
    keys = [c.key for c in table.columns]
    rows = {row[0]: dict(zip(keys, row, strict=True)) for row in table.rows}
    ledger = hub.reports.ledger_totals(march)
    assert rows["k-1"]["credited_cents"] == made.cash_cents == ledger.cash_cents
    assert rows["k-1"]["expected_cents"] == 1800 and rows["k-1"]["counted_cents"] == 800
    assert rows["k-1"]["difference_cents"] == -1000
    assert rows["Vouchers redeemed"]["credited_cents"] == made.voucher_cents == ledger.vouchers_cents
    assert rows["Adjustments by admins"]["credited_cents"] == made.adjusted_cents == ledger.adjustments_cents
    totals = dict(zip(keys, table.totals or [], strict=True))
    assert totals["credited_cents"] == ledger.cash_cents + ledger.vouchers_cents + ledger.adjustments_cents
    assert hub.reports.ledger_totals(hub.reports.month(2026, 5)).cash_cents == 0


async def test_environment_report_counts_sheets(month: tuple[Hub, Generated]) -> None:
    hub, made = month
    table = hub.reports.table("environment", hub.reports.month(2026, 3))
    assert len(table.rows) == 31
    totals: dict[str, Any] = dict(zip([c.key for c in table.columns], table.totals or [], strict=True))
    rows: Any = table.rows
    assert totals["mono_pages"] + totals["color_pages"] == made.pages
    assert 0 < totals["sheets"] <= made.pages
    assert all(row[5] == row[4] * 4500 // 1000 for row in rows)  # 4.5 g per sheet
    assert totals["co2_g"] == sum(row[5] for row in rows)


async def test_exports_carry_the_same_figures(month: tuple[Hub, Generated], tmp_path: Path) -> None:
    hub, made = month
    march = hub.reports.month(2026, 3)
    table = hub.reports.table("usage", march, "department")
    text = hub.reports.export("usage", march, "department", "csv").decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0] == [c.heading for c in table.columns]
    assert (
        lines[-1][0] == "Total"
        and lines[-1][9] == f"{made.charged_cents // 100}.{made.charged_cents % 100:02d}"
    )
    book = openpyxl.load_workbook(io.BytesIO(hub.reports.export("usage", march, "department", "xlsx")))
    sheet = book.active
    assert sheet is not None
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    total_row = next(row for row in values if row[0] == "Total")
    assert round(float(str(total_row[9])) * 100) == made.charged_cents
    assert len(sheet._charts) == 1  # type: ignore[attr-defined]  # the chart travels with the data
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(hub.reports.export("usage", march, "department", "pdf"))
    words = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Usage by department" in words and "dept0" in words
    with pytest.raises(InvalidRequest):
        hub.reports.export("usage", march, "department", "exe")


async def test_periods_are_bounded(db: Database, tmp_path: Path) -> None:
    hub = Hub(db, hub_config(tmp_path), FakeClock(), b"s" * 32)
    assert hub.reports.period("2026-01-01", "2026-12-31").label == "2026-01-01 – 2026-12-31"
    for first, last in (
        ("2026-01-01", "2027-01-02"),
        ("2026-02-01", "2026-01-31"),
        ("2026-1-1", "x"),
        ("", ""),
    ):
        with pytest.raises(InvalidRequest):
            hub.reports.period(first, last)
    longest = hub.reports.period("2024-01-01", "2024-12-31")  # a leap year: 366 days
    assert (longest.end_us - longest.start_us) // (DAY_S * 1_000_000) == MAX_PERIOD_DAYS
    with pytest.raises(InvalidRequest):
        hub.reports.table("usage", hub.reports.month(2026, 1), "colour")


async def test_search_as_you_type(db: Database, tmp_path: Path) -> None:
    hub = Hub(db, hub_config(tmp_path), FakeClock(), b"s" * 32)
    for name, full in (
        ("anna", "Anna Schmidt"),
        ("annabel", "Annabel Lee"),
        ("bob", "Bob Anders"),
        ("a_b", "A B"),
    ):
        await hub.users.create(UserRecord(name, full_name=full, email=f"{name}@example.org"))
    await hub.users.add_card(UserRef(username="bob"), "04A1B2C3", "")
    assert [u.username for u in hub.users.find("ANN")] == ["anna", "annabel"]
    assert [u.username for u in hub.users.find("bob anders")] == ["bob"]
    assert [u.username for u in hub.users.find("annabel@")] == ["annabel"]
    assert [u.username for u in hub.users.find("04a1b2c3")] == ["bob"]
    assert [u.username for u in hub.users.find("a_")] == ["a_b"]  # "_" is no wildcard
    assert [u.username for u in hub.users.find("%")] == []
    assert len(hub.users.find("a", limit=10_000)) <= 50
    assert hub.users.find("   ") == []
