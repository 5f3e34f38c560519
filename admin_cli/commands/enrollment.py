"""``printgate admin enrollment ...``: tokens with which terminals and kiosks get their
certificates (``printgate terminal enroll --token ...`` on the device)."""

from __future__ import annotations

import argparse
import re
from typing import Any

from google.protobuf.message import Message
from printgate.v1 import admin_pb2

from admin_cli.render import enum_values, said, table_of
from admin_cli.verbs import Verb, VerbTable, empty

TOKEN_COLUMNS = (
    "token_id",
    "kind",
    "terminal_id",
    "printer",
    "uses_count",
    "uses_max",
    "state",
    "expires_at",
    "note",
)
_DURATION = re.compile(r"^(\d+)([smhd]?)$")
_UNIT_S = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86_400}


def duration_s(text: str) -> int:
    """``90s``, ``30m``, ``24h``, ``7d`` or plain seconds."""
    match = _DURATION.match(text.strip().lower())
    if match is None or int(match.group(1)) == 0:
        raise argparse.ArgumentTypeError(f"expected a duration like 24h, 30m, 7d or seconds, not {text}")
    return int(match.group(1)) * _UNIT_S[match.group(2)]


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {text}")
    return int(text)


def _create(args: argparse.Namespace) -> Message:
    return admin_pb2.CreateEnrollmentTokenRequest(
        kind=enum_values(admin_pb2.TerminalKind)[args.kind],
        printer=args.printer,
        terminal_id=args.terminal_id,
        expires_s=args.expires,
        uses=args.uses,
        note=args.note,
    )


def _token_only(reply: Any, args: argparse.Namespace) -> str:
    # One line, the token alone, so `TOKEN=$(printgate admin enrollment create ...)` works;
    # --json gives the record too.
    return str(reply.token)


def add_verbs(verbs: VerbTable) -> None:
    verbs.group("enrollment", "enrollment tokens for terminals and kiosks")
    create = verbs.add(
        "create",
        "make a token (printed once) a device enrolls with: printgate terminal|kiosk enroll --token",
        Verb("CreateEnrollmentToken", _create, _token_only),
    )
    create.add_argument("--kind", choices=sorted(enum_values(admin_pb2.TerminalKind)), required=True)
    create.add_argument("--printer", default="", help="the printer the device stands at")
    create.add_argument(
        "--terminal-id", default="", help="enroll exactly this id (default: the hub names it)"
    )
    create.add_argument(
        "--expires", type=duration_s, default=86_400, metavar="DURATION", help="e.g. 24h (default), 30m, 7d"
    )
    create.add_argument("--uses", type=_positive, default=1, help="devices it may enroll (default 1)")
    create.add_argument("--note", default="", help="a note for the token list")
    verbs.add(
        "list",
        "list tokens (never their secrets)",
        Verb("ListEnrollmentTokens", empty, table_of("tokens", TOKEN_COLUMNS)),
    )
    revoke = Verb(
        "RevokeEnrollmentToken",
        lambda a: admin_pb2.EnrollmentTokenRef(token_id=a.token_id),
        said("revoked enrollment token {token_id}"),
    )
    verbs.add("revoke", "no device enrolls with this token any more", revoke, "token_id")
