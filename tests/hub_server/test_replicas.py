"""Two ``printgate hub`` processes on one PostgreSQL database: what one replica writes the other
reads at once, a job printed into one is released at a terminal of the other, a replica killed
with -9 mid-intake leaves no half job, and one killed mid-run loses and doubles no cent."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import shutil
import socket
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
import pytest_asyncio
from printgate.v1 import admin_pb2, common_pb2, terminal_pb2

from hub_server.clock import SystemClock
from hub_server.config import HubConfig
from hub_server.domain import DatabaseSpoolStore, open_hub_database
from hub_server.domain import replicas as replicas_table
from hub_server.domain.release import PrintJobs
from hub_server.domain.release_outcome import Verdict
from hub_server.domain.rules_store import JobRules
from hub_server.domain.store import Store
from hub_server.intake import Spool
from terminal_app.errors import HubUnreachable
from terminal_app.hub import HubClient
from terminal_app.hub.values import ColorMode, Function, Login, UsageLine, UsageReport
from tests.conftest import free_tcp_port
from tests.hub_server.conftest import TerminalClient
from tests.hub_server.devices import device_channel
from tests.hub_server.intake.ipp_client import http_post, request
from tests.hub_server.processes import HubProcess
from tests.hub_server.test_database_failover import cluster as cluster  # a fixture, used by name
from tests.hub_server.test_release_crash import BIG_PAGE_PS, MONO_CENTS, Site
from tests.services import PostgresServer

pytestmark = pytest.mark.asyncio

COPY_CENTS = 5  # the price of one mono copy page, set on replica A
SMALL_PAGE_PS = b"%!PS\n/Helvetica findfont 24 scalefont setfont 72 700 moveto (small) show showpage\n"
RUN_REPORTS = 60
KILL_AFTER_REPORTS = 20


class Replica(Site):
    """One replica: its process, its channel, its IPP port."""

    def __init__(self, process: HubProcess, database_url: str, ipp_port: int) -> None:
        super().__init__(process, database_url)
        self.ipp_port = ipp_port
        process.ipp_port = ipp_port  # type: ignore[attr-defined]

    def terminal_at(self, terminal: TerminalClient) -> TerminalClient:
        """The enrolled ``terminal`` (its own certificate) connected to this replica."""
        channel = device_channel(terminal.credentials, self.process.address)
        return TerminalClient(channel, terminal.terminal_id, terminal.state_dir)


def _replica_process(tmp_path: Path, name: str, database_url: str) -> tuple[HubProcess, int]:
    """A replica's hub process (not started) and its IPP port."""
    ipp_port = free_tcp_port()
    config = tmp_path / f"{name}.toml"
    config.write_text(
        f'[hub]\ndatabase = "{database_url}"\n[auth]\nargon2_time_cost = 1\nargon2_memory_kib = 1024\n'
        f'max_failed_attempts = 3\n[print]\nipp_listen = "127.0.0.1:{ipp_port}"\n'
    )
    return HubProcess(tmp_path / name, free_tcp_port(), config), ipp_port


@contextlib.asynccontextmanager
async def _two_replicas(tmp_path: Path, database_url: str) -> AsyncIterator[tuple[Replica, Replica]]:
    """Replica A (first start: it makes the hub secret, admin token and CA) and replica B, given
    A's secret, token and PKI directory as an operator copies them, both on ``database_url``."""
    (process_a, ipp_a), (process_b, ipp_b) = (
        _replica_process(tmp_path, "a", database_url),
        _replica_process(tmp_path, "b", database_url),
    )
    started: list[Replica] = []
    try:
        process_a.start()
        process_b.data_dir.mkdir()
        for name in ("hub-secret", "admin-token", "hub-ca.pem"):
            shutil.copy2(process_a.data_dir / name, process_b.data_dir / name)
        shutil.copytree(process_a.data_dir / "pki", process_b.data_dir / "pki")
        process_b.start()
        started = [Replica(process_a, database_url, ipp_a), Replica(process_b, database_url, ipp_b)]
        yield started[0], started[1]
    finally:
        for replica in started:
            await replica.channel.close()
        process_a.stop()
        process_b.stop()


