"""The terminal's window: :class:`~terminal_app.terminal.ui.view.TerminalView` on a terminal engine.

``run_ui(engine, settings)`` opens the window and runs the engine in the same asyncio loop;
closing the window closes the engine (panel locked, usage journaled). The runner that also reads
the card reader and polls the printer calls :func:`serve_ui` inside its own loop instead, beside
``engine.run()``. The idle screen blanks itself after ``blank_after_s``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from terminal_app.terminal.state import Intent, TerminalState
from terminal_app.ui.app import StateSource, configure_kivy, run_beside, state_app, stop_ui
from terminal_app.ui.settings import ScreenBlanker, UiSettings

if TYPE_CHECKING:
    from terminal_app.terminal.engine import TerminalEngine

__all__ = ["build_app", "run_ui", "serve_ui", "stop_ui"]

BLANK_CHECK_S = 1.0


def build_app(
    subscribe: StateSource[TerminalState], submit: Callable[[Intent], None], settings: UiSettings
) -> Any:
    """A Kivy ``App`` rendering the states from ``subscribe`` and sending touches to ``submit``."""
    from kivy.clock import Clock

    from terminal_app.terminal.ui.view import TerminalView

    def make_view() -> TerminalView:
        blanker = ScreenBlanker(settings.blank_after_s, time.monotonic())
        view = TerminalView(submit, blanker, time.monotonic, settings.look)
        Clock.schedule_interval(lambda _dt: view.check_blanking(), BLANK_CHECK_S)
        return view

    return state_app("printgate terminal", make_view, subscribe)


async def serve_ui(engine: TerminalEngine, settings: UiSettings) -> None:
    """Show the window until it is closed (the caller runs ``engine.run()`` beside it)."""
    configure_kivy(settings)
    app = build_app(engine.subscribe, engine.submit, settings)
    await app.async_run(async_lib="asyncio")


def run_ui(engine: TerminalEngine, settings: UiSettings) -> None:
    """Run the engine and the window together until the window is closed; then close the engine."""
    run_beside(engine, lambda: serve_ui(engine, settings), "terminal-engine")
