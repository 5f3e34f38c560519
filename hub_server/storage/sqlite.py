"""The embedded SQLite backend: WAL, explicit ``BEGIN IMMEDIATE``, one writer thread with group commit.

Reads use one connection per thread and never wait for the writer (WAL). Writes queue to a single
writer thread that takes every waiting write, runs each in its own savepoint inside one
``BEGIN IMMEDIATE`` transaction, and commits once with ``synchronous=FULL`` before anyone is
answered: one fsync serves many charges, and nothing is acknowledged before it is on disk.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from hub_server.storage.base import Database, Params, Row, Tx
from hub_server.storage.errors import ConstraintFailed, DuplicateKey, IntegrityError, MissingReference
from hub_server.storage.migrations import Component, migrate
from hub_server.storage.private import private_file, tighten

T = TypeVar("T")
log = logging.getLogger(__name__)

MAX_WRITES_PER_COMMIT = 256
_STOP = object()


def _dict_rows(cursor: sqlite3.Cursor, values: tuple[Any, ...]) -> dict[str, Any]:
    return {column[0]: value for column, value in zip(cursor.description, values, strict=True)}


def _connect(path: str) -> sqlite3.Connection:
    # isolation_level=None: Python must not open transactions behind our back (a SELECT would
    # not start one, so a read-check-write would span two transactions).
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30.0)
    connection.row_factory = _dict_rows
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    connection.execute("PRAGMA foreign_keys=ON")
    connection.execute("PRAGMA busy_timeout=30000")
    return connection


class _SqliteTx(Tx):
    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def execute(self, sql: str, params: Params | None = None) -> Sequence[Row]:
        try:
            return self._connection.execute(sql, params or {}).fetchall()
        except sqlite3.IntegrityError as error:
            raise _integrity_error(error) from error

    def execute_many(self, sql: str, params: Sequence[Params]) -> None:
        try:
            self._connection.executemany(sql, params)
        except sqlite3.IntegrityError as error:
            raise _integrity_error(error) from error


def _integrity_error(error: sqlite3.IntegrityError) -> IntegrityError:
    message = str(error)
    if "UNIQUE" in message or "PRIMARY KEY" in message:
        return DuplicateKey(message)
    if "CHECK" in message:
        return ConstraintFailed(message)
    if "FOREIGN KEY" in message:
        return MissingReference(message)
    return IntegrityError(message)


def _make_private(path: Path) -> None:
    """The database file is created 0600 before SQLite opens it, so the ``-wal`` and ``-shm``
    files SQLite makes beside it get the same mode; an older, looser set is tightened."""
    private_file(path)
    for suffix in ("-wal", "-shm", "-journal"):
        tighten(path.with_name(path.name + suffix))


class SqliteDatabase(Database):
    """A database in one SQLite file, migrated to ``components`` when opened."""

    dialect = "sqlite"

    def __init__(self, path: str | Path, components: Sequence[Component] = ()) -> None:
        self.path = str(path)
        _make_private(Path(self.path))
        self._local = threading.local()
        self._write_connection = _connect(self.path)
        try:
            migrate(_SqliteTx(self._write_connection), self.dialect, components, self._begin, self._commit)
        except BaseException:
            self._write_connection.close()
            raise
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._writer = threading.Thread(target=self._write_loop, name="sqlite-writer", daemon=True)
        self._writer.start()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()

    def _begin(self) -> None:
        self._write_connection.execute("BEGIN IMMEDIATE")

    def _commit(self) -> None:
        self._write_connection.execute("COMMIT")

    def _reader(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = _connect(self.path)
            self._local.connection = connection
            with self._readers_lock:
                self._readers.append(connection)
        return connection

    def read(self, fn: Callable[[Tx], T]) -> T:
        """Run ``fn`` on a consistent snapshot (one deferred read transaction)."""
        connection = self._reader()
        connection.execute("BEGIN")
        try:
            return fn(_SqliteTx(connection))
        finally:
            connection.execute("COMMIT")

    async def write(self, fn: Callable[[Tx], T]) -> T:
        """Queue ``fn`` for the writer thread; return its result once committed."""
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._queue.put((fn, future))
        return await asyncio.wrap_future(future)

    def write_sync(self, fn: Callable[[Tx], T]) -> T:
        """Queue ``fn`` for the writer thread and block until committed."""
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._queue.put((fn, future))
        return future.result()

    def _write_loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            batch = [first]
            while len(batch) < MAX_WRITES_PER_COMMIT:
                try:
                    job = self._queue.get_nowait()
                except queue.Empty:
                    break
                if job is _STOP:
                    self._queue.put(_STOP)
                    break
                batch.append(job)
            self._commit_batch(batch)

    def _commit_batch(self, batch: list[tuple[Callable[[Tx], Any], concurrent.futures.Future[Any]]]) -> None:
        connection = self._write_connection
        tx = _SqliteTx(connection)
        outcomes: list[tuple[concurrent.futures.Future[Any], Any, BaseException | None]] = []
        # A caller that gave up (cancelled) before its write started is dropped: it was never
        # acknowledged, and a retry with the same key will apply it. From here on the futures
        # cannot be cancelled, so setting their results below cannot fail.
        batch = [(fn, future) for fn, future in batch if future.set_running_or_notify_cancel()]
        if not batch:
            return
        try:
            self._begin()
            for fn, future in batch:
                connection.execute("SAVEPOINT write_job")
                try:
                    result = fn(tx)
                except BaseException as error:  # one failing write must not fail its neighbours
                    connection.execute("ROLLBACK TO write_job")
                    connection.execute("RELEASE write_job")
                    outcomes.append((future, None, error))
                else:
                    connection.execute("RELEASE write_job")
                    outcomes.append((future, result, None))
            self._commit()
        except BaseException as error:
            log.exception("write transaction failed; %d writes rolled back", len(batch))
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            outcomes = [(future, None, error) for _, future in batch]
        for future, result, failure in outcomes:
            if failure is None:
                future.set_result(result)
            else:
                future.set_exception(failure)

    def close(self) -> None:
        """Finish queued writes, stop the writer and close every connection."""
        if self._writer.is_alive():
            self._queue.put(_STOP)
            self._writer.join()
        self._write_connection.close()
        with self._readers_lock:
            for connection in self._readers:
                connection.close()
            self._readers.clear()
