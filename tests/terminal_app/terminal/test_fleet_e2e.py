"""Fleet management end to end: a hub with ``[fleet] enabled``, a real private Mosquitto made from
that hub's PKI (TLS, client certificates required, the fleet ACL), and one terminal run as its own
``printgate terminal`` process with the hw_sim RDM6300 reader on a pty, simulated FIH pins and the
simulated MFP's SNMP agent on loopback.

The admin sees it with ``printgate admin fleet list`` online; unplugging the reader shows it
missing in its state, a ``reader_lost`` event, and one ``reader_missing`` alert (raised once,
cleared once after the reader is back); a paper jam at the MFP is a ``jam`` event and an
``mfp_error`` alert, cleared with ``jam_cleared``; commands come back ``done`` (set_log_level, show_message
on the terminal's screen, collect_diagnostics uploaded to the hub); a card tap still logs in while
the broker is down; and SIGKILL of the terminal process marks it offline through the broker's last
will.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import subprocess
import sys
import tarfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from printgate.v1 import admin_pb2

from hw_sim.mfp import MfpSimServer, SimulatedMfp
from hw_sim.readers import SerialReaderSim
from tests.admin_cli.test_fleet_cli import cli, ok
from tests.fleet_hub import FleetHub, start_fleet_hub
from tests.terminal_app.conftest import ALICE_CARD

pytestmark = pytest.mark.slow

PRINTGATE = Path(sys.executable).parent / "printgate"
DEVICE = "term-fleet"


@dataclass
class FleetSite:
    hub: FleetHub
    reader: SerialReaderSim
    mfp: SimulatedMfp
    process: subprocess.Popen[bytes]
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    async def logged(self, text: str, what: str) -> None:
        async def seen() -> bool:
            return text in self.log_text()

        await self.hub.until(seen, f"{what} (terminal log: ...{self.log_text()[-2000:]})")


def write_config(folder: Path, hub: FleetHub, state_dir: Path, reader_path: str, snmp_port: int) -> Path:
    path = folder / "terminal.toml"
    path.write_text(
        f"""
[hub]
address = "127.0.0.1:{hub.running.port}"
state_dir = "{state_dir}"
deadline_s = 3.0

[reader]
driver = "rdm6300"
url = "{reader_path}"
debounce_s = 0.5

[mfp]
counter = "fih"
address = "127.0.0.1"
snmp_port = {snmp_port}
status_poll_s = 0.2

[mfp.fih]
pin_factory = "mock"

[session]
replay_interval_s = 0.5

[storage]
data_dir = "data"

