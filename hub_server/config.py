"""Hub configuration: one TOML file (``hub.toml``), every key optional, defaults documented here.

Example::

    [hub]
    listen = "0.0.0.0:50051"      # device port: terminals and kiosks, mutual TLS (client certificate
                                  # from the hub CA required in the handshake)
    admin_listen = "0.0.0.0:50052"  # admin and enrollment port: TLS without client certificates
    dev_plaintext = false         # DEVELOPMENT ONLY: every port plaintext, devices named by their
                                  # id + key metadata (logged loudly at start)
    workers = 1                   # processes serving the port (SO_REUSEPORT); use the cores you have
    data_dir = "/var/lib/printgate"
    timezone = "Europe/Berlin"    # quota periods (day/week/month) start at local midnight
    currency = "EUR"              # ISO 4217 code of every amount; kiosks must send cash in it
    database = ""                 # empty: SQLite in data_dir; or postgresql://user@host:5432/printgate
    site = ""                     # the site this replica serves: jobs it takes in belong to it
                                  # (created at start if missing; docs/scale.md "Sites")

    [auth]
    session_ttl_s = 900           # a session token is valid this long after login
    usage_report_grace_s = 604800 # usage made in a session may be reported this long after it ends
    max_failed_attempts = 5       # failed logins an identity (a user, a terminal) may make freely
    backoff_first_s = 30          # then it waits this long before its next attempt, doubling per failure
    lockout_s = 900               # up to this long; a terminal's failures fade after this long without one
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
    ipps_listen = ""              # HOST:PORT of the IPPS printer (hub PKI certificate; e.g. "0.0.0.0:443")
    lpd_listen = ""               # HOST:PORT of the LPD listener (e.g. "0.0.0.0:515"); empty: off
    authentication = "none"       # IPP clients: "none" (names only claimed), "basic" (HTTP Basic over
                                  # IPPS accepted) or "required" (jobs without hub credentials refused)
    dnssd_services_dir = ""       # avahi's services directory (/etc/avahi/services): announce the queue
    unknown_owner = "refuse"      # a job from a name that is no hub user: "refuse" or "hold" (for claiming)
    expiry_hours = 4.0            # a held job is deleted this long after it arrived
    private = false               # true: a job is shredded the moment it printed (no reprint)
    reprint_hours = 24.0          # printed jobs stay listed (and reprintable) this long, at most expiry_hours
    allow_to_mono = true          # the user may print colour jobs in mono at release
    allow_to_duplex = true        # the user may print simplex jobs in duplex
    allow_fewer_copies = true     # the user may print fewer copies than submitted
    # The next three are read once: at the first start that has them (and no job rules) they
    # become job rules (docs/job_rules.md); edit those with 'printgate admin rule' afterwards.
    force_duplex_over_pages = 0   # rule: sheets of a job over N pages are printed duplex (0: off)
    mono_over_color_pages = 0     # rule: a job with more than N colour pages prints in mono (0: off)
    refuse_name_pattern = ""      # rule: a job whose name matches this regex (case-insensitive) is deleted
    unanalysed_pages = 1          # pages estimated for a job whose pages analysis could not count
    job_mb_max = 512              # largest job accepted, in MiB
    user_mb_max = 2048            # spool bytes per user, in MiB
    analysis_workers = 1          # Ghostscript analyses at once; other jobs wait ("job-queued")
    connections_per_address_max = 32  # IPP and LPD connections from one client address
    body_min_bytes_per_s = 1024   # an upload slower than this on average (after 30 s) is cut off
    body_deadline_s = 3600.0      # no upload (IPP body, LPD connection) lasts longer, whatever its rate
    snmp_community = "public"     # SNMP v2c community for printer status before release
    snmp_timeout_s = 2.0
    snmp_unreachable = "allow"    # printer status unknown (agent silent): "allow" or "refuse" release

    [print.printer_snmp]          # printer name -> SNMP agent "host[:port]" (no entry: no status check)
    "floor-2" = "10.0.0.12"

    [pki]                         # the hub's CA and TLS (docs/security.md); keys in data_dir/pki
    server_names = ["localhost", "127.0.0.1"]  # names and IPs devices and admins dial (certificate SANs)
    enroll_addresses = []         # host:port written into enrollment tokens; default: admin_listen
                                  # (a wildcard host becomes the first server name)
    device_addresses = []         # host:port devices call with mutual TLS; default: listen (same rule)
    organization = "printgate"    # O= of a CA the hub makes
    ca_cert_file = ""             # the site's CA or intermediate (issuing CA first, up to the root) ...
    ca_key_file = ""              # ... and its key: it signs device and server certificates
    server_cert_file = ""         # the site's server certificate (leaf first, up to the root) ...
    server_key_file = ""          # ... and its key; replaced files are picked up without a restart
    device_lifetime_days = 30     # device certificates renew themselves at two thirds of this
    enroll_burst = 30             # enrollment attempts per client address (and per token) at once ...
    enroll_per_minute = 30        # ... refilled at this rate

    [web]                         # the web console (/console/) and user portal (/portal/); off by default
    listen = ""                   # HOST:PORT, e.g. "0.0.0.0:8443"; off loopback it needs TLS
    tls_cert_file = ""            # PEM chain and key the listener serves HTTPS with (default:
    tls_key_file = ""             # the hub's server certificate, as gRPC and IPPS do)
    plain_http = false            # plain HTTP instead, on loopback only (behind a TLS reverse proxy)
    upload_mb_max = 50            # largest file a user may upload to print
    session_idle_s = 1800         # a browser session ends this long after its last request
    session_absolute_s = 43200    # ... and this long after login, whatever happens
    logins_per_minute = 10        # login attempts per client address (then 429)
    dashboard_cache_s = 15.0      # the dashboard's figures are at most this old
    smtp_host = ""                # scheduled reports are mailed through this server (empty: not sent)
    smtp_port = 25
    mail_from = ""                # the scheduled reports' sender address (needed with smtp_host)

    [fleet]                       # fleet management over MQTT (docs/fleet.md); off by default
    enabled = false               # the keys of [fleet], [fleet.printers] and [fleet.alerts] are
    broker = "127.0.0.1:8883"     # read by hub_server.fleet.FleetConfig, whose docstring lists them


Print intake and release need ``workers = 1`` (the spool belongs to one process), and so do the
scan intake (``[scan] listen``) and the fleet (the broker admits one connection per hub identity).

The tables of the hub's capabilities are kept here as they were read and parsed by the capability
when the hub starts (the kernel imports no capability): ``[directory]`` by
``hub_server.dirsync.load_directory_config`` (docs/directory.md), ``[scan]`` by
``hub_server.scan.load_scan_config`` (docs/scanning.md), ``[fleet]`` by
``hub_server.fleet.FleetConfig`` (docs/fleet.md).

Command-line options (``--listen``, ``--admin-listen``, ``--data-dir``, ``--ipp-listen``,
``--lpd-listen``, ``--dev-plaintext``) override the file.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

# Capability tables: read here, parsed (and checked) by the capability's own loader at start.
CAPABILITY_SECTIONS = ("directory", "scan", "fleet")


@dataclass(frozen=True)
class AuthConfig:
    """Authentication and lockout policy."""

    session_ttl_s: int = 900
    usage_report_grace_s: int = 7 * 24 * 3600
    max_failed_attempts: int = 5
    backoff_first_s: int = 30
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
    ipps_listen: str = ""  # IPPS with the hub PKI's server certificate
    lpd_listen: str = ""
    # IPP clients: "none" (owners only claimed), "basic" (HTTP Basic over IPPS, optional) or
    # "required" (a job without hub credentials is refused with HTTP 401).
    authentication: str = "none"
    # avahi's services directory (e.g. /etc/avahi/services): announce the queue over DNS-SD.
    dnssd_services_dir: str = ""
    unknown_owner: str = "refuse"
    expiry_hours: float = 4.0
    private: bool = False
    reprint_hours: float = 24.0
    allow_to_mono: bool = True
    allow_to_duplex: bool = True
    allow_fewer_copies: bool = True
    # read once, to create the equivalent job rules (hub_server.domain.rules_store)
    force_duplex_over_pages: int = 0
    mono_over_color_pages: int = 0
    refuse_name_pattern: str = ""
    unanalysed_pages: int = 1
    job_mb_max: int = 512
    user_mb_max: int = 2048
    analysis_workers: int = 1
    connections_per_address_max: int = 32
    body_min_bytes_per_s: int = 1024
    body_deadline_s: float = 3600.0
    snmp_community: str = "public"
    snmp_timeout_s: float = 2.0
    snmp_unreachable: str = "allow"
    printer_snmp: dict[str, str] = field(default_factory=dict)

    @property
    def enabled(self) -> bool:
        """True when at least one intake listener is configured."""
        return bool(self.ipp_listen or self.ipps_listen or self.lpd_listen)

    def validate(self) -> None:
        """Refuse values with no meaning."""
        if self.unknown_owner not in ("refuse", "hold"):
            raise ValueError('[print] unknown_owner must be "refuse" or "hold"')
        if self.authentication not in ("none", "basic", "required"):
            raise ValueError('[print] authentication must be "none", "basic" or "required"')
        if self.authentication != "none" and not self.ipps_listen:
            raise ValueError("[print] authentication needs ipps_listen (passwords only over TLS)")
        if self.snmp_unreachable not in ("allow", "refuse"):
            raise ValueError('[print] snmp_unreachable must be "allow" or "refuse"')
        if self.expiry_hours <= 0 or self.reprint_hours < 0 or self.unanalysed_pages < 0:
            raise ValueError("[print] expiry_hours must be > 0, reprint_hours and unanalysed_pages >= 0")
        bounds = {
            "analysis_workers": self.analysis_workers,
            "connections_per_address_max": self.connections_per_address_max,
            "body_min_bytes_per_s": self.body_min_bytes_per_s,
            "body_deadline_s": self.body_deadline_s,
        }
        switched_off = [name for name, value in bounds.items() if not value > 0]
        if switched_off:
            raise ValueError(f"[print] {', '.join(switched_off)} must be > 0 (bounds cannot be switched off)")
        if self.refuse_name_pattern:
            re.compile(self.refuse_name_pattern)


@dataclass(frozen=True)
class PkiSettings:
    """``[pki]``: where the hub's certificates come from and what devices are told (paths empty:
    the hub makes its own CA and server certificate in ``data_dir/pki``)."""

    server_names: tuple[str, ...] = ("localhost", "127.0.0.1")
    enroll_addresses: tuple[str, ...] = ()
    device_addresses: tuple[str, ...] = ()
    organization: str = "printgate"
    ca_cert_file: str = ""
    ca_key_file: str = ""
    server_cert_file: str = ""
    server_key_file: str = ""
    device_lifetime_days: int = 30
    enroll_burst: int = 30
    enroll_per_minute: int = 30

    def validate(self) -> None:
        """Refuse values with no meaning."""
        if not self.server_names:
            raise ValueError("[pki] server_names must name at least one host name or address")
        if self.enroll_burst < 1 or self.enroll_per_minute < 1:
            raise ValueError("[pki] enroll_burst and enroll_per_minute must be at least 1")
        for address in (*self.enroll_addresses, *self.device_addresses):
            host, _, port = address.rpartition(":")
            if not host or not port.isdigit():
                raise ValueError(f"[pki] address {address!r} is not host:port")


@dataclass(frozen=True)
class WebConfig:
    """The web console and user portal (``[web]``): off unless ``listen`` is set."""

    listen: str = ""
    tls_cert_file: str = ""
    tls_key_file: str = ""
    plain_http: bool = False
    upload_mb_max: int = 50
    session_idle_s: int = 1800
    session_absolute_s: int = 12 * 3600
    logins_per_minute: int = 10
    dashboard_cache_s: float = 15.0
    smtp_host: str = ""
    smtp_port: int = 25
    mail_from: str = ""

    def validate(self) -> None:
        """Refuse values with no meaning, and plain HTTP off loopback."""
        if bool(self.tls_cert_file) != bool(self.tls_key_file):
            raise ValueError("[web] give both tls_cert_file and tls_key_file, or neither")
        if self.plain_http and self.tls_cert_file:
            raise ValueError("[web] plain_http and tls_cert_file contradict each other")
        if self.listen and self.plain_http:
            host = self.listen.rpartition(":")[0].strip("[]")
            if host not in ("127.0.0.1", "::1", "localhost"):
                raise ValueError("[web] plain_http is for a loopback listener only (behind a TLS proxy)")
        if self.smtp_host and ("@" not in self.mail_from or not 1 <= self.smtp_port <= 65535):
            raise ValueError("[web] with smtp_host, give mail_from (an address) and an smtp_port of 1..65535")
        if not 1 <= self.upload_mb_max <= 1024 or self.logins_per_minute < 1:
            raise ValueError("[web] upload_mb_max must be 1..1024 and logins_per_minute at least 1")


@dataclass(frozen=True)
class HubConfig:
    """Everything a hub process needs to start."""

    listen: str = "127.0.0.1:50051"
    admin_listen: str = "127.0.0.1:50052"
    dev_plaintext: bool = False
    workers: int = 1
    data_dir: Path = Path("data/hub")
    timezone: str = "UTC"
    currency: str = "EUR"
    database: str = ""
    site: str = ""
    auth: AuthConfig = field(default_factory=AuthConfig)
    printing: PrintConfig = field(default_factory=PrintConfig)
    pki: PkiSettings = field(default_factory=PkiSettings)
    web: WebConfig = field(default_factory=WebConfig)
    # the [directory] table (directory sync, docs/directory.md), parsed by the dirsync capability
    directory: dict[str, Any] = field(default_factory=dict)
    # the [scan] table (scan intake and e-mail printing, docs/scanning.md), parsed by the scan capability
    scan: dict[str, Any] = field(default_factory=dict)

    @property
    def scan_enabled(self) -> bool:
        """True when the scan intake's SMTP receiver is configured (``[scan] listen``)."""
        return bool(self.scan.get("listen"))

    # the [fleet] tables as written (fleet management, docs/fleet.md), parsed by the fleet capability
    fleet: dict[str, Any] = field(default_factory=dict)

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
    """Read ``path`` (if given), then apply non-None ``overrides`` (listen, admin_listen,
    data_dir, workers, dev_plaintext, ipp_listen, lpd_listen)."""
    document: dict[str, Any] = tomllib.loads(path.read_text()) if path else {}
    unknown_sections = set(document) - {"hub", "auth", "print", "pki", "web", *CAPABILITY_SECTIONS}
    if unknown_sections:
        raise ValueError(f"unknown section(s): {', '.join(sorted(unknown_sections))}")
    hub = dict(_section(HubConfig, document.get("hub", {}), "hub"))
    auth = AuthConfig(**_section(AuthConfig, document.get("auth", {}), "auth"))
    printing = dict(_section(PrintConfig, document.get("print", {}), "print"))
    pki: dict[str, Any] = {
        key: tuple(value) if isinstance(value, list) else value
        for key, value in _section(PkiSettings, document.get("pki", {}), "pki").items()
    }
    pki_settings = PkiSettings(**pki)
    pki_settings.validate()
    if "data_dir" in hub:
        hub["data_dir"] = Path(hub["data_dir"])
    chosen = {key: value for key, value in overrides.items() if value is not None}
    printing.update({key: chosen.pop(key) for key in PRINT_OVERRIDES if key in chosen})
    print_config = PrintConfig(**printing)
    print_config.validate()
    web = WebConfig(**_section(WebConfig, document.get("web", {}), "web"))
    web.validate()
    tables = {name: document.get(name, {}) for name in CAPABILITY_SECTIONS}
    for name, table in tables.items():
        if not isinstance(table, dict):
            raise ValueError(f"[{name}] must be a table")
    config = HubConfig(**hub, auth=auth, printing=print_config, web=web, pki=pki_settings, **tables)
    if "data_dir" in chosen:
        chosen["data_dir"] = Path(chosen["data_dir"])
    config = replace(config, **chosen)
    if print_config.enabled and config.workers > 1:
        raise ValueError("print intake needs [hub] workers = 1 (the spool belongs to one process)")
    if config.scan_enabled and config.workers > 1:
        raise ValueError("the scan intake needs [hub] workers = 1 (its spool belongs to one process)")
    if config.fleet.get("enabled") and config.workers > 1:
        raise ValueError("the fleet needs [hub] workers = 1 (one broker connection per hub identity)")
    return config
