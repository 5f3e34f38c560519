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
    self_link_cards = true        # a card the hub does not know may be linked at a terminal by its
                                  # owner's username + password (TerminalService.LinkCard)
    min_pin_digits = 4
    argon2_time_cost = 3
    argon2_memory_kib = 65536
    voucher_max_failed_attempts = 5  # unknown voucher codes before a user or kiosk is locked
    voucher_lockout_s = 900          # how long voucher redemption stays locked

    [print]                       # pull printing: the hub as a print queue (off unless a listener is set)
    ipp_listen = ""               # HOST:PORT of the IPP printer (e.g. "0.0.0.0:631"); empty: off
    lpd_listen = ""               # HOST:PORT of the LPD listener (e.g. "0.0.0.0:515"); empty: off
    unknown_owner = "refuse"      # a job from a name that is no hub user: "refuse" or "hold" (for claiming)
    expiry_hours = 4.0            # a held job is deleted this long after it arrived
    private = false               # true: a job is shredded the moment it printed (no reprint)
    reprint_hours = 24.0          # printed jobs stay listed (and reprintable) this long, at most expiry_hours
    allow_to_mono = true          # the user may print colour jobs in mono at release
    allow_to_duplex = true        # the user may print simplex jobs in duplex
    allow_fewer_copies = true     # the user may print fewer copies than submitted
    force_duplex_over_pages = 0   # rule: sheets of a job over N pages are printed duplex (0: off)
    mono_over_color_pages = 0     # rule: a job with more than N colour pages prints in mono (0: off)
    refuse_name_pattern = ""      # rule: a job whose name matches this regex (case-insensitive) is refused
    unanalysed_pages = 1          # pages estimated for a job whose pages analysis could not count
    job_mb_max = 512              # largest job accepted, in MiB
    user_mb_max = 2048            # spool bytes per user, in MiB
    snmp_community = "public"     # SNMP v2c community for printer status before release
    snmp_timeout_s = 2.0
    snmp_unreachable = "allow"    # printer status unknown (agent silent): "allow" or "refuse" release

    [print.printer_snmp]          # printer name -> SNMP agent "host[:port]" (no entry: no status check)
    "floor-2" = "10.0.0.12"

Print intake and release need ``workers = 1`` (the spool belongs to one process), and so does the
scan intake (``[scan] listen``).

The tables of the hub's capabilities are kept here as they were read and parsed by the capability
when the hub starts (the kernel imports no capability): ``[directory]`` by
``hub_server.dirsync.load_directory_config`` (docs/directory.md), ``[scan]`` by
``hub_server.scan.load_scan_config`` (docs/scanning.md).

Command-line options (``--listen``, ``--data-dir``, ``--ipp-listen``, ``--lpd-listen``) override the file.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

# Capability tables: read here, parsed (and checked) by the capability's own loader at start.
CAPABILITY_SECTIONS = ("directory", "scan")


@dataclass(frozen=True)
class AuthConfig:
    """Authentication and lockout policy."""

    session_ttl_s: int = 900
    usage_report_grace_s: int = 7 * 24 * 3600
    max_failed_attempts: int = 5
    lockout_s: int = 900
    pin_login: bool = True
    self_link_cards: bool = True
    min_pin_digits: int = 4
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    voucher_max_failed_attempts: int = 5
    voucher_lockout_s: int = 900


@dataclass(frozen=True)
class PrintConfig:
    """Pull printing: intake listeners, spool policy, release overrides and job rules."""

    ipp_listen: str = ""
    lpd_listen: str = ""
    unknown_owner: str = "refuse"
    expiry_hours: float = 4.0
    private: bool = False
    reprint_hours: float = 24.0
    allow_to_mono: bool = True
    allow_to_duplex: bool = True
    allow_fewer_copies: bool = True
    force_duplex_over_pages: int = 0
    mono_over_color_pages: int = 0
    refuse_name_pattern: str = ""
    unanalysed_pages: int = 1
    job_mb_max: int = 512
    user_mb_max: int = 2048
    snmp_community: str = "public"
    snmp_timeout_s: float = 2.0
    snmp_unreachable: str = "allow"
    printer_snmp: dict[str, str] = field(default_factory=dict)

    @property
    def enabled(self) -> bool:
        """True when at least one intake listener is configured."""
        return bool(self.ipp_listen or self.lpd_listen)

    def validate(self) -> None:
        """Refuse values with no meaning."""
        if self.unknown_owner not in ("refuse", "hold"):
            raise ValueError('[print] unknown_owner must be "refuse" or "hold"')
        if self.snmp_unreachable not in ("allow", "refuse"):
            raise ValueError('[print] snmp_unreachable must be "allow" or "refuse"')
        if self.expiry_hours <= 0 or self.reprint_hours < 0 or self.unanalysed_pages < 0:
            raise ValueError("[print] expiry_hours must be > 0, reprint_hours and unanalysed_pages >= 0")
        if self.refuse_name_pattern:
            re.compile(self.refuse_name_pattern)


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
    printing: PrintConfig = field(default_factory=PrintConfig)
    # the [directory] table (directory sync, docs/directory.md), parsed by the dirsync capability
    directory: dict[str, Any] = field(default_factory=dict)
    # the [scan] table (scan intake and e-mail printing, docs/scanning.md), parsed by the scan capability
    scan: dict[str, Any] = field(default_factory=dict)

    @property
    def scan_enabled(self) -> bool:
        """True when the scan intake's SMTP receiver is configured (``[scan] listen``)."""
        return bool(self.scan.get("listen"))

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


PRINT_OVERRIDES = ("ipp_listen", "lpd_listen")


def load_config(path: Path | None = None, **overrides: Any) -> HubConfig:
    """Read ``path`` (if given), then apply non-None ``overrides`` (listen, data_dir, workers,
    ipp_listen, lpd_listen)."""
    document: dict[str, Any] = tomllib.loads(path.read_text()) if path else {}
    unknown_sections = set(document) - {"hub", "auth", "print", *CAPABILITY_SECTIONS}
    if unknown_sections:
        raise ValueError(f"unknown section(s): {', '.join(sorted(unknown_sections))}")
    hub = dict(_section(HubConfig, document.get("hub", {}), "hub"))
    auth = AuthConfig(**_section(AuthConfig, document.get("auth", {}), "auth"))
    printing = dict(_section(PrintConfig, document.get("print", {}), "print"))
    if "data_dir" in hub:
        hub["data_dir"] = Path(hub["data_dir"])
    chosen = {key: value for key, value in overrides.items() if value is not None}
    printing.update({key: chosen.pop(key) for key in PRINT_OVERRIDES if key in chosen})
    print_config = PrintConfig(**printing)
    print_config.validate()
    tables = {name: document.get(name, {}) for name in CAPABILITY_SECTIONS}
    for name, table in tables.items():
        if not isinstance(table, dict):
            raise ValueError(f"[{name}] must be a table")
    config = HubConfig(**hub, auth=auth, printing=print_config, **tables)
    if "data_dir" in chosen:
        chosen["data_dir"] = Path(chosen["data_dir"])
    config = replace(config, **chosen)
    if print_config.enabled and config.workers > 1:
        raise ValueError("print intake needs [hub] workers = 1 (the spool belongs to one process)")
    if config.scan_enabled and config.workers > 1:
        raise ValueError("the scan intake needs [hub] workers = 1 (its spool belongs to one process)")
    return config
