"""``DatabaseSpoolStore``: the intake spool's :class:`~hub_server.intake.SpoolStore` in the hub's
database, so every hub replica on one PostgreSQL database takes jobs in and releases them.

It holds only what the spool hands it: sealed records (AES-GCM ciphertext, one row per chunk of
at most the spool's chunk size), the job key wrapped with the hub key, and the entry's metadata.
Each record is its own short write transaction, so a job is streamed in and out a chunk at a
time and never held whole, and no transaction stays open while a client uploads.

A job becomes visible in one transaction: ``publish`` inserts the entry with its wrapped key and
deletes the upload's row in ``spool_uploads``. A replica killed mid-intake leaves only records
of an upload that never published — noise without a key, never an entry — and
:meth:`drop_uploads_idle_since` (run by the hub's sweep) deletes them. Shredding deletes the
entry (and with it the key) first, then the records.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict
from functools import partial

from hub_server.intake import SpoolEntry, SpoolJobNotFound
from hub_server.storage import Component, Database, Row, Tx

__all__ = ["SPOOL", "DatabaseSpoolStore"]

SPOOL = Component(
    "spool",
    [
        [
            """CREATE TABLE spool_uploads (
                spool_id TEXT PRIMARY KEY,
                chunk_bytes INTEGER NOT NULL,
                touched_s DOUBLE PRECISION NOT NULL
            )""",
            """CREATE TABLE spool_records (
                spool_id TEXT NOT NULL,
                number INTEGER NOT NULL,
                final INTEGER NOT NULL CHECK (final IN (0, 1)),
                sealed {blob} NOT NULL,
                PRIMARY KEY (spool_id, number)
            )""",
            """CREATE TABLE spool_entries (
                spool_id TEXT PRIMARY KEY,
                owner_key TEXT NOT NULL,
                queue TEXT NOT NULL,
                size_bytes BIGINT NOT NULL CHECK (size_bytes >= 0),
                created_at_s DOUBLE PRECISION NOT NULL,
                expires_at_s DOUBLE PRECISION NOT NULL,
                chunk_bytes INTEGER NOT NULL,
                wrapped_key {blob} NOT NULL
            )""",
            "CREATE INDEX spool_entries_owner ON spool_entries (owner_key)",
        ]
    ],
)

_ENTRY_COLUMNS = "spool_id, owner_key, queue, size_bytes, created_at_s, expires_at_s"


def _record(tx: Tx, spool_id: str, number: int) -> Row | None:
    return tx.one(
        "SELECT final, sealed FROM spool_records WHERE spool_id = :s AND number = :n",
        {"s": spool_id, "n": number},
    )


def _entry(row: Row) -> SpoolEntry:
    return SpoolEntry(
        spool_id=str(row["spool_id"]),
        owner_key=str(row["owner_key"]),
        queue=str(row["queue"]),
        size_bytes=int(row["size_bytes"]),
        created_at_s=float(row["created_at_s"]),
        expires_at_s=float(row["expires_at_s"]),
    )


class DatabaseSpoolStore:
    """Sealed jobs as rows of the hub's database; ``clock`` stamps uploads for the idle sweep."""

    def __init__(self, db: Database, clock: Callable[[], float]) -> None:
        self.db = db
        self.clock = clock

    def begin(self, spool_id: str, chunk_bytes: int) -> _RowSink:
        """Start an upload (invisible until published)."""
        return _RowSink(self, spool_id, chunk_bytes)

    def entries(self) -> list[SpoolEntry]:
        """Every published entry."""
        rows = self.db.read(lambda tx: tx.execute(f"SELECT {_ENTRY_COLUMNS} FROM spool_entries"))
        return [_entry(row) for row in rows]

    def entry(self, spool_id: str) -> SpoolEntry | None:
        """The published entry, or None."""
        row = self.db.read(
            lambda tx: tx.one(
                f"SELECT {_ENTRY_COLUMNS} FROM spool_entries WHERE spool_id = :s", {"s": spool_id}
            )
        )
        return None if row is None else _entry(row)

    def usage(self, owner_key: str | None) -> tuple[int, int]:
        """(bytes, jobs) published for ``owner_key`` or in total."""
        sql = "SELECT COALESCE(SUM(size_bytes), 0) AS b, COUNT(*) AS n FROM spool_entries"
        if owner_key is not None:
            sql += " WHERE owner_key = :o"
        row = self.db.read(lambda tx: tx.one(sql, {"o": owner_key}))
        assert row is not None
        return int(row["b"]), int(row["n"])

    def wrapped_key(self, spool_id: str) -> bytes | None:
        """The wrapped key of a published job."""
        key = self.db.read(
            lambda tx: tx.scalar("SELECT wrapped_key FROM spool_entries WHERE spool_id = :s", {"s": spool_id})
        )
        return None if key is None else bytes(key)

    def records(self, spool_id: str) -> tuple[int, Iterator[tuple[int, bytes]]]:
        """The chunk size and the records, fetched one row per read."""
        chunk_bytes = self.db.read(
            lambda tx: tx.scalar("SELECT chunk_bytes FROM spool_entries WHERE spool_id = :s", {"s": spool_id})
        )
        if chunk_bytes is None:
            raise SpoolJobNotFound(spool_id)
        return int(chunk_bytes), self._rows(spool_id)

    def _rows(self, spool_id: str) -> Iterator[tuple[int, bytes]]:
        number = 0
        while (row := self.db.read(partial(_record, spool_id=spool_id, number=number))) is not None:
            yield int(row["final"]), bytes(row["sealed"])
            number += 1

    def delete(self, spool_id: str) -> SpoolEntry | None:
        """Delete the entry with its key, then the records, in one transaction."""

        def delete(tx: Tx) -> SpoolEntry | None:
            row = tx.one(
                f"DELETE FROM spool_entries WHERE spool_id = :s RETURNING {_ENTRY_COLUMNS}", {"s": spool_id}
            )
            tx.execute("DELETE FROM spool_records WHERE spool_id = :s", {"s": spool_id})
            tx.execute("DELETE FROM spool_uploads WHERE spool_id = :s", {"s": spool_id})
            return None if row is None else _entry(row)

        return self.db.write_sync(delete)

    def drop_uploads_idle_since(self, cutoff_s: float) -> int:
        """Delete uploads (and their records) not written to since ``cutoff_s``."""

        def drop(tx: Tx) -> int:
            rows = tx.execute(
                "DELETE FROM spool_uploads WHERE touched_s < :c RETURNING spool_id", {"c": cutoff_s}
            )
            for row in rows:
                tx.execute("DELETE FROM spool_records WHERE spool_id = :s", {"s": row["spool_id"]})
            return len(rows)

        return self.db.write_sync(drop)


