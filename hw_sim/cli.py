"""``printgate sim DEVICE ...``: run one simulated device a person can drive by hand.

Each simulator module exposes ``register(parser)`` like the top-level commands; it is imported only
when chosen, by a plain function-level import (no module names in strings), so the layer test and
every other import tool sees it.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

Register = Callable[[argparse.ArgumentParser], None]


def _cash() -> Register:
    from hw_sim.cash.cli import register

    return register


def _mfp() -> Register:
    from hw_sim.mfp.cli import register

    return register


def _reader() -> Register:
    from hw_sim.readers.cli import register

    return register


# device -> (loader of its ``register(parser)``, one-line help)
SIMULATORS: dict[str, tuple[Callable[[], Register], str]] = {
    "cash": (_cash, "a simulated coin/note acceptor or receipt printer"),
    "mfp": (_mfp, "a simulated MFP"),
    "reader": (_reader, "a simulated card reader"),
}


def register(parser: argparse.ArgumentParser) -> None:
    """Add ``DEVICE`` and its own arguments to ``printgate sim``."""
    parser.add_argument("device", choices=sorted(SIMULATORS), help="which simulated device to run")
    parser.add_argument("device_args", nargs=argparse.REMAINDER, help="arguments for that device")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    load, summary = SIMULATORS[args.device]
    device_parser = argparse.ArgumentParser(prog=f"printgate sim {args.device}", description=summary)
    load()(device_parser)
    device_args = device_parser.parse_args(args.device_args)
    return int(device_args.func(device_args) or 0)
