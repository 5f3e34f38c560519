"""The Kivy app both roles run: window options, an app that renders an engine's states, the runners.

:func:`state_app` builds a Kivy ``App`` around a role's view: the engine's subscriber callbacks
arrive on the UI thread (the same asyncio loop, Kivy's ``async_run``) and only schedule a redraw,
coalesced to one per frame. :func:`run_beside` runs an engine and its window together; a runner
that also reads a card reader calls the role's ``serve`` inside its own loop instead, beside
``engine.run()``. Kivy is imported only inside these functions: it configures its window at import.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from terminal_app.ui.settings import UiSettings

__all__ = ["MAX_FPS", "Engine", "StateSource", "configure_kivy", "run_beside", "state_app", "stop_ui"]

MAX_FPS = 30
S = TypeVar("S")
StateSource = Callable[[Callable[[S], None]], Callable[[], None]]
"""``subscribe(callback) -> unsubscribe``, as an engine's ``subscribe``."""


class Engine(Protocol):
    """What the runners need of an engine."""

    async def run(self) -> None:
        """Run until closed."""

    async def close(self) -> None:
        """Leave the devices safe and stop :meth:`run`."""


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


def state_app(title: str, make_view: Callable[[], Any], subscribe: StateSource[Any]) -> Any:
    """A Kivy ``App`` showing ``make_view()``, which renders every state ``subscribe`` delivers."""
    from kivy.app import App
    from kivy.clock import Clock
    from kivy.core.window import Window

    class StateApp(App):  # type: ignore[misc]  # Kivy ships no types: its App is Any
        """A device's window."""

        def build(self) -> Any:
            Window.clearcolor = (0, 0, 0, 1)
            self.view = make_view()
            latest: list[Any] = []
            redraw = Clock.create_trigger(lambda _dt: self.view.show(latest[-1]))

            def on_state(state: Any) -> None:
                latest[:] = [state]
                redraw()  # coalesced: one render per frame, on Kivy's clock (a burst of coins too)

            self._unsubscribe = subscribe(on_state)
            return self.view

        def on_stop(self) -> None:
            # Kivy may call on_stop twice (App.stop, then the end of async_run).
            unsubscribe, self._unsubscribe = self._unsubscribe, lambda: None
            unsubscribe()

    app = StateApp()
    app.title = title
    return app


def stop_ui() -> None:
    """Close the window (e.g. on SIGTERM); the role's ``serve`` then returns."""
    from kivy.app import App

    app = App.get_running_app()
    if app is not None:
        app.stop()


def run_beside(engine: Engine, serve: Callable[[], Awaitable[None]], name: str) -> None:
    """Run ``engine`` and its window (``serve()``) together until the window is closed; then close it."""

    async def both() -> None:
        running = asyncio.create_task(engine.run(), name=name)
        try:
            await serve()
        finally:
            await engine.close()
            await running

    asyncio.run(both())
