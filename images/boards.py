"""Board definitions: ``boards/<name>.toml`` plus the package list every board shares.

A board says what differs between targets: CPU architecture, kernel packages, consoles, how
slots are switched (its boot backend), its partition layout, and which packages only a vendor
archive carries. Everything else (units, rules, the venv) is the same recipe on every board.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from images.errors import RecipeError

__all__ = ["BOARDS_DIR", "RECIPE_DIR", "Board", "Partition", "VendorArchive", "board_names", "load_board"]

BOARDS_DIR = Path(__file__).resolve().parent / "boards"
RECIPE_DIR = Path(__file__).resolve().parent / "recipe"
SUITE = "bookworm"
ROLES = ("boot", "slot-boot", "root", "data")
BOOT_BACKENDS = ("grub-efi", "rpi-tryboot")
SLOTS = ("A", "B")


@dataclass(frozen=True)
class Partition:
    """One GPT partition: its label (``/dev/disk/by-partlabel/<name>``), size and role."""

    name: str
    size_mib: int
    role: str
    slot: str = ""


@dataclass(frozen=True)
class VendorArchive:
    """An apt archive a board needs besides Debian's (e.g. the Raspberry Pi archive)."""

    url: str
    suite: str
    components: tuple[str, ...]
    key_package: str
    packages: tuple[str, ...]


@dataclass(frozen=True)
class Board:
    """A build target."""

    name: str
    description: str
    arch: str
    compatible: str
    kernel_args: str
    boot_backend: str
    kernel_packages: tuple[str, ...]
    initramfs_modules: tuple[str, ...]
    watchdog_module: str
    extra_packages: tuple[str, ...]
    prune_modules: tuple[str, ...]
    partitions: tuple[Partition, ...]
    vendor_archive: VendorArchive | None = None
    suite: str = SUITE
    common_packages: tuple[str, ...] = field(default=())

    @property
    def packages(self) -> tuple[str, ...]:
        """Every Debian package of the root file system, in a stable order."""
        return tuple(dict.fromkeys((*self.common_packages, *self.kernel_packages, *self.extra_packages)))

    def partition(self, role: str, slot: str = "") -> Partition:
        """The partition with ``role`` (and ``slot``)."""
        for part in self.partitions:
            if part.role == role and part.slot == slot:
                return part
        raise RecipeError(f"board {self.name}: no {role} partition{f' for slot {slot}' if slot else ''}")

    @property
    def slot_names(self) -> tuple[str, ...]:
        """The root slots' names, ``("A", "B")``."""
        return tuple(part.slot for part in self.partitions if part.role == "root")


def common_packages(path: Path = RECIPE_DIR / "packages.txt") -> tuple[str, ...]:
    """The package list every board shares (comments and blank lines skipped)."""
    names: list[str] = []
    for line in path.read_text().splitlines():
        names.extend(line.partition("#")[0].split())
    return tuple(names)


def board_names() -> list[str]:
    """The boards this recipe defines."""
    return sorted(path.stem for path in BOARDS_DIR.glob("*.toml"))


def _partitions(name: str, tables: list[dict[str, Any]]) -> tuple[Partition, ...]:
    parts = tuple(
        Partition(str(t["name"]), int(t["size_mib"]), str(t["role"]), str(t.get("slot", ""))) for t in tables
    )
    for part in parts:
        if part.role not in ROLES:
            raise RecipeError(f"board {name}: partition {part.name} has unknown role {part.role!r}")
        if part.role in ("root", "slot-boot") and part.slot not in SLOTS:
            raise RecipeError(f"board {name}: partition {part.name} needs slot A or B")
    roots = sorted(p.slot for p in parts if p.role == "root")
    if roots != list(SLOTS) or [p.role for p in parts].count("data") != 1 or parts[0].role != "boot":
        raise RecipeError(f"board {name}: needs a boot partition first, root slots A and B, one data")
    return parts


def load_board(name: str, boards_dir: Path = BOARDS_DIR) -> Board:
    """Read ``boards/<name>.toml``; :class:`RecipeError` names what is wrong."""
    path = boards_dir / f"{name}.toml"
    if not path.is_file():
        raise RecipeError(f"unknown board {name!r}; boards: {', '.join(board_names())}")
    try:
        data = tomllib.loads(path.read_text())
        vendor = data.get("vendor_archive")
        board = Board(
            name=data["name"],
            description=data["description"],
            arch=data["arch"],
            compatible=data["compatible"],
            kernel_args=str(data["kernel_args"]),
            boot_backend=data["boot_backend"],
            kernel_packages=tuple(data["kernel_packages"]),
            initramfs_modules=tuple(data["initramfs_modules"]),
            watchdog_module=data["watchdog_module"],
            extra_packages=tuple(data["extra_packages"]),
            prune_modules=tuple(data["prune_modules"]),
            partitions=_partitions(name, data["partition"]),
            vendor_archive=VendorArchive(
                vendor["url"],
                vendor["suite"],
                tuple(vendor["components"]),
                vendor["key_package"],
                tuple(vendor["packages"]),
            )
            if vendor
            else None,
            common_packages=common_packages(),
        )
    except (KeyError, TypeError, tomllib.TOMLDecodeError) as exc:
        raise RecipeError(f"{path}: {exc!r}") from exc
    if board.name != name or board.boot_backend not in BOOT_BACKENDS:
        raise RecipeError(f"{path}: name must be {name!r}, boot_backend one of {BOOT_BACKENDS}")
    return board
