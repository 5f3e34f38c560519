"""Issue 19, finding 3: usernames that differ only in case.

The attack: an admin (or a CSV import) created ``ALICE`` beside ``alice``; the IPP queue looks
owners up regardless of case and picked the older account, so ``ALICE``'s job was held for
``alice``, who saw it, released it and paid. Now a username is unique regardless of case
everywhere it is compared (creation, CSV import, admin lookups, logins, IPP owners), and a
database that already holds twins is refused at start-up with a report naming them, until an
operator renames them with ``printgate hub --rename-user``. Both backends.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
import pytest_asyncio
from printgate.v1 import admin_pb2

from hub_server.domain import account_names, ledger, open_hub_database
from hub_server.domain.schema import CORE
from hub_server.storage import Component, SchemaError, Tx, open_database
from tests.hub_server.conftest import HubClients
from tests.hub_server.test_release_site import THREE_PAGES_PS, PrintSite, open_site

pytestmark = pytest.mark.asyncio


async def code_and_message(call: object) -> tuple[grpc.StatusCode, str]:
    try:
        await call  # type: ignore[misc]
    except grpc.aio.AioRpcError as error:
        return error.code(), str(error.details())
    return grpc.StatusCode.OK, ""


async def test_a_case_twin_cannot_be_created(hub: HubClients) -> None:
    await hub.create_user("alice")
    answer = await code_and_message(hub.call_admin("CreateUser", admin_pb2.User(username="ALICE")))
    assert answer == (
        grpc.StatusCode.ALREADY_EXISTS,
        "user 'ALICE' already exists as 'alice' (usernames are unique regardless of case)",
    )
    answer = await code_and_message(hub.call_admin("CreateUser", admin_pb2.User(username="Alice")))
    assert answer[0] == grpc.StatusCode.ALREADY_EXISTS
    users = await hub.call_admin("ListUsers", admin_pb2.ListUsersRequest())
    assert [user.username for user in users.users] == ["alice"]


async def test_every_lookup_by_name_ignores_case(hub: HubClients) -> None:
    await hub.create_user("alice", initial_password="correct horse", credit_cents=250)
    # admin lookups
    assert await hub.balance("ALICE") == 250
    # logins: the name as typed at the terminal
    terminal = await hub.create_terminal("t1")
    reply = await terminal.password("Alice", "correct horse")
    assert reply.session.user.username == "alice"
    # a CSV row naming ALICE updates alice instead of failing on the unique index
    report = await hub.call_admin(
        "ImportUsers", admin_pb2.ImportUsersRequest(csv="username,full_name\nALICE,Alice Liddell\n")
    )
    assert (report.created, report.updated, report.errors) == (0, 1, 0)
    user = await hub.call_admin("GetUser", admin_pb2.UserRef(username="alice"))
    assert (user.username, user.full_name) == ("alice", "Alice Liddell")


@pytest_asyncio.fixture
async def site(tmp_path: Path, database_url: str) -> AsyncIterator[PrintSite]:
    async with open_site(tmp_path, database_url) as opened:
        yield opened


async def test_a_job_sent_as_alice_in_capitals_is_held_for_the_one_alice(
    site: PrintSite, tmp_path: Path
) -> None:
    """The IPP half of the attack, with the real ipptool: there is no second account the job
    could belong to, and the job is alice's under every spelling."""
    answer = await code_and_message(site.clients.call_admin("CreateUser", admin_pb2.User(username="ALICE")))
    assert answer[0] == grpc.StatusCode.ALREADY_EXISTS
    document = tmp_path / "three-pages.ps"
    document.write_bytes(THREE_PAGES_PS)
    await site.submit(document, "ALICE", name="capitals")
    registry = site.running.hub.job_registry
    assert [(job.owner, job.job_name) for job in registry.list_jobs("alice")] == [("alice", "capitals")]
    assert [job.job_name for job in registry.list_jobs("ALICE")] == ["capitals"]
    jobs = await site.list_jobs(await site.session("c-alice"))
    assert [job.name for job in jobs] == ["capitals"]


def core_up_to(number: int) -> Component:
    return Component(CORE.name, CORE.migrations[:number])


def old_database_with_twins(url: str) -> None:
    """A database as the hub before migration 5 could leave it: alice beside ALICE and Bob
    beside bob, each with a prepaid account; carol alone."""
    db = open_database(url, [core_up_to(3)])

    def fill(tx: Tx) -> None:
        for name in ("alice", "ALICE", "Bob", "bob", "carol"):
            user_id = tx.scalar(
                "INSERT INTO users (username, created_us) VALUES (:u, 1) RETURNING id", {"u": name}
            )
            ledger.create_account(tx, account_names.prepaid(name), "prepaid", 1, owner_user_id=int(user_id))

    try:
        db.write_sync(fill)
    finally:
        db.close()


async def test_a_database_with_twins_is_refused_with_a_report_until_they_are_renamed(
    tmp_path: Path, database_url: str
) -> None:
    old_database_with_twins(database_url)
    with pytest.raises(SchemaError) as refused:
        open_hub_database(database_url)
    message = str(refused.value)
    assert message.startswith(
        "usernames must be unique regardless of case, but 2 group(s) differ only in case:"
        " 'alice' (id 1) and 'ALICE' (id 2); 'Bob' (id 3) and 'bob' (id 4)."
        " Rename all but one of each group with: printgate hub --config hub.toml --rename-user OLD NEW"
    )
    # nothing was changed: still at core 3
    db = open_database(database_url)
    try:
        assert db.read(lambda tx: tx.scalar("SELECT MAX(number) FROM schema_versions")) == 3
    finally:
        db.close()

    config = tmp_path / "hub.toml"
    config.write_text(f'[hub]\ndata_dir = "{tmp_path / "data"}"\ndatabase = "{database_url}"\n')

    def rename(old: str, new: str) -> subprocess.CompletedProcess[str]:
        command = [
            sys.executable,
            "-m",
            "printgate_cli",
            "hub",
            "--config",
            str(config),
            "--rename-user",
            old,
            new,
        ]
        return subprocess.run(command, capture_output=True, text=True, timeout=60)

    taken = rename("ALICE", "Carol")
    assert (taken.returncode, taken.stderr.splitlines()[-1]) == (
        1,
        "printgate hub: user 'Carol' already exists as 'carol' (usernames are unique regardless of case)",
    )
    for old, new in (("ALICE", "alice2"), ("Bob", "bob-old")):
        done = rename(old, new)
        assert (done.returncode, done.stdout) == (0, f"renamed user {old!r} to {new!r}\n"), done.stderr

    db = open_hub_database(database_url)
    try:
        names = db.read(
            lambda tx: [str(r["username"]) for r in tx.execute("SELECT username FROM users ORDER BY id")]
        )
        accounts = db.read(
            lambda tx: [
                str(r["name"])
                for r in tx.execute("SELECT name FROM accounts WHERE kind = 'prepaid' ORDER BY id")
            ]
        )
    finally:
        db.close()
    assert names == ["alice", "alice2", "bob-old", "bob", "carol"]
    assert accounts == ["user:alice", "user:alice2", "user:bob-old", "user:bob", "user:carol"]
