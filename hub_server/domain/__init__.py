"""The hub's domain: users, cards, money, quotas, kiosks, vouchers, held print jobs.

It sits between storage (below) and the services (above): it imports storage, the hub's
errors, clock and configuration, and the interfaces of capability subpackages (``intake``); it
never imports the services, the server or gRPC. The services reach it only through
:class:`Hub` and its domain objects (:mod:`hub_server.domain.hub`).
"""

from hub_server.domain.hub import (
    COMPONENTS,
    Hub,
    check_books,
    first_admin_token,
    open_hub_database,
    rename_user_offline,
)
from hub_server.domain.spool_store import DatabaseSpoolStore

__all__ = [
    "COMPONENTS",
    "DatabaseSpoolStore",
    "Hub",
    "check_books",
    "first_admin_token",
    "open_hub_database",
    "rename_user_offline",
]
