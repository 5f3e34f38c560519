"""KioskService (kiosks and terminals) and KioskAdminService (admins): recharges, vouchers, cash boxes."""

from __future__ import annotations

import grpc
from printgate import voucher_code
from printgate.v1 import admin_pb2, kiosk_pb2, kiosk_pb2_grpc

from hub_server import kiosk, lockout, vouchers
from hub_server.errors import InvalidRequest, NotFound
from hub_server.hub import Hub
from hub_server.services.admin import user_ref_id
from hub_server.services.common import (
    AdminCalls,
    TerminalCalls,
    timestamp_from_us,
    translate_errors,
)
from hub_server.storage.base import Tx

DEVICE_KIND_NAMES = {kiosk_pb2.CASH_DEVICE_KIND_COIN: "coin", kiosk_pb2.CASH_DEVICE_KIND_NOTE: "note"}
DEVICE_KIND_ENUMS = {name: value for value, name in DEVICE_KIND_NAMES.items()}


def _outcome(already_applied: bool) -> kiosk_pb2.CreditOutcome:
    return kiosk_pb2.CREDIT_OUTCOME_ALREADY_APPLIED if already_applied else kiosk_pb2.CREDIT_OUTCOME_CREATED


def _limits(hub: Hub) -> lockout.Limits:
    return lockout.Limits(hub.config.auth.voucher_max_failed_attempts, hub.config.auth.voucher_lockout_s)


def redeemed_message(result: vouchers.Redeemed) -> kiosk_pb2.RedeemVoucherResponse:
    """The wire form of a redemption."""
    return kiosk_pb2.RedeemVoucherResponse(
        outcome=_outcome(result.already_applied),
        transaction_id=result.transaction_id,
        credited_cents=result.credited_cents,
        balance_cents=result.balance_cents,
        arrears_cents=result.arrears_cents,
        batch_id=result.batch_id,
        recorded_at=timestamp_from_us(result.recorded_us),
    )


async def redeem(hub: Hub, code: str, user_id: int, terminal_id: str | None) -> vouchers.Redeemed:
    """Redeem a typed code: malformed codes are refused here, before any lookup."""
    redemption = vouchers.Redemption(vouchers.normalise(code), user_id, terminal_id)
    keys, limits, now_us = vouchers.VoucherKeys(hub.secret), _limits(hub), hub.clock.now_us()
    result = await hub.db.write(lambda tx: vouchers.redeem(tx, keys, redemption, limits, now_us))
    if isinstance(result, vouchers.VoucherNotRecognised):
        raise result
    return result


def summary_message(summary: kiosk.RechargeSummary, currency: str) -> kiosk_pb2.RechargeSummary:
    """The wire form of a recharge summary."""
    message = kiosk_pb2.RechargeSummary(
        recharge_id=summary.recharge_id,
        kiosk_id=summary.kiosk_id,
        username=summary.username,
        total_cents=summary.total_cents,
        balance_cents=summary.balance_cents,
        arrears_cents=summary.arrears_cents,
        transaction_ids=summary.transaction_ids,
        opened_at=timestamp_from_us(summary.opened_us),
        currency=currency,
    )
    if summary.closed_us is not None:
        message.closed_at.CopyFrom(timestamp_from_us(summary.closed_us))
    for (kind, value), count in summary.counts.items():
        line = kiosk_pb2.DenominationCount(
            device_kind=DEVICE_KIND_ENUMS[kind], value_cents=value, count=count
        )
        (message.coins if kind == "coin" else message.notes).append(line)
    return message


def _line(line: kiosk.CashBoxLine) -> kiosk_pb2.DenominationLine:
    return kiosk_pb2.DenominationLine(
        device_kind=DEVICE_KIND_ENUMS[line.device_kind],
        value_cents=line.value_cents,
        expected_count=line.expected_count,
        counted_count=line.counted_count,
    )


def cashbox_message(state: kiosk.CashBoxState, currency: str) -> kiosk_pb2.CashBoxReport:
    """The wire form of a cash box's expected content."""
    report = kiosk_pb2.CashBoxReport(
        kiosk_id=state.kiosk_id,
        expected_cents=state.expected_cents,
        lines=[_line(line) for line in state.lines],
        currency=currency,
    )
    if state.last_emptied_us is not None:
        report.last_emptied_at.CopyFrom(timestamp_from_us(state.last_emptied_us))
    return report


def emptied_message(result: kiosk.CashBoxEmptied) -> kiosk_pb2.CashBoxEmptied:
    """The wire form of an emptied cash box."""
    return kiosk_pb2.CashBoxEmptied(
        outcome=_outcome(result.already_applied),
        transaction_id=result.transaction_id,
        kiosk_id=result.kiosk_id,
        expected_cents=result.expected_cents,
        counted_cents=result.counted_cents,
        difference_cents=result.difference_cents,
        lines=[_line(line) for line in result.lines],
        emptied_at=timestamp_from_us(result.emptied_us),
    )


