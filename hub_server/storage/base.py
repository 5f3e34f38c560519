"""The storage interface every backend implements.

A backend offers two kinds of transaction:

* :meth:`Database.read` runs a function on a consistent snapshot, in the calling thread.
* :meth:`Database.write` runs a function inside a serialised write transaction and returns only
  once that transaction is durable. Backends may commit several writes together (group commit);
  each write runs inside its own savepoint, so one failing write rolls back alone.

Write functions must be pure database work (no network, no sleeping): they may be re-run on a
fresh transaction by no one, and they hold the write lock while they run.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
Row = Mapping[str, Any]
Params = Mapping[str, Any]


class Tx(abc.ABC):
    """One transaction's view of the database."""

    @abc.abstractmethod
    def execute(self, sql: str, params: Params | None = None) -> Sequence[Row]:
        """Run one statement with ``:name`` parameters and return its rows (if any)."""

    def execute_many(self, sql: str, params: Sequence[Params]) -> None:
        """Run one statement without results once per parameter set (batched where the
        backend can: one call for thousands of rows instead of one each)."""
        for one_params in params:
            self.execute(sql, one_params)

    def one(self, sql: str, params: Params | None = None) -> Row | None:
        """The first row of a statement, or None."""
        rows = self.execute(sql, params)
        return rows[0] if rows else None

    def scalar(self, sql: str, params: Params | None = None) -> Any:
        """The first column of the first row, or None."""
        row = self.one(sql, params)
        return None if row is None else next(iter(row.values()))


class Database(abc.ABC):
    """A hub database."""

    dialect: str

    @abc.abstractmethod
    def read(self, fn: Callable[[Tx], T]) -> T:
        """Run ``fn`` on a consistent read snapshot in the calling thread."""

    @abc.abstractmethod
    async def write(self, fn: Callable[[Tx], T]) -> T:
        """Run ``fn`` in a write transaction; return its result once it is durable."""

    @abc.abstractmethod
    def write_sync(self, fn: Callable[[Tx], T]) -> T:
        """:meth:`write` for callers without an event loop (tools, tests, start-up)."""

    @abc.abstractmethod
    def close(self) -> None:
        """Finish pending writes and close every connection."""
