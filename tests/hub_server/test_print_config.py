"""The intake bounds of ``[print]`` (issue 19, findings 5 and 7) reach the intake the hub starts,
and none of them can be switched off."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from hub_server.clock import FakeClock
from hub_server.config import load_config
from hub_server.server import start_hub
from tests.hub_server.conftest import FAST_AUTH

BOUNDS = """[print]
ipp_listen = "127.0.0.1:0"
analysis_workers = 3
connections_per_address_max = 7
body_min_bytes_per_s = 2048
body_deadline_s = 600.0
"""


async def test_print_bounds_reach_the_intake(tmp_path: Path) -> None:
    toml = tmp_path / "hub.toml"
    toml.write_text(BOUNDS)
    config = replace(load_config(toml, data_dir=tmp_path / "hub", listen="127.0.0.1:0"), auth=FAST_AUTH)
    running = await start_hub(config, FakeClock())
    try:
        assert running.printing is not None
        intake = running.printing.intake.service
        chosen = intake.config
        assert (
            chosen.analysis_workers,
            chosen.connections_per_address_max,
            chosen.body_min_bytes_per_s,
            chosen.body_deadline_s,
        ) == (3, 7, 2048, 600.0)
        assert intake.analyses.workers == 3
        assert (chosen.transfer_limits.min_bytes_per_s, chosen.transfer_limits.deadline_s) == (2048, 600.0)
    finally:
        await running.stop(0)


def test_the_defaults_are_the_intakes() -> None:
    printing = load_config().printing
    assert (
        printing.analysis_workers,
        printing.connections_per_address_max,
        printing.body_min_bytes_per_s,
        printing.body_deadline_s,
    ) == (1, 32, 1024, 3600.0)


@pytest.mark.parametrize(
    "line",
    [
        "analysis_workers = 0",
        "connections_per_address_max = 0",
        "body_min_bytes_per_s = 0",
        "body_deadline_s = 0",
    ],
)
def test_a_bound_cannot_be_switched_off(tmp_path: Path, line: str) -> None:
    toml = tmp_path / "hub.toml"
    toml.write_text(f"[print]\n{line}\n")
    with pytest.raises(ValueError, match=f"{line.split()[0]} must be > 0"):
        load_config(toml)
