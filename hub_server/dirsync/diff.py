"""The plan of a sync: what the directory says compared with what the hub has. Pure: no I/O.

Rules (the module docstring of :mod:`hub_server.dirsync` explains why):

* A directory user is found in the hub by its stable id (objectGUID / entryUUID) in this
  source's links, never by name: a renamed user keeps account and history.
* A user gone from the directory is disabled, never deleted; one that comes back is enabled.
  An entry the reader could not use (a :class:`Problem` with its id) leaves its user untouched.
* A username the hub already gives to someone else (another source, a local user, a former
  directory user) is a conflict: reported, not reused, nobody renamed or merged.
* A card is moved only from a user of the same source whose directory entry no longer has it;
  a card held by a local user, by another source or named by two directory users is a conflict.
* Only memberships in groups this source manages, and roles named in ``role_map``, change.
* A plan disabling more than ``max_disable_percent`` of the source's active users (or all of
  them) is refused unless forced.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from .errors import SyncRefused
from .model import DirectoryRead, DirectoryUser
from .store import Change, HubState, HubUser, Plan, UserPlan

DEFAULT_ROLE = "user"


@dataclass(frozen=True)
class DiffPolicy:
    """The source settings the plan depends on."""

    source: str
    adopt_local_users: bool = False
    managed_roles: frozenset[str] = frozenset()
    max_disable_percent: float = 10.0


def _conflict(plan: Plan, username: str, detail: str) -> None:
    plan.changes.append(Change("conflict", username, detail))


class _Planner:
    def __init__(
        self, state: HubState, read: DirectoryRead, policy: DiffPolicy, pin_keys: dict[str, tuple[str, str]]
    ) -> None:
        self.state = state
        self.read = read
        self.policy = policy
        self.pin_keys = pin_keys
        self.plan = Plan(source=policy.source, directory_users=len(read.users))
        self.linked = {u.stable_id: u for u in state.users.values() if u.source == policy.source}
        self.by_name = {u.username.lower(): u for u in state.users.values()}
        self.by_id = state.users
        self.user_plans: dict[str, UserPlan] = {}  # stable id -> plan (also for unchanged users)
        self.held_ids = {p.stable_id for p in read.problems if p.stable_id}
        self.pins_taken = {u.pin_lookup: u.user_id for u in state.users.values() if u.pin_lookup}
        self.gone_ids: set[str] = set()
        # users with nothing to change but (maybe) their cards: promoted to user_plans if so
        self.unchanged: dict[str, UserPlan] = {}

    # -- users ------------------------------------------------------------------------------

    def run(self) -> Plan:
        plan = self.plan
        plan.active_linked = sum(1 for u in self.linked.values() if u.active)
        for problem in self.read.problems:
            plan.changes.append(Change("problem", problem.dn, problem.message))
        plan.changes.extend(Change("warning", self.read.source, w) for w in self.read.warnings)
        groups = self._usable_groups()
        for user in sorted(self.read.users, key=lambda u: u.username.lower()):
            self._user(user, groups)
        self._disable_missing()
        self._cards()
        self._pins()
        plan.users = [p for p in self.user_plans.values() if not p.empty]
        plan.groups = groups
        return plan

    def _usable_groups(self) -> set[str]:
        names = {g for user in self.read.users for g in user.groups} | set(self.state.managed_groups)
        usable = set()
        for name in sorted(names):
            if self.state.group_kinds.get(name, "group") != "group":
                _conflict(
                    self.plan,
                    name,
                    "is a department on the hub; the directory group of that name is not applied",
                )
            else:
                usable.add(name)
        return usable

    def _user(self, user: DirectoryUser, groups: set[str]) -> None:
        current = self.linked.get(user.stable_id)
        holder = self.by_name.get(user.username.lower())
        if current is None and holder is not None:
            if self.policy.adopt_local_users and not holder.source:
                current = holder
                self.user_plans[user.stable_id] = UserPlan(holder.user_id, user, link=True)
                self.plan.changes.append(Change("adopt", holder.username, f"linked to {user.dn}"))
            else:
                _conflict(
                    self.plan,
                    user.username,
                    f"{user.dn}: the username belongs to {self._who(holder)}; not created",
                )
                return
        if current is not None and holder is not None and holder.user_id != current.user_id:
            _conflict(
                self.plan,
                current.username,
                f"renamed to {user.username!r} in the directory, but that username belongs to "
                f"{self._who(holder)}; "
                "not renamed",
            )
            user = _with_username(user, current.username)
        desired = self._desired(user, groups)
        if current is None:
            self._create(desired)
        else:
            self._update(current, desired)

    def _who(self, holder: HubUser) -> str:
        if not holder.source:
            return f"hub user {holder.username!r} (not from a directory)"
        if holder.source != self.policy.source:
            return f"{holder.username!r} of directory source {holder.source!r}"
        return f"{holder.username!r}, another entry of this directory ({holder.stable_id})"

    def _desired(self, user: DirectoryUser, groups: set[str]) -> DirectoryUser:
        department_ok = (
            not user.department or self.state.group_kinds.get(user.department, "department") == "department"
        )
        if department_ok and self.state.roles.issuperset(user.roles) and groups.issuperset(user.groups):
            return user  # the usual case: nothing to take away
        roles = tuple(r for r in user.roles if r in self.state.roles)
        for missing in sorted(set(user.roles) - set(roles)):
            _conflict(
                self.plan, user.username, f"role {missing!r} (role_map) does not exist on the hub; not given"
            )
        department = user.department
        if department and self.state.group_kinds.get(department, "department") != "department":
            _conflict(
                self.plan,
                user.username,
                f"department {department!r} is a group on the hub; department not set",
            )
            department = ""
        return DirectoryUser(
            stable_id=user.stable_id,
            dn=user.dn,
            username=user.username,
            full_name=user.full_name,
            email=user.email,
            department=department,
            cards=user.cards,
            pin=user.pin,
            enabled=user.enabled,
            groups=tuple(g for g in user.groups if g in groups),
            roles=roles,
        )

    def _create(self, user: DirectoryUser) -> None:
        roles = set(user.roles) or {DEFAULT_ROLE}
        self.user_plans[user.stable_id] = UserPlan(
            None, user, groups_add=set(user.groups), roles_add=roles, link=True
        )
        state = "" if user.enabled else " (disabled in the directory)"
        detail = f"{user.full_name or '-'}{state}; groups {', '.join(user.groups) or '-'}"
        self.plan.changes.append(Change("create", user.username, detail))

    def _update(self, current: HubUser, user: DirectoryUser) -> None:
        if (
            user.stable_id not in self.user_plans
            and user.username == current.username
            and user.full_name == current.full_name
            and user.email == current.email
            and user.department == current.department
            and user.dn == current.dn
            and user.enabled == current.active
            and current.groups.issuperset(user.groups)
            and len(current.groups) == len(user.groups)
            and (not self.policy.managed_roles or current.roles.issuperset(user.roles))
            and (
                not self.policy.managed_roles
                or not (current.roles & self.policy.managed_roles) - set(user.roles)
            )
        ):
            self.unchanged[user.stable_id] = UserPlan(current.user_id, user)
            return
        plan = self.user_plans.setdefault(user.stable_id, UserPlan(current.user_id, user))
        plan.desired = user
        details: list[str] = []
        if user.username != current.username:
            plan.fields["username"] = user.username
            self.plan.changes.append(Change("rename", current.username, f"to {user.username}"))
        for name in ("full_name", "email", "department"):
            old, new = getattr(current, name), getattr(user, name)
            if old != new:
                plan.fields[name] = new
                details.append(f"{name} {old!r} -> {new!r}")
        if user.dn != current.dn:
            plan.link = True
        managed = self.state.managed_groups | set(user.groups)
        plan.groups_add = set(user.groups) - current.groups
        plan.groups_remove = set((current.groups & managed) - set(user.groups))
        if plan.groups_add or plan.groups_remove:
            details.append(
                "groups "
                + " ".join(
                    [
                        *(f"+{g}" for g in sorted(plan.groups_add)),
                        *(f"-{g}" for g in sorted(plan.groups_remove)),
                    ]
                )
            )
        if self.policy.managed_roles:
            plan.roles_add = set(user.roles) - current.roles
            plan.roles_remove = set((current.roles & self.policy.managed_roles) - set(user.roles))
            if not (current.roles - plan.roles_remove) | plan.roles_add:
                plan.roles_add.add(DEFAULT_ROLE)
            if plan.roles_add or plan.roles_remove:
                details.append(
                    "roles "
                    + " ".join(
                        [
                            *(f"+{r}" for r in sorted(plan.roles_add)),
                            *(f"-{r}" for r in sorted(plan.roles_remove)),
                        ]
                    )
                )
        if details:
            self.plan.changes.append(Change("update", user.username, "; ".join(details)))
        if user.enabled != current.active:
            plan.fields["active"] = user.enabled
            reason = "enabled in the directory" if user.enabled else "disabled in the directory"
            self.plan.changes.append(Change("enable" if user.enabled else "disable", user.username, reason))

    def _disable_missing(self) -> None:
        seen = {u.stable_id for u in self.read.users} | self.held_ids
        for stable_id, current in sorted(self.linked.items(), key=lambda item: item[1].username):
            if stable_id in seen or not current.active:
                continue
            gone = DirectoryUser(stable_id=stable_id, dn=current.dn, username=current.username, enabled=False)
            self.user_plans[stable_id] = UserPlan(current.user_id, gone, fields={"active": False})
            self.gone_ids.add(stable_id)
            self.plan.changes.append(Change("disable", current.username, "gone from the directory"))

    # -- cards ------------------------------------------------------------------------------

    def _cards(self) -> None:
        wanted: dict[str, list[UserPlan]] = defaultdict(list)
        for plan in [*self.user_plans.values(), *self.unchanged.values()]:
            for number in plan.desired.cards:
                wanted[number].append(plan)
        for number, plans in sorted(wanted.items()):
            if len(plans) > 1:
                names = ", ".join(sorted(p.desired.username for p in plans))
                _conflict(
                    self.plan, names, f"card {number} is given to {len(plans)} directory users; left as it is"
                )
                continue
            target = self._promote(plans[0])
            holding = self.state.cards.get(number)
            if holding is None:
                target.cards_add.add(number)
            elif holding.user_id == target.user_id:
                continue
            elif holding.synced_by == self.policy.source and self._released(holding.user_id):
                holder = self.by_id[holding.user_id]
                self._holder_plan(holder).cards_remove.add(number)
                target.cards_add.add(number)
                self.plan.changes.append(
                    Change("card-move", target.desired.username, f"card {number} from {holder.username}")
                )
            else:
                _conflict(
                    self.plan,
                    target.desired.username,
                    f"card {number} belongs to {self._who(self.by_id[holding.user_id])}; not moved",
                )
        self._unlink_dropped_cards(wanted)

    def _holder_plan(self, holder: HubUser) -> UserPlan:
        """The plan of a card's current holder (a user gone from the directory gets one now)."""
        if holder.stable_id in self.unchanged:
            return self._promote(self.unchanged[holder.stable_id])
        if holder.stable_id not in self.user_plans:
            self.user_plans[holder.stable_id] = UserPlan(holder.user_id, self._as_is(holder))
            self.gone_ids.add(holder.stable_id)
        return self.user_plans[holder.stable_id]

    def _promote(self, plan: UserPlan) -> UserPlan:
        """The plan of a so-far unchanged user becomes one of the plans applied."""
        stable_id = plan.desired.stable_id
        if stable_id in self.unchanged:
            self.user_plans[stable_id] = self.unchanged.pop(stable_id)
        return plan

    def _released(self, user_id: int) -> bool:
        """True when the card's holder is not the subject of an unusable entry (its cards are unknown)."""
        return self.by_id[user_id].stable_id not in self.held_ids

    @staticmethod
    def _as_is(holder: HubUser) -> DirectoryUser:
        """A user the directory no longer lists, as the hub has them (cards aside)."""
        return DirectoryUser(
            stable_id=holder.stable_id, dn=holder.dn, username=holder.username, enabled=holder.active
        )

    def _unlink_dropped_cards(self, wanted: dict[str, list[UserPlan]]) -> None:
        """Cards this source linked that the user's entry no longer lists are unlinked.

        Users gone from the directory keep theirs (they are disabled; a card given to someone
        else later moves).
        """
        by_user: dict[int, set[str]] = defaultdict(set)
        for number, holding in self.state.cards.items():
            if holding.synced_by == self.policy.source:
                by_user[holding.user_id].add(number)
        for stable_id, plan in [*self.user_plans.items(), *self.unchanged.items()]:
            if plan.user_id is None or stable_id in self.gone_ids or stable_id in self.held_ids:
                continue
            dropped = by_user.get(plan.user_id, set()) - set(plan.desired.cards) - plan.cards_remove
            dropped = {n for n in dropped if n not in wanted}
            if dropped:
                self._promote(plan).cards_remove |= dropped
        for plan in self.user_plans.values():
            if plan.user_id is not None and (plan.cards_add or plan.cards_remove):
                parts = [
                    *(f"+{n}" for n in sorted(plan.cards_add)),
                    *(f"-{n}" for n in sorted(plan.cards_remove)),
                ]
                self.plan.changes.append(Change("cards", plan.desired.username, " ".join(parts)))

    # -- PINs -------------------------------------------------------------------------------

    def _pins(self) -> None:
        for plan in [*self.user_plans.values(), *self.unchanged.values()]:
            pin = plan.desired.pin
            if not pin or not plan.desired.enabled:
                continue
            keys = self.pin_keys.get(pin)
            if keys is None:
                continue
            current = self.by_id[plan.user_id].pin_lookup if plan.user_id is not None else ""
            if keys[1] == current:
                continue
            holder = self.pins_taken.get(keys[1])
            if holder is not None and holder != plan.user_id:
                _conflict(
                    self.plan,
                    plan.desired.username,
                    "the directory's PIN is already another user's PIN; PIN not set",
                )
                continue
            self._promote(plan).pin = keys
            self.pins_taken[keys[1]] = plan.user_id or -1
            if plan.user_id is not None:
                self.plan.changes.append(Change("pin", plan.desired.username, "PIN changed"))


