"""The kiosk's cash journal: each key once with its device counter, durable, recharges left open."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from cash_devices import CounterState
from terminal_app.kiosk.journal import CashJournal, JournaledCash


def _coin(key: str, value: int = 200, recharge_id: int | None = 7) -> JournaledCash:
    return JournaledCash(0, key, recharge_id, value, "EUR", "EU200A", "coin", 1, "pending", 0, None)


def test_the_journal_keeps_each_key_once_with_its_device_counter(tmp_path: Path) -> None:
    journal = CashJournal.open(tmp_path / "kiosk.db")
    assert journal.record(_coin("S/0/1"), "coin", "S", CounterState(0, 1))
    assert not journal.record(_coin("S/0/1"), "coin", "S", CounterState(0, 1))  # delivered again on resume
    assert journal.record(_coin("S/0/2", 50), "coin", "S", CounterState(0, 2))
    assert journal.counter("coin") == ("S", CounterState(0, 2))
    assert [(row.key, row.value_minor) for row in journal.pending()] == [("S/0/1", 200), ("S/0/2", 50)]
    journal.credited("S/0/1", 41)
    journal.attempted("S/0/2", "UNAVAILABLE")
    journal.close()

    reopened = CashJournal.open(tmp_path / "kiosk.db")  # what a restart sees
    [pending] = reopened.pending()
    assert (pending.key, pending.attempts, pending.state) == ("S/0/2", 1, "pending")
    assert [row.transaction_id for row in reopened.events("credited")] == [41]
    reopened.fail("S/0/2", "NOT_FOUND: no such recharge")
    assert reopened.pending_count() == 0 and [row.key for row in reopened.events("failed")] == ["S/0/2"]
    reopened.close()


def test_the_journal_is_durable_and_remembers_recharges_left_open(tmp_path: Path) -> None:
    journal = CashJournal.open(tmp_path / "kiosk.db")
    journal.recharge_opened(3, "alice", 10)
    journal.recharge_opened(4, "bob", 20)
    journal.recharge_closed(3)
    assert [r.recharge_id for r in journal.open_recharges()] == [4] and journal.last_recharge_id() == 4
    with sqlite3.connect(tmp_path / "kiosk.db") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    journal.close()
