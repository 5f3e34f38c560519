"""The ``printgate`` command: one entry point, one sub-command per role or tool.

Sub-commands live beside the code they drive and are imported only when used, so
``printgate reader probe`` on a terminal never loads the hub, and ``printgate --help``
starts instantly. Each provider module exposes ``register(parser)``, which adds its
arguments and sets ``func`` (``args -> exit code``) as a parser default.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

# name -> (provider "module:function", one-line help). Kept as data so adding a command
# is one line and nothing is imported before it is chosen.
COMMANDS: dict[str, tuple[str, str]] = {
    "hub": ("hub_server.cli:register_hub", "run a hub server"),
    "admin": ("hub_server.admin_cli:register", "administer a hub (users, cards, money, printers)"),
    "demo": ("terminal_app.demo:register", "run a whole simulated site on the embedded default"),
    "sim": ("hw_sim.cli:register", "run a simulated device to drive by hand"),
    "reader": ("reader_drivers.cli:register", "probe a card reader"),
    "cash": ("cash_devices.cli:register", "probe a coin/note acceptor or receipt printer"),
    "kiosk": ("terminal_app.kiosk_cli:register", "run a recharge kiosk"),
    "mfp": ("mfp_adapters.cli:register", "probe or discover printers and MFPs"),
    "terminal": ("terminal_app.terminal_cli:register", "run a terminal (hardware or simulated devices)"),
}


def _load_register(spec: str) -> Callable[[argparse.ArgumentParser], None]:
    module_name, _, function_name = spec.partition(":")
    register: Callable[[argparse.ArgumentParser], None] = getattr(
        importlib.import_module(module_name), function_name
    )
    return register


def _overview() -> str:
    width = max(len(name) for name in COMMANDS)
    lines = [f"  {name.ljust(width)}  {summary}" for name, (_, summary) in sorted(COMMANDS.items())]
    return "commands:\n" + "\n".join(lines)


def build_parser(command: str) -> argparse.ArgumentParser:
    """Return the parser for one sub-command, importing only its provider."""
    spec, summary = COMMANDS[command]
    parser = argparse.ArgumentParser(prog=f"printgate {command}", description=summary)
    _load_register(spec)(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``printgate``; returns the process exit code."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if not arguments or arguments[0] in ("-h", "--help"):
        print("usage: printgate COMMAND [options]\n\n" + _overview())
        return 0 if arguments else 2
    command, rest = arguments[0], arguments[1:]
    if command not in COMMANDS:
        print(f"printgate: unknown command {command!r}\n\n{_overview()}", file=sys.stderr)
        return 2
    args = build_parser(command).parse_args(rest)
    func: Callable[[argparse.Namespace], int] | None = getattr(args, "func", None)
    if func is None:
        build_parser(command).print_help()
        return 2
    return int(func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
