"""The hub's IPPS queue with ``[print] authentication = "required"``: the hub PKI's server
certificate, HTTP Basic checked by the hub's domain (argon2, lockout), the job filed under
the authenticated user. A real hub on SQLite; the client is ours (ipptool runs elsewhere)."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
import pytest_asyncio
from printgate.v1 import admin_pb2, admin_pb2_grpc

from hub_server.config import PrintConfig
from hub_server.intake import Operation, Tag, parse_message
from hub_server.server import ADMIN_TOKEN_FILE, PKI_DIR, RunningHub, start_hub

from ..conftest import admin_channel_of, hub_config
from . import ipp_client
from .ipp_client import attribute, basic_auth, exchange, http_post, request

pytestmark = pytest.mark.asyncio

PASSWORD = "correct horse battery"


@pytest_asyncio.fixture
async def hub(tmp_path: Path) -> AsyncIterator[RunningHub]:
    config = hub_config(tmp_path / "hub", max_failed_attempts=3)
    printing = PrintConfig(ipps_listen="127.0.0.1:0", authentication="required")
    running = await start_hub(replace(config, printing=printing))
    token = (tmp_path / "hub" / ADMIN_TOKEN_FILE).read_text().strip()
    async with admin_channel_of(running) as channel:  # TLS, pinned to the hub CA
        admin = admin_pb2_grpc.AdminServiceStub(channel)
        metadata = (("authorization", f"Bearer {token}"),)
        await admin.CreateUser(admin_pb2.User(username="alice"), metadata=metadata)
        await admin.SetPassword(
            admin_pb2.SetPasswordRequest(user=admin_pb2.UserRef(username="alice"), password=PASSWORD),
            metadata=metadata,
        )
    # The client trusts the hub CA, as a site's desktops and phones would after installing it.
    ca = tmp_path / "hub" / PKI_DIR / "ca.crt"
    assert ca.exists(), sorted(p.name for p in ca.parent.iterdir())
    port = running.printing.intake.ipps_port if running.printing else 0
    ipp_client.TLS_PORTS[port] = ssl.create_default_context(cafile=str(ca))
    yield running
    del ipp_client.TLS_PORTS[port]
    await running.stop(0)


async def test_the_authenticated_user_owns_the_job_and_wrong_passwords_lock_out(hub: RunningHub) -> None:
    assert hub.printing is not None
    port = hub.printing.intake.ipps_port
    body = request(Operation.PRINT_JOB, user="mallory") + b"%!PS\nshowpage\n"
    assert (await exchange(port, http_post(body)))[0] == 401  # a claimed name is not enough
    status, _, payload = await exchange(port, http_post(body, extra=basic_auth("alice", PASSWORD)))
    assert status == 200
    job_id = attribute(parse_message(payload)[0], Tag.JOB, "job-id")
    record = hub.hub.job_registry.get_job(job_id)  # type: ignore[arg-type]
    assert record is not None and (record.owner, record.submitted_by) == ("alice", "alice")
    for _ in range(3):
        assert (await exchange(port, http_post(body, extra=basic_auth("alice", "guess"))))[0] == 401
    # Each failure reached the hub's lockout: alice is locked now, even with her password,
    # and the credential cache (which holds her first, good request) follows at once.
    status, _, _ = await exchange(port, http_post(body, extra=basic_auth("alice", PASSWORD)))
    assert status == 401
    assert not await hub.hub.auth.verify_password("alice", PASSWORD)
    credentials = hub.printing.intake.printer.credentials
    assert credentials is not None and credentials.verifications == 5  # 1 good, 3 wrong, 1 locked
    assert [r.job_id for r in hub.hub.job_registry.list_jobs()] == [job_id]
