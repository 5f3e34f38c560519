"""The encrypted spool: round trips, tamper/truncation/reorder detection, shredding, limits, expiry."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub_server.intake import (
    QueuePolicy,
    Spool,
    SpoolIntegrityError,
    SpoolJobNotFound,
    SpoolLimitExceeded,
    SpoolLimits,
)


def store(spool: Spool, data: bytes, owner: str = "alice", queue: str = "default") -> str:
    with spool.open_writer(owner, queue) as writer:
        for start in range(0, len(data), 7000):
            writer.write(data[start : start + 7000])
        return writer.commit().spool_id


def read(spool: Spool, spool_id: str) -> bytes:
    return b"".join(spool.open_reader(spool_id))


def records(path: Path) -> tuple[bytes, list[bytes]]:
    """Split a spool data file into header and raw records (flag, length, ciphertext)."""
    data = path.read_bytes()
    header, offset, parts = data[:12], 12, []
    while offset < len(data):
        length = struct.unpack(">I", data[offset + 1 : offset + 5])[0]
        parts.append(data[offset : offset + 5 + length])
        offset += 5 + length
    return header, parts


def test_round_trip_across_chunk_boundaries(spool: Spool) -> None:
    data = os.urandom(3 * 64 * 1024 + 123)
    spool_id = store(spool, data)
    assert read(spool, spool_id) == data
    assert spool.entry(spool_id).size_bytes == len(data)
    assert spool.usage("alice") == (len(data), 1)


def test_data_at_rest_is_not_plaintext(spool: Spool) -> None:
    secret = b"CONFIDENTIAL salary list " * 100
    spool_id = store(spool, secret)
    assert b"CONFIDENTIAL" not in (spool.directory / f"{spool_id}.data").read_bytes()


def test_flipped_byte_is_detected(spool: Spool) -> None:
    spool_id = store(spool, os.urandom(100_000))
    path = spool.directory / f"{spool_id}.data"
    raw = bytearray(path.read_bytes())
    raw[50_000] ^= 0x01
    path.write_bytes(bytes(raw))
    with pytest.raises(SpoolIntegrityError, match="failed authentication"):
        read(spool, spool_id)


def test_truncation_at_a_record_boundary_is_detected(spool: Spool) -> None:
    spool_id = store(spool, os.urandom(200_000))
    path = spool.directory / f"{spool_id}.data"
    header, parts = records(path)
    path.write_bytes(header + b"".join(parts[:-1]))  # drop the final record cleanly
    with pytest.raises(SpoolIntegrityError, match="no final chunk"):
        read(spool, spool_id)


def test_reordered_chunks_are_detected(spool: Spool) -> None:
    spool_id = store(spool, os.urandom(200_000))
    path = spool.directory / f"{spool_id}.data"
    header, parts = records(path)
    path.write_bytes(header + parts[1] + parts[0] + b"".join(parts[2:]))
    with pytest.raises(SpoolIntegrityError, match="chunk 0 failed"):
        read(spool, spool_id)


def test_chunks_swapped_between_jobs_are_detected(spool: Spool) -> None:
    first, second = store(spool, b"a" * 1000), store(spool, b"b" * 1000)
    (spool.directory / f"{first}.data").write_bytes((spool.directory / f"{second}.data").read_bytes())
    with pytest.raises(SpoolIntegrityError):
        read(spool, first)


def test_wrong_hub_key_cannot_unwrap(spool: Spool) -> None:
    spool_id = store(spool, b"hello")
    other = Spool(spool.directory, os.urandom(32))
    with pytest.raises(SpoolIntegrityError, match="does not unwrap"):
        read(other, spool_id)


def test_shred_destroys_key_and_data(spool: Spool) -> None:
    spool_id = store(spool, b"secret")
    assert spool.shred(spool_id) is True
    assert list(spool.directory.iterdir()) == []
    assert spool.usage() == (0, 0)
    with pytest.raises(SpoolJobNotFound):
        read(spool, spool_id)
    assert spool.shred(spool_id) is False


def test_restart_reloads_entries_and_drops_partial_uploads(spool: Spool, hub_key: bytes) -> None:
    spool_id = store(spool, b"kept")
    writer = spool.open_writer("bob")
    writer.write(b"half an upload")  # never committed: a crash mid-upload
    reopened = Spool(spool.directory, hub_key)
    assert read(reopened, spool_id) == b"kept"
    assert reopened.usage() == (4, 1)
    assert not list(spool.directory.glob("*.part"))


def test_aborted_writer_leaves_nothing(spool: Spool) -> None:
    with pytest.raises(RuntimeError), spool.open_writer("alice") as writer:
        writer.write(b"x" * 1000)
        raise RuntimeError("client went away")
    assert list(spool.directory.iterdir()) == []
    assert spool.usage("alice") == (0, 0)


def test_limits_refuse_while_streaming(tmp_path: Path, hub_key: bytes) -> None:
    limits = SpoolLimits(job_bytes_max=1000, user_bytes_max=1500, user_jobs_max=2, total_bytes_max=2500)
    spool = Spool(tmp_path, hub_key, limits=limits)
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


def test_expiry_is_per_queue(tmp_path: Path, hub_key: bytes) -> None:
    now = [1000.0]
    spool = Spool(tmp_path, hub_key, queues={"fast": QueuePolicy("fast", expiry_s=60)}, clock=lambda: now[0])
    default_id, fast_id = store(spool, b"d"), store(spool, b"f", queue="fast")
    assert spool.entry(default_id).expires_at_s == 1000 + 4 * 3600
    assert spool.expire(1059.0) == []
    assert spool.expire(1060.0) == [fast_id]
    assert spool.expire(1000 + 4 * 3600) == [default_id]


def test_private_queue_deletes_on_print(tmp_path: Path, hub_key: bytes) -> None:
    spool = Spool(tmp_path, hub_key, queues={"secure": QueuePolicy("secure", private=True)})
    public_id, private_id = store(spool, b"p"), store(spool, b"s", queue="secure")
    assert spool.release_done(public_id) is False
    assert spool.release_done(private_id) is True
    assert [e.spool_id for e in spool.entries()] == [public_id]


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(st.binary(max_size=5000), max_size=12), st.integers(min_value=1, max_value=4096))
def test_any_write_pattern_round_trips(tmp_path: Path, parts: list[bytes], chunk_bytes: int) -> None:
    spool = Spool(tmp_path / os.urandom(4).hex(), os.urandom(32), chunk_bytes=chunk_bytes)
    with spool.open_writer("x") as writer:
        for part in parts:
            writer.write(part)
        spool_id = writer.commit().spool_id
    assert read(spool, spool_id) == b"".join(parts)
