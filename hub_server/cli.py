"""``printgate hub``: run a hub server."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from hub_server.config import load_config


def register_hub(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``printgate hub``."""
    parser.add_argument("--config", type=Path, help="hub.toml (every key optional)")
    parser.add_argument("--data-dir", type=Path, help="where the database, secret and admin token live")
    parser.add_argument("--listen", help="HOST:PORT of the device port, mutual TLS (port 0 picks a free one)")
    parser.add_argument("--admin-listen", help="HOST:PORT of the admin and enrollment port (TLS)")
    parser.add_argument(
        "--dev-plaintext",
        action="store_true",
        default=None,
        help="DEVELOPMENT ONLY: no TLS on any port (secrets cross the network in clear)",
    )
    parser.add_argument("--workers", type=int, help="processes serving the port (default 1)")
    parser.add_argument("--ipp-listen", help="HOST:PORT of the IPP print queue (overrides [print])")
    parser.add_argument("--lpd-listen", help="HOST:PORT of the LPD print queue (overrides [print])")
    parser.add_argument(
        "--ready-file", type=Path, help="write the device and admin HOST:PORT here (a line each) once serving"
    )
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument(
        "--rename-user",
        nargs=2,
        metavar=("OLD", "NEW"),
        help="rename the user named exactly OLD (and their accounts) and exit without serving:"
        " resolves usernames that differ only in case, which the hub refuses to start with",
    )
    parser.set_defaults(func=run_hub)


def run_hub(args: argparse.Namespace) -> int:
    """Start the hub and serve until interrupted."""
    from hub_server.server import serve

    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.rename_user:
        return _rename_user(args)
    config = load_config(
        args.config,
        listen=args.listen,
        admin_listen=args.admin_listen,
        dev_plaintext=args.dev_plaintext,
        data_dir=args.data_dir,
        workers=args.workers,
        ipp_listen=args.ipp_listen,
        lpd_listen=args.lpd_listen,
    )
    asyncio.run(serve(config, args.ready_file))
    return 0


def _rename_user(args: argparse.Namespace) -> int:
    from hub_server.domain import rename_user_offline
    from hub_server.errors import HubError

    old, new = args.rename_user
    config = load_config(args.config, data_dir=args.data_dir)
    try:
        rename_user_offline(config.database_url, old, new)
    except HubError as error:
        print(f"printgate hub: {error}", file=sys.stderr)
        return 1
    print(f"renamed user {old!r} to {new!r}")
    return 0
