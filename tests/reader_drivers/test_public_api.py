"""The public surface of reader_drivers is deliberate: adding or removing a name fails here."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import reader_drivers

READER_DRIVERS_API = {
    "open_reader", "DRIVERS", "CardReader", "CardRead", "ReaderHealth", "HealthState", "Technology",
    "Backoff", "ConversionChain", "SerialReader", "SerialProfile", "SERIAL_PROFILES", "WedgeReader",
    "WedgeDecoder", "MagstripeCard", "parse_magstripe", "PcscReader", "NfcReader", "ReaderError",
    "ReaderConfigError", "ReaderUnavailable", "ConversionError", "ChainSyntaxError", "WiegandParityError",
    "CardCommandError",
}  # fmt: skip
# card_numbers (the conversion chains the readers share with the hub) is the one package of ours
# reader_drivers may load; it imports nothing itself (tests/test_layers.py)
OURS = ("reader_drivers", "hw_sim", "terminal_app", "hub_server", "cash_devices", "mfp_adapters", "tests")


def test_reader_drivers_exports() -> None:
    assert set(reader_drivers.__all__) == READER_DRIVERS_API
    assert all(hasattr(reader_drivers, name) for name in reader_drivers.__all__)


def test_package_imports_nothing_else_of_ours() -> None:
    others = tuple(root for root in OURS if root != "reader_drivers")
    loaded = f"sorted(m for m in sys.modules if m.split('.')[0] in {others!r})"
    probe = f"import sys, reader_drivers; print({loaded})"
    repo = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=repo
    )
    assert result.stdout.strip() == "[]"
