"""``printgate-device app``: the provisioned role's own command, in place of this process.

``printgate.service`` (``Type=notify``, ``NotifyAccess=main``, ``WatchdogSec=``) starts this; it
reads the role first-boot provisioning stored and *execs* ``printgate terminal`` or ``printgate
kiosk`` with the rendered configuration, so the app is the unit's main process and talks to
systemd itself (:mod:`terminal_app.session.service`): ready at its first idle screen, its state
line as the unit's status, the watchdog fed from the loop that runs engine and window.
"""

from __future__ import annotations

import os
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path

from images.guest.layout import Layout

__all__ = ["command", "main"]


def command(layout: Layout, printgate: Path) -> list[str]:
    """The app's command line for the provisioned role (:class:`ValueError` if there is none)."""
    try:
        role = (layout.state / "role").read_text().strip()
    except OSError as exc:
        raise ValueError(f"not provisioned: {exc}") from exc
    config = layout.role_config(role)
    if role == "terminal":
        return [str(printgate), "terminal", "--config", str(config)]
    if role == "kiosk":
        display = "display" in tomllib.loads(config.read_text())
        return [str(printgate), "kiosk", "--config", str(config), "--control", "ui" if display else "none"]
    raise ValueError(f"unknown role {role!r} in {layout.state / 'role'}")


def main(argv: Sequence[str] = ()) -> int:
    """Exec the app; returns only when it cannot (exit code 2, the reason on stderr)."""
    try:
        argv_app = command(Layout(), Path(sys.executable).with_name("printgate"))  # the same venv
    except (ValueError, OSError, tomllib.TOMLDecodeError) as exc:
        print(f"printgate-device app: {exc}", file=sys.stderr)
        return 2
    os.execv(argv_app[0], argv_app)
