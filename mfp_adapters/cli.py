"""``printgate mfp probe HOST`` and ``printgate mfp discover RANGE`` for technicians.

``probe --json`` prints one object: ``vendor, model, serial, profile, sys_object_id,
sys_descr, counters{total, print_mono, ...}, life_count_unit, supplies[{description,
type, level, max, percent, estimated, index}], trays[{index, name, media, kind, manual, level,
max, percent, state}], status{device, printer, errors[], alerts[]}``. ``estimated`` marks a
percentage the printer gave without a known maximum; a tray's ``state`` is ok, low, empty,
some (at least one sheet) or unknown.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import sys
from typing import Any

from pysnmp.hlapi.v3arch.asyncio import SnmpEngine

from mfp_adapters.device import MfpSnmp
from mfp_adapters.errors import MfpError
from mfp_adapters.snmp import CommunityAuth, SnmpClient, UsmAuth

__all__ = ["expand_range", "register"]

_MAX_HOSTS = 4096


def register(parser: argparse.ArgumentParser) -> None:
    """Add ``probe`` and ``discover``."""
    commands = parser.add_subparsers(dest="mfp_command", required=True)
    probe = commands.add_parser("probe", help="identify one device and read counters, status, supplies")
    probe.add_argument("host")
    _snmp_options(probe, timeout_s=2.0, retries=1)
    probe.add_argument("--json", action="store_true", help="print one JSON object")
    probe.set_defaults(func=_probe)
    discover = commands.add_parser("discover", help="sweep an address range and list what answers SNMP")
    discover.add_argument("range", help="CIDR (10.0.0.0/24), a-b range (10.0.0.10-20) or one address")
    _snmp_options(discover, timeout_s=1.0, retries=0)
    discover.add_argument("--concurrency", type=int, default=64)
    discover.add_argument("--json", action="store_true", help="print a JSON list")
    discover.set_defaults(func=_discover)


def _snmp_options(parser: argparse.ArgumentParser, *, timeout_s: float, retries: int) -> None:
    parser.add_argument("--port", type=int, default=161)
    parser.add_argument("--community", default="public")
    parser.add_argument("--snmp-version", choices=["1", "2c"], default="2c")
    parser.add_argument("--v3-user", help="SNMPv3 user (switches to v3 authPriv)")
    parser.add_argument("--v3-auth-key")
    parser.add_argument("--v3-priv-key")
    parser.add_argument("--v3-auth-proto", default="SHA", choices=["MD5", "SHA", "SHA256"])
    parser.add_argument("--v3-priv-proto", default="AES", choices=["DES", "AES", "AES256"])
    parser.add_argument("--v3-context", default="")
    parser.add_argument("--timeout", type=float, default=timeout_s, help="seconds per SNMP request")
    parser.add_argument("--retries", type=int, default=retries)


def _auth(args: argparse.Namespace) -> CommunityAuth | UsmAuth:
    if args.v3_user:
        if not args.v3_auth_key:
            raise SystemExit("--v3-user needs --v3-auth-key")
        return UsmAuth(
            args.v3_user,
            args.v3_auth_key,
            args.v3_priv_key,
            auth_protocol=args.v3_auth_proto,
            priv_protocol=args.v3_priv_proto,
            context_name=args.v3_context,
        )
    return CommunityAuth(args.community, version=args.snmp_version)


def _probe(args: argparse.Namespace) -> int:
    async def run() -> dict[str, Any]:
        async with SnmpClient(
            args.host, args.port, _auth(args), timeout_s=args.timeout, retries=args.retries
        ) as c:
            return (await MfpSnmp(c).probe()).to_json()

    try:
        result = asyncio.run(run())
    except MfpError as exc:
        print(f"printgate mfp probe: {args.host}: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return 0
    print(
        f"{result['vendor']} {result['model'] or '?'} serial {result['serial'] or '?'} "
        f"(profile {result['profile']})"
    )
    status = result["status"]
    print(
        f"status: device {status['device']}, printer {status['printer']}, "
        f"errors {', '.join(status['errors']) or '-'}"
    )
    for key, value in result["counters"].items():
        print(f"  {key:16} {value}")
    for supply in result["supplies"]:
        percent = "?" if supply["percent"] is None else f"{supply['percent']:.0f}%"
        percent += " (estimated)" if supply["estimated"] else ""
        print(f"  {supply['description'] or '?':30} {percent}")
    for tray in result["trays"]:
        name = tray["name"] or f"input {tray['index']}"
        media = f" {tray['media']}" if tray["media"] else ""
        manual = " (manual feed)" if tray["manual"] else ""
        fill = "" if tray["percent"] is None else f" {tray['percent']:.0f}%"
        print(f"  {name + media:30} {tray['state']}{fill}{manual}")
    return 0


def expand_range(text: str) -> list[str]:
    """``10.0.0.0/30``, ``10.0.0.1-3`` or ``10.0.0.7`` -> addresses; ``ValueError`` if too big or bad."""
    if "/" in text:
        network = ipaddress.ip_network(text, strict=False)
        if network.num_addresses > _MAX_HOSTS:
            raise ValueError(f"{text}: more than {_MAX_HOSTS} addresses")
        hosts = list(network.hosts()) if network.num_addresses > 2 else list(network)
        return [str(h) for h in hosts]
    first_text, sep, last_text = text.partition("-")
    first = ipaddress.ip_address(first_text)
    if not sep:
        return [str(first)]
    if "." in last_text or ":" in last_text:
        last = ipaddress.ip_address(last_text)
    else:
        last = ipaddress.ip_address(first_text.rsplit(".", 1)[0] + "." + last_text)
    count = int(last) - int(first) + 1
    if not 0 < count <= _MAX_HOSTS:
        raise ValueError(f"{text}: range must hold 1..{_MAX_HOSTS} addresses")
    return [str(ipaddress.ip_address(int(first) + i)) for i in range(count)]


async def discover(
    hosts: list[str],
    port: int,
    auth: CommunityAuth | UsmAuth,
    *,
    timeout_s: float,
    retries: int,
    concurrency: int,
) -> list[dict[str, Any]]:
    """Identify every host that answers; silent hosts are skipped."""
    engine = SnmpEngine()
    gate = asyncio.Semaphore(max(1, concurrency))

    async def one(host: str) -> dict[str, Any] | None:
        async with gate:
            client = SnmpClient(host, port, auth, timeout_s=timeout_s, retries=retries, engine=engine)
            try:
                identity = await MfpSnmp(client).identify()
            except MfpError:
                return None
            return {"host": host, **identity.__dict__}

    try:
        found = await asyncio.gather(*(one(h) for h in hosts))
    finally:
        engine.close_dispatcher()
    return [f for f in found if f is not None]


def _discover(args: argparse.Namespace) -> int:
    try:
        hosts = expand_range(args.range)
    except ValueError as exc:
        print(f"printgate mfp discover: {exc}", file=sys.stderr)
        return 2
    found = asyncio.run(
        discover(
            hosts,
            args.port,
            _auth(args),
            timeout_s=args.timeout,
            retries=args.retries,
            concurrency=args.concurrency,
        )
    )
    if args.json:
        print(json.dumps(found, ensure_ascii=False))
    else:
        for device in found:
            print(
                f"{device['host']:15} {device['vendor']:15} {device['model'] or '?':25} "
                f"{device['serial'] or '?'}"
            )
        print(f"{len(found)} of {len(hosts)} addresses answered")
    return 0
