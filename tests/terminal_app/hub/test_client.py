"""The hub client: status mapping, retry scope, keepalive paired with the hub, deadlines."""

from __future__ import annotations

import json

import grpc
import pytest

from hub_server.server import SERVER_OPTIONS
from terminal_app.errors import (
    AccessDenied,
    HubRejected,
    HubUnreachable,
    IdempotencyConflict,
    NotEnoughCredit,
    NotRecognised,
    NotSupported,
    QuotaExhausted,
    Refused,
)
from terminal_app.hub import CHANNEL_OPTIONS, RETRIED_METHODS, HubClient, error_for_status
from terminal_app.hub.values import Login
from tests.conftest import free_tcp_port
from tests.terminal_app.conftest import ALICE_CARD, Rig


@pytest.mark.parametrize(
    ("code", "detail", "kind"),
    [
        (grpc.StatusCode.UNAVAILABLE, "connection refused", HubUnreachable),
        (grpc.StatusCode.DEADLINE_EXCEEDED, "deadline", HubUnreachable),
        (grpc.StatusCode.UNAUTHENTICATED, "card or PIN not recognised", NotRecognised),
        (grpc.StatusCode.PERMISSION_DENIED, "too many failed attempts: locked", AccessDenied),
        (grpc.StatusCode.FAILED_PRECONDITION, "40 cents needed, 10 available", NotEnoughCredit),
        (grpc.StatusCode.FAILED_PRECONDITION, "print release is not enabled", Refused),
        (grpc.StatusCode.RESOURCE_EXHAUSTED, "quota", QuotaExhausted),
        (grpc.StatusCode.ALREADY_EXISTS, "key reused", IdempotencyConflict),
        (grpc.StatusCode.UNIMPLEMENTED, "", NotSupported),
        (grpc.StatusCode.INVALID_ARGUMENT, "bad", HubRejected),
    ],
)
def test_status_mapping(code: grpc.StatusCode, detail: str, kind: type) -> None:
    error = error_for_status(code, detail)
    assert type(error) is kind and error.code == code.name and error.detail == detail


def test_only_idempotent_calls_are_retried() -> None:
    config = json.loads(dict(CHANNEL_OPTIONS)["grpc.service_config"])
    [method_config] = config["methodConfig"]
    assert {name["method"] for name in method_config["name"]} == set(RETRIED_METHODS)
    assert "Authenticate" not in RETRIED_METHODS and "ReleaseJobs" not in RETRIED_METHODS
    assert method_config["retryPolicy"]["retryableStatusCodes"] == ["UNAVAILABLE"]


def test_keepalive_is_paired_with_the_hub() -> None:
    client, server = dict(CHANNEL_OPTIONS), dict(SERVER_OPTIONS)
    # The hub answers too_many_pings (GOAWAY) to pings closer than this without data.
    assert client["grpc.keepalive_time_ms"] >= server["grpc.http2.min_ping_interval_without_data_ms"]
    assert client["grpc.keepalive_permit_without_calls"] == server["grpc.keepalive_permit_without_calls"] == 1
    assert client["grpc.keepalive_timeout_ms"] < client["grpc.keepalive_time_ms"]


async def test_an_unreachable_hub_fails_fast_as_unreachable() -> None:
    client = HubClient(f"127.0.0.1:{free_tcp_port()}", "t1", "key", deadline_s=2.0)
    with pytest.raises(HubUnreachable):  # refused at once, or cut by the 2 s deadline
        await client.authenticate_card(ALICE_CARD)
    assert not await client.reachable(0.2)
    await client.close()


async def test_wrong_terminal_key_is_not_recognised(rig: Rig) -> None:
    client = HubClient(f"127.0.0.1:{rig.hub.running.port}", "t1", "not-the-key")
    with pytest.raises(NotRecognised, match="terminal"):
        await client.authenticate_card(ALICE_CARD)
    await client.close()


async def test_calls_carry_the_terminal_identity(rig: Rig) -> None:
    answer = await rig.client.authenticate_card(ALICE_CARD)
    assert isinstance(answer, Login) and answer.session.user.username == "alice"
    session = await rig.client.get_session(answer.session_token)
    assert session.user.username == "alice"
    await rig.client.logout(answer.session_token)
    with pytest.raises(NotRecognised, match="session ended"):
        await rig.client.get_session(answer.session_token)
