"""``printgate admin rule ...``: the job rules the hub runs over every held job, in order
(JobRulesService, docs/job_rules.md). ``add`` builds the rule from options (or takes its JSON
with ``--rule-json``); the hub checks it and refuses what it cannot evaluate."""

from __future__ import annotations

import argparse
import json
from typing import Any

from google.protobuf.message import Message
from printgate.v1 import admin_pb2

from admin_cli.errors import UsageError
from admin_cli.render import record_of, table_of
from admin_cli.verbs import Verb, VerbTable

__all__ = ["add_verbs"]

RULE_COLUMNS = ("position", "name", "rule_json")
RULING_COLUMNS = (
    "deleted",
    "duplex",
    "mono",
    "copies",
    "printer_group",
    "fired",
    "reason",
    "notices",
    "groups",
)
SOURCES = ("ipp", "lpd", "web", "email")
# option -> condition of the rule (numbers)
BOUNDS = tuple(
    f"{what}_{end}" for what in ("pages", "copies", "color_pages", "size_bytes") for end in ("min", "max")
)
# option -> condition of the rule (lists of names)
LISTS = {"user": "users", "group": "groups", "queue": "queues", "source": "sources"}


def _rule(args: argparse.Namespace) -> dict[str, Any]:
    conditions: dict[str, Any] = {
        name: getattr(args, name) for name in BOUNDS if getattr(args, name) is not None
    }
    conditions |= {LISTS[option]: getattr(args, option) for option in LISTS if getattr(args, option)}
    conditions |= {
        name: getattr(args, name) for name in ("name_pattern", "application_pattern") if getattr(args, name)
    }
    actions: dict[str, Any] = {
        name: True for name in ("hold", "force_duplex", "force_mono") if getattr(args, name)
    }
    if args.delete:
        actions |= {"delete": True, "delete_reason": args.delete}
    if args.copies_cap:
        actions["copies_max"] = args.copies_cap
    actions |= {name: getattr(args, name) for name in ("printer_group", "notify") if getattr(args, name)}
    rule = {"name": args.name, "conditions": conditions, "actions": actions}
    return rule | ({"note": args.note} if args.note else {})


def _add(args: argparse.Namespace) -> Message:
    if args.rule_json is not None:
        try:
            rule = json.loads(args.rule_json)
        except json.JSONDecodeError as error:
            raise UsageError(f"--rule-json is not JSON ({error.msg})") from None
        if not isinstance(rule, dict):
            raise UsageError("--rule-json is a JSON object")
        rule["name"] = args.name
    else:
        rule = _rule(args)
    return admin_pb2.AddJobRuleRequest(rule_json=json.dumps(rule), position=args.position)


def _test(args: argparse.Namespace) -> Message:
    return admin_pb2.JobRulesTestRequest(
        pages=args.pages,
        copies=args.copies,
        color_pages=args.color_pages,
        size_bytes=args.size_bytes,
        job_name=args.job_name,
        application=args.application,
        user=args.user,
        groups=args.group or [],
        queue=args.queue,
        source=args.source,
        duplex=args.duplex,
        mono=args.mono,
    )


def _move(args: argparse.Namespace) -> Message:
    try:
        position = _non_negative(args.position)
    except (ValueError, argparse.ArgumentTypeError):
        raise UsageError(
            f"position must be a whole number >= 0 (1: first, 0: last), not {args.position!r}"
        ) from None
    return admin_pb2.MoveJobRuleRequest(name=args.name, position=position)


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, not {text}")
    return value


def add_verbs(verbs: VerbTable) -> None:
    verbs.group("rule", "job rules: conditions on held jobs and what happens to them, in order")
    listed = table_of("rules", RULE_COLUMNS)
    verbs.add(
        "list",
        "list the job rules in the order they run",
        Verb("ListJobRules", lambda a: admin_pb2.ListJobRulesRequest(), listed, service="rules"),
    )
    add = verbs.add(
        "add",
        "add a job rule (its name, conditions and actions)",
        Verb("AddJobRule", _add, listed, service="rules"),
        "name",
    )
    add.add_argument("--position", type=_non_negative, default=0, help="its place, 1 first (default: last)")
    add.add_argument(
        "--note", default="", help="what users are told on the jobs it changes (default: its name)"
    )
    for bound in BOUNDS:
        add.add_argument(f"--{bound.replace('_', '-')}", type=_non_negative, metavar="N", help="inclusive")
    add.add_argument("--name-pattern", metavar="REGEX", help="job name (case-insensitive search)")
    add.add_argument("--application-pattern", metavar="REGEX", help="the submitting application")
    for option in LISTS:
        add.add_argument(
            f"--{option}",
            action="append",
            choices=SOURCES if option == "source" else None,
            help="repeat for any of several",
        )
    add.add_argument("--hold", action="store_true", help="keep the job held as is; later rules do not run")
    add.add_argument("--delete", metavar="REASON", help="delete the job; REASON is what its owner is told")
    add.add_argument("--force-duplex", action="store_true")
    add.add_argument("--force-mono", action="store_true")
    add.add_argument("--copies-cap", type=_non_negative, metavar="N", help="at most N copies")
    add.add_argument("--printer-group", metavar="GROUP", help="release (and price) only at printers of GROUP")
    add.add_argument("--notify", metavar="TEXT", help="a line in the hub's log for each job it matches")
    add.add_argument(
        "--rule-json",
        metavar="JSON",
        help='the whole rule instead: {"conditions": …, "actions": …, "note": …}',
    )
    verbs.add(
        "remove",
        "remove a job rule",
        Verb("RemoveJobRule", lambda a: admin_pb2.JobRuleRef(name=a.name), listed, service="rules"),
        "name",
    )
    verbs.add(
        "move",
        "move a job rule to another place (1 first, 0 last)",
        Verb("MoveJobRule", _move, listed, service="rules"),
        "name",
        "position",
    )
    test = verbs.add(
        "test",
        "what the rules would make of a job like this (nothing changes)",
        Verb("TestJobRules", _test, record_of(RULING_COLUMNS), service="rules"),
    )
    test.add_argument("--pages", type=_non_negative, default=1, help="of one copy")
    test.add_argument("--copies", type=_non_negative, default=1)
    test.add_argument("--color-pages", type=_non_negative, default=0)
    test.add_argument("--size-bytes", type=_non_negative, default=0)
    test.add_argument("--job-name", default="")
    test.add_argument("--application", default="")
    test.add_argument("--user", default="", help="a hub user's groups count too")
    test.add_argument("--group", action="append", help="repeat")
    test.add_argument("--queue", default="")
    test.add_argument("--source", choices=SOURCES, default="ipp")
    test.add_argument("--duplex", action="store_true")
    test.add_argument("--mono", action="store_true")
