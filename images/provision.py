"""``printgate image provision IMAGE --config printgate.toml``: prepare cards in batches.

The file is checked first (a bad file is refused with every problem, and nothing is written),
then copied onto the boot partition of the image file or flashed card, found through its GPT
(``sfdisk --json``) and written with mtools, so no mount and no loop device is needed.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from images.builder.disk import mcopy
from images.errors import ImageError, ProvisioningError
from images.guest.layout import Layout
from images.guest.render import check_role_document
from images.provisioning import FILE_NAME, parse_text

__all__ = ["boot_partition_offset", "provision_image"]


def boot_partition_offset(image: Path) -> int:
    """Byte offset of the partition named ``boot`` in ``image``'s GPT."""
    done = subprocess.run(["sfdisk", "--json", str(image)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise ImageError(f"{image}: no partition table ({done.stderr.strip()})")
    table = json.loads(done.stdout)["partitiontable"]
    sector = int(table.get("sectorsize", 512))
    for part in table.get("partitions", []):
        if part.get("name") == "boot":
            return int(part["start"]) * sector
    raise ImageError(f"{image}: no partition named 'boot' (not a printgate image?)")


def provision_image(image: Path, text: str) -> None:
    """Check ``text`` and write it as ``printgate.toml`` to ``image``'s boot partition."""
    problem = check_role_document(parse_text(text), Layout())
    if problem:
        raise ProvisioningError([problem])
    mcopy(image, {FILE_NAME: text}, at=f"@@{boot_partition_offset(image)}")
