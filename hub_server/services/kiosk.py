"""KioskService (kiosks and terminals) and KioskAdminService (admins): recharges, vouchers, cash boxes."""

from __future__ import annotations

import grpc
from printgate import voucher_code
from printgate.v1 import admin_pb2, kiosk_pb2, kiosk_pb2_grpc

from hub_server.domain import Hub
from hub_server.domain.kiosk import (
    CashBoxEmptied,
    CashBoxLine,
    CashBoxState,
    CashEvent,
    Emptying,
    RechargeSummary,
)
from hub_server.domain.vouchers import Batch, Redeemed
from hub_server.errors import InvalidRequest
from hub_server.services.common import DeviceGate, TerminalCalls, requires_admin, translate_errors
from hub_server.services.convert import CASH_DEVICE_KIND, credit_outcome, timestamp_from_us, user_ref


def redeemed_message(result: Redeemed) -> kiosk_pb2.RedeemVoucherResponse:
    """The wire form of a redemption."""
    return kiosk_pb2.RedeemVoucherResponse(
        outcome=credit_outcome(result.already_applied),
        transaction_id=result.transaction_id,
        credited_cents=result.credited_cents,
        balance_cents=result.balance_cents,
        arrears_cents=result.arrears_cents,
        batch_id=result.batch_id,
        recorded_at=timestamp_from_us(result.recorded_us),
    )


def summary_message(summary: RechargeSummary, currency: str) -> kiosk_pb2.RechargeSummary:
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
            device_kind=CASH_DEVICE_KIND.value(kind), value_cents=value, count=count
        )
        (message.coins if kind == "coin" else message.notes).append(line)
    return message


def _line(line: CashBoxLine) -> kiosk_pb2.DenominationLine:
    return kiosk_pb2.DenominationLine(
        device_kind=CASH_DEVICE_KIND.value(line.device_kind),
        value_cents=line.value_cents,
        expected_count=line.expected_count,
        counted_count=line.counted_count,
    )


def cashbox_message(state: CashBoxState, currency: str) -> kiosk_pb2.CashBoxReport:
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


def emptied_message(result: CashBoxEmptied) -> kiosk_pb2.CashBoxEmptied:
    """The wire form of an emptied cash box."""
    return kiosk_pb2.CashBoxEmptied(
        outcome=credit_outcome(result.already_applied),
        transaction_id=result.transaction_id,
        kiosk_id=result.kiosk_id,
        expected_cents=result.expected_cents,
        counted_cents=result.counted_cents,
        difference_cents=result.difference_cents,
        lines=[_line(line) for line in result.lines],
        emptied_at=timestamp_from_us(result.emptied_us),
    )


def emptying(kiosk_id: str, counted: list[kiosk_pb2.DenominationCount], key: str, note: str) -> Emptying:
    """A domain emptying from its wire form; a denomination counted twice is refused."""
    counts: dict[tuple[str, int], int] = {}
    for line in counted:
        if line.device_kind not in CASH_DEVICE_KIND:
            raise InvalidRequest("every counted line needs a device kind (coin or note)")
        slot = (CASH_DEVICE_KIND.word(line.device_kind, "device kind"), line.value_cents)
        if slot in counts:
            raise InvalidRequest(f"{slot[0]} of {slot[1]} counted twice")
        counts[slot] = line.count
    return Emptying(kiosk_id, counts, key, note)