@pytest_asyncio.fixture
async def replicas(tmp_path: Path, postgres: PostgresServer) -> AsyncIterator[tuple[Replica, Replica]]:
    """Two replicas on one fresh database."""
    async with _two_replicas(tmp_path, postgres.new_database()) as pair:
        yield pair


@pytest.fixture
def mfp_sim() -> Iterator[Any]:
    from hw_sim.mfp import MfpSimServer

    yield MfpSimServer()


async def _setup(a: Replica, mfp: Any) -> TerminalClient:
    """Printer, terminal, prices, alice with card and 500 cents, all written through replica A."""
    await a.setup(mfp, "raw9100")
    await a.admin(
        "SetPrice",
        admin_pb2.Price(
            printer_group="default",
            function=common_pb2.FUNCTION_COPY,
            color=common_pb2.COLOR_MODE_MONO,
            paper_size="*",
            price_cents_per_page=COPY_CENTS,
        ),
    )
    assert a.terminal is not None
    return a.terminal


async def test_a_job_printed_into_one_replica_is_released_at_the_other(
    replicas: tuple[Replica, Replica], mfp_sim: Any, tmp_path: Path
) -> None:
    a, b = replicas
    await mfp_sim.start()
    try:
        terminal = await _setup(a, mfp_sim)
        document = tmp_path / "job.ps"
        document.write_bytes(SMALL_PAGE_PS)
        await a.submit(document)
        await a.wait_for("SELECT COUNT(*) FROM print_jobs WHERE page_count = 1", 1)
        b.terminal = b.terminal_at(terminal)  # the terminal is connected to replica B
        progress = await b.release("release-at-b")
        assert progress[-1].state == terminal_pb2.RELEASE_STATE_PRINTED
        assert progress[-1].charged_cents == MONO_CENTS  # the price replica A wrote
        assert [job.pages for job in mfp_sim.device.jobs] == [1]
        assert await a.balances() == (500 - MONO_CENTS, 0)
        assert (await b.admin("CheckLedger", admin_pb2.Empty())).ok
    finally:
        await mfp_sim.stop()


async def test_what_one_replica_writes_the_other_reads_at_once(
    replicas: tuple[Replica, Replica], mfp_sim: Any
) -> None:
    """Every fact a replica might hold in memory, written on A and used on B at once."""
    a, b = replicas
    await mfp_sim.start()
    try:
        terminal = await _setup(a, mfp_sim)
        at_b = b.terminal_at(terminal)
        # Terminal configuration: a terminal enrolled on A is accepted by B.
        second_at_a = await a.process.enroll(a.channel, "t-2", printer="mfp-1")
        second_at_b = b.terminal_at(second_at_a)
        session = await second_at_b.tap("A11CE")
        assert session.session.balance_cents == 500
        # Money: a top-up on A is in the balance B shows.
        await a.admin(
            "AdjustCredit",
            admin_pb2.AdjustCreditRequest(
                user=admin_pb2.UserRef(username="alice"), amount_cents=70, reason="t", idempotency_key="more"
            ),
        )
        assert (await second_at_b.session(session.session_token)).balance_cents == 570
        # Prices: a copy price set on A is what B charges.
        reply = await second_at_b.report(session.session_token, "copy-1", 2, performed=True)
        assert reply.charged_cents == 2 * COPY_CENTS
        # Sessions: a logout on A ends the session on B.
        await second_at_a.stub.Logout(terminal_pb2.LogoutRequest(session_token=session.session_token))
        with pytest.raises(grpc.aio.AioRpcError) as ended:
            await second_at_b.session(session.session_token)
        assert ended.value.code() == grpc.StatusCode.UNAUTHENTICATED
        # Lockouts: three wrong cards at A lock terminal t-1; B refuses it too.
        at_a = terminal
        for _ in range(3):
            with pytest.raises(grpc.aio.AioRpcError):
                await at_a.tap("BAD0")
        with pytest.raises(grpc.aio.AioRpcError) as locked:
            await at_b.tap("A11CE")
        assert "locked" in (locked.value.details() or "")
    finally:
        await mfp_sim.stop()


