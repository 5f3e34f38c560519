"""The device's SQLite file, opened durably: what the journals and the offline cache live in.

WAL mode with ``synchronous=FULL``: a committed row survives a kill -9 or a power cut. Each user of
the file (the terminal's usage journal and offline cache, the kiosk's cash journal) creates its own
tables.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

from terminal_app.errors import JournalError

__all__ = ["make_private", "open_store"]


def make_private(path: Path) -> None:
    """Create ``path`` empty (mode 0600, in a 0700 directory when that is new) unless it exists;
    take group and other permissions off it and off the SQLite files beside it. SQLite gives
    the ``-wal`` and ``-shm`` files the database file's mode, so they are 0600 too."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    for file in (path, *(path.with_name(path.name + suffix) for suffix in ("-wal", "-shm", "-journal"))):
        if file.exists() and stat.S_IMODE(file.stat().st_mode) & 0o077:
            os.chmod(file, 0o600)


def open_store(path: Path) -> sqlite3.Connection:
    """Open (or create, mode 0600) a device's SQLite file with durable settings: it holds
    cached users' PIN hashes, card numbers and the money journals."""
    try:
        make_private(path)
        connection = sqlite3.connect(path, isolation_level=None, timeout=5.0)
        connection.row_factory = sqlite3.Row
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")
    except (sqlite3.Error, OSError) as exc:
        raise JournalError(f"cannot open the store {path}: {exc}") from exc
    return connection