@translate_errors
class KioskServicer(TerminalCalls, kiosk_pb2_grpc.KioskServiceServicer):
    """The hub side of KioskService."""

    def __init__(self, hub: Hub, gate: DeviceGate) -> None:
        self.hub = hub
        self.gate = gate

    async def OpenRecharge(
        self, request: kiosk_pb2.OpenRechargeRequest, context: grpc.aio.ServicerContext
    ) -> kiosk_pb2.OpenRechargeResponse:
        kiosk_id, user_id = self._user(context, request.session_token)
        opened = await self.hub.kiosks.open_recharge(kiosk_id, user_id)
        return kiosk_pb2.OpenRechargeResponse(
            recharge_id=opened.recharge_id,
            username=opened.username,
            balance_cents=opened.balance_cents,
            arrears_cents=opened.arrears_cents,
            currency=self.hub.kiosks.currency,
        )

    async def CreditCashEvent(
        self, request: kiosk_pb2.CreditCashEventRequest, context: grpc.aio.ServicerContext
    ) -> kiosk_pb2.CreditCashEventResponse:
        event = CashEvent(
            kiosk_id=self._terminal(context),
            recharge_id=request.recharge_id,
            idempotency_key=request.idempotency_key,
            value_cents=request.value_minor,
            currency=request.currency,
            denomination=request.denomination,
            device_kind=CASH_DEVICE_KIND.word_or(request.device_kind, ""),
            occurred_us=request.occurred_at.ToMicroseconds() if request.HasField("occurred_at") else None,
        )
        result = await self.hub.kiosks.credit(event)
        return kiosk_pb2.CreditCashEventResponse(
            outcome=credit_outcome(result.already_applied),
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
        summary = await self.hub.kiosks.close_recharge(self._terminal(context), request.recharge_id)
        return summary_message(summary, self.hub.kiosks.currency)

    async def RedeemVoucher(
        self, request: kiosk_pb2.RedeemVoucherRequest, context: grpc.aio.ServicerContext
    ) -> kiosk_pb2.RedeemVoucherResponse:
        terminal_id, user_id = self._user(context, request.session_token)
        return redeemed_message(await self.hub.vouchers.redeem(request.code, user_id, terminal_id))

    async def GetCashBox(
        self, request: kiosk_pb2.OperatorRequest, context: grpc.aio.ServicerContext
    ) -> kiosk_pb2.CashBoxReport:
        kiosk_id, user_id = self._user(context, request.session_token)
        return cashbox_message(
            self.hub.kiosks.cashbox(kiosk_id, operator_id=user_id), self.hub.kiosks.currency
        )

    async def EmptyCashBox(
        self, request: kiosk_pb2.KioskEmptyCashBoxRequest, context: grpc.aio.ServicerContext
    ) -> kiosk_pb2.CashBoxEmptied:
        kiosk_id, user_id = self._user(context, request.session_token)
        count = emptying(kiosk_id, list(request.counted), request.idempotency_key, request.note)
        return emptied_message(await self.hub.kiosks.empty(count, operator_id=user_id))


def _batch_message(batch: Batch) -> kiosk_pb2.VoucherBatch:
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
@requires_admin
class KioskAdminServicer(kiosk_pb2_grpc.KioskAdminServiceServicer):
    """The hub side of KioskAdminService; every call needs an admin token."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    async def CreateVoucherBatch(
        self, request: kiosk_pb2.CreateVoucherBatchRequest, context: grpc.aio.ServicerContext
    ) -> kiosk_pb2.VoucherBatchCreated:
        if not request.HasField("expires_at"):
            raise InvalidRequest("a voucher batch needs an expiry")
        created = await self.hub.vouchers.create_batch(
            value_cents=request.value_cents,
            count=request.count,
            expires_us=request.expires_at.ToMicroseconds(),
            prefix=request.prefix,
            label=request.label,
        )
        return kiosk_pb2.VoucherBatchCreated(
            batch=_batch_message(created.batch),
            codes=[voucher_code.format_code(code) for code in created.codes],
            csv=created.csv,
        )

    async def ListVoucherBatches(
        self, request: kiosk_pb2.ListVoucherBatchesRequest, context: grpc.aio.ServicerContext
    ) -> kiosk_pb2.ListVoucherBatchesResponse:
        return kiosk_pb2.ListVoucherBatchesResponse(
            batches=[_batch_message(b) for b in self.hub.vouchers.batches()]
        )

    async def ExportVoucherBatch(
        self, request: kiosk_pb2.ExportVoucherBatchRequest, context: grpc.aio.ServicerContext
    ) -> kiosk_pb2.VoucherExport:
        batch, text = self.hub.vouchers.export(request.batch_id, request.include_redeemed)
        return kiosk_pb2.VoucherExport(batch=_batch_message(batch), csv=text)

    async def RedeemVoucherForUser(
        self, request: kiosk_pb2.RedeemVoucherForUserRequest, context: grpc.aio.ServicerContext
    ) -> kiosk_pb2.RedeemVoucherResponse:
        return redeemed_message(await self.hub.vouchers.redeem_for_user(request.code, user_ref(request.user)))

    async def UnlockVoucherRedemption(
        self, request: kiosk_pb2.UnlockVoucherRedemptionRequest, context: grpc.aio.ServicerContext
    ) -> admin_pb2.Empty:
        which = request.WhichOneof("identity")
        if which == "user":
            await self.hub.vouchers.unlock_user(user_ref(request.user))
        elif which == "terminal_id":
            await self.hub.vouchers.unlock_terminal(request.terminal_id)
        else:
            raise InvalidRequest("a user or a terminal id is needed")
        return admin_pb2.Empty()

    async def GetCashBox(
        self, request: kiosk_pb2.CashBoxRef, context: grpc.aio.ServicerContext
    ) -> kiosk_pb2.CashBoxReport:
        return cashbox_message(self.hub.kiosks.cashbox(request.kiosk_id), self.hub.kiosks.currency)

    async def EmptyCashBox(
        self, request: kiosk_pb2.EmptyCashBoxRequest, context: grpc.aio.ServicerContext
    ) -> kiosk_pb2.CashBoxEmptied:
        count = emptying(request.kiosk_id, list(request.counted), request.idempotency_key, request.note)
        return emptied_message(await self.hub.kiosks.empty(count))
