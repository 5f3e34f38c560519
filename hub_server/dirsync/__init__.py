"""Directory sync: users, groups and card numbers from LDAP / Active Directory, and directory passwords.

This subpackage imports nothing else of ``hub_server``; its :class:`~.store.UserStore` is
implemented over the hub's tables by ``hub_server.domain.dirsync_store``. The hub plugs in:

* configuration: :func:`~.config.load_directory_config` on the ``[directory]`` table;
* storage: ``hub_server.domain.dirsync_store.SqlUserStore(db, hash_pin, pin_lookup_key)``
  over the hub's tables and the ``directory`` migration component;
* :class:`~.sync.DirectorySync` (test, dry run, sync, status) with the card-number chain parser
  (``card_numbers.ConversionChain.parse``, the readers' own);
* :class:`~.scheduler.SyncScheduler` for scheduled runs (one process of the site, by a lease);
* :class:`~.service.DirectoryServicer` (gRPC, ``printgate/v1/directory.proto``) on the admin
  listener, with the admin check; ``printgate admin directory ...`` is its client (``admin_cli``);
* :class:`~.passwords.DirectoryPasswords` behind the hub's password lockout.

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
from .model import DirectoryUser
from .passwords import DirectoryPasswords, Verdict
from .scheduler import SyncScheduler
from .service import DirectoryServicer
from .store import CardHolding, HubState, HubUser, Link, Plan, RunRecord, UserPlan, UserStore
from .sync import DirectorySync, SyncResult

__all__ = [
    "CardHolding",
    "DirectoryBindRefused",
    "DirectoryConfig",
    "DirectoryConfigError",
    "DirectoryError",
    "DirectoryPasswords",
    "DirectorySearchError",
    "DirectoryServicer",
    "DirectorySync",
    "DirectoryTlsError",
    "DirectoryUnavailable",
    "DirectoryUser",
    "HubState",
    "HubUser",
    "Link",
    "Plan",
    "RunRecord",
    "SourceConfig",
    "SyncRefused",
    "SyncResult",
    "SyncScheduler",
    "UnknownSource",
    "UserPlan",
    "UserStore",
    "Verdict",
    "load_directory_config",
]
