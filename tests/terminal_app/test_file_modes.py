"""Issue 19, finding 4 at the devices: the terminal's and the kiosk's SQLite files (cached PIN
hashes and card numbers, usage and cash journals) and the terminal's cache key are 0600 (with
their ``-wal`` and ``-shm``) in a 0700 data directory, under the usual umask 022; files an older
version left readable by others are tightened when opened."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from terminal_app.kiosk.journal import CashJournal
from terminal_app.session.store import open_store
from terminal_app.terminal.offline_cache import load_or_create_key


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def modes(directory: Path) -> dict[str, int]:
    found = {".": stat.S_IMODE(directory.stat().st_mode)}
    for path in sorted(directory.iterdir()):
        found[path.name] = stat.S_IMODE(path.stat().st_mode)
    return found


def test_the_terminal_store_and_key_are_private(tmp_path: Path) -> None:
    data_dir = tmp_path / "data" / "terminal"
    store = open_store(data_dir / "terminal.db")
    store.execute("CREATE TABLE usage (pages INTEGER)")
    store.execute("INSERT INTO usage VALUES (3)")
    load_or_create_key(data_dir / "cache.key")
    try:
        assert modes(data_dir) == {
            ".": 0o700,
            "cache.key": 0o600,
            "terminal.db": 0o600,
            "terminal.db-shm": 0o600,
            "terminal.db-wal": 0o600,
        }
    finally:
        store.close()


def test_the_kiosk_journal_is_private(tmp_path: Path) -> None:
    journal = CashJournal.open(tmp_path / "kiosk" / "kiosk.db")
    try:
        assert modes(tmp_path / "kiosk") == {
            ".": 0o700,
            "kiosk.db": 0o600,
            "kiosk.db-shm": 0o600,
            "kiosk.db-wal": 0o600,
        }
    finally:
        journal.close()


def test_files_an_older_version_left_readable_are_tightened(tmp_path: Path) -> None:
    store = open_store(tmp_path / "terminal.db")
    store.execute("CREATE TABLE usage (pages INTEGER)")
    key = load_or_create_key(tmp_path / "cache.key")
    for path in tmp_path.iterdir():
        os.chmod(path, 0o644)
    assert load_or_create_key(tmp_path / "cache.key") == key
    again = open_store(tmp_path / "terminal.db")
    try:
        assert {name: mode for name, mode in modes(tmp_path).items() if name != "."} == {
            "cache.key": 0o600,
            "terminal.db": 0o600,
            "terminal.db-shm": 0o600,
            "terminal.db-wal": 0o600,
        }
    finally:
        again.close()
        store.close()
