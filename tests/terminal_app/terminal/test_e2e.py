"""End to end: ``terminal.toml`` → the wired terminal, against the real gRPC hub, the hw_sim RDM6300
reader on a pty, and the simulated MFP (SNMP agent on loopback, FIH copier on MockFactory pins).

Card frame in → panel unlocked → the MFP copies 3 pages → logout locks → charged exactly once.
Then the hub goes away: the cached user copies offline, the hub comes back, the journal replays.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from gpiozero.pins.mock import MockFactory

from hw_sim.mfp import FihCopier, MfpSimServer, SimulatedMfp
from hw_sim.readers import SerialReaderSim
from terminal_app.terminal import Logout, MessageKey, Screen
from terminal_app.terminal.config import load_config
from terminal_app.terminal.wiring import Terminal, build_terminal
from tests.hub_server.conftest import HubClients
from tests.terminal_app.conftest import ALICE_CARD, restart_hub, seed_site

WAIT_S = 20.0


async def until(condition: Callable[[], bool], what: str, timeout_s: float = WAIT_S) -> None:
    """Wait for ``condition`` (polling; the deadline only guards against a hang)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


def write_config(
    folder: Path, hub_port: int, state_dir: Path, reader_path: str, snmp_port: int, counter: str
) -> Path:
    path = folder / "terminal.toml"
    path.write_text(
        f"""
[hub]
address = "127.0.0.1:{hub_port}"
state_dir = "{state_dir}"
deadline_s = 3.0

[reader]
driver = "rdm6300"
url = "{reader_path}"
debounce_s = 0.5

[mfp]
counter = "{counter}"
address = "127.0.0.1"
snmp_port = {snmp_port}
status_poll_s = 0.2

[mfp.fih]
grace_s = 0.3

[session]
idle_timeout_s = 60
relogin_guard_s = 1.0
copy_poll_s = 0.1
replay_interval_s = 0.5

[prices]
copy_mono_cents = 5
copy_color_cents = 20

[storage]
data_dir = "data"
"""
    )
    return path


@dataclass
class Site:
    hub: HubClients
    reader: SerialReaderSim
    mfp: MfpSimServer
    copier: FihCopier
    terminal: Terminal
    task: asyncio.Task[None]

    @property
    def state(self):
        return self.terminal.engine.state

    async def copy(self, pages: int, color: bool = False) -> int:
        return await asyncio.to_thread(self.mfp.device.copy, pages, color=color)


@pytest_asyncio.fixture(params=["snmp", "fih"])
async def site(request: pytest.FixtureRequest, hub: HubClients, tmp_path: Path) -> AsyncIterator[Site]:
    started = hub.running
    terminal_client = await seed_site(hub)
    factory = MockFactory()
    device = SimulatedMfp("kyocera")
    copier = FihCopier(factory)
    copier.attach(device)
    reader = SerialReaderSim("rdm6300").start()
    async with MfpSimServer(device=device) as mfp:
        path = write_config(
            tmp_path, hub.running.port, terminal_client.state_dir, reader.path, mfp.snmp_port, request.param
        )
        terminal = build_terminal(load_config(path), pin_factory=factory)
        task = asyncio.create_task(terminal.run())
        await until(lambda: terminal.engine.state.screen is Screen.IDLE, "the idle screen")
        await until(lambda: terminal.reader.health.state == "ready", "the reader")
        yield Site(hub, reader, mfp, copier, terminal, task)
        await terminal.stop()
        await asyncio.wait_for(task, WAIT_S)
        await terminal.close()
    reader.close()
    factory.close()
    if hub.running is not started:
        await hub.running.stop(0)


async def test_card_frame_unlocks_copies_are_charged_exactly_once(site: Site) -> None:
    assert not site.copier.enabled()
    site.reader.tap(ALICE_CARD)
    await until(site.copier.enabled, "the panel to unlock")
    assert (site.state.screen, site.state.username) == (Screen.HOME, "alice")
    assert await site.copy(3) == 3
    await until(lambda: site.state.copy_pages == 3, "three pages on the screen")
    assert site.state.screen is Screen.COPYING and site.state.copy_cost_cents == 15
    site.terminal.engine.submit(Logout())
    await until(lambda: site.state.screen is Screen.IDLE, "the logout")
    assert not site.copier.enabled() and await site.copy(1) == 0
    assert site.state.pending_reports == 0
    assert await site.hub.balance("alice") == 1000 - 15
    assert site.mfp.device.counts()["copy_total"] == 3
    assert not (await site.hub.check_ledger()).problems
    site.reader.tap(ALICE_CARD)  # the same card again at once: taken as still lying there
    await asyncio.sleep(0.3)
    assert site.state.screen is Screen.IDLE and not site.copier.enabled()
    await asyncio.sleep(site.terminal.engine.settings.relogin_guard_s)
    site.reader.tap(ALICE_CARD)  # a deliberate new tap later logs in again
    await until(site.copier.enabled, "the panel to unlock again")


async def test_printer_jam_is_shown(site: Site) -> None:
    site.mfp.device.jam()
    await until(lambda: site.state.message is MessageKey.PRINTER_JAMMED, "the jam message")
    assert "jammed" in site.state.printer_errors


async def test_offline_copy_is_replayed_when_the_hub_returns(site: Site) -> None:
    site.reader.tap(ALICE_CARD)
    await until(site.copier.enabled, "the online login")
    site.terminal.engine.submit(Logout())
    await until(lambda: site.state.screen is Screen.IDLE, "the logout")
    await site.hub.running.stop(0)
    await until(lambda: site.state.offline, "the idle screen to say offline before any tap")
    assert site.state.screen is Screen.IDLE
    site.reader.tap(ALICE_CARD)
    await until(site.copier.enabled, "the offline login")
    assert site.state.offline_session and site.state.offline
    assert await site.copy(2) == 2
    await until(lambda: site.state.copy_pages == 2, "two pages")
    site.terminal.engine.submit(Logout())
    await until(lambda: site.state.screen is Screen.IDLE, "the offline logout")
    assert site.state.pending_reports == 1 and not site.copier.enabled()
    await restart_hub(site.hub)
    await until(lambda: site.state.pending_reports == 0, "the journal replay")
    await until(lambda: not site.state.offline, "online again")
    assert await site.hub.balance("alice") == 1000 - 10
    assert site.terminal.engine.journal.failed() == []
