"""At every boot: the configuration stored on the data partition is applied to the running system.

The root file system is read-only, so nothing provisioning decides is written under /etc.
Instead systemd's and NetworkManager's runtime directories in /run are filled from
``/data/system`` (NetworkManager profiles, time servers), and the host name, time zone and Wi-Fi
regulatory domain are set. It runs before NetworkManager (``printgate-runtime.service``) and
again right after provisioning changed something.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import socket
import subprocess
from collections.abc import Sequence
from pathlib import Path

from images.guest.layout import Layout

__all__ = ["apply", "main"]

log = logging.getLogger("printgate.runtime")

# data/system/<source> -> /run/<target>: whole directories of drop-in files
_TREES = {
    "NetworkManager/system-connections": "NetworkManager/system-connections",
    "systemd/timesyncd.conf.d": "systemd/timesyncd.conf.d",
}


def _sync_tree(source: Path, target: Path) -> bool:
    """Copy ``source``'s files into ``target`` (mode kept), removing ones it no longer has."""
    changed = False
    target.mkdir(parents=True, exist_ok=True)
    wanted = {p.name for p in source.glob("*")} if source.is_dir() else set()
    for stale in target.glob("printgate*"):
        if stale.name not in wanted:
            stale.unlink()
            changed = True
    for name in sorted(wanted):
        src, dst = source / name, target / name
        if not dst.exists() or dst.read_bytes() != src.read_bytes():
            shutil.copy2(src, dst)
            changed = True
    return changed


def _read(path: Path) -> str:
    with contextlib.suppress(OSError):
        return path.read_text().strip()
    return ""


def apply(layout: Layout, *, reload_services: bool = False) -> list[str]:
    """Apply ``/data/system`` to the running system; returns what changed (for the log)."""
    system, run = layout.system, layout.root / "run"
    changes = [target for source, target in _TREES.items() if _sync_tree(system / source, run / target)]
    hostname = _read(system / "hostname")
    if hostname and hostname != socket.gethostname():
        socket.sethostname(hostname)
        changes.append(f"hostname {hostname}")
    zone = _read(system / "timezone") or "UTC"
    zoneinfo = layout.root / "usr" / "share" / "zoneinfo" / zone
    link = system / "localtime"
    if zoneinfo.is_file() and (
        not link.is_symlink() or link.readlink() != Path("/usr/share/zoneinfo") / zone
    ):
        system.mkdir(parents=True, exist_ok=True)
        tmp = system / ".localtime.tmp"
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(Path("/usr/share/zoneinfo") / zone)
        tmp.replace(link)
        changes.append(f"time zone {zone}")
    country = _read(system / "wifi-country")
    if country:
        subprocess.run(["iw", "reg", "set", country], check=False)
    if reload_services:
        if changes:
            subprocess.run(["nmcli", "connection", "reload"], check=False)
            subprocess.run(["systemctl", "try-restart", "systemd-timesyncd.service"], check=False)
        # service access follows the keys at once (ssh.service is conditioned on them)
        verb = "start" if (layout.ssh / "authorized_keys").exists() else "stop"
        subprocess.run(["systemctl", "--no-block", verb, "ssh.service"], check=False)
    return changes


def main(argv: Sequence[str] = ()) -> int:
    """``printgate-device runtime``."""
    for change in apply(Layout()):
        print(f"printgate-runtime: {change}")
    return 0
