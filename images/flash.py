"""``printgate image flash IMAGE DEVICE``: write an image to an SD card or eMMC, then verify it.

Refuses, before writing anything, a device that holds the running system (the disk under ``/``,
``/boot``, ``/usr`` ...) or has a mounted partition or active swap, and anything that is neither
a block device nor a regular file. Asks before writing unless ``--yes``. The copy goes by the
image's block map (``IMAGE.bmap``, written by every build): only mapped blocks are written, with
``bmaptool copy`` (which also shows progress). Then every mapped range is read back from the
device and its SHA-256 compared with the block map's.
"""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from images.errors import FlashError

__all__ = ["BlockMap", "flash", "read_bmap", "refusal", "verify"]

CHUNK = 1024 * 1024


@dataclass(frozen=True)
class BlockMap:
    """An image's block map: block size and the mapped ranges with their SHA-256."""

    block_size: int
    image_size: int
    ranges: tuple[tuple[int, int, str], ...]  # first block, last block, sha256

    @property
    def mapped_bytes(self) -> int:
        """Bytes that carry data."""
        return sum((last - first + 1) * self.block_size for first, last, _ in self.ranges)


def read_bmap(path: Path) -> BlockMap:
    """Parse a bmaptool block map (format 2.0)."""
    try:
        root = ET.parse(path).getroot()
        block_size = int(root.findtext("BlockSize", "0"))
        image_size = int(root.findtext("ImageSize", "0"))
        if root.findtext("ChecksumType", "").strip() != "sha256":
            raise FlashError(f"{path}: only sha256 block maps are supported")
        ranges = []
        for item in root.iter("Range"):
            first, _, last = (item.text or "").strip().partition("-")
            ranges.append((int(first), int(last or first), item.attrib["chksum"]))
    except (ET.ParseError, ValueError, KeyError) as exc:
        raise FlashError(f"{path}: not a block map: {exc}") from exc
    return BlockMap(block_size, image_size, tuple(ranges))


def _mounted_devices(mountinfo: str) -> set[str]:
    """``major:minor`` of every mounted block device (mountinfo's third field)."""
    return {line.split()[2] for line in mountinfo.splitlines() if len(line.split()) > 2}


def _disk_of(dev: str, sys_root: Path) -> str:
    """The whole disk (``major:minor``) a device number belongs to."""
    link = sys_root / "dev" / "block" / dev
    try:
        resolved = link.resolve()
    except OSError:
        return dev
    if (resolved / "partition").exists():
        return (resolved.parent / "dev").read_text().strip()
    return dev


def _devices_of_disk(disk: str, sys_root: Path) -> set[str]:
    """The disk and each of its partitions, as ``major:minor``."""
    found = {disk}
    path = (sys_root / "dev" / "block" / disk).resolve()
    for child in path.iterdir() if path.is_dir() else []:
        if (child / "partition").exists():
            found.add((child / "dev").read_text().strip())
    return found


def refusal(
    target: Path, *, mountinfo: str | None = None, swaps: str | None = None, sys_root: Path = Path("/sys")
) -> str | None:
    """Why ``target`` must not be written (None: it may)."""
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        return None if target.parent.is_dir() else f"{target.parent} does not exist"  # a new image file
    except OSError as exc:
        return f"{target}: {exc.strerror}"
    if stat.S_ISREG(mode):
        return None
    if not stat.S_ISBLK(mode):
        return f"{target} is neither a block device nor a regular file"
    rdev = os.stat(target).st_rdev
    device = f"{os.major(rdev)}:{os.minor(rdev)}"
    mountinfo = Path("/proc/self/mountinfo").read_text() if mountinfo is None else mountinfo
    swaps = Path("/proc/swaps").read_text() if swaps is None else swaps
    disk = _disk_of(device, sys_root)
    ours = _devices_of_disk(disk, sys_root)
    mounted = _mounted_devices(mountinfo)
    system_mounts = {"/", "/boot", "/usr", "/var", "/boot/efi", "/boot/firmware"}
    for line in mountinfo.splitlines():
        fields = line.split()
        if len(fields) > 4 and fields[4] in system_mounts and _disk_of(fields[2], sys_root) == disk:
            return f"{target} holds the running system ({fields[4]} is on it)"
    if ours & mounted:
        return f"{target} has a mounted partition: unmount it first"
    for line in swaps.splitlines()[1:]:
        name = line.split()[0] if line.split() else ""
        if name.startswith("/dev/") and os.path.exists(name):
            swap_rdev = os.stat(name).st_rdev
            if f"{os.major(swap_rdev)}:{os.minor(swap_rdev)}" in ours:
                return f"{target} has an active swap partition ({name})"
    return None


def _ranges(bmap: BlockMap) -> Iterator[tuple[int, int, str]]:
    for first, last, digest in bmap.ranges:
        start = first * bmap.block_size
        end = min((last + 1) * bmap.block_size, bmap.image_size)
        yield start, end, digest


def verify(target: Path, bmap: BlockMap, progress: Callable[[int], None] = lambda done: None) -> None:
    """Read every mapped range back from ``target``; :class:`FlashError` at the first mismatch."""
    done = 0
    with target.open("rb") as device:
        for start, end, expected in _ranges(bmap):
            device.seek(start)
            digest = hashlib.sha256()
            left = end - start
            while left:
                chunk = device.read(min(CHUNK, left))
                if not chunk:
                    raise FlashError(
                        f"{target} ends at {start + (end - start - left)} bytes; the image is longer"
                    )
                digest.update(chunk)
                left -= len(chunk)
                done += len(chunk)
                progress(done)
            if digest.hexdigest() != expected:
                raise FlashError(f"{target}: bytes {start}-{end} differ from the image after writing")


def flash(
    image: Path, target: Path, *, confirm: Callable[[str], bool], out: Callable[[str], None] = print
) -> None:
    """Write ``image`` to ``target`` by its block map, then verify; refuses unsafe targets."""
    bmap_path = Path(f"{image}.bmap")
    if not bmap_path.exists():
        raise FlashError(f"{bmap_path} is missing (every build writes it beside the image)")
    bmap = read_bmap(bmap_path)
    reason = refusal(target)
    if reason:
        raise FlashError(f"refused: {reason}")
    if target.is_block_device():
        size = int(
            subprocess.run(
                ["blockdev", "--getsize64", str(target)], capture_output=True, text=True, check=True
            ).stdout
        )
        if size < bmap.image_size:
            raise FlashError(f"{target} holds {size} bytes; the image needs {bmap.image_size}")
    question = f"write {image.name} ({bmap.mapped_bytes // 2**20} MiB of data) to {target}, erasing it?"
    if not confirm(question):
        raise FlashError("not confirmed: nothing written")
    done = subprocess.run(
        ["bmaptool", "copy", "--bmap", str(bmap_path), str(image), str(target)], check=False
    )
    if done.returncode != 0:
        raise FlashError(f"bmaptool copy failed with exit code {done.returncode}")
    total = bmap.mapped_bytes
    if target.is_block_device():  # read back from the card, not from the page cache
        subprocess.run(["blockdev", "--flushbufs", str(target)], check=False)

    def show(read: int) -> None:
        if read % (64 * CHUNK) < CHUNK or read == total:
            sys.stderr.write(f"\rverifying {read * 100 // max(total, 1):3d} %")
            sys.stderr.flush()

    verify(target, bmap, show)
    sys.stderr.write("\n")
    out(f"{target}: written and verified ({total // 2**20} MiB of data)")
