"""What storage reports when the database refuses a statement, the same on every backend.

::

    StorageError
     ├── IntegrityError
     │    ├── DuplicateKey          a UNIQUE or PRIMARY KEY constraint
     │    ├── ConstraintFailed      a CHECK constraint
     │    └── MissingReference      a FOREIGN KEY constraint
     ├── SchemaError                migrations cannot bring the database to this code's schema
     └── DatabaseUnavailable        the connection was lost or no writable server answers

Storage knows nothing of the hub's error tree: the domain turns these into its own errors
(:mod:`hub_server.domain.store`).
"""

from __future__ import annotations

__all__ = [
    "ConstraintFailed",
    "DatabaseUnavailable",
    "DuplicateKey",
    "IntegrityError",
    "MissingReference",
    "SchemaError",
    "StorageError",
]


class StorageError(Exception):
    """Base of every error of this package."""


class IntegrityError(StorageError):
    """The database refused a statement because of a constraint."""


class DuplicateKey(IntegrityError):
    """A UNIQUE or PRIMARY KEY constraint failed."""


class ConstraintFailed(IntegrityError):
    """A CHECK constraint failed."""


class MissingReference(IntegrityError):
    """A FOREIGN KEY constraint failed."""


class SchemaError(StorageError, RuntimeError):
    """The database's schema cannot be brought to this code's: it is newer, or its record is broken."""


class DatabaseUnavailable(StorageError, ConnectionError):
    """No writable database server answered, or the connection broke mid-transaction (a server
    crashed or a standby is being promoted).

    Whether an interrupted write committed is unknown: callers repeat it with the same
    idempotency key, which applies it at most once. The next call connects afresh.
    """
