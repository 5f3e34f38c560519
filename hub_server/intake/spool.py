"""The encrypted job spool: documents at rest, streamed in and out, shreddable.

Contract:

* Every job gets a fresh random 256-bit key. Its data is split into chunks of
  ``chunk_bytes`` plaintext, each sealed with AES-256-GCM. The 12-byte nonce is the chunk
  index (8 bytes) and a final flag (4 bytes); the associated data is the spool id plus the
  nonce. A reader therefore detects tampering, reordering, chunks moved between jobs and
  truncation (the last record must carry the final flag, and nothing may follow it).
* The job key is wrapped with the hub key (AES key wrap, RFC 3394) and stored in its own
  small ``<id>.key`` file. ``shred`` deletes the key first: once it is gone the data file is
  noise, even if a copy of the disk survives.
* Data is written and read chunk by chunk; a job is never held whole in memory.
* Limits (per job, per user and total, in bytes and jobs) are checked while bytes arrive,
  so a 10 GB upload is refused at the limit, not after it lands on disk.
* Expiry is per queue (default 4 hours). Private queues lose a job as soon as it is
  released (``release_done``).

Where the sealed records, wrapped keys and entries live is a :class:`SpoolStore`: a local
directory (:class:`~hub_server.intake.spool_files.DirectorySpoolStore`, the embedded default) or
a database shared by several hub replicas (the hub's ``domain.spool_store``). The store sees
only ciphertext and wrapped keys; every cryptographic check above is made here, whichever store
holds the bytes. A store publishes a job atomically: until ``publish`` it is invisible, and an
upload abandoned by a crash is dropped, never shown half.

Non-goals: this module knows nothing about users or IPP; ``owner_key`` is an opaque string
used only for per-user limits. Uploads in progress are counted against the limits only in the
process receiving them; committed jobs count everywhere the store is shared.
"""

from __future__ import annotations

import logging
import secrets
import struct
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

from .errors import SpoolError, SpoolIntegrityError, SpoolJobNotFound, SpoolLimitExceeded

__all__ = ["QueuePolicy", "RecordSink", "Spool", "SpoolEntry", "SpoolLimits", "SpoolStore", "SpoolWriter"]

log = logging.getLogger(__name__)

_TAG_BYTES = 16
_DEFAULT_EXPIRY_S = 4 * 3600.0
_TOTAL = "\x00total"  # usage key for the whole spool; no owner name contains NUL


@dataclass(frozen=True)
class QueuePolicy:
    """Per-queue spool policy: how long held jobs live, and whether release deletes them."""

    name: str = "default"
    expiry_s: float = _DEFAULT_EXPIRY_S
    private: bool = False


@dataclass(frozen=True)
class SpoolLimits:
    """Spool limits; every value is a maximum, checked before bytes hit the disk."""

    job_bytes_max: int = 512 * 1024 * 1024
    user_bytes_max: int = 2 * 1024 * 1024 * 1024
    user_jobs_max: int = 5000
    total_bytes_max: int = 50 * 1024 * 1024 * 1024
    total_jobs_max: int = 100_000


@dataclass(frozen=True)
class SpoolEntry:
    """A committed spool entry (metadata only; the data stays encrypted in its store)."""

    spool_id: str
    owner_key: str
    queue: str
    size_bytes: int
    created_at_s: float
    expires_at_s: float


class RecordSink(Protocol):
    """One upload in progress in a store: sealed records in, then published or discarded."""

    def append(self, final: bool, sealed: bytes) -> None:
        """Store the next sealed record (records arrive in order, from index 0)."""

    def publish(self, entry: SpoolEntry, wrapped_key: bytes) -> None:
        """Make the job visible, durably and at once, with its wrapped key."""

    def discard(self) -> None:
        """Drop everything written so far."""


