"""The hub client: status mapping, retry scope, keepalive paired with the hub, deadlines."""

from __future__ import annotations

import datetime
import json

import grpc
import pytest
from printgate.v1 import admin_pb2, terminal_pb2, terminal_pb2_grpc

from hub_server.server import SERVER_OPTIONS
from terminal_app.errors import (
    AccessDenied,
    DeviceDisabled,
    DeviceRefused,
    HubRejected,
    HubUnreachable,
    IdempotencyConflict,
    NotEnoughCredit,
    NotRecognised,
    NotSupported,
    QuotaExhausted,
    Refused,
)
from terminal_app.hub import CHANNEL_OPTIONS, RETRIED_METHODS, HubChannel, HubClient, error_for_status
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


@pytest.mark.parametrize(
    ("refusal", "kind"),
    [
        ("revoked", DeviceDisabled),
        ("expired", DeviceRefused),
        ("unknown", DeviceRefused),
        ("", NotRecognised),
    ],
)
def test_the_hubs_refusal_of_the_device_is_not_a_card_refusal(refusal: str, kind: type) -> None:
    assert type(error_for_status(grpc.StatusCode.UNAUTHENTICATED, "no", refusal)) is kind


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


async def test_an_unreachable_hub_fails_fast_as_unreachable(rig: Rig) -> None:
    client = HubClient(rig.terminal.credentials, address=f"127.0.0.1:{free_tcp_port()}", deadline_s=2.0)
    with pytest.raises(HubUnreachable):  # refused at once, or cut by the 2 s deadline
        await client.authenticate_card(ALICE_CARD)
    assert not await client.reachable(0.2)
    assert client.device_refusal is None  # unreachable is not refused
    await client.close()


async def test_a_revoked_terminal_learns_it_is_disabled(rig: Rig) -> None:
    await rig.hub.call_admin(
        "RevokeTerminal", admin_pb2.RevokeTerminalRequest(terminal_id="t1", reason="stolen")
    )
    with pytest.raises(DeviceDisabled, match=r"certificate [0-9a-f]+ of t1 is revoked"):
        await rig.client.authenticate_card(ALICE_CARD)
    assert isinstance(rig.client.device_refusal, DeviceDisabled)


async def test_an_expired_certificate_is_not_even_dialled(rig: Rig) -> None:
    credentials = rig.terminal.credentials
    after_end = credentials.certificate.not_valid_after_utc + datetime.timedelta(seconds=1)
    channel = HubChannel(credentials, now=lambda: after_end)
    refusal = channel.refusal
    assert type(refusal) is DeviceRefused and "expired" in refusal.detail
    stub = terminal_pb2_grpc.TerminalServiceStub(channel.grpc_channel)
    with pytest.raises(DeviceRefused, match="enroll it again"):
        await channel.call(stub.Authenticate, terminal_pb2.AuthenticateRequest(), "Authenticate")
    assert channel.grpc_channel.get_state() is grpc.ChannelConnectivity.IDLE  # never dialled
    await channel.close()


async def test_calls_carry_the_terminal_identity(rig: Rig) -> None:
    answer = await rig.client.authenticate_card(ALICE_CARD)
    assert isinstance(answer, Login) and answer.session.user.username == "alice"
    session = await rig.client.get_session(answer.session_token)
    assert session.user.username == "alice"
    await rig.client.logout(answer.session_token)
    with pytest.raises(NotRecognised, match="session ended"):
        await rig.client.get_session(answer.session_token)
