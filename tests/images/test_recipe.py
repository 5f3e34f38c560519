"""The recipe's data and host-side tools: boards, RAUC configuration, the lock file, bundles,
the rpi-imager list and the flasher. Everything here runs in seconds on the build host."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import jsonschema
import pytest
from packaging.requirements import Requirement

from images.boards import board_names, load_board
from images.builder.cache import StageCache
from images.builder.system import rauc_system_conf
from images.builder.wheels import LOCK_FILE, REPO
from images.bundle import bundle_info, make_bundle, manifest
from images.errors import BundleError, FlashError, RecipeError
from images.flash import read_bmap, refusal, verify
from images.keys import create_update_keys
from images.os_list import os_list

HERE = Path(__file__).parent


def test_both_boards_load_with_the_shared_package_list() -> None:
    assert board_names() == ["qemu-amd64", "rpi-arm64"]
    qemu, pi = load_board("qemu-amd64"), load_board("rpi-arm64")
    for board in (qemu, pi):
        assert {"systemd-sysv", "python3-venv", "network-manager", "rauc", "pcscd"} <= set(board.packages)
        assert board.slot_names == ("A", "B")
        assert board.partitions[0].role == "boot" and board.partition("data").size_mib > 0
    assert "linux-image-amd64" in qemu.packages
    assert pi.vendor_archive is not None and "linux-image-rpi-2712" in pi.vendor_archive.packages


def test_an_unknown_board_is_named() -> None:
    with pytest.raises(RecipeError, match="unknown board 'pi9'; boards: qemu-amd64, rpi-arm64"):
        load_board("pi9")


def test_rauc_system_conf_has_both_slots_our_backend_and_verity_only() -> None:
    conf = rauc_system_conf(load_board("qemu-amd64"))
    assert "compatible=printgate-qemu-amd64\nbootloader=custom\nbundle-formats=-plain\n" in conf
    assert "[slot.rootfs.1]\ndevice=/dev/disk/by-partlabel/rootB\ntype=raw\nbootname=B" in conf
    assert "check-purpose=codesign" in conf and "pre-install=" in conf and "post-install=" in conf
    pi = rauc_system_conf(load_board("rpi-arm64"))
    assert "[slot.boot.1]\ndevice=/dev/disk/by-partlabel/bootB\ntype=vfat\nparent=rootfs.1" in pi


def test_the_lock_pins_every_dependency_with_hashes() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    pins: dict[str, tuple[str, list[str]]] = {}
    for block in re.split(r"\n(?=[A-Za-z])", LOCK_FILE.read_text()):
        match = re.match(r"^([A-Za-z0-9_.-]+)==(\S+)", block)
        if match:
            pins[match.group(1).lower().replace("_", "-")] = (
                match.group(2),
                re.findall(r"--hash=sha256:\w+", block),
            )
    for dependency in project["dependencies"]:
        requirement = Requirement(dependency)
        name = requirement.name.lower().replace("_", "-")
        assert name in pins, f"{name} is not in {LOCK_FILE.name}: regenerate it (docs/images.md)"
        version, _ = pins[name]
        assert requirement.specifier.contains(version), f"{name}=={version} does not satisfy {dependency}"
    assert all(hashes for _, hashes in pins.values())


def test_cache_keys_follow_their_inputs(tmp_path: Path) -> None:
    cache = StageCache(tmp_path)
    assert StageCache.key({"a": 1, "b": [2]}) == StageCache.key({"b": [2], "a": 1})
    assert StageCache.key({"a": 1}) != StageCache.key({"a": 2})
    made: list[object] = []
    first = cache.build("stage", "k1", lambda out: made.append((out / "x").write_text("1")))
    again = cache.build("stage", "k1", lambda out: made.append("rebuilt"))
    assert first == again and (first / "x").read_text() == "1" and len(made) == 1

    def fail(out: Path) -> None:
        (out / "half").write_text("")
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        cache.build("stage", "k2", fail)
    assert cache.lookup("stage", "k2") is None and not list(tmp_path.glob(".stage-*"))


def test_os_list_is_what_rpi_imager_reads(tmp_path: Path) -> None:
    image = tmp_path / "printgate-rpi-arm64-1.0.img"
    image.write_bytes(b"\x01" * 4096)
    document = os_list(load_board("rpi-arm64"), "1.0", image, "https://images.example.org/")
    jsonschema.validate(document, json.loads((HERE / "os_list_schema.json").read_text()))
    entry = document["os_list"][0]
    assert entry["extract_sha256"] == hashlib.sha256(b"\x01" * 4096).hexdigest()
    assert entry["url"] == "https://images.example.org/printgate-rpi-arm64-1.0.img"
    assert entry["devices"] == ["pi4-64bit", "pi5-64bit"]


# --- bundles -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def slot_image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("slot")
    (root / "tree" / "usr").mkdir(parents=True)
    (root / "tree" / "usr" / "data").write_bytes(os.urandom(256 * 1024))  # squashfs of more than a block
    image = root / "rootfs.squashfs"
    subprocess.run(
        ["mksquashfs", root / "tree", image, "-comp", "zstd", "-quiet", "-no-progress"], check=True
    )
    return image


def test_a_bundle_is_signed_verity_for_its_board(tmp_path: Path, slot_image: Path) -> None:
    keys = create_update_keys(tmp_path / "keys")
    board = load_board("qemu-amd64")
    bundle = make_bundle(board, slot_image, "1.2", keys.cert, keys.key, keys.keyring, tmp_path / "u.raucb")
    info = bundle_info(board, bundle, keys.keyring)
    assert "Compatible: \t'printgate-qemu-amd64'" in info
    assert "Version:    \t'1.2'" in info and "Bundle Format: \tverity" in info
    other = create_update_keys(tmp_path / "other")
    with pytest.raises(BundleError, match=r"signature|verif|certificate"):
        bundle_info(board, bundle, other.keyring)


def test_a_bundle_version_must_be_dotted_numbers() -> None:
    with pytest.raises(ValueError, match="dotted numbers"):
        manifest(load_board("qemu-amd64"), "1.0-rc1")


# --- flashing ------------------------------------------------------------------------------------


@pytest.fixture
def image_with_bmap(tmp_path: Path) -> Path:
    image = tmp_path / "disk.img"
    with image.open("wb") as handle:
        handle.truncate(8 * 1024 * 1024)
        handle.seek(1024 * 1024)
        handle.write(b"boot" * 4096)
        handle.seek(6 * 1024 * 1024)
        handle.write(b"root" * 8192)
    subprocess.run(["bmaptool", "-q", "create", "-o", f"{image}.bmap", str(image)], check=True)
    return image


def test_flash_writes_only_the_mapped_blocks_and_verifies_them(image_with_bmap: Path, tmp_path: Path) -> None:
    target = tmp_path / "card.img"
    target.write_bytes(b"\xff" * 8 * 1024 * 1024)
    done = subprocess.run(
        [sys.executable, "-m", "printgate_cli", "image", "flash", str(image_with_bmap), str(target), "--yes"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "written and verified" in done.stdout
    assert target.read_bytes() == image_with_bmap.read_bytes()  # a file target becomes the image
    with target.open("r+b") as handle:  # the card lost a block: verification says so
        handle.seek(6 * 1024 * 1024 + 100)
        handle.write(b"X")
    with pytest.raises(FlashError, match="differ from the image"):
        verify(target, read_bmap(Path(f"{image_with_bmap}.bmap")))


def test_flash_refuses_the_disk_the_system_runs_from() -> None:
    root_source = subprocess.run(
        ["findmnt", "-no", "SOURCE", "/"], capture_output=True, text=True
    ).stdout.strip()
    if not root_source.startswith("/dev/") or not Path(root_source).is_block_device():
        pytest.skip(f"/ is not on a block device here ({root_source})")
    reason = refusal(Path(root_source))  # only asks: never writes
    assert reason is not None and "holds the running system" in reason


def test_flash_refuses_what_is_not_a_disk_and_asks_first(image_with_bmap: Path, tmp_path: Path) -> None:
    assert refusal(Path("/dev/null")) == "/dev/null is neither a block device nor a regular file"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "printgate_cli",
            "image",
            "flash",
            str(image_with_bmap),
            str(tmp_path / "c.img"),
        ],
        input="n\n",
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1 and "not confirmed: nothing written" in done.stderr
