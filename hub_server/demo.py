"""``printgate demo``: a small simulated site on the embedded default.

For now the site is a hub (SQLite in ``data/demo``) seeded with demo users, cards, PINs,
credit, prices, a printer and a terminal; the command prints how to reach it and serves until
interrupted. The terminal and simulated devices join it as they are built.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
from dataclasses import dataclass
from pathlib import Path

from hub_server import directory, ledger
from hub_server.config import HubConfig
from hub_server.errors import AlreadyExists
from hub_server.security import pin_lookup_key
from hub_server.server import ADMIN_TOKEN_FILE, RunningHub, start_hub
from hub_server.storage.base import Tx

DEMO_TERMINAL = "demo-terminal-1"
DEMO_PRINTER = "demo-mfp"


@dataclass(frozen=True)
class DemoUser:
    """A seeded person."""

    username: str
    full_name: str
    card: str
    pin: str
    credit_cents: int
    department: str = ""


DEMO_USERS = (
    DemoUser("alice", "Alice Adams", "04A1B2C3", "1234", 500),
    DemoUser("bob", "Bob Becker", "04B0B0B0", "2345", 80),
    DemoUser("carol", "Carol Chen", "04CA401F", "3456", 0, department="Physics"),
)
DEMO_PRICES = (  # function, colour, duplex, cents per page
    ("print", "mono", False, 10),
    ("print", "mono", True, 8),
    ("print", "color", False, 50),
    ("print", "color", True, 45),
    ("copy", "mono", False, 10),
    ("copy", "mono", True, 8),
    ("copy", "color", False, 50),
    ("copy", "color", True, 45),
)


def register(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``printgate demo``."""
    parser.add_argument("--data-dir", type=Path, default=Path("data/demo"))
    parser.add_argument("--listen", default="127.0.0.1:50051")
    parser.set_defaults(func=run_demo)


def seed(tx: Tx, now_us: int, secret: bytes, pin_hashes: dict[str, str]) -> str:
    """Demo printer, prices and users (idempotent); returns the terminal key, or '' if it existed."""
    directory.upsert_printer(tx, DEMO_PRINTER, "127.0.0.1:9100", "raw9100", "generic", "default", "Demo room")
    for function, color, duplex, cents in DEMO_PRICES:
        directory.set_price(tx, "default", function, color, "*", duplex, cents)
    for person in DEMO_USERS:
        if tx.scalar("SELECT id FROM users WHERE username = :u", {"u": person.username}):
            continue
        billing = "department" if person.department else "prepaid"
        record = directory.UserRecord(
            username=person.username,
            full_name=person.full_name,
            department=person.department,
            billing=billing,
        )
        user_id = directory.create_user(tx, record, now_us)
        directory.add_card(tx, user_id, person.card, "demo card", now_us)
        tx.execute(
            "UPDATE users SET pin_hash = :h, pin_lookup = :k WHERE id = :u",
            {"h": pin_hashes[person.username], "k": pin_lookup_key(secret, person.pin), "u": user_id},
        )
        if person.credit_cents:
            claim = ledger.open_transaction(
                tx, kind="adjustment", recorded_us=now_us, user_id=user_id, description="demo credit"
            )
            source = ledger.create_account(tx, ledger.ADJUSTMENTS, "system", now_us)
            ledger.credit_prepaid(tx, claim.transaction_id, user_id, person.credit_cents, source, now_us)
    try:
        return directory.create_terminal(tx, DEMO_TERMINAL, "terminal", DEMO_PRINTER, "Demo room", now_us)
    except AlreadyExists:
        return ""


async def start_demo_hub(data_dir: Path, listen: str) -> tuple[RunningHub, dict[str, object]]:
    """Start the hub and seed it; return it with what a person needs to reach it."""
    running = await start_hub(HubConfig(listen=listen, data_dir=data_dir))
    hub = running.hub
    pin_hashes = {person.username: hub.hasher.hash(person.pin) for person in DEMO_USERS}
    key = await running.db.write(lambda tx: seed(tx, hub.clock.now_us(), hub.secret, pin_hashes))
    key_file = data_dir / "demo-terminal-key"
    if key:
        key_file.write_text(key + "\n")
    host = listen.rsplit(":", 1)[0]
    info: dict[str, object] = {
        "hub": f"{host}:{running.port}",
        "admin_token_file": str(data_dir / ADMIN_TOKEN_FILE),
        "terminal_id": DEMO_TERMINAL,
        "terminal_key_file": str(key_file),
        "users": [
            {"username": p.username, "card": p.card, "pin": p.pin, "credit_cents": p.credit_cents}
            for p in DEMO_USERS
        ],
    }
    return running, info


async def _serve(data_dir: Path, listen: str) -> None:
    running, info = await start_demo_hub(data_dir, listen)
    print("printgate demo site is up:")
    print(json.dumps(info, indent=2))
    print(f"try: printgate admin --hub {info['hub']} --data-dir {data_dir} user list")
    print("stop with Ctrl-C")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await running.stop()


def run_demo(args: argparse.Namespace) -> int:
    """Run the demo site until interrupted."""
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(_serve(args.data_dir, args.listen))
    return 0
