"""Runs the kiosk's Kivy screen tests (kivy_screens.py beside this file) in a pytest subprocess on Xvfb.

Same machinery as the terminal's ``terminal/ui/test_under_xvfb.py`` (a Kivy process without a window exits
with rc 102 and no summary). Set ``PRINTGATE_UPDATE_SCREENS=1`` to copy the kiosk screenshots the
run saved into docs/screens/.
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
CASE_COUNT = 7

# Every kiosk screen in both languages at 800x480, plus the 1024x600 check.
EXPECTED_SHOTS = {
    f"kiosk_{name}_{language}_800x480.png"
    for name in (
        "pin",
        "identifying",
        "password",
        "second_factor",
        "msg_not_recognised",
        "home",
        "recharging",
        "recharging_pending",
        "recharging_credited",
        "closing",
        "summary",
        "voucher",
        "summary_voucher",
        "msg_voucher_unknown",
        "msg_voucher_locked",
        "msg_printer_not_ready",
        "msg_device_jammed",
        "msg_hub_offline",
        "out_of_order",
        "operator",
        "count",
        "operator_emptied",
    )
    for language in ("en", "de")
} | {
    "kiosk_idle_en_800x480.png",
    "kiosk_idle_de_800x480.png",
    "kiosk_home_en_1024x600.png",
    "kiosk_recharging_en_1024x600.png",
    "kiosk_voucher_en_1024x600.png",
    "kiosk_operator_emptied_en_1024x600.png",
    "kiosk_count_en_1024x600.png",
}


def test_kiosk_screens_under_xvfb(xvfb_display: str, tmp_path: Path) -> None:
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
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--timeout=60", str(CASES)]
    run = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    output = run.stdout[-6000:] + run.stderr[-3000:]
    assert run.returncode != KIVY_EXIT_NO_WINDOW, f"Kivy could not open a window on {xvfb_display}:\n{output}"
    assert run.returncode == 0, output
    summary = re.search(r"(\d+) passed", run.stdout)
    assert summary and int(summary.group(1)) == CASE_COUNT, output
    saved = {path.name for path in shots.glob("*.png")}
    assert saved >= EXPECTED_SHOTS, f"missing screenshots: {sorted(EXPECTED_SHOTS - saved)}"
    assert all(path.stat().st_size < 150_000 for path in shots.glob("*.png"))
    if os.environ.get("PRINTGATE_UPDATE_SCREENS") == "1":
        DOCS_SCREENS.mkdir(parents=True, exist_ok=True)
        for name in sorted(saved):
            shutil.copyfile(shots / name, DOCS_SCREENS / name)
