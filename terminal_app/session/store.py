"""The device's SQLite file, opened durably: what the journals and the offline cache live in.

WAL mode with ``synchronous=FULL``: a committed row survives a kill -9 or a power cut. Each user of
the file (the terminal's usage journal and offline cache, the kiosk's cash journal) creates its own
tables.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from terminal_app.errors import JournalError

__all__ = ["open_store"]


def open_store(path: Path) -> sqlite3.Connection:
    """Open (or create) a device's SQLite file with durable settings."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(path, isolation_level=None, timeout=5.0)
        connection.row_factory = sqlite3.Row
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")
    except (sqlite3.Error, OSError) as exc:
        raise JournalError(f"cannot open the store {path}: {exc}") from exc
    return connection
