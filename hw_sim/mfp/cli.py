"""``printgate sim mfp``: run one simulated MFP a person (or a script) drives from stdin.

Commands, one per line; each is answered with one line starting ``ok`` or ``error``:

    copy N [color] [duplex]     the copier makes N pages
    print N [color] [duplex]    N pages printed at the panel (not through a job)
    scan N
    jam | door | clear          paper jam, door open, clear every error
    toner COLORANT PERCENT      e.g. toner black 4
    paper TRAY SHEETS           e.g. paper 1 30 (trays 1, 2: 500-sheet cassettes; 3: bypass)
    reboot [reset]              restart (and zero the counters)
    counts                      the counters, as name=value pairs
    quit
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shlex
import sys
from collections.abc import Callable
from typing import Any

from hw_sim.mfp.layouts import LAYOUTS
from hw_sim.mfp.model import SimulatedMfp
from hw_sim.mfp.server import MfpSimServer

__all__ = ["register"]


def register(parser: argparse.ArgumentParser) -> None:
    """Add the simulator's options."""
    parser.add_argument("--vendor", choices=sorted(LAYOUTS), default="kyocera")
    parser.add_argument("--community", default="public")
    for name, default in (("snmp", 11161), ("raw", 19100), ("lpd", 10515), ("ipp", 18631)):
        parser.add_argument(f"--{name}-port", type=int, default=default, help=f"{name} port (0 = any)")
    parser.set_defaults(func=_run)


def _flags(words: list[str]) -> dict[str, bool]:
    return {"color": "color" in words, "duplex": "duplex" in words}


def commands(device: SimulatedMfp) -> dict[str, Callable[[list[str]], Any]]:
    """The verbs a line may start with, each taking the remaining words."""
    return {
        "copy": lambda w: device.copy(int(w[0]), **_flags(w[1:])),
        "print": lambda w: device.print_pages(int(w[0]), **_flags(w[1:])),
        "scan": lambda w: device.scan(int(w[0])),
        "jam": lambda w: device.jam(),
        "door": lambda w: device.open_door(),
        "clear": lambda w: device.clear(),
        "toner": lambda w: device.set_toner(w[0], float(w[1])),
        "paper": lambda w: device.set_paper(int(w[0]), int(w[1])),
        "reboot": lambda w: device.reboot(reset_counters="reset" in w),
        "counts": lambda w: " ".join(f"{k}={v}" for k, v in sorted(device.counts().items())),
    }


def answer(verbs: dict[str, Callable[[list[str]], Any]], line: str) -> str:
    """Run one command line; the reply line."""
    words = shlex.split(line)
    if not words:
        return "error: empty command"
    verb = verbs.get(words[0])
    if verb is None:
        return f"error: unknown command {words[0]!r} (try: {', '.join(sorted(verbs))}, quit)"
    try:
        result = verb(words[1:])
    except (IndexError, ValueError, KeyError) as exc:
        return f"error: {words[0]}: {exc or 'missing argument'}"
    return "ok" if result is None or isinstance(result, int) else f"ok {result}"


def _run(args: argparse.Namespace) -> int:
    ports = {"snmp": args.snmp_port, "raw": args.raw_port, "lpd": args.lpd_port, "ipp": args.ipp_port}

    async def serve() -> None:
        async with MfpSimServer(args.vendor, community=args.community, ports=ports) as mfp:
            print(
                f"simulated {args.vendor} MFP: snmp udp/{mfp.snmp_port} raw tcp/{mfp.raw_port} "
                f"lpd tcp/{mfp.lpd_port} ipp {mfp.ipp_uri}",
                flush=True,
            )
            verbs = commands(mfp.device)
            loop = asyncio.get_running_loop()
            while line := await loop.run_in_executor(None, sys.stdin.readline):
                if line.strip() in ("quit", "exit"):
                    return
                if line.strip():
                    print(answer(verbs, line), flush=True)
            await asyncio.Event().wait()  # stdin closed: keep serving until interrupted

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())
    return 0
