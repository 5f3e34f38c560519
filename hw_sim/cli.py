"""``printgate sim DEVICE ...``: run one simulated device a person can drive by hand.

Each simulator module exposes ``register(parser)`` like the top-level commands; it is
imported only when chosen.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable

# device -> (provider "module:function", one-line help)
SIMULATORS: dict[str, tuple[str, str]] = {
    "cash": ("hw_sim.cash.cli:register", "a simulated coin/note acceptor or receipt printer"),
    "mfp": ("hw_sim.mfp.cli:register", "a simulated MFP"),
    "reader": ("hw_sim.readers.cli:register", "a simulated card reader"),
}


def register(parser: argparse.ArgumentParser) -> None:
    """Add ``DEVICE`` and its own arguments to ``printgate sim``."""
    parser.add_argument("device", choices=sorted(SIMULATORS), help="which simulated device to run")
    parser.add_argument("device_args", nargs=argparse.REMAINDER, help="arguments for that device")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    spec, summary = SIMULATORS[args.device]
    module_name, _, function_name = spec.partition(":")
    device_register: Callable[[argparse.ArgumentParser], None] = getattr(
        importlib.import_module(module_name), function_name
    )
    device_parser = argparse.ArgumentParser(prog=f"printgate sim {args.device}", description=summary)
    device_register(device_parser)
    device_args = device_parser.parse_args(args.device_args)
    return int(device_args.func(device_args) or 0)
