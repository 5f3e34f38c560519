"""``printgate admin user ...``: create, change, list users; PINs, passwords, lockouts; CSV import."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from google.protobuf.message import Message
from printgate.v1 import admin_pb2

from admin_cli.client import secret, stdin_secret
from admin_cli.errors import UsageError
from admin_cli.render import enum_values, record_of, said, table, table_of
from admin_cli.verbs import Verb, VerbTable, user_ref

USER_COLUMNS = ("username", "full_name", "email", "department", "roles", "groups", "active", "billing")
USER_DETAIL = ("id", *USER_COLUMNS, "has_pin", "has_password", "credit_limit_cents")


def _import_report(reply: Any, args: argparse.Namespace) -> str:
    rows = table(reply.rows, ("line", "username", "action", "message")) if reply.rows else "(no rows)"
    summary = (
        f"{reply.created} created, {reply.updated} updated, {reply.unchanged} unchanged,"
        f" {reply.errors} in error"
        f" ({'dry run: nothing was changed' if reply.dry_run else 'applied'})"
    )
    return f"{rows}\nsummary: {summary}"


def _user_values(args: argparse.Namespace) -> tuple[admin_pb2.User, list[str]]:
    """The User fields given on the command line and their names (for create and update)."""
    values = admin_pb2.User(username=args.username)
    given: list[str] = []
    for name in ("full_name", "email", "department"):
        if getattr(args, name) is not None:
            setattr(values, name, getattr(args, name))
            given.append(name)
    if args.role:
        values.roles.extend(args.role)
        given.append("roles")
    if args.billing:
        values.billing = enum_values(admin_pb2.Billing)[args.billing]
        given.append("billing")
    if args.active is not None:
        values.active = args.active
        given.append("active")
    return values, given


def _create_user(args: argparse.Namespace) -> Message:
    values, _ = _user_values(args)
    values.active = args.active is not False
    values.groups.extend(args.group or [])
    values.credit_limit_cents = args.credit_limit_cents
    if args.password_stdin:
        values.initial_password = stdin_secret("password")
    return values


def _update_user(args: argparse.Namespace) -> Message:
    values, given = _user_values(args)
    if not given:
        raise UsageError(
            "nothing to update: give at least one of --full-name, --email, --department, --role,"
            " --billing, --active/--inactive"
        )
    return admin_pb2.UpdateUserRequest(user=user_ref(args.username), fields=given, values=values)


def _set_pin(args: argparse.Namespace) -> Message:
    return admin_pb2.SetPinRequest(user=user_ref(args.username), pin=secret(args, "pin"))


def _set_password(args: argparse.Namespace) -> Message:
    return admin_pb2.SetPasswordRequest(user=user_ref(args.username), password=secret(args, "password"))


def _import_users(args: argparse.Namespace) -> Message:
    try:
        text = sys.stdin.read() if args.csv == "-" else Path(args.csv).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"cannot read CSV {args.csv}: {getattr(error, 'strerror', None) or error}") from None
    return admin_pb2.ImportUsersRequest(csv=text, dry_run=args.dry_run)


def _import_failed(reply: Any) -> str | None:
    return f"{reply.errors} of {len(reply.rows)} rows in error (see the report)" if reply.errors else None


def _user_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--full-name")
    parser.add_argument("--email")
    parser.add_argument("--department", help="department (created when new)")
    parser.add_argument("--role", action="append", help="role name (repeat for several)")
    parser.add_argument("--billing", choices=sorted(enum_values(admin_pb2.Billing)))
    active = parser.add_mutually_exclusive_group()
    active.add_argument("--active", dest="active", action="store_const", const=True, default=None)
    active.add_argument("--inactive", dest="active", action="store_const", const=False)


def _secret_options(parser: argparse.ArgumentParser, name: str) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(f"--{name}", help=f"the {name} (visible to other local users: prefer --{name}-stdin)")
    source.add_argument(
        f"--{name}-stdin", action="store_true", help=f"read the {name} from the first line of stdin"
    )


def add_verbs(verbs: VerbTable) -> None:
    detail = record_of(USER_DETAIL)
    verbs.group("user", "users: create, change, credentials, CSV import")
    create = verbs.add(
        "create",
        "create a user (with a prepaid account)",
        Verb("CreateUser", _create_user, detail),
        "username",
    )
    _user_options(create)
    create.add_argument("--group", action="append", help="group to join (repeat for several)")
    create.add_argument("--credit-limit-cents", type=int, default=0, help="prepaid overdraft allowed")
    create.add_argument("--password-stdin", action="store_true", help="read an initial password from stdin")
    _user_options(
        verbs.add(
            "update",
            "change the given fields of a user",
            Verb("UpdateUser", _update_user, detail),
            "username",
        )
    )
    verbs.add("show", "show one user", Verb("GetUser", lambda a: user_ref(a.username), detail), "username")
    users = table_of("users", USER_COLUMNS, lambda reply, args: f"{len(reply.users)} of {reply.total} users")
    listing = verbs.add(
        "list",
        "list users",
        Verb(
            "ListUsers",
            lambda a: admin_pb2.ListUsersRequest(query=a.query, limit=a.limit, offset=a.offset),
            users,
        ),
    )
    listing.add_argument("--query", default="", help="substring of username, full name or email")
    listing.add_argument("--limit", type=int, default=100)
    listing.add_argument("--offset", type=int, default=0)
    pin = verbs.add(
        "set-pin", "set a user's PIN", Verb("SetPin", _set_pin, said("PIN set for {username}")), "username"
    )
    _secret_options(pin, "pin")
    new_pin = Verb(
        "SetPin",
        lambda a: admin_pb2.SetPinRequest(user=user_ref(a.username)),
        lambda r, a: f"new PIN for {a.username}: {r.pin}",
    )
    verbs.add("reset-pin", "give a user a new PIN chosen by the hub (printed once)", new_pin, "username")
    password = Verb("SetPassword", _set_password, said("password set for {username}"))
    _secret_options(verbs.add("set-password", "set a user's password", password, "username"), "password")
    unlock = Verb(
        "UnlockIdentity",
        lambda a: admin_pb2.UnlockIdentityRequest(user=user_ref(a.username)),
        said("unlocked user {username}"),
    )
    verbs.add("unlock", "lift a user's lockout after failed logins", unlock, "username")
    importing = verbs.add(
        "import",
        "create or update users from a CSV file",
        Verb("ImportUsers", _import_users, _import_report, _import_failed),
    )
    importing.add_argument(
        "--csv", required=True, metavar="FILE", help="CSV with a header row ('-' for stdin)"
    )
    importing.add_argument("--dry-run", action="store_true", help="report what would change, change nothing")
