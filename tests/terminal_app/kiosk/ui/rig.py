"""The kiosk's Kivy view on a real :class:`KioskEngine` (helpers for ``kiosk_kivy_cases.py``).

``mounted_kiosk`` puts a real :class:`KioskView` into the Xvfb window, subscribed to the engine of
the kiosk tests' rig (real hub in-process, real ccTalk drivers on the simulated line, simulated
ESC/POS printer). Taps go through Kivy's input dispatch; the intents they produce are recorded,
then handed to the engine in order.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from terminal_app.kiosk.state import KioskIntent, KioskState
from terminal_app.terminal.state import Touch
from tests.terminal_app.conftest import SCREENS_DIR_ENV, tap_at
from tests.terminal_app.kiosk.rig import KioskRig
from tests.terminal_app.ui_checks import layout_problems, plain

MIN_TARGET_PX = 48


PANEL_SIZES = ((800, 480), (1024, 600), (1280, 800))  # every screen is checked at each


@dataclass
class KioskUi:
    """A KioskView on a real kiosk engine."""

    rig: KioskRig
    window: Any
    view: Any
    sent: list[KioskIntent] = field(default_factory=list)
    dispatched: int = 0

    def frame(self, count: int = 2) -> None:
        """Let Kivy run its clock (scheduled redraws) and draw."""
        from kivy.base import EventLoop

        for _ in range(count):
            EventLoop.idle()

    async def tap(self, ident: str) -> list[KioskIntent]:
        """Tap the widget with this ident; hand the intents it produced to the engine (Touch left out)."""
        self.frame()
        widget = self.view.find(ident)
        before = len(self.sent)
        tap_at(*widget.to_window(*widget.center))
        self.frame()
        produced = self.sent[before:]
        while self.dispatched < len(self.sent):
            intent = self.sent[self.dispatched]
            self.dispatched += 1
            await self.rig.engine.dispatch(intent)
        self.frame()
        return [intent for intent in produced if not isinstance(intent, Touch)]

    async def type_keys(self, prefix: str, keys: Iterable[str]) -> None:
        """Tap ``<prefix><key>`` for every key."""
        for key in keys:
            assert await self.tap(f"{prefix}{key}") == []  # typing is local: no intent

    def text(self, ident: str) -> str:
        """The widget's words (without markup and icon glyphs, where it has them)."""
        widget = self.view.find(ident)
        return plain(widget.text) if widget.markup else str(widget.text)

    def shot(self, name: str) -> Path | None:
        """Check the layout, then save the screen as ``kiosk_<name>_<w>x<h>.png`` when collecting."""
        self.frame(3)
        problems = layout_problems(self.view)
        assert not problems, f"{name}: {problems}"
        target = os.environ.get(SCREENS_DIR_ENV)
        if not target:
            return None
        path = Path(target) / f"kiosk_{name}_{int(self.view.width)}x{int(self.view.height)}.png"
        self.view.export_to_png(str(path))
        return path

    def both_languages(self, name: str, state: KioskState | None = None) -> None:
        """Shoot the engine's current state (or an earlier one it published) in English and German
        (rendered, not switched: a SetLanguage intent would restart the countdown)."""
        state = state or self.rig.engine.state
        for language in ("en", "de"):
            self.view.show(replace(state, language=language))
            self.shot(f"{name}_{language}")
        self.fits_other_sizes(name, state)

    def fits_other_sizes(self, name: str, state: KioskState) -> None:
        """The same screen at the two other panel sizes, in both languages: nothing overflows."""
        here = (int(self.view.width), int(self.view.height))
        for size in [size for size in PANEL_SIZES if size != here][:2]:
            self.resize(*size)
            for language in ("en", "de"):
                self.view.show(replace(state, language=language))
                self.view.redraw()
                self.frame(2)
                problems = layout_problems(self.view)
                assert not problems, f"{name} {language} {size}: {problems}"
        self.resize(*here)
        self.view.show(self.rig.engine.state)
        self.frame()
        self.view.show(self.rig.engine.state)
        self.frame()

    def resize(self, width: int, height: int) -> None:
        self.window.size = (width, height)
        self.frame(3)


@asynccontextmanager
async def mounted_kiosk(
    rig: KioskRig, window: Any, size: tuple[int, int] = (800, 480)
) -> AsyncIterator[KioskUi]:
    """A KioskView subscribed to ``rig.engine``; removed from the window afterwards."""
    from terminal_app.kiosk.ui.view import KioskView

    window.size = size
    holder: list[KioskUi] = []
    view = KioskView(lambda intent: holder[0].sent.append(intent))
    ui = KioskUi(rig, window, view)
    holder.append(ui)
    window.add_widget(view)
    unsubscribe = rig.engine.subscribe(view.show)
    ui.frame(3)
    try:
        yield ui
    finally:
        unsubscribe()
        window.remove_widget(view)
