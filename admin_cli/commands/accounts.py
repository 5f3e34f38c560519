"""``printgate admin account ...``: accounts, credit adjustments and limits, the ledger."""

from __future__ import annotations

import argparse
import uuid
from typing import Any

from google.protobuf.message import Message
from printgate.v1 import admin_pb2

from admin_cli.errors import UsageError
from admin_cli.render import printable, record_of, table_of
from admin_cli.verbs import Verb, VerbTable, empty, user_ref

ACCOUNT_COLUMNS = ("name", "kind", "owner", "balance_cents", "credit_limit_cents")
LEDGER_COLUMNS = (
    "transaction_id",
    "recorded_at",
    "kind",
    "account",
    "amount_cents",
    "balance_after_cents",
    "description",
)


def _adjust_report(reply: Any, args: argparse.Namespace) -> str:
    state = "already applied earlier (nothing changed)" if reply.already_applied else "applied"
    return (
        f"transaction {reply.transaction_id} {state}; balance now {reply.balance_cents} cents\n"
        f"idempotency key: {args.idempotency_key}"
    )


def _check_report(reply: Any, args: argparse.Namespace) -> str:
    state = "ok" if reply.ok else "NOT ok"
    head = f"ledger {state}: {reply.transactions} transactions, {reply.accounts} accounts"
    return "\n".join([head, *(f"problem: {printable(problem)}" for problem in reply.problems)])


def _target(args: argparse.Namespace) -> dict[str, Any]:
    """The ``user``/``account`` oneof of adjust and ledger requests."""
    return {"user": user_ref(args.user)} if args.user else {"account": args.account}


def _adjust(args: argparse.Namespace) -> Message:
    if not args.reason.strip():
        raise UsageError("--reason must not be blank")
    # Chosen before the call and printed with the answer or the error, so that a retry after a
    # lost answer reuses it and the hub applies the adjustment once.
    args.idempotency_key = args.idempotency_key or f"admin-{uuid.uuid4()}"
    return admin_pb2.AdjustCreditRequest(
        amount_cents=args.amount_cents,
        reason=args.reason,
        idempotency_key=args.idempotency_key,
        **_target(args),
    )


def _ledger(args: argparse.Namespace) -> Message:
    return admin_pb2.GetLedgerRequest(
        limit=args.limit, before_transaction_id=args.before_transaction_id, **_target(args)
    )


def _check_failed(reply: Any) -> str | None:
    return None if reply.ok else f"the ledger check found {len(reply.problems)} problem(s)"


def _target_options(parser: argparse.ArgumentParser) -> None:
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--user", metavar="USERNAME", help="the user's prepaid account")
    target.add_argument("--account", metavar="NAME", help="an account by name, e.g. department:Physics")


def add_verbs(verbs: VerbTable) -> None:
    verbs.group("account", "accounts, credit and the ledger")
    accounts = Verb(
        "ListAccounts",
        lambda a: (
            admin_pb2.ListAccountsRequest(user=user_ref(a.user))
            if a.user
            else admin_pb2.ListAccountsRequest()
        ),
        table_of("accounts", ACCOUNT_COLUMNS),
    )
    verbs.add("list", "list accounts", accounts).add_argument(
        "--user", metavar="USERNAME", help="only this user's"
    )
    adjust = verbs.add(
        "adjust",
        "add (or with a negative amount, remove) credit",
        Verb("AdjustCredit", _adjust, _adjust_report, idempotent=True),
    )
    _target_options(adjust)
    adjust.add_argument("--amount-cents", type=int, required=True, help="positive adds, negative removes")
    adjust.add_argument("--reason", required=True)
    adjust.add_argument(
        "--idempotency-key", default="", help="reuse to retry safely (default: a new one, printed)"
    )
    limit = Verb(
        "SetCreditLimit",
        lambda a: admin_pb2.SetCreditLimitRequest(
            user=user_ref(a.username), credit_limit_cents=a.credit_limit_cents
        ),
        record_of(ACCOUNT_COLUMNS),
    )
    verbs.add("set-limit", "set a user's prepaid overdraft", limit, "username").add_argument(
        "--credit-limit-cents", type=int, required=True
    )
    ledger = verbs.add(
        "ledger",
        "ledger entries, newest first",
        Verb("GetLedger", _ledger, table_of("entries", LEDGER_COLUMNS)),
    )
    _target_options(ledger)
    ledger.add_argument("--limit", type=int, default=100)
    ledger.add_argument(
        "--before-transaction-id", type=int, default=0, help="page back from this transaction"
    )
    verbs.add(
        "check", "check the ledger's invariants", Verb("CheckLedger", empty, _check_report, _check_failed)
    )
