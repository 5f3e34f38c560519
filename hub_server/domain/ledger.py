"""The double-entry ledger: accounts, transactions, entries, in integer cents.

Every money movement is one transaction whose entries sum to zero. Balances change only through
conditional ``UPDATE ... RETURNING`` statements inside the caller's write transaction, so no
read-then-write race can overdraw a prepaid account. The invariants are checked here, in
production, on every posting:

* a transaction's entries sum to zero;
* a prepaid account never goes below ``-credit_limit_cents`` (refused with InsufficientFunds);
* an account's new balance equals its previous balance plus the entry (so balances always equal
  the sum of their entries; :func:`check_ledger` re-proves it over the whole book).

Account kinds: ``prepaid`` (a user's credit), ``postpaid`` (a department or project, billed
later), ``arrears`` (what a user owes after a copy session overran their credit; never positive),
``system`` (the hub's own books: revenue, adjustments, cash). A system account's balance is the
negation of what it has handed out, so the whole book always sums to zero. Every account's name
comes from :mod:`hub_server.domain.account_names`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from hub_server.domain import account_names
from hub_server.domain.validation import MAX_BALANCE_CENTS
from hub_server.errors import IdempotencyConflict, InsufficientFunds, InvariantViolation, NotFound, Refused
from hub_server.storage import Tx


@dataclass(frozen=True)
class Posting:
    """One side of a transaction: ``amount_cents`` added to an account (negative takes away)."""

    account_id: int
    amount_cents: int


@dataclass(frozen=True)
class Claim:
    """The outcome of claiming an idempotency key."""

    transaction_id: int
    stored_response: dict[str, Any] | None  # set when the key was applied before


def request_fingerprint(payload: dict[str, Any]) -> str:
    """A stable hash of a request's payload, to tell a replay from a conflicting reuse of a key."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def open_transaction(
    tx: Tx,
    *,
    kind: str,
    recorded_us: int,
    idempotency: tuple[str, str, str] | None = None,
    user_id: int | None = None,
    terminal_id: str | None = None,
    project_id: int | None = None,
    description: str = "",
    occurred_us: int | None = None,
) -> Claim:
    """Create a transaction row, or find the one its idempotency key already made.

    ``idempotency`` is ``(scope, key, request_fingerprint)``. A key seen before with the same
    fingerprint returns the stored response; with another fingerprint it raises
    :class:`IdempotencyConflict`.
    """
    scope, key, fingerprint = idempotency if idempotency else (None, None, None)
    row = tx.one(
        """INSERT INTO transactions (kind, idempotency_scope, idempotency_key, request_sha256, user_id,
               terminal_id, project_id, description, occurred_us, recorded_us)
           VALUES (:kind, :scope, :key, :fp, :user_id, :terminal_id, :project_id, :description,
               :occurred_us, :recorded_us)
           ON CONFLICT (idempotency_scope, idempotency_key) DO NOTHING
           RETURNING id""",
        {
            "kind": kind,
            "scope": scope,
            "key": key,
            "fp": fingerprint,
            "user_id": user_id,
            "terminal_id": terminal_id,
            "project_id": project_id,
            "description": description,
            "occurred_us": occurred_us,
            "recorded_us": recorded_us,
        },
    )
    if row is not None:
        return Claim(transaction_id=int(row["id"]), stored_response=None)
    existing = tx.one(
        "SELECT id, request_sha256, response FROM transactions"
        " WHERE idempotency_scope = :scope AND idempotency_key = :key",
        {"scope": scope, "key": key},
    )
    if existing is None:  # pragma: no cover - the conflict above proves the row exists
        raise InvariantViolation("idempotency conflict without a stored transaction")
    if existing["request_sha256"] != fingerprint:
        raise IdempotencyConflict(f"idempotency key {key!r} was already used with a different request")
    return Claim(transaction_id=int(existing["id"]), stored_response=json.loads(existing["response"]))


def store_response(tx: Tx, transaction_id: int, response: dict[str, Any]) -> None:
    """Keep the first answer of a transaction, returned again to every replay of its key."""
    tx.execute(
        "UPDATE transactions SET response = :r WHERE id = :id",
        {"r": json.dumps(response, sort_keys=True).encode(), "id": transaction_id},
    )


def post(tx: Tx, transaction_id: int, postings: list[Posting]) -> dict[int, int]:
    """Apply ``postings`` to their accounts; return each account's new balance.

    Raises :class:`InsufficientFunds` when a prepaid account would fall below its limit; the
    caller's savepoint then undoes every posting made so far.
    """
    if sum(p.amount_cents for p in postings) != 0:
        raise InvariantViolation(f"transaction {transaction_id} does not sum to zero: {postings}")
    balances: dict[int, int] = {}
    # A fixed order (by account id) keeps concurrent transactions from deadlocking on PostgreSQL.
    for posting in sorted(postings, key=lambda p: p.account_id):
        if posting.amount_cents == 0:
            continue
        balances[posting.account_id] = _apply(tx, transaction_id, posting)
    return balances


