"""``printgate reader probe``: a technician's view of a card reader.

Prints every card as it is read: the raw credential, its technology and the number the
conversion chain makes of it (``--json``: one object per line with ``raw_hex``,
``technology``, ``card_number``, ``reader_id``, ``monotonic_s``). Reader state changes go
to stderr. Exit codes: 0 done (Ctrl-C, or ``--count`` reads), 1 ``--timeout`` passed
first, 2 bad arguments.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys

from reader_drivers.base import CardRead, CardReader, HealthState
from reader_drivers.errors import ConversionError, ReaderError
from reader_drivers.factory import DRIVERS, open_reader

__all__ = ["register"]


def register(parser: argparse.ArgumentParser) -> None:
    """Add ``probe`` to ``printgate reader``."""
    commands = parser.add_subparsers(dest="reader_command", required=True)
    probe = commands.add_parser("probe", help="print every card a reader reads")
    probe.add_argument("--driver", required=True, choices=sorted(DRIVERS), help="reader family")
    where = probe.add_mutually_exclusive_group()
    where.add_argument("--url", help="pyserial URL (socket://…) or nfcpy path (udp:host:port, usb:…)")
    where.add_argument("--device", help="serial port, input device or FIFO, or PC/SC reader name")
    probe.add_argument("--convert", help='conversion chain, e.g. "reverse-bytes|hex2dec|lpad:10:0"')
    probe.add_argument("--json", action="store_true", help="one JSON object per read")
    probe.add_argument("--keymap", help="wedge: the layout the reader types for (us, de)")
    probe.add_argument("--debounce-s", type=float, default=3.0, help="same-card debounce (default 3)")
    probe.add_argument("--count", type=int, help="exit after this many reads")
    probe.add_argument("--timeout-s", type=float, help="give up (exit 1) after this many seconds")
    probe.set_defaults(func=_probe)


def _probe(args: argparse.Namespace) -> int:
    options = {"keymap": args.keymap} if args.keymap else {}
    try:
        reader = open_reader(
            args.driver, url=args.url, device=args.device, convert=args.convert,
            debounce_s=args.debounce_s, **options,
        )  # fmt: skip
    except (ReaderError, ConversionError) as exc:
        print(f"printgate reader probe: {exc}", file=sys.stderr)
        return 2
    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(_run(reader, args.count, args.timeout_s, args.json))
    return 0


async def _run(reader: CardReader, count: int | None, timeout_s: float | None, as_json: bool) -> int:
    async with reader:
        watcher = asyncio.get_running_loop().create_task(_report_health(reader))
        try:
            async with asyncio.timeout(timeout_s):
                await _print_reads(reader, count, as_json)
        except TimeoutError:
            print(f"no more cards within {timeout_s:g} s", file=sys.stderr)
            return 1
        finally:
            watcher.cancel()
    return 0


async def _print_reads(reader: CardReader, count: int | None, as_json: bool) -> None:
    seen = 0
    async for read in reader.reads():
        print(_format(read, as_json), flush=True)
        seen += 1
        if count is not None and seen >= count:
            return


def _format(read: CardRead, as_json: bool) -> str:
    if as_json:
        return json.dumps(
            {"raw_hex": read.raw_hex, "technology": read.technology, "card_number": read.card_number,
             "reader_id": read.reader_id, "monotonic_s": round(read.monotonic_s, 6)}
        )  # fmt: skip
    return f"{read.card_number}  raw={read.raw_hex} technology={read.technology}"


async def _report_health(reader: CardReader) -> None:
    """Tell the technician when the reader connects, drops, reconnects or rejects input."""
    last_state: tuple[HealthState, str | None] | None = None
    last_rejected = (0, 0)
    while True:
        health = reader.health
        state = (health.state, health.last_error)
        if state != last_state:
            detail = f": {health.last_error}" if health.last_error else ""
            print(f"reader {reader.reader_id} {health.state}{detail}", file=sys.stderr, flush=True)
            last_state = state
        rejected = (health.frames_rejected, health.conversions_rejected)
        if rejected != last_rejected:
            print(
                f"rejected so far: {rejected[0]} frames, {rejected[1]} conversions"
                f" (last: {health.last_rejected})",
                file=sys.stderr,
            )
            last_rejected = rejected
        await asyncio.sleep(0.05)
