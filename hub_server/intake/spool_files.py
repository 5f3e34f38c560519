"""The spool's local-directory store: the embedded default, for one hub process.

Layout: ``<id>.part`` while writing, then ``<id>.data`` (header ``PGSPOOL1`` + u32 chunk size,
then records ``flag:u8 length:u32 ciphertext``), ``<id>.key`` (wrapped key) and ``<id>.meta``
(JSON: owner, queue, size, times). Publishing writes key and meta, fsyncs the data and renames
``.part`` to ``.data``; on opening, ``.part`` leftovers and entries without a key are removed.
Published entries are indexed in memory, so this store must not be shared between processes.
"""

from __future__ import annotations

import json
import os
import struct
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import BinaryIO

from .errors import SpoolIntegrityError, SpoolJobNotFound
from .spool import SpoolEntry

__all__ = ["DirectorySpoolStore"]

_MAGIC = b"PGSPOOL1"
_HEADER = struct.Struct(">8sI")
_RECORD = struct.Struct(">BI")
_TAG_BYTES = 16
_TOTAL = "\x00total"


class DirectorySpoolStore:
    """Sealed jobs as files in ``directory`` (created with mode 0700)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._entries: dict[str, SpoolEntry] = {}
        # Running (bytes, jobs) per owner and in total: O(1) limit checks with many held jobs.
        self._usage: dict[str, list[int]] = {_TOTAL: [0, 0]}
        self._load()

    def path(self, spool_id: str, suffix: str) -> Path:
        """The file of ``spool_id`` with ``suffix`` (data, key, meta or part)."""
        return self.directory / f"{spool_id}.{suffix}"

    def _load(self) -> None:
        """Index published entries; drop half-written or keyless leftovers of a crash."""
        for part in self.directory.glob("*.part"):
            part.unlink(missing_ok=True)
        for meta_path in self.directory.glob("*.meta"):
            spool_id = meta_path.stem
            if not self.path(spool_id, "key").exists():
                self._remove_files(spool_id)
                continue
            self._add(SpoolEntry(**json.loads(meta_path.read_text())))

    def _add(self, entry: SpoolEntry) -> None:
        self._entries[entry.spool_id] = entry
        self._account(entry, 1)

    def _account(self, entry: SpoolEntry, sign: int) -> None:
        for key in (entry.owner_key, _TOTAL):
            usage = self._usage.setdefault(key, [0, 0])
            usage[0] += sign * entry.size_bytes
            usage[1] += sign

    def begin(self, spool_id: str, chunk_bytes: int) -> _FileSink:
        """Start ``<id>.part``."""
        return _FileSink(self, spool_id, chunk_bytes)

    def entries(self) -> list[SpoolEntry]:
        """Every published entry."""
        return list(self._entries.values())

    def entry(self, spool_id: str) -> SpoolEntry | None:
        """The published entry, or None."""
        return self._entries.get(spool_id)

    def usage(self, owner_key: str | None) -> tuple[int, int]:
        """(bytes, jobs) published for ``owner_key`` or in total."""
        size_bytes, jobs = self._usage.get(_TOTAL if owner_key is None else owner_key, (0, 0))
        return size_bytes, jobs

    def wrapped_key(self, spool_id: str) -> bytes | None:
        """The ``.key`` file of a published job."""
        if spool_id not in self._entries:
            return None
        try:
            return self.path(spool_id, "key").read_bytes()
        except FileNotFoundError:
            return None

    def records(self, spool_id: str) -> tuple[int, Iterator[tuple[int, bytes]]]:
        """The chunk size from the header, and the records read one at a time."""
        try:
            stream = open(self.path(spool_id, "data"), "rb")  # noqa: SIM115 - closed by the generator
        except FileNotFoundError:
            raise SpoolJobNotFound(spool_id) from None
        try:
            magic, chunk_bytes = _HEADER.unpack(_read_exact(stream, _HEADER.size, spool_id))
        except BaseException:
            stream.close()
            raise
        if magic != _MAGIC:
            stream.close()
            raise SpoolIntegrityError(f"{spool_id}: not a spool file")
        return chunk_bytes, _read_records(stream, spool_id, chunk_bytes + _TAG_BYTES)

    def delete(self, spool_id: str) -> SpoolEntry | None:
        """Remove key, meta and data (the key first)."""
        entry = self._entries.pop(spool_id, None)
        self._remove_files(spool_id)
        if entry is not None:
            self._account(entry, -1)
        return entry

    def drop_uploads_idle_since(self, cutoff_s: float) -> int:
        """Remove ``.part`` files last written before ``cutoff_s``."""
        dropped = 0
        for part in self.directory.glob("*.part"):
            try:
                if part.stat().st_mtime < cutoff_s:
                    part.unlink()
                    dropped += 1
            except FileNotFoundError:
                continue
        return dropped

    def _remove_files(self, spool_id: str) -> None:
        # The key goes first: after that the data is unreadable even if the rest fails.
        for suffix in ("key", "meta", "data", "part"):
            self.path(spool_id, suffix).unlink(missing_ok=True)


class _FileSink:
    """``<id>.part``, renamed to ``<id>.data`` when published."""

    def __init__(self, store: DirectorySpoolStore, spool_id: str, chunk_bytes: int) -> None:
        self._store = store
        self._spool_id = spool_id
        self._file = open(store.path(spool_id, "part"), "wb")  # noqa: SIM115 - closed in publish/discard
        os.chmod(self._file.name, 0o600)
        self._file.write(_HEADER.pack(_MAGIC, chunk_bytes))

    def append(self, final: bool, sealed: bytes) -> None:
        self._file.write(_RECORD.pack(1 if final else 0, len(sealed)))
        self._file.write(sealed)

    def publish(self, entry: SpoolEntry, wrapped_key: bytes) -> None:
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        store, spool_id = self._store, self._spool_id
        _write_file(store.path(spool_id, "key"), wrapped_key)
        _write_file(store.path(spool_id, "meta"), json.dumps(asdict(entry)).encode())
        os.replace(store.path(spool_id, "part"), store.path(spool_id, "data"))
        store._add(entry)

    def discard(self) -> None:
        self._file.close()
        self._store.path(self._spool_id, "part").unlink(missing_ok=True)


def _write_file(path: Path, data: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as stream:
        stream.write(data)


def _read_exact(stream: BinaryIO, count: int, spool_id: str) -> bytes:
    data: bytes = stream.read(count)
    if len(data) != count:
        raise SpoolIntegrityError(f"{spool_id}: spool data truncated")
    return data


def _read_records(stream: BinaryIO, spool_id: str, record_max: int) -> Iterator[tuple[int, bytes]]:
    with stream:
        index = 0
        while header := stream.read(_RECORD.size):
            if len(header) != _RECORD.size:
                raise SpoolIntegrityError(f"{spool_id}: spool data truncated")
            flag, length = _RECORD.unpack(header)
            if length > record_max:  # bounded before it is read: a corrupt length allocates nothing
                raise SpoolIntegrityError(f"{spool_id}: corrupt chunk header at chunk {index}")
            yield flag, _read_exact(stream, length, spool_id)
            index += 1
