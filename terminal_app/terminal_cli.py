"""``printgate terminal --config terminal.toml``: run a terminal headless (the Kivy UI attaches later).

Logs one line per state change. SIGTERM or SIGINT ends a live session first (panel locked,
usage journaled), then exits. Exit codes: 0 stopped by a signal, 2 bad configuration,
1 the terminal could not start (device, store).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

from terminal_app.core.config import TerminalConfig, load_config
from terminal_app.core.errors import ConfigError, TerminalError
from terminal_app.core.wiring import Terminal, build_terminal

__all__ = ["register"]


def register(parser: argparse.ArgumentParser) -> None:
    """Add the terminal's options."""
    parser.add_argument("--config", type=Path, required=True, help="terminal.toml (see docs/terminal.md)")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run until a signal; returns the exit code."""
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"printgate terminal: {exc}", file=sys.stderr)
        return 2
    try:
        asyncio.run(_serve(config))
    except (TerminalError, OSError, ValueError) as exc:
        print(f"printgate terminal: cannot start: {exc}", file=sys.stderr)
        return 1
    return 0


async def _serve(config: TerminalConfig) -> None:
    terminal: Terminal = build_terminal(config)
    loop = asyncio.get_running_loop()
    stopping: list[asyncio.Task[None]] = []
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, lambda: stopping.append(loop.create_task(terminal.stop())))
    try:
        await terminal.run()
    finally:
        await terminal.close()
