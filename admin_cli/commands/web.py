"""``printgate admin console-user ...`` (web console accounts) and ``printgate admin report
...`` (a report as CSV, XLSX or PDF, written to a file or stdout)."""

from __future__ import annotations

import argparse
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from google.protobuf.message import Message
from printgate.v1 import admin_pb2

from admin_cli.client import stdin_secret
from admin_cli.errors import UsageError
from admin_cli.render import printable, record_of, table_of
from admin_cli.verbs import Verb, VerbTable, empty

CONSOLE_USER_COLUMNS = ("id", "username", "role", "active")
ROLES = ("admin", "helpdesk", "auditor")
KINDS = ("usage", "environment", "cash")
DIMENSIONS = ("user", "department", "project", "printer", "site", "day")
FORMATS = ("csv", "xlsx", "pdf")


def _create(args: argparse.Namespace) -> Message:
    if not args.password_stdin:
        raise UsageError("give the password on stdin with --password-stdin (it never goes in argv)")
    return admin_pb2.CreateConsoleUserRequest(
        username=args.name, role=args.role, password=stdin_secret("password")
    )


def _last_month() -> tuple[str, str]:
    first_of_this = date.today().replace(day=1)
    last = first_of_this - timedelta(days=1)
    return last.replace(day=1).isoformat(), last.isoformat()


def _report(args: argparse.Namespace) -> Message:
    first, last = _last_month()
    return admin_pb2.ExportReportRequest(
        kind=args.kind,
        dimension=args.by,
        first_day=args.first or first,
        last_day=args.last or last,
        format=args.format,
    )


def _write_report(reply: Any, args: argparse.Namespace) -> str:
    """The file goes to ``--output`` (or stdout's bytes); the text is what was written."""
    if args.output is None or str(args.output) == "-":
        sys.stdout.buffer.write(reply.data)
        sys.stdout.buffer.flush()
        return ""
    try:
        args.output.write_bytes(reply.data)
    except OSError as error:
        raise UsageError(f"cannot write {args.output}: {error.strerror}") from None
    return f"{printable(reply.file_name)}: {len(reply.data)} bytes written to {args.output}"


def add_verbs(verbs: VerbTable) -> None:
    verbs.group("console-user", "web console accounts (admin, helpdesk, auditor)")
    create = verbs.add(
        "create",
        "create a console account; the password comes from stdin",
        Verb("CreateConsoleUser", _create, record_of(CONSOLE_USER_COLUMNS)),
        "name",
    )
    create.add_argument("--role", choices=ROLES, required=True)
    create.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    verbs.add(
        "list",
        "list console accounts",
        Verb("ListConsoleUsers", empty, table_of("users", CONSOLE_USER_COLUMNS)),
    )
    verbs.add(
        "unlock",
        "lift a console name's login lockout",
        Verb(
            "UnlockConsoleUser", lambda a: admin_pb2.ConsoleUserRef(username=a.name), lambda r, a: "unlocked"
        ),
        "name",
    )
    verbs.group("report", "reports as CSV, XLSX or PDF")
    export = verbs.add(
        "export",
        "one report over a period (default: last month) as a file",
        Verb("ExportReport", _report, _write_report, stream="chunks"),
    )
    export.add_argument("--kind", choices=KINDS, default="usage")
    export.add_argument("--by", choices=DIMENSIONS, default="user", help="usage reports: rows per ...")
    export.add_argument("--from", dest="first", metavar="YYYY-MM-DD", help="first day (included)")
    export.add_argument("--to", dest="last", metavar="YYYY-MM-DD", help="last day (included)")
    export.add_argument("--format", choices=FORMATS, default="csv")
    export.add_argument("--output", "-o", type=Path, metavar="FILE", help="where to write (default: stdout)")
