"""``printgate sim reader --driver DRIVER``: a simulated card reader driven from the keyboard.

Type commands on stdin (one per line), e.g. ``tap 4B00423C15``, ``hold 4B00423C15 5``,
``remove``. The first lines printed tell how to point ``printgate reader probe`` at it.

* serial (rdm6300, id12la, twn4): a pty behind ``--link`` (default: a temporary path);
  also ``noise [N]``, ``unplug``, ``replug``.
* wedge: a FIFO of input events behind ``--link``; ``--layout us|de``; also
  ``swipe TRACK1 [TRACK2]`` and ``type TEXT``.
* nfc: a Type A tag on UDP ``--port`` (default 54321) for nfcpy's ``udp`` device.
* pcsc: a card for a pcscd running vsmartcard's vpcd on ``--port`` (default 35963).
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

from hw_sim.readers.nfc_tag import NfcTagSim
from hw_sim.readers.serial_sim import SERIAL_PROTOCOLS, SerialReaderSim
from hw_sim.readers.vpcd_card import VirtualCard
from hw_sim.readers.wedge_sim import LAYOUTS, WedgeSim

__all__ = ["register"]

HELP = (
    "commands: tap CARD | hold CARD SECONDS | remove | noise [N] | swipe T1 [T2] | type TEXT"
    " | unplug | replug | quit"
)
Verbs = dict[str, Callable[..., None]]


def register(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``printgate sim reader``."""
    parser.add_argument("--driver", required=True, choices=[*SERIAL_PROTOCOLS, "wedge", "nfc", "pcsc"])
    parser.add_argument("--link", help="serial/wedge: path of the pty symlink or FIFO")
    parser.add_argument("--port", type=int, help="nfc: UDP port (54321); pcsc: vpcd port (35963)")
    parser.add_argument("--layout", default="us", choices=sorted(LAYOUTS), help="wedge: keyboard layout")
    parser.add_argument("--technology", default="iso14443a", help="twn4: tag type reported")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    device, probe_hint, verbs = _build(args)
    print(f"simulated {args.driver} reader; try: printgate reader probe --driver {args.driver} {probe_hint}")
    print(HELP, flush=True)
    try:
        return _command_loop(verbs, sys.stdin)
    finally:
        device.close()


def _build(args: argparse.Namespace) -> tuple[Any, str, Verbs]:
    if args.driver in SERIAL_PROTOCOLS:
        return _serial(args)
    return {"wedge": _wedge, "nfc": _nfc, "pcsc": _pcsc}[args.driver](args)


def _serial(args: argparse.Namespace) -> tuple[Any, str, Verbs]:
    sim = SerialReaderSim(args.driver, args.link, technology=args.technology).start()
    verbs: Verbs = {
        "tap": sim.tap,
        "hold": lambda card, seconds: sim.hold(card, float(seconds)),
        "remove": sim.remove,
        "noise": lambda count="32": sim.noise(os.urandom(int(count))),
        "unplug": sim.unplug,
        "replug": sim.replug,
    }
    return sim, f"--device {sim.path}", verbs


def _wedge(args: argparse.Namespace) -> tuple[Any, str, Verbs]:
    sim = WedgeSim(args.link, layout=args.layout).start()
    verbs: Verbs = {"tap": sim.tap, "swipe": sim.swipe, "type": lambda *words: sim.type_text(" ".join(words))}
    return sim, f"--device {sim.path} --keymap {args.layout}", verbs


def _nfc(args: argparse.Namespace) -> tuple[Any, str, Verbs]:
    tag = NfcTagSim(port=args.port or 54321).start()
    verbs: Verbs = {"tap": tag.place, "hold": lambda uid, _seconds="": tag.place(uid), "remove": tag.remove}
    return tag, f"--url {tag.path}", verbs


def _pcsc(args: argparse.Namespace) -> tuple[Any, str, Verbs]:
    card = VirtualCard(args.port or 35963)
    verbs: Verbs = {
        "tap": card.insert,
        "hold": lambda uid, _seconds="": card.insert(uid),
        "remove": card.remove,
    }
    return card, '--device "Virtual PCD"', verbs


def _command_loop(verbs: Verbs, stream: TextIO) -> int:
    for line in stream:
        words = shlex.split(line)
        if not words:
            continue
        if words[0] in ("quit", "exit"):
            return 0
        verb = verbs.get(words[0])
        if verb is None:
            print(f"not for this reader: {words[0]!r}; {HELP}", flush=True)
            continue
        try:
            verb(*words[1:])
            print(f"ok {' '.join(words)}", flush=True)
        except (TypeError, ValueError, OSError) as exc:
            print(f"error: {exc}", flush=True)
    time.sleep(0.1)  # end of input: let the last frame leave before the device goes away
    return 0
