"""The kiosk's window: :class:`~terminal_app.kiosk.ui.view.KioskView` on a kiosk engine.

``serve_kiosk_ui(engine, settings)`` opens the window in the running asyncio loop and returns when
the window is closed; the caller runs ``engine.run()`` beside it and closes the engine afterwards
(the acceptors are inhibited by :meth:`KioskEngine.close`). :func:`run_kiosk_ui` does both.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from terminal_app.kiosk.state import KioskIntent, KioskState
from terminal_app.ui.app import StateSource, configure_kivy, run_beside, state_app
from terminal_app.ui.settings import UiSettings
from terminal_app.ui.theme import Look

if TYPE_CHECKING:
    from terminal_app.kiosk.engine import KioskEngine

__all__ = ["build_kiosk_app", "run_kiosk_ui", "serve_kiosk_ui"]


def build_kiosk_app(
    subscribe: StateSource[KioskState], submit: Callable[[KioskIntent], None], look: Look | None = None
) -> Any:
    """A Kivy ``App`` rendering the kiosk states from ``subscribe`` and sending touches to ``submit``,
    in the site's ``look``."""
    from terminal_app.kiosk.ui.view import KioskView

    return state_app("printgate kiosk", lambda: KioskView(submit, look), subscribe)


async def serve_kiosk_ui(engine: KioskEngine, settings: UiSettings) -> None:
    """Show the kiosk window until it is closed (the caller runs ``engine.run()`` beside it)."""
    configure_kivy(settings)
    app = build_kiosk_app(engine.subscribe, engine.submit, settings.look)
    await app.async_run(async_lib="asyncio")


def run_kiosk_ui(engine: KioskEngine, settings: UiSettings) -> None:
    """Run the engine and the window together until the window is closed; then close the engine."""
    run_beside(engine, lambda: serve_kiosk_ui(engine, settings), "kiosk-engine")
