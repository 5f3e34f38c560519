"""Fixtures of the image tests: the built image (cached), update keys, the accelerator, disks.

Building and booting take minutes, so everything built is cached outside the repository
(``$PRINTGATE_IMAGE_CACHE`` or ``~/.cache/printgate-images``), keyed by its inputs: a second
run rebuilds only what changed. The boot tests are marked ``image`` and are not part of the
default run (``scripts/test.sh``); CI runs them as a step of their own (``.ci/run``).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from images.boards import Board, load_board
from images.builder.cache import StageCache, default_cache_dir
from images.builder.pipeline import BuildResult, build, build_rootfs
from images.bundle import make_bundle
from images.keys import UpdateKeys, create_update_keys
from tests.images.vm import accelerator

BOARD = "qemu-amd64"
BASE_VERSION = "1.0"


@pytest.fixture(scope="session")
def image_cache() -> StageCache:
    return StageCache(default_cache_dir())


def _keys(cache: StageCache, name: str) -> UpdateKeys:
    keys = UpdateKeys(cache.root / "test-keys" / name)
    if not keys.key.exists():
        create_update_keys(keys.directory, f"printgate test {name}")
    return keys


@pytest.fixture(scope="session")
def update_keys(image_cache: StageCache) -> UpdateKeys:
    """The update keys the test images trust (made once, kept in the cache: images stay cached)."""
    return _keys(image_cache, "update")


@pytest.fixture(scope="session")
def foreign_keys(image_cache: StageCache) -> UpdateKeys:
    """Another CA and signing key: nothing the images trust."""
    return _keys(image_cache, "foreign")


@pytest.fixture(scope="session")
def board() -> Board:
    return load_board(BOARD)


@dataclass
class Built:
    """The CI image and a way to make update bundles of other versions."""

    result: BuildResult
    board: Board
    cache: StageCache
    keys: UpdateKeys
    output: Path

    @property
    def image(self) -> Path:
        return Path(self.result.image)

    @property
    def kernel(self) -> Path:
        return self.output / f"printgate-{self.board.name}-{self.result.version}.vmlinuz"

    def bundle(
        self,
        version: str,
        out: Path,
        *,
        keys: UpdateKeys | None = None,
        extra_overlay: Path | None = None,
        board: Board | None = None,
    ) -> Path:
        """A bundle of this build at ``version`` (optionally with an overlay), signed by ``keys``."""
        build_rootfs(
            self.board, version, self.output, self.cache, self.keys.keyring, extra_overlay=extra_overlay
        )
        rootfs = self.output / f"printgate-{self.board.name}-{version}.rootfs.squashfs"
        signer = keys or self.keys
        return make_bundle(board or self.board, rootfs, version, signer.cert, signer.key, signer.keyring, out)


@pytest.fixture(scope="session")
def built(image_cache: StageCache, update_keys: UpdateKeys, board: Board) -> Built:
    """The qemu-amd64 image, version 1.0 (cached stages; the disk is assembled each session)."""
    output = image_cache.root / "test-output"
    result = build(board, BASE_VERSION, output, image_cache, update_keys.keyring)
    return Built(result, board, image_cache, update_keys, output)


@pytest.fixture(scope="session")
def accel(built: Built, tmp_path_factory: pytest.TempPathFactory) -> str:
    """``kvm`` when a real boot of the image's kernel runs under KVM, else ``tcg``."""
    return accelerator(built.kernel, tmp_path_factory.mktemp("kvm-probe"))


@pytest.fixture
def fresh_disk(built: Built, tmp_path: Path) -> Path:
    """A copy of the built image, as a freshly flashed card (sparse)."""
    disk = tmp_path / "disk.img"
    subprocess.run(["cp", "--sparse=always", str(built.image), str(disk)], check=True)
    return disk


@pytest.fixture(scope="session")
def ssh_key(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A service key pair for the tests' ssh logins."""
    directory = tmp_path_factory.mktemp("ssh")
    key = directory / "id_ed25519"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "printgate-ci", "-f", str(key)], check=True
    )
    yield key
    shutil.rmtree(directory, ignore_errors=True)
