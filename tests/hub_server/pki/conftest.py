"""PKI fixtures: a clock at the real time (TLS stacks check certificates against it) that tests
can move, and a SQLite database for the tests about TLS rather than storage."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub_server.clock import FakeClock
from hub_server.pki import COMPONENT as PKI
from hub_server.storage import Database, open_database


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(now_us=time.time_ns() // 1000)


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    database = open_database(f"sqlite:///{tmp_path / 'hub.db'}", [PKI])
    yield database
    database.close()
