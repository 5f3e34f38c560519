"""kill -9 the PostgreSQL primary in the middle of a stream of credit adjustments and promote its
synchronous standby: the hub's database finds the new primary by itself (one URL naming both
servers), every acknowledged cent is there, and repeating the interrupted writes with their own
idempotency keys applies none of them twice."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from hub_server.clock import SystemClock
from hub_server.domain import open_hub_database, users
from hub_server.domain.accounts import Accounts, Adjustment
from hub_server.domain.store import Store
from hub_server.domain.users import UserRef
from hub_server.errors import Unavailable
from hub_server.storage import Database
from tests.services import PostgresServer

ADJUSTMENTS = 240
KILL_AFTER_ACKS = 80
WORKERS = 4
RETRY_PAUSE_S = 0.05
SYNC_TIMEOUT_S = 30.0
SYNCHRONOUS_STANDBY = (
    "SELECT 1 FROM pg_stat_replication WHERE application_name = 'standby' AND sync_state = 'sync'"
)


def _amount(index: int) -> int:
    return index % 7 + 1


@pytest.fixture
def cluster() -> Iterator[tuple[PostgresServer, PostgresServer]]:
    """A primary and a streaming standby it commits to synchronously, as a site that must not
    lose a committed cent on failover runs them."""
    directories = [Path(tempfile.mkdtemp(prefix="printgate-pg-")) for _ in range(2)]
    primary, standby = PostgresServer(directories[0]), PostgresServer(directories[1])
    try:
        primary.start({"wal_level": "replica"})
        with psycopg.connect(primary.url("postgres"), autocommit=True) as connection:
            connection.execute("CREATE DATABASE hub")
        standby.start_standby(primary)
        with psycopg.connect(primary.url("postgres"), autocommit=True) as connection:
            # Only now: with no standby yet, every commit (CREATE DATABASE too) would wait for one.
            connection.execute("ALTER SYSTEM SET synchronous_standby_names = 'standby'")
            connection.execute("SELECT pg_reload_conf()")
            deadline = time.monotonic() + SYNC_TIMEOUT_S
            while connection.execute(SYNCHRONOUS_STANDBY).fetchone() is None:
                assert time.monotonic() < deadline, "the standby never became synchronous"
                time.sleep(0.1)
        yield primary, standby
    finally:
        standby.stop()
        primary.stop()
        for directory in directories:
            shutil.rmtree(directory, ignore_errors=True)


async def _adjust_until_applied(accounts: Accounts, index: int, unavailable: list[int]) -> int:
    """One adjustment, repeated with its key while the database is out of reach."""
    adjustment = Adjustment(
        amount_cents=_amount(index), reason="failover drill", idempotency_key=f"drill-{index}", user=ALICE
    )
    while True:
        try:
            await accounts.adjust(adjustment)
            return index
        except Unavailable:
            unavailable.append(index)
            await asyncio.sleep(RETRY_PAUSE_S)


ALICE = UserRef(username="alice")


async def _drill(db: Database, primary: PostgresServer, standby: PostgresServer) -> dict[str, float]:
    store = Store(db)
    clock = SystemClock()
    store.write_sync(lambda tx: users.create_user(tx, users.UserRecord(username="alice"), clock.now_us()))
    accounts = Accounts(store, clock)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(ADJUSTMENTS):
        queue.put_nowait(index)
    acknowledged: list[int] = []
    unavailable: list[int] = []
    timings: dict[str, float] = {}

    async def worker() -> None:
        while not queue.empty():
            acknowledged.append(await _adjust_until_applied(accounts, queue.get_nowait(), unavailable))
            if len(acknowledged) == KILL_AFTER_ACKS and "killed" not in timings:
                timings["killed"] = time.monotonic()
                primary.kill()
                # The promotion runs beside the writers, which keep retrying meanwhile.
                await asyncio.to_thread(standby.promote)
                timings["promoted"] = time.monotonic()

    await asyncio.gather(*(worker() for _ in range(WORKERS)))
    timings["unavailable"] = len(unavailable)
    return timings


def test_primary_killed_standby_promoted_no_cent_lost_or_doubled(
    cluster: tuple[PostgresServer, PostgresServer],
) -> None:
    primary, standby = cluster
    url = f"postgresql://postgres@127.0.0.1:{primary.port},127.0.0.1:{standby.port}/hub"
    db = open_hub_database(url)
    try:
        timings = asyncio.run(_drill(db, primary, standby))
        # Every adjustment again, with its key: the ones that committed just before the kill (their
        # answer lost with the connection) must not apply a second time.
        accounts = Accounts(Store(db), SystemClock())
        replays = [
            asyncio.run(
                accounts.adjust(
                    Adjustment(_amount(i), "failover drill", idempotency_key=f"drill-{i}", user=ALICE)
                )
            )
            for i in range(ADJUSTMENTS)
        ]
        balance = next(a.balance_cents for a in accounts.all(ALICE) if a.kind == "prepaid")
        check = accounts.check()
    finally:
        db.close()
    expected = sum(_amount(i) for i in range(ADJUSTMENTS))
    lost_cents = max(expected - balance, 0)
    doubled_cents = max(balance - expected, 0)
    print(
        f"failover: lost_cents={lost_cents} doubled_cents={doubled_cents} "
        f"calls_refused_while_failing_over={timings['unavailable']:.0f} "
        f"promote_s={timings['promoted'] - timings['killed']:.2f}"
    )
    assert (lost_cents, doubled_cents) == (0, 0)
    assert all(replay.already_applied for replay in replays)
    assert check.ok, check.problems
    # The drill really failed over: writes were refused while no primary answered.
    assert timings["unavailable"] > 0
    with psycopg.connect(standby.url("hub")) as connection:
        row = connection.execute("SELECT pg_is_in_recovery()").fetchone()
        assert row == (False,)