async def test_a_replica_killed_mid_intake_leaves_no_half_job(replicas: tuple[Replica, Replica]) -> None:
    a, b = replicas
    await a.admin("CreateUser", admin_pb2.User(username="alice"))
    body = (
        request(
            0x0002,
            (0x42, "job-name", "half"),
            (0x49, "document-format", "application/postscript"),
        )
        + b"%!PS\n"
        + b"% padding\n" * 800_000
    )
    sent = len(body) // 2
    with socket.create_connection(("127.0.0.1", a.ipp_port)) as connection:
        connection.sendall(http_post(body)[:sent])  # the client is still sending when A dies
        await a.wait_for("SELECT COUNT(*) > 0 FROM spool_records", True)
        a.process.kill()
    assert a.read("SELECT COUNT(*) FROM spool_entries") == 0
    assert a.read("SELECT COUNT(*) FROM print_jobs") == 0
    assert a.read("SELECT COUNT(*) FROM spool_uploads") == 1
    # Replica B serves on, shows no job, and its sweep drops the dead upload's records (which,
    # never given a key, are noise meanwhile).
    reply = await b.admin("ListPrintJobs", admin_pb2.ListPrintJobsRequest())
    assert list(reply.jobs) == []
    db = open_hub_database(b.database_url)
    try:
        assert DatabaseSpoolStore(db, time.time).drop_uploads_idle_since(time.time() + 1) == 1
    finally:
        db.close()
    assert a.read("SELECT COUNT(*) FROM spool_records") == 0


async def _report_until_acknowledged(
    terminals: list[TerminalClient], token: str, index: int, refused: list[int]
) -> None:
    """One copy report, sent to the terminal's replica and, while that one fails, to the next,
    always with its own idempotency key."""
    attempt = index
    while True:
        terminal = terminals[attempt % len(terminals)]
        try:
            await terminal.report(token, f"copy-{index}", 1, performed=True)
            return
        except grpc.aio.AioRpcError as error:
            assert error.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED), error
            refused.append(index)
            attempt += 1
            await asyncio.sleep(0.05)


async def test_a_replica_killed_mid_run_loses_and_doubles_no_cent(
    replicas: tuple[Replica, Replica], mfp_sim: Any
) -> None:
    a, b = replicas
    await mfp_sim.start()
    try:
        terminal = await _setup(a, mfp_sim)
        terminals = [terminal, b.terminal_at(terminal)]
        token = (await terminals[1].tap("A11CE")).session_token
        refused: list[int] = []
        killed = False
        for batch in range(0, RUN_REPORTS, 10):
            await asyncio.gather(
                *(_report_until_acknowledged(terminals, token, i, refused) for i in range(batch, batch + 10))
            )
            if batch + 10 >= KILL_AFTER_REPORTS and not killed:
                a.process.kill()
                killed = True
        # Every report again, with its key: none may charge twice.
        for index in range(RUN_REPORTS):
            await _report_until_acknowledged(terminals[1:], token, index, refused)
        balance, holds = await b.balances()
        expected = 500 - RUN_REPORTS * COPY_CENTS
        lost_cents, doubled_cents = max(balance - expected, 0), max(expected - balance, 0)
        print(f"replica killed: lost_cents={lost_cents} doubled_cents={doubled_cents} refused={len(refused)}")
        assert (lost_cents, doubled_cents, holds) == (0, 0, 0)
        assert b.read("SELECT SUM(pages) FROM usage_lines WHERE function = 'copy'") == RUN_REPORTS
        assert (await b.admin("CheckLedger", admin_pb2.Empty())).ok
    finally:
        await mfp_sim.stop()


async def _stalled_release(a: Replica, mfp: Any, tmp_path: Path) -> asyncio.Future[Any]:
    """A big job printed into A and released at A to a printer that stopped reading: the
    release stays in progress (``releasing``) until the printer reads again."""
    await _setup(a, mfp)
    document = tmp_path / "big.ps"
    document.write_bytes(BIG_PAGE_PS)
    await a.submit(document)
    await a.wait_for("SELECT COUNT(*) FROM print_jobs WHERE page_count = 1", 1)
    mfp.behaviour.raw_stall = True
    consumer = asyncio.ensure_future(a.release("release-1"))
    await a.wait_for("SELECT state FROM print_releases", "releasing")
    return consumer


