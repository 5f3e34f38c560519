"""``printgate terminal enroll`` and ``printgate kiosk enroll``: one token to an identity in the
state dir, and a clear exit code (nothing enrolled) for every refusal."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from printgate.v1 import admin_pb2

from printgate_cli.commands import main
from terminal_app.hub.enrollment import CredentialStore
from tests.hub_server.conftest import HubClients
from tests.hub_server.devices import new_token


async def enroll(*argv: str) -> int:
    return await asyncio.to_thread(main, list(argv))


async def test_a_kiosk_enrolls_into_its_state_dir_once(
    hub: HubClients, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    token = await new_token(hub.call_admin, "k7", kind=admin_pb2.TERMINAL_KIND_KIOSK)
    state_dir = tmp_path / "kiosk-identity"
    assert await enroll("kiosk", "enroll", "--token", token, "--state-dir", str(state_dir)) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"enrolled as kiosk k7: hub 127.0.0.1:{hub.running.port}, certificate valid until")
    assert token not in out
    credentials = CredentialStore(state_dir).current()
    assert credentials is not None and (credentials.kind, credentials.device_id) == ("kiosk", "k7")
    assert os.stat(credentials.key_path).st_mode & 0o777 == 0o600
    # single use: the same token again is refused, and the identity already there is kept
    other = tmp_path / "other"
    assert await enroll("kiosk", "enroll", "--token", token, "--state-dir", str(other)) == 1
    assert "printgate kiosk enroll:" in capsys.readouterr().err
    assert CredentialStore(other).current() is None


async def test_a_terminal_token_does_not_enroll_a_kiosk(
    hub: HubClients, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    token = await new_token(hub.call_admin, "t7")
    assert await enroll("kiosk", "enroll", "--token", token, "--state-dir", str(tmp_path / "s")) == 1
    assert "printgate kiosk enroll:" in capsys.readouterr().err
    assert CredentialStore(tmp_path / "s").current() is None


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ((), "give --token, --token-file or set PRINTGATE_ENROLLMENT_TOKEN"),
        (("--token", "pg1-not-a-token"), "printgate terminal enroll:"),
        (("--token-file", "/nonexistent/token"), "cannot read the token"),
    ],
)
def test_usage_errors_and_malformed_tokens_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], message: str
) -> None:
    state_dir = tmp_path / "state"
    assert main(["terminal", "enroll", *argv, "--state-dir", str(state_dir)]) == 2
    assert message in capsys.readouterr().err
    assert CredentialStore(state_dir).current() is None
