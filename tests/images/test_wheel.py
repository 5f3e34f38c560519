"""The printgate wheel the image installs carries every file its packages need at run time."""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

from images.builder.wheels import REPO, printgate_wheel

PACKAGES = (
    "hub_server",
    "terminal_app",
    "reader_drivers",
    "cash_devices",
    "mfp_adapters",
    "hw_sim",
    "images",
    "printgate_cli",
)


def test_every_tracked_file_of_the_packages_is_in_the_wheel(tmp_path: Path) -> None:
    tracked = subprocess.run(
        ["git", "-C", str(REPO), "ls-files", *PACKAGES], capture_output=True, text=True, check=True
    ).stdout.split()
    wheel = printgate_wheel(tmp_path)
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    missing = [path for path in tracked if path not in names]
    assert not missing, f"not in {wheel.name}: {missing}"