[fleet]
broker = "{hub.broker.host}:{hub.broker.port}"
reader_check_s = 0.1
log_files = ["{folder / "terminal.log"}"]
"""
    )
    return path


@pytest_asyncio.fixture
async def site(tmp_path: Path) -> AsyncIterator[FleetSite]:
    alerts = {"reader_missing_after_s": 1, "offline_after_s": 1, "mfp_error_after_s": 1}
    hub = await start_fleet_hub(tmp_path, alerts=alerts)
    reader = SerialReaderSim("rdm6300").start()
    device = SimulatedMfp("kyocera")
    mfp = await MfpSimServer(device=device).__aenter__()
    process = None
    try:
        await hub.call_admin("CreateUser", admin_pb2.User(username="alice"))
        await hub.call_admin(
            "AddCard", admin_pb2.Card(user=admin_pb2.UserRef(username="alice"), number=ALICE_CARD)
        )
        state_dir = await hub.enroll(DEVICE)
        folder = tmp_path / "terminal"
        folder.mkdir()
        config = write_config(folder, hub, state_dir, reader.path, mfp.snmp_port)
        log = folder / "terminal.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                [str(PRINTGATE), "terminal", "--config", str(config), "--headless"],
                stdout=output,
                stderr=subprocess.STDOUT,
                cwd=folder,
            )
        site = FleetSite(hub, reader, device, process, log)
        await site.logged("screen=idle", "the idle screen")
        yield site
    finally:
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(process.wait, 15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        reader.close()
        await mfp.__aexit__(None, None, None)
        await hub.stop_hub()
        hub.broker.stop()


async def device(hub: FleetHub) -> dict[str, Any]:
    devices = (await ok(hub, "fleet list"))["devices"]
    return next((d for d in devices if d["id"] == DEVICE), {})


async def state(hub: FleetHub) -> dict[str, Any]:
    shown = await ok(hub, f"fleet show {DEVICE}")
    return dict(json.loads(shown["state_json"] or "{}"))


async def command_done(hub: FleetHub, command: str) -> dict[str, Any]:
    sent = await ok(hub, f"fleet command {DEVICE} {command}")

    async def final() -> bool:
        result = await ok(hub, f"fleet command-status {sent['id']}")
        return bool(result["status"] not in ("sent", "accepted"))

    await hub.until(final, f"the answer to {command}")
    result: dict[str, Any] = await ok(hub, f"fleet command-status {sent['id']}")
    assert result["status"] == "done", result
    assert result["issued_by"].startswith("admin-token-")
    return result


async def test_a_terminal_under_fleet_management(site: FleetSite) -> None:
    hub = site.hub
    fleet = hub.running.fleet
    assert fleet is not None

    async def online_with_reader() -> bool:
        found = await device(hub)
        return bool(found.get("online")) and (await state(hub)).get("reader", {}).get("present") is True

    await hub.until(online_with_reader, "the terminal online in `fleet list` with its reader")
    listed = await device(hub)
    assert (listed["kind"], listed["source"], listed["open_alerts"]) == ("terminal", "mqtt", 0)
    snapshot = await state(hub)
    assert snapshot["reader"] == {"driver": "rdm6300", "present": True}
    assert snapshot["journal_backlog"] == 0 and snapshot["free_space_bytes"] > 0
    assert snapshot["software"]["version"] == listed["software_version"] != ""
    assert (snapshot["mfp"]["status"], snapshot["mfp"]["errors"]) == ("running", [])

    # unplug the reader: missing in the state, an event, one alert
    site.reader.unplug()

    async def reader_missing() -> bool:
        alerts = (await ok(hub, "fleet alerts"))["alerts"]
        return [(a["device_id"], a["kind"]) for a in alerts] == [(DEVICE, "reader_missing")]

    await hub.until(reader_missing, "the reader_missing alert")
    assert (await state(hub))["reader"] == {"driver": "rdm6300", "present": False}
    history = (await ok(hub, f"fleet history {DEVICE}"))["entries"]
    assert any(e["kind"] == "event" and "reader_lost" in e["summary_json"] for e in history)
    for _ in range(3):  # more sweeps raise nothing again
        await fleet.component.sweep()
    assert len((await ok(hub, "fleet alerts --all"))["alerts"]) == 1
    assert fleet.component.stats.alerts_raised == 1

    site.reader.replug()

    async def cleared() -> bool:
        return (await ok(hub, "fleet alerts"))["alerts"] == []

    await hub.until(cleared, "the reader_missing alert cleared")
    every = (await ok(hub, "fleet alerts --all"))["alerts"]
    assert len(every) == 1 and every[0]["cleared_at"]
    assert fleet.component.stats.alerts_cleared == 1

    # a paper jam at the MFP (read over SNMP by the terminal)
    site.mfp.jam()

    async def mfp_alert() -> bool:
        alerts = (await ok(hub, "fleet alerts"))["alerts"]
        return [(a["device_id"], a["kind"]) for a in alerts] == [(DEVICE, "mfp_error")]

    await hub.until(mfp_alert, "the mfp_error alert")
    assert "jammed" in (await state(hub))["mfp"]["errors"]
    site.mfp.clear()
    await hub.until(cleared, "the mfp_error alert cleared")
    history = (await ok(hub, f"fleet history {DEVICE}"))["entries"]
    events = [json.loads(e["summary_json"]).get("type") for e in history if e["kind"] == "event"]
    assert "jam" in events and "jam_cleared" in events

    # commands
    result = await command_done(hub, "set_log_level level=DEBUG")
    assert json.loads(result["result_json"]) == {"level": "DEBUG"}
    await site.logged("log level set to DEBUG by the fleet", "the new log level")
    await command_done(hub, "show_message 'text=Toner arrives at noon' duration_s=60")
    await site.logged("message=operator_notice", "the notice on the screen")
    result = await command_done(hub, "collect_diagnostics")
    size = json.loads(result["result_json"])["size_bytes"]
    bundle = hub.running.db.read(
        lambda tx: tx.one(
            "SELECT device_id, bundle FROM fleet_diagnostics WHERE command_id = :c", {"c": result["id"]}
        )
    )
    assert bundle is not None and bundle["device_id"] == DEVICE and len(bundle["bundle"]) == size
    with tarfile.open(fileobj=io.BytesIO(bytes(bundle["bundle"])), mode="r:gz") as archive:
        names = set(archive.getnames())
        config = json.loads(archive.extractfile("config.json").read())  # type: ignore[union-attr]
    assert {"config.json", "versions.json", "logs/terminal.log"} <= names
    assert config["reader"]["driver"] == "rdm6300"

    # the broker goes away: a card tap still logs in (telemetry waits in its buffer)
    session = (await state(hub))["session"]
    hub.broker.stop()
    site.reader.tap(ALICE_CARD)
    await site.logged("user=alice", "alice logged in while the broker is down")
    hub.broker.start()

    async def reconnected() -> bool:  # a new connection sends its state again, with a new session
        return bool((await state(hub)).get("session", 0) > session) and await online_with_reader()

    await hub.until(reconnected, "back online after the broker restarted")

    # SIGKILL: the broker's last will marks it offline
    os.kill(site.process.pid, signal.SIGKILL)
    await asyncio.to_thread(site.process.wait, 15)

    async def offline() -> bool:
        return (await device(hub)).get("online") is False

    await hub.until(offline, "offline through the last will")
    offline_list = await cli(hub, "fleet list --offline", json_output=False)
    assert offline_list.code == 0 and DEVICE in offline_list.out
