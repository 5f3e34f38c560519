"""``printgate admin voucher ...`` and ``cashbox ...``: voucher batches, redemption, kiosk cash boxes."""

from __future__ import annotations

import argparse
import uuid
from datetime import UTC, datetime
from typing import Any

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from printgate.v1 import kiosk_pb2

from admin_cli.render import enum_values, record, record_of, said, table, table_of
from admin_cli.verbs import Verb, VerbTable, user_ref

ALREADY_APPLIED = kiosk_pb2.CREDIT_OUTCOME_ALREADY_APPLIED
BATCH_COLUMNS = ("id", "label", "prefix", "value_cents", "count", "redeemed", "created_at", "expires_at")
REDEEMED_COLUMNS = (
    "outcome",
    "transaction_id",
    "credited_cents",
    "balance_cents",
    "arrears_cents",
    "batch_id",
)
CASHBOX_COLUMNS = ("device_kind", "value_cents", "expected_count", "counted_count")
EMPTIED_COLUMNS = ("transaction_id", "kiosk_id", "expected_cents", "counted_cents", "difference_cents")


def _instant(text: str) -> Timestamp:
    """An ISO 8601 date or date-time (UTC unless it carries an offset)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date or date-time: {text}") from None
    stamp = Timestamp()
    stamp.FromDatetime(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
    return stamp


def _denomination_count(text: str) -> kiosk_pb2.DenominationCount:
    """``KIND:VALUE_CENTS=COUNT``, e.g. ``coin:200=15``."""
    kinds = enum_values(kiosk_pb2.CashDeviceKind)
    slot, _, count = text.partition("=")
    kind, _, value = slot.partition(":")
    if kind not in kinds or not value.isdigit() or not count.isdigit():
        raise argparse.ArgumentTypeError(f"expected KIND:VALUE_CENTS=COUNT (kind coin or note), not {text}")
    return kiosk_pb2.DenominationCount(device_kind=kinds[kind], value_cents=int(value), count=int(count))


def _batch_created(reply: Any, args: argparse.Namespace) -> str:
    codes = "\n".join(reply.codes)
    return (
        f"{record(reply.batch, BATCH_COLUMNS)}\ncodes:\n{codes}\n"
        f"(export again with: printgate admin voucher export {reply.batch.id})"
    )


def _cashbox_report(reply: Any, args: argparse.Namespace) -> str:
    emptied = reply.last_emptied_at.ToJsonString() if reply.HasField("last_emptied_at") else "never"
    lines = table(reply.lines, CASHBOX_COLUMNS[:3]) if reply.lines else "(empty)"
    return f"{record(reply, ('kiosk_id', 'expected_cents', 'currency'))}\nlast emptied    {emptied}\n{lines}"


def _cashbox_emptied(reply: Any, args: argparse.Namespace) -> str:
    state = "already recorded earlier (nothing changed)" if reply.outcome == ALREADY_APPLIED else "recorded"
    lines = table(reply.lines, CASHBOX_COLUMNS) if reply.lines else "(nothing expected, nothing counted)"
    return (
        f"{record(reply, EMPTIED_COLUMNS)}\n{lines}\n"
        f"emptying {state}; idempotency key: {args.idempotency_key}"
    )


def _voucher_unlock(args: argparse.Namespace) -> Message:
    if args.user:
        return kiosk_pb2.UnlockVoucherRedemptionRequest(user=user_ref(args.user))
    return kiosk_pb2.UnlockVoucherRedemptionRequest(terminal_id=args.terminal)


def _empty_cashbox(args: argparse.Namespace) -> Message:
    args.idempotency_key = args.idempotency_key or f"admin-{uuid.uuid4()}"
    return kiosk_pb2.EmptyCashBoxRequest(
        kiosk_id=args.kiosk_id, counted=args.count or [], idempotency_key=args.idempotency_key, note=args.note
    )


def add_verbs(verbs: VerbTable) -> None:
    verbs.group("voucher", "voucher batches and redemption")
    create = verbs.add(
        "create",
        "create a batch of single-use vouchers; prints their codes",
        Verb(
            "CreateVoucherBatch",
            lambda a: kiosk_pb2.CreateVoucherBatchRequest(
                value_cents=a.value_cents, count=a.count, expires_at=a.expires, prefix=a.prefix, label=a.label
            ),
            _batch_created,
            service="kiosk",
        ),
    )
    create.add_argument("--value-cents", type=int, required=True, help="what each voucher is worth")
    create.add_argument("--count", type=int, required=True, help="how many (1..10000)")
    create.add_argument(
        "--expires", type=_instant, required=True, metavar="WHEN", help="ISO 8601 date or date-time (UTC)"
    )
    create.add_argument("--prefix", default="", help="up to 6 code characters that start every code")
    create.add_argument("--label", default="")
    batches = Verb(
        "ListVoucherBatches",
        lambda a: kiosk_pb2.ListVoucherBatchesRequest(),
        table_of("batches", BATCH_COLUMNS),
        service="kiosk",
    )
    verbs.add("list", "list voucher batches", batches)
    export = Verb(
        "ExportVoucherBatch",
        lambda a: kiosk_pb2.ExportVoucherBatchRequest(
            batch_id=a.batch_id, include_redeemed=a.include_redeemed
        ),
        lambda reply, args: str(reply.csv).rstrip("\n"),
        service="kiosk",
    )
    exporting = verbs.add("export", "a batch's codes as CSV (unredeemed only by default)", export)
    exporting.add_argument("batch_id", type=int)
    exporting.add_argument("--include-redeemed", action="store_true")
    redeem = Verb(
        "RedeemVoucherForUser",
        lambda a: kiosk_pb2.RedeemVoucherForUserRequest(user=user_ref(a.username), code=a.code),
        record_of(REDEEMED_COLUMNS),
        service="kiosk",
    )
    verbs.add("redeem", "redeem a code for a user", redeem, "username", "code")
    unlock = verbs.add(
        "unlock",
        "lift the voucher lockout of a user or a kiosk after wrong codes",
        Verb(
            "UnlockVoucherRedemption", _voucher_unlock, said("voucher redemption unlocked"), service="kiosk"
        ),
    )
    target = unlock.add_mutually_exclusive_group(required=True)
    target.add_argument("--user", metavar="USERNAME")
    target.add_argument("--terminal", metavar="ID", help="a kiosk or terminal")

    verbs.group("cashbox", "kiosk cash boxes")
    report = Verb(
        "GetCashBox", lambda a: kiosk_pb2.CashBoxRef(kiosk_id=a.kiosk_id), _cashbox_report, service="kiosk"
    )
    verbs.add("report", "what a kiosk's box should hold since it was last emptied", report, "kiosk_id")
    empty = verbs.add(
        "empty",
        "record an emptied box: counted against the ledger, the difference booked",
        Verb("EmptyCashBox", _empty_cashbox, _cashbox_emptied, idempotent=True, service="kiosk"),
        "kiosk_id",
    )
    empty.add_argument(
        "--count",
        type=_denomination_count,
        action="append",
        metavar="KIND:VALUE_CENTS=N",
        help="counted coins or notes of one value, e.g. coin:200=15 (repeat; omitted: 0)",
    )
    empty.add_argument("--note", default="", help="e.g. who counted")
    empty.add_argument(
        "--idempotency-key", default="", help="reuse to retry safely (default: a new one, printed)"
    )
