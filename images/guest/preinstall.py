"""RAUC's pre-install handler: a bundle older than the running slot is refused, with its reason.

RAUC itself refuses a bundle signed by a key outside the keyring (``[keyring]``) and one made
for another board (``compatible``). Downgrades are this handler's: RAUC runs it before touching
any slot, with the bundle's manifest in the environment; a non-zero exit aborts the install
and the ``<< error`` line is shown by ``rauc install``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from images.guest.layout import Layout
from images.guest.release import Release, version_key

__all__ = ["check", "main"]


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
    reason = check(os.environ.get("RAUC_MF_VERSION", ""), running)
    if reason:
        print(f"<< error {reason}: refused", flush=True)
        return 1
    print(f"bundle version {os.environ.get('RAUC_MF_VERSION')} accepted (running {running.version})")
    return 0
