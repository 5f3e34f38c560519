"""The fleet's reboot and install_update end to end: the hub sends the command over Mosquitto, the
device's client runs it through its request client, the root side performs it (fake ``rauc`` and
``systemctl``: they need a booted image), and the next start of the app answers it. The bundle is
served over HTTPS with the hub's own server certificate and checked against the CA the device
enrolled with."""

from __future__ import annotations

import asyncio
import hashlib
import json
import ssl
from dataclasses import dataclass
from pathlib import Path

import pytest

from hub_server.fleet import FleetComponent
from terminal_app.session.device_ops import UPDATE_UNDER_WAY, DeviceOps
from terminal_app.telemetry import CommandResult, FleetClient
from terminal_app.telemetry.backoff import Backoff
from tests.fleet_rig import DeviceFiles, FleetRig, RecordingHandlers, eventually
from tests.terminal_app.device_ops_rig import BundleServer, DeviceSide, device_side

pytestmark = pytest.mark.slow

BUNDLE = b"bundle 1.1 " * 500
DEVICE = "term-ops"


class OpsHandlers(RecordingHandlers):
    """The recording handlers, with reboot and install_update through the request client (as
    DeviceCommands does on an image)."""

    def __init__(self, ops: DeviceOps) -> None:
        super().__init__()
        self.ops = ops
        self.running: list[asyncio.Task[object]] = []  # what dies with the app's process

    def die(self) -> None:
        for task in self.running:
            task.cancel()

    async def reboot(self) -> CommandResult:
        return await self.ops.reboot()

    async def install_update(self, url: str, version: str, sha256: str) -> CommandResult:
        task = asyncio.current_task()
        assert task is not None
        self.running.append(task)
        return await self.ops.install_update(url, version, sha256)

    async def resume_update(self, version: str) -> CommandResult | None:
        return await self.ops.resume_update(version)


@dataclass
class Lab:
    """The hub, one device (its root side with fake tools) and the device's app, started once."""

    rig: FleetRig
    hub: FleetComponent
    files: DeviceFiles
    device: DeviceSide
    handlers: OpsHandlers
    client: FleetClient | None = None

    async def start_app(self, version: str) -> FleetClient:
        """One start of the app: its request directories prepared, a fleet client over the
        device's state directory."""
        self.device.ops.prepare()
        self.client = FleetClient(
            DEVICE,
            "terminal",
            self.files.settings(self.rig.broker),
            self.rig.directory / "devices" / DEVICE / "telemetry",
            self.handlers,
            software_version=version,
            backoff=Backoff(0.05, 0.5),
        )
        await self.client.start()
        self.rig.clients.append(self.client)
        return self.client

    async def restart_app(self, version: str) -> FleetClient:
        assert self.client is not None
        await self.client.stop(timeout_s=1)
        self.rig.clients.remove(self.client)
        return await self.start_app(version)

    def pending(self) -> dict[str, dict[str, object]]:
        path = self.rig.directory / "devices" / DEVICE / "telemetry" / "commands-pending.json"
        return json.loads(path.read_text()) if path.exists() else {}


