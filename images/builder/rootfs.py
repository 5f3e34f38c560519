"""Root file systems from Debian's archive with mmdebstrap: the board's base, and a builder.

``base`` is exactly the board's Debian packages (kernel, systemd, NetworkManager, RAUC ...) with
documentation stripped and the initramfs limited to the modules the board needs to find its root
slot (``MODULES=list``: small, and fast to generate in an emulated arm64 chroot). ``builder`` is
the same Debian release with a compiler, used only to turn source distributions into wheels for
the board's architecture; it never ends up in an image.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

from images.boards import Board
from images.builder.cache import StageCache
from images.builder.run import run

__all__ = ["BUILDER_PACKAGES", "DEBIAN_MIRROR", "Sources", "base_rootfs", "builder_rootfs"]

DEBIAN_MIRROR = "http://deb.debian.org/debian"
DEBIAN_SECURITY = "http://deb.debian.org/debian-security"
# a compiler and the headers of the source-only dependencies: pyscard (PC/SC, swig), python-ldap
# (OpenLDAP, SASL), evdev (the kernel headers build-essential brings)
BUILDER_PACKAGES = (
    "python3-dev",
    "python3-venv",
    "build-essential",
    "libpcsclite-dev",
    "swig",
    "libldap2-dev",
    "libsasl2-dev",
)
ROOTFS_TAR = "rootfs.tar"

# documentation and translations nobody reads on a terminal; copyright files stay
_DPKG_OPTIONS = (
    "path-exclude=/usr/share/doc/*",
    "path-include=/usr/share/doc/*/copyright",
    "path-exclude=/usr/share/man/*",
    "path-exclude=/usr/share/info/*",
    "path-exclude=/usr/share/locale/*",
    "path-include=/usr/share/locale/locale.alias",
)


@dataclass(frozen=True)
class Sources:
    """The apt archives a root file system is built from."""

    mirror: str = DEBIAN_MIRROR
    security: str = DEBIAN_SECURITY

    def lines(self, suite: str) -> list[str]:
        """One-line apt sources for ``suite`` (main, updates, security)."""
        return [
            f"deb {self.mirror} {suite} main",
            f"deb {self.mirror} {suite}-updates main",
            f"deb {self.security} {suite}-security main",
        ]


def _initramfs_hook(modules: tuple[str, ...]) -> str:
    conf = '"$1/etc/initramfs-tools"'
    return (
        f"mkdir -p {conf}/conf.d && echo MODULES=list > {conf}/conf.d/printgate.conf"
        f" && printf '%s\\n' {' '.join(shlex.quote(m) for m in modules)} >> {conf}/modules"
    )


# no ssh host keys in an image (each device makes its own), no apt caches
_CLEAN_HOOK = (
    'rm -f "$1"/boot/*.dpkg-bak "$1"/etc/ssh/ssh_host_* '
    '&& rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*'
)


def _mmdebstrap(
    step: str, arch: str, suite: str, packages: tuple[str, ...], hooks: list[str], sources: Sources, out: Path
) -> None:
    command = [
        "mmdebstrap",
        "--mode=root",
        "--variant=apt",
        f"--architectures={arch}",
        f"--include={','.join(packages)}",
        *(f"--dpkgopt={option}" for option in _DPKG_OPTIONS),
        *hooks,
        suite,
        str(out / ROOTFS_TAR),
        *sources.lines(suite),
    ]
    run(step, command)


def base_rootfs(cache: StageCache, board: Board, sources: Sources) -> Path:
    """The board's Debian root file system as a tarball (``<result>/rootfs.tar``), cached."""
    hooks = []
    if board.initramfs_modules:
        hooks.append(f"--essential-hook={_initramfs_hook(board.initramfs_modules)}")
    hooks.append(f"--customize-hook={_CLEAN_HOOK}")
    inputs = {
        "arch": board.arch,
        "suite": board.suite,
        "packages": board.packages,
        "hooks": hooks,
        "dpkg": _DPKG_OPTIONS,
        "sources": sources.lines(board.suite),
    }
    key = StageCache.key(inputs)
    return (
        cache.build(
            f"base-{board.name}",
            key,
            lambda out: _mmdebstrap(
                "base rootfs", board.arch, board.suite, board.packages, hooks, sources, out
            ),
        )
        / ROOTFS_TAR
    )


def builder_rootfs(cache: StageCache, arch: str, suite: str, sources: Sources) -> Path:
    """A root file system with a compiler for ``arch`` (``<result>/rootfs.tar``), cached."""
    hooks = [f"--customize-hook={_CLEAN_HOOK}"]
    key = StageCache.key(
        {
            "arch": arch,
            "suite": suite,
            "packages": BUILDER_PACKAGES,
            "sources": sources.lines(suite),
            "dpkg": _DPKG_OPTIONS,
        }
    )
    return (
        cache.build(
            f"builder-{arch}",
            key,
            lambda out: _mmdebstrap("builder rootfs", arch, suite, BUILDER_PACKAGES, hooks, sources, out),
        )
        / ROOTFS_TAR
    )
