"""Issue 19, finding 8: nothing was logged about failed logins or lockouts.

Now every failed login is logged (INFO) with the terminal, the method and the identities it
counted against, and every identity that must wait is logged (WARNING) with its wait and failure
count; the counters per terminal and per user are kept for operators. No secret appears in any
log line: the PINs, passwords and card numbers tried below are searched for in everything every
logger wrote, at DEBUG. Both backends.
"""

from __future__ import annotations

import logging
import re

import grpc
import pytest
from printgate.v1 import admin_pb2, common_pb2

from tests.hub_server.conftest import HubClients

pytestmark = pytest.mark.asyncio

PASSWORD = "correct horse battery staple"
WRONG_PASSWORDS = [f"Tr0ub4dor&{n}" for n in range(6)]
PIN = "735193"
WRONG_PINS = [f"86420{n}" for n in range(6)]
CARD = "04C0FFEE01"
UNKNOWN_CARD = "04BADC0FFEE9"


async def fails(call: object) -> grpc.StatusCode:
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await call  # type: ignore[misc]
    return error.value.code()


async def test_failures_and_lockouts_are_logged_without_secrets(
    hub: HubClients, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await hub.call_admin(
        "UpsertRole",
        admin_pb2.Role(name="staff", requires_card_pin=True, allowed_functions=[common_pb2.FUNCTION_PRINT]),
    )
    await hub.create_user("alice", card=CARD, pin=PIN, initial_password=PASSWORD, roles=["staff"])
    kiosk_door = await hub.create_terminal("t1")
    lobby = await hub.create_terminal("t2")
    caplog.clear()

    for password in WRONG_PASSWORDS[:5]:
        assert await fails(kiosk_door.password("alice", password)) == grpc.StatusCode.UNAUTHENTICATED
    assert await fails(kiosk_door.password("alice", PASSWORD)) == grpc.StatusCode.PERMISSION_DENIED
    for pin in WRONG_PINS[:5]:
        assert await fails(lobby.pin(pin)) == grpc.StatusCode.UNAUTHENTICATED
    assert await fails(lobby.tap(UNKNOWN_CARD)) == grpc.StatusCode.PERMISSION_DENIED
    corridor = await hub.create_terminal("t3")
    assert await fails(corridor.tap(UNKNOWN_CARD, pin=WRONG_PINS[5])) == grpc.StatusCode.UNAUTHENTICATED

    failed = [r.getMessage() for r in caplog.records if r.getMessage().startswith("login failed")]
    assert len(failed) == 11
    assert re.fullmatch(
        r"login failed at terminal t1: password username#[0-9a-f]{10} \(counted: terminal:t1, user:1\)",
        failed[0],
    )
    assert failed[5] == "login failed at terminal t2: pin (counted: terminal:t2)"
    assert re.fullmatch(
        r"login failed at terminal t3: card\+pin card#[0-9a-f]{10} \(counted: terminal:t3\)", failed[10]
    )
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 3
    last = r" waits 30 s after 5 failed attempts \(last: password username#[0-9a-f]{10} at terminal t1\)"
    assert re.fullmatch("login: terminal:t1" + last, warnings[0])
    assert re.fullmatch("login: user:1" + last, warnings[1])
    assert warnings[2] == "login: terminal:t2 waits 30 s after 5 failed attempts (last: pin at terminal t2)"

    counted = hub.running.hub.auth.login_counters()
    assert {t: (c.failures_total, c.lockouts_total) for t, c in counted.terminals.items()} == {
        "t1": (5, 1),
        "t2": (5, 1),
        "t3": (1, 0),
    }
    assert {u: (c.failures_total, c.lockouts_total) for u, c in counted.users.items()} == {1: (5, 1)}

    everything = caplog.text + "".join(str(record.args) for record in caplog.records)
    for secret in [PASSWORD, *WRONG_PASSWORDS, PIN, *WRONG_PINS, CARD, UNKNOWN_CARD]:
        assert secret not in everything
    assert "alice" not in "".join(failed + warnings)  # the typed username is a keyed tag too
