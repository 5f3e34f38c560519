"""Issue 19, finding 9: the smaller points.

* An idempotency key of blanks was accepted (every blank-keyed retry of any request would be
  "the same request"): now refused before anything is looked at, on every money call.
* Voucher-batch creation told an unauthenticated caller its validation rules: the admin
  credential is checked before the request.
* Unexpected errors reached clients with Python class names, account ids and balances in their
  text: now a client reads ``internal error (incident <id>)``, and the hub's log has the rest
  under the same id, on unary and on streaming calls.

Both backends.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from printgate.v1 import admin_pb2, kiosk_pb2, kiosk_pb2_grpc, terminal_pb2

from hub_server.domain.sessions import Sessions
from hub_server.errors import InvariantViolation
from tests.hub_server.conftest import HubClients

pytestmark = pytest.mark.asyncio

BLANK_KEY = "idempotency key must be 1..128 printable characters, not only blanks"
SECRETIVE = "account 7: balance 12345 != entries 12000 + 300"


async def refused(call: Any) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await call
    return error.value.code(), str(error.value.details())


async def transactions(hub: HubClients) -> int:
    return int((await hub.check_ledger()).transactions)


@pytest.mark.parametrize("key", ["", " ", "   \t  ", "\u3000"])
async def test_a_blank_idempotency_key_is_refused_before_any_money_moves(hub: HubClients, key: str) -> None:
    await hub.create_user("alice", card="A1", credit_cents=500)
    terminal = await hub.create_terminal("t1")
    token = (await terminal.tap("A1")).session_token
    before = await transactions(hub)
    adjust = admin_pb2.AdjustCreditRequest(
        user=admin_pb2.UserRef(username="alice"), amount_cents=100, reason="blank", idempotency_key=key
    )
    expected = (grpc.StatusCode.INVALID_ARGUMENT, BLANK_KEY)
    assert await refused(hub.call_admin("AdjustCredit", adjust)) == expected
    assert await refused(terminal.report(token, key, 3)) == expected
    assert (await hub.balance("alice"), await transactions(hub)) == (500, before)


async def test_voucher_batches_check_the_admin_credential_before_the_request(hub: HubClients) -> None:
    stub = kiosk_pb2_grpc.KioskAdminServiceStub(hub.channel)
    past = Timestamp()
    past.FromMicroseconds(1)
    nonsense = kiosk_pb2.CreateVoucherBatchRequest(value_cents=-5, count=10**6, expires_at=past, prefix="!!")
    for metadata in ((), (("authorization", "Bearer not-a-token"),)):
        code, message = await refused(stub.CreateVoucherBatch(nonsense, metadata=metadata))
        assert code == grpc.StatusCode.UNAUTHENTICATED
        assert not re.search(r"prefix|value|batch|expiry", message)
    code, _ = await refused(stub.CreateVoucherBatch(nonsense, metadata=hub.admin_metadata))
    assert code == grpc.StatusCode.INVALID_ARGUMENT  # the rules, once the caller is an admin


@pytest.mark.parametrize(
    "error", [RuntimeError(SECRETIVE), InvariantViolation(SECRETIVE), KeyError(SECRETIVE)]
)
async def test_an_unexpected_error_reaches_the_client_without_its_details(
    hub: HubClients, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, error: Exception
) -> None:
    await hub.create_user("alice", card="A1")
    terminal = await hub.create_terminal("t1")
    token = (await terminal.tap("A1")).session_token

    def broken(self: Sessions, terminal_id: str, token: str, guest_ok: bool = False) -> Any:
        raise error

    monkeypatch.setattr(Sessions, "get", broken)  # every call naming a session looks it up
    # this hub has no print intake; ReleaseJobs fails on the session before it would print
    monkeypatch.setattr(hub.running.hub, "_printing", object())

    def unary() -> Any:
        return terminal.session(token)

    def streaming() -> Any:
        request = terminal_pb2.ReleaseJobsRequest(session_token=token, all=True, idempotency_key="k")
        return terminal.stub.ReleaseJobs(request).read()

    for call in (unary, streaming):
        caplog.clear()
        code, message = await refused(call())
        assert code == grpc.StatusCode.INTERNAL
        match = re.fullmatch(r"internal error \(incident ([0-9a-f]{8})\)", message)
        assert match is not None, message
        (record,) = [r for r in caplog.records if r.levelno == logging.ERROR]
        assert match.group(1) in record.getMessage()
        assert record.exc_info is not None and record.exc_info[1] is error  # the details: in the log
