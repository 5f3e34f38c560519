"""Fixtures of the terminal and kiosk tests: a real in-process hub; the terminal rig (a real HubClient,
the real FIH panel lock on gpiozero MockFactory pins wired to the simulated copier, a real SQLite
journal, and a fake clock); and the Kivy machinery both roles' screen tests use (a private Xvfb,
the window, a finger).

Nothing of ours is mocked: the engine under test talks gRPC to the hub and drives the GPIO lines
the simulated MFP's copier watches.

Kivy exits the whole process (rc 102, no summary) when it cannot open a window, so the Kivy tests
(``kivy_screens.py`` of each role, not collected by the normal run) run in a pytest subprocess
started by that role's ``test_under_xvfb.py`` against an Xvfb started here on a free display and
stopped by PID.
"""

from __future__ import annotations

import itertools
import os
import select
import shutil
import sqlite3
import subprocess
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from gpiozero.pins.mock import MockFactory
from printgate.v1 import admin_pb2, common_pb2

from hub_server.server import start_hub
from hw_sim.mfp import FihCopier, SimulatedMfp
from mfp_adapters import FihPanelLock
from terminal_app.hub import HubClient
from terminal_app.session import FakeClock, open_store
from terminal_app.terminal import (
    Journal,
    OfflineCache,
    PriceHints,
    PulseCopyCounter,
    TerminalEngine,
    TerminalSettings,
    TerminalState,
)
from tests.hub_server import conftest as hub_fixtures
from tests.hub_server.conftest import HubClients, TerminalClient

hub = hub_fixtures.hub  # the real in-process hub fixture, shared with the hub's tests


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """The terminal tests run the hub on its embedded default (the hub's own tests cover PostgreSQL)."""
    return f"sqlite:///{tmp_path / 'hub.db'}"


ALICE_CARD = "0012345678"
BOB_CARD = "0087654321"
CAROL_CARD = "00ABCDEF01"
COPY_MONO_CENTS = 5
COPY_COLOR_CENTS = 20


async def seed_site(hub: HubClients) -> TerminalClient:
    """Prices, a terminal ``t1`` and three users: alice (card, 10.00), bob (card + PIN role), carol (PIN)."""
    terminal = await hub.create_terminal("t1")
    await hub.set_price(common_pb2.FUNCTION_COPY, common_pb2.COLOR_MODE_MONO, COPY_MONO_CENTS)
    await hub.set_price(common_pb2.FUNCTION_COPY, common_pb2.COLOR_MODE_COLOR, COPY_COLOR_CENTS)
    await hub.call_admin(
        "UpsertRole",
        admin_pb2.Role(
            name="staff",
            requires_card_pin=True,
            allowed_functions=[common_pb2.FUNCTION_PRINT, common_pb2.FUNCTION_COPY],
            color_allowed=True,
        ),
    )
    await hub.create_user("alice", card=ALICE_CARD, credit_cents=1000, full_name="Alice A")
    await hub.create_user("bob", card=BOB_CARD, pin="2468", credit_cents=500, roles=["staff"])
    await hub.create_user("carol", pin="1357", credit_cents=300)
    return terminal


async def restart_hub(hub: HubClients) -> None:
    """Start the stopped hub again on the same port and data (the old object is replaced)."""
    running = hub.running
    config = replace(
        running.hub.config,
        listen=f"127.0.0.1:{running.port}",
        admin_listen=f"127.0.0.1:{running.admin_port}",
    )
    hub.running = await start_hub(config, hub.clock)


@dataclass
class Rig:
    """One terminal beside one simulated copier, against the hub."""

    hub: HubClients
    terminal: TerminalClient
    client: HubClient
    factory: MockFactory
    panel: FihPanelLock
    copier: FihCopier
    mfp: SimulatedMfp
    clock: FakeClock
    store: sqlite3.Connection
    journal: Journal
    cache: OfflineCache
    engine: TerminalEngine
    store_path: Path
    states: list[TerminalState] = field(default_factory=list)

    def copy(self, pages: int, color: bool = False) -> int:
        """Someone copies at the MFP (pulses go out on the count lines while the panel is enabled)."""
        return self.mfp.copy(pages, color=color)

    @property
    def screens(self) -> list[str]:
        """Every screen shown, without repeats."""
        shown: list[str] = []
        for state in self.states:
            if not shown or shown[-1] != state.screen:
                shown.append(state.screen)
        return shown