def _apply(tx: Tx, transaction_id: int, posting: Posting) -> int:
    row = tx.one(
        """UPDATE accounts SET balance_cents = balance_cents + :d
           WHERE id = :a
             AND (kind <> 'prepaid' OR :d >= 0 OR balance_cents + :d >= -credit_limit_cents)
             AND (kind <> 'arrears' OR balance_cents + :d <= 0)
             AND balance_cents + :d BETWEEN -:max AND :max
           RETURNING balance_cents""",
        {"a": posting.account_id, "d": posting.amount_cents, "max": MAX_BALANCE_CENTS},
    )
    if row is None:
        account = tx.one(
            "SELECT name, kind, balance_cents FROM accounts WHERE id = :a", {"a": posting.account_id}
        )
        if account is None:
            raise NotFound(f"account {posting.account_id} does not exist")
        if abs(int(account["balance_cents"]) + posting.amount_cents) > MAX_BALANCE_CENTS:
            raise Refused(
                f"account {account['name']} would pass the largest balance the hub keeps"
                f" (+-{MAX_BALANCE_CENTS} minor units)"
            )
        raise InsufficientFunds(f"account {account['name']} cannot cover {-posting.amount_cents} cents")
    balance = int(row["balance_cents"])
    # Read only now that the UPDATE holds the account's row lock: on PostgreSQL a concurrent
    # posting to this account has either committed its entry already or waits for us.
    previous = tx.scalar(
        "SELECT balance_after_cents FROM entries WHERE account_id = :a ORDER BY id DESC LIMIT 1",
        {"a": posting.account_id},
    )
    if balance != (previous or 0) + posting.amount_cents:
        raise InvariantViolation(
            f"account {posting.account_id}: balance {balance} != entries {previous} + {posting.amount_cents}"
        )
    tx.execute(
        "INSERT INTO entries (transaction_id, account_id, amount_cents, balance_after_cents)"
        " VALUES (:t, :a, :d, :b)",
        {"t": transaction_id, "a": posting.account_id, "d": posting.amount_cents, "b": balance},
    )
    return balance


def create_account(
    tx: Tx,
    name: str,
    kind: str,
    now_us: int,
    *,
    owner_user_id: int | None = None,
    owner_group_id: int | None = None,
    credit_limit_cents: int = 0,
) -> int:
    """Create an account (or return the existing one of that name and kind)."""
    tx.execute(
        """INSERT INTO accounts (name, kind, owner_user_id, owner_group_id, credit_limit_cents, created_us)
           VALUES (:name, :kind, :u, :g, :limit, :now)
           ON CONFLICT (name) DO NOTHING""",
        {
            "name": name,
            "kind": kind,
            "u": owner_user_id,
            "g": owner_group_id,
            "limit": credit_limit_cents,
            "now": now_us,
        },
    )
    row = tx.one("SELECT id, kind FROM accounts WHERE name = :name", {"name": name})
    if row is None or row["kind"] != kind:
        raise InvariantViolation(f"account {name!r} exists with another kind")
    return int(row["id"])


def account_id(tx: Tx, name: str) -> int:
    """The id of the account called ``name``."""
    found = tx.scalar("SELECT id FROM accounts WHERE name = :name", {"name": name})
    if found is None:
        raise NotFound(f"no account named {name!r}")
    return int(found)


def balance(tx: Tx, account: int) -> int:
    """An account's balance in cents."""
    return int(tx.scalar("SELECT balance_cents FROM accounts WHERE id = :a", {"a": account}) or 0)


def lock_account(tx: Tx, account: int) -> dict[str, Any]:
    """Lock an account's row for the rest of the transaction and return its kind, balance and limit.

    Decisions taken on a balance (how much credit covers, what arrears to settle) must not use a
    value another transaction changes before the posting: a no-op UPDATE takes the row lock on
    PostgreSQL (SELECT … FOR UPDATE is not SQLite) and is harmless in SQLite's single writer.
    """
    row = tx.one(
        "UPDATE accounts SET balance_cents = balance_cents WHERE id = :a"
        " RETURNING kind, balance_cents, credit_limit_cents",
        {"a": account},
    )
    if row is None:
        raise NotFound(f"account {account} does not exist")
    return dict(row)


