"""Directory sync wired into a running hub: ``[directory]`` in the hub's configuration, the
``printgate admin directory`` verbs against the hub's DirectoryService (admin check, exit codes),
directory passwords at the terminal behind the lockout (outage: ``password_outage``), and a badge
stored as decimal in the directory opening a session when a simulated reader reads it as hex.

Every test runs against the private slapd (tests/slapd.py) and on both storage backends.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import grpc
import pytest
import pytest_asyncio
from printgate.v1 import admin_pb2, terminal_pb2

from hub_server.clock import FakeClock
from hub_server.dirsync import DirectoryPasswords, Verdict
from hub_server.server import ADMIN_TOKEN_FILE, start_hub
from hw_sim.readers.serial_sim import SerialReaderSim
from reader_drivers import open_reader
from tests.hub_server.admin_runner import admin
from tests.hub_server.conftest import HubClients, TerminalClient, admin_channel_of, hub_config
from tests.hub_server.dirsync.conftest import Subtree
from tests.reader_drivers.conftest import ready
from tests.slapd import SiteGroup, SiteUser

pytestmark = pytest.mark.slow

BADGE = "3000000003"  # as the directory keeps it: decimal
READER_FRAME_ID = "00B2D05E03"  # the same badge as an EM4100 reader reads it (5 bytes, hex)


MakeHub = Callable[..., Awaitable[HubClients]]


@pytest_asyncio.fixture
async def make_hub(tmp_path: Path, database_url: str) -> AsyncIterator[MakeHub]:
    """Start hubs whose ``[directory]`` table is given (stopped at the end)."""
    started: list[HubClients] = []

    async def make(directory: dict[str, Any], **auth: Any) -> HubClients:
        folder = tmp_path / "hub"  # one data directory: hubs one after the other on one database
        config = replace(hub_config(folder, database_url, **auth), directory=directory)
        clock = FakeClock()
        running = await start_hub(config, clock)
        token = (folder / ADMIN_TOKEN_FILE).read_text().strip()
        channel = admin_channel_of(running)
        hub = HubClients(running=running, channel=channel, admin_token=token, clock=clock)
        started.append(hub)
        return hub

    yield make
    for hub in started:
        await hub.close()
        with contextlib.suppress(Exception):  # a test may have stopped it already
            await hub.running.stop(0)


def people(tree: Subtree) -> None:
    tree.add(
        [
            SiteUser("ann", full_name="Ann A", badge=BADGE, groups=["staff"], password="ann-directory-pw"),
            SiteUser("bob", full_name="Bob B", badge="11", groups=["staff"], password="bob-directory-pw"),
        ],
        [SiteGroup("staff")],
    )


async def test_admin_directory_verbs_against_the_hub(make_hub: MakeHub, ad_tree: Subtree) -> None:
    people(ad_tree)
    hub = await make_hub({"sync_interval_s": 0, "sources": [ad_tree.source_table()]})

    result = await admin(hub, "directory test")
    assert (result.code, result.err) == (0, "")
    assert result.out.startswith("ad: ok via ldaps://127.0.0.1:")
    assert result.out.endswith("(LDAP, paged results yes): 2 users, 1 groups, nested groups computed\n")

    result = await admin(hub, "directory sync --source ad --dry-run")
    assert (result.code, result.err) == (0, "")
    lines = result.out.splitlines()
    assert lines[:2] == ["create    ann: Ann A; groups staff", "create    bob: Bob B; groups staff"]
    assert lines[2].endswith(": 2 create (dry run, nothing was changed)")
    assert hub.running.hub.directory.store.linked_counts("ad") == (0, 0)

    result = await admin(hub, "--json directory sync --source ad")
    assert (result.code, result.err) == (0, "")
    events = json.loads(result.out)["events"]
    assert [e["change"]["username"] for e in events[:2]] == ["ann", "bob"]
    assert events[2]["summary"]["outcome"] == "applied" and events[2]["summary"]["counts"]["create"] == 2
    assert hub.running.hub.directory.store.linked_counts("ad") == (2, 0)
    # the synced badge is the hex a reader sends
    cards = await hub.call_admin("ListCards", admin_pb2.UserRef(username="ann"))
    assert [card.number for card in cards.cards] == ["B2D05E03"]

    # everyone gone: refused without --force (exit 1, the hub's reason), applied with it
    ad_tree.directory.server.delete(
        ad_tree.suffix, f"cn=ann,ou=people,{ad_tree.base}", f"cn=bob,ou=people,{ad_tree.base}"
    )
    result = await admin(hub, "directory sync --source ad")
    assert (result.code, result.out) == (1, "")
    assert result.err.startswith(
        "printgate admin: FAILED_PRECONDITION: source 'ad': this sync would disable all 2"
    )
    result = await admin(hub, "directory status")
    assert result.code == 0
    status = result.out.splitlines()
    assert status[0].startswith("ad: ldaps://127.0.0.1:")
    assert status[0].endswith("2 active, 0 disabled users; next run -")
    assert [line.split("  ")[2] for line in status[1:]] == ["refused", "applied", "dry-run"]
    result = await admin(hub, "directory sync --source ad --force")
    assert result.code == 0 and result.out.splitlines()[-1].endswith(": 2 disable (applied)")

    result = await admin(hub, "directory sync --source nope --dry-run")
    assert (result.code, result.err) == (
        1,
        "printgate admin: NOT_FOUND: no directory source named 'nope' (have ['ad'])\n",
    )
    result = await admin(hub, "directory status", token="not-the-admin-token")
    assert (result.code, result.err) == (
        1,
        "printgate admin: UNAUTHENTICATED: admin credential not recognised\n",
    )
    result = await admin(hub, "directory sync --dry-run")  # --source is required
    assert result.code == 2 and "--source" in result.err


async def test_a_source_that_does_not_work_fails_the_test_verb(make_hub: MakeHub, ad_tree: Subtree) -> None:
    hub = await make_hub(
        {"sources": [ad_tree.source_table(servers=["ldaps://127.0.0.1:9"], connect_timeout_s=1.0)]}
    )
    result = await admin(hub, "directory test")
    assert result.code == 1
    assert result.out.startswith("ad: FAILED: ") and "127.0.0.1:9" in result.out
    assert result.err == "printgate admin: directory source(s) not working: ad\n"
    result = await admin(hub, "directory sync --source ad")
    assert result.code == 1 and result.err.startswith("printgate admin: ABORTED: ")


async def test_the_hub_refuses_a_directory_table_that_cannot_work(tmp_path: Path, database_url: str) -> None:
    config = replace(hub_config(tmp_path / "hub", database_url), directory={"sources": [{"name": "x"}]})
    with pytest.raises(ValueError, match=r"kind must be one of"):
        await start_hub(config, FakeClock())


async def _terminal(hub: HubClients) -> TerminalClient:
    return await hub.create_terminal("t1")


async def _code(call: Awaitable[Any]) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await call
    return raised.value.code(), raised.value.details() or ""


async def test_directory_passwords_log_in_behind_the_lockout(make_hub: MakeHub, ad_tree: Subtree) -> None:
    people(ad_tree)
    hub = await make_hub({"sources": [ad_tree.source_table()]}, max_failed_attempts=3)
    await asyncio.to_thread(hub.running.hub.directory.sync, "ad")
    terminal = await _terminal(hub)

    login = await terminal.password("ann", "ann-directory-pw")
    assert login.session.user.username == "ann" and login.session.auth_method == "password"
    # a wrong directory password counts like a wrong local one: three lock the user
    for _ in range(2):
        assert await _code(terminal.password("ann", "wrong")) == (
            grpc.StatusCode.UNAUTHENTICATED,
            "username or password not recognised",
        )
    assert (await _code(terminal.password("ann", "wrong")))[0] == grpc.StatusCode.UNAUTHENTICATED
    code, details = await _code(terminal.password("ann", "ann-directory-pw"))
    assert code == grpc.StatusCode.PERMISSION_DENIED and details.startswith("too many failed attempts")
    await hub.call_admin(
        "UnlockIdentity", admin_pb2.UnlockIdentityRequest(user=admin_pb2.UserRef(username="ann"))
    )
    # the three failures counted against the terminal too: it waits until an admin clears it
    code, details = await _code(terminal.password("bob", "bob-directory-pw"))
    assert code == grpc.StatusCode.PERMISSION_DENIED and details.startswith("too many failed attempts")
    await hub.call_admin("UnlockIdentity", admin_pb2.UnlockIdentityRequest(terminal_id=terminal.terminal_id))
    # linking an unknown card proves the user by the same directory password
    linked = await terminal.stub.LinkCard(
        terminal_pb2.LinkCardRequest(card_number="CAFE0001", username="bob", password="bob-directory-pw")
    )
    assert linked.session.user.username == "bob"
    assert (await terminal.tap("CAFE0001")).session.user.username == "bob"


async def test_a_burst_of_wrong_directory_passwords_reaches_the_directory_only_as_often_as_the_lockout_allows(
    make_hub: MakeHub, ad_tree: Subtree, monkeypatch: pytest.MonkeyPatch
) -> None:
    people(ad_tree)
    hub = await make_hub({"sources": [ad_tree.source_table()]}, max_failed_attempts=3)
    await asyncio.to_thread(hub.running.hub.directory.sync, "ad")
    terminal = await _terminal(hub)
    checked: list[str] = []
    real_verify = DirectoryPasswords.verify

    def counted(self: DirectoryPasswords, username: str, password: str) -> Verdict:
        checked.append(username)  # every call is a real search and bind at the private slapd
        return real_verify(self, username, password)

    monkeypatch.setattr(DirectoryPasswords, "verify", counted)
    answers = await asyncio.gather(
        *(_code(terminal.password("ann", f"guess-{n}")) for n in range(300)), return_exceptions=True
    )
    codes = [answer[0] for answer in answers if isinstance(answer, tuple)]
    assert len(codes) == 300
    # the claims before each bind hand out exactly the three free attempts; the rest wait
    assert codes.count(grpc.StatusCode.UNAUTHENTICATED) == 3 and len(checked) == 3
    assert codes.count(grpc.StatusCode.PERMISSION_DENIED) == 297
    code, details = await _code(terminal.password("ann", "ann-directory-pw"))
    assert code == grpc.StatusCode.PERMISSION_DENIED and details.startswith("too many failed attempts")
    assert len(checked) == 3  # a locked-out user's right password is not even sent to the directory


async def test_a_directory_outage_does_what_password_outage_says(make_hub: MakeHub, ad_tree: Subtree) -> None:
    people(ad_tree)
    down = [ad_tree.source_table(servers=["ldaps://127.0.0.1:9"], connect_timeout_s=1.0)]
    # sync with the real server first (one database, two hub configurations)
    first = await make_hub({"sources": [ad_tree.source_table()]})
    await asyncio.to_thread(first.running.hub.directory.sync, "ad")
    await hub_set_password(first, "bob", "bob-local-pw")
    await first.running.stop(0)

    refusing = await make_hub({"sources": down, "password_outage": "refuse"}, max_failed_attempts=2)
    terminal = await _terminal(refusing)
    for _ in range(3):  # refused, and never counted: no lockout however often
        assert await _code(terminal.password("ann", "ann-directory-pw")) == (
            grpc.StatusCode.FAILED_PRECONDITION,
            "directory unavailable: directory passwords cannot be checked now",
        )
    assert await _code(terminal.password("bob", "bob-local-pw")) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "directory unavailable: directory passwords cannot be checked now",
    )
    await refusing.running.stop(0)

    local = await make_hub({"sources": down, "password_outage": "local"}, max_failed_attempts=2)
    terminal = await local.create_terminal("t2")
    assert (await terminal.password("bob", "bob-local-pw")).session.user.username == "bob"
    assert (await _code(terminal.password("bob", "bob-directory-pw")))[0] == grpc.StatusCode.UNAUTHENTICATED
    # ann has no hub password: refused as unavailable, not counted
    for _ in range(3):
        assert (await _code(terminal.password("ann", "ann-directory-pw")))[0] == (
            grpc.StatusCode.FAILED_PRECONDITION
        )


async def hub_set_password(hub: HubClients, username: str, password: str) -> None:
    await hub.call_admin(
        "SetPassword",
        admin_pb2.SetPasswordRequest(user=admin_pb2.UserRef(username=username), password=password),
    )


async def test_a_badge_stored_as_decimal_opens_a_session_from_a_reader(
    make_hub: MakeHub, ad_tree: Subtree
) -> None:
    """The directory keeps ann's badge as 3000000003; the source converts it with
    ``dec2hex|lpad:8:0`` and the reader's frame with ``right:8``: the same card_numbers code."""
    people(ad_tree)
    hub = await make_hub({"sources": [ad_tree.source_table(card_conversion="dec2hex|lpad:8:0")]})
    assert (await admin(hub, "directory sync --source ad")).code == 0
    terminal = await _terminal(hub)
    with SerialReaderSim("rdm6300") as sim:
        async with open_reader("rdm6300", device=sim.path, convert="right:8") as reader:
            await ready(reader)
            sim.tap(READER_FRAME_ID)
            read = await reader.read(timeout_s=10.0)
    assert read is not None and read.card_number == "B2D05E03"
    session = (await terminal.tap(read.card_number)).session
    assert (session.user.username, session.auth_method) == ("ann", "card")
