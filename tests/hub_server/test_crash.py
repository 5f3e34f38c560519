"""kill -9 the hub in the middle of a stream of ReportUsage: nothing acknowledged is lost,
nothing is applied twice, and re-sending everything applies each report exactly once."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from printgate.v1 import admin_pb2, admin_pb2_grpc, common_pb2, terminal_pb2

from hub_server.domain import open_hub_database
from tests.conftest import free_tcp_port
from tests.hub_server.conftest import TerminalClient
from tests.hub_server.processes import HubProcess

REPORTS = 400
KILL_AFTER_ACKS = 120
IN_FLIGHT = 8
START_CENTS = 1_000_000


@pytest.fixture
def hub_process(tmp_path: Path, database_url: str) -> Iterator[HubProcess]:
    config = tmp_path / "hub.toml"
    config.write_text(
        f'[hub]\ndatabase = "{database_url}"\n[auth]\nargon2_time_cost = 1\nargon2_memory_kib = 1024\n'
    )
    process = HubProcess(tmp_path / "hub", free_tcp_port(), config)
    process.start()
    yield process
    process.stop()


def _pages(index: int) -> int:
    return index % 5 + 1


async def _setup(process: HubProcess, channel: grpc.aio.Channel) -> tuple[TerminalClient, str]:
    admin = admin_pb2_grpc.AdminServiceStub(channel)
    metadata = process.admin_metadata
    await admin.SetPrice(
        admin_pb2.Price(
            printer_group="default",
            function=common_pb2.FUNCTION_COPY,
            color=common_pb2.COLOR_MODE_MONO,
            paper_size="*",
            price_cents_per_page=3,
        ),
        metadata=metadata,
    )
    terminal = await process.enroll(channel, "t1")
    await admin.CreateUser(admin_pb2.User(username="alice"), metadata=metadata)
    await admin.AddCard(
        admin_pb2.Card(user=admin_pb2.UserRef(username="alice"), number="A11CE"), metadata=metadata
    )
    await admin.AdjustCredit(
        admin_pb2.AdjustCreditRequest(
            user=admin_pb2.UserRef(username="alice"),
            amount_cents=START_CENTS,
            reason="start",
            idempotency_key=str(uuid.uuid4()),
        ),
        metadata=metadata,
    )
    return terminal, (await terminal.tap("A11CE")).session_token


async def _send_until_killed(process: HubProcess, terminal: TerminalClient, token: str) -> dict[str, int]:
    """Send every report; SIGKILL the hub once enough are acknowledged. Returns key -> transaction."""
    acknowledged: dict[str, int] = {}
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(REPORTS):
        queue.put_nowait(index)
    killed = asyncio.Event()

    async def sender() -> None:
        while not queue.empty() and not killed.is_set():
            index = queue.get_nowait()
            try:
                reply = await terminal.report(token, f"r{index}", _pages(index), performed=True)
            except grpc.aio.AioRpcError:
                continue
            acknowledged[f"r{index}"] = reply.transaction_id
            if len(acknowledged) >= KILL_AFTER_ACKS and not killed.is_set():
                killed.set()
                process.kill()

    await asyncio.gather(*(sender() for _ in range(IN_FLIGHT)))
    return acknowledged


def _ledger_keys(database_url: str) -> dict[str, int]:
    """Usage keys in the ledger, read straight from the database the dead hub left behind."""
    db = open_hub_database(database_url)
    try:
        rows = db.read(
            lambda tx: tx.execute(
                "SELECT idempotency_key, COUNT(*) AS n, MIN(id) AS id FROM transactions"
                " WHERE kind = 'usage' GROUP BY idempotency_key"
            )
        )
    finally:
        db.close()
    assert all(row["n"] == 1 for row in rows)
    return {row["idempotency_key"]: int(row["id"]) for row in rows}


@pytest.mark.slow
async def test_kill_9_mid_stream_loses_and_doubles_nothing(
    hub_process: HubProcess, database_url: str
) -> None:
    async with hub_process.admin_channel() as channel:
        terminal, token = await _setup(hub_process, channel)
        acknowledged = await _send_until_killed(hub_process, terminal, token)
    await terminal.channel.close()
    assert len(acknowledged) >= KILL_AFTER_ACKS

    # After the crash: every acknowledged report is in the ledger exactly once.
    applied = _ledger_keys(database_url)
    assert len(applied) < REPORTS  # the crash really came mid-stream
    for key, transaction_id in acknowledged.items():
        assert applied[key] == transaction_id

    hub_process.start()
    async with terminal.reconnect(), hub_process.admin_channel() as channel:
        outcomes = {}
        for index in range(REPORTS):
            reply = await terminal.report(token, f"r{index}", _pages(index), performed=True)
            outcomes[f"r{index}"] = reply
        for key in applied:
            assert outcomes[key].outcome == terminal_pb2.REPORT_OUTCOME_ALREADY_APPLIED
            assert outcomes[key].transaction_id == applied[key]
        created = [k for k, r in outcomes.items() if r.outcome == terminal_pb2.REPORT_OUTCOME_CREATED]
        assert len(created) == REPORTS - len(applied)

        admin = admin_pb2_grpc.AdminServiceStub(channel)
        metadata = hub_process.admin_metadata
        check = await admin.CheckLedger(admin_pb2.Empty(), metadata=metadata)
        accounts = await admin.ListAccounts(
            admin_pb2.ListAccountsRequest(user=admin_pb2.UserRef(username="alice")), metadata=metadata
        )
    assert check.ok, check.problems
    total_pages = sum(_pages(i) for i in range(REPORTS))
    assert accounts.accounts[0].balance_cents == START_CENTS - 3 * total_pages
    assert len(_ledger_keys(database_url)) == REPORTS
