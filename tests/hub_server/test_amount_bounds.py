"""Issue 19, finding 6: amounts had no upper bound.

The attack, each on the old hub: a price of 10^13 cents a page made a terminal's usage report
fail with ``OverflowError``; a credit limit of int64 max stopped its user logging in
(``available_cents`` overflowed the protobuf field); two adjustments of 5 * 10^18 turned an
SQLite balance into REAL (the ledger invariant caught it). Now every amount is refused at the
admin call with a message naming the bound, the largest allowed values work end to end, and no
balance may pass +-``MAX_BALANCE_CENTS``. Both backends.
"""

from __future__ import annotations

import uuid
from typing import Any

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from printgate.v1 import admin_pb2, common_pb2, kiosk_pb2

from hub_server.domain import ledger
from hub_server.domain.validation import MAX_AMOUNT_CENTS, MAX_PRICE_CENTS_PER_PAGE
from tests.hub_server.conftest import HubClients
from tests.hub_server.kiosk_clients import kiosk_admin

pytestmark = pytest.mark.asyncio

INT64_MAX = 2**63 - 1
INVALID = grpc.StatusCode.INVALID_ARGUMENT
ALICE = admin_pb2.UserRef(username="alice")


async def refused(call: Any) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await call
    return error.value.code(), str(error.value.details())


def price(cents: int) -> admin_pb2.Price:
    return admin_pb2.Price(
        printer_group="default",
        function=common_pb2.FUNCTION_COPY,
        color=common_pb2.COLOR_MODE_MONO,
        paper_size="*",
        price_cents_per_page=cents,
    )


def adjustment(amount_cents: int) -> admin_pb2.AdjustCreditRequest:
    return admin_pb2.AdjustCreditRequest(
        user=ALICE, amount_cents=amount_cents, reason="bounds", idempotency_key=str(uuid.uuid4())
    )


async def test_a_price_above_the_bound_is_refused_and_the_largest_charge_fits(hub: HubClients) -> None:
    assert await refused(hub.call_admin("SetPrice", price(10**13))) == (
        INVALID,
        f"a price per page must be 0..{MAX_PRICE_CENTS_PER_PAGE} minor units, not {10**13}",
    )
    await hub.call_admin("SetPrice", price(MAX_PRICE_CENTS_PER_PAGE))
    await hub.create_user("alice", card="A1", credit_limit_cents=MAX_AMOUNT_CENTS)
    terminal = await hub.create_terminal("t1")
    token = (await terminal.tap("A1")).session_token
    # a metered copy session (never refused) of the most pages a line may have, at the top price
    reply = await terminal.report(token, "copy-1", 1_000_000, performed=True)
    assert reply.charged_cents == 1_000_000 * MAX_PRICE_CENTS_PER_PAGE
    assert reply.balance_cents == -MAX_AMOUNT_CENTS
    assert reply.arrears_cents == 1_000_000 * MAX_PRICE_CENTS_PER_PAGE - MAX_AMOUNT_CENTS
    assert (await hub.check_ledger()).ok


async def test_a_credit_limit_above_the_bound_is_refused_and_the_largest_logs_in(hub: HubClients) -> None:
    message = f"a credit limit must be 0..{MAX_AMOUNT_CENTS} minor units, not {INT64_MAX}"
    create = hub.call_admin("CreateUser", admin_pb2.User(username="alice", credit_limit_cents=INT64_MAX))
    assert await refused(create) == (INVALID, message)
    await hub.create_user("alice", card="A1")
    limit = admin_pb2.SetCreditLimitRequest(user=ALICE, credit_limit_cents=INT64_MAX)
    assert await refused(hub.call_admin("SetCreditLimit", limit)) == (INVALID, message)
    csv = f"username,credit_limit_cents\nalice,{INT64_MAX}\n"
    report = await hub.call_admin("ImportUsers", admin_pb2.ImportUsersRequest(csv=csv))
    assert [(row.action, row.message) for row in report.rows] == [("error", message)]
    limit = admin_pb2.SetCreditLimitRequest(user=ALICE, credit_limit_cents=MAX_AMOUNT_CENTS)
    await hub.call_admin("SetCreditLimit", limit)
    terminal = await hub.create_terminal("t1")
    session = (await terminal.tap("A1")).session
    assert (session.credit_limit_cents, session.available_cents) == (MAX_AMOUNT_CENTS, MAX_AMOUNT_CENTS)


async def test_adjustments_are_bounded_and_no_balance_passes_the_ceiling(
    hub: HubClients, monkeypatch: pytest.MonkeyPatch
) -> None:
    await hub.create_user("alice")
    for amount_cents in (5 * 10**18, -(5 * 10**18), MAX_AMOUNT_CENTS + 1):
        assert await refused(hub.call_admin("AdjustCredit", adjustment(amount_cents))) == (
            INVALID,
            f"an adjustment must be {-MAX_AMOUNT_CENTS}..{MAX_AMOUNT_CENTS} minor units, not {amount_cents}",
        )
    # the ceiling, lowered so a test can reach it with bounded adjustments
    monkeypatch.setattr(ledger, "MAX_BALANCE_CENTS", 3 * MAX_AMOUNT_CENTS)
    for _ in range(3):
        await hub.call_admin("AdjustCredit", adjustment(MAX_AMOUNT_CENTS))
    assert await refused(hub.call_admin("AdjustCredit", adjustment(1))) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "account user:alice would pass the largest balance the hub keeps"
        f" (+-{3 * MAX_AMOUNT_CENTS} minor units)",
    )
    assert await hub.balance("alice") == 3 * MAX_AMOUNT_CENTS
    assert (await hub.check_ledger()).ok


async def test_a_voucher_above_the_bound_is_refused(hub: HubClients) -> None:
    expires = Timestamp()
    expires.FromMicroseconds(hub.clock.now_us() + 86_400_000_000)
    batch = kiosk_pb2.CreateVoucherBatchRequest(value_cents=10**13, count=1, expires_at=expires)
    assert await refused(kiosk_admin(hub, "CreateVoucherBatch", batch)) == (
        INVALID,
        f"a voucher's value must be 1..{MAX_AMOUNT_CENTS} minor units, not {10**13}",
    )
