"""The printgate wheel the image installs carries every file its packages need at run time."""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

from images.builder.wheels import REPO, printgate_wheel, wheel_packages


def test_every_tracked_file_of_the_packages_is_in_the_wheel(tmp_path: Path) -> None:
    packages = wheel_packages()
    assert {"admin_cli", "images", "terminal_app", "printgate"} <= {path.name for path in packages}
    tracked = subprocess.run(
        ["git", "-C", str(REPO), "ls-files", *(str(path.relative_to(REPO)) for path in packages)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    wheel = printgate_wheel(tmp_path)
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    # proto/printgate/... is the package printgate/... in the wheel; the .proto sources are not
    # needed at run time (the generated stubs are)
    missing = [
        path for path in tracked if path.removeprefix("proto/") not in names and not path.endswith(".proto")
    ]
    assert tracked and not missing, f"not in {wheel.name}: {missing}"
