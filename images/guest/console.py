"""The technician's status screen on tty1: who this device is, its address, and what it is doing.

Redrawn every couple of seconds (only when something changed) from what the device already
knows: the release file (board, version), the booted slot, the provisioned identity and hub,
the network addresses, the app's own status line (``STATUS=`` it sends to systemd) and the
statuses first-boot provisioning and the slot health check publish in /run/printgate. The
screen is plain text, so it reads the same on a monitor, a serial cable or a photo.
"""

from __future__ import annotations

import array
import fcntl
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from images.guest.bootchooser import booted_slot
from images.guest.layout import Layout
from images.guest.release import Release
from images.guest.status import read_statuses
from terminal_app.hub.enrollment.state import CredentialStore

__all__ = ["addresses", "app_status", "main", "screen"]

REFRESH_S = 2.0
WIDTH = 78
SIOCGIFADDR = 0x8915
_CLEAR = "\x1b[H\x1b[2J"


def addresses(sys_net: Path = Path("/sys/class/net")) -> list[str]:
    """``"eth0 10.0.2.15"`` for each interface with an IPv4 address (loopback left out)."""
    found = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for name in sorted(p.name for p in sys_net.iterdir()) if sys_net.is_dir() else []:
            if name == "lo":
                continue
            request = array.array("B", struct.pack("256s", name.encode()[:15]))
            try:
                fcntl.ioctl(sock.fileno(), SIOCGIFADDR, request)
            except OSError:
                continue
            found.append(f"{name} {socket.inet_ntoa(request.tobytes()[20:24])}")
    return found


def app_status(unit: str = "printgate.service") -> tuple[str, str]:
    """The app unit's state (``active``, ``activating`` ...) and its last ``STATUS=`` line."""
    done = subprocess.run(
        ["systemctl", "show", unit, "--property=ActiveState,SubState,StatusText"],
        capture_output=True,
        text=True,
        check=False,
    )
    values = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    return f"{values.get('ActiveState', '?')}/{values.get('SubState', '?')}", values.get("StatusText", "")


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""


def _identity(layout: Layout) -> str:
    role = _read(layout.state / "role")
    if not role:
        return "not provisioned"
    try:
        credentials = CredentialStore(layout.identity).current()
    except (OSError, ValueError, KeyError):
        credentials = None
    return f"{role} {credentials.device_id}" if credentials is not None else f"{role} (not enrolled yet)"


def screen(layout: Layout, cmdline: str, app: tuple[str, str], nets: list[str], now: float) -> str:
    """The whole screen as text."""
    try:
        release = Release.read(layout)
        head = f"printgate {release.version}  board {release.board_name}"
    except (OSError, KeyError):
        head = "printgate (no release file)"
    statuses = read_statuses(layout)
    lines = [
        f"{head}  slot {booted_slot(cmdline) or '?'}".ljust(WIDTH),
        "-" * WIDTH,
        f"device     {_identity(layout)}",
        f"site       {_read(layout.system / 'site') or '-'}",
        f"hub        {_read(layout.system / 'hub').replace(chr(10), ', ') or '-'}",
        f"address    {', '.join(nets) or 'no network address'}",
        f"app        {app[0]}  {app[1]}",
    ]
    for source in ("provisioning", "update"):
        status = statuses.get(source)
        if status is not None:
            lines.append(f"{source:<10} {status.state}")
            lines.extend(f"           {detail}"[:WIDTH] for detail in status.detail)
    lines.append("")
    lines.append(time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(now)))
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] = ()) -> int:
    """``printgate-device console``: redraw the screen on stdout (tty1) until stopped."""
    layout = Layout()
    cmdline = _read(Path("/proc/cmdline"))
    shown = ""
    while True:
        text = screen(layout, cmdline, app_status(), addresses(), time.time())
        body = text.rsplit("\n", 2)[0]  # the clock alone is not a change worth a redraw
        if body != shown:
            shown = body
            sys.stdout.write(_CLEAR + text)
            sys.stdout.flush()
        time.sleep(REFRESH_S)
