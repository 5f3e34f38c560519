"""``printgate terminal enroll`` and ``printgate kiosk enroll``: one token to a certificate.

The role's command resolves where its identity lives (``--state-dir``, else its config's); this
module reads the token (``--token``, ``--token-file``, else ``PRINTGATE_ENROLLMENT_TOKEN``: a
file or the environment keep it out of the process list), enrolls and says what happened. The
token is never printed or logged. Exit codes: 0 enrolled, 1 refused or the hub not trusted,
2 a usage error or a malformed token, 3 no hub address answered.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from terminal_app.errors import ConfigError, EnrollmentError, HubUnreachable, TokenInvalid
from terminal_app.hub.enrollment.client import DeviceEnrollment

__all__ = ["TOKEN_ENV", "add_token_arguments", "enroll_command"]

TOKEN_ENV = "PRINTGATE_ENROLLMENT_TOKEN"


def add_token_arguments(parser: argparse.ArgumentParser) -> None:
    """``--token``, ``--token-file`` and ``--state-dir``."""
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--token", help=f"the token from `printgate admin enrollment create` (or env {TOKEN_ENV})"
    )
    source.add_argument("--token-file", type=Path, help="a file holding the token")
    parser.add_argument("--state-dir", type=Path, help="where the key and certificate are kept")


def add_enroll_action(
    actions: Any, kind: str, identity_dir_of: Callable[[Path], Path], default_state_dir: Path
) -> None:
    """The ``enroll`` action of ``printgate KIND``: its state dir from ``--state-dir``, else from
    the device's ``--config`` (``identity_dir_of`` reads it), else ``default_state_dir``."""
    enroll = actions.add_parser(
        "enroll", help=f"get this {kind}'s certificate with a token from the hub's admin (first start)"
    )
    add_token_arguments(enroll)
    enroll.add_argument("--config", type=Path, default=argparse.SUPPRESS, help=f"{kind}.toml: its state dir")

    def run(args: argparse.Namespace) -> int:
        state_dir = args.state_dir
        if state_dir is None and args.config is not None:
            try:
                state_dir = identity_dir_of(args.config)
            except ConfigError as exc:
                print(f"printgate {kind} enroll: {exc}", file=sys.stderr)
                return 2
        return enroll_command(args, kind, state_dir or default_state_dir)

    enroll.set_defaults(func=run)


def _token(args: argparse.Namespace) -> str:
    if args.token:
        return str(args.token)
    if args.token_file:
        return Path(args.token_file).read_text()
    return os.environ.get(TOKEN_ENV, "")


def enroll_command(args: argparse.Namespace, kind: str, state_dir: Path) -> int:
    """Enroll this device as ``kind`` into ``state_dir``; prints one line; the exit code."""
    prog = f"printgate {kind} enroll"
    try:
        token = _token(args)
    except OSError as error:
        print(f"{prog}: cannot read the token: {error.strerror}", file=sys.stderr)
        return 2
    if not token.strip():
        print(f"{prog}: give --token, --token-file or set {TOKEN_ENV}", file=sys.stderr)
        return 2
    try:
        credentials = asyncio.run(DeviceEnrollment(state_dir, kind).enroll(token))
    except TokenInvalid as error:
        print(f"{prog}: {error}", file=sys.stderr)
        return 2
    except HubUnreachable as error:
        print(f"{prog}: {error.detail}", file=sys.stderr)
        return 3
    except EnrollmentError as error:
        print(f"{prog}: {error}", file=sys.stderr)
        return 1
    until = credentials.certificate.not_valid_after_utc.isoformat(timespec="seconds")
    print(
        f"enrolled as {kind} {credentials.device_id}: hub {', '.join(credentials.endpoints)}, "
        f"certificate valid until {until} (renewed by itself), kept in {state_dir}"
    )
    return 0
