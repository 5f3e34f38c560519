"""``printgate admin group ...``: groups and departments, and who is in them."""

from __future__ import annotations

import argparse

from google.protobuf.message import Message
from printgate.v1 import admin_pb2

from admin_cli.render import enum_values, record_of, said, table_of
from admin_cli.verbs import Build, Verb, VerbTable, empty, user_ref


def _membership(member: bool) -> Build:
    def build(args: argparse.Namespace) -> Message:
        return admin_pb2.GroupMembershipRequest(
            group=args.group_name, user=user_ref(args.username), member=member
        )

    return build


def add_verbs(verbs: VerbTable) -> None:
    verbs.group("group", "groups and departments")
    kinds = enum_values(admin_pb2.GroupKind)
    group = Verb(
        "CreateGroup",
        lambda a: admin_pb2.Group(name=a.name, kind=kinds[a.kind]),
        record_of(("id", "name", "kind")),
    )
    verbs.add("create", "create a group or department", group, "name").add_argument(
        "--kind", choices=sorted(kinds), default="group"
    )
    verbs.add(
        "list",
        "list groups",
        Verb("ListGroups", empty, table_of("groups", ("name", "kind", "member_count"))),
    )
    for name, member, done in (
        ("add-member", True, "added {username} to {group_name}"),
        ("remove-member", False, "removed {username} from {group_name}"),
    ):
        help_text = f"{'add a user to' if member else 'take a user out of'} a group"
        parser = verbs.add(name, help_text, Verb("SetGroupMembership", _membership(member), said(done)))
        parser.add_argument("group_name", metavar="group")
        parser.add_argument("username")