def make_engine(rig_parts: dict, settings: TerminalSettings) -> TerminalEngine:
    return TerminalEngine(
        hub=rig_parts["client"],
        panel=rig_parts["panel"],
        counter=PulseCopyCounter(rig_parts["panel"]),
        journal=rig_parts["journal"],
        cache=rig_parts["cache"],
        settings=settings,
        clock=rig_parts["clock"],
    )


DEFAULT_SETTINGS = TerminalSettings(
    idle_timeout_s=60, prices=PriceHints(copy_mono_cents=COPY_MONO_CENTS, copy_color_cents=COPY_COLOR_CENTS)
)


@pytest_asyncio.fixture
async def rig(hub: HubClients, tmp_path: Path) -> AsyncIterator[Rig]:
    started = hub.running
    terminal = await seed_site(hub)
    client = HubClient(terminal.credentials, deadline_s=3.0)
    factory = MockFactory()
    # Fast pulses so tests do not wait: the lock's glitch filter is scaled down with them.
    panel = FihPanelLock(pin_factory=factory, grace_s=0.0, min_pulse_s=0.002, min_period_s=0.004)
    copier = FihCopier(factory, pulse_s=0.005, gap_s=0.005)
    mfp = SimulatedMfp("kyocera")
    copier.attach(mfp)
    clock = FakeClock()
    store_path = tmp_path / "terminal" / "terminal.db"
    store = open_store(store_path)
    journal = Journal(store)
    cache = OfflineCache(store, b"k" * 32, clock, ttl_s=7 * 86400, max_users=100)
    parts = {"client": client, "panel": panel, "journal": journal, "cache": cache, "clock": clock}
    engine = make_engine(parts, DEFAULT_SETTINGS)
    result = Rig(
        hub, terminal, client, factory, panel, copier, mfp, clock, store, journal, cache, engine, store_path
    )
    engine.subscribe(result.states.append)
    await engine.start()
    yield result
    if hub.running is not started:  # restart_hub made it: the hub fixture only stops its own
        await hub.running.stop(0)
    await client.close()
    panel.close()
    factory.close()
    store.close()


# ------------------------------------------------------------------ Kivy under Xvfb

SCREENS_DIR_ENV = "PRINTGATE_SCREENS_DIR"  # where the Kivy tests write their screenshots
XVFB_SCREEN = "1280x800x24"


@pytest.fixture(scope="session")
def xvfb_display() -> Iterator[str]:
    """A private Xvfb on a display number it picks itself (``-displayfd``); stopped by PID."""
    binary = shutil.which("Xvfb")
    if binary is None:
        pytest.fail("Xvfb is not installed (apt-get install xvfb): the UI tests need it")
    read_end, write_end = os.pipe()
    process = subprocess.Popen(
        [
            binary,
            "-displayfd",
            str(write_end),
            "-screen",
            "0",
            XVFB_SCREEN,
            "-nolisten",
            "tcp",
            "+extension",
            "GLX",
        ],
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    os.close(write_end)
    try:
        ready, _, _ = select.select([read_end], [], [], 20.0)
        number = os.read(read_end, 32).decode().strip() if ready else ""
        if not number.isdigit():
            process.kill()
            _, errors = process.communicate(timeout=5)
            pytest.fail(f"Xvfb did not start: {errors.decode(errors='replace')[-500:]}")
        yield f":{number}"
    finally:
        os.close(read_end)
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


# ------------------------------------------------------------------ inside the Kivy subprocess


@pytest.fixture(scope="session")
def kivy_window() -> Any:
    """Kivy's window (created once per process, on the Xvfb display from the environment)."""
    from terminal_app.ui.app import configure_kivy
    from terminal_app.ui.settings import UiSettings

    configure_kivy(UiSettings(virtual_keyboard=False))
    from kivy.config import Config

    Config.set("graphics", "maxfps", "0")  # tests step frames themselves: no frame-rate sleeps
    from kivy.base import EventLoop
    from kivy.core.window import Window

    EventLoop.ensure_window()
    return Window


_touch_ids = itertools.count(1)


def tap_at(x: float, y: float) -> None:
    """A finger down and up at window coordinates, through Kivy's input dispatch."""
    from kivy.base import EventLoop
    from kivy.input.motionevent import MotionEvent

    class Finger(MotionEvent):
        def depack(self, args: dict[str, float]) -> None:
            self.sx, self.sy = args["x"], args["y"]
            super().depack(args)

    window = EventLoop.window
    args = {"x": x / (window.width - 1.0), "y": y / (window.height - 1.0)}
    finger = Finger("test-finger", next(_touch_ids), args, is_touch=True, type_id="touch")
    finger.profile = ["pos"]
    EventLoop.post_dispatch_input("begin", finger)
    EventLoop.post_dispatch_input("end", finger)
