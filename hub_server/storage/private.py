"""Files only the hub's own user may read: its database, secret and credentials (mode 0600)
in directories only it may enter (0700). They are created so from their first byte, and
tightened when found looser (hubs before issue 19 made ``hub.db`` 0644 in a 0755 directory).
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

__all__ = ["DIRECTORY_MODE", "FILE_MODE", "private_directory", "private_file", "tighten"]

FILE_MODE = 0o600
DIRECTORY_MODE = 0o700
_OTHERS = stat.S_IRWXG | stat.S_IRWXO

log = logging.getLogger(__name__)


def tighten(path: Path) -> None:
    """Take every permission of group and others off ``path``, if it exists. A shared
    directory (sticky, like ``/tmp``) is left alone: it is not ours to close."""
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        return
    if mode & _OTHERS and not mode & stat.S_ISVTX:
        os.chmod(path, mode & ~_OTHERS)
        log.info("%s was mode %o: now %o (readable by its owner only)", path, mode, mode & ~_OTHERS)


def private_directory(path: Path) -> Path:
    """``path`` made (mode 0700) or tightened; returns it."""
    path.mkdir(parents=True, exist_ok=True, mode=DIRECTORY_MODE)
    tighten(path)
    return path


def private_file(path: Path) -> Path:
    """``path`` created empty (mode 0600) unless it exists, else tightened; returns it. Its
    directory is created (0700) when missing, never changed when it exists."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=DIRECTORY_MODE)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE))
    tighten(path)
    return path
