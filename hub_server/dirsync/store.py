"""The narrow interface directory sync needs from the hub's user store, and the shapes it speaks.

:class:`UserStore` is everything the sync asks of the hub: the current users with their
directory links, one transaction that recomputes the plan on the state it reads and applies it,
the hub's own card-number and user-field rules, and the record of sync runs. ``SqlUserStore``
(``hub_server.domain.dirsync_store``) implements it over the hub's tables; nothing else here knows about them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from .model import DirectoryUser

T = TypeVar("T")


@dataclass(frozen=True)
class HubUser:
    """A hub user as the sync sees them (``source`` empty: not linked to any directory)."""

    user_id: int
    username: str
    full_name: str
    email: str
    department: str
    active: bool
    groups: frozenset[str]
    roles: frozenset[str]
    pin_lookup: str = ""
    source: str = ""
    stable_id: str = ""
    dn: str = ""


@dataclass(frozen=True)
class CardHolding:
    """Who holds a card number, and whether a sync of ``source`` linked it."""

    user_id: int
    synced_by: str  # source name, or "" for a card linked by hand or at a terminal


@dataclass
class HubState:
    """The part of the hub a sync compares with the directory, read in one snapshot."""

    users: dict[int, HubUser]
    cards: dict[str, CardHolding]
    group_kinds: dict[str, str]  # every group and department name -> "group" | "department"
    managed_groups: frozenset[str]  # groups a sync of this source owns the memberships of
    roles: frozenset[str]  # roles that exist


@dataclass
class UserPlan:
    """What one user needs: ``user_id`` None creates them from ``desired``."""

    user_id: int | None
    desired: DirectoryUser
    fields: dict[str, object] = field(default_factory=dict)  # username, full_name, email, department, active
    groups_add: set[str] = field(default_factory=set)
    groups_remove: set[str] = field(default_factory=set)
    roles_add: set[str] = field(default_factory=set)
    roles_remove: set[str] = field(default_factory=set)
    cards_add: set[str] = field(default_factory=set)
    cards_remove: set[str] = field(default_factory=set)
    link: bool = False  # write the directory link (new user, adopted user, moved DN)
    pin: tuple[str, str] | None = None  # (argon2 hash, lookup key) of a changed PIN

    @property
    def empty(self) -> bool:
        """True when nothing changes for this user."""
        return not (
            self.user_id is None
            or self.fields
            or self.groups_add
            or self.groups_remove
            or self.roles_add
            or self.roles_remove
            or self.cards_add
            or self.cards_remove
            or self.link
            or self.pin
        )


@dataclass
class Change:
    """One line of the diff a sync prints: ``action`` is create, update, rename, disable, enable,
    card-move, conflict or problem."""

    action: str
    username: str
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.action:<9} {self.username}" + (f": {self.detail}" if self.detail else "")


@dataclass
class Plan:
    """Everything one sync of a source does, in the order it is applied, and what it reports."""

    source: str
    users: list[UserPlan] = field(default_factory=list)
    groups: set[str] = field(default_factory=set)  # every group this source now manages
    changes: list[Change] = field(default_factory=list)
    active_linked: int = 0  # active hub users linked to this source before the sync
    directory_users: int = 0

    def count(self, action: str) -> int:
        """How many diff lines have this action."""
        return sum(1 for change in self.changes if change.action == action)

    @property
    def disables(self) -> int:
        """Active hub users this plan disables."""
        return self.count("disable")


@dataclass(frozen=True)
class RunRecord:
    """One sync run as ``status`` shows it."""

    source: str
    started_us: int
    finished_us: int
    outcome: str  # applied, dry-run, refused, failed
    dry_run: bool = False
    forced: bool = False
    server: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    message: str = ""


@dataclass(frozen=True)
class Link:
    """Which source a hub user comes from, for password checks."""

    user_id: int
    source: str
    stable_id: str
    active: bool


class UserStore(Protocol):
    """What directory sync needs from the hub."""

    def read_state(self, source: str) -> HubState:
        """The current users, cards and groups (one consistent snapshot)."""

    def apply(self, source: str, compute: Callable[[HubState], Plan], now_us: int) -> Plan:
        """In ONE write transaction: read the state, ``compute`` the plan on it, apply it.

        An exception from ``compute`` (a refusal) or from applying rolls everything back.
        """

    def check_user(self, user: DirectoryUser) -> str:
        """Why the hub would refuse this user's fields ("" when it accepts them)."""

    def normalise_card(self, number: str) -> str:
        """A card number in the hub's form; ValueError when the hub refuses it."""

    def pin_keys(self, pin: str) -> tuple[str, str] | None:
        """(argon2 hash, lookup key) of a PIN, or None when the hub cannot store PINs."""

    def pin_lookup(self, pin: str) -> str:
        """The lookup key of a PIN (cheap: compared before anything is hashed)."""

    def record_run(self, run: RunRecord) -> None:
        """Keep a run for ``status`` (in a transaction of its own)."""

    def runs(self, source: str, limit: int) -> list[RunRecord]:
        """The latest runs of a source, newest first."""

    def linked_counts(self, source: str) -> tuple[int, int]:
        """(active, disabled) hub users linked to ``source``."""

    def link_of(self, username: str) -> Link | None:
        """The directory link of a hub user by username (None: a local user or unknown)."""

    def claim_schedule(self, holder: str, now_us: int, lease_until_us: int, next_run_us: int) -> bool:
        """Take or renew the schedule lease (one hub process runs scheduled syncs): True when
        ``holder`` holds it until ``lease_until_us`` now; records when the next round is due."""

    def scheduled_run_us(self) -> int:
        """When the next scheduled round is due, as the lease holder recorded it (0: none)."""
