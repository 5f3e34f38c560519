"""systemd's notification protocol (``sd_notify``), for a service of ``Type=notify``.

A service tells systemd it is ready (``READY=1``), what it is doing (``STATUS=...``, shown by
``systemctl status`` and on the console screen) and that its main loop is alive
(``WATCHDOG=1`` at least every ``WatchdogSec``; systemd kills and restarts it otherwise).
Outside systemd (no ``NOTIFY_SOCKET``) every call does nothing.
"""

from __future__ import annotations

import os
import socket

__all__ = ["SdNotify"]


class SdNotify:
    """The notification socket of this service (``$NOTIFY_SOCKET``)."""

    def __init__(self, address: str | None = None, environ: dict[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        self.address = env.get("NOTIFY_SOCKET", "") if address is None else address
        usec = env.get("WATCHDOG_USEC", "")
        pid = env.get("WATCHDOG_PID", "")
        owned = not pid or pid == str(os.getpid())
        self.watchdog_s = int(usec) / 1_000_000 if usec.isdigit() and owned else 0.0

    @property
    def enabled(self) -> bool:
        """True under systemd with a notification socket."""
        return bool(self.address)

    def send(self, **fields: str) -> None:
        """Send ``KEY=value`` lines (``ready="1"`` becomes ``READY=1``)."""
        if not self.address:
            return
        message = "\n".join(f"{key.upper()}={value}" for key, value in fields.items()).encode()
        address = "\0" + self.address[1:] if self.address.startswith("@") else self.address
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall(message)

    def ready(self, status: str = "") -> None:
        """The service is up."""
        self.send(ready="1", **({"status": status} if status else {}))

    def status(self, text: str) -> None:
        """One line saying what the service is doing."""
        self.send(status=text.replace("\n", " "))

    def watchdog(self) -> None:
        """The main loop is alive."""
        self.send(watchdog="1")

    def stopping(self) -> None:
        """The service is shutting down."""
        self.send(stopping="1")
