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

Non-goals: this module knows nothing about users or IPP; ``owner_key`` is an opaque string
used only for per-user limits. It is not safe to share one ``Spool`` between processes.

File layout in ``directory``: ``<id>.part`` while writing, then ``<id>.data`` (header
``PGSPOOL1`` + u32 chunk size, then records ``flag:u8 length:u32 ciphertext``),
``<id>.key`` (wrapped key) and ``<id>.meta`` (JSON: owner, queue, size, times).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import struct
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

from .errors import SpoolError, SpoolIntegrityError, SpoolJobNotFound, SpoolLimitExceeded

__all__ = ["QueuePolicy", "Spool", "SpoolEntry", "SpoolLimits", "SpoolWriter"]

log = logging.getLogger(__name__)

_MAGIC = b"PGSPOOL1"
_HEADER = struct.Struct(">8sI")
_RECORD = struct.Struct(">BI")
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
    """A committed spool entry (metadata only; the data stays encrypted on disk)."""

    spool_id: str
    owner_key: str
    queue: str
    size_bytes: int
    created_at_s: float
    expires_at_s: float


def _nonce(index: int, final: bool) -> bytes:
    return struct.pack(">QI", index, 1 if final else 0)


class Spool:
    """A directory of encrypted, individually keyed jobs."""

    def __init__(
        self,
        directory: Path | str,
        hub_key: bytes,
        *,
        limits: SpoolLimits | None = None,
        queues: Mapping[str, QueuePolicy] | None = None,
        chunk_bytes: int = 256 * 1024,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if len(hub_key) not in (16, 24, 32):
            raise ValueError("hub_key must be 16, 24 or 32 bytes")
        self.directory = Path(directory)
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.limits = limits or SpoolLimits()
        self.queues = dict(queues or {})
        self.chunk_bytes = chunk_bytes
        self.clock = clock
        self._hub_key = hub_key
        self._entries: dict[str, SpoolEntry] = {}
        self._pending: dict[str, SpoolWriter] = {}
        # Running (bytes, jobs) per owner and in total, so limit checks are O(1)
        # per chunk even with tens of thousands of held jobs.
        self._usage: dict[str, list[int]] = {_TOTAL: [0, 0]}
        self._load()

    # ------------------------------------------------------------------ bookkeeping
    def _path(self, spool_id: str, suffix: str) -> Path:
        return self.directory / f"{spool_id}.{suffix}"

    def _load(self) -> None:
        """Index committed entries; drop half-written or keyless leftovers of a crash."""
        for part in self.directory.glob("*.part"):
            part.unlink(missing_ok=True)
        for meta_path in self.directory.glob("*.meta"):
            spool_id = meta_path.stem
            if not self._path(spool_id, "key").exists():
                self._remove_files(spool_id)
                continue
            entry = SpoolEntry(**json.loads(meta_path.read_text()))
            self._entries[entry.spool_id] = entry
            self._account(entry.owner_key, entry.size_bytes, 1)

    def policy(self, queue: str) -> QueuePolicy:
        """The policy of ``queue`` (the default policy for queues not configured)."""
        return self.queues.get(queue) or QueuePolicy(name=queue)

    def _account(self, owner_key: str, size_bytes: int, jobs: int) -> None:
        for key in (owner_key, _TOTAL):
            usage = self._usage.setdefault(key, [0, 0])
            usage[0] += size_bytes
            usage[1] += jobs

    def usage(self, owner_key: str | None = None) -> tuple[int, int]:
        """(bytes, jobs) held for ``owner_key`` (or in total), counting uploads in progress."""
        size_bytes, jobs = self._usage.get(_TOTAL if owner_key is None else owner_key, (0, 0))
        return size_bytes, jobs

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
        return list(self._entries.values())

    def entry(self, spool_id: str) -> SpoolEntry:
        """The committed entry ``spool_id``; ``SpoolJobNotFound`` if absent or shredded."""
        try:
            return self._entries[spool_id]
        except KeyError:
            raise SpoolJobNotFound(spool_id) from None

    # ------------------------------------------------------------------ writing
    def open_writer(self, owner_key: str, queue: str = "default") -> SpoolWriter:
        """Start a new job; refused at once if the job-count limits are reached."""
        self.check_room(owner_key, 0, extra_jobs=1)
        writer = SpoolWriter(self, secrets.token_hex(16), owner_key, queue)
        self._pending[writer.spool_id] = writer
        self._account(owner_key, 0, 1)
        return writer

    def _commit(self, writer: SpoolWriter) -> SpoolEntry:
        now = self.clock()
        entry = SpoolEntry(
            writer.spool_id,
            writer.owner_key,
            writer.queue,
            writer.size_bytes,
            now,
            now + self.policy(writer.queue).expiry_s,
        )
        _write_file(self._path(entry.spool_id, "key"), aes_key_wrap(self._hub_key, writer.job_key))
        _write_file(self._path(entry.spool_id, "meta"), json.dumps(asdict(entry)).encode())
        os.replace(self._path(entry.spool_id, "part"), self._path(entry.spool_id, "data"))
        self._pending.pop(entry.spool_id, None)
        self._entries[entry.spool_id] = entry
        return entry

    def _forget_writer(self, writer: SpoolWriter) -> None:
        if self._pending.pop(writer.spool_id, None) is not None:
            self._account(writer.owner_key, -writer.size_bytes, -1)
        self._path(writer.spool_id, "part").unlink(missing_ok=True)

    # ------------------------------------------------------------------ reading
    def _job_key(self, spool_id: str) -> bytes:
        self.entry(spool_id)
        try:
            return aes_key_unwrap(self._hub_key, self._path(spool_id, "key").read_bytes())
        except FileNotFoundError:
            raise SpoolJobNotFound(spool_id) from None
        except InvalidUnwrap:
            raise SpoolIntegrityError(f"{spool_id}: job key does not unwrap with this hub key") from None

    def open_reader(self, spool_id: str) -> Iterator[bytes]:
        """Yield the plaintext of ``spool_id`` chunk by chunk, authenticating each one.

        Raises ``SpoolIntegrityError`` (possibly after some chunks were yielded) if the
        data was altered or cut short; callers must not act on a partial document.
        """
        cipher = AESGCM(self._job_key(spool_id))
        with open(self._path(spool_id, "data"), "rb") as stream:
            magic, chunk_bytes = _HEADER.unpack(_read_exact(stream, _HEADER.size, spool_id))
            if magic != _MAGIC:
                raise SpoolIntegrityError(f"{spool_id}: not a spool file")
            yield from _decrypt_records(stream, cipher, spool_id, chunk_bytes + _TAG_BYTES)

    # ------------------------------------------------------------------ deleting
    def _remove_files(self, spool_id: str) -> None:
        # The key goes first: after that the data is unreadable even if the rest fails.
        for suffix in ("key", "meta", "data", "part"):
            self._path(spool_id, suffix).unlink(missing_ok=True)

    def shred(self, spool_id: str) -> bool:
        """Destroy the job key and the data; True if the entry existed."""
        entry = self._entries.pop(spool_id, None)
        self._remove_files(spool_id)
        if entry is None:
            return False
        self._account(entry.owner_key, -entry.size_bytes, -1)
        log.info("spool: shredded %s", spool_id)
        return True

    def release_done(self, spool_id: str) -> bool:
        """Call after a job printed: shreds it if its queue is private. True if shredded."""
        entry = self._entries.get(spool_id)
        if entry is None or not self.policy(entry.queue).private:
            return False
        return self.shred(spool_id)

    def expire(self, now_s: float | None = None) -> list[str]:
        """Shred every entry past its expiry; returns the shredded ids."""
        now_s = self.clock() if now_s is None else now_s
        expired = [e.spool_id for e in self._entries.values() if e.expires_at_s <= now_s]
        for spool_id in expired:
            self.shred(spool_id)
        return expired


class SpoolWriter:
    """Streams one job into the spool. Use as a context manager: leaving it without
    ``commit`` (an exception, a dropped client) deletes the partial file."""

    def __init__(self, spool: Spool, spool_id: str, owner_key: str, queue: str) -> None:
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
        self._file = open(spool._path(spool_id, "part"), "wb")  # noqa: SIM115 - closed in commit/abort
        os.chmod(self._file.name, 0o600)
        self._file.write(_HEADER.pack(_MAGIC, spool.chunk_bytes))

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
        sealed = self._cipher.encrypt(nonce, plaintext, self.spool_id.encode() + nonce)
        self._file.write(_RECORD.pack(1 if final else 0, len(sealed)))
        self._file.write(sealed)
        self._index += 1

    def commit(self) -> SpoolEntry:
        """Seal the last chunk, flush to disk and publish the entry."""
        if self._done:
            raise SpoolError("commit after commit/abort")
        self._seal(bytes(self._buffer), final=True)
        self._buffer.clear()
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        self._done = True
        return self.spool._commit(self)

    def abort(self) -> None:
        """Discard the partial upload."""
        if self._done:
            return
        self._done = True
        self._file.close()
        self.spool._forget_writer(self)


def _write_file(path: Path, data: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as stream:
        stream.write(data)


def _read_exact(stream: BinaryIO, count: int, spool_id: str) -> bytes:
    data: bytes = stream.read(count)
    if len(data) != count:
        raise SpoolIntegrityError(f"{spool_id}: spool data truncated")
    return data


def _decrypt_records(stream: BinaryIO, cipher: AESGCM, spool_id: str, record_max: int) -> Iterator[bytes]:
    index = 0
    while True:
        header = stream.read(_RECORD.size)
        if not header:
            raise SpoolIntegrityError(f"{spool_id}: spool data truncated (no final chunk)")
        if len(header) != _RECORD.size:
            raise SpoolIntegrityError(f"{spool_id}: spool data truncated")
        flag, length = _RECORD.unpack(header)
        if flag > 1 or length > record_max:
            raise SpoolIntegrityError(f"{spool_id}: corrupt chunk header at chunk {index}")
        nonce = _nonce(index, flag == 1)
        sealed = _read_exact(stream, length, spool_id)
        try:
            plaintext = cipher.decrypt(nonce, sealed, spool_id.encode() + nonce)
        except InvalidTag:
            raise SpoolIntegrityError(f"{spool_id}: chunk {index} failed authentication") from None
        if plaintext:
            yield plaintext
        if flag == 1:
            if stream.read(1):
                raise SpoolIntegrityError(f"{spool_id}: data after the final chunk")
            return
        index += 1
