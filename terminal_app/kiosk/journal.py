"""The kiosk's durable cash journal: every coin and note is on disk before the hub is asked.

SQLite in WAL mode with ``synchronous=FULL`` (:func:`~terminal_app.session.store.open_store`): a committed
row survives a kill -9 or a power cut. Three tables:

* ``cash_events``: one row per credit event, keyed by the event's ``idempotency_key``, with the
  recharge it belongs to, value, currency, denomination and device kind. ``pending`` until the
  hub acknowledges it (``CREATED`` or ``ALREADY_APPLIED``), then ``credited`` with the hub's
  transaction id (kept as the kiosk's own audit trail). A row the hub refuses for good is
  ``failed``; money that landed while no recharge was ever open is ``orphan``. Both wait for an
  operator and are never sent again by themselves.
* ``device_counters``: each acceptor's :class:`~cash_devices.CounterState`, written in the same
  transaction as the event it came with, and passed back as ``resume`` at start: events the
  kiosk never journaled are delivered again by the device, events it did are skipped by key.
* ``recharges``: recharges not yet closed at the hub; a coin that lands after a crash belongs to
  the newest of them.
* ``receipts``: the receipt of a closed recharge, written in the same transaction as the close.
  ``due`` until it is delivered: ``printing`` is committed before the first byte goes to the
  printer, ``printed`` after the last; ``shown`` when it went to the screen instead (no paper,
  a printer error, or a crash while printing: it may have printed, it is not printed again).
  The engine delivers due receipts at start, so a recharge a crash closed gets its receipt once.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from cash_devices import CounterState
from terminal_app.errors import JournalError
from terminal_app.session.store import open_store

__all__ = ["CashJournal", "DueReceipt", "JournaledCash", "OpenRechargeRecord"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS cash_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    idempotency_key TEXT NOT NULL UNIQUE,
    recharge_id INTEGER,
    value_minor INTEGER NOT NULL CHECK (value_minor > 0),
    currency TEXT NOT NULL,
    denomination TEXT NOT NULL,
    device_kind TEXT NOT NULL CHECK (device_kind IN ('coin', 'note')),
    occurred_us INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'credited', 'failed', 'orphan')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    transaction_id INTEGER
);
CREATE TABLE IF NOT EXISTS device_counters (
    device TEXT PRIMARY KEY,
    device_serial TEXT NOT NULL,
    epoch INTEGER NOT NULL,
    event_counter INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS recharges (
    recharge_id INTEGER PRIMARY KEY,
    username TEXT NOT NULL,
    opened_us INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'closed'))
);
CREATE TABLE IF NOT EXISTS receipts (
    recharge_id INTEGER PRIMARY KEY,
    username TEXT NOT NULL,
    amount_minor INTEGER NOT NULL,
    balance_minor INTEGER NOT NULL,
    closed_us INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT 'due' CHECK (state IN ('due', 'printing', 'printed', 'shown'))
);
"""


@dataclass(frozen=True)
class JournaledCash:
    """One cash event as journaled."""

    seq: int
    key: str
    recharge_id: int | None
    value_minor: int
    currency: str
    denomination: str
    device_kind: str
    occurred_us: int
    state: str
    attempts: int
    transaction_id: int | None


@dataclass(frozen=True)
class OpenRechargeRecord:
    """A recharge the journal believes is open."""

    recharge_id: int
    username: str
    opened_us: int


@dataclass(frozen=True)
class DueReceipt:
    """The receipt of a closed recharge, not yet delivered (``state`` due or printing)."""

    recharge_id: int
    username: str
    amount_minor: int
    balance_minor: int
    closed_us: int
    state: str = "due"


