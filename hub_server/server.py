"""Build and run a hub: storage, the Hub, gRPC services, health, graceful shutdown."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import socket
from dataclasses import dataclass, replace
from pathlib import Path

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from printgate.v1 import admin_pb2_grpc, kiosk_pb2_grpc, terminal_pb2_grpc

from hub_server import directory, ledger
from hub_server.clock import Clock, SystemClock
from hub_server.config import HubConfig
from hub_server.hub import Hub
from hub_server.security import load_or_create_secret
from hub_server.services.admin import AdminServicer
from hub_server.services.kiosk import KioskAdminServicer, KioskServicer
from hub_server.services.terminal import TerminalServicer
from hub_server.storage import Database, open_database

log = logging.getLogger(__name__)

ADMIN_TOKEN_FILE = "admin-token"
PARENT_CHECK_S = 1.0
SECRET_FILE = "hub-secret"
# Paired with the terminal's client settings (terminal_app.core): clients may ping every 20 s.
SERVER_OPTIONS = [
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
    ("grpc.max_receive_message_length", 4 * 1024 * 1024),
]


def ensure_admin_credential(db: Database, data_dir: Path, now_us: int) -> Path | None:
    """On first start, create an admin token and write it (mode 0600) to the data directory.

    Returns the file's path when a token was created now, None when one existed already.
    """
    if db.read(lambda tx: tx.scalar("SELECT COUNT(*) AS n FROM admin_tokens")):
        return None
    token = db.write_sync(lambda tx: directory.create_admin_token(tx, "first start", now_us))
    path = data_dir / ADMIN_TOKEN_FILE
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(token + "\n")
    return path


def check_books(db: Database) -> None:
    """Refuse to serve from a ledger whose invariants do not hold."""
    problems = db.read(ledger.check_ledger)
    if problems:
        raise RuntimeError("ledger check failed: " + "; ".join(problems[:10]))


@dataclass
class RunningHub:
    """A started hub."""

    server: grpc.aio.Server
    hub: Hub
    db: Database
    port: int
    health: health.aio.HealthServicer

    async def stop(self, grace_s: float = 2.0) -> None:
        """Stop taking calls, let running ones finish, close storage."""
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace_s)
        self.db.close()


def prepare(config: HubConfig, clock: Clock) -> Database:
    """Open (and migrate) storage, check the books, create the first admin credential."""
    config.data_dir.mkdir(parents=True, exist_ok=True)
    db = open_database(config.database_url)
    check_books(db)
    created = ensure_admin_credential(db, config.data_dir, clock.now_us())
    if created:
        log.warning("first start: admin credential written to %s", created)
    load_or_create_secret(config.data_dir / SECRET_FILE)
    return db


async def start_hub(config: HubConfig, clock: Clock | None = None, share_port: bool = False) -> RunningHub:
    """Open storage (migrating it), and serve TerminalService and AdminService on ``config.listen``.

    ``share_port`` lets several worker processes serve one port (SO_REUSEPORT). It is off
    otherwise, so a second hub started on a busy port fails instead of silently sharing it.
    """
    clock = clock or SystemClock()
    db = prepare(config, clock)
    hub = Hub(db, config, clock, load_or_create_secret(config.data_dir / SECRET_FILE))
    server = grpc.aio.server(options=[*SERVER_OPTIONS, ("grpc.so_reuseport", int(share_port))])
    terminal_pb2_grpc.add_TerminalServiceServicer_to_server(TerminalServicer(hub), server)
    admin_pb2_grpc.add_AdminServiceServicer_to_server(AdminServicer(hub), server)
    kiosk_pb2_grpc.add_KioskServiceServicer_to_server(KioskServicer(hub), server)
    kiosk_pb2_grpc.add_KioskAdminServiceServicer_to_server(KioskAdminServicer(hub), server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    port = server.add_insecure_port(config.listen)
    if port == 0:
        db.close()
        raise OSError(f"cannot listen on {config.listen}")
    await server.start()
    await health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    return RunningHub(server=server, hub=hub, db=db, port=port, health=health_servicer)


def _resolve_port(listen: str) -> str:
    host, _, port = listen.rpartition(":")
    if port != "0":
        return listen
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.bind((host.strip("[]"), 0))
        return f"{host}:{probe.getsockname()[1]}"


def _worker_main(config: HubConfig, parent_pid: int) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(_serve_until_signalled(config, share_port=True, parent_pid=parent_pid))


async def _exit_with_parent(parent_pid: int, stop: asyncio.Event) -> None:
    # A parent killed with SIGKILL cannot stop its workers: they notice and stop themselves.
    while os.getppid() == parent_pid:
        await asyncio.sleep(PARENT_CHECK_S)
    stop.set()


async def _serve_until_signalled(
    config: HubConfig,
    share_port: bool,
    ready_file: Path | None = None,
    parent_pid: int | None = None,
) -> None:
    running = await start_hub(config, share_port=share_port)
    if parent_pid is None:
        address = f"{config.listen.rsplit(':', 1)[0]}:{running.port}"
        print(f"printgate hub listening on {address} (data in {config.data_dir})", flush=True)
        if ready_file:
            ready_file.write_text(address + "\n")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    watchdog = asyncio.ensure_future(_exit_with_parent(parent_pid, stop)) if parent_pid else None
    await stop.wait()
    if watchdog:
        watchdog.cancel()
    await running.stop()


async def serve(config: HubConfig, ready_file: Path | None = None) -> None:
    """Run a hub until SIGTERM or SIGINT, with ``config.workers`` processes on one port.

    Storage is prepared once here, before any worker starts, so migrations and the first admin
    credential never race. Workers are spawned (not forked) before any gRPC object exists.
    """
    prepare(config, SystemClock()).close()
    if config.workers <= 1:
        await _serve_until_signalled(config, share_port=False, ready_file=ready_file)
        return
    config = replace(config, listen=_resolve_port(config.listen))
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=_worker_main, args=(config, os.getpid()), daemon=True)
        for _ in range(config.workers - 1)
    ]
    for worker in workers:
        worker.start()
    try:
        await _serve_until_signalled(config, share_port=True, ready_file=ready_file)
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.join(10)
