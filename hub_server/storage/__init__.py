"""Storage behind one interface: SQLite (the embedded default) and PostgreSQL (several hub
replicas on one database), under the same contract tests. Domain code writes SQL both engines
understand, with ``:name`` parameters."""

from hub_server.storage.base import Database, Row, Tx
from hub_server.storage.sqlite import SqliteDatabase

__all__ = ["Database", "Row", "SqliteDatabase", "Tx", "open_database"]


def open_database(url: str) -> Database:
    """Open a database by URL: ``sqlite:///path/to/hub.db`` or ``postgresql://user@host/dbname``."""
    if url.startswith("sqlite:///"):
        return SqliteDatabase(url.removeprefix("sqlite:///"))
    if url.startswith(("postgresql://", "postgres://")):
        from hub_server.storage.postgres import PostgresDatabase

        return PostgresDatabase(url)
    raise ValueError(f"unsupported database URL {url!r}: use sqlite:///PATH or postgresql://...")
