"""Fleet test rig: a hub PKI, a real Mosquitto configured from it, enrolled device certificates,
device clients (the real ``FleetClient``) and the hub's fleet component with its real MQTT
subscriber. Fixtures are imported by the fleet and telemetry conftests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from hub_server.clock import FakeClock
from hub_server.fleet import COMPONENT as FLEET
from hub_server.fleet import AlertThresholds, FleetComponent, HubMqtt, HubMqttSettings, hub_username
from hub_server.pki import COMPONENT as PKI
from hub_server.pki import HubPki, PkiConfig
from hub_server.storage import Database, open_database
from terminal_app.telemetry import BrokerSettings, CommandHandlers, CommandResult, FleetClient
from terminal_app.telemetry.backoff import Backoff
from tests.mosquitto import MosquittoBroker

TOKEN_KEY = b"k" * 32


async def eventually(predicate: Any, timeout_s: float = 15.0, what: str = "condition") -> None:
    """Wait (without a fixed sleep) until ``predicate()`` is true."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


@dataclass
class DeviceFiles:
    device_id: str
    key: Path
    certificate: Path
    ca: Path

    def settings(self, broker: MosquittoBroker) -> BrokerSettings:
        return BrokerSettings(broker.host, broker.port, self.ca, self.certificate, self.key, keepalive_s=10)


async def enroll(pki: HubPki, directory: Path, device_id: str, kind: str = "terminal") -> DeviceFiles:
    """A device certificate through the real enroller (token + CSR), written as a device keeps it."""
    key = ec.generate_private_key(ec.SECP256R1())
    token, _ = await pki.enroller.create_token(kind, ["127.0.0.1:1"], device_id=device_id)  # type: ignore[arg-type]
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([]))
        .sign(key, hashes.SHA256())
        .public_bytes(serialization.Encoding.PEM)
    )
    issued = await pki.enroller.enroll(str(token), kind, csr, "ipv4:127.0.0.1:1")
    directory.mkdir(parents=True, exist_ok=True)
    files = DeviceFiles(device_id, directory / "device.key", directory / "device.crt", directory / "ca.pem")
    files.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    files.certificate.write_bytes(issued.certificate_pem() + issued.chain_pem())
    files.ca.write_bytes(pki.material.anchor.public_bytes(serialization.Encoding.PEM))
    return files


class RecordingHandlers(CommandHandlers):
    """Handlers with a history; ``hold`` makes a verb wait until released."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.hold: dict[str, asyncio.Event] = {}

    async def _run(self, verb: str, *args: Any) -> CommandResult:
        self.calls.append((verb, args))
        if verb in self.hold:
            await self.hold[verb].wait()
        return CommandResult.done(f"{verb} ok")

    async def restart_app(self) -> CommandResult:
        self.calls.append(("restart_app", ()))
        return CommandResult.after_restart("restarting")

    async def reboot(self) -> CommandResult:
        self.calls.append(("reboot", ()))
        return CommandResult.after_restart("rebooting")

    async def reload_config(self, version: str) -> CommandResult:
        return await self._run("reload_config", version)

    async def set_log_level(self, level: str) -> CommandResult:
        return await self._run("set_log_level", level)

    async def show_message(self, text: str, duration_s: int) -> CommandResult:
        return await self._run("show_message", text, duration_s)

    async def collect_diagnostics(self, command_id: str) -> CommandResult:
        return await self._run("collect_diagnostics", command_id)

    async def install_update(self, url: str, version: str, sha256: str) -> CommandResult:
        self.calls.append(("install_update", (url, version, sha256)))
        if version.endswith("bad"):
            return CommandResult.failed("bundle signature refused")
        return CommandResult.done(f"installed {version}")


@dataclass
class FleetRig:
    """Everything a fleet test needs; ``device()`` starts a device client, ``start_hub()`` the hub."""

    directory: Path
    clock: FakeClock
    db: Database
    pki: HubPki
    broker: MosquittoBroker
    thresholds: AlertThresholds = field(default_factory=AlertThresholds)
    clients: list[FleetClient] = field(default_factory=list)
    hubs: list[tuple[FleetComponent, HubMqtt, list[asyncio.Task[Any]]]] = field(default_factory=list)

    async def device_files(self, device_id: str, kind: str = "terminal") -> DeviceFiles:
        return await enroll(self.pki, self.directory / "devices" / device_id, device_id, kind)

    async def device(
        self,
        device_id: str,
        kind: str = "terminal",
        *,
        handlers: CommandHandlers | None = None,
        **options: Any,
    ) -> tuple[FleetClient, RecordingHandlers]:
        files = await self.device_files(device_id, kind)
        recording = handlers or RecordingHandlers()
        options.setdefault("backoff", Backoff(0.05, 0.5))
        client = FleetClient(
            device_id,
            kind,
            files.settings(self.broker),
            self.directory / "devices" / device_id / "telemetry",
            recording,
            software_version="1.0.0",
            **options,
        )
        await client.start()
        self.clients.append(client)
        return client, recording  # type: ignore[return-value]

    async def start_hub(self, **options: Any) -> FleetComponent:
        options.setdefault("thresholds", self.thresholds)
        component = FleetComponent(self.db, self.clock, **options)
        settings = HubMqttSettings(
            self.broker.host,
            self.broker.port,
            self.broker.files.ca,
            self.broker.files.hub_certificate,
            self.broker.files.hub_key,
            client_id=hub_username(),
            keepalive_s=10,
        )
        mqtt = HubMqtt(settings, component.submit, asyncio.get_running_loop())
        component.publisher = mqtt
        mqtt.start()
        tasks = [asyncio.create_task(component.run())]
        self.hubs.append((component, mqtt, tasks))
        await eventually(mqtt.connected.is_set, what="hub connected")
        return component

    async def stop_hub(self, component: FleetComponent) -> None:
        for entry in list(self.hubs):
            if entry[0] is component:
                await entry[1].stop()
                for task in entry[2]:
                    task.cancel()
                await asyncio.gather(*entry[2], return_exceptions=True)
                self.hubs.remove(entry)

    async def close(self) -> None:
        for client in self.clients:
            await client.stop(timeout_s=1)
        for component, *_ in list(self.hubs):
            await self.stop_hub(component)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(now_us=time.time_ns() // 1000)


@pytest.fixture
def fleet_db(tmp_path: Path) -> Iterator[Database]:
    database = open_database(f"sqlite:///{tmp_path / 'hub.db'}", [PKI, FLEET])
    yield database
    database.close()


@pytest_asyncio.fixture
async def rig(tmp_path: Path, clock: FakeClock, fleet_db: Database) -> AsyncIterator[FleetRig]:
    pki = HubPki(PkiConfig(directory=tmp_path / "pki"), fleet_db, clock, TOKEN_KEY)
    broker = MosquittoBroker(tmp_path / "broker", pki, clock)
    broker.start()
    fleet = FleetRig(tmp_path, clock, fleet_db, pki, broker)
    try:
        yield fleet
    finally:
        await fleet.close()
        broker.stop()
