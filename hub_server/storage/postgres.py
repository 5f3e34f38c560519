"""The PostgreSQL backend, for sites that outgrow one machine: several stateless hub replicas
share one database.

Every write runs in its own transaction on one of a few writer connections (PostgreSQL batches
the fsyncs of concurrent commits itself). Correctness rests on the same conditional
``UPDATE … RETURNING`` statements as on SQLite: under READ COMMITTED a second updater of the same
row waits, then re-evaluates the ``WHERE`` on the new row, so a balance can never be overdrawn.
A deadlock or serialization failure is retried a few times before it is reported.
Reads use one REPEATABLE READ, read-only transaction per call for a consistent snapshot.

The URL may list several servers (``postgresql://h1:5432,h2:5432/hub``), a primary and its
streaming-replication standbys: libpq tries them in turn and settles only on a writable one
(``target_session_attrs=read-write``), so after a standby is promoted the next connection finds
it. A connection that breaks is dropped and :class:`DatabaseUnavailable` reported; the next call
connects afresh. A read is repeated once on a fresh connection (it changes nothing); a write is
not, since whether it committed is unknown — its caller repeats it with the same idempotency key.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import re
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import psycopg
from psycopg import errors as pg_errors
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import dict_row

from hub_server.storage.base import Database, Params, Row, Tx
from hub_server.storage.errors import (
    ConstraintFailed,
    DatabaseUnavailable,
    DuplicateKey,
    IntegrityError,
    MissingReference,
)
from hub_server.storage.migrations import Component, migrate

T = TypeVar("T")
WRITER_CONNECTIONS = 4
RETRIES = 5
CONNECT_TIMEOUT_S = 5
# A server machine that dies sends nothing: TCP keepalives and a user timeout notice the silence
# within seconds instead of the kernel's two hours, so a failover is seen while it matters.
_CONNECTION_DEFAULTS = {
    "connect_timeout": str(CONNECT_TIMEOUT_S),
    "target_session_attrs": "read-write",
    "keepalives_idle": "5",
    "keepalives_interval": "2",
    "keepalives_count": "3",
    "tcp_user_timeout": "10000",
}
# A broken or closed connection, a server shutting down, or a server that became read-only
# (a demoted primary): the connection is of no more use.
_CONNECTION_LOST = (psycopg.OperationalError, psycopg.InterfaceError, pg_errors.ReadOnlySqlTransaction)
_PARAMETER = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


def connection_info(url: str) -> str:
    """libpq's connection string for ``url``: bounded waits, and only a writable server, unless the
    URL says otherwise."""
    return make_conninfo("", **{**_CONNECTION_DEFAULTS, **conninfo_to_dict(url)})


def _to_pyformat(sql: str) -> str:
    """``:name`` parameters (SQLite style) to ``%(name)s`` (psycopg style)."""
    return _PARAMETER.sub(r"%(\1)s", sql.replace("%", "%%"))


_INTEGRITY_ERRORS = (pg_errors.UniqueViolation, pg_errors.CheckViolation, pg_errors.ForeignKeyViolation)


class _PostgresTx(Tx):
    def __init__(self, connection: psycopg.Connection[dict[str, Any]]) -> None:
        self._connection = connection

    def execute(self, sql: str, params: Params | None = None) -> Sequence[Row]:
        try:
            cursor = self._connection.execute(_to_pyformat(sql), dict(params or {}))
        except _INTEGRITY_ERRORS as error:
            raise _integrity_error(error) from error
        return _fetch(cursor)

    def execute_many(self, sql: str, params: Sequence[Params]) -> None:
        try:
            with self._connection.cursor() as cursor:  # psycopg pipelines the parameter sets
                cursor.executemany(_to_pyformat(sql), [dict(one) for one in params])
        except _INTEGRITY_ERRORS as error:
            raise _integrity_error(error) from error


def _fetch(cursor: psycopg.Cursor[dict[str, Any]]) -> list[dict[str, Any]]:
    if cursor.description is None:
        return []
    rows = cursor.fetchall()
    # BYTEA comes back as memoryview; the domain expects bytes as SQLite gives them.
    return [{k: bytes(v) if isinstance(v, memoryview) else v for k, v in row.items()} for row in rows]


def _run(connection: psycopg.Connection[dict[str, Any]], statement: str) -> None:
    connection.execute(statement)


def _integrity_error(error: Exception) -> IntegrityError:
    message = str(error).splitlines()[0]
    if isinstance(error, pg_errors.UniqueViolation):
        return DuplicateKey(message)
    if isinstance(error, pg_errors.CheckViolation):
        return ConstraintFailed(message)
    return MissingReference(message)


class PostgresDatabase(Database):
    """A database in PostgreSQL (``postgresql://user@host:port/dbname``), migrated to
    ``components`` when opened."""

    dialect = "postgresql"

    def __init__(
        self, url: str, components: Sequence[Component] = (), writer_connections: int = WRITER_CONNECTIONS
    ) -> None:
        self.url = url
        self._conninfo = connection_info(url)
        self._local = threading.local()
        self._connections: list[psycopg.Connection[dict[str, Any]]] = []
        self._lock = threading.Lock()
        setup = self._connect()
        # Migrations must not race between replicas starting together.
        setup.execute("SELECT pg_advisory_lock(7243901)")
        try:
            migrate(
                _PostgresTx(setup),
                self.dialect,
                components,
                lambda: _run(setup, "BEGIN"),
                lambda: _run(setup, "COMMIT"),
            )
        except BaseException:
            self._close_connections()
            raise
        setup.execute("SELECT pg_advisory_unlock(7243901)")
        self._writers = concurrent.futures.ThreadPoolExecutor(
            max_workers=writer_connections, thread_name_prefix="pg-writer"
        )

    def _connect(self) -> psycopg.Connection[dict[str, Any]]:
        try:
            connection = psycopg.connect(self._conninfo, row_factory=dict_row, autocommit=True)
        except psycopg.OperationalError as error:
            raise DatabaseUnavailable(f"no writable PostgreSQL server answers: {error}") from error
        with self._lock:
            self._connections.append(connection)
        return connection

    def _drop(self, connection: psycopg.Connection[dict[str, Any]]) -> None:
        """Forget a connection that broke; this thread's next call connects afresh."""
        connection.close()
        with self._lock:
            if connection in self._connections:
                self._connections.remove(connection)
        if getattr(self._local, "connection", None) is connection:
            self._local.connection = None

    def _thread_connection(self) -> psycopg.Connection[dict[str, Any]]:
        connection: psycopg.Connection[dict[str, Any]] | None = getattr(self._local, "connection", None)
        if connection is None or connection.closed:
            connection = self._connect()
            self._local.connection = connection
        return connection

    def read(self, fn: Callable[[Tx], T]) -> T:
        """Run ``fn`` on a consistent read-only snapshot."""
        try:
            return self._read_once(fn)
        except DatabaseUnavailable:
            return self._read_once(fn)

    def _read_once(self, fn: Callable[[Tx], T]) -> T:
        connection = self._thread_connection()
        try:
            with connection.transaction():
                connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                return fn(_PostgresTx(connection))
        except _CONNECTION_LOST as error:
            self._drop(connection)
            raise DatabaseUnavailable(f"the database connection was lost: {error}") from error

    def _write_now(self, fn: Callable[[Tx], T]) -> T:
        connection = self._thread_connection()
        for attempt in range(RETRIES):
            try:
                with connection.transaction():
                    return fn(_PostgresTx(connection))
            except (pg_errors.DeadlockDetected, pg_errors.SerializationFailure):
                if attempt == RETRIES - 1:
                    raise
                time.sleep(0.005 * (attempt + 1))
            except _CONNECTION_LOST as error:
                self._drop(connection)
                raise DatabaseUnavailable(
                    f"the database connection was lost during a write (it may have committed): {error}"
                ) from error
        raise AssertionError("unreachable")

    async def write(self, fn: Callable[[Tx], T]) -> T:
        """Run ``fn`` in its own transaction on a writer connection; return once committed."""
        return await asyncio.wrap_future(self._writers.submit(self._write_now, fn))

    def write_sync(self, fn: Callable[[Tx], T]) -> T:
        """:meth:`write` for callers without an event loop."""
        return self._writers.submit(self._write_now, fn).result()

    def close(self) -> None:
        """Finish queued writes and close every connection."""
        self._writers.shutdown(wait=True)
        self._close_connections()

    def _close_connections(self) -> None:
        with self._lock:
            for connection in self._connections:
                connection.close()
            self._connections.clear()
