"""Storage behind one interface: SQLite (the embedded default) and PostgreSQL (several hub
replicas on one database), under the same contract tests. Callers write SQL both engines
understand, with ``:name`` parameters; each component's tables come from its own series of
migrations (:mod:`hub_server.storage.migrations`).

This package is the bottom layer of the hub: it imports nothing else of ``hub_server``.
"""

from collections.abc import Sequence

from hub_server.storage.base import Database, Row, Tx
from hub_server.storage.errors import (
    ConstraintFailed,
    DatabaseUnavailable,
    DuplicateKey,
    IntegrityError,
    MissingReference,
    SchemaError,
    StorageError,
)
from hub_server.storage.migrations import Component
from hub_server.storage.sqlite import SqliteDatabase

__all__ = [
    "Component",
    "ConstraintFailed",
    "Database",
    "DatabaseUnavailable",
    "DuplicateKey",
    "IntegrityError",
    "MissingReference",
    "Row",
    "SchemaError",
    "SqliteDatabase",
    "StorageError",
    "Tx",
    "open_database",
]


def open_database(url: str, components: Sequence[Component] = ()) -> Database:
    """Open a database by URL and migrate it to ``components``: ``sqlite:///path/to/hub.db`` or
    ``postgresql://user@host/dbname``."""
    if url.startswith("sqlite:///"):
        return SqliteDatabase(url.removeprefix("sqlite:///"), components)
    if url.startswith(("postgresql://", "postgres://")):
        from hub_server.storage.postgres import PostgresDatabase

        return PostgresDatabase(url, components)
    raise ValueError(f"unsupported database URL {url!r}: use sqlite:///PATH or postgresql://...")
