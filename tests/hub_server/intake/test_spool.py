"""The encrypted spool's contract, run against every store: the local directory, and the hub's
database store on SQLite and on PostgreSQL (the shared spool of hub replicas). Round trips,
tamper/truncation/reorder detection, shredding, limits, expiry, crash leftovers."""

from __future__ import annotations

import os
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub_server.domain import DatabaseSpoolStore
from hub_server.domain.spool_store import SPOOL
from hub_server.intake import (
    DirectorySpoolStore,
    QueuePolicy,
    Spool,
    SpoolIntegrityError,
    SpoolJobNotFound,
    SpoolLimitExceeded,
    SpoolLimits,
    SpoolStore,
)
from hub_server.storage import Database, open_database

Records = list[tuple[int, bytes]]


@dataclass
class Backend:
    """One store under test, with raw access to what it holds (to tamper with it)."""

    store: SpoolStore
    raw_records: Callable[[str], Records]
    put_records: Callable[[str, Records], None]
    stored_ciphertext: Callable[[], bytes]
    leftovers: Callable[[], int]  # rows or files of any kind still held

    def spool(self, hub_key: bytes, **options: Any) -> Spool:
        return Spool(self.store, hub_key, **options)


def _directory_backend(folder: Path) -> Backend:
    store = DirectorySpoolStore(folder)

    def raw(spool_id: str) -> Records:
        data, offset, parts = store.path(spool_id, "data").read_bytes(), 12, []
        while offset < len(data):
            flag, length = struct.unpack(">BI", data[offset : offset + 5])
            parts.append((flag, data[offset + 5 : offset + 5 + length]))
            offset += 5 + length
        return parts

    def put(spool_id: str, records: Records) -> None:
        path = store.path(spool_id, "data")
        header = path.read_bytes()[:12]
        path.write_bytes(header + b"".join(struct.pack(">BI", f, len(d)) + d for f, d in records))

    def ciphertext() -> bytes:
        return b"".join(path.read_bytes() for path in folder.iterdir())

    return Backend(store, raw, put, ciphertext, lambda: len(list(folder.iterdir())))


def _database_backend(db: Database) -> Backend:
    store = DatabaseSpoolStore(db, lambda: 1000.0)

    def raw(spool_id: str) -> Records:
        rows = db.read(
            lambda tx: tx.execute(
                "SELECT final, sealed FROM spool_records WHERE spool_id = :s ORDER BY number", {"s": spool_id}
            )
        )
        return [(int(row["final"]), bytes(row["sealed"])) for row in rows]

    def put(spool_id: str, records: Records) -> None:
        def rewrite(tx: Any) -> None:
            tx.execute("DELETE FROM spool_records WHERE spool_id = :s", {"s": spool_id})
            for number, (flag, sealed) in enumerate(records):
                tx.execute(
                    "INSERT INTO spool_records (spool_id, number, final, sealed) VALUES (:s, :n, :f, :d)",
                    {"s": spool_id, "n": number, "f": flag, "d": sealed},
                )

        db.write_sync(rewrite)

    def ciphertext() -> bytes:
        rows = db.read(lambda tx: tx.execute("SELECT sealed FROM spool_records"))
        return b"".join(bytes(row["sealed"]) for row in rows)

    def leftovers() -> int:
        return int(
            db.read(
                lambda tx: tx.scalar(
                    "SELECT (SELECT COUNT(*) FROM spool_records) + (SELECT COUNT(*) FROM spool_entries)"
                    " + (SELECT COUNT(*) FROM spool_uploads)"
                )
            )
        )

    return Backend(store, raw, put, ciphertext, leftovers)


