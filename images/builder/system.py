"""The root slot: the board's Debian root file system + printgate's venv + the recipe, as squashfs.

In a copy of the base root file system (in a chroot; through qemu-user for arm64):

1. a venv at ``/opt/printgate/venv`` on the image's own Python, installed offline from the
   wheelhouse with ``--require-hashes`` (every wheel checked), then ``pip check``;
2. the recipe's overlay (units, udev rules, polkit rule, wrappers), the board's RAUC
   ``system.conf``, the update keyring and the release file;
3. the ``printgate`` service user, units enabled, ``NetworkManager-wait-online`` masked (the app
   copes with an absent hub), ``/var/log`` and ``/var/lib/printgate`` linked into ``/data``;
4. ``systemd-analyze verify`` over every unit the recipe ships;
5. squashfs (zstd): the slot is read-only by construction.
"""

from __future__ import annotations

import shutil
import tarfile
from collections.abc import Callable
from pathlib import Path

from images.boards import RECIPE_DIR, Board
from images.builder.cache import StageCache, hash_tree
from images.builder.run import in_chroot, run
from images.guest.post_install import KERNEL_FILES
from images.guest.release import Release

__all__ = ["OVERLAY_DIR", "ROOTFS_IMAGE", "UNITS", "rauc_system_conf", "system_image"]

OVERLAY_DIR = RECIPE_DIR / "overlay"
ROOTFS_IMAGE = "rootfs.squashfs"
VENV = "/opt/printgate/venv"
UNITS = (
    "printgate-var.service",
    "printgate-runtime.service",
    "printgate-firstboot.service",
    "printgate.service",
    "printgate-console.service",
    "printgate-slot-health.service",
    "printgate-requests.path",
)
# started by a unit above, not enabled: verified with them
STARTED_UNITS = ("printgate-requests.service",)
SQUASHFS_LEVEL = 12


def rauc_system_conf(board: Board) -> str:
    """RAUC's ``/etc/rauc/system.conf`` for ``board``: A/B root slots, our boot backend, verity only."""
    lines = [
        "[system]",
        f"compatible={board.compatible}",
        "bootloader=custom",
        "bundle-formats=-plain",
        "data-directory=/data/rauc",
        "",
        "[keyring]",
        "path=/etc/rauc/keyring.pem",
        "check-purpose=codesign",
        "",
        "[handlers]",
        "bootloader-custom-backend=/usr/lib/printgate/rauc-boot-backend",
        "pre-install=/usr/lib/printgate/rauc-pre-install",
        "post-install=/usr/lib/printgate/rauc-post-install",
    ]
    for index, slot in enumerate(board.slot_names):
        root = board.partition("root", slot)
        lines += [
            "",
            f"[slot.rootfs.{index}]",
            f"device=/dev/disk/by-partlabel/{root.name}",
            "type=raw",
            f"bootname={slot}",
        ]
    for index, slot in enumerate(board.slot_names):
        if any(p.role == "slot-boot" for p in board.partitions):
            boot = board.partition("slot-boot", slot)
            lines += [
                "",
                f"[slot.boot.{index}]",
                f"device=/dev/disk/by-partlabel/{boot.name}",
                "type=vfat",
                f"parent=rootfs.{index}",
            ]
    return "\n".join(lines) + "\n"


_SYSTEM = f"""\
set -e
python3 -m venv {VENV}
cd /tmp/wheelhouse
{VENV}/bin/pip install --quiet --no-index --no-deps --require-hashes -r install.txt
groupadd --system gpio
useradd --system --user-group --home-dir /var/lib/printgate --no-create-home --shell /usr/sbin/nologin \\
    --groups dialout,input,video,render,gpio printgate
passwd --lock root
rm -rf /var/log && ln -s /data/log /var/log
ln -s /data/printgate /var/lib/printgate
ln -sf /data/system/localtime /etc/localtime
ln -sf /run/NetworkManager/resolv.conf /etc/resolv.conf
mkdir -p /data /boot/firmware
: > /etc/machine-id
echo printgate > /etc/hostname
cd /
rm -rf /tmp/wheelhouse
"""

_SLOT = f"""\
set -e
cd /tmp/printgate
{VENV}/bin/pip install --quiet --no-index --no-deps --require-hashes -r install.txt
{VENV}/bin/pip check
cd /
systemctl enable {" ".join(UNITS)} ssh.service pcscd.socket
systemctl mask NetworkManager-wait-online.service
systemd-analyze verify --man=no {" ".join(f"/usr/lib/systemd/system/{u}" for u in UNITS + STARTED_UNITS)}
rm -rf /tmp/printgate
"""


