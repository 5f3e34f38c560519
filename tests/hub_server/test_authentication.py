"""Authentication through the real gRPC hub: cards, PINs, passwords, lockout, sessions."""

from __future__ import annotations

import grpc
import pytest
from printgate.device_trust import REFUSED_HEADER, DeviceRefusal
from printgate.v1 import admin_pb2, common_pb2, terminal_pb2

from tests.hub_server.conftest import HubClients, TerminalClient

CARD = "04A1B2C3D4"


async def _code(call: object) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await call  # type: ignore[misc]
    return raised.value.code(), raised.value.details() or ""


async def test_card_tap_opens_a_session_with_the_users_money(hub: HubClients) -> None:
    terminal = await hub.create_terminal("t1")
    await hub.create_user("alice", card=CARD, credit_cents=500, full_name="Alice A")
    reply = await terminal.tap(CARD.lower() + " ")
    assert not reply.second_factor_required
    assert reply.session.user.username == "alice"
    assert reply.session.user.full_name == "Alice A"
    assert reply.session.balance_cents == 500
    assert reply.session.available_cents == 500
    assert reply.session.auth_method == "card"
    session = await terminal.session(reply.session_token)
    assert session.user.username == "alice"
    assert session.account == "user:alice"


async def test_unknown_card_and_wrong_pin_answer_alike(hub: HubClients) -> None:
    terminal = await hub.create_terminal("t1")
    await hub.create_user("alice", card=CARD, pin="4711")
    unknown_card = await _code(terminal.tap("DEADBEEF"))
    wrong_pin = await _code(terminal.pin("9999"))
    garbage = await _code(terminal.tap("x" * 500))
    assert (
        unknown_card
        == wrong_pin
        == garbage
        == (grpc.StatusCode.UNAUTHENTICATED, "card or PIN not recognised")
    )


async def test_pin_alone_logs_in_and_pins_are_unique(hub: HubClients) -> None:
    terminal = await hub.create_terminal("t1")
    await hub.create_user("alice", pin="4711")
    await hub.create_user("bob")
    reply = await terminal.pin("4711")
    assert reply.session.user.username == "alice"
    assert reply.session.auth_method == "pin"
    code, message = await _code(
        hub.call_admin("SetPin", admin_pb2.SetPinRequest(user=admin_pb2.UserRef(username="bob"), pin="4711"))
    )
    assert code == grpc.StatusCode.ALREADY_EXISTS
    assert "already in use" in message
    generated = await hub.call_admin(
        "SetPin", admin_pb2.SetPinRequest(user=admin_pb2.UserRef(username="bob"))
    )
    assert generated.pin.isdigit() and len(generated.pin) == 6
    assert (await terminal.pin(generated.pin)).session.user.username == "bob"


async def test_role_demanding_card_and_pin(hub: HubClients) -> None:
    terminal = await hub.create_terminal("t1")
    await hub.call_admin(
        "UpsertRole",
        admin_pb2.Role(
            name="staff",
            requires_card_pin=True,
            allowed_functions=[common_pb2.FUNCTION_PRINT, common_pb2.FUNCTION_COPY, common_pb2.FUNCTION_SCAN],
            color_allowed=True,
        ),
    )
    await hub.create_user("carol", card=CARD, pin="2468", roles=["staff"])
    first = await terminal.tap(CARD)
    assert first.second_factor_required and not first.session_token
    assert await _code(terminal.tap(CARD, pin="1111")) == (
        grpc.StatusCode.UNAUTHENTICATED,
        "card or PIN not recognised",
    )
    second = await terminal.tap(CARD, pin="2468")
    assert second.session.user.username == "carol" and second.session.auth_method == "card+pin"
    code, message = await _code(terminal.pin("2468"))
    assert code == grpc.StatusCode.PERMISSION_DENIED and "card and PIN" in message


async def test_password_login(hub: HubClients) -> None:
    terminal = await hub.create_terminal("t1")
    await hub.create_user("dave", initial_password="correct horse")
    assert (await terminal.password("dave", "correct horse")).session.user.username == "dave"
    assert (await _code(terminal.password("dave", "wrong horse")))[0] == grpc.StatusCode.UNAUTHENTICATED
    assert (await _code(terminal.password("nobody", "x")))[0] == grpc.StatusCode.UNAUTHENTICATED