class SpoolStore(Protocol):
    """Where a :class:`Spool` keeps sealed records, wrapped job keys and committed entries.

    Only published jobs are entries. ``records`` yields ``(flag, sealed)`` pairs as stored,
    raising ``SpoolIntegrityError`` when the stored form itself is damaged; whether the records
    authenticate, are complete and in order is the spool's check, not the store's.
    """

    def begin(self, spool_id: str, chunk_bytes: int) -> RecordSink:
        """Start storing a new job's records."""

    def entries(self) -> list[SpoolEntry]:
        """Every published entry."""

    def entry(self, spool_id: str) -> SpoolEntry | None:
        """The published entry ``spool_id``, or None."""

    def usage(self, owner_key: str | None) -> tuple[int, int]:
        """(bytes, jobs) published for ``owner_key``, or in total when None."""

    def wrapped_key(self, spool_id: str) -> bytes | None:
        """The wrapped key of a published job, or None."""

    def records(self, spool_id: str) -> tuple[int, Iterator[tuple[int, bytes]]]:
        """The job's chunk size and its records in order; ``SpoolJobNotFound`` if absent."""

    def delete(self, spool_id: str) -> SpoolEntry | None:
        """Remove the key first, then entry and records; the entry if it was published."""

    def drop_uploads_idle_since(self, cutoff_s: float) -> int:
        """Drop unpublished uploads last written before ``cutoff_s`` (a crashed writer's)."""


def _nonce(index: int, final: bool) -> bytes:
    return struct.pack(">QI", index, 1 if final else 0)


