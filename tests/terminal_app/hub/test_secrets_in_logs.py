"""Secrets hygiene: a hub process at DEBUG, a terminal enrolled by ``printgate terminal enroll``,
logins by card, card + PIN, PIN and password (right and wrong), a revocation; then every line
either side wrote is searched for every secret the run used."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from printgate.v1 import admin_pb2, admin_pb2_grpc

from terminal_app.errors import DeviceDisabled, NotRecognised
from terminal_app.hub import HubClient
from terminal_app.hub.enrollment import CredentialStore
from terminal_app.hub.values import Login
from tests.conftest import free_tcp_port
from tests.hub_server.processes import HubProcess

REPO = Path(__file__).resolve().parents[3]
CARD = "0099887766"
PIN = "8642"
PASSWORD = "correct horse battery staple"
WRONG_PIN = "1111"
WRONG_PASSWORD = "hunter2-but-wrong"


@pytest.fixture
def hub_process(tmp_path: Path) -> Iterator[HubProcess]:
    config = tmp_path / "hub.toml"
    config.write_text("[auth]\nargon2_time_cost = 1\nargon2_memory_kib = 1024\n")
    (tmp_path / "hub").mkdir()
    process = HubProcess(tmp_path / "hub", free_tcp_port(), config, log_level="DEBUG")
    process.start()
    yield process
    process.stop()


async def _seed(hub: HubProcess, channel: grpc.aio.Channel) -> str:
    """dora with a card, a PIN and a password; a token for terminal t9."""
    admin = admin_pb2_grpc.AdminServiceStub(channel)
    metadata = hub.admin_metadata
    user = admin_pb2.UserRef(username="dora")
    await admin.CreateUser(admin_pb2.User(username="dora"), metadata=metadata)
    await admin.AddCard(admin_pb2.Card(user=user, number=CARD), metadata=metadata)
    await admin.SetPin(admin_pb2.SetPinRequest(user=user, pin=PIN), metadata=metadata)
    await admin.SetPassword(admin_pb2.SetPasswordRequest(user=user, password=PASSWORD), metadata=metadata)
    request = admin_pb2.CreateEnrollmentTokenRequest(kind=admin_pb2.TERMINAL_KIND_TERMINAL, terminal_id="t9")
    return str((await admin.CreateEnrollmentToken(request, metadata=metadata)).token)


async def test_no_secret_of_a_full_run_appears_in_any_log_line(
    hub_process: HubProcess, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with hub_process.admin_channel() as channel:
        token = await _seed(hub_process, channel)
        token_file = tmp_path / "token"
        token_file.write_text(token)
        state_dir = tmp_path / "identity"
        command = [sys.executable, "-m", "printgate_cli", "terminal", "enroll", "--token-file"]
        enroll = await asyncio.to_thread(
            subprocess.run,
            [*command, str(token_file), "--state-dir", str(state_dir)],
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=60,
        )
        assert enroll.returncode == 0, enroll.stderr
        assert enroll.stdout.startswith("enrolled as terminal t9: hub 127.0.0.1:")
        credentials = CredentialStore(state_dir).current()
        assert credentials is not None
        client = HubClient(credentials, deadline_s=10)
        logins = [
            await client.authenticate_card(CARD),
            await client.authenticate_pin(PIN),
            await client.authenticate_password("dora", PASSWORD),
        ]
        with pytest.raises(NotRecognised):
            await client.authenticate_pin(WRONG_PIN)
        with pytest.raises(NotRecognised):
            await client.authenticate_password("dora", WRONG_PASSWORD)
        sessions = [login.session_token for login in logins if isinstance(login, Login)]
        assert len(sessions) == 3
        for session in sessions:
            await client.logout(session)
        admin = admin_pb2_grpc.AdminServiceStub(channel)
        revoke = admin_pb2.RevokeTerminalRequest(terminal_id="t9", reason="test")
        await admin.RevokeTerminal(revoke, metadata=hub_process.admin_metadata)
        with pytest.raises(DeviceDisabled):
            await client.authenticate_pin(PIN)
        await client.close()
    admin_token = hub_process.admin_token
    hub_process.stop()

    key_pem = credentials.key_path.read_text()
    key_body = "".join(line for line in key_pem.splitlines() if "-----" not in line)
    secrets = {
        "card": CARD,
        "PIN": PIN,
        "password": PASSWORD,
        "wrong PIN": WRONG_PIN,
        "wrong password": WRONG_PASSWORD,
        "enrollment token": token.strip(),
        "admin token": admin_token,
        "device key": key_body[20:80],
        **{f"session {n}": session for n, session in enumerate(sessions)},
    }
    hub_log = hub_process.log_path.read_text()
    assert "device refused" in hub_log  # the revoked call was logged (once), so logs are on
    sources = {
        "hub log": hub_log,
        "enroll output": enroll.stdout + enroll.stderr,
        "terminal log": "\n".join(record.getMessage() for record in caplog.records),
    }
    for source, text in sources.items():
        for line in text.splitlines():
            for name, secret in secrets.items():
                assert secret not in line, f"the {name} appears in the {source}: {line!r}"
