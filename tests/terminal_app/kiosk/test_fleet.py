"""A kiosk process (the simulated ccTalk coin acceptor and receipt printer) under fleet management:
a hub with ``[fleet] enabled`` and a real Mosquitto from its PKI. It shows up as a kiosk, an
admin's notice reaches its screen, and central configuration is applied when valid and refused
(the last good version kept) when not."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from printgate.v1 import admin_pb2, fleet_pb2

from hw_sim.cash import SimCcTalkBus, SimCoinAcceptor, SimReceiptPrinter
from tests.admin_cli.test_fleet_cli import ok
from tests.fleet_hub import FleetHub, start_fleet_hub
from tests.terminal_app.kiosk.test_crash import KioskProcess, write_config

pytestmark = pytest.mark.slow

KIOSK = "kiosk-fleet"


@dataclass
class FleetKiosk:
    hub: FleetHub
    kiosk: KioskProcess

    async def device_state(self) -> dict[str, Any]:
        shown = await ok(self.hub, f"fleet show {KIOSK}")
        return dict(json.loads(shown["state_json"] or "{}"))


@pytest_asyncio.fixture
async def site(tmp_path: Path) -> AsyncIterator[FleetKiosk]:
    hub = await start_fleet_hub(tmp_path)
    coins = SimCoinAcceptor(2)
    bus = SimCcTalkBus(coins).start()
    printer = SimReceiptPrinter().start()
    kiosk = None
    try:
        state_dir = await hub.enroll(KIOSK, admin_pb2.TERMINAL_KIND_KIOSK)
        folder = tmp_path / "kiosk"
        folder.mkdir()
        config = write_config(folder, hub.running.port, state_dir, bus.path, printer.port)
        config.write_text(config.read_text() + f'\n[fleet]\nbroker = "{hub.broker.host}:{hub.broker.port}"\n')
        kiosk = KioskProcess(folder, config)
        kiosk.start()
        await kiosk.wait_screen("idle")
        yield FleetKiosk(hub, kiosk)
    finally:
        if kiosk is not None:
            kiosk.stop()
        bus.close()
        printer.close()
        await hub.stop_hub()
        hub.broker.stop()


async def test_a_kiosk_under_fleet_management(site: FleetKiosk) -> None:
    hub = site.hub

    async def online() -> bool:
        devices = (await ok(hub, "fleet list --kind kiosk"))["devices"]
        listed = [(d["id"], d["online"]) for d in devices] == [(KIOSK, True)]
        return listed and bool(await site.device_state())

    await hub.until(online, "the kiosk online with its state")
    state = await site.device_state()
    assert state["kind"] == "kiosk" and state["journal_backlog"] == 0
    assert "reader" not in state and "mfp" not in state  # no [reader], no MFP

    sent = await ok(hub, f"fleet command {KIOSK} show_message 'text=Coins only today' duration_s=60")

    async def notice_shown() -> bool:
        shown = site.kiosk.state()
        return shown.get("message") == "operator_notice"

    await hub.until(notice_shown, "the notice on the kiosk")
    assert ["text", "Coins only today"] in site.kiosk.state()["message_args"]

    async def answered_done() -> bool:  # the notice shows before the hub has the kiosk's answer
        return bool((await ok(hub, f"fleet command-status {sent['id']}"))["status"] == "done")

    await hub.until(answered_done, "show_message answered done")

    # central configuration: a valid version is applied and reported back as its version
    await hub.fleet_admin.PutConfig(
        fleet_pb2.PutConfigRequest(
            scope=fleet_pb2.CONFIG_SCOPE_DEVICE, name=KIOSK, document_json='{"kiosk": {"idle_timeout_s": 30}}'
        ),
        metadata=hub.metadata,
    )
    wanted = hub.running.fleet.component.effective_config(KIOSK).version  # type: ignore[union-attr]

    async def applied() -> bool:
        return (await site.device_state()).get("config_version") == wanted

    await hub.until(applied, f"configuration {wanted} applied")

    # an invalid version is refused: the last good one stays in force
    await hub.fleet_admin.PutConfig(
        fleet_pb2.PutConfigRequest(
            scope=fleet_pb2.CONFIG_SCOPE_DEVICE, name=KIOSK, document_json='{"kiosk": {"idle_timeout_s": 1}}'
        ),
        metadata=hub.metadata,
    )

    async def rejected() -> bool:
        entries = (await ok(hub, f"fleet history {KIOSK}"))["entries"]
        return any(e["kind"] == "event" and "config_rejected" in e["summary_json"] for e in entries)

    await hub.until(rejected, "config_rejected")

    async def answered_failed() -> bool:  # the event goes out before the answer
        commands = (await ok(hub, f"fleet show {KIOSK}"))["recent_commands"]
        reloads = [c["status"] for c in commands if c["verb"] == "reload_config"]
        return reloads[:2] == ["failed", "done"]  # newest first

    await hub.until(answered_failed, "the invalid configuration answered failed")
    assert (await site.device_state())["config_version"] == wanted
