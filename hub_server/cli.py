"""``printgate hub``: run a hub server."""

from __future__ import annotations

import argparse
import asyncio
import logging
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
    parser.set_defaults(func=run_hub)


def run_hub(args: argparse.Namespace) -> int:
    """Start the hub and serve until interrupted."""
    from hub_server.server import serve

    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
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
