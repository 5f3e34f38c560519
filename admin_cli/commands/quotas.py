"""``printgate admin quota ...``: quota rules."""

from __future__ import annotations

import argparse

from google.protobuf.message import Message
from printgate.v1 import admin_pb2, common_pb2

from admin_cli.render import enum_values, record_of, said, table_of
from admin_cli.verbs import Verb, VerbTable, empty, user_ref

QUOTA_COLUMNS = ("id", "name", "scope", "period", "unit", "color_scope", "limit", "action")


def _quota(args: argparse.Namespace) -> Message:
    rule = admin_pb2.QuotaRule(
        name=args.name,
        period=enum_values(common_pb2.QuotaPeriod)[args.period],
        unit=enum_values(common_pb2.QuotaUnit)[args.unit],
        color_scope=enum_values(common_pb2.QuotaColorScope)[args.color_scope],
        limit=args.limit,
        action=enum_values(common_pb2.QuotaAction)[args.action],
    )
    if args.group:
        rule.group = args.group
    elif args.user:
        rule.user.CopyFrom(user_ref(args.user))
    else:
        rule.everyone = True
    return rule


def add_verbs(verbs: VerbTable) -> None:
    verbs.group("quota", "quotas")
    quota = verbs.add(
        "create",
        "create a quota rule",
        Verb("CreateQuotaRule", _quota, record_of(("id", *QUOTA_COLUMNS[1:]))),
    )
    quota.add_argument("--name", required=True)
    scope = quota.add_mutually_exclusive_group()
    scope.add_argument("--everyone", action="store_true", help="every user has this allowance (the default)")
    scope.add_argument("--group", help="each member of this group")
    scope.add_argument("--user", metavar="USERNAME", help="this user")
    quota.add_argument("--period", required=True, choices=list(enum_values(common_pb2.QuotaPeriod)))
    quota.add_argument("--unit", required=True, choices=list(enum_values(common_pb2.QuotaUnit)))
    quota.add_argument("--color-scope", default="any", choices=list(enum_values(common_pb2.QuotaColorScope)))
    quota.add_argument("--limit", type=int, required=True, help="pages, or cents with --unit cents")
    quota.add_argument("--action", default="block", choices=list(enum_values(common_pb2.QuotaAction)))
    verbs.add("list", "list quota rules", Verb("ListQuotaRules", empty, table_of("rules", QUOTA_COLUMNS)))
    delete = Verb(
        "DeleteQuotaRule", lambda a: admin_pb2.QuotaRuleRef(id=a.id), said("quota rule {id} deleted")
    )
    verbs.add("delete", "delete a quota rule (and its usage counters)", delete).add_argument("id", type=int)
