"""Issue 19, finding 4: the hub's database was world-readable.

``hub.db``, ``-wal`` and ``-shm`` were created 0644 in a 0755 data directory, though they hold
password and PIN hashes, key hashes, the ledger and job names. Now, with the usual umask 022, a
fresh hub leaves its data directory 0700 and every file in it 0600 (the spool included), and a
hub started on an older, looser data directory tightens it.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from hub_server.clock import FakeClock
from hub_server.config import PrintConfig
from hub_server.domain.hub import REPLICA_ID_FILE
from hub_server.server import ADMIN_TOKEN_FILE, HUB_CA_FILE, SECRET_FILE, SPOOL_DIR, start_hub
from tests.hub_server.conftest import HubClients, admin_channel_of, hub_config

pytestmark = pytest.mark.asyncio

PRIVATE_FILES = ["hub.db", "hub.db-wal", "hub.db-shm", SECRET_FILE, ADMIN_TOKEN_FILE, REPLICA_ID_FILE]


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    """The umask most services run with: without care, files come out 0644."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def modes(data_dir: Path) -> dict[str, int]:
    """The mode of the data directory ("."), of every file and directory in it."""
    found = {".": mode(data_dir)}
    for path in sorted(data_dir.rglob("*")):
        found[str(path.relative_to(data_dir))] = mode(path)
    return found


def pki_mode(path: Path) -> int:
    if path.is_dir():
        return 0o700
    return 0o644 if path.suffix in (".crt", ".pem") else 0o600


async def run_hub_once(data_dir: Path, username: str) -> None:
    """Start a hub with print intake on, create ``username`` (a write: the WAL is there),
    check every mode while it runs, stop it."""
    config = replace(hub_config(data_dir), printing=PrintConfig(ipp_listen="127.0.0.1:0"))
    clock = FakeClock()
    running = await start_hub(config, clock)
    channel = admin_channel_of(running)
    try:
        token = (data_dir / ADMIN_TOKEN_FILE).read_text().strip()
        clients = HubClients(running=running, channel=channel, admin_token=token, clock=clock)
        await clients.create_user(username, initial_password="correct horse", credit_cents=100)
        assert {path.name for path in data_dir.iterdir()} >= {*PRIVATE_FILES, SPOOL_DIR}
        spool = [path for path in (data_dir / SPOOL_DIR).rglob("*")]
        pki = [data_dir / "pki", *(data_dir / "pki").rglob("*")]
        assert modes(data_dir) == {
            ".": 0o700,
            **{name: 0o600 for name in PRIVATE_FILES},
            SPOOL_DIR: 0o700,
            **{str(path.relative_to(data_dir)): 0o700 if path.is_dir() else 0o600 for path in spool},
            # certificates are public (devices and admins pin the CA); keys and state are not
            HUB_CA_FILE: 0o644,
            **{str(path.relative_to(data_dir)): pki_mode(path) for path in pki},
        }
    finally:
        await channel.close()
        await running.stop(0)


async def test_a_fresh_hub_keeps_its_files_to_itself(tmp_path: Path) -> None:
    await run_hub_once(tmp_path / "hub", "alice")


async def test_an_older_looser_data_directory_is_tightened(tmp_path: Path) -> None:
    data_dir = tmp_path / "hub"
    await run_hub_once(data_dir, "alice")
    for path in [data_dir, *data_dir.rglob("*")]:  # as a hub before the fix left them
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    assert mode(data_dir / "hub.db") == 0o644
    await run_hub_once(data_dir, "bob")
