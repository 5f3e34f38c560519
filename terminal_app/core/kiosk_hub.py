"""The kiosk's gRPC client: the terminal's :class:`HubClient` plus KioskService.

Same channel, same identity metadata, same deadlines and the same error classes
(:func:`~terminal_app.core.errors.error_for_status`). KioskService calls are not retried by the
channel: cash events are retried by the kiosk's journal with their idempotency key.
"""

from __future__ import annotations

from printgate.v1 import kiosk_pb2, kiosk_pb2_grpc

from terminal_app.core.hub_client import HubClient

__all__ = ["KioskHubClient"]


class KioskHubClient(HubClient):
    """A kiosk's connection to its hub: TerminalService (identification) and KioskService."""

    def __init__(self, address: str, terminal_id: str, terminal_key: str, *, deadline_s: float = 5.0) -> None:
        super().__init__(address, terminal_id, terminal_key, deadline_s=deadline_s)
        self._kiosk = kiosk_pb2_grpc.KioskServiceStub(self._channel)

    async def open_recharge(self, token: str) -> kiosk_pb2.OpenRechargeResponse:
        """Start taking money for the session's user."""
        request = kiosk_pb2.OpenRechargeRequest(session_token=token)
        return await self._call(self._kiosk.OpenRecharge, request, "OpenRecharge")

    async def credit_cash_event(
        self, request: kiosk_pb2.CreditCashEventRequest
    ) -> kiosk_pb2.CreditCashEventResponse:
        """Credit one coin or stacked note (exactly once per idempotency key)."""
        return await self._call(self._kiosk.CreditCashEvent, request, "CreditCashEvent")

    async def close_recharge(self, recharge_id: int) -> kiosk_pb2.RechargeSummary:
        """Finish a recharge; answers its summary (again, if called again)."""
        request = kiosk_pb2.CloseRechargeRequest(recharge_id=recharge_id)
        return await self._call(self._kiosk.CloseRecharge, request, "CloseRecharge")

    async def redeem_voucher(self, token: str, code: str) -> kiosk_pb2.RedeemVoucherResponse:
        """Redeem a voucher code for the session's user."""
        request = kiosk_pb2.RedeemVoucherRequest(session_token=token, code=code)
        return await self._call(self._kiosk.RedeemVoucher, request, "RedeemVoucher")

    async def cash_box(self, token: str) -> kiosk_pb2.CashBoxReport:
        """This kiosk's cash box (operator sessions only: PERMISSION_DENIED otherwise)."""
        request = kiosk_pb2.OperatorRequest(session_token=token)
        return await self._call(self._kiosk.GetCashBox, request, "GetCashBox")

    async def empty_cash_box(self, request: kiosk_pb2.KioskEmptyCashBoxRequest) -> kiosk_pb2.CashBoxEmptied:
        """Record that an operator emptied the box (idempotency key in the request)."""
        return await self._call(self._kiosk.EmptyCashBox, request, "EmptyCashBox")
