"""Recharge kiosks: recharges, cash credited exactly once, and the cash box of each kiosk.

Money in a kiosk's box is mirrored by the system account ``system:cashbox:<kiosk id>``. As for
every system account (see :mod:`hub_server.domain.ledger`) its balance is the negation of what it has
handed out: each coin or note credited to a user moves its value from the cash box to the user,
so **the cash the box should hold is minus the account's balance**.

Emptying a box is one transaction: the cash box is brought back to 0 (``+expected``), the cash
taken out goes to ``system:cash-collected`` (``-counted``: it now holds that cash, same sign rule),
and the difference lands on ``system:cash-differences`` (``counted - expected``: positive is a
surplus, like revenue; negative a shortage).

A cash event is credited once per idempotency key, scoped to the kiosk (``kiosk-cash:<id>``);
the kiosk builds the key from the device serial and its event counter or escrow id. A replay
gets the first answer; a reuse with another payload is refused. Cash events need no live
session: after a crash the kiosk replays its journal for recharges whose session has expired,
and money that was inserted must become credit as long as the recharge exists.

:class:`Kiosks` is the domain object the services call.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from hub_server.clock import Clock
from hub_server.config import HubConfig
from hub_server.domain import account_names, ledger, validation
from hub_server.domain.accounts import money_state
from hub_server.domain.devices import require_kiosk
from hub_server.domain.store import Store
from hub_server.domain.users import has_role
from hub_server.errors import InvalidRequest, NotFound, PermissionDenied, Refused
from hub_server.storage import Tx

DEVICE_KINDS = ("coin", "note")
OPERATOR_ROLE = "operator"
MAX_DENOMINATION_CHARS = 32
MAX_NOTE_CHARS = 256
MAX_VALUE_CENTS = 1_000_000  # a single coin or note above 10 000.00 is a bug, not money


def require_prepaid_user(tx: Tx, user_id: int) -> str:
    """The username of an active user billed prepaid (who can hold credit); refuse others."""
    row = tx.one("SELECT username, billing, active FROM users WHERE id = :u", {"u": user_id})
    if row is None or not row["active"]:
        raise NotFound(f"no active user {user_id}")
    if row["billing"] != "prepaid":
        raise Refused("this user is billed to a department and has no credit to recharge")
    return str(row["username"])


def require_operator(tx: Tx, user_id: int) -> None:
    """Refuse unless the user holds the ``operator`` role."""
    if not has_role(tx, user_id, OPERATOR_ROLE):
        raise PermissionDenied(f"the role {OPERATOR_ROLE!r} is needed for the cash box")


# -- recharges ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenedRecharge:
    """The answer to opening a recharge."""

    recharge_id: int
    username: str
    balance_cents: int
    arrears_cents: int


def open_recharge(tx: Tx, kiosk_id: str, user_id: int, now_us: int) -> OpenedRecharge:
    """Start a recharge at a kiosk for a prepaid user."""
    require_kiosk(tx, kiosk_id)
    username = require_prepaid_user(tx, user_id)
    row = tx.one(
        "INSERT INTO recharges (kiosk_id, user_id, opened_us) VALUES (:k, :u, :t) RETURNING id",
        {"k": kiosk_id, "u": user_id, "t": now_us},
    )
    assert row is not None
    balance, arrears = money_state(tx, user_id)
    return OpenedRecharge(int(row["id"]), username, balance, arrears)


def _recharge(tx: Tx, kiosk_id: str, recharge_id: int) -> dict[str, Any]:
    row = tx.one(
        "SELECT r.*, u.username FROM recharges r JOIN users u ON u.id = r.user_id"
        " WHERE r.id = :r AND r.kiosk_id = :k",
        {"r": recharge_id, "k": kiosk_id},
    )
    if row is None:
        raise NotFound(f"no recharge {recharge_id} at kiosk {kiosk_id!r}")
    return dict(row)


@dataclass(frozen=True)
class CashEvent:
    """One coin or stacked note reported by a kiosk."""

    kiosk_id: str
    recharge_id: int
    idempotency_key: str
    value_cents: int
    currency: str
    denomination: str
    device_kind: str
    occurred_us: int | None = None

    def validate(self, hub_currency: str) -> None:
        """Refuse what cannot be a real coin or note of this hub."""
        validation.idempotency_key(self.idempotency_key)
        if self.currency != hub_currency:
            raise InvalidRequest(f"currency {self.currency!r} is not this hub's ({hub_currency})")
        if not 0 < self.value_cents <= MAX_VALUE_CENTS:
            raise InvalidRequest(f"value must be 1..{MAX_VALUE_CENTS} minor units")
        if self.device_kind not in DEVICE_KINDS:
            raise InvalidRequest("device kind must be coin or note")
        if len(self.denomination) > MAX_DENOMINATION_CHARS or not self.denomination.isprintable():
            raise InvalidRequest(f"denomination must be up to {MAX_DENOMINATION_CHARS} printable characters")

    def fingerprint(self) -> str:
        """Hash of everything that makes this event what it is (the kiosk's clock excluded)."""
        return ledger.request_fingerprint(
            {
                "recharge": self.recharge_id,
                "value": self.value_cents,
                "currency": self.currency,
                "denomination": self.denomination,
                "kind": self.device_kind,
            }
        )


@dataclass
class CreditResult:
    """The answer to a cash event; stored and returned unchanged to every replay."""

    transaction_id: int
    credited_cents: int
    balance_cents: int
    arrears_cents: int
    recharge_total_cents: int
    recorded_us: int
    already_applied: bool = False

    def to_json(self) -> dict[str, Any]:
        """The stored form."""
        data = asdict(self)
        data.pop("already_applied")
        return data


def credit_cash_event(tx: Tx, event: CashEvent, hub_currency: str, now_us: int) -> CreditResult:
    """Credit one coin or note to the recharge's user, exactly once per idempotency key."""
    event.validate(hub_currency)
    recharge = _recharge(tx, event.kiosk_id, event.recharge_id)
    claim = ledger.open_transaction(
        tx,
        kind="cash",
        recorded_us=now_us,
        idempotency=(f"kiosk-cash:{event.kiosk_id}", event.idempotency_key, event.fingerprint()),
        user_id=recharge["user_id"],
        terminal_id=event.kiosk_id,
        description=f"{event.device_kind} {event.denomination}".strip(),
        occurred_us=event.occurred_us,
    )
    if claim.stored_response is not None:
        return CreditResult(**claim.stored_response, already_applied=True)
    cashbox = ledger.create_account(tx, account_names.cashbox(event.kiosk_id), "system", now_us)
    ledger.credit_prepaid(tx, claim.transaction_id, recharge["user_id"], event.value_cents, cashbox, now_us)
    tx.execute(
        """INSERT INTO cash_events (transaction_id, recharge_id, kiosk_id, device_kind, value_cents,
               denomination)
           VALUES (:t, :r, :k, :d, :v, :n)""",
        {
            "t": claim.transaction_id,
            "r": event.recharge_id,
            "k": event.kiosk_id,
            "d": event.device_kind,
            "v": event.value_cents,
            "n": event.denomination,
        },
    )
    balance, arrears = money_state(tx, recharge["user_id"])
    total = tx.scalar(
        "SELECT COALESCE(SUM(value_cents), 0) AS s FROM cash_events WHERE recharge_id = :r",
        {"r": event.recharge_id},
    )
    result = CreditResult(claim.transaction_id, event.value_cents, balance, arrears, int(total), now_us)
    ledger.store_response(tx, claim.transaction_id, result.to_json())
    return result


@dataclass
class RechargeSummary:
    """What a recharge brought in, for the kiosk's screen and receipt."""

    recharge_id: int
    kiosk_id: str
    username: str
    counts: dict[tuple[str, int], int]  # (device kind, value) -> how many
    total_cents: int
    balance_cents: int
    arrears_cents: int
    transaction_ids: list[int]
    opened_us: int
    closed_us: int | None


def close_recharge(tx: Tx, kiosk_id: str, recharge_id: int, now_us: int) -> RechargeSummary:
    """Mark a recharge closed (the first time only) and summarise it."""
    tx.execute(
        "UPDATE recharges SET closed_us = :t WHERE id = :r AND kiosk_id = :k AND closed_us IS NULL",
        {"t": now_us, "r": recharge_id, "k": kiosk_id},
    )
    return recharge_summary(tx, kiosk_id, recharge_id)


def recharge_summary(tx: Tx, kiosk_id: str, recharge_id: int) -> RechargeSummary:
    """A recharge's coins and notes, total, and the user's money now."""
    recharge = _recharge(tx, kiosk_id, recharge_id)
    events = tx.execute(
        "SELECT transaction_id, device_kind, value_cents FROM cash_events"
        " WHERE recharge_id = :r ORDER BY transaction_id",
        {"r": recharge_id},
    )
    counts: dict[tuple[str, int], int] = {}
    for event in events:
        slot = (str(event["device_kind"]), int(event["value_cents"]))
        counts[slot] = counts.get(slot, 0) + 1
    balance, arrears = money_state(tx, recharge["user_id"])
    return RechargeSummary(
        recharge_id=recharge_id,
        kiosk_id=kiosk_id,
        username=recharge["username"],
        counts=dict(sorted(counts.items())),
        total_cents=sum(int(event["value_cents"]) for event in events),
        balance_cents=balance,
        arrears_cents=arrears,
        transaction_ids=[int(event["transaction_id"]) for event in events],
        opened_us=int(recharge["opened_us"]),
        closed_us=recharge["closed_us"],
    )


# -- the cash box -------------------------------------------------------------------------------


@dataclass
class CashBoxLine:
    """One denomination of a cash box: expected from the credited events, and counted."""

    device_kind: str
    value_cents: int
    expected_count: int
    counted_count: int = 0


@dataclass
class CashBoxState:
    """What a kiosk's box should hold now."""

    kiosk_id: str
    expected_cents: int
    lines: list[CashBoxLine]
    last_emptied_us: int | None


def cashbox_state(tx: Tx, kiosk_id: str) -> CashBoxState:
    """The box's expected content since its last emptying (the ledger's total, per denomination)."""
    require_kiosk(tx, kiosk_id)
    account = tx.scalar("SELECT id FROM accounts WHERE name = :n", {"n": account_names.cashbox(kiosk_id)})
    rows = tx.execute(
        """SELECT device_kind, value_cents, COUNT(*) AS n FROM cash_events
           WHERE kiosk_id = :k AND emptying_id IS NULL
           GROUP BY device_kind, value_cents ORDER BY device_kind, value_cents""",
        {"k": kiosk_id},
    )
    emptied = tx.scalar(
        "SELECT MAX(emptied_us) AS t FROM cashbox_emptyings WHERE kiosk_id = :k", {"k": kiosk_id}
    )
    return CashBoxState(
        kiosk_id=kiosk_id,
        expected_cents=-ledger.balance(tx, int(account)) if account is not None else 0,
        lines=[CashBoxLine(str(r["device_kind"]), int(r["value_cents"]), int(r["n"])) for r in rows],
        last_emptied_us=int(emptied) if emptied is not None else None,
    )


@dataclass
class CashBoxEmptied:
    """The answer to emptying a box; stored and returned unchanged to every replay."""

    transaction_id: int
    kiosk_id: str
    expected_cents: int
    counted_cents: int
    difference_cents: int
    lines: list[CashBoxLine]
    emptied_us: int
    already_applied: bool = False

    def to_json(self) -> dict[str, Any]:
        """The stored form."""
        data = asdict(self)
        data.pop("already_applied")
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CashBoxEmptied:
        """Rebuild a stored answer, marked as a replay."""
        lines = [CashBoxLine(**line) for line in data.pop("lines")]
        return cls(**data, lines=lines, already_applied=True)


@dataclass(frozen=True)
class Emptying:
    """An operator's count of a box they emptied."""

    kiosk_id: str
    counted: dict[tuple[str, int], int]  # (device kind, value in cents) -> count
    idempotency_key: str
    note: str = ""

    def validate(self) -> None:
        """Refuse a count that cannot be right."""
        validation.idempotency_key(self.idempotency_key)
        if len(self.note) > MAX_NOTE_CHARS:
            raise InvalidRequest(f"note longer than {MAX_NOTE_CHARS} characters")
        for (kind, value), count in self.counted.items():
            if kind not in DEVICE_KINDS or not 0 < value <= MAX_VALUE_CENTS or count < 0:
                raise InvalidRequest(f"bad count: {count} x {kind} of {value}")

    def fingerprint(self) -> str:
        """Hash of the count."""
        counted = sorted([kind, value, count] for (kind, value), count in self.counted.items())
        return ledger.request_fingerprint({"counted": counted, "note": self.note})


def empty_cashbox(tx: Tx, emptying: Emptying, now_us: int) -> CashBoxEmptied:
    """Reconcile a counted box against the ledger, book the difference, start a new period."""
    emptying.validate()
    require_kiosk(tx, emptying.kiosk_id)
    cashbox = ledger.create_account(tx, account_names.cashbox(emptying.kiosk_id), "system", now_us)
    # Held until commit: on PostgreSQL no coin is credited between reading and resetting the box.
    ledger.lock_account(tx, cashbox)
    state = cashbox_state(tx, emptying.kiosk_id)
    claim = ledger.open_transaction(
        tx,
        kind="cashbox-empty",
        recorded_us=now_us,
        idempotency=(f"cashbox:{emptying.kiosk_id}", emptying.idempotency_key, emptying.fingerprint()),
        terminal_id=emptying.kiosk_id,
        description=emptying.note or "cash box emptied",
    )
    if claim.stored_response is not None:
        return CashBoxEmptied.from_json(claim.stored_response)
    lines = _reconcile(state.lines, emptying.counted)
    counted = sum(line.value_cents * line.counted_count for line in lines)
    difference = counted - state.expected_cents
    collected = ledger.create_account(tx, account_names.CASH_COLLECTED, "system", now_us)
    differences = ledger.create_account(tx, account_names.CASH_DIFFERENCES, "system", now_us)
    ledger.post(
        tx,
        claim.transaction_id,
        [
            ledger.Posting(cashbox, state.expected_cents),
            ledger.Posting(collected, -counted),
            ledger.Posting(differences, difference),
        ],
    )
    _record_emptying(
        tx, emptying.kiosk_id, claim.transaction_id, state.expected_cents, counted, lines, now_us
    )
    result = CashBoxEmptied(
        claim.transaction_id, emptying.kiosk_id, state.expected_cents, counted, difference, lines, now_us
    )
    ledger.store_response(tx, claim.transaction_id, result.to_json())
    return result


def _reconcile(expected: list[CashBoxLine], counted: dict[tuple[str, int], int]) -> list[CashBoxLine]:
    lines = {(line.device_kind, line.value_cents): line for line in expected}
    for slot, count in counted.items():
        lines.setdefault(slot, CashBoxLine(slot[0], slot[1], 0)).counted_count = count
    return [lines[slot] for slot in sorted(lines)]


def _record_emptying(
    tx: Tx,
    kiosk_id: str,
    transaction_id: int,
    expected_cents: int,
    counted_cents: int,
    lines: list[CashBoxLine],
    now_us: int,
) -> None:
    row = tx.one(
        """INSERT INTO cashbox_emptyings (kiosk_id, transaction_id, expected_cents, counted_cents, emptied_us)
           VALUES (:k, :t, :e, :c, :now) RETURNING id""",
        {"k": kiosk_id, "t": transaction_id, "e": expected_cents, "c": counted_cents, "now": now_us},
    )
    assert row is not None
    tx.execute(
        "UPDATE cash_events SET emptying_id = :e WHERE kiosk_id = :k AND emptying_id IS NULL",
        {"e": row["id"], "k": kiosk_id},
    )
    for line in lines:
        tx.execute(
            """INSERT INTO cashbox_counts
                   (emptying_id, device_kind, value_cents, expected_count, counted_count)
               VALUES (:e, :d, :v, :x, :c)""",
            {
                "e": row["id"],
                "d": line.device_kind,
                "v": line.value_cents,
                "x": line.expected_count,
                "c": line.counted_count,
            },
        )


class Kiosks:
    """Recharges at kiosks and their cash boxes."""

    def __init__(self, store: Store, config: HubConfig, clock: Clock) -> None:
        self._store = store
        self._config = config
        self._clock = clock

    @property
    def currency(self) -> str:
        """The ISO 4217 code of every amount at this hub."""
        return self._config.currency

    async def open_recharge(self, kiosk_id: str, user_id: int) -> OpenedRecharge:
        """Start a recharge at a kiosk for a prepaid user."""
        now_us = self._clock.now_us()
        return await self._store.write(lambda tx: open_recharge(tx, kiosk_id, user_id, now_us))

    async def credit(self, event: CashEvent) -> CreditResult:
        """Credit one coin or note, exactly once per idempotency key."""
        currency, now_us = self._config.currency, self._clock.now_us()
        return await self._store.write(lambda tx: credit_cash_event(tx, event, currency, now_us))

    async def close_recharge(self, kiosk_id: str, recharge_id: int) -> RechargeSummary:
        """Close a recharge and summarise it."""
        now_us = self._clock.now_us()
        return await self._store.write(lambda tx: close_recharge(tx, kiosk_id, recharge_id, now_us))

    def cashbox(self, kiosk_id: str, operator_id: int | None = None) -> CashBoxState:
        """What a kiosk's box should hold (``operator_id``: the user at the kiosk, who must be an
        operator; None: an admin)."""

        def read(tx: Tx) -> CashBoxState:
            if operator_id is not None:
                require_operator(tx, operator_id)
            return cashbox_state(tx, kiosk_id)

        return self._store.read(read)

    async def empty(self, emptying: Emptying, operator_id: int | None = None) -> CashBoxEmptied:
        """Record an emptied box (``operator_id`` as for :meth:`cashbox`)."""
        now_us = self._clock.now_us()

        def empty(tx: Tx) -> CashBoxEmptied:
            if operator_id is not None:
                require_operator(tx, operator_id)
            return empty_cashbox(tx, emptying, now_us)

        return await self._store.write(empty)
