"""The simulators' public surface is deliberate, and each simulator package imports nothing else of ours."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import hw_sim.cash
import hw_sim.mfp
import hw_sim.readers

PUBLIC = {
    hw_sim.readers: {
        "SerialReaderSim", "SERIAL_PROTOCOLS", "WedgeSim", "LAYOUTS", "keystrokes", "VirtualCard",
        "MIFARE_1K_ATR", "NfcTagSim", "SimEvent",
    },
    hw_sim.mfp: {"FihCopier", "HistoryEntry", "JobRecord", "MfpSimServer", "SimulatedMfp"},
}  # fmt: skip
OURS = (
    "reader_drivers",
    "terminal_app",
    "hub_server",
    "cash_devices",
    "mfp_adapters",
    "printgate_cli",
    "tests",
)


@pytest.mark.parametrize("package", list(PUBLIC), ids=lambda package: package.__name__)
def test_exports(package) -> None:
    assert set(package.__all__) == PUBLIC[package]
    assert all(hasattr(package, name) for name in package.__all__)


def test_cash_simulators_export_what_they_define() -> None:
    assert all(hasattr(hw_sim.cash, name) for name in hw_sim.cash.__all__)


@pytest.mark.parametrize("package", ["hw_sim.readers", "hw_sim.cash", "hw_sim.mfp", "hw_sim.cli"])
def test_a_simulator_imports_nothing_else_of_ours(package: str) -> None:
    loaded = f"sorted(m for m in sys.modules if m.split('.')[0] in {OURS!r})"
    probe = f"import sys, {package}; print({loaded})"
    repo = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=repo
    )
    assert result.stdout.strip() == "[]"
