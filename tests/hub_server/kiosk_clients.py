"""Helpers for the kiosk and voucher tests: a kiosk's stubs, the admin's kiosk stub, ledger reads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from printgate.v1 import kiosk_pb2, kiosk_pb2_grpc

from hub_server.domain import ledger
from hub_server.storage import Database, Tx
from tests.hub_server.conftest import HubClients, TerminalClient

COIN, NOTE = kiosk_pb2.CASH_DEVICE_KIND_COIN, kiosk_pb2.CASH_DEVICE_KIND_NOTE
CREATED, ALREADY = kiosk_pb2.CREDIT_OUTCOME_CREATED, kiosk_pb2.CREDIT_OUTCOME_ALREADY_APPLIED


async def rpc_error(call: object) -> tuple[grpc.StatusCode, str]:
    """The status and message a call fails with (it must fail)."""
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await call  # type: ignore[misc]
    return raised.value.code(), raised.value.details() or ""


@dataclass
class KioskClient:
    """A kiosk (or terminal) calling KioskService with its identity metadata."""

    terminal: TerminalClient

    @property
    def stub(self) -> kiosk_pb2_grpc.KioskServiceStub:
        return kiosk_pb2_grpc.KioskServiceStub(self.terminal.channel)

    async def login(self, card: str) -> str:
        return (await self.terminal.tap(card)).session_token

    async def open(self, token: str) -> kiosk_pb2.OpenRechargeResponse:
        request = kiosk_pb2.OpenRechargeRequest(session_token=token)
        return await self.stub.OpenRecharge(request)

    async def credit(
        self,
        recharge_id: int,
        key: str,
        value_minor: int,
        kind: kiosk_pb2.CashDeviceKind = COIN,
        denomination: str = "",
        currency: str = "EUR",
    ) -> kiosk_pb2.CreditCashEventResponse:
        request = kiosk_pb2.CreditCashEventRequest(
            recharge_id=recharge_id,
            idempotency_key=key,
            value_minor=value_minor,
            currency=currency,
            denomination=denomination,
            device_kind=kind,
        )
        return await self.stub.CreditCashEvent(request, timeout=10)

    async def close(self, recharge_id: int) -> kiosk_pb2.RechargeSummary:
        request = kiosk_pb2.CloseRechargeRequest(recharge_id=recharge_id)
        return await self.stub.CloseRecharge(request)

    async def redeem(self, token: str, code: str) -> kiosk_pb2.RedeemVoucherResponse:
        request = kiosk_pb2.RedeemVoucherRequest(session_token=token, code=code)
        return await self.stub.RedeemVoucher(request)


async def kiosk(hub: HubClients, kiosk_id: str, kind: int = 2) -> KioskClient:
    """A new kiosk (kind 2) or terminal (kind 1) registered at the hub."""
    return KioskClient(await hub.create_terminal(kiosk_id, kind=kind))


async def kiosk_admin(hub: HubClients, method: str, request: object) -> Any:
    """One KioskAdminService call with the admin token."""
    stub = kiosk_pb2_grpc.KioskAdminServiceStub(hub.channel)
    return await getattr(stub, method)(request, metadata=hub.admin_metadata)


def entries(db: Database, transaction_id: int) -> dict[str, int]:
    """A transaction's ledger entries: account name -> amount in cents."""
    rows = db.read(
        lambda tx: tx.execute(
            "SELECT a.name, e.amount_cents FROM entries e JOIN accounts a ON a.id = e.account_id"
            " WHERE e.transaction_id = :t ORDER BY a.name",
            {"t": transaction_id},
        )
    )
    return {str(row["name"]): int(row["amount_cents"]) for row in rows}


def account_balance(db: Database, name: str) -> int:
    """An account's balance by name (0 when it does not exist yet)."""

    def read(tx: Tx) -> int:
        found = tx.scalar("SELECT id FROM accounts WHERE name = :n", {"n": name})
        return ledger.balance(tx, int(found)) if found is not None else 0

    return db.read(read)


def count_transactions(db: Database, kind: str) -> int:
    """How many transactions of a kind exist."""
    return int(
        db.read(lambda tx: tx.scalar("SELECT COUNT(*) AS n FROM transactions WHERE kind = :k", {"k": kind}))
    )


def assert_books_clean(db: Database) -> None:
    """Every ledger invariant holds."""
    assert db.read(ledger.check_ledger) == []