class Spool:
    """Encrypted, individually keyed jobs in a store (a directory by default)."""

    def __init__(
        self,
        store: SpoolStore | Path | str,
        hub_key: bytes,
        *,
        limits: SpoolLimits | None = None,
        queues: Mapping[str, QueuePolicy] | None = None,
        chunk_bytes: int = 256 * 1024,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if len(hub_key) not in (16, 24, 32):
            raise ValueError("hub_key must be 16, 24 or 32 bytes")
        if isinstance(store, Path | str):
            from .spool_files import DirectorySpoolStore

            store = DirectorySpoolStore(Path(store))
        self.store: SpoolStore = store
        self.limits = limits or SpoolLimits()
        self.queues = dict(queues or {})
        self.chunk_bytes = chunk_bytes
        self.clock = clock
        self._hub_key = hub_key
        # (bytes, jobs) of this process's uploads in progress, per owner and in total; the
        # store counts what is published.
        self._pending: dict[str, list[int]] = {_TOTAL: [0, 0]}

    # ------------------------------------------------------------------ bookkeeping
    def policy(self, queue: str) -> QueuePolicy:
        """The policy of ``queue`` (the default policy for queues not configured)."""
        return self.queues.get(queue) or QueuePolicy(name=queue)

    def _account(self, owner_key: str, size_bytes: int, jobs: int) -> None:
        for key in (owner_key, _TOTAL):
            usage = self._pending.setdefault(key, [0, 0])
            usage[0] += size_bytes
            usage[1] += jobs
            if usage == [0, 0] and key != _TOTAL:
                del self._pending[key]

    def usage(self, owner_key: str | None = None) -> tuple[int, int]:
        """(bytes, jobs) held for ``owner_key`` (or in total), counting uploads in progress."""
        stored_bytes, stored_jobs = self.store.usage(owner_key)
        pending_bytes, pending_jobs = self._pending.get(_TOTAL if owner_key is None else owner_key, (0, 0))
        return stored_bytes + pending_bytes, stored_jobs + pending_jobs

    def check_room(self, owner_key: str, extra_bytes: int, extra_jobs: int = 0) -> None:
        """Raise ``SpoolLimitExceeded`` if adding this much would break a limit."""
        user_bytes, user_jobs = self.usage(owner_key)
        total_bytes, total_jobs = self.usage()
        limits = self.limits
        if user_jobs + extra_jobs > limits.user_jobs_max or total_jobs + extra_jobs > limits.total_jobs_max:
            raise SpoolLimitExceeded(f"too many spooled jobs for {owner_key!r} or in total", "jobs")
        if user_bytes + extra_bytes > limits.user_bytes_max:
            raise SpoolLimitExceeded(
                f"spool bytes for {owner_key!r} would exceed {limits.user_bytes_max}", "bytes"
            )
        if total_bytes + extra_bytes > limits.total_bytes_max:
            raise SpoolLimitExceeded(f"spool would exceed {limits.total_bytes_max} bytes in total", "bytes")

    def entries(self) -> list[SpoolEntry]:
        """Every committed entry."""
        return self.store.entries()

    def entry(self, spool_id: str) -> SpoolEntry:
        """The committed entry ``spool_id``; ``SpoolJobNotFound`` if absent or shredded."""
        entry = self.store.entry(spool_id)
        if entry is None:
            raise SpoolJobNotFound(spool_id)
        return entry

    # ------------------------------------------------------------------ writing
    def open_writer(self, owner_key: str, queue: str = "default") -> SpoolWriter:
        """Start a new job; refused at once if the job-count limits are reached."""
        self.check_room(owner_key, 0, extra_jobs=1)
        spool_id = secrets.token_hex(16)
        writer = SpoolWriter(self, spool_id, owner_key, queue, self.store.begin(spool_id, self.chunk_bytes))
        self._account(owner_key, 0, 1)
        return writer

    def _commit(self, writer: SpoolWriter, sink: RecordSink) -> SpoolEntry:
        now = self.clock()
        entry = SpoolEntry(
            writer.spool_id,
            writer.owner_key,
            writer.queue,
            writer.size_bytes,
            now,
            now + self.policy(writer.queue).expiry_s,
        )
        try:
            sink.publish(entry, aes_key_wrap(self._hub_key, writer.job_key))
        finally:
            self._account(writer.owner_key, -writer.size_bytes, -1)
        return entry

    def _forget_writer(self, writer: SpoolWriter, sink: RecordSink) -> None:
        self._account(writer.owner_key, -writer.size_bytes, -1)
        sink.discard()

    def drop_abandoned_uploads(self, idle_s: float) -> int:
        """Drop uploads no writer touched for ``idle_s`` (left by a crashed process)."""
        return self.store.drop_uploads_idle_since(self.clock() - idle_s)

    # ------------------------------------------------------------------ reading
    def _job_key(self, spool_id: str) -> bytes:
        wrapped = self.store.wrapped_key(spool_id)
        if wrapped is None:
            raise SpoolJobNotFound(spool_id)
        try:
            return aes_key_unwrap(self._hub_key, wrapped)
        except InvalidUnwrap:
            raise SpoolIntegrityError(f"{spool_id}: job key does not unwrap with this hub key") from None

    def open_reader(self, spool_id: str) -> Iterator[bytes]:
        """Yield the plaintext of ``spool_id`` chunk by chunk, authenticating each one.

        Raises ``SpoolIntegrityError`` (possibly after some chunks were yielded) if the
        data was altered or cut short; callers must not act on a partial document.
        """
        cipher = AESGCM(self._job_key(spool_id))
        chunk_bytes, records = self.store.records(spool_id)
        yield from _decrypt_records(records, cipher, spool_id, chunk_bytes + _TAG_BYTES)

    # ------------------------------------------------------------------ deleting
    def shred(self, spool_id: str) -> bool:
        """Destroy the job key and the data; True if the entry existed."""
        if self.store.delete(spool_id) is None:
            return False
        log.info("spool: shredded %s", spool_id)
        return True

    def release_done(self, spool_id: str) -> bool:
        """Call after a job printed: shreds it if its queue is private. True if shredded."""
        entry = self.store.entry(spool_id)
        if entry is None or not self.policy(entry.queue).private:
            return False
        return self.shred(spool_id)

    def expire(self, now_s: float | None = None) -> list[str]:
        """Shred every entry past its expiry; returns the shredded ids."""
        now_s = self.clock() if now_s is None else now_s
        expired = [e.spool_id for e in self.store.entries() if e.expires_at_s <= now_s]
        return [spool_id for spool_id in expired if self.shred(spool_id)]


class SpoolWriter:
    """Streams one job into the spool. Use as a context manager: leaving it without
    ``commit`` (an exception, a dropped client) discards the partial upload."""

    def __init__(self, spool: Spool, spool_id: str, owner_key: str, queue: str, sink: RecordSink) -> None:
        self.spool = spool
        self.spool_id = spool_id
        self.owner_key = owner_key
        self.queue = queue
        self.size_bytes = 0
        self.job_key = AESGCM.generate_key(bit_length=256)
        self._cipher = AESGCM(self.job_key)
        self._buffer = bytearray()
        self._index = 0
        self._done = False
        self._sink = sink

    def __enter__(self) -> SpoolWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        if not self._done:
            self.abort()

    def set_owner(self, owner_key: str) -> None:
        """Re-attribute the upload (LPD may send data before the control file names the user)."""
        if owner_key == self.owner_key:
            return
        self.spool.check_room(owner_key, self.size_bytes, extra_jobs=1)
        self.spool._account(self.owner_key, -self.size_bytes, -1)
        self.spool._account(owner_key, self.size_bytes, 1)
        self.owner_key = owner_key

    def write(self, data: bytes) -> None:
        """Append plaintext; raises ``SpoolLimitExceeded`` before writing past a limit."""
        if self._done:
            raise SpoolError("write after commit/abort")
        if self.size_bytes + len(data) > self.spool.limits.job_bytes_max:
            raise SpoolLimitExceeded(f"job exceeds {self.spool.limits.job_bytes_max} bytes", "bytes")
        self.spool.check_room(self.owner_key, len(data))
        self.spool._account(self.owner_key, len(data), 0)
        self.size_bytes += len(data)
        self._buffer += data
        chunk = self.spool.chunk_bytes
        while len(self._buffer) >= chunk:
            self._seal(bytes(self._buffer[:chunk]), final=False)
            del self._buffer[:chunk]

    def _seal(self, plaintext: bytes, *, final: bool) -> None:
        nonce = _nonce(self._index, final)
        self._sink.append(final, self._cipher.encrypt(nonce, plaintext, self.spool_id.encode() + nonce))
        self._index += 1

    def commit(self) -> SpoolEntry:
        """Seal the last chunk, store it durably and publish the entry."""
        if self._done:
            raise SpoolError("commit after commit/abort")
        self._done = True
        try:
            self._seal(bytes(self._buffer), final=True)
        except BaseException:
            self.spool._forget_writer(self, self._sink)
            raise
        self._buffer.clear()
        return self.spool._commit(self, self._sink)

    def abort(self) -> None:
        """Discard the partial upload."""
        if self._done:
            return
        self._done = True
        self.spool._forget_writer(self, self._sink)


def _decrypt_records(
    records: Iterator[tuple[int, bytes]], cipher: AESGCM, spool_id: str, record_max: int
) -> Iterator[bytes]:
    index = 0
    for flag, sealed in records:
        if index < 0:
            raise SpoolIntegrityError(f"{spool_id}: data after the final chunk")
        if flag > 1 or len(sealed) > record_max:
            raise SpoolIntegrityError(f"{spool_id}: corrupt chunk header at chunk {index}")
        nonce = _nonce(index, flag == 1)
        try:
            plaintext = cipher.decrypt(nonce, sealed, spool_id.encode() + nonce)
        except InvalidTag:
            raise SpoolIntegrityError(f"{spool_id}: chunk {index} failed authentication") from None
        if plaintext:
            yield plaintext
        index = -1 if flag == 1 else index + 1
    if index >= 0:
        raise SpoolIntegrityError(f"{spool_id}: spool data truncated (no final chunk)")