def setup_script(board: Board) -> str:
    """The chroot script of the system stage for ``board`` (module pruning included)."""
    if not board.prune_modules:
        return _SYSTEM
    paths = " ".join(f"/usr/lib/modules/*/kernel/{path}" for path in board.prune_modules)
    return _SYSTEM + f'rm -rf {paths}\nfor v in /usr/lib/modules/*; do depmod -a "${{v##*/}}"; done\n'


def _overlay(root: Path, source: Path) -> None:
    if source.is_dir():
        shutil.copytree(source, root, symlinks=True, dirs_exist_ok=True)


def _make_system(out: Path, board: Board, base_tar: Path, wheels: Path) -> None:
    root = out / "root"
    root.mkdir()
    with tarfile.open(base_tar) as tar:
        tar.extractall(root, filter="fully_trusted")  # our own mmdebstrap output, as root
    shutil.copytree(wheels, root / "tmp" / "wheelhouse")
    in_chroot("install dependencies", root, ["sh", "-c", setup_script(board)])


def _make_slot(
    out: Path,
    board: Board,
    system: Path,
    make_wheel: Callable[[], Path],
    release: Release,
    keyring: Path,
    extra_overlay: Path | None,
) -> None:
    root = out / "root"
    run("copy system", ["cp", "-a", "--reflink=auto", system / "root", root])
    staging = root / "tmp" / "printgate"
    staging.mkdir(parents=True)
    wheel = shutil.copy2(make_wheel(), staging)
    digest = run("hash printgate wheel", ["sha256sum", wheel]).split()[0]
    (staging / "install.txt").write_text(f"./{Path(wheel).name} --hash=sha256:{digest}\n")
    _overlay(root, OVERLAY_DIR / "common")
    _overlay(root, OVERLAY_DIR / board.name)
    (root / "etc" / "rauc").mkdir(parents=True, exist_ok=True)
    (root / "etc" / "rauc" / "system.conf").write_text(rauc_system_conf(board))
    shutil.copyfile(keyring, root / "etc" / "rauc" / "keyring.pem")
    (root / "usr" / "lib" / "printgate" / "release").write_text(release.text())
    in_chroot("install printgate", root, ["sh", "-c", _SLOT])
    if extra_overlay is not None:
        _overlay(root, extra_overlay)
    run(
        "squashfs",
        [
            "mksquashfs",
            root,
            out / ROOTFS_IMAGE,
            "-comp",
            "zstd",
            "-Xcompression-level",
            str(SQUASHFS_LEVEL),
            "-noappend",
            "-quiet",
            "-no-progress",
        ],
    )
    for name in KERNEL_FILES:  # the boot partition's copy of the slot's kernel (grub-efi boards)
        if (root / name).exists():
            shutil.copyfile(root / name, out / name)
    (out / "release").write_text(release.text())
    shutil.rmtree(root)


def system_image(
    cache: StageCache,
    board: Board,
    base_tar: Path,
    wheels: Path,
    make_wheel: Callable[[], Path],
    printgate_source: str,
    release: Release,
    keyring: Path,
    extra_overlay: Path | None = None,
) -> Path:
    """The root slot for ``board`` (``<result>/rootfs.squashfs``, plus kernel and release), cached.

    Two cached stages: ``system`` (Debian + the dependencies' venv + the service user, a
    directory) and ``slot`` (printgate itself, the recipe's overlay, keyring, release, an optional
    extra overlay, squashfs), so a change to printgate or the recipe rebuilds only the slot.
    """
    system_key = StageCache.key(
        {"base": base_tar.parent.name, "wheels": wheels.parent.name, "setup": setup_script(board)}
    )
    system = cache.build(
        f"system-{board.name}", system_key, lambda out: _make_system(out, board, base_tar, wheels)
    )
    slot_key = StageCache.key(
        {
            "system": system.name,
            "printgate": printgate_source,
            "overlay": hash_tree(OVERLAY_DIR),
            "keyring": keyring.read_text(),
            "release": release.text(),
            "rauc": rauc_system_conf(board),
            "script": _SLOT,
            "level": SQUASHFS_LEVEL,
            "extra": hash_tree(extra_overlay) if extra_overlay else "",
        }
    )
    return cache.build(
        f"slot-{board.name}",
        slot_key,
        lambda out: _make_slot(out, board, system, make_wheel, release, keyring, extra_overlay),
    )
