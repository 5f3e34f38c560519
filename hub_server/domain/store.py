"""The domain's one door to storage.

Every domain object reads and writes through a :class:`Store`: the transaction functions of the
domain modules run inside it, and what storage refuses comes out as the hub's own errors
(``DuplicateKey`` -> :class:`AlreadyExists`, ``ConstraintFailed`` -> :class:`InvariantViolation`,
``MissingReference`` -> :class:`InvalidRequest`, ``DatabaseUnavailable`` -> :class:`Unavailable`), so
the services above never see storage.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from hub_server.errors import AlreadyExists, HubError, InvalidRequest, InvariantViolation, Unavailable
from hub_server.storage import (
    ConstraintFailed,
    Database,
    DatabaseUnavailable,
    DuplicateKey,
    IntegrityError,
    StorageError,
    Tx,
)

__all__ = ["Store", "hub_error"]

T = TypeVar("T")


def hub_error(error: StorageError) -> HubError:
    """The hub's error for a constraint the database enforced, or for a database out of reach."""
    if isinstance(error, DatabaseUnavailable):
        return Unavailable(str(error))
    if isinstance(error, DuplicateKey):
        return AlreadyExists(str(error))
    if isinstance(error, ConstraintFailed):
        return InvariantViolation(str(error))
    return InvalidRequest(str(error))


class Store:
    """Reads and writes of the domain over one :class:`~hub_server.storage.Database`."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def read(self, fn: Callable[[Tx], T]) -> T:
        """Run ``fn`` on a consistent snapshot."""
        try:
            return self.db.read(fn)
        except (IntegrityError, DatabaseUnavailable) as error:
            raise hub_error(error) from error

    async def write(self, fn: Callable[[Tx], T]) -> T:
        """Run ``fn`` in a write transaction; return once it is durable."""
        try:
            return await self.db.write(fn)
        except (IntegrityError, DatabaseUnavailable) as error:
            raise hub_error(error) from error

    def write_sync(self, fn: Callable[[Tx], T]) -> T:
        """:meth:`write` for callers without an event loop (start-up, the intake registry)."""
        try:
            return self.db.write_sync(fn)
        except (IntegrityError, DatabaseUnavailable) as error:
            raise hub_error(error) from error