async def test_a_replica_starting_leaves_the_other_replicas_release_alone(
    replicas: tuple[Replica, Replica], mfp_sim: Any, tmp_path: Path
) -> None:
    a, b = replicas
    await mfp_sim.start()
    try:
        consumer = await _stalled_release(a, mfp_sim, tmp_path)
        holds_before = await a.balances()
        assert holds_before == (500 - MONO_CENTS, MONO_CENTS)  # the estimate is reserved
        b.process.stop()
        b.process.start()  # B's start-up recovery sees A's release in progress, owned by live A
        assert a.read("SELECT state FROM print_releases") == "releasing"
        assert await b.balances() == holds_before
        # A alone decides: its printer took the whole document into its buffers and never
        # answers, and raw 9100 cannot say what it printed, so A charges the estimate once and
        # marks the job "may have printed" (never printed uncharged, never settled twice).
        progress = await asyncio.wait_for(consumer, 120)
        assert progress[-1].state == terminal_pb2.RELEASE_STATE_PRINTED
        assert progress[-1].message.startswith("may have printed")
        assert progress[-1].charged_cents == MONO_CENTS
        assert await b.balances() == (500 - MONO_CENTS, 0)
        assert a.read("SELECT state FROM print_jobs") == "printed"
        assert a.read("SELECT COUNT(*) FROM print_releases") == 1  # B's start-up took nothing
        assert (await b.admin("CheckLedger", admin_pb2.Empty())).ok
    finally:
        await mfp_sim.stop()


async def test_a_release_of_a_replica_dead_for_good_is_put_back_by_another(
    replicas: tuple[Replica, Replica], mfp_sim: Any, tmp_path: Path
) -> None:
    a, b = replicas
    await mfp_sim.start()
    try:
        consumer = await _stalled_release(a, mfp_sim, tmp_path)
        a.process.kill()
        await asyncio.gather(consumer, return_exceptions=True)
        mfp_sim.behaviour.raw_stall = False
        db = open_hub_database(b.database_url)
        try:
            config = HubConfig(data_dir=tmp_path / "sweeper", database=b.database_url)
            store = Store(db)
            sweeper = PrintJobs(
                store,
                config,
                SystemClock(),
                Spool(tmp_path / "unused", bytes(32)),
                JobRules(store, SystemClock(), config.printing.unanalysed_pages),
                replica_id="c",
            )
            assert await sweeper.resolve(None) == {}  # A was heard from moments ago
            # A's silence outlasts the grace: as if REPLICA_SILENT_S had passed without a heartbeat.
            db.write_sync(lambda tx: tx.execute("UPDATE hub_replicas SET heartbeat_us = 0"))
            db.write_sync(lambda tx: replicas_table.beat(tx, "c", SystemClock().now_us()))
            job_id = int(a.read("SELECT id FROM print_jobs"))
            # asked, the printer says its page counter never moved: put back, not charged
            assert await sweeper.resolve(None) == {job_id: Verdict.NOT_PRINTED}
            assert await sweeper.resolve(None) == {}  # applied once
        finally:
            db.close()
        assert a.read("SELECT state FROM print_jobs") == "held"
        assert await b.balances() == (500, 0)
        assert a.terminal is not None
        b.terminal = b.terminal_at(a.terminal)
        progress = await b.release("release-2")  # the user releases it again, at replica B
        assert progress[-1].state == terminal_pb2.RELEASE_STATE_PRINTED
        assert await b.balances() == (500 - MONO_CENTS, 0)
        assert (await b.admin("CheckLedger", admin_pb2.Empty())).ok
    finally:
        await mfp_sim.stop()


