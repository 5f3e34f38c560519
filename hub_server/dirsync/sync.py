"""Running a sync: read a source, plan against the hub, then show (dry run) or apply in one transaction.

The directory is read first, outside any database transaction (network I/O never holds the
hub's write lock). The plan is then computed twice: on a read snapshot for a dry run, and again
inside the write transaction for the real run, so what is applied is decided on exactly the
state it changes (an admin's edit in between is not overwritten blindly). A refusal or any
error rolls the whole run back; every run, whatever its outcome, is recorded for ``status``.

Card numbers go through the source's conversion chain (the readers' chain syntax; the parser is
handed in, see :data:`ChainParser`), then through the hub's own normalisation.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from .config import DirectoryConfig, SourceConfig
from .connection import ServerInfo, connect_service
from .diff import DiffPolicy, compute_plan, guard, summary
from .errors import DirectoryConfigError, DirectoryError, SyncRefused
from .model import CardNumber, DirectoryRead, Problem
from .reader import EntryCache, read_source
from .store import Change, HubState, Plan, RunRecord, UserStore

# Chain text -> a converter (``str -> str``, ValueError on a value it cannot convert). The
# readers' ConversionChain.parse is one; the hub process is handed it (see docs/directory.md).
ChainParser = Callable[[str], Callable[[str], str]]
RUNS_SHOWN = 5
log = logging.getLogger(__name__)


def _now_us() -> int:
    return time.time_ns() // 1000


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector during a run (not reference counting).

    A run allocates millions of small long-lived objects (entries, the hub state, the plan); each
    automatic full collection would scan all of them again, which made a 100,000-user run about
    twice as slow. Cycles made meanwhile are collected once the last run in progress ends.
    """
    with _PAUSE_LOCK:
        global _PAUSED
        if _PAUSED == 0:
            gc.disable()
        _PAUSED += 1
    try:
        yield
    finally:
        with _PAUSE_LOCK:
            _PAUSED -= 1
            if _PAUSED == 0:
                gc.enable()


_PAUSE_LOCK = threading.Lock()
_PAUSED = 0


@dataclass
class SyncResult:
    """What a run did (or, dry, would do)."""

    source: str
    outcome: str  # applied, dry-run, refused, failed
    plan: Plan | None = None
    server: str = ""
    message: str = ""
    would_refuse: str = ""  # dry run: the refusal the real run would meet without force
    read_s: float = 0.0  # time spent reading the directory

    @property
    def changes(self) -> list[Change]:
        """The diff lines (empty when the run stopped before planning)."""
        return self.plan.changes if self.plan else []

    @property
    def counts(self) -> dict[str, int]:
        """Diff lines per action."""
        return summary(self.plan) if self.plan else {}


@dataclass
class SourceStatus:
    """``status`` of one source."""

    source: str
    servers: tuple[str, ...]
    active_users: int
    disabled_users: int
    runs: list[RunRecord] = field(default_factory=list)
    next_run_us: int = 0


@dataclass
class TestReport:
    """``test`` of one source: which server answered, what it is, how many users and groups match."""

    source: str
    ok: bool
    server: ServerInfo | None = None
    users: int = 0
    groups: int = 0
    nested_mode: str = ""
    message: str = ""


