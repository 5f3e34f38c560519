"""``printgate-device app``: the provisioned role becomes ``printgate terminal|kiosk`` (exec'd, so
the app is the unit's main process and its sd_notify messages are accepted)."""

from __future__ import annotations

from pathlib import Path

import pytest

from images.guest.appservice import command
from images.guest.layout import Layout

PRINTGATE = Path("/opt/printgate/venv/bin/printgate")


def _provisioned(tmp_path: Path, role: str, config: str = "") -> Layout:
    layout = Layout(tmp_path)
    layout.state.mkdir(parents=True)
    (layout.state / "role").write_text(f"{role}\n")
    layout.role_config(role).write_text(config)
    return layout


def test_a_terminal_runs_printgate_terminal_with_its_rendered_config(tmp_path: Path) -> None:
    layout = _provisioned(tmp_path, "terminal", '[hub]\nterminal_id = "t1"\n')
    assert command(layout, PRINTGATE) == [
        str(PRINTGATE),
        "terminal",
        "--config",
        str(tmp_path / "data" / "printgate" / "terminal.toml"),
    ]


@pytest.mark.parametrize(("display", "control"), [("[display]\nrotation = 90\n", "ui"), ("", "none")])
def test_a_kiosk_shows_its_window_only_with_a_display(tmp_path: Path, display: str, control: str) -> None:
    layout = _provisioned(tmp_path, "kiosk", '[hub]\nterminal_id = "k1"\n' + display)
    config = str(tmp_path / "data" / "printgate" / "kiosk.toml")
    assert command(layout, PRINTGATE) == [str(PRINTGATE), "kiosk", "--config", config, "--control", control]


def test_an_unprovisioned_or_unknown_role_is_refused_with_the_reason(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not provisioned"):
        command(Layout(tmp_path), PRINTGATE)
    with pytest.raises(ValueError, match="unknown role 'printer'"):
        command(_provisioned(tmp_path, "printer"), PRINTGATE)
