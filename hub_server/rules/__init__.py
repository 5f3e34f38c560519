"""Job rules as data: an ordered list of rules, each with conditions on a job (pages, copies,
colour pages, size, job or application name, user, group, queue, source) and actions (hold,
delete with a reason, force duplex or mono, cap copies, route to a printer group, notify).

This package knows nothing of the hub: :func:`evaluate` takes a job's facts and the rules and
answers the :class:`Ruling`; the hub keeps the rules in its database
(:mod:`hub_server.domain.rules_store`) and applies the ruling at intake and at release.
"""

from hub_server.rules.evaluate import evaluate
from hub_server.rules.model import (
    SOURCES,
    Actions,
    Conditions,
    JobFacts,
    Rule,
    RuleError,
    Ruling,
    rule_from_json,
)

__all__ = [
    "SOURCES",
    "Actions",
    "Conditions",
    "JobFacts",
    "Rule",
    "RuleError",
    "Ruling",
    "evaluate",
    "rule_from_json",
]