def _with_username(user: DirectoryUser, username: str) -> DirectoryUser:
    return DirectoryUser(
        stable_id=user.stable_id,
        dn=user.dn,
        username=username,
        full_name=user.full_name,
        email=user.email,
        department=user.department,
        cards=user.cards,
        pin=user.pin,
        enabled=user.enabled,
        groups=user.groups,
        roles=user.roles,
    )


def compute_plan(
    state: HubState,
    read: DirectoryRead,
    policy: DiffPolicy,
    pin_keys: dict[str, tuple[str, str]] | None = None,
) -> Plan:
    """The plan that brings the hub to what ``read`` says (see the module docstring)."""
    return _Planner(state, read, policy, pin_keys or {}).run()


def guard(plan: Plan, policy: DiffPolicy, force: bool) -> None:
    """Refuse a plan that disables too many users unless ``force``."""
    disables = plan.disables
    if force or disables == 0:
        return
    everyone = disables >= plan.active_linked
    if everyone or disables * 100 > policy.max_disable_percent * plan.active_linked:
        share = f"all {plan.active_linked}" if everyone else f"{disables} of {plan.active_linked}"
        raise SyncRefused(
            f"source {policy.source!r}: this sync would disable {share} active directory users "
            f"(the directory returned {plan.directory_users}; limit {policy.max_disable_percent:g}%): "
            "check the base DNs and filter, then run it again with --force if it is right"
        )


def summary(plan: Plan) -> dict[str, int]:
    """Counts per action, for the run record and the command's last line."""
    actions: Iterable[str] = (
        "create",
        "update",
        "rename",
        "disable",
        "enable",
        "card-move",
        "cards",
        "pin",
        "conflict",
        "problem",
        "adopt",
    )
    return {action: plan.count(action) for action in actions}
