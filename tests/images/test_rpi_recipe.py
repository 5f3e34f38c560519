"""The rpi-arm64 recipe, assembled and checked on this (x86-64) machine through qemu-user.

Everything Debian carries is built for arm64 in chroots emulated by qemu-user: the root file
system with the board's packages, the builder that compiles printgate's source-only
dependencies, the venv, the recipe's overlay, ``systemd-analyze verify`` of every printgate
unit, the squashfs slot. The Raspberry Pi kernel, firmware and EEPROM tools come only from the
Raspberry Pi archive, which these machines cannot reach: the build stops at exactly that step,
naming it, the archive and the packages.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from images.boards import load_board
from images.builder.cache import StageCache
from images.builder.pipeline import build
from images.errors import ArchiveUnreachable
from images.keys import UpdateKeys

pytestmark = [pytest.mark.image, pytest.mark.timeout(7200)]


@pytest.fixture(scope="module")
def arm64_emulation() -> None:
    """qemu-user registered for arm64 binaries (binfmt_misc), as setup.sh's packages provide."""
    binfmt = Path("/proc/sys/fs/binfmt_misc")
    if not (binfmt / "status").exists():
        subprocess.run(["mount", "-t", "binfmt_misc", "binfmt_misc", str(binfmt)], check=True)
    subprocess.run(["update-binfmts", "--enable", "qemu-aarch64"], check=False, capture_output=True)
    assert (
        subprocess.run(["arch-test", "arm64"], capture_output=True, text=True).stdout.strip() == "arm64: ok"
    )


def test_the_pi_recipe_builds_up_to_the_raspberry_pi_archive(
    arm64_emulation: None, image_cache: StageCache, update_keys: UpdateKeys
) -> None:
    board = load_board("rpi-arm64")
    output = image_cache.root / "test-output-rpi"
    with pytest.raises(ArchiveUnreachable) as stopped:
        build(board, "1.0", output, image_cache, update_keys.keyring)
    assert stopped.value.step == "vendor"
    assert stopped.value.archive == "http://archive.raspberrypi.com/debian"
    assert {"raspi-firmware", "linux-image-rpi-v8", "linux-image-rpi-2712"} <= set(stopped.value.packages)
    slot = output / "printgate-rpi-arm64-1.0.rootfs.squashfs"
    listing = subprocess.run(
        ["unsquashfs", "-l", "-d", "", str(slot)], capture_output=True, text=True, check=True
    ).stdout.split()
    for path in (
        "/opt/printgate/venv/bin/python",
        "/usr/lib/systemd/system/printgate.service",
        "/etc/rauc/system.conf",
        "/usr/lib/printgate/release",
        "/usr/sbin/NetworkManager",
        "/usr/bin/rauc",
    ):
        assert path in listing, path
    elf = subprocess.run(
        ["unsquashfs", "-cat", str(slot), "/usr/bin/rauc"], capture_output=True, check=True
    ).stdout
    assert elf[:4] == b"\x7fELF" and elf[18:20] == b"\xb7\x00"  # e_machine 183: AArch64
    # pyscard installs as the package smartcard: its extension, compiled for arm64
    extensions = [name for name in listing if "/smartcard/scard/_scard" in name and name.endswith(".so")]
    assert extensions and all("aarch64" in name for name in extensions), (
        "pyscard's arm64 extension is in the venv"
    )
