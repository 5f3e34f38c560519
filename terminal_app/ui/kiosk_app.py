"""The Kivy app around :class:`~terminal_app.ui.kiosk_view.KioskView`, and the entry a kiosk runner calls.

``serve_kiosk_ui(engine, settings)`` opens the window in the running asyncio loop (Kivy's
``async_run``) and returns when the window is closed; the caller runs ``engine.run()`` beside it
and closes the engine afterwards (the acceptors are inhibited by :meth:`KioskEngine.close`), as
:func:`terminal_app.ui.app.serve_ui` does for the terminal. :func:`run_kiosk_ui` does both.
Engine callbacks arrive on the UI thread (same loop); they only schedule a redraw.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from terminal_app.core.kiosk_state import KioskIntent, KioskState
from terminal_app.ui.app import configure_kivy
from terminal_app.ui.settings import UiSettings

if TYPE_CHECKING:
    from terminal_app.core.kiosk import KioskEngine
    from terminal_app.ui.kiosk_view import KioskView

__all__ = ["KioskStateSource", "build_kiosk_app", "run_kiosk_ui", "serve_kiosk_ui"]

KioskStateSource = Callable[[Callable[[KioskState], None]], Callable[[], None]]
"""``subscribe(callback) -> unsubscribe``, as :meth:`KioskEngine.subscribe`."""


def build_kiosk_app(subscribe: KioskStateSource, submit: Callable[[KioskIntent], None]) -> Any:
    """A Kivy ``App`` rendering the kiosk states from ``subscribe`` and sending touches to ``submit``."""
    from kivy.app import App
    from kivy.clock import Clock
    from kivy.core.window import Window

    from terminal_app.ui.kiosk_view import KioskView

    class KioskApp(App):
        """The kiosk window."""

        title = "printgate kiosk"
        view: KioskView

        def build(self) -> KioskView:
            Window.clearcolor = (0, 0, 0, 1)
            self.view = KioskView(submit)
            latest: list[KioskState] = []
            redraw = Clock.create_trigger(lambda _dt: self.view.show(latest[-1]))

            def on_state(state: KioskState) -> None:
                latest[:] = [state]
                redraw()  # coalesced: a burst of coins is one render per frame

            self._unsubscribe = subscribe(on_state)
            return self.view

        def on_stop(self) -> None:
            # Kivy may call on_stop twice (App.stop, then the end of async_run).
            unsubscribe, self._unsubscribe = self._unsubscribe, lambda: None
            unsubscribe()

    return KioskApp()


async def serve_kiosk_ui(engine: KioskEngine, settings: UiSettings) -> None:
    """Show the kiosk window until it is closed (the caller runs ``engine.run()`` beside it)."""
    configure_kivy(settings)
    app = build_kiosk_app(engine.subscribe, engine.submit)
    await app.async_run(async_lib="asyncio")


def run_kiosk_ui(engine: KioskEngine, settings: UiSettings) -> None:
    """Run the engine and the window together until the window is closed; then close the engine."""

    async def both() -> None:
        running = asyncio.create_task(engine.run(), name="kiosk-engine")
        try:
            await serve_kiosk_ui(engine, settings)
        finally:
            await engine.close()
            await running

    asyncio.run(both())
