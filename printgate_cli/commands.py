"""The ``printgate`` command table: one entry point, one sub-command per role or tool.

Sub-commands live beside the code they drive and are imported only when used. Each provider
module exposes ``register(parser)``, which adds its arguments and sets ``func``
(``args -> exit code``) as a parser default.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

Register = Callable[[argparse.ArgumentParser], None]


# Each loader imports its provider only when that command is chosen, so ``printgate reader probe``
# on a terminal never loads the hub and ``printgate --help`` starts at once. The imports are plain
# statements (not strings), so the layer test and every other import tool sees them.
def _hub() -> Register:
    from hub_server.cli import register_hub

    return register_hub


def _admin() -> Register:
    from admin_cli import register

    return register


def _demo() -> Register:
    from printgate_cli.demo import register

    return register


def _sim() -> Register:
    from hw_sim.cli import register

    return register


def _reader() -> Register:
    from reader_drivers.cli import register

    return register


def _cash() -> Register:
    from cash_devices.cli import register

    return register


def _kiosk() -> Register:
    from terminal_app.kiosk.cli import register

    return register


def _mfp() -> Register:
    from mfp_adapters.cli import register

    return register


def _image() -> Register:
    from images.cli import register

    return register


def _terminal() -> Register:
    from terminal_app.terminal.cli import register

    return register


# name -> (loader of its ``register(parser)``, one-line help).
COMMANDS: dict[str, tuple[Callable[[], Register], str]] = {
    "hub": (_hub, "run a hub server"),
    "admin": (_admin, "administer a hub (users, cards, money, printers)"),
    "demo": (_demo, "run a whole simulated site on the embedded default"),
    "sim": (_sim, "run a simulated device to drive by hand"),
    "reader": (_reader, "probe a card reader"),
    "cash": (_cash, "probe a coin/note acceptor or receipt printer"),
    "kiosk": (_kiosk, "run a recharge kiosk"),
    "mfp": (_mfp, "probe or discover printers and MFPs"),
    "terminal": (_terminal, "run a terminal (hardware or simulated devices)"),
    "image": (_image, "build, provision, update and flash terminal OS images"),
}


def _overview() -> str:
    width = max(len(name) for name in COMMANDS)
    lines = [f"  {name.ljust(width)}  {summary}" for name, (_, summary) in sorted(COMMANDS.items())]
    return "commands:\n" + "\n".join(lines)


def build_parser(command: str) -> argparse.ArgumentParser:
    """Return the parser for one sub-command, importing only its provider."""
    load, summary = COMMANDS[command]
    parser = argparse.ArgumentParser(prog=f"printgate {command}", description=summary)
    load()(parser)
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
