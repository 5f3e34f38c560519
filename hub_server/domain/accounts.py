"""Accounts as people and admins see them: which account usage is charged to, a user's money,
admin adjustments and credit limits, the ledger's entries and its check.

The postings themselves are :mod:`.ledger`'s; this module decides *which* accounts and reads
them back. The functions run inside a caller's transaction; :class:`Accounts` is the domain
object the services call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hub_server.clock import Clock
from hub_server.domain import account_names, ledger, validation
from hub_server.domain.projects import project_account
from hub_server.domain.store import Store
from hub_server.domain.users import UserRef, resolve_user, username_of
from hub_server.domain.validation import MAX_AMOUNT_CENTS, MAX_LIST
from hub_server.errors import InvalidRequest, NotFound
from hub_server.storage import Row, Tx

__all__ = [
    "ACCOUNT_KINDS",
    "AccountRecord",
    "Accounts",
    "Adjusted",
    "Adjustment",
    "LedgerCheck",
    "LedgerEntry",
    "arrears_cents",
    "charge_account",
    "money_state",
]

ACCOUNT_KINDS = ("prepaid", "postpaid", "system", "arrears")
MAX_REASON_CHARS = 256


@dataclass(frozen=True)
class AccountRecord:
    """An account, its balance and (prepaid) credit limit, and the user or group owning it."""

    id: int
    name: str
    kind: str
    balance_cents: int
    credit_limit_cents: int
    owner: str


@dataclass(frozen=True)
class LedgerEntry:
    """One entry of an account, with its transaction."""

    transaction_id: int
    recorded_us: int
    kind: str
    account: str
    amount_cents: int
    balance_after_cents: int
    description: str
    terminal_id: str
    idempotency_key: str


@dataclass(frozen=True)
class LedgerCheck:
    """The ledger's invariants re-proved over the whole book."""

    problems: list[str]
    transactions: int
    accounts: int

    @property
    def ok(self) -> bool:
        """True when no invariant failed."""
        return not self.problems


@dataclass(frozen=True)
class Adjustment:
    """An admin's change to a user's credit or to a named account, applied once per key."""

    amount_cents: int
    reason: str
    idempotency_key: str
    user: UserRef | None = None
    account: str = ""


@dataclass(frozen=True)
class Adjusted:
    """The answer to an adjustment (a replay of its key gets the first answer again)."""

    transaction_id: int
    balance_cents: int
    already_applied: bool = False


def charge_account(tx: Tx, user_id: int, project_code: str) -> tuple[int, str, int | None]:
    """(account id, account name, project id) that usage is posted against.

    A chosen project must be one the user may charge; otherwise the user's billing decides:
    their own prepaid credit, or their department's post-paid account.
    """
    if project_code:
        return project_account(tx, user_id, project_code)
    user = tx.one(
        "SELECT u.username, u.billing, g.name AS department FROM users u"
        " LEFT JOIN user_groups g ON g.id = u.department_id WHERE u.id = :u",
        {"u": user_id},
    )
    if user is None:
        raise NotFound(f"no user with id {user_id}")
    name = (
        account_names.department(str(user["department"]))
        if user["billing"] == "department"
        else account_names.prepaid(str(user["username"]))
    )
    return ledger.account_id(tx, name), name, None


def money_state(tx: Tx, user_id: int) -> tuple[int, int]:
    """A user's prepaid balance and what they owe (arrears), in cents."""
    row = tx.one(
        """SELECT
               (SELECT balance_cents FROM accounts WHERE owner_user_id = :u AND kind = 'prepaid') AS b,
               (SELECT -balance_cents FROM accounts WHERE owner_user_id = :u AND kind = 'arrears') AS a""",
        {"u": user_id},
    )
    assert row is not None
    return int(row["b"] or 0), int(row["a"] or 0)


def arrears_cents(tx: Tx, user_id: int) -> int:
    """What a user owes (0: nothing)."""
    return money_state(tx, user_id)[1]


def _account(row: Row) -> AccountRecord:
    return AccountRecord(
        id=int(row["id"]),
        name=str(row["name"]),
        kind=str(row["kind"]),
        balance_cents=int(row["balance_cents"]),
        credit_limit_cents=int(row["credit_limit_cents"]),
        owner=str(row["owner"] or ""),
    )


