"""``printgate admin role ...`` and ``project ...``: what users may do, and cost centres."""

from __future__ import annotations

import argparse

from google.protobuf.message import Message
from printgate.v1 import admin_pb2, common_pb2

from admin_cli.render import enum_values, record_of, table_of
from admin_cli.verbs import Verb, VerbTable, empty

ROLE_COLUMNS = ("name", "requires_card_pin", "allowed_functions", "color_allowed", "project_required")
PROJECT_COLUMNS = ("code", "name", "all_users", "groups", "active", "account")


def _role(args: argparse.Namespace) -> Message:
    functions = enum_values(common_pb2.Function)
    return admin_pb2.Role(
        name=args.name,
        requires_card_pin=args.requires_card_pin,
        allowed_functions=[functions[name] for name in args.function or []],
        color_allowed=args.color_allowed,
        project_required=args.project_required,
    )


def add_verbs(verbs: VerbTable) -> None:
    verbs.group("role", "roles: what their users may do")
    role = verbs.add(
        "set", "create or replace a role", Verb("UpsertRole", _role, record_of(ROLE_COLUMNS)), "name"
    )
    role.add_argument(
        "--function",
        action="append",
        choices=sorted(enum_values(common_pb2.Function)),
        help="allowed (repeat)",
    )
    role.add_argument("--color-allowed", action="store_true")
    role.add_argument(
        "--requires-card-pin", action="store_true", help="a card alone is not enough: ask its PIN"
    )
    role.add_argument("--project-required", action="store_true")
    verbs.add("list", "list roles", Verb("ListRoles", empty, table_of("roles", ROLE_COLUMNS)))

    verbs.group("project", "projects (cost centres)")
    project = Verb(
        "CreateProject",
        lambda a: admin_pb2.Project(code=a.code, name=a.name, all_users=a.all_users, groups=a.group or []),
        record_of(("id", *PROJECT_COLUMNS)),
    )
    create = verbs.add("create", "create a project with its post-paid account", project, "code")
    create.add_argument("--name", required=True)
    create.add_argument("--all-users", action="store_true", help="every user may charge it")
    create.add_argument("--group", action="append", help="members of this group may charge it (repeat)")
    verbs.add("list", "list projects", Verb("ListProjects", empty, table_of("projects", PROJECT_COLUMNS)))
