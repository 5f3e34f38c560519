"""The README's main job: ``printgate demo`` runs a whole simulated site and its scripted walk."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_headless_demo_walk_ends_with_exact_balances(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "printgate_cli", "demo", "--headless", "--data-dir", str(tmp_path / "d")],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=ROOT,
    )
    lines = result.stdout.splitlines()
    assert result.returncode == 0, result.stdout + result.stderr
    # 5.00 credit - 0.20 (2-page job released as mono) - 0.30 (3 copies) - 0.20 (2 copies offline)
    assert "[ 1] alice taps her card: Alice Adams, balance 5.00, panel unlocked" in lines
    assert "[ 4] released thesis-draft.pdf as mono: 2 pages printed, charged 0.20" in lines
    assert "[ 6] the terminal counts 3 pages, 0.30" in lines
    assert "[ 7] alice logs out; balance now 4.50" in lines
    assert "[11] alice logs out; 1 usage report waits in the terminal's journal" in lines
    assert lines[-5:] == [
        "[13] the journal replayed once; final balances:",
        "[14]   user:alice: 4.30",
        "[15]   user:bob: 0.80",
        "[16]   department:Physics: 0.00",
        "[17] ledger check: ok",
    ]
    assert "Traceback" not in result.stderr
    # the terminal enrolled with a one-time token (spent and removed) and keeps its key to itself
    site = tmp_path / "d"
    assert not (site / "enrollment-token").exists()
    assert (site / "terminal" / "identity").stat().st_mode & 0o777 == 0o700
    hub_config = (site / "hub.toml").read_text()
    assert "dev_plaintext" not in hub_config and "admin_listen" in hub_config
    # the console and portal run with the hub; their password is made for the run, never a default
    password_file = tmp_path / "d" / "web-password"
    assert password_file.stat().st_mode & 0o777 == 0o600
    assert len(password_file.read_text().strip()) >= 16
    assert any(
        line.startswith("printgate demo: web console https://127.0.0.1:") and str(password_file) in line
        for line in lines
    )
