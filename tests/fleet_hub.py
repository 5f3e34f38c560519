"""A whole hub with ``[fleet] enabled`` and a real private Mosquitto made from that hub's own PKI
(TLS from the hub CA, client certificates required, the fleet ACL): the broker's files are
written before the hub starts, from the CA the hub then loads. Devices enroll through the hub's
real enrollment service. Started by the ``fleet_hub`` fixture, the broker stopped by PID."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import grpc
import pytest_asyncio
from printgate.v1 import admin_pb2, admin_pb2_grpc, fleet_pb2_grpc

from hub_server.clock import SystemClock
from hub_server.config import HubConfig
from hub_server.pki import HubPki
from hub_server.server import ADMIN_TOKEN_FILE, HUB_CA_FILE, RunningHub, pki_config, prepare, start_hub
from tests.hub_server.conftest import hub_config
from tests.hub_server.devices import admin_channel, enroll_device
from tests.mosquitto import MosquittoBroker

# Short enough for a test to watch alerts and time-outs happen, long enough to stay cheap.
FLEET_SWEEP_S = 0.2


def broker_for(config: HubConfig, directory: Path) -> MosquittoBroker:
    """A broker configured from the PKI in ``config``'s data directory (made now if missing)."""
    db = prepare(config, SystemClock())
    try:
        pki = HubPki(pki_config(config), db, SystemClock(), b"\0" * 32)
        return MosquittoBroker(directory, pki, SystemClock())
    finally:
        db.close()


@dataclass
class FleetHub:
    """The running hub, its broker, and an admin channel (with the first admin token)."""

    directory: Path
    config: HubConfig
    broker: MosquittoBroker
    running: RunningHub
    channel: grpc.aio.Channel
    admin_token: str
    stopped: bool = False

    @property
    def metadata(self) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.admin_token}"),)

    @property
    def fleet_admin(self) -> fleet_pb2_grpc.FleetAdminServiceStub:
        return fleet_pb2_grpc.FleetAdminServiceStub(self.channel)

    @property
    def admin_address(self) -> str:
        return f"127.0.0.1:{self.running.admin_port}"

    async def call_admin(self, method: str, request: Any) -> Any:
        return await getattr(admin_pb2_grpc.AdminServiceStub(self.channel), method)(
            request, metadata=self.metadata
        )

    async def enroll(self, device_id: str, kind: Any = admin_pb2.TERMINAL_KIND_TERMINAL) -> Path:
        """Enroll a device with a real token; its state directory (key, certificate, CA)."""
        state_dir = self.directory / "devices" / device_id
        await enroll_device(self.call_admin, state_dir, device_id, "", kind)
        return state_dir

    async def until(self, check: Callable[[], Awaitable[bool]], what: str, timeout_s: float = 30.0) -> None:
        """Poll an async check (no fixed sleep) until it is true."""
        deadline = time.monotonic() + timeout_s
        while not await check():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            await asyncio.sleep(0.05)

    async def stop_hub(self) -> None:
        if not self.stopped:
            self.stopped = True
            await self.channel.close()
            await self.running.stop(0)


async def start_fleet_hub(directory: Path, **fleet: Any) -> FleetHub:
    """A broker from the hub's PKI, then the hub with ``[fleet]`` pointing at it."""
    base = hub_config(directory / "hub")
    broker = broker_for(base, directory / "broker")
    broker.start()
    table = {"enabled": True, "broker": f"{broker.host}:{broker.port}", "sweep_interval_s": FLEET_SWEEP_S}
    config = replace(base, fleet={**table, **fleet})
    try:
        running = await start_hub(config)
    except BaseException:
        broker.stop()
        raise
    token = (config.data_dir / ADMIN_TOKEN_FILE).read_text().strip()
    channel = admin_channel(f"127.0.0.1:{running.admin_port}", config.data_dir / HUB_CA_FILE)
    return FleetHub(directory, config, broker, running, channel, token)


@pytest_asyncio.fixture
async def fleet_hub(tmp_path: Path) -> AsyncIterator[FleetHub]:
    hub = await start_fleet_hub(tmp_path)
    try:
        yield hub
    finally:
        await hub.stop_hub()
        hub.broker.stop()
