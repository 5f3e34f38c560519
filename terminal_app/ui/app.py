"""The Kivy app around :class:`~terminal_app.ui.view.TerminalView`, and the entry the runner calls.

``run_ui(engine, settings)`` opens the window and runs the session engine in the same asyncio
loop (Kivy's ``async_run``), so the engine's subscriber callbacks arrive on the UI thread; they
only schedule a redraw. Closing the window closes the engine (panel locked, usage journaled).
The runner that also reads the card reader and polls the printer calls :func:`serve_ui` inside
its own loop instead, beside ``engine.run()``.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from terminal_app.core.state import Intent, TerminalState
from terminal_app.ui.settings import ScreenBlanker, UiSettings

if TYPE_CHECKING:
    from terminal_app.core.engine import SessionEngine
    from terminal_app.ui.view import TerminalView

__all__ = ["StateSource", "build_app", "configure_kivy", "run_ui", "serve_ui", "stop_ui"]

StateSource = Callable[[Callable[[TerminalState], None]], Callable[[], None]]
"""``subscribe(callback) -> unsubscribe``, as :meth:`SessionEngine.subscribe`."""

BLANK_CHECK_S = 1.0
MAX_FPS = 30


def configure_kivy(settings: UiSettings) -> None:
    """Set Kivy's window options; must run before the window exists (first Kivy window import)."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    from kivy.config import Config

    Config.set("graphics", "width", str(settings.width_px))
    Config.set("graphics", "height", str(settings.height_px))
    Config.set("graphics", "rotation", str(settings.rotation))
    Config.set("graphics", "fullscreen", "auto" if settings.fullscreen else "0")
    Config.set("graphics", "show_cursor", "1" if settings.show_cursor else "0")
    Config.set("graphics", "resizable", "0")
    # A touch terminal needs no 60 fps: fewer empty frames keep an idle terminal near 1 % CPU.
    Config.set("graphics", "maxfps", str(MAX_FPS))
    Config.set("kivy", "exit_on_escape", "0")
    Config.set("kivy", "keyboard_mode", "systemanddock" if settings.virtual_keyboard else "system")
    # One pointer, no red multitouch dots from right clicks on a desktop.
    Config.set("input", "mouse", "mouse,disable_multitouch")


def build_app(subscribe: StateSource, submit: Callable[[Intent], None], settings: UiSettings) -> Any:
    """A Kivy ``App`` rendering the states from ``subscribe`` and sending touches to ``submit``."""
    from kivy.app import App
    from kivy.clock import Clock
    from kivy.core.window import Window

    from terminal_app.ui.view import TerminalView

    class TerminalApp(App):
        """The terminal window."""

        title = "printgate terminal"
        view: TerminalView

        def build(self) -> TerminalView:
            Window.clearcolor = (0, 0, 0, 1)
            blanker = ScreenBlanker(settings.blank_after_s, time.monotonic())
            self.view = TerminalView(submit, blanker, time.monotonic)
            latest: list[TerminalState] = []
            redraw = Clock.create_trigger(lambda _dt: self.view.show(latest[-1]))

            def on_state(state: TerminalState) -> None:
                latest[:] = [state]
                redraw()  # coalesced: one render per frame, on Kivy's clock

            self._unsubscribe = subscribe(on_state)
            Clock.schedule_interval(lambda _dt: self.view.check_blanking(), BLANK_CHECK_S)
            return self.view

        def on_stop(self) -> None:
            # Kivy may call on_stop twice (App.stop, then the end of async_run).
            unsubscribe, self._unsubscribe = self._unsubscribe, lambda: None
            unsubscribe()

    return TerminalApp()


def stop_ui() -> None:
    """Close the window (e.g. on SIGTERM); :func:`serve_ui` then returns."""
    from kivy.app import App

    app = App.get_running_app()
    if app is not None:
        app.stop()


async def serve_ui(engine: SessionEngine, settings: UiSettings) -> None:
    """Show the window until it is closed (the caller runs ``engine.run()`` beside it)."""
    configure_kivy(settings)
    app = build_app(engine.subscribe, engine.submit, settings)
    await app.async_run(async_lib="asyncio")


def run_ui(engine: SessionEngine, settings: UiSettings) -> None:
    """Run the engine and the window together until the window is closed; then close the engine."""

    async def both() -> None:
        running = asyncio.create_task(engine.run(), name="session-engine")
        try:
            await serve_ui(engine, settings)
        finally:
            await engine.close()
            await running

    asyncio.run(both())
