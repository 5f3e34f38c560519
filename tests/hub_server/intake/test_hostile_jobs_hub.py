"""A real ``printgate hub`` (SQLite, IPP intake on) under 20 hostile PostScript jobs (issue 19,
finding 5): password logins over gRPC are still answered while the jobs wait for analysis,
never more than ``analysis_workers`` Ghostscript processes run, and deleting the jobs through
the admin API (the hub's own SQL, not intake) kills their analyses, leaving no ``gs`` behind.

No timing is asserted: the machines are shared. The test asserts that every login completes
with a session while the hostile jobs are queued, and counts processes.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from printgate.v1 import admin_pb2, admin_pb2_grpc

from hub_server.intake import IntakeConfig, Operation, Tag
from tests.conftest import free_tcp_port
from tests.hub_server.processes import HubProcess

from .ipp_client import attribute, ipp, request
from .processes import PeakCounter, live_descendants, until
from .test_analysis_queue import HOSTILE_PS

pytestmark = pytest.mark.asyncio

HOSTILE_JOBS = 20
LOGINS = 10
PASSWORD = "correct horse battery staple"


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[HubProcess]:
    ipp_port = free_tcp_port()
    config = tmp_path / "hub.toml"  # default (real) argon2 settings
    config.write_text(f'[print]\nipp_listen = "127.0.0.1:{ipp_port}"\nunknown_owner = "refuse"\n')
    (tmp_path / "hub").mkdir()
    process = HubProcess(tmp_path / "hub", free_tcp_port(), config)
    process.ipp_port = ipp_port  # type: ignore[attr-defined]
    process.start()
    yield process
    process.stop()


async def test_logins_are_answered_while_hostile_jobs_wait_and_deleting_them_kills_gs(
    hub: HubProcess,
) -> None:
    assert hub.process is not None
    hub_pid = hub.process.pid
    workers = IntakeConfig().analysis_workers  # what the hub runs unless [print] says otherwise
    channel = hub.admin_channel()
    admin = admin_pb2_grpc.AdminServiceStub(channel)
    auth = hub.admin_metadata
    await admin.UpsertPrinter(
        admin_pb2.Printer(name="p", address="127.0.0.1:9", transport="raw9100"), metadata=auth
    )
    client = await hub.enroll(channel, "t", printer="p")
    await admin.CreateUser(admin_pb2.User(username="alice", initial_password=PASSWORD), metadata=auth)

    peak = PeakCounter(hub_pid).start()
    port = hub.ipp_port  # type: ignore[attr-defined]
    job_ids = []
    for _ in range(HOSTILE_JOBS):
        response = await ipp(port, request(Operation.PRINT_JOB) + HOSTILE_PS)
        job_ids.append(int(attribute(response, Tag.JOB, "job-id")))  # type: ignore[call-overload]
    await until(lambda: len(live_descendants(hub_pid, "gs")) == workers)

    sessions = []
    for _ in range(LOGINS):
        reply = await client.password("alice", PASSWORD)
        sessions.append(reply.session_token)
        await client.logout(reply.session_token)
    assert len(set(sessions)) == LOGINS and all(sessions)
    states = await asyncio.gather(
        *(ipp(port, request(Operation.GET_JOB_ATTRIBUTES, (Tag.INTEGER, "job-id", j))) for j in job_ids)
    )
    reasons = [tuple(v.value for v in s.group(Tag.JOB).get("job-state-reasons").values) for s in states]  # type: ignore[union-attr]
    assert reasons.count(("job-hold-until-specified", "job-queued")) >= HOSTILE_JOBS - workers

    deleted = await admin.DeletePrintJobs(admin_pb2.DeletePrintJobsRequest(job_ids=job_ids), metadata=auth)
    assert deleted.deleted == HOSTILE_JOBS
    await until(lambda: not live_descendants(hub_pid, "gs"))
    await asyncio.sleep(2 * IntakeConfig().analysis_check_s)  # no queued job starts afterwards
    assert live_descendants(hub_pid, "gs") == []
    assert await peak.stop() == workers
    await channel.close()
    await client.channel.close()
    assert os.path.exists(f"/proc/{hub_pid}")  # the hub itself is fine