class _RowSink:
    """One upload: a ``spool_uploads`` row while it lasts, its records as they come."""

    def __init__(self, store: DatabaseSpoolStore, spool_id: str, chunk_bytes: int) -> None:
        self._store = store
        self._spool_id = spool_id
        self._chunk_bytes = chunk_bytes
        self._number = 0
        store.db.write_sync(
            lambda tx: tx.execute(
                "INSERT INTO spool_uploads (spool_id, chunk_bytes, touched_s) VALUES (:s, :c, :t)",
                {"s": spool_id, "c": chunk_bytes, "t": store.clock()},
            )
        )

    def append(self, final: bool, sealed: bytes) -> None:
        params = {
            "s": self._spool_id,
            "n": self._number,
            "f": int(final),
            "d": sealed,
            "t": self._store.clock(),
        }

        def append(tx: Tx) -> None:
            tx.execute(
                "INSERT INTO spool_records (spool_id, number, final, sealed) VALUES (:s, :n, :f, :d)", params
            )
            tx.execute("UPDATE spool_uploads SET touched_s = :t WHERE spool_id = :s", params)

        self._store.db.write_sync(append)
        self._number += 1

    def publish(self, entry: SpoolEntry, wrapped_key: bytes) -> None:
        def publish(tx: Tx) -> None:
            # An upload the idle sweep already dropped must not come back as a job without data.
            if (
                tx.one(
                    "DELETE FROM spool_uploads WHERE spool_id = :s RETURNING spool_id", {"s": entry.spool_id}
                )
                is None
            ):
                raise SpoolJobNotFound(entry.spool_id)
            tx.execute(
                f"INSERT INTO spool_entries ({_ENTRY_COLUMNS}, chunk_bytes, wrapped_key)"
                " VALUES (:spool_id, :owner_key, :queue, :size_bytes, :created_at_s, :expires_at_s, :c, :k)",
                {**asdict(entry), "c": self._chunk_bytes, "k": wrapped_key},
            )

        self._store.db.write_sync(publish)

    def discard(self) -> None:
        def discard(tx: Tx) -> None:
            tx.execute("DELETE FROM spool_uploads WHERE spool_id = :s", {"s": self._spool_id})
            tx.execute("DELETE FROM spool_records WHERE spool_id = :s", {"s": self._spool_id})

        self._store.db.write_sync(discard)
