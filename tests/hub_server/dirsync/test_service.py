"""DirectoryService over real gRPC with the admin command functions; directory passwords by bind;
the scheduler."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass

import grpc
import pytest
import pytest_asyncio
from printgate.v1 import directory_pb2_grpc

from card_numbers import ConversionChain
from hub_server.dirsync import commands
from hub_server.dirsync.config import DirectoryConfig
from hub_server.dirsync.passwords import DirectoryPasswords, Verdict
from hub_server.dirsync.scheduler import SyncScheduler
from hub_server.dirsync.service import DirectoryServicer
from hub_server.dirsync.sync import DirectorySync
from hub_server.domain.dirsync_store import SqlUserStore
from tests.hub_server.dirsync.conftest import Subtree
from tests.slapd import SiteGroup, SiteUser

TOKEN = "test-admin-token"
METADATA = (("authorization", f"Bearer {TOKEN}"),)


@dataclass
class Served:
    sync: DirectorySync
    address: str


@pytest_asyncio.fixture
async def served(ad_tree: Subtree, store: SqlUserStore) -> AsyncIterator[Served]:
    ad_tree.add(
        [
            SiteUser("ann", full_name="Ann A", badge="10", groups=["staff"], password="ann-directory-pw"),
            SiteUser("bob", full_name="Bob B", badge="11", groups=["staff"], password="bob-directory-pw"),
        ],
        [SiteGroup("staff")],
    )
    sync = DirectorySync(DirectoryConfig(sources=(ad_tree.source(),)), store, ConversionChain.parse)
    server = grpc.aio.server()
    directory_pb2_grpc.add_DirectoryServiceServicer_to_server(
        DirectoryServicer(sync, lambda t: t == TOKEN), server
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield Served(sync, f"127.0.0.1:{port}")
    await server.stop(0)


def _run(served: Served, command, *args, token: str = TOKEN) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with grpc.insecure_channel(served.address) as channel:
        stub = directory_pb2_grpc.DirectoryServiceStub(channel)
        code = command(stub, (("authorization", f"Bearer {token}"),), 30.0, *args, out, err)
    return code, out.getvalue(), err.getvalue()


async def test_admin_directory_commands_over_grpc(served: Served, ad_tree: Subtree) -> None:
    code, out, _ = await asyncio.to_thread(_run, served, commands.directory_test, "")
    assert code == 0
    assert out.startswith("ad: ok via ldaps://127.0.0.1:")
    assert out.endswith("(LDAP, paged results yes): 2 users, 1 groups, nested groups computed\n")

    code, out, _ = await asyncio.to_thread(_run, served, commands.directory_sync, "ad", True, False)
    assert code == 0
    lines = out.splitlines()
    assert lines[:2] == ["create    ann: Ann A; groups staff", "create    bob: Bob B; groups staff"]
    assert lines[2].endswith(": 2 create (dry run, nothing was changed)")
    assert served.sync.store.linked_counts("ad") == (0, 0)

    code, out, _ = await asyncio.to_thread(_run, served, commands.directory_sync, "ad", False, False)
    assert code == 0 and out.splitlines()[-1].endswith(": 2 create (applied)")
    assert served.sync.store.linked_counts("ad") == (2, 0)

    # everyone gone: refused without --force, FAILED_PRECONDITION with the reason
    ad_tree.directory.server.delete(
        ad_tree.suffix, f"cn=ann,ou=people,{ad_tree.base}", f"cn=bob,ou=people,{ad_tree.base}"
    )
    code, out, err = await asyncio.to_thread(_run, served, commands.directory_sync, "ad", False, False)
    assert code == 1 and out == ""
    assert err.startswith("printgate admin: FAILED_PRECONDITION: source 'ad': this sync would disable all 2")
    assert served.sync.store.linked_counts("ad") == (2, 0)

    code, out, _ = await asyncio.to_thread(_run, served, commands.directory_status)
    assert code == 0
    status = out.splitlines()
    assert status[0].startswith("ad: ldaps://127.0.0.1:") and status[0].endswith(
        "2 active, 0 disabled users; next run -"
    )
    assert [line.split("  ")[2] for line in status[1:]] == ["refused", "applied", "dry-run"]

    code, _, err = await asyncio.to_thread(_run, served, commands.directory_sync, "nope", True, False)
    assert code == 1 and err.startswith("printgate admin: NOT_FOUND: no directory source named 'nope'")
    code, _, err = await asyncio.to_thread(_run, served, commands.directory_status, token="wrong")
    assert code == 1 and err == "printgate admin: UNAUTHENTICATED: admin credential not recognised\n"


async def test_directory_passwords_bind_as_the_user(served: Served, ad_tree: Subtree) -> None:
    await asyncio.to_thread(served.sync.sync, "ad")
    passwords = DirectoryPasswords(served.sync.config, served.sync.store)
    check = passwords.verify
    assert await asyncio.to_thread(check, "ann", "ann-directory-pw") is Verdict.MATCH
    assert await asyncio.to_thread(check, "ann", "bob-directory-pw") is Verdict.MISMATCH
    assert await asyncio.to_thread(check, "ann", "") is Verdict.MISMATCH  # never an anonymous bind
    assert await asyncio.to_thread(check, "nobody", "x") is Verdict.NOT_DIRECTORY_USER
    # disabled in the directory: refused even with the right password
    ad_tree.modify(
        f"dn: cn=bob,ou=people,{ad_tree.base}\nchangetype: modify\n"
        "replace: userAccountControl\nuserAccountControl: 514\n"
    )
    assert await asyncio.to_thread(check, "bob", "bob-directory-pw") is Verdict.MISMATCH
    # the directory is down: unavailable (the hub applies password_outage), not a mismatch
    down = DirectoryConfig(sources=(ad_tree.source(servers=["ldaps://127.0.0.1:9"], connect_timeout_s=1.0),))
    assert (
        await asyncio.to_thread(DirectoryPasswords(down, served.sync.store).verify, "ann", "ann-directory-pw")
        is Verdict.UNAVAILABLE
    )
    assert not passwords.outage_falls_back_to_local


async def test_the_scheduler_syncs_every_source_and_records_failures(
    served: Served, ad_tree: Subtree
) -> None:
    scheduler = SyncScheduler(served.sync, interval_s=3600, first_run_after_s=0)
    scheduler.start()
    for _ in range(600):
        if scheduler.completed_rounds:
            break
        await asyncio.sleep(0.05)
    assert scheduler.completed_rounds == 1
    assert served.sync.next_run_us > 0
    await scheduler.stop()
    assert served.sync.store.linked_counts("ad") == (2, 0)
    assert [run.outcome for run in served.sync.store.runs("ad", 5)] == ["applied"]
    # a refused scheduled run is recorded, never forced
    ad_tree.directory.server.delete(
        ad_tree.suffix, f"cn=ann,ou=people,{ad_tree.base}", f"cn=bob,ou=people,{ad_tree.base}"
    )
    await scheduler.run_once()
    assert [run.outcome for run in served.sync.store.runs("ad", 5)] == ["refused", "applied"]
    assert served.sync.store.linked_counts("ad") == (2, 0)
    with pytest.raises(ValueError):
        SyncScheduler(served.sync, interval_s=0)