async def test_replica_then_database_failover_lose_and_double_no_cent(
    cluster: tuple[PostgresServer, PostgresServer],
    mfp_sim: Any,
    tmp_path: Path,
) -> None:
    """The drill: copies reported through both replicas; replica A killed with -9; then the
    primary killed with -9 and its synchronous standby promoted. Every acknowledged copy is
    charged exactly once, and the books balance."""
    primary, standby = cluster
    url = f"postgresql://postgres@127.0.0.1:{primary.port},127.0.0.1:{standby.port}/hub"
    await mfp_sim.start()
    try:
        async with _two_replicas(tmp_path, url) as (a, b):
            terminal = await _setup(a, mfp_sim)
            terminals = [terminal, b.terminal_at(terminal)]
            token = (await terminals[1].tap("A11CE")).session_token
            refused: dict[str, list[int]] = {"replica": [], "database": []}

            async def batch(start: int, fault: str) -> None:
                await asyncio.gather(
                    *(
                        _report_until_acknowledged(terminals, token, i, refused[fault])
                        for i in range(start, start + 10)
                    )
                )

            await batch(0, "replica")
            a.process.kill()
            await batch(10, "replica")
            await batch(20, "replica")
            primary.kill()
            promotion = asyncio.ensure_future(asyncio.to_thread(standby.promote))
            await batch(30, "database")
            await promotion
            await batch(40, "database")
            for index in range(50):  # every report again with its key: none may charge twice
                await _report_until_acknowledged(terminals[1:], token, index, refused["database"])
            balance, holds = await b.balances()
            expected = 500 - 50 * COPY_CENTS
            lost_cents, doubled_cents = max(balance - expected, 0), max(expected - balance, 0)
            print(
                f"drill: lost_cents={lost_cents} doubled_cents={doubled_cents} failed_calls:"
                f" replica_kill={len(refused['replica'])} database_failover={len(refused['database'])}"
            )
            assert (lost_cents, doubled_cents, holds) == (0, 0, 0)
            assert (await b.admin("CheckLedger", admin_pb2.Empty())).ok
            assert refused["replica"]  # calls to A really failed and moved to B
    finally:
        await mfp_sim.stop()


def _connected_ports() -> set[int]:
    """The remote ports of this process's established TCP connections (from /proc)."""
    inodes = set()
    for fd in Path("/proc/self/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    ports = set()
    for table in ("/proc/self/net/tcp", "/proc/self/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "01" and fields[9] in inodes:  # ESTABLISHED, ours
                ports.add(int(fields[2].rsplit(":", 1)[1], 16))
    return ports


async def test_a_terminal_given_both_replicas_spreads_its_calls_and_fails_over_by_itself(
    replicas: tuple[Replica, Replica], mfp_sim: Any
) -> None:
    """The terminal's own client (not the test) holds both addresses: with both replicas up it
    is connected to each; after replica A is killed with -9 its calls go on through B, usage
    reports retried with their keys, each charged once."""
    a, b = replicas
    await mfp_sim.start()
    try:
        terminal = await _setup(a, mfp_sim)
        both = dataclasses.replace(terminal.credentials, endpoints=(a.process.address, b.process.address))
        client = HubClient(both, deadline_s=5.0)
        try:
            login = await client.authenticate_card("A11CE")
            assert isinstance(login, Login) and login.session.balance_cents == 500
            deadline = time.monotonic() + 30
            while not {a.process.port, b.process.port} <= _connected_ports():
                assert time.monotonic() < deadline, f"not connected to both replicas: {_connected_ports()}"
                await client.get_session(login.session_token)
                await asyncio.sleep(0.1)
            a.process.kill()
            killed = time.monotonic()
            failures = 0
            for index in range(RUN_REPORTS):
                line = UsageLine(Function.COPY, ColorMode.MONO, "A4", False, 1)
                report = UsageReport(login.session_token, f"copy-{index}", (line,))
                while True:
                    try:
                        await client.report_usage(report)
                        break
                    except HubUnreachable:
                        failures += 1  # what the terminal's journal would replay with the same key
                if index == 0:
                    first_after_kill_s = time.monotonic() - killed
            balance, holds = await b.balances()
            expected = 500 - RUN_REPORTS * COPY_CENTS
            print(f"client failover: first report after -9 {first_after_kill_s:.2f} s, failures={failures}")
            assert (balance, holds) == (expected, 0)  # none lost, none doubled
            assert failures == 0  # retried on B by the channel itself: the user saw nothing
            assert (await client.get_session(login.session_token)).balance_cents == expected
        finally:
            await client.close()
    finally:
        await mfp_sim.stop()
