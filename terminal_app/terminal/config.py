"""Terminal configuration: one TOML file (``terminal.toml``); every key and default is in docs/terminal.md.

Sections: ``[hub]`` (where its identity is kept, how it calls the hub), ``[reader]`` (driver,
url, conversion chain), ``[mfp]`` (how copies are counted, SNMP address, FIH pins),
``[session]`` (language, timers), ``[prices]`` (copy price hints for the live cost),
``[offline]`` (the offline policy and cache), ``[storage]`` (where the journal lives). Unknown
sections or keys are refused, so a typo cannot silently fall back to a default.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from terminal_app.errors import ConfigError
from terminal_app.terminal.settings import OfflinePolicy, TerminalSettings
from terminal_app.terminal.state import PriceHints

__all__ = [
    "FihPins",
    "HubSettings",
    "MfpSettings",
    "ReaderSettings",
    "TerminalConfig",
    "config_from_document",
    "load_config",
]


@dataclass(frozen=True)
class HubSettings:
    """``[hub]``: where the terminal keeps its identity and how it calls the hub. Who it is and
    where the hub is come from its enrollment (``printgate terminal enroll --token ...``)."""

    address: str = ""  # host:port overriding the device port its enrollment named ("" = that one)
    state_dir: str = ""  # key and certificate ("" = DATA_DIR/identity)
    deadline_s: float = 5.0
    renew_check_s: float = 3600.0  # how often it checks whether its certificate is due for renewal


@dataclass(frozen=True)
class ReaderSettings:
    """``[reader]``: the card reader (see ``reader_drivers.open_reader``)."""

    driver: str = "rdm6300"
    url: str = "/dev/ttyUSB0"
    convert: str = ""
    debounce_s: float = 3.0


@dataclass(frozen=True)
class FihPins:
    """``[mfp.fih]``: the foreign interface harness on GPIO (BCM numbers)."""

    enable_pin: int = 17
    count_mono_pin: int = 27
    count_color_pin: int = 22
    count_large_pin: int | None = 23
    grace_s: float = 3.0
    pin_factory: str = ""  # gpiozero factory name; "" = gpiozero's default, "mock" = simulated pins


@dataclass(frozen=True)
class MfpSettings:
    """``[mfp]``: the copier beside the terminal."""

    counter: str = "fih"  # "fih": count pulses; "snmp": the device's copy counters
    address: str = ""  # SNMP host ("" = no SNMP: no printer status, FIH counting only)
    snmp_port: int = 161
    community: str = "public"
    snmp_timeout_s: float = 2.0
    status_poll_s: float = 10.0  # printer status (jams ...) refresh; 0 = never
    fih: FihPins = field(default_factory=FihPins)

    def __post_init__(self) -> None:
        if self.counter not in ("fih", "snmp"):
            raise ConfigError("[mfp] counter must be 'fih' or 'snmp'")
        if self.counter == "snmp" and not self.address:
            raise ConfigError("[mfp] counter = 'snmp' needs an address")


@dataclass(frozen=True)
class TerminalConfig:
    """Everything ``printgate terminal`` needs."""

    hub: HubSettings
    reader: ReaderSettings
    mfp: MfpSettings
    settings: TerminalSettings
    data_dir: Path
    cache_ttl_s: float
    cache_max_users: int
    base_dir: Path  # the config file's folder: relative paths start here
    # [display], kept raw: the engine side never imports the UI (terminal_app.ui.settings parses it)
    display: dict[str, Any] = field(default_factory=dict)

    @property
    def store_path(self) -> Path:
        """The SQLite file holding the journal and the offline cache."""
        return self.data_dir / "terminal.db"

    @property
    def cache_key_path(self) -> Path:
        """The secret the offline cache's hashes are keyed with."""
        return self.data_dir / "cache.key"

    @property
    def identity_dir(self) -> Path:
        """Where the terminal's key and certificate live (its enrollment's state directory)."""
        return self.base_dir / self.hub.state_dir if self.hub.state_dir else self.data_dir / "identity"


_SESSION_KEYS = {
    "language",
    "idle_timeout_s",
    "idle_warning_s",
    "message_s",
    "relogin_guard_s",
    "tap_to_logout",
    "auto_unlock",
    "copy_poll_s",
    "replay_interval_s",
    "paper_size",
}
_OFFLINE_CACHE_KEYS = {"cache_ttl_s", "cache_max_users"}
_SECTIONS = {"hub", "reader", "mfp", "session", "prices", "offline", "storage", "display"}


