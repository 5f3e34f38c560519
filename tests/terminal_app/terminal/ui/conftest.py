"""Terminal UI fixtures (the Xvfb and the window are in ``tests/terminal_app/conftest.py``).

Inside the Kivy subprocess, ``ui`` puts a real :class:`TerminalView` on the real engine of the
terminal tests' ``rig`` (real in-process hub, real panel lock on MockFactory pins).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest_asyncio
from gpiozero.pins.mock import MockFactory

from hw_sim.mfp import FihCopier, SimulatedMfp
from mfp_adapters import FihPanelLock
from terminal_app.hub import HubClient
from terminal_app.session import FakeClock, open_store
from terminal_app.terminal import Journal, OfflineCache
from terminal_app.terminal.state import Intent, TerminalState
from tests.hub_server.test_release_site import THREE_PAGES_PS, PrintSite, open_site
from tests.terminal_app.conftest import (
    ALICE_CARD,
    DEFAULT_SETTINGS,
    SCREENS_DIR_ENV,
    Rig,
    make_engine,
    tap_at,
)
from tests.terminal_app.ui_checks import plain


@dataclass
class UiRig:
    """A TerminalView on a real engine. Touches are recorded as intents, then dispatched."""

    rig: Rig
    window: Any
    view: Any
    sent: list[Intent] = field(default_factory=list)
    dispatched: list[Intent] = field(default_factory=list)
    engine_states: list[TerminalState] = field(default_factory=list)

    def frame(self, count: int = 2) -> None:
        """Let Kivy run its clock and draw."""
        from kivy.base import EventLoop

        for _ in range(count):
            EventLoop.idle()

    def submit(self, intent: Intent) -> None:
        self.sent.append(intent)

    async def flush(self) -> list[Intent]:
        """Hand every recorded intent to the engine, in order; returns them."""
        handed: list[Intent] = []
        while len(self.dispatched) < len(self.sent):
            intent = self.sent[len(self.dispatched)]
            self.dispatched.append(intent)
            handed.append(intent)
            await self.rig.engine.dispatch(intent)
        self.frame()
        return handed

    async def tap(self, ident: str, *, dispatch: bool = True) -> list[Intent]:
        """Tap the widget with this ident (at its centre); returns the intents it produced.

        With ``dispatch=False`` the intents are only recorded (for states the engine did not make).
        """
        self.frame()
        widget = self.view.find(ident)
        before = len(self.sent)
        tap_at(*widget.to_window(*widget.center))
        self.frame()
        if not dispatch:
            self.dispatched = list(self.sent)
            return self.sent[before:]
        return await self.flush()

    def text(self, ident: str) -> str:
        """The widget's words (without markup and icon glyphs, where it has them)."""
        widget = self.view.find(ident)
        return plain(widget.text) if widget.markup else str(widget.text)

    def texts(self) -> dict[str, str]:
        """Every text on screen by ident."""
        return {ident: str(getattr(widget, "text", "")) for ident, widget in _idents(self.view)}

    def resize(self, width: int, height: int) -> None:
        self.window.size = (width, height)
        self.frame(3)

    def shot(self, name: str) -> Path | None:
        """Save the whole screen as ``name_<w>x<h>.png`` when the run collects screenshots."""
        target = os.environ.get(SCREENS_DIR_ENV)
        if not target:
            return None
        self.frame(3)
        path = Path(target) / f"{name}_{int(self.view.width)}x{int(self.view.height)}.png"
        self.view.export_to_png(str(path))
        return path


def _idents(view: Any) -> Iterator[tuple[str, Any]]:
    from terminal_app.ui.widgets import walk_idents

    return walk_idents(view)


@asynccontextmanager
async def mounted(rig: Rig, window: Any) -> AsyncIterator[UiRig]:
    """A TerminalView at 800x480 subscribed to ``rig.engine``; removed from the window afterwards."""
    from terminal_app.terminal.ui.view import TerminalView
    from terminal_app.ui.settings import ScreenBlanker

    window.size = (800, 480)
    holder: list[UiRig] = []
    blanker = ScreenBlanker(60.0, rig.clock.monotonic_s())
    view = TerminalView(lambda intent: holder[0].submit(intent), blanker, rig.clock.monotonic_s)
    result = UiRig(rig, window, view)
    holder.append(result)
    window.add_widget(view)
    unsubscribe = rig.engine.subscribe(view.show)
    result.frame(3)
    try:
        yield result
    finally:
        unsubscribe()
        window.remove_widget(view)


@pytest_asyncio.fixture
async def ui(rig: Rig, kivy_window: Any) -> AsyncIterator[UiRig]:
    """The view on the terminal tests' rig (hub without print intake)."""
    async with mounted(rig, kivy_window) as result:
        yield result


@pytest_asyncio.fixture
async def print_ui(tmp_path: Path, kivy_window: Any) -> AsyncIterator[UiRig]:
    """The view on an engine at a print site: hub with IPP intake, simulated MFP as its printer,
    and two jobs alice printed with the real ipptool (thesis.ps: 3 pages, 1 colour, 2 copies;
    notes.ps: the same document, 1 copy)."""
    async with open_site(
        tmp_path, f"sqlite:///{tmp_path / 'hub.db'}", card=ALICE_CARD, credit_cents=1000
    ) as site:
        document = tmp_path / "three-pages.ps"
        document.write_bytes(THREE_PAGES_PS)
        await site.submit(document, "alice", name="thesis.ps", copies=2)
        await site.submit(document, "alice", name="notes.ps")
        rig = await _terminal_rig(site, tmp_path)
        try:
            async with mounted(rig, kivy_window) as result:
                yield result
        finally:
            await rig.engine.close()
            await rig.client.close()
            rig.panel.close()
            rig.factory.close()
            rig.store.close()


async def _terminal_rig(site: PrintSite, folder: Path) -> Rig:
    """The terminal tests' parts (real HubClient, FIH lock on MockFactory pins, journal, cache)."""
    terminal = site.terminal
    client = HubClient(terminal.credentials, deadline_s=10.0)
    factory = MockFactory()
    panel = FihPanelLock(pin_factory=factory, grace_s=0.0, min_pulse_s=0.002, min_period_s=0.004)
    copier = FihCopier(factory, pulse_s=0.005, gap_s=0.005)
    mfp = SimulatedMfp("kyocera")
    copier.attach(mfp)
    clock = FakeClock()
    store_path = folder / "terminal" / "terminal.db"
    store = open_store(store_path)
    journal = Journal(store)
    cache = OfflineCache(store, b"k" * 32, clock, ttl_s=86400, max_users=10)
    parts = {"client": client, "panel": panel, "journal": journal, "cache": cache, "clock": clock}
    engine = make_engine(parts, DEFAULT_SETTINGS)
    await engine.start()
    return Rig(
        hub=site.clients,
        terminal=terminal,
        client=client,
        factory=factory,
        panel=panel,
        copier=copier,
        mfp=mfp,
        clock=clock,
        store=store,
        journal=journal,
        cache=cache,
        engine=engine,
        store_path=store_path,
    )
