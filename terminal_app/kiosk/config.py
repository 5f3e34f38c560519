"""Kiosk configuration: one TOML file (``kiosk.toml``); unknown tables and keys are refused.

kiosk.toml::

    [hub]
    address = "hub.example.org:50051"
    terminal_id = "kiosk-library-1"
    terminal_key = "…"               # or terminal_key_file = "/etc/printgate/kiosk.key"
    deadline_s = 5.0

    [kiosk]
    journal = "/var/lib/printgate/kiosk.db"
    idle_timeout_s = 60              # and every other KioskSettings field

    [printer]                        # optional: no receipts without it
    url = "tcp://10.0.0.9:9100"
    timeout_s = 2.0

    [reader]                         # optional: cards also arrive as intents
    driver = "rdm6300"               # as the terminal's [reader]
    url = "/dev/ttyUSB1"
    convert = ""

    [display]                        # for --control ui, as the terminal's [display]
    width_px = 800
    height_px = 480

    [[acceptor]]
    name = "coin"
    driver = "cctalk"
    url = "/dev/ttyUSB0"
    address = 2
    kind = "coin"                    # other keys go to cash_devices.open_acceptor
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from terminal_app.errors import ConfigError
from terminal_app.kiosk.settings import KioskSettings
from terminal_app.kiosk.wiring import AcceptorConfig

__all__ = ["KioskConfig", "load_kiosk_config"]

_SETTINGS_FIELDS = {f.name for f in fields(KioskSettings)}


@dataclass(frozen=True)
class KioskConfig:
    """A parsed kiosk.toml."""

    hub_address: str
    terminal_id: str
    terminal_key: str
    journal: Path
    settings: KioskSettings
    acceptors: list[AcceptorConfig]
    printer_url: str = ""
    printer_timeout_s: float = 2.0
    deadline_s: float = 5.0
    reader: dict[str, Any] = dataclasses.field(default_factory=dict)
    display: dict[str, Any] = dataclasses.field(default_factory=dict)


def load_kiosk_config(path: Path) -> KioskConfig:
    """Read kiosk.toml; unknown keys and missing required ones are :class:`ConfigError`."""
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    hub, kiosk, printer = data.get("hub", {}), dict(data.get("kiosk", {})), data.get("printer", {})
    unknown = set(data) - {"hub", "kiosk", "printer", "acceptor", "reader", "display"}
    if unknown:
        raise ConfigError(f"{path}: unknown table(s) {sorted(unknown)}")
    journal = kiosk.pop("journal", "kiosk.db")
    if set(kiosk) - _SETTINGS_FIELDS:
        raise ConfigError(f"{path}: unknown [kiosk] key(s) {sorted(set(kiosk) - _SETTINGS_FIELDS)}")
    if "accept_values_minor" in kiosk:
        kiosk["accept_values_minor"] = tuple(kiosk["accept_values_minor"])
    try:
        return KioskConfig(
            hub_address=hub["address"],
            terminal_id=hub["terminal_id"],
            terminal_key=_terminal_key(hub),
            journal=path.parent / journal,
            settings=KioskSettings(**kiosk),
            acceptors=[_acceptor(table) for table in data.get("acceptor", [])],
            printer_url=printer.get("url", ""),
            printer_timeout_s=float(printer.get("timeout_s", 2.0)),
            deadline_s=float(hub.get("deadline_s", 5.0)),
            reader=dict(data.get("reader", {})),
            display=dict(data.get("display", {})),
        )
    except KeyError as exc:
        raise ConfigError(f"{path}: missing key {exc}") from exc
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc


def _terminal_key(hub: dict[str, Any]) -> str:
    if "terminal_key_file" in hub:
        return Path(hub["terminal_key_file"]).read_text().strip()
    return str(hub["terminal_key"])


def _acceptor(table: dict[str, Any]) -> AcceptorConfig:
    options = {k: v for k, v in table.items() if k not in ("name", "driver", "url", "address")}
    return AcceptorConfig(table["name"], table["driver"], table["url"], table.get("address"), options)
