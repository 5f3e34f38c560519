"""Storage fixtures: a bare database (no component's tables) on every backend, since storage
knows nothing of the hub that runs on it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hub_server.storage import Database, open_database


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = open_database(database_url)
    yield database
    database.close()