def emptying(
    kiosk_id: str, counted: list[kiosk_pb2.DenominationCount], key: str, note: str
) -> kiosk.Emptying:
    """A domain emptying from its wire form; a denomination counted twice is refused."""
    counts: dict[tuple[str, int], int] = {}
    for line in counted:
        if line.device_kind not in DEVICE_KIND_NAMES:
            raise InvalidRequest("every counted line needs a device kind (coin or note)")
        slot = (DEVICE_KIND_NAMES[line.device_kind], line.value_cents)
        if slot in counts:
            raise InvalidRequest(f"{slot[0]} of {slot[1]} counted twice")
        counts[slot] = line.count
    return kiosk.Emptying(kiosk_id, counts, key, note)


@translate_errors
class KioskServicer(TerminalCalls, kiosk_pb2_grpc.KioskServiceServicer):
    """The hub side of KioskService."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    async def OpenRecharge(
        self, request: kiosk_pb2.OpenRechargeRequest, context: grpc.aio.ServicerContext
    ) -> kiosk_pb2.OpenRechargeResponse:
        kiosk_id, user_id = self._user(context, request.session_token)
        now_us = self.hub.clock.now_us()
        opened = await self.hub.db.write(lambda tx: kiosk.open_recharge(tx, kiosk_id, user_id, now_us))
        return kiosk_pb2.OpenRechargeResponse(
            recharge_id=opened.recharge_id,
            username=opened.username,
            balance_cents=opened.balance_cents,
            arrears_cents=opened.arrears_cents,
            currency=self.hub.config.currency,
        )

    async def CreditCashEvent(
        self, request: kiosk_pb2.CreditCashEventRequest, context: grpc.aio.ServicerContext
    ) -> kiosk_pb2.CreditCashEventResponse:
        event = kiosk.CashEvent(
            kiosk_id=self._terminal(context),
            recharge_id=request.recharge_id,
            idempotency_key=request.idempotency_key,
            value_cents=request.value_minor,
            currency=request.currency,
            denomination=request.denomination,
            device_kind=DEVICE_KIND_NAMES.get(request.device_kind, ""),
            occurred_us=request.occurred_at.ToMicroseconds() if request.HasField("occurred_at") else None,
        )
        currency, now_us = self.hub.config.currency, self.hub.clock.now_us()
        result = await self.hub.db.write(lambda tx: kiosk.credit_cash_event(tx, event, currency, now_us))
        return kiosk_pb2.CreditCashEventResponse(
            outcome=_outcome(result.already_applied),
            transaction_id=result.transaction_id,
            credited_cents=result.credited_cents,
            balance_cents=result.balance_cents,
            arrears_cents=result.arrears_cents,
            recharge_total_cents=result.recharge_total_cents,
            recorded_at=timestamp_from_us(result.recorded_us),
        )

    async def CloseRecharge(
        self, request: kiosk_pb2.CloseRechargeRequest, context: grpc.aio.ServicerContext
    ) -> kiosk_pb2.RechargeSummary:
        kiosk_id, now_us = self._terminal(context), self.hub.clock.now_us()
        summary = await self.hub.db.write(
            lambda tx: kiosk.close_recharge(tx, kiosk_id, request.recharge_id, now_us)
        )
        return summary_message(summary, self.hub.config.currency)

    async def RedeemVoucher(
        self, request: kiosk_pb2.RedeemVoucherRequest, context: grpc.aio.ServicerContext
    ) -> kiosk_pb2.RedeemVoucherResponse:
        terminal_id, user_id = self._user(context, request.session_token)
        return redeemed_message(await redeem(self.hub, request.code, user_id, terminal_id))

    async def GetCashBox(
        self, request: kiosk_pb2.OperatorRequest, context: grpc.aio.ServicerContext
    ) -> kiosk_pb2.CashBoxReport:
        kiosk_id, user_id = self._user(context, request.session_token)

        def report(tx: Tx) -> kiosk.CashBoxState:
            kiosk.require_operator(tx, user_id)
            return kiosk.cashbox_state(tx, kiosk_id)

        return cashbox_message(self.hub.db.read(report), self.hub.config.currency)

    async def EmptyCashBox(
        self, request: kiosk_pb2.KioskEmptyCashBoxRequest, context: grpc.aio.ServicerContext
    ) -> kiosk_pb2.CashBoxEmptied:
        kiosk_id, user_id = self._user(context, request.session_token)
        count = emptying(kiosk_id, list(request.counted), request.idempotency_key, request.note)
        now_us = self.hub.clock.now_us()

        def empty(tx: Tx) -> kiosk.CashBoxEmptied:
            kiosk.require_operator(tx, user_id)
            return kiosk.empty_cashbox(tx, count, now_us)

        return emptied_message(await self.hub.db.write(empty))


def _batch_message(batch: vouchers.Batch) -> kiosk_pb2.VoucherBatch:
    return kiosk_pb2.VoucherBatch(
        id=batch.id,
        label=batch.label,
        prefix=batch.prefix,
        value_cents=batch.value_cents,
        count=batch.count,
        redeemed=batch.redeemed,
        created_at=timestamp_from_us(batch.created_us),
        expires_at=timestamp_from_us(batch.expires_us),
    )


@translate_errors
class KioskAdminServicer(AdminCalls, kiosk_pb2_grpc.KioskAdminServiceServicer):
    """The hub side of KioskAdminService; every call needs an admin token."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.keys = vouchers.VoucherKeys(hub.secret)

    async def CreateVoucherBatch(
        self, request: kiosk_pb2.CreateVoucherBatchRequest, context: grpc.aio.ServicerContext
    ) -> kiosk_pb2.VoucherBatchCreated:
        if not request.HasField("expires_at"):
            raise InvalidRequest("a voucher batch needs an expiry")
        now_us = self.hub.clock.now_us()
        batch, codes = await self._write(
            context,
            lambda tx: vouchers.create_batch(
                tx,
                self.keys,
                value_cents=request.value_cents,
                count=request.count,
                expires_us=request.expires_at.ToMicroseconds(),
                prefix=request.prefix,
                label=request.label,
                now_us=now_us,
            ),
        )
        return kiosk_pb2.VoucherBatchCreated(
            batch=_batch_message(batch),
            codes=[voucher_code.format_code(code) for code in codes],
            csv=vouchers.batch_csv(batch, [(code, "open") for code in codes]),
        )

    async def ListVoucherBatches(
        self, request: kiosk_pb2.ListVoucherBatchesRequest, context: grpc.aio.ServicerContext
    ) -> kiosk_pb2.ListVoucherBatchesResponse:
        batches = self._read(context, vouchers.list_batches)
        return kiosk_pb2.ListVoucherBatchesResponse(batches=[_batch_message(b) for b in batches])

    async def ExportVoucherBatch(
        self, request: kiosk_pb2.ExportVoucherBatchRequest, context: grpc.aio.ServicerContext
    ) -> kiosk_pb2.VoucherExport:
        now_us = self.hub.clock.now_us()

        def export(tx: Tx) -> tuple[vouchers.Batch, str]:
            text = vouchers.export_batch(tx, self.keys, request.batch_id, request.include_redeemed, now_us)
            return vouchers.get_batch(tx, request.batch_id), text

        batch, text = self._read(context, export)
        return kiosk_pb2.VoucherExport(batch=_batch_message(batch), csv=text)

    async def RedeemVoucherForUser(
        self, request: kiosk_pb2.RedeemVoucherForUserRequest, context: grpc.aio.ServicerContext
    ) -> kiosk_pb2.RedeemVoucherResponse:
        user_id = self._read(context, lambda tx: user_ref_id(tx, request.user))
        return redeemed_message(await redeem(self.hub, request.code, user_id, None))

    async def UnlockVoucherRedemption(
        self, request: kiosk_pb2.UnlockVoucherRedemptionRequest, context: grpc.aio.ServicerContext
    ) -> admin_pb2.Empty:
        def unlock(tx: Tx) -> None:
            which = request.WhichOneof("identity")
            if which == "user":
                identity = vouchers.user_identity(user_ref_id(tx, request.user))
            elif which == "terminal_id":
                if tx.scalar("SELECT id FROM terminals WHERE id = :t", {"t": request.terminal_id}) is None:
                    raise NotFound(f"no terminal {request.terminal_id!r}")
                identity = vouchers.terminal_identity(request.terminal_id)
            else:
                raise InvalidRequest("a user or a terminal id is needed")
            lockout.clear(tx, identity)

        await self._write(context, unlock)
        return admin_pb2.Empty()

    async def GetCashBox(
        self, request: kiosk_pb2.CashBoxRef, context: grpc.aio.ServicerContext
    ) -> kiosk_pb2.CashBoxReport:
        state = self._read(context, lambda tx: kiosk.cashbox_state(tx, request.kiosk_id))
        return cashbox_message(state, self.hub.config.currency)

    async def EmptyCashBox(
        self, request: kiosk_pb2.EmptyCashBoxRequest, context: grpc.aio.ServicerContext
    ) -> kiosk_pb2.CashBoxEmptied:
        count = emptying(request.kiosk_id, list(request.counted), request.idempotency_key, request.note)
        now_us = self.hub.clock.now_us()
        return emptied_message(await self._write(context, lambda tx: kiosk.empty_cashbox(tx, count, now_us)))
