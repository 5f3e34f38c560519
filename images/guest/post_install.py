"""RAUC's post-install handler: a new root slot's kernel goes to that slot's boot directory.

On ``grub-efi`` boards GRUB loads the kernel and initramfs from the boot partition
(``slots/A/``, ``slots/B/``), because GRUB cannot read the zstd squashfs root slots. After RAUC
wrote a root slot, this copies ``/vmlinuz`` and ``/initrd.img`` out of it (mounted read-only)
into ``slots/<bootname>/`` on the boot partition, each file replaced atomically. If that fails,
the trial RAUC just armed is disarmed again (the old slot stays the one that boots) and the
install fails. Boards whose boot files are RAUC slots of their own (``rpi-tryboot``) need
nothing here.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

from images.guest.bootchooser import SlotBoot, booted_slot, store_for
from images.guest.layout import Layout, fsync_dir
from images.guest.release import Release

__all__ = ["KERNEL_FILES", "install_kernels", "main", "slot_boot_dir"]

KERNEL_FILES = ("vmlinuz", "initrd.img")
Mounter = Callable[[str], contextlib.AbstractContextManager[Path]]


def slot_boot_dir(layout: Layout, slot: str) -> Path:
    """Where GRUB finds slot ``slot``'s kernel and initramfs."""
    return layout.boot / "slots" / slot


@contextlib.contextmanager
def mount_readonly(device: str) -> Iterator[Path]:
    """``device`` mounted read-only at a temporary directory for the ``with`` block."""
    with tempfile.TemporaryDirectory(prefix="printgate-slot-") as where:
        subprocess.run(["mount", "-o", "ro", device, where], check=True)
        try:
            yield Path(where)
        finally:
            subprocess.run(["umount", where], check=False)


def _replace(source: Path, target: Path) -> None:
    partial = target.with_name(f".{target.name}.new")
    with source.open("rb") as src, partial.open("wb") as dst:
        shutil.copyfileobj(src, dst, 1024 * 1024)
        dst.flush()
        os.fsync(dst.fileno())
    os.replace(partial, target)


def install_kernels(env: Mapping[str, str], layout: Layout, mount: Mounter = mount_readonly) -> list[str]:
    """Copy the kernel of every root slot RAUC just wrote; returns the slots done."""
    done = []
    for number in env.get("RAUC_TARGET_SLOTS", "").split():
        if env.get(f"RAUC_SLOT_CLASS_{number}") != "rootfs":
            continue
        slot = env[f"RAUC_SLOT_BOOTNAME_{number}"]
        target = slot_boot_dir(layout, slot)
        target.mkdir(parents=True, exist_ok=True)
        with mount(env[f"RAUC_SLOT_DEVICE_{number}"]) as root:
            for name in KERNEL_FILES:
                _replace(
                    (root / name).resolve() if (root / name).is_symlink() else root / name, target / name
                )
        fsync_dir(target)
        done.append(slot)
    return done


def main(argv: Sequence[str] = ()) -> int:
    """``printgate-device post-install`` (environment from RAUC)."""
    layout = Layout()
    board = Release.read(layout).board()
    if board.boot_backend != "grub-efi":
        return 0
    try:
        slots = install_kernels(os.environ, layout)
    except (OSError, KeyError, subprocess.CalledProcessError) as exc:
        booted = booted_slot(Path("/proc/cmdline").read_text())
        SlotBoot(store_for(board, layout), booted).set_primary(booted)
        print(
            f"<< error kernel not copied to the boot partition ({exc}); slot {booted} stays primary",
            flush=True,
        )
        return 1
    print(f"kernel and initramfs of slot(s) {', '.join(slots)} copied to the boot partition")
    return 0
