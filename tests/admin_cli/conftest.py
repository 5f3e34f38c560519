"""The admin CLI is driven against a real hub on every storage backend: the hub's fixtures."""

from tests.hub_server.conftest import database_url, hub

__all__ = ["database_url", "hub"]
