"""``printgate terminal --config terminal.toml``: run a terminal; ``printgate terminal enroll
--token TOKEN [--config terminal.toml | --state-dir DIR]``: get its certificate first.

With a ``[display]`` table in the config (and a screen) the Kivy touch window shows the engine's
state; ``--headless`` (or no ``[display]``) runs without one. Either way it logs one line per
state change. Under systemd (``Type=notify``) it reports ready at its first idle screen, its state
line as the unit's status, and feeds the watchdog from the loop that runs engine and window
(:mod:`terminal_app.session.service`). SIGTERM or SIGINT ends a live session first (panel locked,
usage journaled), then exits. Exit codes: 0 stopped by a signal, 2 bad configuration,
1 the terminal could not start (device, store, not enrolled). ``enroll``: see
:mod:`terminal_app.hub.enrollment.command`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any

from terminal_app.errors import ConfigError, TerminalError
from terminal_app.hub.enrollment.command import add_enroll_action
from terminal_app.session.service import ServiceReport, service_manager, watchdog
from terminal_app.terminal.config import TerminalConfig, load_config
from terminal_app.terminal.state import Screen, TerminalState
from terminal_app.terminal.wiring import Terminal, build_terminal, describe

__all__ = ["register"]


DEFAULT_STATE_DIR = Path("data/terminal/identity")  # what a terminal.toml without [hub] state_dir uses


def register(parser: argparse.ArgumentParser) -> None:
    """Add the terminal's options, and its ``enroll`` action."""
    parser.add_argument("--config", type=Path, help="terminal.toml (see docs/terminal.md)")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    parser.add_argument("--headless", action="store_true", help="no window even with [display]")
    parser.set_defaults(func=run)
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    add_enroll_action(actions, "terminal", lambda path: load_config(path).identity_dir, DEFAULT_STATE_DIR)


def run(args: argparse.Namespace) -> int:
    """Run until a signal; returns the exit code."""
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.config is None:
        print("printgate terminal: give --config terminal.toml (or the enroll action)", file=sys.stderr)
        return 2
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"printgate terminal: {exc}", file=sys.stderr)
        return 2
    try:
        asyncio.run(_serve(config, window=bool(config.display) and not args.headless))
    except (TerminalError, OSError, ValueError) as exc:
        print(f"printgate terminal: cannot start: {exc}", file=sys.stderr)
        return 1
    return 0


async def _serve(config: TerminalConfig, window: bool) -> None:
    terminal: Terminal = build_terminal(config)
    loop = asyncio.get_running_loop()
    stopping: list[asyncio.Task[None]] = []
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, lambda: stopping.append(loop.create_task(terminal.stop())))
    manager = service_manager()
    terminal.engine.subscribe(ServiceReport[TerminalState](manager, describe, _idle))
    beat = asyncio.create_task(watchdog(manager))
    ui = asyncio.create_task(_window(terminal, config.display)) if window else None
    try:
        await terminal.run()
    finally:
        beat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beat
        if ui is not None:
            from terminal_app.terminal.ui.app import stop_ui

            stop_ui()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(ui, 10)
        await terminal.close()


def _idle(state: TerminalState) -> bool:
    return state.screen is Screen.IDLE


async def _window(terminal: Terminal, display: dict[str, Any]) -> None:
    """The touch window beside the engine; closing it stops the terminal."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")  # Kivy must leave our command line alone
    from terminal_app.terminal.ui.app import serve_ui, stop_ui  # Kivy only when a window is wanted
    from terminal_app.ui.settings import UiSettings

    try:
        await serve_ui(terminal.engine, UiSettings.from_mapping(display))
    finally:
        stop_ui()
        await terminal.stop()