def list_accounts(tx: Tx, user_id: int | None) -> list[AccountRecord]:
    """Every account by name, or one user's."""
    where, params = ("WHERE a.owner_user_id = :u", {"u": user_id}) if user_id is not None else ("", {})
    rows = tx.execute(
        f"""SELECT a.*, COALESCE(u.username, g.name, '') AS owner FROM accounts a
            LEFT JOIN users u ON u.id = a.owner_user_id
            LEFT JOIN user_groups g ON g.id = a.owner_group_id {where} ORDER BY a.name""",
        params,
    )
    return [_account(r) for r in rows]


def set_credit_limit(tx: Tx, user_id: int, credit_limit_cents: int) -> AccountRecord:
    """Change how far below zero a user's credit may go (not below the current balance)."""
    validation.amount(credit_limit_cents, "a credit limit")
    row = tx.one(
        "UPDATE accounts SET credit_limit_cents = :l WHERE owner_user_id = :u AND kind = 'prepaid'"
        " AND balance_cents >= -:l RETURNING id",
        {"l": credit_limit_cents, "u": user_id},
    )
    if row is None:
        raise InvalidRequest("the balance is already below that limit")
    return next(a for a in list_accounts(tx, user_id) if a.kind == "prepaid")


def _validate(adjustment: Adjustment) -> None:
    if not adjustment.reason.strip():
        raise InvalidRequest("a credit adjustment needs a reason")
    validation.idempotency_key(adjustment.idempotency_key)
    validation.amount(adjustment.amount_cents, "an adjustment", low=-MAX_AMOUNT_CENTS)
    if adjustment.amount_cents == 0:
        raise InvalidRequest("amount must not be zero")


def adjust(tx: Tx, adjustment: Adjustment, now_us: int) -> Adjusted:
    """Move an amount between ``system:adjustments`` and a user's credit (settling their arrears
    first) or a named account, once per idempotency key."""
    user_id = resolve_user(tx, adjustment.user) if adjustment.user is not None else None
    target = ledger.account_id(tx, adjustment.account) if adjustment.account else None
    if user_id is None and target is None:
        raise InvalidRequest("a user or an account is needed")
    fingerprint = ledger.request_fingerprint(
        {"user": user_id, "account": target, "amount": adjustment.amount_cents, "reason": adjustment.reason}
    )
    claim = ledger.open_transaction(
        tx,
        kind="adjustment",
        recorded_us=now_us,
        idempotency=("admin", adjustment.idempotency_key, fingerprint),
        user_id=user_id,
        description=adjustment.reason[:MAX_REASON_CHARS],
    )
    if claim.stored_response is not None:
        return Adjusted(
            claim.transaction_id, int(claim.stored_response["balance_cents"]), already_applied=True
        )
    source = ledger.create_account(tx, account_names.ADJUSTMENTS, "system", now_us)
    if user_id is not None:
        balances = ledger.credit_prepaid(
            tx, claim.transaction_id, user_id, adjustment.amount_cents, source, now_us
        )
        target = ledger.account_id(tx, account_names.prepaid(username_of(tx, user_id)))
    else:
        assert target is not None
        balances = ledger.post(
            tx,
            claim.transaction_id,
            [
                ledger.Posting(target, adjustment.amount_cents),
                ledger.Posting(source, -adjustment.amount_cents),
            ],
        )
    balance = balances.get(target, ledger.balance(tx, target))
    ledger.store_response(tx, claim.transaction_id, {"balance_cents": balance})
    return Adjusted(claim.transaction_id, balance)


