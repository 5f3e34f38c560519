"""Where things live on a device, in one place, and how files are written there safely.

The root file system is read-only (a squashfs slot). Everything that changes lives on the data
partition (``/data``), and is written atomically: a temporary file in the same directory,
fsync, rename, fsync of the directory. A power cut leaves either the old file or the new one.
Tests point a :class:`Layout` at a temporary directory instead of ``/``.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Layout", "atomic_write", "fsync_dir", "remove_durably", "shred"]


@dataclass(frozen=True)
class Layout:
    """The paths the device-side commands read and write."""

    root: Path = Path("/")

    @property
    def boot(self) -> Path:
        """The boot partition (FAT): printgate.toml, boot state."""
        return self.root / "boot" / "firmware"

    @property
    def data(self) -> Path:
        """The data partition (ext4)."""
        return self.root / "data"

    @property
    def state(self) -> Path:
        """printgate's state: role config, journals, identity (the ``printgate`` user's home)."""
        return self.data / "printgate"

    @property
    def identity(self) -> Path:
        """The state directory handed to ``printgate terminal|kiosk enroll --state-dir``."""
        return self.state / "identity"

    @property
    def device_ops(self) -> Path:
        """The app's requests to the root side and their results (``printgate.device_requests``;
        the app's ``[fleet] ops_dir``)."""
        return self.state / "ops"

    @property
    def updates(self) -> Path:
        """Root only: the bundle being installed, moved here out of the app's reach."""
        return self.data / "updates"

    @property
    def provisioning(self) -> Path:
        """First-boot bookkeeping (root only): the staged file and the steps done."""
        return self.data / "provisioning"

    @property
    def system(self) -> Path:
        """Rendered system configuration, copied into /run at every boot (root only)."""
        return self.data / "system"

    @property
    def ssh(self) -> Path:
        """Host keys and authorized keys of the service login."""
        return self.data / "ssh"

    @property
    def run(self) -> Path:
        """Volatile state of this boot (status for the console)."""
        return self.root / "run" / "printgate"

    @property
    def release(self) -> Path:
        """The image's release file (board, version, compatible)."""
        return self.root / "usr" / "lib" / "printgate" / "release"

    def role_config(self, role: str) -> Path:
        """The generated ``terminal.toml`` or ``kiosk.toml``."""
        return self.state / f"{role}.toml"


def fsync_dir(path: Path) -> None:
    """Make a directory's entries (new names, renames, removals) durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, content: str | bytes, mode: int = 0o644) -> None:
    """Replace ``path`` with ``content`` so that a power cut leaves the old or the new file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = content.encode() if isinstance(content, str) else content
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def remove_durably(path: Path) -> None:
    """Remove ``path`` (if present) and make the removal durable."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
        fsync_dir(path.parent)


def shred(path: Path) -> None:
    """Overwrite ``path``'s bytes in place with zeros, then remove it durably.

    A plain removal leaves the content in the file system's free space (on FAT, in the freed
    clusters, readable by anyone with the card): secrets are overwritten where they lie first.
    """
    try:
        handle = path.open("r+b")
    except FileNotFoundError:
        return
    with handle:
        size = os.fstat(handle.fileno()).st_size
        handle.write(b"\0" * size)
        handle.flush()
        os.fsync(handle.fileno())
    remove_durably(path)