async def test_ten_wrong_pins_make_the_terminal_wait_then_it_takes_logins_again(hub: HubClients) -> None:
    terminal = await hub.create_terminal("t1")
    other = await hub.create_terminal("t2")
    await hub.create_user("alice", pin="4711")
    limit = hub.running.hub.config.auth.max_failed_attempts
    codes = [(await _code(terminal.pin(f"{9000 + attempt}")))[0] for attempt in range(10)]
    assert codes[:limit] == [grpc.StatusCode.UNAUTHENTICATED] * limit
    assert codes[limit:] == [grpc.StatusCode.PERMISSION_DENIED] * (10 - limit)
    # even the right PIN is refused while the terminal waits; another terminal is unaffected
    code, message = await _code(terminal.pin("4711"))
    assert code == grpc.StatusCode.PERMISSION_DENIED and "locked for 30 more seconds" in message
    assert (await other.pin("4711")).session.user.username == "alice"
    hub.clock.advance(29)
    assert (await _code(terminal.pin("4711")))[0] == grpc.StatusCode.PERMISSION_DENIED
    hub.clock.advance(2)
    assert (await terminal.pin("4711")).session.user.username == "alice"


async def test_wrong_passwords_make_the_user_wait_everywhere_until_an_admin_unlocks(hub: HubClients) -> None:
    terminal = await hub.create_terminal("t1")
    elsewhere = await hub.create_terminal("t2")
    await hub.create_user("dave", card=CARD, initial_password="correct horse")
    for _ in range(5):
        await _code(terminal.password("dave", "nope nope"))
    assert (await _code(terminal.tap(CARD)))[0] == grpc.StatusCode.PERMISSION_DENIED
    assert (await _code(elsewhere.tap(CARD)))[0] == grpc.StatusCode.PERMISSION_DENIED
    await hub.call_admin(
        "UnlockIdentity", admin_pb2.UnlockIdentityRequest(user=admin_pb2.UserRef(username="dave"))
    )
    assert (await elsewhere.tap(CARD)).session.user.username == "dave"
    # the failures were counted at t1 as well: it waits until it is unlocked too
    assert (await _code(terminal.tap(CARD)))[0] == grpc.StatusCode.PERMISSION_DENIED
    await hub.call_admin("UnlockIdentity", admin_pb2.UnlockIdentityRequest(terminal_id="t1"))
    assert (await terminal.tap(CARD)).session.user.username == "dave"


async def test_sessions_expire_and_end(hub: HubClients) -> None:
    terminal = await hub.create_terminal("t1")
    await hub.create_user("alice", card=CARD)
    token = (await terminal.tap(CARD)).session_token
    hub.clock.advance(hub.running.hub.config.auth.session_ttl_s - 1)
    assert (await terminal.session(token)).user.username == "alice"
    hub.clock.advance(2)
    assert await _code(terminal.session(token)) == (grpc.StatusCode.UNAUTHENTICATED, "session expired")
    token = (await terminal.tap(CARD)).session_token
    await terminal.logout(token)
    assert await _code(terminal.session(token)) == (grpc.StatusCode.UNAUTHENTICATED, "session ended")


async def test_session_is_bound_to_its_terminal(hub: HubClients) -> None:
    first = await hub.create_terminal("t1")
    second = await hub.create_terminal("t2")
    await hub.create_user("alice", card=CARD, credit_cents=100)
    token = (await first.tap(CARD)).session_token
    code, message = await _code(second.session(token))
    assert code == grpc.StatusCode.PERMISSION_DENIED and "another terminal" in message
    assert (await _code(second.report(token, "k1", 1)))[0] == grpc.StatusCode.PERMISSION_DENIED
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert (await _code(first.session(forged)))[0] == grpc.StatusCode.UNAUTHENTICATED


