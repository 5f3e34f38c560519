"""The running hub's device port refuses every caller that is not an enrolled device with a
valid certificate from the hub CA: a plaintext client, no client certificate, another CA's
certificate naming a real terminal, an expired or not-yet-valid certificate from the hub's own
CA, a revoked one (also after a restart); and the plaintext development mode says so loudly."""

from __future__ import annotations

import datetime
import logging
import time
from dataclasses import replace

import grpc
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from printgate.v1 import admin_pb2, terminal_pb2, terminal_pb2_grpc

from hub_server.pki import DeviceIdentity
from hub_server.pki.authority import CertificateAuthority
from hub_server.pki.keys import pem_of
from hub_server.server import start_hub
from terminal_app.hub.enrollment import CredentialStore
from tests.hub_server.conftest import HubClients
from tests.hub_server.devices import device_channel
from tests.hub_server.pki.rig import key_pem, make_ca

CARD = "0011223344"
DAY_S = 86_400


async def _authenticate(channel: grpc.aio.Channel) -> grpc.aio.AioRpcError:
    """The error a card login over ``channel`` ends in (it must not succeed)."""
    stub = terminal_pb2_grpc.TerminalServiceStub(channel)
    request = terminal_pb2.AuthenticateRequest(card=terminal_pb2.CardCredential(number=CARD))
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.Authenticate(request, timeout=10)
    await channel.close()
    return refused.value


def _mutual(hub: HubClients, key: ec.EllipticCurvePrivateKey, chain: bytes) -> grpc.aio.Channel:
    anchor = hub.running.pki.material.anchor
    credentials = grpc.ssl_channel_credentials(pem_of([anchor]), key_pem(key), chain)
    return grpc.aio.secure_channel(f"127.0.0.1:{hub.running.port}", credentials)


async def _site(hub: HubClients) -> None:
    await hub.create_user("alice", card=CARD, credit_cents=100)
    terminal = await hub.create_terminal("t1")
    login = await terminal.tap(CARD)
    assert login.session_token  # the enrolled terminal itself is served


async def test_a_plaintext_client_and_one_without_a_certificate_are_refused(hub: HubClients) -> None:
    await _site(hub)
    address = f"127.0.0.1:{hub.running.port}"
    plain = await _authenticate(grpc.aio.insecure_channel(address))
    assert plain.code() is grpc.StatusCode.UNAVAILABLE
    anchor = pem_of([hub.running.pki.material.anchor])
    anonymous = await _authenticate(grpc.aio.secure_channel(address, grpc.ssl_channel_credentials(anchor)))
    assert anonymous.code() is grpc.StatusCode.UNAVAILABLE  # the handshake itself fails


async def test_another_cas_certificate_naming_a_real_terminal_is_refused(hub: HubClients) -> None:
    await _site(hub)
    ca_key, ca_certificate = make_ca("evil CA")
    key = ec.generate_private_key(ec.SECP256R1())
    forged = CertificateAuthority(ca_key, (ca_certificate,)).issue_device(
        DeviceIdentity("terminal", "t1"), key.public_key(), time.time_ns() // 1000, DAY_S
    )
    refused = await _authenticate(_mutual(hub, key, pem_of([forged, ca_certificate])))
    assert refused.code() is grpc.StatusCode.UNAVAILABLE


@pytest.mark.parametrize("start_s", [-40 * DAY_S, 3 * DAY_S], ids=["expired", "not-yet-valid"])
async def test_the_hub_cas_own_certificate_outside_its_validity_is_refused(
    hub: HubClients, start_s: int
) -> None:
    await _site(hub)
    material = hub.running.pki.material
    key = ec.generate_private_key(ec.SECP256R1())
    issued_at_us = (time.time_ns() // 1000) + start_s * 1_000_000
    certificate = material.authority.issue_device(
        DeviceIdentity("terminal", "t1"), key.public_key(), issued_at_us, 30 * DAY_S // 2
    )
    now = datetime.datetime.now(datetime.UTC)
    assert not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc
    chain = pem_of([certificate, *material.server_chain[1:]])
    refused = await _authenticate(_mutual(hub, key, chain))
    assert refused.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.UNAUTHENTICATED)


async def test_a_revoked_terminal_stays_refused_after_a_restart(hub: HubClients) -> None:
    await _site(hub)
    terminal = hub.device_channels[0]
    await hub.call_admin("RevokeTerminal", admin_pb2.RevokeTerminalRequest(terminal_id="t1", reason="stolen"))
    refused = await _authenticate(terminal)
    assert refused.code() is grpc.StatusCode.UNAUTHENTICATED and "revoked" in (refused.details() or "")
    running = hub.running
    await running.stop(0)
    config = replace(
        running.hub.config,
        listen=f"127.0.0.1:{running.port}",
        admin_listen=f"127.0.0.1:{running.admin_port}",
    )
    hub.running = await start_hub(config, hub.clock)
    try:
        state_dir = hub.devices_dir / "t1"
        credentials = CredentialStore(state_dir).current()
        assert credentials is not None
        again = await _authenticate(device_channel(credentials))
        assert again.code() is grpc.StatusCode.UNAUTHENTICATED and "revoked" in (again.details() or "")
    finally:
        await hub.running.stop(0)
        hub.running = running


async def test_the_plaintext_development_mode_is_loud(
    hub: HubClients, caplog: pytest.LogCaptureFixture
) -> None:
    config = replace(
        hub.running.hub.config,
        listen="127.0.0.1:0",
        admin_listen="127.0.0.1:0",
        data_dir=hub.running.hub.config.data_dir.parent / "plain",
        dev_plaintext=True,
    )
    with caplog.at_level(logging.WARNING, logger="hub_server.server"):
        plain = await start_hub(config, hub.clock)
    try:
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert any("DEVELOPMENT PLAINTEXT MODE" in line for line in warnings)
        assert any("crosses the network in clear" in line for line in warnings)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{plain.port}") as channel:
            stub = terminal_pb2_grpc.TerminalServiceStub(channel)
            with pytest.raises(grpc.aio.AioRpcError) as refused:  # no id + key: still no device
                await stub.Authenticate(
                    terminal_pb2.AuthenticateRequest(card=terminal_pb2.CardCredential(number=CARD)),
                    timeout=10,
                )
            assert refused.value.code() is grpc.StatusCode.UNAUTHENTICATED
    finally:
        await plain.stop(0)
    assert not hub.running.hub.config.dev_plaintext  # the default is TLS