@pytest.fixture(params=["directory", "sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """Every spool store in turn: the same contract holds on each."""
    if request.param == "directory":
        yield _directory_backend(tmp_path / "spool")
        return
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'spool.db'}"
    else:
        url = request.getfixturevalue("postgres").new_database()
    db = open_database(url, [SPOOL])
    yield _database_backend(db)
    db.close()


@pytest.fixture
def spool(backend: Backend, hub_key: bytes) -> Spool:
    return backend.spool(hub_key, chunk_bytes=64 * 1024)


def store(spool: Spool, data: bytes, owner: str = "alice", queue: str = "default") -> str:
    with spool.open_writer(owner, queue) as writer:
        for start in range(0, len(data), 7000):
            writer.write(data[start : start + 7000])
        return writer.commit().spool_id


def read(spool: Spool, spool_id: str) -> bytes:
    return b"".join(spool.open_reader(spool_id))


def test_round_trip_across_chunk_boundaries(spool: Spool, backend: Backend) -> None:
    data = os.urandom(3 * 64 * 1024 + 123)
    spool_id = store(spool, data)
    assert read(spool, spool_id) == data
    assert spool.entry(spool_id).size_bytes == len(data)
    assert spool.usage("alice") == (len(data), 1)
    assert [flag for flag, _ in backend.raw_records(spool_id)] == [0, 0, 0, 1]
    assert [len(sealed) for _, sealed in backend.raw_records(spool_id)] == [64 * 1024 + 16] * 3 + [123 + 16]


def test_data_at_rest_is_not_plaintext(spool: Spool, backend: Backend) -> None:
    secret = b"CONFIDENTIAL salary list " * 100
    store(spool, secret)
    stored = backend.stored_ciphertext()
    assert len(stored) >= len(secret)
    assert b"CONFIDENTIAL" not in stored


def test_flipped_byte_is_detected(spool: Spool, backend: Backend) -> None:
    spool_id = store(spool, os.urandom(100_000))
    records = backend.raw_records(spool_id)
    flipped = bytearray(records[0][1])
    flipped[50_000] ^= 0x01
    backend.put_records(spool_id, [(records[0][0], bytes(flipped)), *records[1:]])
    with pytest.raises(SpoolIntegrityError, match="chunk 0 failed authentication"):
        read(spool, spool_id)


def test_truncation_at_a_record_boundary_is_detected(spool: Spool, backend: Backend) -> None:
    spool_id = store(spool, os.urandom(200_000))
    backend.put_records(spool_id, backend.raw_records(spool_id)[:-1])  # drop the final record cleanly
    with pytest.raises(SpoolIntegrityError, match="no final chunk"):
        read(spool, spool_id)


def test_data_after_the_final_record_is_detected(spool: Spool, backend: Backend) -> None:
    spool_id = store(spool, os.urandom(1000))
    records = backend.raw_records(spool_id)
    backend.put_records(spool_id, [*records, records[-1]])
    with pytest.raises(SpoolIntegrityError, match="after the final chunk"):
        read(spool, spool_id)


def test_reordered_chunks_are_detected(spool: Spool, backend: Backend) -> None:
    spool_id = store(spool, os.urandom(200_000))
    records = backend.raw_records(spool_id)
    backend.put_records(spool_id, [records[1], records[0], *records[2:]])
    with pytest.raises(SpoolIntegrityError, match="chunk 0 failed"):
        read(spool, spool_id)


def test_chunks_swapped_between_jobs_are_detected(spool: Spool, backend: Backend) -> None:
    first, second = store(spool, b"a" * 1000), store(spool, b"b" * 1000)
    backend.put_records(first, backend.raw_records(second))
    with pytest.raises(SpoolIntegrityError, match="chunk 0 failed"):
        read(spool, first)


def test_wrong_hub_key_cannot_unwrap(spool: Spool, backend: Backend) -> None:
    spool_id = store(spool, b"hello")
    with pytest.raises(SpoolIntegrityError, match="does not unwrap"):
        read(backend.spool(os.urandom(32)), spool_id)


def test_shred_destroys_key_and_data(spool: Spool, backend: Backend) -> None:
    spool_id = store(spool, b"secret")
    assert spool.shred(spool_id) is True
    assert backend.leftovers() == 0
    assert spool.usage() == (0, 0)
    with pytest.raises(SpoolJobNotFound):
        read(spool, spool_id)
    assert spool.shred(spool_id) is False


def test_a_crashed_upload_is_never_an_entry(spool: Spool, backend: Backend, hub_key: bytes) -> None:
    spool_id = store(spool, b"kept")
    writer = spool.open_writer("bob")
    writer.write(os.urandom(200_000))  # records stored, never committed: the writer's process dies
    other = backend.spool(hub_key)  # a restarted process, or another replica on the same store
    assert [entry.spool_id for entry in other.entries()] == [spool_id]
    assert read(other, spool_id) == b"kept"
    assert other.usage() == (4, 1)
    with pytest.raises(SpoolJobNotFound):
        other.entry(writer.spool_id)
    other.drop_abandoned_uploads(-10.0)  # anything not written to in the last "-10 s": all uploads
    assert other.shred(spool_id) is True
    assert backend.leftovers() == 0


def test_aborted_writer_leaves_nothing(spool: Spool, backend: Backend) -> None:
    with pytest.raises(RuntimeError), spool.open_writer("alice") as writer:
        writer.write(b"x" * 100_000)
        raise RuntimeError("client went away")
    assert backend.leftovers() == 0
    assert spool.usage("alice") == (0, 0)


def test_limits_refuse_while_streaming(backend: Backend, hub_key: bytes) -> None:
    limits = SpoolLimits(job_bytes_max=1000, user_bytes_max=1500, user_jobs_max=2, total_bytes_max=2500)
    spool = backend.spool(hub_key, limits=limits)
    with pytest.raises(SpoolLimitExceeded, match="job exceeds 1000") as caught, spool.open_writer("a") as w:
        w.write(b"x" * 1001)
    assert caught.value.kind == "bytes"
    store(spool, b"x" * 1000, owner="a")
    with pytest.raises(SpoolLimitExceeded, match="for 'a'"), spool.open_writer("a") as w:
        w.write(b"x" * 501)
    store(spool, b"x" * 1000, owner="b")
    with pytest.raises(SpoolLimitExceeded, match="in total"), spool.open_writer("c") as w:
        w.write(b"x" * 501)
    store(spool, b"x", owner="a")
    with pytest.raises(SpoolLimitExceeded) as jobs:
        spool.open_writer("a")
    assert jobs.value.kind == "jobs"
    assert spool.usage() == (2001, 3)


def test_uploads_in_progress_count_against_limits(backend: Backend, hub_key: bytes) -> None:
    spool = backend.spool(hub_key, limits=SpoolLimits(user_bytes_max=1500))
    first = spool.open_writer("a")
    first.write(b"x" * 1000)
    assert spool.usage("a") == (1000, 1)
    with pytest.raises(SpoolLimitExceeded, match="for 'a'"), spool.open_writer("a") as second:
        second.write(b"x" * 501)
    first.commit()
    assert spool.usage("a") == (1000, 1)


def test_expiry_is_per_queue(backend: Backend, hub_key: bytes) -> None:
    now = [1000.0]
    spool = backend.spool(hub_key, queues={"fast": QueuePolicy("fast", expiry_s=60)}, clock=lambda: now[0])
    default_id, fast_id = store(spool, b"d"), store(spool, b"f", queue="fast")
    assert spool.entry(default_id).expires_at_s == 1000 + 4 * 3600
    assert spool.expire(1059.0) == []
    assert spool.expire(1060.0) == [fast_id]
    assert spool.expire(1000 + 4 * 3600) == [default_id]


def test_private_queue_deletes_on_print(backend: Backend, hub_key: bytes) -> None:
    spool = backend.spool(hub_key, queues={"secure": QueuePolicy("secure", private=True)})
    public_id, private_id = store(spool, b"p"), store(spool, b"s", queue="secure")
    assert spool.release_done(public_id) is False
    assert spool.release_done(private_id) is True
    assert [e.spool_id for e in spool.entries()] == [public_id]


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(st.binary(max_size=5000), max_size=12), st.integers(min_value=1, max_value=4096))
def test_any_write_pattern_round_trips(backend: Backend, parts: list[bytes], chunk_bytes: int) -> None:
    spool = backend.spool(os.urandom(32), chunk_bytes=chunk_bytes)
    with spool.open_writer("x") as writer:
        for part in parts:
            writer.write(part)
        spool_id = writer.commit().spool_id
    assert read(spool, spool_id) == b"".join(parts)
    spool.shred(spool_id)


def test_directory_restart_drops_partial_files(tmp_path: Path, hub_key: bytes) -> None:
    spool = Spool(tmp_path, hub_key)
    kept = store(spool, b"kept")
    spool.open_writer("bob").write(b"half an upload")
    reopened = Spool(tmp_path, hub_key)
    assert read(reopened, kept) == b"kept"
    assert not list(tmp_path.glob("*.part"))
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        f"{kept}.{s}" for s in ("data", "key", "meta")
    ]
