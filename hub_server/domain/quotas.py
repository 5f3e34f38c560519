"""Quotas: pages or cents per day, week or month, counted per user, mono/colour separately.

A rule applies to everyone, to the members of a group (a department counts as a group), or to
one user; each user it applies to has an allowance of their own. Scans make no paper and are
not counted. Consumption happens in the same write transaction as the charge, through a
conditional update, so two terminals cannot both spend the last pages of an allowance.
Periods start at local midnight in the hub's time zone (weeks on Monday). :class:`Quotas` is the
domain object the services call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hub_server.domain import validation
from hub_server.domain.pricing import PricedLine
from hub_server.domain.store import Store
from hub_server.domain.users import UserRef, group_id, resolve_user
from hub_server.errors import InvalidRequest, NotFound, QuotaExceeded
from hub_server.storage import Row, Tx

PERIODS = ("day", "week", "month")
UNITS = ("pages", "cents")
COLOR_SCOPES = ("any", "mono", "color")
ACTIONS = ("block", "warn")
SCOPES = ("everyone", "group", "user")
MAX_NAME_CHARS = 128


@dataclass(frozen=True)
class QuotaRule:
    """A quota rule: whose allowance (everyone, each member of ``group``, or ``user``), of what,
    per which period, and whether it blocks or only warns."""

    name: str
    period: str
    unit: str
    limit: int
    color_scope: str = "any"
    action: str = "block"
    scope: str = "everyone"
    group: str = ""
    user: UserRef | None = None
    id: int = 0

    def validate(self) -> None:
        """Refuse a rule with no meaning."""
        for value, allowed, what in (
            (self.period, PERIODS, "period"),
            (self.unit, UNITS, "unit"),
            (self.color_scope, COLOR_SCOPES, "colour scope"),
            (self.action, ACTIONS, "action"),
            (self.scope, SCOPES, "scope"),
        ):
            if value not in allowed:
                raise InvalidRequest(f"{what} must be one of {', '.join(allowed)}")
        validation.amount(self.limit, "a quota limit")


@dataclass(frozen=True)
class QuotaState:
    """What is left of one rule for one user in the current period."""

    rule: QuotaRule
    period_start: str
    used: int

    @property
    def remaining(self) -> int:
        """Allowance left, never below zero."""
        return max(0, self.rule.limit - self.used)


def period_start(now_us: int, period: str, timezone: str) -> str:
    """ISO date on which the period containing ``now_us`` began, in ``timezone``."""
    local = datetime.fromtimestamp(now_us / 1_000_000, ZoneInfo(timezone)).date()
    if period == "week":
        local -= timedelta(days=local.weekday())
    elif period == "month":
        local = local.replace(day=1)
    return local.isoformat()


def applicable_rules(tx: Tx, user_id: int) -> list[QuotaRule]:
    """Every rule that applies to a user, directly, through a group, or to everyone."""
    rows = tx.execute(
        """SELECT id, name, period, unit, color_scope, limit_value, action FROM quota_rules
           WHERE scope = 'everyone'
              OR (scope = 'user' AND user_id = :u)
              OR (scope = 'group' AND (
                    group_id IN (SELECT group_id FROM group_members WHERE user_id = :u)
                    OR group_id = (SELECT department_id FROM users WHERE id = :u)))
           ORDER BY id""",
        {"u": user_id},
    )
    return [_rule(r) for r in rows]


def _rule(row: Row) -> QuotaRule:
    user = row.get("username")
    return QuotaRule(
        id=int(row["id"]),
        name=str(row["name"]),
        period=str(row["period"]),
        unit=str(row["unit"]),
        color_scope=str(row["color_scope"]),
        limit=int(row["limit_value"]),
        action=str(row["action"]),
        scope=str(row.get("scope", "everyone")),
        group=str(row.get("group_name") or ""),
        user=UserRef(username=str(user)) if user else None,
    )


def amount_for(rule: QuotaRule, lines: list[PricedLine]) -> int:
    """How much of a rule's allowance some usage takes."""
    counted = [line for line in lines if line.function != "scan" and rule.color_scope in ("any", line.color)]
    if rule.unit == "pages":
        return sum(line.pages for line in counted)
    return sum(line.amount_cents for line in counted)