async def test_a_caller_without_a_device_certificate_and_bad_admin_credentials_are_refused(
    hub: HubClients,
) -> None:
    await hub.create_user("alice", card=CARD)
    # The admin port asks for no client certificate: a terminal call there names no device.
    nobody = TerminalClient(hub.channel, "t1", hub.devices_dir / "none")
    call = nobody.stub.Authenticate(
        terminal_pb2.AuthenticateRequest(card=terminal_pb2.CardCredential(number=CARD)),
        metadata=(("x-printgate-terminal-id", "t1"), ("x-printgate-terminal-key", "guess")),
    )
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await call
    assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "no client certificate" in (raised.value.details() or "")
    assert (REFUSED_HEADER, DeviceRefusal.UNKNOWN) in tuple(raised.value.trailing_metadata() or ())
    code, _ = await _code(
        hub.admin.ListUsers(admin_pb2.ListUsersRequest(), metadata=(("authorization", "Bearer nope"),))
    )
    assert code == grpc.StatusCode.UNAUTHENTICATED
    code, _ = await _code(hub.admin.ListUsers(admin_pb2.ListUsersRequest()))
    assert code == grpc.StatusCode.UNAUTHENTICATED


async def test_inactive_user_cannot_log_in(hub: HubClients) -> None:
    terminal = await hub.create_terminal("t1")
    await hub.create_user("erin", card=CARD)
    token = (await terminal.tap(CARD)).session_token
    await hub.call_admin(
        "UpdateUser",
        admin_pb2.UpdateUserRequest(
            user=admin_pb2.UserRef(username="erin"), fields=["active"], values=admin_pb2.User(active=False)
        ),
    )
    assert (await _code(terminal.tap(CARD)))[0] == grpc.StatusCode.UNAUTHENTICATED
    assert await _code(terminal.session(token)) == (
        grpc.StatusCode.UNAUTHENTICATED,
        "user is no longer active",
    )


async def test_the_wait_doubles_with_each_failure_up_to_lockout_s(hub: HubClients) -> None:
    """The back-off (docs/security.md, "Login lockout"): 5 free failures, then 30 s, doubling
    per further failure up to 900 s; a login forgives the user's failures."""
    terminals = [await hub.create_terminal(f"t{n}") for n in range(8)]
    await hub.create_user("erin", card=CARD, initial_password="correct horse")
    for n in range(5):  # each at its own terminal: only erin's count binds
        await _code(terminals[n].password("erin", "wrong"))
    waits = []
    for n in range(5, 8):  # each further failure once the wait is over
        code, message = await _code(terminals[n].password("erin", "correct horse"))
        assert code == grpc.StatusCode.PERMISSION_DENIED
        wait_s = int(message.split("locked for ")[1].split()[0])
        waits.append(wait_s)
        hub.clock.advance(wait_s)
        assert (await _code(terminals[n].password("erin", "wrong")))[0] == grpc.StatusCode.UNAUTHENTICATED
    assert waits == [30, 60, 120]  # the eighth failure: 240 s, the ninth 480 s, then capped
    for wait_s in (240, 480):
        hub.clock.advance(wait_s)
        assert (await _code(terminals[0].password("erin", "wrong")))[0] == grpc.StatusCode.UNAUTHENTICATED
    code, message = await _code(terminals[0].tap(CARD))
    assert message == "too many failed attempts: locked for 900 more seconds"  # not 960
    hub.clock.advance(900)
    assert (await terminals[7].tap(CARD)).session.user.username == "erin"
    # forgiven: five free failures again
    for _ in range(5):
        assert (await _code(terminals[6].password("erin", "wrong")))[0] == grpc.StatusCode.UNAUTHENTICATED


async def test_a_terminals_failures_fade_after_a_quiet_lockout_s(hub: HubClients) -> None:
    terminal = await hub.create_terminal("t1")
    await hub.create_user("alice", pin="4711")
    for n in range(4):
        await _code(terminal.pin(f"{9000 + n}"))
    hub.clock.advance(900)  # a quiet lockout_s: the four are forgotten
    for n in range(5):
        assert (await _code(terminal.pin(f"{9100 + n}")))[0] == grpc.StatusCode.UNAUTHENTICATED
    assert (await _code(terminal.pin("4711")))[0] == grpc.StatusCode.PERMISSION_DENIED
