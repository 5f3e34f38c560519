"""The device process under systemd (``Type=notify``, ``WatchdogSec=``): ready at the idle screen,
a status line, and a watchdog fed from the loop that runs the engine and the UI.

* ``READY=1`` once the engine first shows its idle screen: until then the service is *activating*,
  and a terminal image's update trial (``printgate-slot-health``) waits for exactly that;
* ``STATUS=<one line>`` on every change (``systemctl status``, the technician's console);
* ``WATCHDOG=1`` every half ``WatchdogSec`` from the event loop: a frozen loop (engine or Kivy
  window) stops the pings and systemd restarts the app.

The sd_notify(3) protocol itself is ``systemd_watchdog`` (pure Python, UTF-8, honours
``WATCHDOG_USEC``/``WATCHDOG_PID``); outside systemd (no ``NOTIFY_SOCKET``) nothing is sent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Generic, TypeVar

from systemd_watchdog import WatchDog

__all__ = ["ServiceReport", "service_manager", "watchdog"]

log = logging.getLogger(__name__)
S = TypeVar("S")


def service_manager() -> WatchDog:
    """This process's line to systemd (``$NOTIFY_SOCKET``, ``$WATCHDOG_USEC``)."""
    return WatchDog()


def _send(manager: WatchDog, message: Callable[[], None]) -> None:
    try:
        message()
    except OSError as exc:  # systemd restarting, or no such socket: the app runs on
        log.warning("sd_notify failed: %s", exc)


class ServiceReport(Generic[S]):
    """An engine subscriber: ``READY=1`` at the first idle screen, ``STATUS=`` on every change."""

    def __init__(self, manager: WatchDog, describe: Callable[[S], str], is_idle: Callable[[S], bool]) -> None:
        self.manager = manager
        self.describe = describe
        self.is_idle = is_idle
        self.ready = False
        self._line = ""

    def __call__(self, state: S) -> None:
        line = self.describe(state).replace("\n", " ")
        if line != self._line:
            _send(self.manager, lambda: self.manager.status(line))
        if not self.ready and self.is_idle(state):
            self.ready = True
            _send(self.manager, self.manager.ready)
            log.info("ready: %s", line)
        self._line = line


async def watchdog(manager: WatchDog) -> None:
    """Feed systemd's watchdog from this event loop at half its interval, until cancelled.

    Without ``WatchdogSec=`` the library's interval is a day: the pings are harmless then.
    """
    if not manager.is_enabled:
        return
    while True:
        _send(manager, manager.notify)
        await asyncio.sleep(manager.timeout / 2_000_000)