def _take(cls: type, values: Any, section: str, allowed: set[str] | None = None) -> dict[str, Any]:
    if not isinstance(values, dict):
        raise ConfigError(f"[{section}] must be a table")
    known = allowed if allowed is not None else {f.name for f in fields(cls)}
    unknown = set(values) - known
    if unknown:
        raise ConfigError(f"unknown key(s) in [{section}]: {', '.join(sorted(unknown))}")
    for item in fields(cls):
        if item.name in values:
            _check_type(item.default, values[item.name], f"[{section}] {item.name}")
    return values


def _check_type(default: Any, value: Any, where: str) -> None:
    """A value must have its default's kind (TOML integers are fine where seconds are floats)."""
    if isinstance(default, bool):
        wanted: tuple[type, ...] = (bool,)
    elif isinstance(default, float):
        wanted = (int, float)
    elif isinstance(default, int | str):
        wanted = (type(default),)
    else:
        return
    if not isinstance(value, wanted) or (isinstance(value, bool) and wanted != (bool,)):
        raise ConfigError(f"{where} must be {' or '.join(kind.__name__ for kind in wanted)}, not {value!r}")


def _build(cls: type, values: dict[str, Any], section: str) -> Any:
    try:
        return cls(**values)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"[{section}]: {exc}") from exc


def load_config(path: Path) -> TerminalConfig:
    """Read and check ``terminal.toml``."""
    try:
        document = tomllib.loads(path.read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    return config_from_document(document, path.resolve().parent)


def config_from_document(document: dict[str, Any], base: Path) -> TerminalConfig:
    """Check a parsed ``terminal.toml``; relative paths start at ``base``."""
    unknown = set(document) - _SECTIONS
    if unknown:
        raise ConfigError(f"unknown section(s): {', '.join(sorted(unknown))}")
    for name, section in document.items():
        if not isinstance(section, dict):
            raise ConfigError(f"[{name}] must be a table")
    mfp = dict(_take(MfpSettings, document.get("mfp", {}), "mfp"))
    mfp["fih"] = _build(FihPins, _take(FihPins, mfp.get("fih", {}), "mfp.fih"), "mfp.fih")
    offline = dict(document.get("offline", {}))
    cache = {key: offline.pop(key) for key in _OFFLINE_CACHE_KEYS if key in offline}
    _check_type(0.0, cache.get("cache_ttl_s", 0.0), "[offline] cache_ttl_s")
    _check_type(0, cache.get("cache_max_users", 0), "[offline] cache_max_users")
    settings = _build(
        TerminalSettings,
        {
            **_take(TerminalSettings, document.get("session", {}), "session", _SESSION_KEYS),
            "prices": _build(PriceHints, _take(PriceHints, document.get("prices", {}), "prices"), "prices"),
            "offline": _build(OfflinePolicy, _take(OfflinePolicy, offline, "offline"), "offline"),
        },
        "session",
    )
    storage = _take(TerminalConfig, document.get("storage", {}), "storage", {"data_dir"})
    _check_type("", storage.get("data_dir", ""), "[storage] data_dir")
    hub = _build(HubSettings, _take(HubSettings, document.get("hub", {}), "hub"), "hub")
    if hub.deadline_s <= 0 or hub.renew_check_s <= 0:
        raise ConfigError("[hub] deadline_s and renew_check_s must be more than 0")
    return TerminalConfig(
        hub=hub,
        reader=_build(ReaderSettings, _take(ReaderSettings, document.get("reader", {}), "reader"), "reader"),
        mfp=_build(MfpSettings, mfp, "mfp"),
        settings=settings,
        data_dir=base / storage.get("data_dir", "data/terminal"),
        cache_ttl_s=float(cache.get("cache_ttl_s", 7 * 24 * 3600)),
        cache_max_users=int(cache.get("cache_max_users", 500)),
        base_dir=base,
        display=_display(document.get("display")),
    )


def _display(table: Any) -> dict[str, Any]:
    if table is None:
        return {}
    if not isinstance(table, dict):
        raise ConfigError("[display] must be a table")
    return dict(table)
