"""Quotas: pages or cents per day, week or month, counted per user, mono/colour separately.

A rule applies to everyone, to the members of a group (a department counts as a group), or to
one user; each user it applies to has an allowance of their own. Scans make no paper and are
not counted. Consumption happens in the same write transaction as the charge, through a
conditional update, so two terminals cannot both spend the last pages of an allowance.
Periods start at local midnight in the hub's time zone (weeks on Monday).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hub_server.errors import QuotaExceeded
from hub_server.pricing import PricedLine
from hub_server.storage.base import Tx


@dataclass(frozen=True)
class QuotaRuleRow:
    """A quota rule as stored."""

    id: int
    name: str
    period: str
    unit: str
    color_scope: str
    limit: int
    action: str


@dataclass(frozen=True)
class QuotaState:
    """What is left of one rule for one user in the current period."""

    rule: QuotaRuleRow
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


def applicable_rules(tx: Tx, user_id: int) -> list[QuotaRuleRow]:
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
    return [
        QuotaRuleRow(
            id=int(r["id"]),
            name=r["name"],
            period=r["period"],
            unit=r["unit"],
            color_scope=r["color_scope"],
            limit=int(r["limit_value"]),
            action=r["action"],
        )
        for r in rows
    ]


def amount_for(rule: QuotaRuleRow, lines: list[PricedLine]) -> int:
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
