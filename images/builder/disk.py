"""The disk image: GPT with a boot partition, root slots A and B, and the data partition.

Built from files with Debian's tools, no loop devices and no root: each partition is its own
file (``mkfs.vfat -C`` + mtools for the boot partition, the squashfs slot as is, ``mke2fs`` for
the data partition), ``sfdisk`` writes the partition table and ``dd conv=notrunc,sparse`` puts
each partition at its offset, so empty space stays sparse. ``bmaptool create`` writes the block
map that ``printgate image flash`` (and bmaptool) use to copy only what is used.

Slot A holds the build's root file system and is the primary; slot B is empty (marked bad)
until the first update fills it. The boot partition carries the board's boot loader (on
qemu-amd64: GRUB EFI with the slot-choosing script, and each slot's kernel in ``slots/<slot>/``),
the initial boot state, the commented example ``printgate.example.toml``, and the technician's
``printgate.toml`` when one is given.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from images.boards import RECIPE_DIR, Board
from images.builder.run import run
from images.errors import BuildError
from images.guest.bootchooser import GRUBENV, grub_config
from images.guest.post_install import KERNEL_FILES

__all__ = ["BOOT_LABEL", "GPT_TYPES", "DiskLayout", "assemble", "mcopy", "partition_offsets"]

BOOT_LABEL = "PGBOOT"
MIB = 1024 * 1024
EXAMPLE = RECIPE_DIR / "printgate.example.toml"
GPT_TYPES = {
    "esp": "C12A7328-F81F-11D2-BA4B-00A0C93EC93B",
    "fat": "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7",
    "root-amd64": "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709",
    "root-arm64": "B921B045-1DF0-41C3-AF44-4C6F280D3FAE",
    "linux": "0FC63DAF-8483-4772-8E79-3D69D8477DE4",
}
GRUB_MODULES = "part_gpt fat linux normal loadenv search search_label test echo"


@dataclass(frozen=True)
class DiskLayout:
    """Where each partition starts, in MiB from the start of the disk, and the disk's size."""

    offsets_mib: dict[str, int]
    total_mib: int


def partition_offsets(board: Board) -> DiskLayout:
    """1 MiB for the primary GPT, partitions back to back (1 MiB aligned), 1 MiB for the backup."""
    offsets, at = {}, 1
    for part in board.partitions:
        offsets[part.name] = at
        at += part.size_mib
    return DiskLayout(offsets, at + 1)


def _gpt_type(board: Board, role: str) -> str:
    if role == "boot":
        return GPT_TYPES["esp" if board.boot_backend == "grub-efi" else "fat"]
    if role == "slot-boot":
        return GPT_TYPES["fat"]
    if role == "root":
        return GPT_TYPES[f"root-{board.arch}"]
    return GPT_TYPES["linux"]


def mcopy(image: Path, files: dict[str, Path | bytes | str], at: str = "") -> None:
    """Copy ``{path on the FAT file system: source}`` into a FAT image (``at``: ``@@offset``)."""
    made: set[Path] = set()
    with tempfile.TemporaryDirectory() as scratch:
        for target, source in sorted(files.items()):
            for parent in reversed(Path(target).parents[:-1]):
                if parent not in made:
                    run("boot partition", ["mmd", "-i", f"{image}{at}", f"::{parent}"])
                    made.add(parent)
            if isinstance(source, Path):
                path = source
            else:
                path = Path(scratch) / Path(target).name
                path.write_bytes(source.encode() if isinstance(source, str) else source)
            run("boot partition", ["mcopy", "-o", "-i", f"{image}{at}", path, f"::{target}"])


