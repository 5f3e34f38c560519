"""The domain's front door: :class:`Hub` holds one domain object per capability, and the
services reach the domain only through them.

Each domain object's methods are use cases: a method checks its input, runs its transaction
through the :class:`~hub_server.domain.store.Store` (reads on a snapshot, writes durable before
they return) and answers with plain typed values. The SQL they run lives in the module of the
fact it is about (quota rules in :mod:`.quotas`, PINs in :mod:`.credentials` ...), as functions
that take a :class:`~hub_server.storage.Tx`, so one use case can join several facts in one
transaction. Services never see a transaction, a row or SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from card_numbers import ConversionChain
from hub_server.clock import Clock
from hub_server.config import HubConfig
from hub_server.dirsync import DirectoryPasswords, DirectorySync, load_directory_config
from hub_server.domain import credentials, ledger
from hub_server.domain.accounts import Accounts
from hub_server.domain.auth import Authentication
from hub_server.domain.csv_import import CsvImport
from hub_server.domain.devices import Devices
from hub_server.domain.dirsync_store import DIRECTORY, SqlUserStore
from hub_server.domain.jobs import HeldJobs, SqlJobRegistry
from hub_server.domain.kiosk import Kiosks
from hub_server.domain.pricing import Prices
from hub_server.domain.projects import Projects
from hub_server.domain.quotas import Quotas
from hub_server.domain.release import PrintJobs
from hub_server.domain.scan_store import SCAN, Scans
from hub_server.domain.schema import CORE
from hub_server.domain.security import Hasher, SessionSigner, pin_lookup_key
from hub_server.domain.sessions import Sessions
from hub_server.domain.store import Store
from hub_server.domain.users import Users
from hub_server.domain.vouchers import Vouchers
from hub_server.errors import Refused
from hub_server.intake import Spool
from hub_server.storage import Component, Database, open_database

__all__ = ["COMPONENTS", "Hub", "check_books", "first_admin_token", "open_hub_database"]

# Every component of the hub that keeps tables, in the order their migrations run: the core
# first. A capability subpackage with tables of its own adds its component here.
COMPONENTS: Sequence[Component] = (CORE, DIRECTORY, SCAN)


def open_hub_database(url: str) -> Database:
    """Open a hub database by URL, migrated to every component of this hub."""
    return open_database(url, COMPONENTS)


def check_books(db: Database) -> list[str]:
    """The ledger's invariants re-proved over the whole book: the problems found (none: empty)."""
    return Store(db).read(ledger.check_ledger)


def first_admin_token(db: Database, now_us: int) -> str | None:
    """A new admin token when the hub has none yet (its first start), else None."""
    store = Store(db)
    if store.read(credentials.admin_token_count):
        return None
    return store.write_sync(lambda tx: credentials.create_admin_token(tx, "first start", now_us))


class Hub:
    """One hub's domain over one database: a domain object per capability.

    With a ``spool`` (print intake runs), ``printing`` releases held jobs and
    ``job_registry`` is where intake keeps them. ``directory`` syncs the ``[directory]``
    sources (none: nothing to sync) and checks their users' passwords at login. ``scans`` is
    the scan intake's view of the hub (printers, profiles, who is at which printer, charges).
    """

    def __init__(
        self,
        db: Database,
        config: HubConfig,
        clock: Clock,
        secret: bytes,
        spool: Spool | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        store = Store(db)
        self.job_registry = SqlJobRegistry(store)
        hasher = Hasher(config.auth.argon2_time_cost, config.auth.argon2_memory_kib)
        signer = SessionSigner(secret)
        directory = load_directory_config(config.directory)
        directory_store = SqlUserStore(db, hasher.hash, partial(pin_lookup_key, secret))
        self.directory = DirectorySync(directory, directory_store, ConversionChain.parse, clock.now_us)
        passwords = DirectoryPasswords(directory, directory_store) if directory.sources else None
        self.scans = Scans(store, clock)
        # while the scan intake runs, a login records which printer the session is at
        presence = self.scans.record_presence if config.scan_enabled else None
        self.auth = Authentication(store, config, clock, secret, hasher, signer, passwords, presence)
        self.sessions = Sessions(store, config, clock, signer)
        self.users = Users(store, config, clock, hasher, secret)
        self.csv_import = CsvImport(store, clock)
        self.projects = Projects(store, clock)
        self.devices = Devices(store, clock)
        self.prices = Prices(store)
        self.accounts = Accounts(store, clock)
        self.quotas = Quotas(store)
        self.kiosks = Kiosks(store, config, clock)
        self.vouchers = Vouchers(store, config, clock, secret)
        self.jobs = HeldJobs(store, clock)
        self._printing = PrintJobs(store, config, clock, spool) if spool is not None else None

    @property
    def printing(self) -> PrintJobs:
        """Held-job release (:class:`Refused` while print intake is off)."""
        if self._printing is None:
            raise Refused("print release is not enabled on this hub ([print] ipp_listen / lpd_listen)")
        return self._printing