class DirectorySync:
    """Sync and test every configured source against one :class:`UserStore`."""

    def __init__(
        self,
        config: DirectoryConfig,
        store: UserStore,
        chain_parser: ChainParser | None = None,
        clock_us: Callable[[], int] = _now_us,
    ) -> None:
        self.config = config
        self.store = store
        self.clock_us = clock_us
        self._card_numbers = {s.name: self._card_number(s, chain_parser) for s in config.sources}
        self._entry_cache = {s.name: EntryCache() for s in config.sources}
        self._running: set[str] = set()
        self._lock = threading.Lock()

    def _card_number(self, source: SourceConfig, chain_parser: ChainParser | None) -> CardNumber:
        if not source.card_conversion:
            return self.store.normalise_card
        if chain_parser is None:
            raise DirectoryConfigError(
                f"source {source.name!r}: card_conversion is set but this hub was given no chain parser"
            )
        try:
            chain = chain_parser(source.card_conversion)
        except ValueError as error:
            raise DirectoryConfigError(f"source {source.name!r}: card_conversion: {error}") from None
        return lambda raw: self.store.normalise_card(chain(raw))

    def _policy(self, source: SourceConfig) -> DiffPolicy:
        return DiffPolicy(
            source=source.name,
            adopt_local_users=source.adopt_local_users,
            managed_roles=frozenset(source.role_map.values()),
            max_disable_percent=self.config.max_disable_percent,
        )

    # -- reading ---------------------------------------------------------------------------

    def read(self, name: str) -> DirectoryRead:
        """Read one source (users the hub would refuse become problems)."""
        source = self.config.source(name)
        connection = connect_service(source)
        try:
            read = read_source(connection, source, self._card_numbers[name], self._entry_cache[name])
        finally:
            connection.close()
        usable = []
        for user in read.users:
            reason = self.store.check_user(user)
            if reason:
                read.problems.append(Problem(user.dn, f"{reason}; entry not used", user.stable_id))
            else:
                usable.append(user)
        read.users = usable
        return read

    def test(self, name: str) -> TestReport:
        """Connect, bind and count: everything a sync needs, without planning anything."""
        source = self.config.source(name)
        try:
            connection = connect_service(source)
        except DirectoryError as error:
            return TestReport(name, ok=False, message=str(error))
        try:
            read = read_source(connection, source, self._card_numbers[name])
            return TestReport(
                name,
                ok=True,
                server=connection.info,
                users=len(read.users) + len(read.problems),
                groups=read.groups_read,
                nested_mode=read.nested_mode,
                message=f"{len(read.problems)} entries unusable" if read.problems else "",
            )
        except DirectoryError as error:
            return TestReport(name, ok=False, server=connection.info, message=str(error))
        finally:
            connection.close()

    # -- syncing ---------------------------------------------------------------------------

    def _pin_keys(self, read: DirectoryRead, state: HubState) -> dict[str, tuple[str, str]]:
        """Hash only PINs that differ from what the hub has (argon2 is slow on purpose)."""
        current = {u.stable_id: u.pin_lookup for u in state.users.values() if u.source == read.source}
        keys: dict[str, tuple[str, str]] = {}
        for user in read.users:
            if (
                user.pin
                and user.pin not in keys
                and self.store.pin_lookup(user.pin) != current.get(user.stable_id)
            ):
                found = self.store.pin_keys(user.pin)
                if found:
                    keys[user.pin] = found
        return keys

    def sync(self, name: str, *, dry_run: bool = False, force: bool = False) -> SyncResult:
        """Read ``name`` and show (``dry_run``) or apply the plan; record the run.

        Raises :class:`SyncRefused` and the connection/search errors after recording them.
        """
        source = self.config.source(name)
        with self._lock:
            if name in self._running:
                raise DirectoryError(f"a sync of source {name!r} is already running")
            self._running.add(name)
        started_us = self.clock_us()
        result = SyncResult(name, "failed")
        try:
            with _collector_paused():
                return self._run(source, result, started_us, dry_run, force)
        except SyncRefused as refusal:
            result.outcome, result.message = "refused", str(refusal)
            raise
        except Exception as error:  # recorded for status, then the caller sees it unchanged
            result.message = (
                str(error) if isinstance(error, DirectoryError) else f"{type(error).__name__}: {error}"
            )
            raise
        finally:
            with self._lock:
                self._running.discard(name)
            self._record(result, started_us, dry_run, force)

    def _run(
        self, source: SourceConfig, result: SyncResult, started_us: int, dry_run: bool, force: bool
    ) -> SyncResult:
        name = source.name
        read = self.read(name)
        result.server = read.server
        result.read_s = (self.clock_us() - started_us) / 1e6
        policy = self._policy(source)
        # the real run plans on the state inside its transaction; a snapshot is read here only
        # for a dry run, or to hash changed PINs before the write lock is taken
        state = self.store.read_state(name) if dry_run or source.attributes.pin else None
        pins = self._pin_keys(read, state) if state is not None else {}
        if dry_run:
            assert state is not None
            result.plan = compute_plan(state, read, policy, pins)
            result.outcome = "dry-run"
            try:
                guard(result.plan, policy, force)
            except SyncRefused as refusal:
                result.would_refuse = str(refusal)
            return result

        def compute(current: HubState) -> Plan:
            plan = compute_plan(current, read, policy, pins)
            guard(plan, policy, force)
            return plan

        result.plan = self.store.apply(name, compute, self.clock_us())
        result.outcome = "applied"
        log.info(
            "directory sync of %s: read %d users in %.1f s, applied in %.1f s: %s",
            name,
            len(read.users),
            result.read_s,
            (self.clock_us() - started_us) / 1e6 - result.read_s,
            result.counts,
        )
        return result

    def _record(self, result: SyncResult, started_us: int, dry_run: bool, force: bool) -> None:
        self.store.record_run(
            RunRecord(
                source=result.source,
                started_us=started_us,
                finished_us=self.clock_us(),
                outcome=result.outcome,
                dry_run=dry_run,
                forced=force,
                server=result.server,
                counts=result.counts,
                message=result.message or result.would_refuse,
            )
        )

    def status(self) -> list[SourceStatus]:
        """Every source: linked users, the latest runs and the next scheduled round (whichever
        hub process runs the schedule: it is recorded with the lease)."""
        statuses = []
        next_run_us = self.store.scheduled_run_us() if self.config.sync_interval_s else 0
        for source in self.config.sources:
            active, disabled = self.store.linked_counts(source.name)
            statuses.append(
                SourceStatus(
                    source=source.name,
                    servers=source.servers,
                    active_users=active,
                    disabled_users=disabled,
                    runs=self.store.runs(source.name, RUNS_SHOWN),
                    next_run_us=next_run_us,
                )
            )
        return statuses
