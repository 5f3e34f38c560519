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
from hub_server.domain import credentials, ledger, users
from hub_server.domain.accounts import Accounts
from hub_server.domain.auth import Authentication
from hub_server.domain.console import WEB, Console
from hub_server.domain.csv_import import CsvImport
from hub_server.domain.devices import Devices
from hub_server.domain.dirsync_store import DIRECTORY, SqlUserStore
from hub_server.domain.enrollment import Enrollment
from hub_server.domain.guest_pins import GUEST_PINS, GuestReleases
from hub_server.domain.jobs import HeldJobs, JobSharing, SqlJobRegistry
from hub_server.domain.kiosk import Kiosks
from hub_server.domain.pricing import Prices
from hub_server.domain.projects import Projects
from hub_server.domain.quotas import Quotas
from hub_server.domain.release import PrintJobs
from hub_server.domain.replicas import REPLICAS, load_or_create_replica_id
from hub_server.domain.report_schedules import ReportSchedules
from hub_server.domain.reports import Reports
from hub_server.domain.rules_store import RULES, JobRules
from hub_server.domain.scan_store import SCAN, Scans
from hub_server.domain.schema import CORE
from hub_server.domain.security import Hasher, SessionSigner, pin_lookup_key
from hub_server.domain.sessions import Sessions
from hub_server.domain.sites import SITES, Sites
from hub_server.domain.spool_store import SPOOL
from hub_server.domain.store import Store
from hub_server.domain.users import Users
from hub_server.domain.vouchers import Vouchers
from hub_server.errors import Refused
from hub_server.fleet import COMPONENT as FLEET
from hub_server.intake import Spool
from hub_server.pki import COMPONENT as PKI
from hub_server.pki import HubPki
from hub_server.storage import Component, Database, open_database

__all__ = [
    "COMPONENTS",
    "Hub",
    "check_books",
    "first_admin_token",
    "open_hub_database",
    "rename_user_offline",
]

# Every component of the hub that keeps tables, in the order their migrations run: the core
# first. A capability subpackage with tables of its own adds its component here.
COMPONENTS: Sequence[Component] = (
    CORE,
    PKI,
    WEB,
    SPOOL,
    REPLICAS,
    DIRECTORY,
    SCAN,
    SITES,
    FLEET,
    RULES,
    GUEST_PINS,
)
REPLICA_ID_FILE = "replica-id"


def open_hub_database(url: str) -> Database:
    """Open a hub database by URL, migrated to every component of this hub."""
    return open_database(url, COMPONENTS)


def rename_user_offline(url: str, old: str, new: str) -> None:
    """Rename a user in a database the hub cannot open yet (its usernames differ only in case,
    so the migration that makes them unique refuses): the database is not migrated first."""
    db = open_database(url)
    try:
        db.write_sync(lambda tx: users.rename_user(tx, old, new))
    finally:
        db.close()


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
    ``job_registry`` is where intake keeps them. With a ``pki`` (every hub that serves gRPC),
    ``enrollment`` makes enrollment tokens and revokes devices. ``directory`` syncs the
    ``[directory]`` sources (none: nothing to sync) and checks their users' passwords at login.
    ``scans`` is the scan intake's view of the hub (printers, profiles, who is at which printer,
    charges). ``rules`` are the job rules (created from the ``[print]`` settings at the first
    start that has them). ``guests`` issues guests' one-time release codes (e-mail printing).
    """

    def __init__(
        self,
        db: Database,
        config: HubConfig,
        clock: Clock,
        secret: bytes,
        spool: Spool | None = None,
        pki: HubPki | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        store = Store(db)
        self.rules = JobRules(store, clock, config.printing.unanalysed_pages)
        self.rules.seed_from(config.printing)
        self.job_registry = (
            SqlJobRegistry(store, config.site, self.rules, spool.shred)
            if spool is not None
            else SqlJobRegistry(store, config.site, self.rules)
        )
        self.sites = Sites(store, clock, config.site)
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
        counter = self.scans.record_scan_counter if config.scan_enabled else None
        self.sessions = Sessions(store, config, clock, signer, counter)
        self.guests = GuestReleases(store, clock, hasher)
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
        self.sharing = JobSharing(store, clock, keeps_printed=not config.printing.private)
        self.reports = Reports(store, config, clock)
        self.report_schedules = ReportSchedules(store, clock, config.timezone)
        self.console = Console(
            store,
            clock,
            hasher,
            self.auth.backoff,
            idle_s=config.web.session_idle_s,
            absolute_s=config.web.session_absolute_s,
        )
        self._printing = (
            PrintJobs(
                store,
                config,
                clock,
                spool,
                self.rules,
                replica_id=load_or_create_replica_id(config.data_dir / REPLICA_ID_FILE),
            )
            if spool is not None
            else None
        )
        self._enrollment = Enrollment(store, pki) if pki is not None else None

    @property
    def printing(self) -> PrintJobs:
        """Held-job release (:class:`Refused` while print intake is off)."""
        if self._printing is None:
            raise Refused("print release is not enabled on this hub ([print] ipp_listen / lpd_listen)")
        return self._printing

    @property
    def enrollment(self) -> Enrollment:
        """Enrollment tokens and device revocation (:class:`Refused` without a PKI)."""
        if self._enrollment is None:
            raise Refused("this hub runs without its PKI: no enrollment")
        return self._enrollment
