"""The rpi-imager ``os_list`` entry written with each build, so technicians can use Raspberry Pi
Imager to write the image (``rpi-imager --repo os_list-<board>.json``).

Fields as rpi-imager's ``doc/json-schema/os-list-schema.json`` requires for an OS entry; the
image is listed uncompressed (``extract_*`` and ``image_download_*`` describe the same file).
No ``init_format``: the device provisions itself from ``printgate.toml``, not from Imager's
customisation.
"""

from __future__ import annotations

import datetime
import hashlib
from pathlib import Path
from typing import Any

from images.boards import Board

__all__ = ["ICON_NAME", "IMAGER_DEVICES", "os_list", "sha256_file"]

ICON_NAME = "printgate.png"
# rpi-imager's device tags (its os_list "devices" filter) per board
IMAGER_DEVICES = {"rpi-arm64": ["pi4-64bit", "pi5-64bit"]}
CHUNK = 4 * 1024 * 1024


def sha256_file(path: Path) -> str:
    """SHA-256 of a file's whole content."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def os_list(board: Board, version: str, image: Path, url_base: str = "") -> dict[str, Any]:
    """The ``os_list`` document for one built image (``url_base``: where image and icon are served)."""
    size = image.stat().st_size
    digest = sha256_file(image)
    entry: dict[str, Any] = {
        "name": f"printgate {version} ({board.name})",
        "description": f"printgate terminal and kiosk image: {board.description}",
        "icon": f"{url_base}{ICON_NAME}",
        "url": f"{url_base}{image.name}",
        "extract_size": size,
        "extract_sha256": digest,
        "image_download_size": size,
        "image_download_sha256": digest,
        "release_date": datetime.date.today().isoformat(),
    }
    if board.name in IMAGER_DEVICES:
        entry["devices"] = IMAGER_DEVICES[board.name]
    return {"os_list": [entry]}