def ledger_entries(
    tx: Tx, user_id: int | None, account: str, before_transaction_id: int, limit: int
) -> list[LedgerEntry]:
    """Entries of a user's accounts or of one named account, newest first, before a transaction."""
    params: dict[str, Any]
    if user_id is not None:
        accounts = "(SELECT id FROM accounts WHERE owner_user_id = :u)"
        params = {"u": user_id}
    elif account:
        accounts = "(:a)"
        params = {"a": ledger.account_id(tx, account)}
    else:
        raise InvalidRequest("a user or an account is needed")
    params.update({"before": before_transaction_id or 2**62, "limit": limit})
    rows = tx.execute(
        f"""SELECT e.transaction_id, e.amount_cents, e.balance_after_cents, a.name AS account,
                   t.kind, t.recorded_us, t.description, t.terminal_id, t.idempotency_key
            FROM entries e JOIN transactions t ON t.id = e.transaction_id
            JOIN accounts a ON a.id = e.account_id
            WHERE e.account_id IN {accounts} AND e.transaction_id < :before
            ORDER BY e.id DESC LIMIT :limit""",
        params,
    )
    return [
        LedgerEntry(
            transaction_id=int(r["transaction_id"]),
            recorded_us=int(r["recorded_us"]),
            kind=str(r["kind"]),
            account=str(r["account"]),
            amount_cents=int(r["amount_cents"]),
            balance_after_cents=int(r["balance_after_cents"]),
            description=str(r["description"]),
            terminal_id=str(r["terminal_id"] or ""),
            idempotency_key=str(r["idempotency_key"] or ""),
        )
        for r in rows
    ]


def refund(tx: Tx, transaction_id: int, reason: str, now_us: int) -> int:
    """Reverse a usage transaction (only usage: money that came in otherwise is adjusted)."""
    kind = tx.scalar("SELECT kind FROM transactions WHERE id = :t", {"t": transaction_id})
    if kind is None:
        raise NotFound(f"no transaction {transaction_id}")
    if kind != "usage":
        raise InvalidRequest(f"transaction {transaction_id} is {kind}, not usage: only usage is refunded")
    return ledger.reverse(tx, transaction_id, now_us, reason[:MAX_REASON_CHARS])


def check(tx: Tx) -> LedgerCheck:
    """Re-prove the ledger's invariants; count transactions and accounts."""
    return LedgerCheck(
        problems=ledger.check_ledger(tx),
        transactions=int(tx.scalar("SELECT COUNT(*) AS n FROM transactions") or 0),
        accounts=int(tx.scalar("SELECT COUNT(*) AS n FROM accounts") or 0),
    )


class Accounts:
    """Money, for admins: accounts, adjustments, credit limits, the ledger."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    def all(self, user: UserRef | None = None) -> list[AccountRecord]:
        """Every account, or one user's."""
        return self._store.read(
            lambda tx: list_accounts(tx, None if user is None else resolve_user(tx, user))
        )

    async def adjust(self, adjustment: Adjustment) -> Adjusted:
        """Apply an adjustment once per idempotency key."""
        _validate(adjustment)
        now_us = self._clock.now_us()
        return await self._store.write(lambda tx: adjust(tx, adjustment, now_us))

    async def set_credit_limit(self, user: UserRef, credit_limit_cents: int) -> AccountRecord:
        """Change a user's credit limit; returns their prepaid account."""
        return await self._store.write(
            lambda tx: set_credit_limit(tx, resolve_user(tx, user), credit_limit_cents)
        )

    def ledger(
        self, user: UserRef | None, account: str, before_transaction_id: int = 0, limit: int = 0
    ) -> list[LedgerEntry]:
        """Entries of a user's accounts or of one account (``limit`` 0: 100, at most 1000)."""
        limit = min(limit or 100, MAX_LIST)

        def read(tx: Tx) -> list[LedgerEntry]:
            user_id = resolve_user(tx, user) if user is not None else None
            return ledger_entries(tx, user_id, account, before_transaction_id, limit)

        return self._store.read(read)

    def check(self) -> LedgerCheck:
        """Re-prove the ledger's invariants."""
        return self._store.read(check)

    async def refund(self, transaction_id: int, reason: str) -> int:
        """Give back a usage charge (a printed job, a copy session): its entries reversed once;
        refunding it again answers the first refund. Returns the refund's transaction id."""
        if not reason.strip():
            raise InvalidRequest("a refund needs a reason")
        now_us = self._clock.now_us()
        return await self._store.write(lambda tx: refund(tx, transaction_id, reason, now_us))
