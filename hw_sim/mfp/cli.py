"""``printgate sim mfp``: run one simulated MFP until Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from hw_sim.mfp.layouts import LAYOUTS
from hw_sim.mfp.server import MfpSimServer

__all__ = ["register"]


def register(parser: argparse.ArgumentParser) -> None:
    """Add the simulator's options."""
    parser.add_argument("--vendor", choices=sorted(LAYOUTS), default="kyocera")
    parser.add_argument("--community", default="public")
    for name, default in (("snmp", 11161), ("raw", 19100), ("lpd", 10515), ("ipp", 18631)):
        parser.add_argument(f"--{name}-port", type=int, default=default, help=f"{name} port (0 = any)")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    ports = {"snmp": args.snmp_port, "raw": args.raw_port, "lpd": args.lpd_port, "ipp": args.ipp_port}

    async def serve() -> None:
        async with MfpSimServer(args.vendor, community=args.community, ports=ports) as mfp:
            print(
                f"simulated {args.vendor} MFP: snmp udp/{mfp.snmp_port} raw tcp/{mfp.raw_port} "
                f"lpd tcp/{mfp.lpd_port} ipp {mfp.ipp_uri}",
                flush=True,
            )
            await asyncio.Event().wait()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())
    return 0