class CashJournal:
    """The kiosk's cash journal (see the module docstring). One owner: the kiosk engine."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection
        try:
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise JournalError(f"cannot create the cash journal: {exc}") from exc

    @classmethod
    def open(cls, path: Path) -> CashJournal:
        """Open (or create) the journal file with durable settings."""
        return cls(open_store(path))

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    # -- events ---------------------------------------------------------------------------

    def record(self, event: JournaledCash, device: str, serial: str, counter: CounterState) -> bool:
        """Store an event and its device's counter in one transaction; False if the key is known."""
        try:
            with self._transaction():
                cursor = self._db.execute(
                    "INSERT OR IGNORE INTO cash_events (idempotency_key, recharge_id, value_minor, currency,"
                    " denomination, device_kind, occurred_us, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        event.key,
                        event.recharge_id,
                        event.value_minor,
                        event.currency,
                        event.denomination,
                        event.device_kind,
                        event.occurred_us,
                        event.state,
                    ),
                )
                self._save_counter(device, serial, counter)
        except sqlite3.Error as exc:
            raise JournalError(f"cannot journal cash event {event.key}: {exc}") from exc
        return cursor.rowcount == 1

    def save_counter(self, device: str, serial: str, counter: CounterState) -> None:
        """Remember where a device is in its event sequence (after non-credit events)."""
        with self._transaction():
            self._save_counter(device, serial, counter)

    def counter(self, device: str) -> tuple[str, CounterState] | None:
        """``(device serial, counter state)`` last saved for a configured device name."""
        row = self._db.execute("SELECT * FROM device_counters WHERE device = ?", (device,)).fetchone()
        if row is None:
            return None
        return str(row["device_serial"]), CounterState(int(row["epoch"]), int(row["event_counter"]))

    def pending(self) -> list[JournaledCash]:
        """Events still to send, oldest first."""
        return self._select("state = 'pending'")

    def events(self, state: str | None = None) -> list[JournaledCash]:
        """Every event (or those in ``state``), oldest first."""
        return self._select("state = ?", (state,)) if state else self._select("1 = 1")

    def pending_count(self) -> int:
        """How many events wait for the hub."""
        return int(self._db.execute("SELECT COUNT(*) FROM cash_events WHERE state = 'pending'").fetchone()[0])

    def credited(self, key: str, transaction_id: int) -> None:
        """The hub acknowledged the event."""
        self._db.execute(
            "UPDATE cash_events SET state = 'credited', transaction_id = ?, attempts = attempts + 1"
            " WHERE idempotency_key = ?",
            (transaction_id, key),
        )

    def attempted(self, key: str, error: str) -> None:
        """A send got no answer: count it, keep the event pending."""
        self._db.execute(
            "UPDATE cash_events SET attempts = attempts + 1, last_error = ? WHERE idempotency_key = ?",
            (error[:500], key),
        )

    def fail(self, key: str, error: str) -> None:
        """The hub refused the event for good: keep it for an operator, stop sending it."""
        self._db.execute(
            "UPDATE cash_events SET state = 'failed', attempts = attempts + 1, last_error = ?"
            " WHERE idempotency_key = ?",
            (error[:500], key),
        )

    # -- recharges ------------------------------------------------------------------------

    def recharge_opened(self, recharge_id: int, username: str, opened_us: int) -> None:
        """A recharge is open: coins that land from now on belong to it (even after a crash)."""
        self._db.execute(
            "INSERT OR REPLACE INTO recharges (recharge_id, username, opened_us, state)"
            " VALUES (?, ?, ?, 'open')",
            (recharge_id, username, opened_us),
        )

    def recharge_closed(self, recharge_id: int, receipt: DueReceipt | None = None) -> None:
        """The hub closed the recharge; its receipt (if any) is due, in the same transaction."""
        with self._transaction():
            self._db.execute("UPDATE recharges SET state = 'closed' WHERE recharge_id = ?", (recharge_id,))
            if receipt is not None:
                self._db.execute(
                    "INSERT OR IGNORE INTO receipts (recharge_id, username, amount_minor, balance_minor,"
                    " closed_us) VALUES (?, ?, ?, ?, ?)",
                    (
                        receipt.recharge_id,
                        receipt.username,
                        receipt.amount_minor,
                        receipt.balance_minor,
                        receipt.closed_us,
                    ),
                )

    def receipts_due(self) -> list[DueReceipt]:
        """Receipts not delivered yet (due, or cut off while printing), oldest first."""
        rows = self._db.execute(
            "SELECT * FROM receipts WHERE state IN ('due', 'printing') ORDER BY recharge_id"
        ).fetchall()
        return [
            DueReceipt(
                int(row["recharge_id"]),
                str(row["username"]),
                int(row["amount_minor"]),
                int(row["balance_minor"]),
                int(row["closed_us"]),
                str(row["state"]),
            )
            for row in rows
        ]

    def receipt_state(self, recharge_id: int, state: str) -> None:
        """Where the receipt's delivery is: printing, printed or shown."""
        self._db.execute("UPDATE receipts SET state = ? WHERE recharge_id = ?", (state, recharge_id))

    def open_recharges(self) -> list[OpenRechargeRecord]:
        """Recharges not closed at the hub yet (left by a crash or an unreachable hub, or open now)."""
        query = "SELECT * FROM recharges WHERE state = 'open' ORDER BY recharge_id"
        return [
            OpenRechargeRecord(int(row["recharge_id"]), str(row["username"]), int(row["opened_us"]))
            for row in self._db.execute(query).fetchall()
        ]

    def last_recharge_id(self) -> int | None:
        """The most recent recharge (open or closed): where money without an open recharge goes."""
        row = self._db.execute("SELECT MAX(recharge_id) FROM recharges").fetchone()
        return None if row[0] is None else int(row[0])

    # -- internals ------------------------------------------------------------------------

    def _save_counter(self, device: str, serial: str, counter: CounterState) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO device_counters (device, device_serial, epoch, event_counter)"
            " VALUES (?, ?, ?, ?)",
            (device, serial, counter.epoch, counter.event_counter),
        )

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)

    def _select(self, where: str, args: tuple[object, ...] = ()) -> list[JournaledCash]:
        rows = self._db.execute(f"SELECT * FROM cash_events WHERE {where} ORDER BY seq", args).fetchall()
        return [
            JournaledCash(
                seq=int(row["seq"]),
                key=str(row["idempotency_key"]),
                recharge_id=None if row["recharge_id"] is None else int(row["recharge_id"]),
                value_minor=int(row["value_minor"]),
                currency=str(row["currency"]),
                denomination=str(row["denomination"]),
                device_kind=str(row["device_kind"]),
                occurred_us=int(row["occurred_us"]),
                state=str(row["state"]),
                attempts=int(row["attempts"]),
                transaction_id=None if row["transaction_id"] is None else int(row["transaction_id"]),
            )
            for row in rows
        ]


class _Transaction:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` (rollback on error) on an autocommit connection."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, traceback: object) -> None:
        self._db.execute("COMMIT" if exc_type is None else "ROLLBACK")
