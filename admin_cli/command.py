"""``printgate admin``: the parser (global options and every command group's verbs) and
running one verb."""

from __future__ import annotations

import argparse
import json
import os
import sys

from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message

from admin_cli.client import DEFAULT_HUB, DEFAULT_TIMEOUT_S, HUB_ENV, AdminClient, resolve_ca, resolve_token
from admin_cli.commands import GROUPS
from admin_cli.errors import AdminCommandError
from admin_cli.verbs import Verb, VerbTable, global_options

__all__ = ["register", "run"]

PROG = "printgate admin"


def register(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``printgate admin``."""
    global_options(parser, defaults=True)
    verbs = VerbTable(parser)
    for add_group in GROUPS:
        add_group(verbs)
    parser.set_defaults(func=run)


# -- running ----------------------------------------------------------------------------------


def _dict(message: Message) -> dict[str, object]:
    return MessageToDict(
        message,
        preserving_proto_field_name=True,
        always_print_fields_with_no_presence=True,
        unquote_int64_if_possible=True,
    )


def _json(reply: Message | list[Message], args: argparse.Namespace, verb: Verb) -> str:
    document = {"events": [_dict(event) for event in reply]} if isinstance(reply, list) else _dict(reply)
    if verb.idempotent:
        document["idempotency_key"] = args.idempotency_key
    return json.dumps(document, indent=2, sort_keys=True)


def _call(verb: Verb, args: argparse.Namespace) -> Message | list[Message]:
    """Build the request (usage errors first), then make the call."""
    request = verb.build(args)
    client = AdminClient(
        args.hub or os.environ.get(HUB_ENV) or DEFAULT_HUB,
        resolve_token(args),
        args.timeout_s or verb.timeout_s or DEFAULT_TIMEOUT_S,
        resolve_ca(args),
    )
    try:
        if verb.stream == "chunks":
            return client.call_stream(verb.method, request)
        if verb.stream == "events":
            return client.stream(verb.method, request, verb.service)
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
    try:
        text = _json(reply, args, verb) if args.json else verb.render(reply, args)
    except AdminCommandError as error:
        print(f"{PROG}: {error}", file=sys.stderr)
        return error.exit_code
    if text:
        print(text)
    failure = verb.verdict(reply) if verb.verdict else None
    if failure:
        print(f"{PROG}: {failure}", file=sys.stderr)
        return 1
    return 0
