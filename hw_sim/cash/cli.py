"""``printgate sim cash ...``: a ccTalk acceptor or an ESC/POS printer to drive by hand.

``printgate sim cash cctalk [--checksum crc16] [--no-echo]`` opens a pty with a coin acceptor
(address 2) and a note validator (address 40), prints its path, then reads commands on stdin:
``coin 200``, ``note 500``, ``jam coin|note``, ``fraud coin|note``, ``power-cycle coin|note``,
``lossy coin|note RATE``, ``noise RATE`` (flip a bit in that fraction of replies), ``state coin|note``,
``history coin|note``, ``quit``.
``printgate sim cash id003`` opens a pty with a JCM ID-003 note validator (5 to 200 EUR notes) and
reads ``note 500``, ``reject [CODE]``, ``jam``, ``stacker-open``, ``stacker-full``, ``fail [CODE]``,
``cheat``, ``clear``, ``escrow-timeout``, ``power-cycle [acceptor|stacker]``, ``noise RATE``,
``silent on|off``, ``state``, ``history``, ``quit``.
``printgate sim cash printer [--port 9100]`` runs the ESC/POS printer and accepts ``paper-out``,
``paper-low``, ``refill``, ``offline``, ``online``, ``receipts``, ``quit``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from hw_sim.cash.cctalk_sim import SimCcTalkBus, SimCoinAcceptor, SimNoteValidator
from hw_sim.cash.escpos_sim import SimReceiptPrinter
from hw_sim.cash.id003_sim import SimId003Validator

__all__ = ["register"]


def register(parser: argparse.ArgumentParser) -> None:
    """Add the ``cctalk`` and ``printer`` simulators."""
    kinds = parser.add_subparsers(dest="simulator", required=True)
    cctalk = kinds.add_parser("cctalk", help="coin acceptor (address 2) and note validator (40) on a pty")
    cctalk.add_argument("--checksum", choices=["simple", "crc16"], default="simple")
    cctalk.add_argument("--no-echo", action="store_true", help="simulate a line without local echo")
    cctalk.add_argument("--coin-address", type=int, default=2)
    cctalk.add_argument("--note-address", type=int, default=40)
    cctalk.set_defaults(func=_run_cctalk)
    id003 = kinds.add_parser("id003", help="JCM ID-003 note validator on a pty")
    id003.set_defaults(func=_run_id003)
    printer = kinds.add_parser("printer", help="ESC/POS receipt printer on TCP")
    printer.add_argument("--port", type=int, default=9100)
    printer.set_defaults(func=_run_printer)


def _repl(commands: dict[str, Callable[[list[str]], object]]) -> int:
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "quit":
            return 0
        handler = commands.get(words[0])
        if handler is None:
            print(f"commands: {', '.join(sorted(commands))}, quit", flush=True)
            continue
        try:
            print(handler(words[1:]), flush=True)
        except (ValueError, IndexError, KeyError) as error:
            print(f"error: {error}", flush=True)
    return 0


def _run_cctalk(args: argparse.Namespace) -> int:
    crc16 = args.checksum == "crc16"
    coins = SimCoinAcceptor(args.coin_address, crc16=crc16)
    notes = SimNoteValidator(args.note_address, crc16=crc16)
    devices: dict[str, SimCoinAcceptor | SimNoteValidator] = {"coin": coins, "note": notes}
    with SimCcTalkBus(coins, notes, echo=not args.no_echo) as bus:
        print(f"ccTalk line on {bus.path} (coin {args.coin_address}, note {args.note_address})", flush=True)
        return _repl(
            {
                "coin": lambda words: coins.insert_coin(int(words[0])),
                "note": lambda words: notes.insert_note(int(words[0])),
                "jam": lambda words: devices[words[0]].jam(),
                "fraud": lambda words: devices[words[0]].fraud_attempt(),
                "power-cycle": lambda words: devices[words[0]].power_cycle(),
                "lossy": lambda words: devices[words[0]].lossy(float(words[1])),
                "noise": lambda words: bus.line_noise(float(words[0])),
                "history": lambda words: "\n".join(map(str, devices[words[0]].history[-20:])),
                "state": lambda words: _state(devices[words[0]]),
            }
        )


def _state(device: SimCoinAcceptor | SimNoteValidator) -> str:
    return f"accepting={device.master_accepting} mask={device.inhibit_mask:#06x} counter={device.counter}"


def _run_id003(args: argparse.Namespace) -> int:
    with SimId003Validator() as validator:
        print(f"ID-003 note validator on {validator.path}", flush=True)
        return _repl(
            {
                "note": lambda words: validator.insert_note(int(words[0])),
                "reject": lambda words: validator.reject_note(int(words[0], 0) if words else 0x72),
                "jam": lambda words: validator.jam(),
                "stacker-open": lambda words: validator.stacker_open(),
                "stacker-full": lambda words: validator.stacker_full(),
                "fail": lambda words: validator.fail(int(words[0], 0) if words else 0xA2),
                "cheat": lambda words: validator.cheat(),
                "clear": lambda words: validator.clear_fault(),
                "escrow-timeout": lambda words: validator.escrow_timeout(),
                "power-cycle": lambda words: validator.power_cycle(words[0] if words else None),
                "noise": lambda words: validator.line_noise(float(words[0])),
                "silent": lambda words: setattr(validator, "silent", words[0] == "on"),
                "history": lambda words: "\n".join(map(str, validator.history[-20:])),
                "state": lambda words: (
                    f"inhibited={validator.inhibited} disabled={validator.disabled_mask:#06x} "
                    f"held={validator.held} stacked={len(validator.stacked)}"
                ),
            }
        )


def _run_printer(args: argparse.Namespace) -> int:
    with SimReceiptPrinter(port=args.port) as printer:
        print(f"ESC/POS printer on tcp://{printer.host}:{printer.port}", flush=True)
        return _repl(
            {
                "paper-out": lambda words: printer.paper_out(),
                "paper-low": lambda words: printer.paper_low(),
                "refill": lambda words: printer.refill(),
                "offline": lambda words: printer.go_offline(),
                "online": lambda words: printer.go_online(),
                "receipts": lambda words: "\n---\n".join("\n".join(r.text) for r in printer.receipts),
            }
        )
