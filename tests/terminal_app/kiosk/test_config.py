"""kiosk.toml, and ``printgate kiosk`` refusing to start without its configuration or its acceptor."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from printgate.v1 import admin_pb2

from printgate_cli.commands import main
from terminal_app.errors import ConfigError
from terminal_app.kiosk.config import load_kiosk_config
from tests.hub_server.conftest import HubClients

CONFIG = """
[hub]
address = "127.0.0.1:50051"
state_dir = "kiosk-identity"
renew_check_s = 600

[kiosk]
journal = "data/kiosk.db"
idle_timeout_s = 30
require_printer = false
accept_values_minor = [100, 200]

[printer]
url = "tcp://127.0.0.1:9100"

[[acceptor]]
name = "coin"
driver = "cctalk"
url = "/dev/ttyUSB0"
address = 2
kind = "coin"
checksum = "crc16"
"""


def test_a_kiosk_toml_is_read_with_its_defaults(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_text(CONFIG)
    config = load_kiosk_config(path)
    assert (config.hub_address, config.identity_dir, config.renew_check_s) == (
        "127.0.0.1:50051",
        tmp_path / "kiosk-identity",
        600.0,
    )
    assert config.journal == tmp_path / "data" / "kiosk.db"
    assert (config.settings.idle_timeout_s, config.settings.recharge_timeout_s) == (30, 90.0)
    assert (config.settings.require_printer, config.settings.keep_accepting_offline) == (False, False)
    assert config.settings.accept_values_minor == (100, 200)
    [acceptor] = config.acceptors
    assert (acceptor.name, acceptor.driver, acceptor.url, acceptor.address) == (
        "coin",
        "cctalk",
        "/dev/ttyUSB0",
        2,
    )
    assert acceptor.options == {"kind": "coin", "checksum": "crc16"}
    assert config.printer_url == "tcp://127.0.0.1:9100"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("[kiosk]\n", "[kiosk]\nidle_timeot_s = 5\n"), "unknown [kiosk] key"),
        (("[hub]\n", '[hub]\nterminal_key = "secret"\n'), "unknown [hub] key"),
        (("idle_timeout_s = 30", "idle_timeout_s = 1"), "at least 5 s"),
        (("[printer]", "[printr]"), "unknown table"),
        (("[hub]", "[hub"), "kiosk.toml"),
    ],
)
def test_a_bad_kiosk_toml_is_refused_clearly(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_text(CONFIG.replace(*change))
    with pytest.raises(ConfigError, match=message.replace("[", r"\[")):
        load_kiosk_config(path)


def test_printgate_kiosk_refuses_to_start_unenrolled_or_with_a_bad_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_text(CONFIG)
    assert main(["kiosk", "--config", str(path), "--control", "none"]) == 1
    assert "this kiosk is not enrolled" in capsys.readouterr().err
    path.write_text('[hub]\nterminal_id = "k1"\n')
    assert main(["kiosk", "--config", str(path)]) == 2
    assert "unknown [hub] key(s) ['terminal_id']" in capsys.readouterr().err


async def test_an_enrolled_kiosk_refuses_to_start_without_its_acceptor(
    hub: HubClients, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kiosk = await hub.create_terminal("k1", kind=admin_pb2.TERMINAL_KIND_KIOSK)
    path = tmp_path / "kiosk.toml"
    text = CONFIG.replace('"kiosk-identity"', f'"{kiosk.state_dir}"')
    path.write_text(text.replace("/dev/ttyUSB0", str(tmp_path / "no-such-line")))
    assert await asyncio.to_thread(main, ["kiosk", "--config", str(path), "--control", "none"]) == 1
    assert "cannot open the acceptors" in capsys.readouterr().err
