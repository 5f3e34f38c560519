"""``printgate image build``: every stage in order, each cached by its inputs.

================  ========================================================  =================
stage             what                                                      cached by
================  ========================================================  =================
base              the board's Debian packages (mmdebstrap)                  packages, hooks
builder           a compiler root file system of the board's architecture   arch
wheels            the hashed lock file as wheels (sources built in builder)  lock file
system            venv + recipe + units verified, squashfs root slot        all of the above,
                                                                            printgate's source
vendor            the board's vendor-archive packages (Pi kernel/firmware)  (never cached)
disk              GPT image, block map, rpi-imager list                     (always written)
================  ========================================================  =================
"""

from __future__ import annotations

import json
import logging
import shutil
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

from images.boards import Board
from images.builder.cache import StageCache
from images.builder.disk import assemble
from images.builder.rootfs import Sources, base_rootfs, builder_rootfs
from images.builder.system import ROOTFS_IMAGE, system_image
from images.builder.wheels import git_describe, printgate_wheel, source_hash, wheelhouse
from images.errors import ArchiveUnreachable, BuildError
from images.guest.post_install import KERNEL_FILES
from images.guest.release import Release, version_key
from images.os_list import os_list

__all__ = ["BuildResult", "build", "build_rootfs", "image_name", "probe_archive"]

log = logging.getLogger("images.build")
PROBE_TIMEOUT_S = 10.0


@dataclass
class BuildResult:
    """What a build made, with the time each stage took."""

    board: str
    version: str
    image: str = ""
    rootfs: str = ""
    image_bytes: int = 0
    allocated_bytes: int = 0
    rootfs_bytes: int = 0
    stage_s: dict[str, float] = field(default_factory=dict)


def image_name(board: Board, version: str) -> str:
    """``printgate-<board>-<version>.img``."""
    return f"printgate-{board.name}-{version}.img"


def probe_archive(url: str, suite: str) -> bool:
    """True when the apt archive at ``url`` answers for ``suite``."""
    try:
        with urllib.request.urlopen(f"{url}/dists/{suite}/Release", timeout=PROBE_TIMEOUT_S) as reply:
            return bool(reply.status == 200)
    except (urllib.error.URLError, OSError):
        return False


class _Timer:
    def __init__(self, result: BuildResult) -> None:
        self.result = result

    def stage(self, name: str) -> _Stage:
        return _Stage(self.result, name)


class _Stage:
    def __init__(self, result: BuildResult, name: str) -> None:
        self.result, self.name = result, name

    def __enter__(self) -> None:
        log.info("stage %s ...", self.name)
        self.started = time.monotonic()

    def __exit__(self, *exc: object) -> None:
        self.result.stage_s[self.name] = round(time.monotonic() - self.started, 1)
        log.info("stage %s: %.1f s", self.name, self.result.stage_s[self.name])


def build_rootfs(
    board: Board,
    version: str,
    output: Path,
    cache: StageCache,
    keyring: Path,
    *,
    sources: Sources | None = None,
    extra_overlay: Path | None = None,
    result: BuildResult | None = None,
) -> Path:
    """The stages up to the root slot: ``output/printgate-<board>-<version>.rootfs.squashfs`` (and kernel)."""
    version_key(version)
    sources = sources or Sources()
    result = result or BuildResult(board.name, version)
    timer = _Timer(result)
    output.mkdir(parents=True, exist_ok=True)
    with timer.stage("base"):
        base = base_rootfs(cache, board, sources)
    with timer.stage("builder"):
        builder = builder_rootfs(cache, board.arch, board.suite, sources)
    with timer.stage("wheels"):
        wheels = wheelhouse(cache, board.arch, builder)
    with timer.stage("system"):
        scratch = output / ".printgate-wheel"
        release = Release(board.name, version, board.compatible, git_describe())
        slot = system_image(
            cache,
            board,
            base,
            wheels,
            lambda: printgate_wheel(scratch),
            source_hash(),
            release,
            keyring,
            extra_overlay,
        )
        shutil.rmtree(scratch, ignore_errors=True)
    rootfs = output / f"printgate-{board.name}-{version}.rootfs.squashfs"
    shutil.copyfile(slot / ROOTFS_IMAGE, rootfs)
    result.rootfs, result.rootfs_bytes = str(rootfs), rootfs.stat().st_size
    for name in KERNEL_FILES:  # beside the image: direct kernel boots, the KVM probe
        if (slot / name).exists():
            shutil.copyfile(slot / name, output / f"printgate-{board.name}-{version}.{name}")
    return slot


def build(
    board: Board,
    version: str,
    output: Path,
    cache: StageCache,
    keyring: Path,
    *,
    sources: Sources | None = None,
    provisioning: str | None = None,
    extra_overlay: Path | None = None,
    url_base: str = "",
) -> BuildResult:
    """Build ``board``'s image into ``output``; returns what was made and how long it took."""
    result = BuildResult(board.name, version)
    timer = _Timer(result)
    slot = build_rootfs(
        board, version, output, cache, keyring, sources=sources, extra_overlay=extra_overlay, result=result
    )
    if board.vendor_archive is not None:
        with timer.stage("vendor"):
            archive = board.vendor_archive
            if not probe_archive(archive.url, archive.suite):
                raise ArchiveUnreachable("vendor", archive.url, list(archive.packages))
            raise BuildError(
                "vendor",
                f"installing {', '.join(archive.packages)} from {archive.url} was never "
                "run on a machine that reaches it; see docs/images.md, 'Raspberry Pi'",
            )
    with timer.stage("disk"):
        image = assemble(board, Path(result.rootfs), slot, output / image_name(board, version), provisioning)
        (output / f"os_list-{board.name}.json").write_text(
            json.dumps(os_list(board, version, image, url_base), indent=2) + "\n"
        )
    stat = image.stat()
    result.image, result.image_bytes, result.allocated_bytes = str(image), stat.st_size, stat.st_blocks * 512
    (output / f"build-{board.name}-{version}.json").write_text(json.dumps(asdict(result), indent=2) + "\n")
    return result
