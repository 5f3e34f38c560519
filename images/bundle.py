"""RAUC update bundles: a root slot image, signed, in the verity format.

``make_bundle`` writes the manifest (``compatible`` of the board, ``version``, ``format=verity``,
the slot image) and calls ``rauc bundle``; ``bundle_info`` runs ``rauc info`` against a keyring,
which is also what the device does before it installs anything.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from images.boards import Board
from images.builder.system import ROOTFS_IMAGE, rauc_system_conf
from images.errors import BundleError
from images.guest.release import version_key

__all__ = ["bundle_info", "make_bundle", "manifest"]


def manifest(board: Board, version: str, build: str = "") -> str:
    """The bundle's ``manifest.raucm``."""
    version_key(version)  # dotted numbers only: devices compare them
    return (
        f"[update]\ncompatible={board.compatible}\nversion={version}\nbuild={build}\n"
        f"description=printgate {board.name} {version}\n\n"
        "[bundle]\nformat=verity\n\n"
        f"[image.rootfs]\nfilename={ROOTFS_IMAGE}\n"
    )


def _conf(board: Board, keyring: Path, scratch: Path) -> Path:
    conf = scratch / "system.conf"
    conf.write_text(rauc_system_conf(board).replace("path=/etc/rauc/keyring.pem", f"path={keyring}"))
    return conf


def _rauc(command: list[str]) -> str:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BundleError(
            (done.stderr or done.stdout).strip().splitlines()[-1]
            if (done.stderr or done.stdout)
            else f"rauc exited with {done.returncode}"
        )
    return done.stdout


def make_bundle(
    board: Board, rootfs: Path, version: str, cert: Path, key: Path, keyring: Path, out: Path, build: str = ""
) -> Path:
    """Sign ``rootfs`` (a root slot squashfs) into the bundle ``out``."""
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        scratch = Path(tmp)
        content = scratch / "content"
        content.mkdir()
        (content / "manifest.raucm").write_text(manifest(board, version, build))
        try:
            os.link(rootfs, content / ROOTFS_IMAGE)
        except OSError:
            shutil.copyfile(rootfs, content / ROOTFS_IMAGE)
        out.unlink(missing_ok=True)
        _rauc(
            [
                "rauc",
                f"--conf={_conf(board, keyring, scratch)}",
                "bundle",
                f"--cert={cert}",
                f"--key={key}",
                f"--keyring={keyring}",
                str(content),
                str(out),
            ]
        )
    return out


def bundle_info(board: Board, bundle: Path, keyring: Path) -> str:
    """``rauc info`` of ``bundle`` checked against ``keyring`` (:class:`BundleError` if it fails)."""
    with tempfile.TemporaryDirectory() as tmp:
        return _rauc(
            [
                "rauc",
                f"--conf={_conf(board, keyring, Path(tmp))}",
                "info",
                f"--keyring={keyring}",
                str(bundle),
            ]
        )
