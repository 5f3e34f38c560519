"""Directory sync: users, groups and card numbers from LDAP / Active Directory, and directory passwords.

This subpackage imports nothing else of ``hub_server`` except in :mod:`.sqlstore`, the one
module that implements its :class:`~.store.UserStore` over the hub's tables. The hub plugs in:

* configuration: :func:`~.config.load_directory_config` on the ``[directory]`` table;
* storage: ``SqlUserStore(db, hash_pin, pin_lookup_key)`` (creates its own tables idempotently);
* :class:`~.sync.DirectorySync` (test, dry run, sync, status) with the readers' chain parser;
* :class:`~.scheduler.SyncScheduler` for scheduled runs;
* :class:`~.service.DirectoryServicer` (gRPC, ``printgate/v1/directory.proto``);
* :class:`~.passwords.DirectoryPasswords` behind the hub's password lockout;
* :mod:`.commands` for ``printgate admin directory test | sync | status``.

docs/directory.md describes the behaviour and the settings.
"""

from __future__ import annotations

from .config import DirectoryConfig, SourceConfig, load_directory_config
from .errors import (
    DirectoryBindRefused,
    DirectoryConfigError,
    DirectoryError,
    DirectorySearchError,
    DirectoryTlsError,
    DirectoryUnavailable,
    SyncRefused,
    UnknownSource,
)
from .passwords import DirectoryPasswords, Verdict
from .scheduler import SyncScheduler
from .sqlstore import SqlUserStore
from .store import UserStore
from .sync import DirectorySync, SyncResult

__all__ = [
    "DirectoryBindRefused",
    "DirectoryConfig",
    "DirectoryConfigError",
    "DirectoryError",
    "DirectoryPasswords",
    "DirectorySearchError",
    "DirectorySync",
    "DirectoryTlsError",
    "DirectoryUnavailable",
    "SourceConfig",
    "SqlUserStore",
    "SyncRefused",
    "SyncResult",
    "SyncScheduler",
    "UnknownSource",
    "UserStore",
    "Verdict",
    "load_directory_config",
]
