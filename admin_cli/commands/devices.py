"""``printgate admin printer ...`` and ``terminal ...``: the device registry."""

from __future__ import annotations

import argparse
from typing import Any

from google.protobuf.message import Message
from printgate.v1 import admin_pb2

from admin_cli.render import enum_values, record, record_of, said, table_of
from admin_cli.verbs import Verb, VerbTable, empty

PRINTER_COLUMNS = ("name", "address", "transport", "vendor_profile", "printer_group", "location")
TERMINAL_COLUMNS = ("id", "kind", "printer", "location")


def _terminal_report(reply: Any, args: argparse.Namespace) -> str:
    terminal = record(reply.terminal, TERMINAL_COLUMNS)
    if reply.key:  # a hub in development plaintext mode
        return f"{terminal}\nkey       {reply.key}\n(development plaintext hub: the key is shown only now)"
    kind = args.kind
    return (
        f"{terminal}\n(it gets its certificate by enrolling: printgate admin enrollment create "
        f"--kind {kind} --terminal-id {args.id}, then printgate {kind} enroll --token TOKEN on the device)"
    )


def _revoked(reply: Any, args: argparse.Namespace) -> str:
    return f"revoked terminal {args.id} ({reply.revoked_certificates} valid certificates)"


def _printer(args: argparse.Namespace) -> Message:
    names = ("name", "address", "transport", "vendor_profile", "printer_group", "location")
    return admin_pb2.Printer(**{name: getattr(args, name) for name in names})


def _terminal(args: argparse.Namespace) -> Message:
    kind = enum_values(admin_pb2.TerminalKind)[args.kind]
    return admin_pb2.Terminal(id=args.id, kind=kind, printer=args.printer, location=args.location)


def add_verbs(verbs: VerbTable) -> None:
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
    verbs.add("list", "list printers", Verb("ListPrinters", empty, table_of("printers", PRINTER_COLUMNS)))

    verbs.group("terminal", "terminals and kiosks")
    create = verbs.add(
        "create",
        "register a terminal or kiosk beforehand (its printer); it enrolls with a token",
        Verb("CreateTerminal", _terminal, _terminal_report),
        "id",
    )
    create.add_argument("--kind", choices=sorted(enum_values(admin_pb2.TerminalKind)), default="terminal")
    create.add_argument("--printer", default="", help="the printer it stands at")
    create.add_argument("--location", default="")
    verbs.add(
        "list",
        "list terminals and kiosks",
        Verb("ListTerminals", empty, table_of("terminals", TERMINAL_COLUMNS)),
    )
    unlock = Verb(
        "UnlockIdentity",
        lambda a: admin_pb2.UnlockIdentityRequest(terminal_id=a.id),
        said("unlocked terminal {id}"),
    )
    verbs.add("unlock", "lift a terminal's lockout after failed logins", unlock, "id")
    revoke = verbs.add(
        "revoke",
        "disable a terminal or kiosk at once: its certificates are refused (stolen, retired)",
        Verb(
            "RevokeTerminal",
            lambda a: admin_pb2.RevokeTerminalRequest(terminal_id=a.id, reason=a.reason),
            _revoked,
        ),
        "id",
    )
    revoke.add_argument("--reason", default="", help="kept with the revocation")
