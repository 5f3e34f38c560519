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
from pathlib import Path

import pytest

from terminal_app.session.device_ops import DeviceOps
from terminal_app.telemetry import CommandResult, FleetClient
from terminal_app.telemetry.backoff import Backoff
from tests.fleet_rig import DeviceFiles, FleetRig, RecordingHandlers, eventually
from tests.terminal_app.device_ops_rig import BundleServer, device_side

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


async def start_app(rig: FleetRig, files: DeviceFiles, handlers: OpsHandlers, version: str) -> FleetClient:
    """One start of the app: a fleet client over the device's state directory."""
    client = FleetClient(
        DEVICE,
        "terminal",
        files.settings(rig.broker),
        rig.directory / "devices" / DEVICE / "telemetry",
        handlers,
        software_version=version,
        backoff=Backoff(0.05, 0.5),
    )
    await client.start()
    rig.clients.append(client)
    return client


def pending(rig: FleetRig) -> dict[str, dict[str, object]]:
    path = rig.directory / "devices" / DEVICE / "telemetry" / "commands-pending.json"
    return json.loads(path.read_text()) if path.exists() else {}


async def restart_app(
    rig: FleetRig, client: FleetClient, files: DeviceFiles, handlers: OpsHandlers, version: str
) -> FleetClient:
    await client.stop(timeout_s=1)
    rig.clients.remove(client)
    handlers.ops.prepare()  # as every start of the app does
    return await start_app(rig, files, handlers, version)


async def test_reboot_and_install_update_sent_by_the_hub_are_performed_and_answered_after_the_restart(
    rig: FleetRig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub = await rig.start_hub()
    files = await rig.device_files(DEVICE)
    device = device_side(tmp_path / "device-side", monkeypatch, files.ca, reserve_bytes=0)
    handlers = OpsHandlers(device.ops)
    client = await start_app(rig, files, handlers, "1.0.0")
    await eventually(lambda: hub.list_devices(), what="device known")
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(rig.directory / "pki" / "server.crt", rig.directory / "pki" / "server.key")
    server = BundleServer(server_tls, {"/updates/1.1.raucb": BUNDLE})
    with server.running():
        async with device.root_service():
            reboot = await hub.send_command(DEVICE, "reboot", {}, "alice")
            await eventually(lambda: reboot["id"] in pending(rig), what="reboot pending")
            assert device.systemctl.calls == [{"argv": ["reboot"]}]
            assert hub.command(reboot["id"])["status"] == "accepted"
            client = await restart_app(rig, client, files, handlers, "1.0.0")
            await eventually(lambda: hub.command(reboot["id"])["status"] == "done", what="reboot answered")
            assert hub.command(reboot["id"])["detail"] == "back, running 1.0.0"

            update = await hub.send_command(
                DEVICE,
                "install_update",
                {
                    "url": server.url("/updates/1.1.raucb", host="localhost"),
                    "version": "1.1",
                    "sha256": hashlib.sha256(BUNDLE).hexdigest(),
                },
                "alice",
            )
            await eventually(  # handed over at once; kept by the handler's answer when rauc returned
                lambda: pending(rig).get(update["id"]) == {"verb": "install_update", "expect_version": "1.1"},
                what="update pending after the root service's answer",
            )
            [install] = device.rauc.calls
            assert install["sha256"] == hashlib.sha256(BUNDLE).hexdigest()
            assert device.systemctl.calls == [{"argv": ["reboot"]}] * 2
            await restart_app(rig, client, files, handlers, "1.1")  # the new slot's software
            await eventually(lambda: hub.command(update["id"])["status"] == "done", what="update answered")
            assert hub.command(update["id"])["detail"] == "back, running 1.1"
    assert pending(rig) == {}


async def test_an_update_still_installing_when_the_app_restarts_is_answered_by_the_new_slot(
    rig: FleetRig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app dies (watchdog, crash) while the root service is still in ``rauc install``: the
    command is neither answered ``failed`` nor lost; the start in the new slot answers it."""
    hub = await rig.start_hub()
    files = await rig.device_files(DEVICE)
    device = device_side(tmp_path / "device-side", monkeypatch, files.ca, reserve_bytes=0)
    handlers = OpsHandlers(device.ops)
    client = await start_app(rig, files, handlers, "1.0.0")
    await eventually(lambda: hub.list_devices(), what="device known")
    url = (tmp_path / "update.raucb").as_uri()
    (tmp_path / "update.raucb").write_bytes(BUNDLE)
    device.rauc.hold()
    async with device.root_service():
        update = await hub.send_command(
            DEVICE,
            "install_update",
            {"url": url, "version": "1.1", "sha256": hashlib.sha256(BUNDLE).hexdigest()},
            "alice",
        )
        await eventually(lambda: len(device.rauc.calls) == 1, what="rauc installing")
        assert pending(rig)[update["id"]]["handed_over"] is True
        handlers.die()  # the app's process goes, rauc goes on
        client = await restart_app(rig, client, files, handlers, "1.0.0")
        await eventually(lambda: client.connected, what="the restarted app connected")
        assert hub.command(update["id"])["status"] == "accepted"  # not failed: still installing
        assert update["id"] in pending(rig)
        device.rauc.release()
        await eventually(lambda: device.systemctl.calls == [{"argv": ["reboot"]}], what="reboot")
    await restart_app(rig, client, files, handlers, "1.1")  # the new slot's software
    await eventually(lambda: hub.command(update["id"])["status"] == "done", what="update answered")
    assert hub.command(update["id"])["detail"] == "back, running 1.1"
    assert pending(rig) == {}
    assert device.entries("downloads") == [] and device.entries("updates") == []


async def test_an_update_that_fails_while_the_app_is_down_is_answered_with_the_reason(
    rig: FleetRig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app restarts while ``rauc install`` runs, and RAUC then refuses the bundle: the
    restarted app reads the root service's answer and the hub gets ``failed`` with RAUC's
    reason, not a time-out an hour later."""
    hub = await rig.start_hub()
    files = await rig.device_files(DEVICE)
    device = device_side(tmp_path / "device-side", monkeypatch, files.ca, reserve_bytes=0)
    handlers = OpsHandlers(device.ops)
    client = await start_app(rig, files, handlers, "1.0.0")
    await eventually(lambda: hub.list_devices(), what="device known")
    (tmp_path / "update.raucb").write_bytes(BUNDLE)
    device.rauc.hold()
    device.rauc.fail(1, "rauc: signature verification failed")
    async with device.root_service():
        update = await hub.send_command(
            DEVICE,
            "install_update",
            {
                "url": (tmp_path / "update.raucb").as_uri(),
                "version": "1.1",
                "sha256": hashlib.sha256(BUNDLE).hexdigest(),
            },
            "alice",
        )
        await eventually(lambda: len(device.rauc.calls) == 1, what="rauc installing")
        handlers.die()
        client = await restart_app(rig, client, files, handlers, "1.0.0")
        await eventually(lambda: client.connected, what="the restarted app connected")
        assert hub.command(update["id"])["status"] == "accepted"
        device.rauc.release()
        await eventually(lambda: hub.command(update["id"])["status"] == "failed", what="failed")
    command = hub.command(update["id"])
    assert "signature verification failed" in command["detail"]
    assert pending(rig) == {}
    assert device.systemctl.calls == []  # no reboot after a refused bundle
    assert device.entries("results") == [] and not (device.ops.directory / "update.json").exists()
