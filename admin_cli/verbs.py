"""The data-driven verb table: each ``GROUP VERB`` is a :class:`Verb` (which RPC, how its
request is built from the arguments, how its reply is shown, when it counts as failed), added to
the parser by a :class:`VerbTable`; the options every verb accepts."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from google.protobuf.message import Message
from printgate.v1 import admin_pb2

from admin_cli.client import CA_ENV, CA_FILE_NAME, DEFAULT_HUB, DEFAULT_TIMEOUT_S, HUB_ENV, TOKEN_FILE_NAME
from admin_cli.render import Render

__all__ = ["Build", "Verb", "VerbTable", "Verdict", "empty", "global_options", "user_ref"]

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
    # "kiosk", "directory", "scan", "sites", "fleet", "rules": the call goes to that service
    service: str = "admin"
    # "chunks": a server stream of file chunks joined into one reply; "events": a server stream
    # whose reply rendered is the list of its messages
    stream: str = ""
    timeout_s: float | None = None  # the deadline when --timeout-s is not given (long runs)


def user_ref(name: str) -> admin_pb2.UserRef:
    return admin_pb2.UserRef(username=name)


def empty(args: argparse.Namespace) -> Message:
    return admin_pb2.Empty()


def _positive_seconds(text: str) -> float:
    seconds = float(text)
    if not seconds > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, not {text}")
    return seconds


def global_options(parser: argparse.ArgumentParser, defaults: bool) -> None:
    """Options accepted before GROUP and again after VERB (where they default to 'not given')."""

    def default(value: Any) -> Any:
        return value if defaults else argparse.SUPPRESS

    parser.add_argument(
        "--hub",
        default=default(None),
        metavar="HOST:PORT[,HOST:PORT...]",
        help=f"the hub's admin port; several replicas comma-separated (env {HUB_ENV}, default {DEFAULT_HUB})",
    )
    parser.add_argument(
        "--ca",
        type=Path,
        default=default(None),
        metavar="FILE",
        help=f"the hub's CA certificate, PEM (env {CA_ENV}; with --data-dir: DIR/{CA_FILE_NAME})",
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
        help=f"hub data dir: use DIR/{TOKEN_FILE_NAME} and DIR/{CA_FILE_NAME}",
    )
    parser.add_argument("--json", action="store_true", default=default(False), help="print one JSON document")
    parser.add_argument(
        "--timeout-s",
        type=_positive_seconds,
        default=default(None),
        metavar="S",
        help=f"deadline per call (default {DEFAULT_TIMEOUT_S:g}, longer for a directory sync)",
    )


class VerbTable:
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
        global_options(parser, defaults=False)
        parser.set_defaults(verb_spec=verb)
        return parser
