"""Kiosk configuration: one TOML file (``kiosk.toml``); unknown tables and keys are refused.

kiosk.toml::

    [hub]                            # optional: who the kiosk is comes from its enrollment
    address = ""                     # host:port overriding the device port its enrollment named
    state_dir = "identity"           # its key and certificate (`printgate kiosk enroll --token ...`)
    deadline_s = 5.0
    renew_check_s = 3600.0           # how often it checks whether its certificate is due for renewal

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
_HUB_KEYS = {"address", "state_dir", "deadline_s", "renew_check_s"}


@dataclass(frozen=True)
class KioskConfig:
    """A parsed kiosk.toml."""

    identity_dir: Path
    journal: Path
    settings: KioskSettings
    acceptors: list[AcceptorConfig]
    printer_url: str = ""
    printer_timeout_s: float = 2.0
    hub_address: str = ""  # "" = the device port its enrollment named
    deadline_s: float = 5.0
    renew_check_s: float = 3600.0
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
    if set(hub) - _HUB_KEYS:
        raise ConfigError(f"{path}: unknown [hub] key(s) {sorted(set(hub) - _HUB_KEYS)}")
    if set(kiosk) - _SETTINGS_FIELDS:
        raise ConfigError(f"{path}: unknown [kiosk] key(s) {sorted(set(kiosk) - _SETTINGS_FIELDS)}")
    if "accept_values_minor" in kiosk:
        kiosk["accept_values_minor"] = tuple(kiosk["accept_values_minor"])
    try:
        return KioskConfig(
            identity_dir=path.parent / hub.get("state_dir", "identity"),
            journal=path.parent / journal,
            settings=KioskSettings(**kiosk),
            acceptors=[_acceptor(table) for table in data.get("acceptor", [])],
            printer_url=printer.get("url", ""),
            printer_timeout_s=float(printer.get("timeout_s", 2.0)),
            hub_address=str(hub.get("address", "")),
            deadline_s=float(hub.get("deadline_s", 5.0)),
            renew_check_s=float(hub.get("renew_check_s", 3600.0)),
            reader=dict(data.get("reader", {})),
            display=dict(data.get("display", {})),
        )
    except KeyError as exc:
        raise ConfigError(f"{path}: missing key {exc}") from exc
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc


def _acceptor(table: dict[str, Any]) -> AcceptorConfig:
    options = {k: v for k, v in table.items() if k not in ("name", "driver", "url", "address")}
    return AcceptorConfig(table["name"], table["driver"], table["url"], table.get("address"), options)