def _grub_efi(board: Board, scratch: Path) -> Path:
    config = scratch / "grub.cfg"
    config.write_text(grub_config(BOOT_LABEL, board.kernel_args))
    loader = scratch / "BOOTX64.EFI"
    run(
        "boot loader",
        [
            "grub-mkstandalone",
            "-O",
            "x86_64-efi",
            "-o",
            loader,
            f"--modules={GRUB_MODULES}",
            f"--install-modules={GRUB_MODULES}",
            "--locales=",
            "--themes=",
            "--fonts=",
            f"boot/grub/grub.cfg={config}",
        ],
    )
    return loader


def _grubenv(scratch: Path, slots: tuple[str, ...]) -> Path:
    env = scratch / "grubenv"
    run("boot state", ["grub-editenv", env, "create"])
    run(
        "boot state",
        [
            "grub-editenv",
            env,
            "set",
            "PRIMARY=A",
            "TRIAL=",
            "A_GOOD=1",
            *(f"{slot}_GOOD=0" for slot in slots if slot != "A"),
        ],
    )
    return env


def boot_partition(board: Board, scratch: Path, kernel_dir: Path, provisioning: str | None) -> Path:
    """The boot partition's FAT image (slot A's kernel and initramfs from ``kernel_dir``)."""
    size_mib = board.partition("boot").size_mib
    image = scratch / "boot.vfat"
    run("boot partition", ["mkfs.vfat", "-n", BOOT_LABEL, "-C", image, str(size_mib * 1024)])
    files: dict[str, Path | bytes | str] = {"printgate.example.toml": EXAMPLE}
    if board.boot_backend == "grub-efi":
        files["EFI/BOOT/BOOTX64.EFI"] = _grub_efi(board, scratch)
        files[GRUBENV] = _grubenv(scratch, board.slot_names)
        for name in KERNEL_FILES:
            files[f"slots/A/{name}"] = kernel_dir / name
    else:
        raise BuildError(
            "boot partition",
            f"board {board.name}: {board.boot_backend} boot files need the "
            "vendor archive (see the rootfs step)",
        )
    if provisioning is not None:
        files["printgate.toml"] = provisioning
    mcopy(image, files)
    return image


def assemble(
    board: Board, rootfs: Path, kernel_dir: Path, out: Path, provisioning: str | None = None
) -> Path:
    """Write the disk image ``out`` (and ``out.bmap``) for ``board`` with ``rootfs`` in slot A."""
    layout = partition_offsets(board)
    slot_a = board.partition("root", "A")
    if rootfs.stat().st_size > slot_a.size_mib * MIB:
        raise BuildError(
            "disk",
            f"the root file system ({rootfs.stat().st_size // MIB} MiB) does not fit "
            f"slot A ({slot_a.size_mib} MiB)",
        )
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        scratch = Path(tmp)
        boot = boot_partition(board, scratch, kernel_dir, provisioning)
        data = scratch / "data.ext4"
        run(
            "data partition",
            ["mke2fs", "-q", "-t", "ext4", "-L", "data", "-F", data, f"{board.partition('data').size_mib}M"],
        )
        table = ["label: gpt", "unit: sectors", "first-lba: 2048"]
        for part in board.partitions:
            start, size = layout.offsets_mib[part.name] * 2048, part.size_mib * 2048
            table.append(
                f'start={start}, size={size}, type={_gpt_type(board, part.role)}, name="{part.name}"'
            )
        partial = scratch / "disk.img"
        run("disk", ["truncate", "-s", f"{layout.total_mib}M", partial])
        run(
            "disk",
            ["sfdisk", "--quiet", "--no-reread", "--no-tell-kernel", partial],
            input_text="\n".join(table),
        )
        contents = {"boot": boot, slot_a.name: rootfs, "data": data}
        for name, source in contents.items():
            run(
                "disk",
                [
                    "dd",
                    f"if={source}",
                    f"of={partial}",
                    "bs=1M",
                    f"seek={layout.offsets_mib[name]}",
                    "conv=notrunc,sparse",
                    "status=none",
                ],
            )
        shutil.move(partial, out)
    run("block map", ["bmaptool", "-q", "create", "-o", f"{out}.bmap", out])
    return out
