"""The app on the device: the provisioned role, with systemd's readiness, status and watchdog.

``printgate.service`` is ``Type=notify`` with ``WatchdogSec=``. For a **terminal** this runs the
same pieces as ``printgate terminal`` (the wired terminal and, with ``[display]``, the Kivy
window in the same asyncio loop) and adds, from that loop:

* ``READY=1`` when the session engine first shows its idle screen (what an update's trial waits
  for, :mod:`images.guest.slot_health`);
* ``STATUS=`` with the engine's state line on every change (``systemctl status``, the console);
* ``WATCHDOG=1`` every half ``WatchdogSec``: a frozen loop (engine or UI) stops it and systemd
  restarts the app.

A **kiosk** runs ``printgate kiosk``'s own runner in a loop that sends the watchdog; it reports
ready once that loop runs (the kiosk runner builds its engine inside, so its idle screen cannot
be observed from here). Both belong in terminal_app itself (see docs/images.md, "Hooks"); this
module is where the image calls them until then.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Sequence
from typing import Any

from images.guest.layout import Layout
from images.guest.sdnotify import SdNotify

__all__ = ["main", "run_kiosk", "run_terminal", "watchdog"]

log = logging.getLogger("printgate.app")


async def watchdog(notify: SdNotify) -> None:
    """Ping systemd's watchdog from this loop at half its interval, forever."""
    if not notify.watchdog_s:
        return
    while True:
        notify.watchdog()
        await asyncio.sleep(notify.watchdog_s / 2)


async def run_terminal(layout: Layout, notify: SdNotify) -> None:
    """The wired terminal (and its window) until SIGTERM, reporting to systemd."""
    from terminal_app.terminal.config import load_config
    from terminal_app.terminal.state import Screen, TerminalState
    from terminal_app.terminal.wiring import build_terminal, describe

    config = load_config(layout.role_config("terminal"))
    terminal = build_terminal(config)
    ready = False

    def report(state: TerminalState) -> None:
        nonlocal ready
        line = describe(state)
        if state.screen is Screen.IDLE and not ready:
            ready = True
            notify.ready(line)
            log.info("ready: %s", line)
        else:
            notify.status(line)

    terminal.engine.subscribe(report)
    loop = asyncio.get_running_loop()
    stopping: list[asyncio.Task[None]] = []
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, lambda: stopping.append(loop.create_task(terminal.stop())))
    helpers = [asyncio.create_task(watchdog(notify))]
    if config.display:
        helpers.append(asyncio.create_task(_terminal_window(terminal, config.display)))
    try:
        await terminal.run()
    finally:
        notify.stopping()
        for task in helpers:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await terminal.close()


async def _terminal_window(terminal: Any, display: dict[str, Any]) -> None:
    from terminal_app.terminal.ui.app import serve_ui, stop_ui
    from terminal_app.ui.settings import UiSettings

    try:
        await serve_ui(terminal.engine, UiSettings.from_mapping(display))
    finally:
        stop_ui()
        await terminal.stop()


async def run_kiosk(layout: Layout, notify: SdNotify) -> int:
    """``printgate kiosk``'s runner with the watchdog in its loop."""
    from terminal_app.kiosk.cli import run_kiosk as run
    from terminal_app.kiosk.config import load_kiosk_config

    config = load_kiosk_config(layout.role_config("kiosk"))
    beat = asyncio.create_task(watchdog(notify))
    notify.ready("kiosk running")
    try:
        return await run(config, "ui" if config.display else "none")
    finally:
        notify.stopping()
        beat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beat


def main(argv: Sequence[str] = ()) -> int:
    """``printgate-device app``: run the provisioned role."""
    logging.basicConfig(level="INFO", format="%(name)s: %(message)s")
    layout = Layout()
    role = (layout.state / "role").read_text().strip()
    notify = SdNotify()
    if role == "terminal":
        asyncio.run(run_terminal(layout, notify))
        return 0
    if role == "kiosk":
        return asyncio.run(run_kiosk(layout, notify))
    log.error("unknown role %r in %s", role, layout.state / "role")
    return 2
