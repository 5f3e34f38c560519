"""``printgate admin printjob …`` and ``delegation …`` against a hub with print intake."""

from __future__ import annotations

import asyncio
import json
import shlex
from pathlib import Path
from typing import Any

import pytest
from printgate.v1 import admin_pb2

from tests.admin_cli.test_admin_cli import run_admin
from tests.hub_server.test_release_site import THREE_PAGES_PS, open_site

pytestmark = pytest.mark.asyncio


async def admin(address: str, data_dir: Path, command: str) -> Any:
    # The CLI is synchronous and the hub runs on this event loop: call it from a thread.
    argv = ["--hub", address, "--data-dir", str(data_dir), "--json", *shlex.split(command)]
    result = await asyncio.to_thread(run_admin, argv)
    assert (result.code, result.err) == (0, ""), result
    return json.loads(result.out)


async def test_delegation_and_print_job_verbs(tmp_path: Path) -> None:
    async with open_site(tmp_path, f"sqlite:///{tmp_path / 'hub.db'}") as site:
        address, data_dir = f"127.0.0.1:{site.running.admin_port}", tmp_path / "hub"
        await site.clients.create_user("bob", card="c-bob")
        await site.clients.call_admin("CreateGroup", admin_pb2.Group(name="team"))
        await site.clients.call_admin(
            "SetGroupMembership",
            admin_pb2.GroupMembershipRequest(
                group="team", user=admin_pb2.UserRef(username="bob"), member=True
            ),
        )
        await admin(address, data_dir, "delegation add alice --to-group team")
        listed = await admin(address, data_dir, "delegation list --owner alice")
        assert listed["delegations"] == [
            {"owner": {"username": "alice"}, "delegate_group": "team"},
        ]
        document = tmp_path / "three.ps"
        document.write_bytes(THREE_PAGES_PS)
        await site.submit(document, "alice", name="quarterly")
        (job,) = await site.list_jobs(await site.session("c-bob"))
        assert job.delegated
        jobs = (await admin(address, data_dir, "printjob list"))["jobs"]
        assert [(j["owner"], j["name"], j["state"], j["pages"], j["color_pages"]) for j in jobs] == [
            ("alice", "quarterly", "held", 3, 1)
        ]
        assert (await admin(address, data_dir, f"printjob delete {job.id}"))["deleted"] == 1
        assert site.job_state(job.id) == "canceled"
        await admin(address, data_dir, "delegation remove alice --to-group team")
        assert (await admin(address, data_dir, "delegation list"))["delegations"] == []


async def test_a_job_held_for_claiming_is_assigned_to_its_user(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'hub.db'}"
    async with open_site(tmp_path, database, unknown_owner="hold") as site:
        address, data_dir = f"127.0.0.1:{site.running.admin_port}", tmp_path / "hub"
        document = tmp_path / "three.ps"
        document.write_bytes(THREE_PAGES_PS)
        await site.submit(document, "laptop-guest", name="from a guest laptop")
        (held,) = (await admin(address, data_dir, "printjob list"))["jobs"]
        assert (held["owner"], held["submitted_by"], held["state"]) == ("", "laptop-guest", "held")
        token = await site.session("c-alice")
        assert await site.list_jobs(token) == []
        assigned = await admin(address, data_dir, f"printjob assign {held['id']} alice")
        assert assigned["owner"] == "alice"
        assert [job.name for job in await site.list_jobs(token)] == ["from a guest laptop"]
        argv = ["--hub", address, "--data-dir", str(data_dir), "printjob", "assign", str(held["id"]), "alice"]
        again = await asyncio.to_thread(run_admin, argv)
        assert again.code == 1 and "NOT_FOUND" in again.err
