"""``printgate cash``: the technician's probe for acceptors and receipt printers.

``printgate cash probe --driver cctalk --url URL [--address N] --json`` prints the device
identity, enables every known denomination and prints one object per event (accepted coin or
note with ``value_minor``, ``currency``, ``event_counter``, ``device_serial``; errors; resets) until
``--max-events``, ``--duration-s`` or Ctrl-C; it inhibits the device again before it exits.
``--driver id003 --url URL [--currency EUR]`` does the same for a JCM ID-003 note validator.
``printgate cash printer --url tcp://HOST:9100 [--test-receipt]`` reads the printer status.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import datetime as dt
import enum
import json
import sys
from typing import Any

from cash_devices.base import Acceptor, Escrow
from cash_devices.errors import CashDeviceError
from cash_devices.events import CashEvent, CreditEvent, NoteEscrowed
from cash_devices.receipt import RechargeReceipt, open_receipt_printer
from cash_devices.registry import DRIVERS, open_acceptor

__all__ = ["event_record", "register"]

EVENT_TYPES = {
    "CoinAccepted": "coin",
    "NoteStacked": "note",
    "NoteEscrowed": "escrow",
    "NoteReturned": "returned",
    "DeviceError": "error",
    "Reset": "reset",
    "LostEvents": "lost_events",
    "UnmappedCredit": "unmapped_credit",
    "LinkChanged": "link",
}


def register(parser: argparse.ArgumentParser) -> None:
    """Add ``probe`` and ``printer`` to ``printgate cash``."""
    commands = parser.add_subparsers(dest="action", required=True)
    probe = commands.add_parser("probe", help="identify an acceptor and print its events while enabled")
    probe.add_argument("--driver", choices=sorted(DRIVERS), default="cctalk")
    probe.add_argument("--url", required=True, help="serial device or pyserial URL (pulse: GPIO pin)")
    probe.add_argument("--address", type=int, default=None, help="ccTalk address (coin 2, note 40)")
    probe.add_argument("--kind", choices=["coin", "note"], default="coin")
    probe.add_argument("--checksum", choices=["simple", "crc16"], default="simple")
    probe.add_argument("--no-echo", action="store_true", help="the line does not echo our bytes")
    probe.add_argument("--timeout-s", type=float, default=None, help="reply timeout (cctalk 0.2, id003 0.3)")
    probe.add_argument("--currency", default="EUR", help="id003: the ISO code of the validator's notes")
    probe.add_argument("--escrow", choices=["stack", "return"], default="stack", help="what to do with notes")
    probe.add_argument("--max-events", type=int, default=0, help="stop after this many events (0: never)")
    probe.add_argument("--duration-s", type=float, default=0.0, help="stop after this long (0: never)")
    probe.add_argument("--json", action="store_true", help="one JSON object per line")
    probe.set_defaults(func=_probe)
    printer = commands.add_parser("printer", help="read a receipt printer's status (DLE EOT)")
    printer.add_argument(
        "--url", required=True, help="tcp://HOST:PORT, serial:///dev/X?baudrate=N, usb://VID:PID"
    )
    printer.add_argument("--test-receipt", action="store_true", help="also print a sample receipt")
    printer.add_argument("--json", action="store_true")
    printer.set_defaults(func=_printer)


def event_record(event: CashEvent) -> dict[str, Any]:
    """A JSON-ready dict: ``type`` plus every field (and ``idempotency_key`` for credit)."""
    record: dict[str, Any] = {"type": EVENT_TYPES.get(type(event).__name__, type(event).__name__)}
    for name, value in dataclasses.asdict(event).items():
        record[name] = value.value if isinstance(value, enum.Enum) else value
    if isinstance(event, CreditEvent):
        record["idempotency_key"] = event.idempotency_key
    return record


def _say(args: argparse.Namespace, record: dict[str, Any]) -> None:
    if args.json:
        print(json.dumps(record, sort_keys=True), flush=True)
    else:
        print("  ".join(f"{key}={value}" for key, value in record.items()), flush=True)


def _probe(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_probe_async(args))
    except KeyboardInterrupt:
        return 0
    except CashDeviceError as error:
        print(f"printgate cash probe: {error}", file=sys.stderr)
        return 1


async def _probe_async(args: argparse.Namespace) -> int:
    options: dict[str, Any] = {}
    if args.driver == "cctalk":
        options = {"kind": args.kind, "checksum": args.checksum, "echo": not args.no_echo}
    elif args.driver == "id003":
        options = {"currency": args.currency}
    if args.timeout_s is not None and args.driver != "pulse":
        options["timeout_s"] = args.timeout_s
    acceptor = await open_acceptor(args.driver, args.url, args.address, **options)
    try:
        identity = dataclasses.asdict(acceptor.identity) if acceptor.identity else {}
        denominations = [dataclasses.asdict(d) for d in acceptor.denominations.values()]
        check = await acceptor.self_check()
        self_check = {"ok": check.ok, "code": check.code, "name": check.name}
        _say(args, {"type": "identity", **identity, "denominations": denominations, "self_check": self_check})
        await acceptor.enable()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(args.duration_s or None):
                await _print_events(args, acceptor)
    finally:
        await acceptor.close()
    return 0


async def _print_events(args: argparse.Namespace, acceptor: Acceptor) -> None:
    count = 0
    async for event in acceptor.events():
        _say(args, event_record(event))
        if isinstance(event, NoteEscrowed) and isinstance(acceptor, Escrow):
            await (acceptor.accept_escrow() if args.escrow == "stack" else acceptor.return_escrow())
        count += 1
        if args.max_events and count >= args.max_events:
            return


def _printer(args: argparse.Namespace) -> int:
    try:
        printer = open_receipt_printer(args.url)
    except CashDeviceError as error:
        print(f"printgate cash printer: {error}", file=sys.stderr)
        return 1
    try:
        status = printer.status()
        _say(args, {"type": "printer_status", "online": status.online, "paper": status.paper.value,
                    "ready": status.ready})  # fmt: skip
        if args.test_receipt and status.ready:
            now = dt.datetime.now(dt.UTC)
            printer.print_receipt(RechargeReceipt(0, 0, "EUR", now, "probe", "test-receipt"))
        return 0 if status.ready else 1
    except CashDeviceError as error:
        print(f"printgate cash printer: {error}", file=sys.stderr)
        return 1
    finally:
        printer.close()
