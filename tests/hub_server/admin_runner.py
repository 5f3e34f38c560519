"""``printgate admin ...`` run in-process against a test hub, with its exit code and output."""

from __future__ import annotations

import asyncio
import contextlib
import io
import shlex
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

from hub_server.server import ADMIN_TOKEN_FILE, HUB_CA_FILE
from printgate_cli.commands import main
from tests.hub_server.conftest import HubClients


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


def _admin(hub: HubClients, command: str, token: str = "", stdin: str = "") -> Result:
    data_dir = Path(hub.running.hub.config.data_dir)
    argv = ["admin", "--hub", f"127.0.0.1:{hub.running.admin_port}", *shlex.split(command)]
    out, err = io.StringIO(), io.StringIO()
    token_file = data_dir / ADMIN_TOKEN_FILE
    if token:
        token_file = token_file.with_name("other-token")
        token_file.write_text(token + "\n")
    argv[1:1] = ["--token-file", str(token_file), "--ca", str(data_dir / HUB_CA_FILE)]
    with (
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
        mock.patch("sys.stdin", io.StringIO(stdin)),
    ):
        try:
            code = main(argv)
        except SystemExit as exit_:
            code = int(exit_.code or 0)
    return Result(code, out.getvalue(), err.getvalue())


async def admin(hub: HubClients, command: str, token: str = "", stdin: str = "") -> Result:
    """``printgate admin --hub … --token-file … --ca … COMMAND`` in a thread (the hub serves on this loop)."""
    return await asyncio.to_thread(_admin, hub, command, token, stdin)