@pytest.fixture
async def lab(rig: FleetRig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Lab:
    hub = await rig.start_hub()
    files = await rig.device_files(DEVICE)
    device = device_side(tmp_path / "device-side", monkeypatch, files.ca, reserve_bytes=0)
    started = Lab(rig, hub, files, device, OpsHandlers(device.ops))
    await started.start_app("1.0.0")
    await eventually(lambda: hub.list_devices(), what="device known")
    return started


def install(url: str) -> dict[str, str]:
    return {"url": url, "version": "1.1", "sha256": hashlib.sha256(BUNDLE).hexdigest()}


async def test_reboot_and_install_update_sent_by_the_hub_are_performed_and_answered_after_the_restart(
    lab: Lab,
) -> None:
    hub, device = lab.hub, lab.device
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(
        lab.rig.directory / "pki" / "server.crt", lab.rig.directory / "pki" / "server.key"
    )
    server = BundleServer(server_tls, {"/updates/1.1.raucb": BUNDLE})
    with server.running():
        async with device.root_service():
            reboot = await hub.send_command(DEVICE, "reboot", {}, "alice")
            await eventually(lambda: reboot["id"] in lab.pending(), what="reboot pending")
            assert device.systemctl.calls == [{"argv": ["reboot"]}]
            assert hub.command(reboot["id"])["status"] == "accepted"
            await lab.restart_app("1.0.0")
            await eventually(lambda: hub.command(reboot["id"])["status"] == "done", what="reboot answered")
            assert hub.command(reboot["id"])["detail"] == "back, running 1.0.0"

            update = await hub.send_command(
                DEVICE,
                "install_update",
                install(server.url("/updates/1.1.raucb", host="localhost")),
                "alice",
            )
            await eventually(  # handed over at once; kept by the handler's answer when rauc returned
                lambda: (
                    lab.pending().get(update["id"]) == {"verb": "install_update", "expect_version": "1.1"}
                ),
                what="update pending after the root service's answer",
            )
            [installing] = device.rauc.calls
            assert installing["sha256"] == hashlib.sha256(BUNDLE).hexdigest()
            assert device.systemctl.calls == [{"argv": ["reboot"]}] * 2
            await lab.restart_app("1.1")  # the new slot's software
            await eventually(lambda: hub.command(update["id"])["status"] == "done", what="update answered")
            assert hub.command(update["id"])["detail"] == "back, running 1.1"
    assert lab.pending() == {}


async def test_an_update_still_installing_when_the_app_restarts_is_answered_by_the_new_slot(
    lab: Lab, tmp_path: Path
) -> None:
    """The app dies (watchdog, crash) while the root service is still in ``rauc install``: the
    command is neither answered ``failed`` nor lost; the start in the new slot answers it."""
    hub, device = lab.hub, lab.device
    url = (tmp_path / "update.raucb").as_uri()
    (tmp_path / "update.raucb").write_bytes(BUNDLE)
    device.rauc.hold()
    async with device.root_service():
        update = await hub.send_command(
            DEVICE,
            "install_update",
            install(url),
            "alice",
        )
        await eventually(lambda: len(device.rauc.calls) == 1, what="rauc installing")
        assert lab.pending()[update["id"]]["handed_over"] is True
        lab.handlers.die()  # the app's process goes, rauc goes on
        client = await lab.restart_app("1.0.0")
        await eventually(lambda: client.connected, what="the restarted app connected")
        assert hub.command(update["id"])["status"] == "accepted"  # not failed: still installing
        assert update["id"] in lab.pending()
        device.rauc.release()
        await eventually(lambda: device.systemctl.calls == [{"argv": ["reboot"]}], what="reboot")
    await lab.restart_app("1.1")  # the new slot's software
    await eventually(lambda: hub.command(update["id"])["status"] == "done", what="update answered")
    assert hub.command(update["id"])["detail"] == "back, running 1.1"
    assert lab.pending() == {}
    assert device.entries("downloads") == [] and device.entries("updates") == []


async def test_an_update_that_fails_while_the_app_is_down_is_answered_with_the_reason(
    lab: Lab, tmp_path: Path
) -> None:
    """The app restarts while ``rauc install`` runs, and RAUC then refuses the bundle: the
    restarted app reads the root service's answer and the hub gets ``failed`` with RAUC's
    reason, not a time-out an hour later."""
    hub, device = lab.hub, lab.device
    (tmp_path / "update.raucb").write_bytes(BUNDLE)
    device.rauc.hold()
    device.rauc.fail(1, "rauc: signature verification failed")
    async with device.root_service():
        update = await hub.send_command(
            DEVICE,
            "install_update",
            install((tmp_path / "update.raucb").as_uri()),
            "alice",
        )
        await eventually(lambda: len(device.rauc.calls) == 1, what="rauc installing")
        lab.handlers.die()
        client = await lab.restart_app("1.0.0")
        await eventually(lambda: client.connected, what="the restarted app connected")
        assert hub.command(update["id"])["status"] == "accepted"
        device.rauc.release()
        await eventually(lambda: hub.command(update["id"])["status"] == "failed", what="failed")
    command = hub.command(update["id"])
    assert "signature verification failed" in command["detail"]
    assert lab.pending() == {}
    assert device.systemctl.calls == []  # no reboot after a refused bundle
    assert device.entries("results") == [] and not (device.ops.directory / UPDATE_UNDER_WAY).exists()
