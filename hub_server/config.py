"""Hub configuration: one TOML file (``hub.toml``), every key optional, defaults documented here.

Example::

    [hub]
    listen = "0.0.0.0:50051"      # gRPC address for terminals, kiosks and admins
    workers = 1                   # processes serving the port (SO_REUSEPORT); use the cores you have
    data_dir = "/var/lib/printgate"
    timezone = "Europe/Berlin"    # quota periods (day/week/month) start at local midnight
    currency = "EUR"              # ISO 4217 code of every amount; kiosks must send cash in it
    database = ""                 # empty: SQLite in data_dir; or postgresql://user@host:5432/printgate

    [auth]
    session_ttl_s = 900           # a session token is valid this long after login
    usage_report_grace_s = 604800 # usage made in a session may be reported this long after it ends
    max_failed_attempts = 5       # failures before an identity is locked
    lockout_s = 900               # how long it stays locked (an admin can unlock sooner)
    pin_login = true              # a PIN alone may log in (PINs are then unique)
    min_pin_digits = 4
    argon2_time_cost = 3
    argon2_memory_kib = 65536
    voucher_max_failed_attempts = 5  # unknown voucher codes before a user or kiosk is locked
    voucher_lockout_s = 900          # how long voucher redemption stays locked

Command-line options (``--listen``, ``--data-dir``) override the file.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class AuthConfig:
    """Authentication and lockout policy."""

    session_ttl_s: int = 900
    usage_report_grace_s: int = 7 * 24 * 3600
    max_failed_attempts: int = 5
    lockout_s: int = 900
    pin_login: bool = True
    min_pin_digits: int = 4
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    voucher_max_failed_attempts: int = 5
    voucher_lockout_s: int = 900


@dataclass(frozen=True)
class HubConfig:
    """Everything a hub process needs to start."""

    listen: str = "127.0.0.1:50051"
    workers: int = 1
    data_dir: Path = Path("data/hub")
    timezone: str = "UTC"
    currency: str = "EUR"
    database: str = ""
    auth: AuthConfig = field(default_factory=AuthConfig)

    @property
    def database_url(self) -> str:
        """``database`` when set, else the embedded default: SQLite in the data directory."""
        return self.database or f"sqlite:///{self.data_dir / 'hub.db'}"


def _section(cls: type, values: dict[str, Any], name: str) -> dict[str, Any]:
    known = {f.name for f in fields(cls)}
    unknown = set(values) - known
    if unknown:
        raise ValueError(f"unknown key(s) in [{name}]: {', '.join(sorted(unknown))}")
    return values


def load_config(path: Path | None = None, **overrides: Any) -> HubConfig:
    """Read ``path`` (if given), then apply non-None ``overrides`` (listen, data_dir)."""
    document: dict[str, Any] = tomllib.loads(path.read_text()) if path else {}
    unknown_sections = set(document) - {"hub", "auth"}
    if unknown_sections:
        raise ValueError(f"unknown section(s): {', '.join(sorted(unknown_sections))}")
    hub = dict(_section(HubConfig, document.get("hub", {}), "hub"))
    auth = AuthConfig(**_section(AuthConfig, document.get("auth", {}), "auth"))
    if "data_dir" in hub:
        hub["data_dir"] = Path(hub["data_dir"])
    config = HubConfig(**hub, auth=auth)
    chosen = {key: value for key, value in overrides.items() if value is not None}
    if "data_dir" in chosen:
        chosen["data_dir"] = Path(chosen["data_dir"])
    return replace(config, **chosen)
