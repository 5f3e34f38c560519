"""Runs the Kivy screen tests (kivy_screens.py) in a pytest subprocess on a private Xvfb.

A Kivy process that cannot open a window exits with rc 102 and no summary; in a subprocess that
is a loud failure here instead of a silently truncated run. Set ``PRINTGATE_UPDATE_SCREENS=1``
to copy the screenshots the run saved into docs/screens/.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.terminal_app.conftest import SCREENS_DIR_ENV

ROOT = Path(__file__).resolve().parents[4]
CASES = Path(__file__).with_name("kivy_screens.py")
DOCS_SCREENS = ROOT / "docs" / "screens"
KIVY_EXIT_NO_WINDOW = 102

# Every screen, both languages, at 800x480; the larger sizes and the site's look (accent and logo,
# high contrast with large text) where the layout sweep checks them.
EXPECTED_SHOTS = {
    f"{name}_{language}_800x480.png"
    for name in (
        "idle",
        "pin",
        "second_factor",
        "unknown_card",
        "password",
        "home",
        "jobs",
        "releasing",
        "copying",
        "select_project",
        "home_jobs",
        "favourites",
        "pass_on",
        "pass_on_from_hub",
        "idle_warning",
        "msg_printer_jammed",
        "msg_not_enough_credit",
        "msg_offline",
        "identifying",
        "logging_out",
        "out_of_order",
    )
    for language in ("en", "de")
} | {
    "jobs_en_1024x600.png",
    "jobs_en_1280x800.png",
    "jobs_paper_low_en_800x480.png",
    "home_site_look_en_800x480.png",
    "home_jobs_high_contrast_de_1024x600.png",
    "jobs_high_contrast_de_1280x800.png",
}


def test_kivy_screens_under_xvfb(xvfb_display: str, tmp_path: Path) -> None:
    shots = tmp_path / "screens"
    shots.mkdir()
    kivy_home = tmp_path / "kivy-home"
    kivy_home.mkdir()
    env = {
        **os.environ,
        "DISPLAY": xvfb_display,
        "SDL_VIDEODRIVER": "x11",
        "KIVY_NO_ARGS": "1",
        "KIVY_NO_CONSOLELOG": "1",
        "KIVY_NO_FILELOG": "1",
        "KIVY_HOME": str(kivy_home),
        "KIVY_METRICS_DENSITY": "1",
        SCREENS_DIR_ENV: str(shots),
    }
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--timeout=120", str(CASES)]
    run = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    output = run.stdout[-6000:] + run.stderr[-3000:]
    assert run.returncode != KIVY_EXIT_NO_WINDOW, f"Kivy could not open a window on {xvfb_display}:\n{output}"
    assert run.returncode == 0, output
    summary = re.search(r"(\d+) passed", run.stdout)
    assert summary and int(summary.group(1)) >= 14 and "failed" not in run.stdout.splitlines()[-1], output
    saved = {path.name for path in shots.glob("*.png")}
    assert saved >= EXPECTED_SHOTS, f"missing screenshots: {sorted(EXPECTED_SHOTS - saved)}"
    assert all(path.stat().st_size < 150_000 for path in shots.glob("*.png"))
    if os.environ.get("PRINTGATE_UPDATE_SCREENS") == "1":
        DOCS_SCREENS.mkdir(parents=True, exist_ok=True)
        for name in sorted(saved):
            shutil.copyfile(shots / name, DOCS_SCREENS / name)