def credit_prepaid(
    tx: Tx, transaction_id: int, user_id: int, amount_cents: int, source_account: int, now_us: int
) -> dict[int, int]:
    """Move ``amount_cents`` from ``source_account`` to a user's credit, settling arrears first.

    A negative amount takes credit away (refused below the credit limit).
    """
    user = tx.one("SELECT username FROM users WHERE id = :u", {"u": user_id})
    if user is None:
        raise NotFound(f"user {user_id} does not exist")
    prepaid = account_id(tx, account_names.prepaid(user["username"]))
    postings = [Posting(prepaid, amount_cents), Posting(source_account, -amount_cents)]
    settle_cents = 0
    arrears = tx.scalar(
        "SELECT id FROM accounts WHERE name = :n", {"n": account_names.arrears(user["username"])}
    )
    if arrears is not None and amount_cents > 0:
        owed = -int(lock_account(tx, int(arrears))["balance_cents"])
        available_after = int(lock_account(tx, prepaid)["balance_cents"]) + amount_cents
        settle_cents = max(0, min(owed, available_after))
    if settle_cents:
        postings += [Posting(prepaid, -settle_cents), Posting(int(arrears), settle_cents)]
    return post(tx, transaction_id, _merge(postings))


def reverse(tx: Tx, original_id: int, now_us: int, reason: str) -> int:
    """Undo a transaction once (a refund): post the negation of its entries; return the new id.

    Reversing the same transaction again returns the first reversal (idempotency scope
    ``reversal``, key = the original's id).
    """
    original = tx.one("SELECT user_id, terminal_id FROM transactions WHERE id = :t", {"t": original_id})
    if original is None:
        raise NotFound(f"no transaction {original_id}")
    claim = open_transaction(
        tx,
        kind="reversal",
        recorded_us=now_us,
        idempotency=("reversal", str(original_id), request_fingerprint({"original": original_id})),
        user_id=original["user_id"],
        terminal_id=original["terminal_id"],
        description=reason[:256],
    )
    if claim.stored_response is not None:
        return claim.transaction_id
    entries = tx.execute(
        "SELECT e.account_id, e.amount_cents, a.kind, a.owner_user_id FROM entries e"
        " JOIN accounts a ON a.id = e.account_id WHERE e.transaction_id = :t",
        {"t": original_id},
    )
    postings = []
    for entry in entries:
        amount = -int(entry["amount_cents"])
        if entry["kind"] == "arrears" and amount > 0:
            # Arrears paid off since the charge cannot be refunded into a credit: what exceeds
            # today's debt goes back to the user's own credit instead.
            owed = -int(lock_account(tx, int(entry["account_id"]))["balance_cents"])
            prepaid = tx.scalar(
                "SELECT id FROM accounts WHERE owner_user_id = :u AND kind = 'prepaid'",
                {"u": entry["owner_user_id"]},
            )
            postings.append(Posting(int(prepaid), amount - min(amount, owed)))
            amount = min(amount, owed)
        postings.append(Posting(int(entry["account_id"]), amount))
    post(tx, claim.transaction_id, _merge(postings))
    store_response(tx, claim.transaction_id, {"reverses": original_id})
    return claim.transaction_id


def _merge(postings: list[Posting]) -> list[Posting]:
    totals: dict[int, int] = {}
    for posting in postings:
        totals[posting.account_id] = totals.get(posting.account_id, 0) + posting.amount_cents
    return [Posting(account, amount) for account, amount in totals.items()]


def check_ledger(tx: Tx) -> list[str]:
    """Re-prove every invariant over the whole book; return the problems found (none: empty)."""
    problems = [
        f"transaction {row['transaction_id']} sums to {row['total']}"
        for row in tx.execute(
            "SELECT transaction_id, SUM(amount_cents) AS total FROM entries"
            " GROUP BY transaction_id HAVING SUM(amount_cents) <> 0"
        )
    ]
    problems += [
        f"account {row['name']} balance {row['balance_cents']} != entries {row['total']}"
        for row in tx.execute(
            """SELECT a.name, a.balance_cents, COALESCE(SUM(e.amount_cents), 0) AS total
               FROM accounts a LEFT JOIN entries e ON e.account_id = a.id
               GROUP BY a.id, a.name, a.balance_cents
               HAVING a.balance_cents <> COALESCE(SUM(e.amount_cents), 0)"""
        )
    ]
    problems += [
        f"prepaid account {row['name']} at {row['balance_cents']} is below its limit"
        for row in tx.execute(
            "SELECT name, balance_cents FROM accounts"
            " WHERE kind = 'prepaid' AND balance_cents < -credit_limit_cents"
        )
    ]
    total = tx.scalar("SELECT COALESCE(SUM(balance_cents), 0) AS t FROM accounts")
    if total:
        problems.append(f"the book sums to {total}, not 0")
    return problems
