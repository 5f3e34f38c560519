"""``printgate admin``: every AdminService call from a shell or a script.

Usage: ``printgate admin [--hub HOST:PORT] [--token-file PATH | --data-dir DIR] [--json]
[--timeout-s S] GROUP VERB ...`` (the global options may also follow the verb).

* The hub address comes from ``--hub``, else ``PRINTGATE_HUB``, else ``127.0.0.1:50051``.
* The admin token comes from ``--token-file``, else ``DIR/admin-token`` for ``--data-dir``, else
  ``PRINTGATE_ADMIN_TOKEN``; it travels as ``authorization: Bearer <token>`` metadata.
* ``--json`` prints one JSON document on stdout: the reply's protobuf JSON form with the
  ``.proto`` field names, every field present, int64 as numbers where exact (below 2**53);
  ``account adjust`` and ``cashbox empty`` add the ``idempotency_key`` they used. Otherwise
  readable text and tables.
* Nothing prompts. Secrets can come from stdin (``--password-stdin``, ``--pin-stdin``) so they
  stay out of argv and the process list.
* Money is integer cents; option names carry the unit (``--amount-cents``).

Exit codes; every failure also writes one line to stderr, ``printgate admin: STATUS: message``
for what the hub said (argparse adds its usage text to its own errors):

====  ==================================================================================
0     done
1     the hub refused (its gRPC status and message), an import had rows in error, or the
      ledger check found problems
2     usage error: bad arguments, no admin token, unreadable file, nothing on stdin
3     the hub cannot be reached (UNAVAILABLE, or no answer within ``--timeout-s``)
====  ==================================================================================

Errors of this module::

    AdminCommandError            exit_code 1
     ├── UsageError (ValueError)  exit_code 2
     └── HubUnreachable (ConnectionError)  exit_code 3
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from printgate.v1 import admin_pb2, admin_pb2_grpc, common_pb2, kiosk_pb2, kiosk_pb2_grpc

__all__ = [
    "AdminClient",
    "AdminCommandError",
    "HubUnreachable",
    "UsageError",
    "printable",
    "record_of",
    "register",
    "run",
    "table_of",
]

PROG = "printgate admin"
DEFAULT_HUB = "127.0.0.1:50051"
DEFAULT_TIMEOUT_S = 10.0
HUB_ENV = "PRINTGATE_HUB"
TOKEN_ENV = "PRINTGATE_ADMIN_TOKEN"
TOKEN_FILE_NAME = "admin-token"
# Statuses that mean "no hub answered", as opposed to "the hub said no".
UNREACHABLE = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)


class AdminCommandError(Exception):
    """A failed admin command; ``str()`` is the line printed after ``printgate admin: ``."""

    exit_code = 1


class UsageError(AdminCommandError, ValueError):
    """The command line (or a file or stdin it names) is not usable."""

    exit_code = 2


class HubUnreachable(AdminCommandError, ConnectionError):
    """No hub answered at the address."""

    exit_code = 3


# -- talking to the hub -----------------------------------------------------------------------


class AdminClient:
    """AdminService calls with the admin token and a deadline on every call."""

    def __init__(self, address: str, token: str, timeout_s: float) -> None:
        self.address = address
        self.timeout_s = timeout_s
        self._metadata = (("authorization", f"Bearer {token}"),)
        self._channel = grpc.insecure_channel(address)
        self._stubs = {
            "admin": admin_pb2_grpc.AdminServiceStub(self._channel),
            "kiosk": kiosk_pb2_grpc.KioskAdminServiceStub(self._channel),
        }

    def call(self, method: str, request: Message, service: str = "admin") -> Message:
        """Run one RPC of AdminService (or ``service="kiosk"``: KioskAdminService)."""
        try:
            reply: Message = getattr(self._stubs[service], method)(
                request, timeout=self.timeout_s, metadata=self._metadata
            )
        except grpc.RpcError as error:
            raise self._translate(error) from None
        return reply

    def _translate(self, error: grpc.RpcError) -> AdminCommandError:
        code: grpc.StatusCode = error.code()
        details = printable(str(error.details() or ""))
        if code is grpc.StatusCode.UNAVAILABLE:
            return HubUnreachable(f"UNAVAILABLE: cannot reach hub at {self.address} ({details})")
        if code is grpc.StatusCode.DEADLINE_EXCEEDED:
            return HubUnreachable(
                f"DEADLINE_EXCEEDED: no answer from hub at {self.address} within {self.timeout_s:g} s"
            )
        return AdminCommandError(f"{code.name}: {details}")

    def close(self) -> None:
        """Close the channel."""
        self._channel.close()


def resolve_token(args: argparse.Namespace) -> str:
    """The admin token: ``--token-file``, else ``DIR/admin-token``, else the environment."""
    path: Path | None = args.token_file or (args.data_dir / TOKEN_FILE_NAME if args.data_dir else None)
    if path is not None:
        try:
            token = path.read_text().strip()
        except OSError as error:
            raise UsageError(f"cannot read admin token from {path}: {error.strerror}") from None
        if not token:
            raise UsageError(f"admin token file {path} is empty")
        return token
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        raise UsageError(f"no admin token: give --token-file or --data-dir, or set {TOKEN_ENV}")
    return token


def _stdin_secret(what: str) -> str:
    secret = sys.stdin.readline().rstrip("\r\n")
    if not secret:
        raise UsageError(f"no {what} on stdin")
    return secret


def _secret(args: argparse.Namespace, name: str) -> str:
    """A secret from ``--NAME`` or, with ``--NAME-stdin``, the first line of stdin."""
    if getattr(args, f"{name}_stdin"):
        return _stdin_secret(name)
    value: str | None = getattr(args, name)
    if not value:
        raise UsageError(f"give --{name} or --{name}-stdin")
    return value


# -- text rendering ---------------------------------------------------------------------------


def printable(text: str) -> str:
    """``text`` with control characters escaped (``\\x1b``), so hub data cannot drive the terminal."""
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


def _enum_names(descriptor: Any) -> dict[str, int]:
    """Short lower-case names of a protobuf enum (``FUNCTION_PRINT`` -> ``print``), unset left out."""
    prefix = descriptor.values[0].name.removesuffix("UNSPECIFIED")  # proto3: the first value is 0
    return {
        value.name.removeprefix(prefix).lower(): value.number for value in descriptor.values if value.number
    }


def _enum_table(enum: Any) -> dict[str, Any]:
    """:func:`_enum_names` of a generated enum type, for ``choices`` and request building."""
    return _enum_names(enum.DESCRIPTOR)


def _short_enum_name(field: Any, value: int) -> str:
    names = {number: name for name, number in _enum_names(field.enum_type).items()}
    return names.get(value, str(value) if value else "-")


def _scalar_text(field: Any, value: Any) -> str:
    if field.type == FieldDescriptor.TYPE_ENUM:
        return _short_enum_name(field, value)
    if isinstance(value, Timestamp):
        return value.ToJsonString()
    if isinstance(value, admin_pb2.UserRef):
        return value.username or (f"id {value.id}" if value.id else "")
    if isinstance(value, bool):
        return "yes" if value else "no"
    return printable(str(value)) or "-"  # a blank cell would shift the columns of a table


def _cell(message: Message, name: str) -> str:
    """One field of a message as text (lists joined by commas, a oneof scope by its member)."""
    descriptor = message.DESCRIPTOR
    if name in descriptor.oneofs_by_name:
        member = message.WhichOneof(name)
        if member is None:
            return "-"
        value = getattr(message, member)
        return (
            member if value is True else f"{member} {_scalar_text(descriptor.fields_by_name[member], value)}"
        )
    field: Any = descriptor.fields_by_name[name]
    value = getattr(message, name)
    if field.is_repeated:
        return ",".join(_scalar_text(field, item) for item in value) or "-"
    return _scalar_text(field, value)


def _table(rows: Sequence[Message], columns: Sequence[str]) -> str:
    cells = [[_cell(row, column) for column in columns] for row in rows]
    headers = [column.upper() for column in columns]
    widths = [max(len(text) for text in column) for column in zip(headers, *cells, strict=False)]
    lines = [
        "  ".join(text.ljust(width) for text, width in zip(line, widths, strict=True)).rstrip()
        for line in [headers, *cells]
    ]
    return "\n".join(lines)


def _record(message: Message, columns: Sequence[str]) -> str:
    width = max(len(column) for column in columns)
    return "\n".join(f"{column.ljust(width)}  {_cell(message, column)}".rstrip() for column in columns)


Render = Callable[[Any, argparse.Namespace], str]


def table_of(field: str, columns: Sequence[str], footer: Render | None = None) -> Render:
    """Render the repeated ``field`` of a reply as a table (``(none)`` when empty)."""

    def render(reply: Any, args: argparse.Namespace) -> str:
        rows = getattr(reply, field)
        text = _table(rows, columns) if rows else "(none)"
        return f"{text}\n{footer(reply, args)}" if footer else text

    return render


def record_of(columns: Sequence[str]) -> Render:
    """Render a reply as ``name  value`` lines."""
    return lambda reply, args: _record(reply, columns)


def said(template: str) -> Render:
    """Render an empty reply as a confirmation built from the arguments."""
    return lambda reply, args: template.format(**vars(args))


USER_COLUMNS = ("username", "full_name", "email", "department", "roles", "groups", "active", "billing")
USER_DETAIL = ("id", *USER_COLUMNS, "has_pin", "has_password", "credit_limit_cents")
CARD_COLUMNS = ("number", "username", "label")
PRINTER_COLUMNS = ("name", "address", "transport", "vendor_profile", "printer_group", "location")
TERMINAL_COLUMNS = ("id", "kind", "printer", "location")
PRICE_COLUMNS = ("printer_group", "function", "color", "paper_size", "duplex", "price_cents_per_page")
ACCOUNT_COLUMNS = ("name", "kind", "owner", "balance_cents", "credit_limit_cents")
LEDGER_COLUMNS = (
    "transaction_id",
    "recorded_at",
    "kind",
    "account",
    "amount_cents",
    "balance_after_cents",
    "description",
)
QUOTA_COLUMNS = ("id", "name", "scope", "period", "unit", "color_scope", "limit", "action")
ROLE_COLUMNS = ("name", "requires_card_pin", "allowed_functions", "color_allowed", "project_required")
PROJECT_COLUMNS = ("code", "name", "all_users", "groups", "active", "account")


def _import_report(reply: Any, args: argparse.Namespace) -> str:
    rows = _table(reply.rows, ("line", "username", "action", "message")) if reply.rows else "(no rows)"
    summary = (
        f"{reply.created} created, {reply.updated} updated, {reply.unchanged} unchanged,"
        f" {reply.errors} in error"
        f" ({'dry run: nothing was changed' if reply.dry_run else 'applied'})"
    )
    return f"{rows}\nsummary: {summary}"


def _adjust_report(reply: Any, args: argparse.Namespace) -> str:
    state = "already applied earlier (nothing changed)" if reply.already_applied else "applied"
    return (
        f"transaction {reply.transaction_id} {state}; balance now {reply.balance_cents} cents\n"
        f"idempotency key: {args.idempotency_key}"
    )


def _terminal_report(reply: Any, args: argparse.Namespace) -> str:
    terminal = _record(reply.terminal, TERMINAL_COLUMNS)
    return f"{terminal}\nkey       {reply.key}\n(the key is shown only now: store it on the terminal)"


def _check_report(reply: Any, args: argparse.Namespace) -> str:
    state = "ok" if reply.ok else "NOT ok"
    head = f"ledger {state}: {reply.transactions} transactions, {reply.accounts} accounts"
    return "\n".join([head, *(f"problem: {printable(problem)}" for problem in reply.problems)])


# -- verbs: each builds one AdminService request from the arguments ----------------------------

Build = Callable[[argparse.Namespace], Message]
Verdict = Callable[[Any], str | None]


@dataclass(frozen=True)
class Verb:
    """One ``GROUP VERB``: the RPC, its request, its text form, and when it counts as failed."""

    method: str
    build: Build
    render: Render
    verdict: Verdict | None = None
    idempotent: bool = False  # carries args.idempotency_key: printed with the reply and with errors
    service: str = "admin"  # "kiosk": the call goes to KioskAdminService


def _user(name: str) -> admin_pb2.UserRef:
    return admin_pb2.UserRef(username=name)


def _empty(args: argparse.Namespace) -> Message:
    return admin_pb2.Empty()


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
        values.billing = _enum_table(admin_pb2.Billing)[args.billing]
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
        values.initial_password = _stdin_secret("password")
    return values


def _update_user(args: argparse.Namespace) -> Message:
    values, given = _user_values(args)
    if not given:
        raise UsageError(
            "nothing to update: give at least one of --full-name, --email, --department, --role,"
            " --billing, --active/--inactive"
        )
    return admin_pb2.UpdateUserRequest(user=_user(args.username), fields=given, values=values)


def _set_pin(args: argparse.Namespace) -> Message:
    return admin_pb2.SetPinRequest(user=_user(args.username), pin=_secret(args, "pin"))


def _set_password(args: argparse.Namespace) -> Message:
    return admin_pb2.SetPasswordRequest(user=_user(args.username), password=_secret(args, "password"))


def _import_users(args: argparse.Namespace) -> Message:
    try:
        text = sys.stdin.read() if args.csv == "-" else Path(args.csv).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"cannot read CSV {args.csv}: {getattr(error, 'strerror', None) or error}") from None
    return admin_pb2.ImportUsersRequest(csv=text, dry_run=args.dry_run)


def _membership(member: bool) -> Build:
    def build(args: argparse.Namespace) -> Message:
        return admin_pb2.GroupMembershipRequest(
            group=args.group_name, user=_user(args.username), member=member
        )

    return build


def _role(args: argparse.Namespace) -> Message:
    functions = _enum_table(common_pb2.Function)
    return admin_pb2.Role(
        name=args.name,
        requires_card_pin=args.requires_card_pin,
        allowed_functions=[functions[name] for name in args.function or []],
        color_allowed=args.color_allowed,
        project_required=args.project_required,
    )


def _printer(args: argparse.Namespace) -> Message:
    names = ("name", "address", "transport", "vendor_profile", "printer_group", "location")
    return admin_pb2.Printer(**{name: getattr(args, name) for name in names})


def _terminal(args: argparse.Namespace) -> Message:
    kind = _enum_table(admin_pb2.TerminalKind)[args.kind]
    return admin_pb2.Terminal(id=args.id, kind=kind, printer=args.printer, location=args.location)


def _price(args: argparse.Namespace) -> Message:
    return admin_pb2.Price(
        printer_group=args.printer_group,
        function=_enum_table(common_pb2.Function)[args.function],
        color=_enum_table(common_pb2.ColorMode)[args.color],
        paper_size=args.paper_size,
        duplex=args.duplex,
        price_cents_per_page=args.price_cents_per_page,
    )


def _target(args: argparse.Namespace) -> dict[str, Any]:
    """The ``user``/``account`` oneof of adjust and ledger requests."""
    return {"user": _user(args.user)} if args.user else {"account": args.account}


def _adjust(args: argparse.Namespace) -> Message:
    if not args.reason.strip():
        raise UsageError("--reason must not be blank")
    # Chosen before the call and printed with the answer or the error, so that a retry after a
    # lost answer reuses it and the hub applies the adjustment once.
    args.idempotency_key = args.idempotency_key or f"admin-{uuid.uuid4()}"
    return admin_pb2.AdjustCreditRequest(
        amount_cents=args.amount_cents,
        reason=args.reason,
        idempotency_key=args.idempotency_key,
        **_target(args),
    )


def _ledger(args: argparse.Namespace) -> Message:
    return admin_pb2.GetLedgerRequest(
        limit=args.limit, before_transaction_id=args.before_transaction_id, **_target(args)
    )


def _quota(args: argparse.Namespace) -> Message:
    rule = admin_pb2.QuotaRule(
        name=args.name,
        period=_enum_table(common_pb2.QuotaPeriod)[args.period],
        unit=_enum_table(common_pb2.QuotaUnit)[args.unit],
        color_scope=_enum_table(common_pb2.QuotaColorScope)[args.color_scope],
        limit=args.limit,
        action=_enum_table(common_pb2.QuotaAction)[args.action],
    )
    if args.group:
        rule.group = args.group
    elif args.user:
        rule.user.CopyFrom(_user(args.user))
    else:
        rule.everyone = True
    return rule


def _import_failed(reply: Any) -> str | None:
    return f"{reply.errors} of {len(reply.rows)} rows in error (see the report)" if reply.errors else None


def _check_failed(reply: Any) -> str | None:
    return None if reply.ok else f"the ledger check found {len(reply.problems)} problem(s)"


# -- the command line -------------------------------------------------------------------------


def _positive_seconds(text: str) -> float:
    seconds = float(text)
    if not seconds > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, not {text}")
    return seconds


def _global_options(parser: argparse.ArgumentParser, defaults: bool) -> None:
    """Options accepted before GROUP and again after VERB (where they default to 'not given')."""

    def default(value: Any) -> Any:
        return value if defaults else argparse.SUPPRESS

    parser.add_argument(
        "--hub",
        default=default(None),
        metavar="HOST:PORT",
        help=f"hub address (env {HUB_ENV}, default {DEFAULT_HUB})",
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--token-file", type=Path, default=default(None), metavar="PATH", help="admin token file"
    )
    source.add_argument(
        "--data-dir",
        type=Path,
        default=default(None),
        metavar="DIR",
        help=f"hub data dir: use DIR/{TOKEN_FILE_NAME}",
    )
    parser.add_argument("--json", action="store_true", default=default(False), help="print one JSON document")
    parser.add_argument(
        "--timeout-s",
        type=_positive_seconds,
        default=default(DEFAULT_TIMEOUT_S),
        metavar="S",
        help="deadline per call",
    )


class _Verbs:
    """Adds ``GROUP VERB`` parsers, each carrying its :class:`Verb`."""

    def __init__(self, parser: argparse.ArgumentParser) -> None:
        self._groups = parser.add_subparsers(dest="group", metavar="GROUP", required=True)
        self._verbs: argparse._SubParsersAction[argparse.ArgumentParser] | None = None

    def group(self, name: str, help_text: str) -> None:
        """Start the verbs of a new group."""
        group = self._groups.add_parser(name, help=help_text, description=help_text)
        self._verbs = group.add_subparsers(dest="verb", metavar="VERB", required=True)

    def add(self, name: str, help_text: str, verb: Verb, *positionals: str) -> argparse.ArgumentParser:
        """Add one verb (with its positional arguments) to the current group; returns its parser."""
        assert self._verbs is not None
        parser = self._verbs.add_parser(name, help=help_text, description=help_text)
        for positional in positionals:
            parser.add_argument(positional)
        _global_options(parser, defaults=False)
        parser.set_defaults(verb_spec=verb)
        return parser


def _user_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--full-name")
    parser.add_argument("--email")
    parser.add_argument("--department", help="department (created when new)")
    parser.add_argument("--role", action="append", help="role name (repeat for several)")
    parser.add_argument("--billing", choices=sorted(_enum_table(admin_pb2.Billing)))
    active = parser.add_mutually_exclusive_group()
    active.add_argument("--active", dest="active", action="store_const", const=True, default=None)
    active.add_argument("--inactive", dest="active", action="store_const", const=False)


def _secret_options(parser: argparse.ArgumentParser, name: str) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(f"--{name}", help=f"the {name} (visible to other local users: prefer --{name}-stdin)")
    source.add_argument(
        f"--{name}-stdin", action="store_true", help=f"read the {name} from the first line of stdin"
    )


def _target_options(parser: argparse.ArgumentParser) -> None:
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--user", metavar="USERNAME", help="the user's prepaid account")
    target.add_argument("--account", metavar="NAME", help="an account by name, e.g. department:Physics")


def _add_user_verbs(verbs: _Verbs) -> None:
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
    verbs.add("show", "show one user", Verb("GetUser", lambda a: _user(a.username), detail), "username")
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
        lambda a: admin_pb2.SetPinRequest(user=_user(a.username)),
        lambda r, a: f"new PIN for {a.username}: {r.pin}",
    )
    verbs.add("reset-pin", "give a user a new PIN chosen by the hub (printed once)", new_pin, "username")
    password = Verb("SetPassword", _set_password, said("password set for {username}"))
    _secret_options(verbs.add("set-password", "set a user's password", password, "username"), "password")
    unlock = Verb(
        "UnlockIdentity",
        lambda a: admin_pb2.UnlockIdentityRequest(user=_user(a.username)),
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


def _add_card_verbs(verbs: _Verbs) -> None:
    verbs.group("card", "cards linked to users")
    card = Verb(
        "AddCard",
        lambda a: admin_pb2.Card(user=_user(a.username), number=a.number, label=a.label),
        record_of(("id", *CARD_COLUMNS)),
    )
    verbs.add("add", "link a card to a user", card, "username", "number").add_argument("--label", default="")
    remove = Verb("RemoveCard", lambda a: admin_pb2.CardRef(number=a.number), said("card {number} removed"))
    verbs.add("remove", "unlink a card", remove, "number")
    verbs.add(
        "list",
        "a user's cards",
        Verb("ListCards", lambda a: _user(a.username), table_of("cards", CARD_COLUMNS)),
        "username",
    )


def _add_group_verbs(verbs: _Verbs) -> None:
    verbs.group("group", "groups and departments")
    kinds = _enum_table(admin_pb2.GroupKind)
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
        Verb("ListGroups", _empty, table_of("groups", ("name", "kind", "member_count"))),
    )
    for name, member, done in (
        ("add-member", True, "added {username} to {group_name}"),
        ("remove-member", False, "removed {username} from {group_name}"),
    ):
        help_text = f"{'add a user to' if member else 'take a user out of'} a group"
        parser = verbs.add(name, help_text, Verb("SetGroupMembership", _membership(member), said(done)))
        parser.add_argument("group_name", metavar="group")
        parser.add_argument("username")


def _add_role_and_project_verbs(verbs: _Verbs) -> None:
    verbs.group("role", "roles: what their users may do")
    role = verbs.add(
        "set", "create or replace a role", Verb("UpsertRole", _role, record_of(ROLE_COLUMNS)), "name"
    )
    role.add_argument(
        "--function",
        action="append",
        choices=sorted(_enum_table(common_pb2.Function)),
        help="allowed (repeat)",
    )
    role.add_argument("--color-allowed", action="store_true")
    role.add_argument(
        "--requires-card-pin", action="store_true", help="a card alone is not enough: ask its PIN"
    )
    role.add_argument("--project-required", action="store_true")
    verbs.add("list", "list roles", Verb("ListRoles", _empty, table_of("roles", ROLE_COLUMNS)))

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
    verbs.add("list", "list projects", Verb("ListProjects", _empty, table_of("projects", PROJECT_COLUMNS)))


def _add_printer_and_terminal_verbs(verbs: _Verbs) -> None:
    verbs.group("printer", "printers")
    printer = verbs.add(
        "set",
        "create or replace a printer",
        Verb("UpsertPrinter", _printer, record_of(("id", *PRINTER_COLUMNS))),
        "name",
    )
    printer.add_argument("--address", required=True, help="host or host:port")
    printer.add_argument("--transport", default="raw9100", help="raw9100, lpd or ipp")
    printer.add_argument("--vendor-profile", default="generic")
    printer.add_argument("--printer-group", default="default", help="price list group")
    printer.add_argument("--location", default="")
    verbs.add("list", "list printers", Verb("ListPrinters", _empty, table_of("printers", PRINTER_COLUMNS)))

    verbs.group("terminal", "terminals and kiosks")
    create = verbs.add(
        "create",
        "register a terminal or kiosk; prints its key once",
        Verb("CreateTerminal", _terminal, _terminal_report),
        "id",
    )
    create.add_argument("--kind", choices=sorted(_enum_table(admin_pb2.TerminalKind)), default="terminal")
    create.add_argument("--printer", default="", help="the printer it stands at")
    create.add_argument("--location", default="")
    verbs.add(
        "list",
        "list terminals and kiosks",
        Verb("ListTerminals", _empty, table_of("terminals", TERMINAL_COLUMNS)),
    )
    unlock = Verb(
        "UnlockIdentity",
        lambda a: admin_pb2.UnlockIdentityRequest(terminal_id=a.id),
        said("unlocked terminal {id}"),
    )
    verbs.add("unlock", "lift a terminal's lockout after failed logins", unlock, "id")


def _add_price_verbs(verbs: _Verbs) -> None:
    verbs.group("price", "price lists")
    price = verbs.add(
        "set",
        "set the price per page of one kind of page",
        Verb("SetPrice", _price, record_of(PRICE_COLUMNS)),
    )
    price.add_argument("--printer-group", default="default")
    price.add_argument("--function", required=True, choices=sorted(_enum_table(common_pb2.Function)))
    price.add_argument("--color", required=True, choices=sorted(_enum_table(common_pb2.ColorMode)))
    price.add_argument("--paper-size", default="*", help="e.g. A4; '*' for any size without its own price")
    price.add_argument("--duplex", action="store_true")
    price.add_argument("--price-cents-per-page", type=int, required=True)
    prices = Verb(
        "ListPrices",
        lambda a: admin_pb2.ListPricesRequest(printer_group=a.printer_group),
        table_of("prices", PRICE_COLUMNS),
    )
    verbs.add("list", "list prices", prices).add_argument(
        "--printer-group", default="", help="only this group"
    )


def _add_account_verbs(verbs: _Verbs) -> None:
    verbs.group("account", "accounts, credit and the ledger")
    accounts = Verb(
        "ListAccounts",
        lambda a: (
            admin_pb2.ListAccountsRequest(user=_user(a.user)) if a.user else admin_pb2.ListAccountsRequest()
        ),
        table_of("accounts", ACCOUNT_COLUMNS),
    )
    verbs.add("list", "list accounts", accounts).add_argument(
        "--user", metavar="USERNAME", help="only this user's"
    )
    adjust = verbs.add(
        "adjust",
        "add (or with a negative amount, remove) credit",
        Verb("AdjustCredit", _adjust, _adjust_report, idempotent=True),
    )
    _target_options(adjust)
    adjust.add_argument("--amount-cents", type=int, required=True, help="positive adds, negative removes")
    adjust.add_argument("--reason", required=True)
    adjust.add_argument(
        "--idempotency-key", default="", help="reuse to retry safely (default: a new one, printed)"
    )
    limit = Verb(
        "SetCreditLimit",
        lambda a: admin_pb2.SetCreditLimitRequest(
            user=_user(a.username), credit_limit_cents=a.credit_limit_cents
        ),
        record_of(ACCOUNT_COLUMNS),
    )
    verbs.add("set-limit", "set a user's prepaid overdraft", limit, "username").add_argument(
        "--credit-limit-cents", type=int, required=True
    )
    ledger = verbs.add(
        "ledger",
        "ledger entries, newest first",
        Verb("GetLedger", _ledger, table_of("entries", LEDGER_COLUMNS)),
    )
    _target_options(ledger)
    ledger.add_argument("--limit", type=int, default=100)
    ledger.add_argument(
        "--before-transaction-id", type=int, default=0, help="page back from this transaction"
    )
    verbs.add(
        "check", "check the ledger's invariants", Verb("CheckLedger", _empty, _check_report, _check_failed)
    )


def _add_quota_verbs(verbs: _Verbs) -> None:
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
    quota.add_argument("--period", required=True, choices=list(_enum_table(common_pb2.QuotaPeriod)))
    quota.add_argument("--unit", required=True, choices=list(_enum_table(common_pb2.QuotaUnit)))
    quota.add_argument("--color-scope", default="any", choices=list(_enum_table(common_pb2.QuotaColorScope)))
    quota.add_argument("--limit", type=int, required=True, help="pages, or cents with --unit cents")
    quota.add_argument("--action", default="block", choices=list(_enum_table(common_pb2.QuotaAction)))
    verbs.add("list", "list quota rules", Verb("ListQuotaRules", _empty, table_of("rules", QUOTA_COLUMNS)))
    delete = Verb(
        "DeleteQuotaRule", lambda a: admin_pb2.QuotaRuleRef(id=a.id), said("quota rule {id} deleted")
    )
    verbs.add("delete", "delete a quota rule (and its usage counters)", delete).add_argument("id", type=int)


ALREADY_APPLIED = kiosk_pb2.CREDIT_OUTCOME_ALREADY_APPLIED
BATCH_COLUMNS = ("id", "label", "prefix", "value_cents", "count", "redeemed", "created_at", "expires_at")
REDEEMED_COLUMNS = (
    "outcome",
    "transaction_id",
    "credited_cents",
    "balance_cents",
    "arrears_cents",
    "batch_id",
)
CASHBOX_COLUMNS = ("device_kind", "value_cents", "expected_count", "counted_count")
EMPTIED_COLUMNS = ("transaction_id", "kiosk_id", "expected_cents", "counted_cents", "difference_cents")


def _instant(text: str) -> Timestamp:
    """An ISO 8601 date or date-time (UTC unless it carries an offset)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date or date-time: {text}") from None
    stamp = Timestamp()
    stamp.FromDatetime(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
    return stamp


def _denomination_count(text: str) -> kiosk_pb2.DenominationCount:
    """``KIND:VALUE_CENTS=COUNT``, e.g. ``coin:200=15``."""
    kinds = _enum_table(kiosk_pb2.CashDeviceKind)
    slot, _, count = text.partition("=")
    kind, _, value = slot.partition(":")
    if kind not in kinds or not value.isdigit() or not count.isdigit():
        raise argparse.ArgumentTypeError(f"expected KIND:VALUE_CENTS=COUNT (kind coin or note), not {text}")
    return kiosk_pb2.DenominationCount(device_kind=kinds[kind], value_cents=int(value), count=int(count))


def _batch_created(reply: Any, args: argparse.Namespace) -> str:
    codes = "\n".join(reply.codes)
    return (
        f"{_record(reply.batch, BATCH_COLUMNS)}\ncodes:\n{codes}\n"
        f"(export again with: printgate admin voucher export {reply.batch.id})"
    )


def _cashbox_report(reply: Any, args: argparse.Namespace) -> str:
    emptied = reply.last_emptied_at.ToJsonString() if reply.HasField("last_emptied_at") else "never"
    lines = _table(reply.lines, CASHBOX_COLUMNS[:3]) if reply.lines else "(empty)"
    return f"{_record(reply, ('kiosk_id', 'expected_cents', 'currency'))}\nlast emptied    {emptied}\n{lines}"


def _cashbox_emptied(reply: Any, args: argparse.Namespace) -> str:
    state = "already recorded earlier (nothing changed)" if reply.outcome == ALREADY_APPLIED else "recorded"
    lines = _table(reply.lines, CASHBOX_COLUMNS) if reply.lines else "(nothing expected, nothing counted)"
    return (
        f"{_record(reply, EMPTIED_COLUMNS)}\n{lines}\n"
        f"emptying {state}; idempotency key: {args.idempotency_key}"
    )


def _voucher_unlock(args: argparse.Namespace) -> Message:
    if args.user:
        return kiosk_pb2.UnlockVoucherRedemptionRequest(user=_user(args.user))
    return kiosk_pb2.UnlockVoucherRedemptionRequest(terminal_id=args.terminal)


def _empty_cashbox(args: argparse.Namespace) -> Message:
    args.idempotency_key = args.idempotency_key or f"admin-{uuid.uuid4()}"
    return kiosk_pb2.EmptyCashBoxRequest(
        kiosk_id=args.kiosk_id, counted=args.count or [], idempotency_key=args.idempotency_key, note=args.note
    )


def _add_voucher_and_cashbox_verbs(verbs: _Verbs) -> None:
    verbs.group("voucher", "voucher batches and redemption")
    create = verbs.add(
        "create",
        "create a batch of single-use vouchers; prints their codes",
        Verb(
            "CreateVoucherBatch",
            lambda a: kiosk_pb2.CreateVoucherBatchRequest(
                value_cents=a.value_cents, count=a.count, expires_at=a.expires, prefix=a.prefix, label=a.label
            ),
            _batch_created,
            service="kiosk",
        ),
    )
    create.add_argument("--value-cents", type=int, required=True, help="what each voucher is worth")
    create.add_argument("--count", type=int, required=True, help="how many (1..10000)")
    create.add_argument(
        "--expires", type=_instant, required=True, metavar="WHEN", help="ISO 8601 date or date-time (UTC)"
    )
    create.add_argument("--prefix", default="", help="up to 6 code characters that start every code")
    create.add_argument("--label", default="")
    batches = Verb(
        "ListVoucherBatches",
        lambda a: kiosk_pb2.ListVoucherBatchesRequest(),
        table_of("batches", BATCH_COLUMNS),
        service="kiosk",
    )
    verbs.add("list", "list voucher batches", batches)
    export = Verb(
        "ExportVoucherBatch",
        lambda a: kiosk_pb2.ExportVoucherBatchRequest(
            batch_id=a.batch_id, include_redeemed=a.include_redeemed
        ),
        lambda reply, args: str(reply.csv).rstrip("\n"),
        service="kiosk",
    )
    exporting = verbs.add("export", "a batch's codes as CSV (unredeemed only by default)", export)
    exporting.add_argument("batch_id", type=int)
    exporting.add_argument("--include-redeemed", action="store_true")
    redeem = Verb(
        "RedeemVoucherForUser",
        lambda a: kiosk_pb2.RedeemVoucherForUserRequest(user=_user(a.username), code=a.code),
        record_of(REDEEMED_COLUMNS),
        service="kiosk",
    )
    verbs.add("redeem", "redeem a code for a user", redeem, "username", "code")
    unlock = verbs.add(
        "unlock",
        "lift the voucher lockout of a user or a kiosk after wrong codes",
        Verb(
            "UnlockVoucherRedemption", _voucher_unlock, said("voucher redemption unlocked"), service="kiosk"
        ),
    )
    target = unlock.add_mutually_exclusive_group(required=True)
    target.add_argument("--user", metavar="USERNAME")
    target.add_argument("--terminal", metavar="ID", help="a kiosk or terminal")

    verbs.group("cashbox", "kiosk cash boxes")
    report = Verb(
        "GetCashBox", lambda a: kiosk_pb2.CashBoxRef(kiosk_id=a.kiosk_id), _cashbox_report, service="kiosk"
    )
    verbs.add("report", "what a kiosk's box should hold since it was last emptied", report, "kiosk_id")
    empty = verbs.add(
        "empty",
        "record an emptied box: counted against the ledger, the difference booked",
        Verb("EmptyCashBox", _empty_cashbox, _cashbox_emptied, idempotent=True, service="kiosk"),
        "kiosk_id",
    )
    empty.add_argument(
        "--count",
        type=_denomination_count,
        action="append",
        metavar="KIND:VALUE_CENTS=N",
        help="counted coins or notes of one value, e.g. coin:200=15 (repeat; omitted: 0)",
    )
    empty.add_argument("--note", default="", help="e.g. who counted")
    empty.add_argument(
        "--idempotency-key", default="", help="reuse to retry safely (default: a new one, printed)"
    )


PRINT_JOB_COLUMNS = (
    "id",
    "owner",
    "submitted_by",
    "name",
    "state",
    "pages",
    "color_pages",
    "copies",
    "size_bytes",
)


def _delegation(args: argparse.Namespace) -> Message:
    delegation = admin_pb2.Delegation(owner=_user(args.owner))
    if args.to_user:
        delegation.delegate_user.username = args.to_user
    else:
        delegation.delegate_group = args.to_group
    return delegation


def _delegations_report(reply: Any, args: argparse.Namespace) -> str:
    rows = [
        f"{printable(d.owner.username)} -> "
        + (
            f"user {printable(d.delegate_user.username)}"
            if d.HasField("delegate_user")
            else f"group {printable(d.delegate_group)}"
        )
        for d in reply.delegations
    ]
    return "\n".join(rows) or "(none)"


def _add_print_job_verbs(verbs: _Verbs) -> None:
    verbs.group("printjob", "held print jobs (pull printing)")
    listing = verbs.add(
        "list",
        "held and recent print jobs, newest first",
        Verb(
            "ListPrintJobs",
            lambda a: admin_pb2.ListPrintJobsRequest(
                owner=_user(a.owner) if a.owner else None, limit=a.limit
            ),
            table_of("jobs", PRINT_JOB_COLUMNS),
        ),
    )
    listing.add_argument("--owner", metavar="USERNAME")
    listing.add_argument("--limit", type=int, default=0, help="at most this many (default and maximum 1000)")
    delete = verbs.add(
        "delete",
        "cancel jobs and shred their documents",
        Verb(
            "DeletePrintJobs",
            lambda a: admin_pb2.DeletePrintJobsRequest(job_ids=a.job_id),
            lambda reply, args: f"{reply.deleted} job(s) deleted",
        ),
    )
    delete.add_argument("job_id", type=int, nargs="+")
    assign = verbs.add(
        "assign",
        "give a job held for claiming (unknown submitter) to a user",
        Verb(
            "AssignPrintJob",
            lambda a: admin_pb2.AssignPrintJobRequest(job_id=a.job_id, owner=_user(a.username)),
            record_of(PRINT_JOB_COLUMNS),
        ),
    )
    assign.add_argument("job_id", type=int)
    assign.add_argument("username")
    verbs.group("delegation", "who may release whose print jobs")
    for name, method, done, help_text in (
        ("add", "DelegateJobs", "delegated", "let a user or a group release OWNER's jobs"),
        ("remove", "UndelegateJobs", "delegation removed", "withdraw a delegation"),
    ):
        parser = verbs.add(name, help_text, Verb(method, _delegation, said(done)), "owner")
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--to-user", metavar="USERNAME")
        target.add_argument("--to-group", metavar="GROUP")
    listing = verbs.add(
        "list",
        "delegations (of one owner, or all)",
        Verb(
            "ListDelegations",
            lambda a: admin_pb2.ListDelegationsRequest(owner=_user(a.owner) if a.owner else None),
            _delegations_report,
        ),
    )
    listing.add_argument("--owner", metavar="USERNAME")


VERB_GROUPS = (
    _add_user_verbs,
    _add_card_verbs,
    _add_group_verbs,
    _add_role_and_project_verbs,
    _add_printer_and_terminal_verbs,
    _add_price_verbs,
    _add_account_verbs,
    _add_quota_verbs,
    _add_voucher_and_cashbox_verbs,
    _add_print_job_verbs,
)


def register(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``printgate admin``."""
    _global_options(parser, defaults=True)
    verbs = _Verbs(parser)
    for add_group in VERB_GROUPS:
        add_group(verbs)
    parser.set_defaults(func=run)


# -- running ----------------------------------------------------------------------------------


def _json(reply: Message, args: argparse.Namespace, verb: Verb) -> str:
    document = MessageToDict(
        reply,
        preserving_proto_field_name=True,
        always_print_fields_with_no_presence=True,
        unquote_int64_if_possible=True,
    )
    if verb.idempotent:
        document["idempotency_key"] = args.idempotency_key
    return json.dumps(document, indent=2, sort_keys=True)


def _call(verb: Verb, args: argparse.Namespace) -> Message:
    """Build the request (usage errors first), then make the call."""
    request = verb.build(args)
    client = AdminClient(
        args.hub or os.environ.get(HUB_ENV) or DEFAULT_HUB, resolve_token(args), args.timeout_s
    )
    try:
        return client.call(verb.method, request, verb.service)
    except AdminCommandError as error:
        if verb.idempotent:
            raise type(error)(f"{error} (to retry, pass --idempotency-key {args.idempotency_key})") from None
        raise
    finally:
        client.close()


def run(args: argparse.Namespace) -> int:
    """Run one admin command; returns the exit code (see the module docstring)."""
    verb: Verb = args.verb_spec
    try:
        reply = _call(verb, args)
    except AdminCommandError as error:
        print(f"{PROG}: {error}", file=sys.stderr)
        return error.exit_code
    print(_json(reply, args, verb) if args.json else verb.render(reply, args))
    failure = verb.verdict(reply) if verb.verdict else None
    if failure:
        print(f"{PROG}: {failure}", file=sys.stderr)
        return 1
    return 0