def consume(
    tx: Tx, user_id: int, lines: list[PricedLine], now_us: int, timezone: str, performed: bool
) -> list[str]:
    """Take usage off every applicable allowance; return warnings.

    A blocking rule refuses usage that would exceed it (:class:`QuotaExceeded`), unless the pages
    were already ``performed``: those are counted anyway, the allowance is then simply used up.
    """
    warnings = []
    for rule in applicable_rules(tx, user_id):
        amount = amount_for(rule, lines)
        if amount == 0:
            continue
        start = period_start(now_us, rule.period, timezone)
        tx.execute(
            "INSERT INTO quota_usage (rule_id, user_id, period_start, used) VALUES (:r, :u, :p, 0)"
            " ON CONFLICT (rule_id, user_id, period_start) DO NOTHING",
            {"r": rule.id, "u": user_id, "p": start},
        )
        enforce = rule.action == "block" and not performed
        row = tx.one(
            """UPDATE quota_usage SET used = used + :n
               WHERE rule_id = :r AND user_id = :u AND period_start = :p
                 AND (:enforce = 0 OR used + :n <= :limit)
               RETURNING used""",
            {
                "n": amount,
                "r": rule.id,
                "u": user_id,
                "p": start,
                "enforce": int(enforce),
                "limit": rule.limit,
            },
        )
        if row is None:
            raise QuotaExceeded(
                f"quota {rule.name!r} ({rule.limit} {rule.unit} per {rule.period}) would be exceeded"
            )
        if int(row["used"]) > rule.limit:
            warnings.append(f"quota {rule.name!r} exceeded: {row['used']} of {rule.limit} {rule.unit}")
    return warnings


def quota_states(tx: Tx, user_id: int, now_us: int, timezone: str) -> list[QuotaState]:
    """Every applicable rule with what the user has used of it this period."""
    states = []
    for rule in applicable_rules(tx, user_id):
        start = period_start(now_us, rule.period, timezone)
        used = tx.scalar(
            "SELECT used FROM quota_usage WHERE rule_id = :r AND user_id = :u AND period_start = :p",
            {"r": rule.id, "u": user_id, "p": start},
        )
        states.append(QuotaState(rule=rule, period_start=start, used=int(used or 0)))
    return states


def create_rule(tx: Tx, rule: QuotaRule) -> int:
    """Store a rule; returns its id."""
    rule.validate()
    group = group_id(tx, rule.group) if rule.scope == "group" else None
    user = resolve_user(tx, rule.user or UserRef()) if rule.scope == "user" else None
    row = tx.one(
        """INSERT INTO quota_rules (name, scope, group_id, user_id, period, unit, color_scope,
               limit_value, action)
           VALUES (:n, :s, :g, :u, :p, :un, :c, :l, :a) RETURNING id""",
        {
            "n": rule.name[:MAX_NAME_CHARS],
            "s": rule.scope,
            "g": group,
            "u": user,
            "p": rule.period,
            "un": rule.unit,
            "c": rule.color_scope,
            "l": rule.limit,
            "a": rule.action,
        },
    )
    assert row is not None
    return int(row["id"])


def list_rules(tx: Tx) -> list[QuotaRule]:
    """Every rule, oldest first."""
    rows = tx.execute(
        """SELECT q.*, g.name AS group_name, u.username FROM quota_rules q
           LEFT JOIN user_groups g ON g.id = q.group_id LEFT JOIN users u ON u.id = q.user_id
           ORDER BY q.id"""
    )
    return [_rule(r) for r in rows]


def delete_rule(tx: Tx, rule_id: int) -> None:
    """Delete a rule and its usage counters."""
    tx.execute("DELETE FROM quota_usage WHERE rule_id = :r", {"r": rule_id})
    if not tx.execute("DELETE FROM quota_rules WHERE id = :r RETURNING id", {"r": rule_id}):
        raise NotFound(f"no quota rule {rule_id}")


class Quotas:
    """Quota rules, for admins."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def create_rule(self, rule: QuotaRule) -> int:
        """Store a rule; returns its id."""
        rule.validate()
        return await self._store.write(lambda tx: create_rule(tx, rule))

    def rules(self) -> list[QuotaRule]:
        """Every rule."""
        return self._store.read(list_rules)

    async def delete_rule(self, rule_id: int) -> None:
        """Delete a rule and its usage counters."""
        await self._store.write(lambda tx: delete_rule(tx, rule_id))

    def states(self, user: UserRef, now_us: int, timezone: str) -> list[QuotaState]:
        """What a user has used of every rule that applies to them, this period."""
        return self._store.read(lambda tx: quota_states(tx, resolve_user(tx, user), now_us, timezone))
