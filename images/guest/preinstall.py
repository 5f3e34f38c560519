"""RAUC's pre-install handler: a bundle older than the running slot is refused, with its reason.

RAUC itself refuses a bundle signed by a key outside the keyring (``[keyring]``) and one made
for another board (``compatible``). Downgrades are this handler's: RAUC runs it before touching
any slot; a non-zero exit aborts the install and the ``<< error`` line is shown by ``rauc
install``.

The bundle's version is read from its own manifest under ``RAUC_BUNDLE_MOUNT_POINT``: RAUC (1.8)
hands a system handler the mount point and the slots, but not the manifest's fields
(``RAUC_MF_VERSION`` is set for a bundle's own hooks only).
"""

from __future__ import annotations

import configparser
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from images.guest.layout import Layout
from images.guest.release import Release, version_key

__all__ = ["MANIFEST_NAME", "bundle_version", "check", "main"]

MANIFEST_NAME = "manifest.raucm"


def bundle_version(env: Mapping[str, str]) -> str:
    """``[update] version`` of the bundle RAUC mounted ("" when it names none)."""
    mount_point = env.get("RAUC_BUNDLE_MOUNT_POINT", "")
    if not mount_point:
        raise ValueError("RAUC_BUNDLE_MOUNT_POINT is not set: not run by RAUC")
    manifest = configparser.ConfigParser(interpolation=None)
    try:
        with (Path(mount_point) / MANIFEST_NAME).open(encoding="utf-8") as handle:
            manifest.read_file(handle)
    except (OSError, UnicodeDecodeError, configparser.Error) as exc:
        raise ValueError(f"cannot read the bundle's {MANIFEST_NAME}: {exc}") from exc
    return manifest.get("update", "version", fallback="").strip()


def check(bundle_version: str, running: Release) -> str | None:
    """Why a bundle of ``bundle_version`` must not replace ``running`` (None: it may)."""
    try:
        new = version_key(bundle_version)
    except ValueError as exc:
        return f"bundle version: {exc}"
    if new < version_key(running.version):
        return f"bundle version {bundle_version} is older than the running version {running.version}"
    return None


def main(argv: Sequence[str] = ()) -> int:
    """``printgate-device pre-install`` (environment from RAUC)."""
    running = Release.read(Layout())
    try:
        version = bundle_version(os.environ)
    except ValueError as exc:
        reason: str | None = str(exc)
    else:
        reason = check(version, running)
    if reason:
        print(f"<< error {reason}: refused", flush=True)
        return 1
    print(f"bundle version {version} accepted (running {running.version})", flush=True)
    return 0
