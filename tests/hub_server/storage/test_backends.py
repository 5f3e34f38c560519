"""The storage contract, on every backend."""

from __future__ import annotations

import asyncio
import threading

import pytest

from hub_server.storage import Database
from hub_server.storage.base import Tx
from hub_server.storage.errors import DuplicateKey
from hub_server.storage.sqlite import SqliteDatabase


async def test_a_cancelled_write_never_stops_later_writes(db: Database) -> None:
    db.write_sync(lambda tx: tx.execute("CREATE TABLE t (v INTEGER)"))
    started, release = threading.Event(), threading.Event()

    def block(tx: object) -> bool:
        started.set()
        return release.wait(10)

    blocker = asyncio.ensure_future(db.write(block))
    assert await asyncio.to_thread(started.wait, 10)  # the writer is inside the blocker now
    abandoned = asyncio.ensure_future(db.write(lambda tx: tx.execute("INSERT INTO t VALUES (1)")))
    await asyncio.sleep(0)
    abandoned.cancel()  # its caller goes away (a client killed mid-call) while it still waits
    # Let the cancellation reach the writer's queue entry before the writer is free to take it:
    # wrap_future cancels the thread-side future from a loop callback, which runs before the
    # abandoned task finishes. Releasing the blocker first raced that callback (flaky [1, 2]).
    await asyncio.gather(abandoned, return_exceptions=True)
    release.set()
    await blocker
    await asyncio.wait_for(db.write(lambda tx: tx.execute("INSERT INTO t VALUES (2)")), 10)
    values = db.read(lambda tx: [row["v"] for row in tx.execute("SELECT v FROM t ORDER BY v")])
    if isinstance(db, SqliteDatabase):
        assert values == [2]  # dropped before it started: never acknowledged, never applied
    else:
        assert values in ([2], [1, 2])  # a running transaction may still commit; either way, no hang


async def test_a_failing_write_rolls_back_alone(db: Database) -> None:
    db.write_sync(lambda tx: tx.execute("CREATE TABLE t (v INTEGER PRIMARY KEY)"))

    def fails(tx):
        tx.execute("INSERT INTO t VALUES (10)")
        raise ValueError("boom")

    outcomes = await asyncio.gather(
        db.write(lambda tx: tx.execute("INSERT INTO t VALUES (1)")),
        db.write(fails),
        db.write(lambda tx: tx.execute("INSERT INTO t VALUES (2)")),
        return_exceptions=True,
    )
    assert isinstance(outcomes[1], ValueError)
    assert db.read(lambda tx: [row["v"] for row in tx.execute("SELECT v FROM t ORDER BY v")]) == [1, 2]


def test_reads_see_a_consistent_snapshot_and_bad_sql_is_an_error(db: Database) -> None:
    db.write_sync(lambda tx: tx.execute("CREATE TABLE t (v INTEGER)"))
    db.write_sync(lambda tx: tx.execute("INSERT INTO t VALUES (:v)", {"v": 7}))
    assert db.read(lambda tx: tx.scalar("SELECT SUM(v) AS s FROM t")) == 7
    assert db.read(lambda tx: tx.one("SELECT v FROM t WHERE v = :v", {"v": 8})) is None


def test_execute_many_writes_every_row_and_a_duplicate_rolls_back_its_write(db: Database) -> None:
    db.write_sync(lambda tx: tx.execute("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER)"))
    db.write_sync(
        lambda tx: tx.execute_many(
            "INSERT INTO t VALUES (:k, :v)", [{"k": f"k{i}", "v": i} for i in range(500)]
        )
    )
    assert db.read(lambda tx: tx.scalar("SELECT COUNT(*) AS n FROM t")) == 500
    assert db.read(lambda tx: tx.scalar("SELECT SUM(v) AS s FROM t")) == sum(range(500))

    def with_duplicate(tx: Tx) -> None:
        tx.execute_many("INSERT INTO t VALUES (:k, :v)", [{"k": "new", "v": 1}, {"k": "k7", "v": 2}])

    with pytest.raises(DuplicateKey):
        db.write_sync(with_duplicate)
    assert db.read(lambda tx: tx.scalar("SELECT COUNT(*) AS n FROM t WHERE k = 'new'")) == 0
    assert db.read(lambda tx: tx.scalar("SELECT v FROM t WHERE k = 'k7'")) == 7
