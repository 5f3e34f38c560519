"""The ``[scan]`` table of ``hub.toml``, parsed and checked (the hub reads it, this parses it).

Example::

    [scan]
    listen = "0.0.0.0:25"              # where MFPs send their scans (SMTP); empty: scanning off
    hostname = "hub.example"
    recipients = ["scan@hub.example"]  # the scan addresses MFPs are configured with
    certificate = "/etc/printgate/scan.pem"  # STARTTLS with this chain and key (default: the hub
    key = "/etc/printgate/scan.key"          # PKI's server certificate, as IPPS and the web use)
    require_starttls = true
    data_bytes_max = 67108864
    recipients_max = 5
    connections_max = 64
    grace_s = 120                      # a scan after logout still belongs to the user this long
    no_session = "refuse"              # or "unclaimed" (then unclaimed_destination names one)
    unclaimed_destination = ""
    timeout_s = 120                    # processing bounds (every step a limited child process)
    ocr_timeout_s = 300
    memory_bytes_max = 2147483648
    conversion_workers = 2
    ocr_workers = 1
    link_base_url = "https://hub.example/scans/"   # download links of scans too large to mail
    link_ttl_s = 604800
    print_recipients = ["print@hub.example"]  # e-mail printing: mail here becomes held jobs
    print_relays = ["10.0.0.25"]       # only the site's relay may deliver print mail (see
                                       # hub_server/scan/email_print.py for why that is safe)
    print_attachments_max = 10
    print_attachment_bytes_max = 52428800
    print_guests = ["visitors.example"]  # guests: senders no user has, of these domains ("*": any);
                                       # their jobs get a one-time release code (off when empty)
    print_guest_user = "guest-print"   # the user guest jobs are held under; its account pays
    print_guest_pages_max = 20         # per guest job: impressions (pages x copies) ...
    print_guest_price_max_cents = 200  # ... and price, checked in the reply and at release

    [scan.email]                       # the "email" destination: the site's relay
    relay = "mail.example:25"
    sender = "scans@hub.example"
    attach_bytes_max = 10485760

    [[scan.destinations]]              # further destinations, by name
    name = "home"
    type = "smb"                       # "smb" or "webdav"
    server = "files.example"           # smb: server, share, username, password_file, folder_template
    share = "home"
    username = "svc-scan"
    password_file = "/etc/printgate/smb-password"

Passwords are read from files (``password_file``), never written in the TOML or logged.
"""

from __future__ import annotations

import ipaddress
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .attribution import NoSessionPolicy
from .destinations import Destination, EmailDestination, LinkStore, SmbDestination, WebDavDestination
from .pipeline import ProcessingLimits

__all__ = ["DestinationSettings", "EmailSettings", "ScanSettings", "build_destinations", "load_scan_config"]

_KEYS = {
    "listen",
    "hostname",
    "recipients",
    "certificate",
    "key",
    "require_starttls",
    "data_bytes_max",
    "recipients_max",
    "connections_max",
    "grace_s",
    "no_session",
    "unclaimed_destination",
    "timeout_s",
    "ocr_timeout_s",
    "memory_bytes_max",
    "conversion_workers",
    "ocr_workers",
    "link_base_url",
    "link_ttl_s",
    "print_recipients",
    "print_relays",
    "print_attachments_max",
    "print_attachment_bytes_max",
    "print_guests",
    "print_guest_user",
    "print_guest_pages_max",
    "print_guest_price_max_cents",
    "email",
    "destinations",
}
_EMAIL_KEYS = {"relay", "sender", "attach_bytes_max", "starttls"}
_DESTINATION_KEYS = {
    "smb": {"name", "type", "server", "port", "share", "username", "password_file", "folder_template"},
    "webdav": {"name", "type", "url", "username", "password_file", "folder_template"},
}


@dataclass(frozen=True)
class EmailSettings:
    """The site relay scans are mailed through."""

    relay_host: str
    relay_port: int
    sender: str
    attach_bytes_max: int = 10 * 1024 * 1024
    starttls: bool = False

    def tls_context(self) -> ssl.SSLContext | None:
        """What STARTTLS to the relay verifies with (the system's CAs), or None for plain SMTP."""
        return ssl.create_default_context() if self.starttls else None


@dataclass(frozen=True)
class DestinationSettings:
    """A folder destination (``smb`` or ``webdav``) with its settings; the password from its file."""

    name: str
    kind: str
    settings: Mapping[str, Any]
    password_file: Path

    def password(self) -> str:
        """The password, read when the destination is built (not kept in the settings)."""
        return self.password_file.read_text().strip()


@dataclass(frozen=True)
class ScanSettings:
    """The parsed ``[scan]`` table; ``enabled`` when it has a listener."""

    listen: str = ""
    hostname: str = "printgate-hub"
    recipients: frozenset[str] = frozenset()
    certificate: Path | None = None
    key: Path | None = None
    require_starttls: bool = True
    data_bytes_max: int = 64 * 1024 * 1024
    recipients_max: int = 5
    connections_max: int = 64
    grace_s: float = 120.0
    no_session: NoSessionPolicy = NoSessionPolicy.REFUSE
    unclaimed_destination: str = ""
    limits: ProcessingLimits = field(default_factory=ProcessingLimits)
    link_base_url: str = ""
    link_ttl_s: int = 7 * 24 * 3600
    email: EmailSettings | None = None
    destinations: tuple[DestinationSettings, ...] = ()
    print_recipients: frozenset[str] = frozenset()
    print_relays: frozenset[str] = frozenset()
    print_attachments_max: int = 10
    print_attachment_bytes_max: int = 50 * 1024 * 1024
    print_guests: frozenset[str] = frozenset()  # sender domains (lower case) or "*"
    print_guest_user: str = ""
    print_guest_pages_max: int = 20
    print_guest_price_max_cents: int = 200

    @property
    def enabled(self) -> bool:
        """True when the SMTP receiver is to run."""
        return bool(self.listen)

    def tls_context(self) -> ssl.SSLContext | None:
        """The STARTTLS context from ``certificate`` and ``key`` (None: none configured, the hub
        serves its PKI's server certificate)."""
        if self.certificate is None or self.key is None:
            return None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.certificate, self.key)
        return context


def _typed(value: Any, kind: type | tuple[type, ...], where: str) -> Any:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        raise ValueError(f"{where} has the wrong type ({type(value).__name__})")
    return value


def _host_port(text: str, where: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"{where} must be HOST:PORT, not {text!r}")
    return host, int(port)


def _email(table: Any) -> EmailSettings:
    if not isinstance(table, dict) or set(table) - _EMAIL_KEYS:
        raise ValueError(f"[scan.email] takes only {sorted(_EMAIL_KEYS)}")
    host, port = _host_port(_typed(table.get("relay", ""), str, "[scan.email] relay"), "[scan.email] relay")
    sender = _typed(table.get("sender", ""), str, "[scan.email] sender")
    if "@" not in sender:
        raise ValueError("[scan.email] sender must be an e-mail address")
    return EmailSettings(
        host,
        port,
        sender,
        _typed(table.get("attach_bytes_max", 10 * 1024 * 1024), int, "[scan.email] attach_bytes_max"),
        _typed(table.get("starttls", False), bool, "[scan.email] starttls"),
    )


def _destination(table: Any, index: int) -> DestinationSettings:
    where = f"[[scan.destinations]] #{index + 1}"
    if not isinstance(table, dict):
        raise ValueError(f"{where} must be a table")
    kind = table.get("type")
    if kind not in _DESTINATION_KEYS:
        raise ValueError(f"{where}: type must be one of {sorted(_DESTINATION_KEYS)}")
    unknown = set(table) - _DESTINATION_KEYS[kind]
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {sorted(unknown)}")
    name = _typed(table.get("name", ""), str, f"{where} name")
    if not name or name == "email":
        raise ValueError(f"{where}: a name other than 'email' is needed")
    password_file = Path(_typed(table.get("password_file", ""), str, f"{where} password_file"))
    settings = {key: value for key, value in table.items() if key not in ("name", "type", "password_file")}
    return DestinationSettings(name, kind, settings, password_file)


def load_scan_config(table: Mapping[str, Any] | None) -> ScanSettings:
    """Parse the ``[scan]`` table (None or empty: scanning off); ``ValueError`` on a bad value."""
    if not table:
        return ScanSettings()
    unknown = set(table) - _KEYS
    if unknown:
        raise ValueError(f"unknown key(s) in [scan]: {', '.join(sorted(unknown))}")
    defaults = ScanSettings()
    limits = ProcessingLimits(
        timeout_s=float(_typed(table.get("timeout_s", 120.0), (int, float), "[scan] timeout_s")),
        ocr_timeout_s=float(_typed(table.get("ocr_timeout_s", 300.0), (int, float), "[scan] ocr_timeout_s")),
        memory_bytes_max=_typed(table.get("memory_bytes_max", 2 * 1024**3), int, "[scan] memory_bytes_max"),
        conversion_workers=_typed(table.get("conversion_workers", 2), int, "[scan] conversion_workers"),
        ocr_workers=_typed(table.get("ocr_workers", 1), int, "[scan] ocr_workers"),
    )
    recipients = _addresses(table, "recipients")
    certificate, key = table.get("certificate"), table.get("key")
    if (certificate is None) != (key is None):
        raise ValueError("[scan] certificate and key go together")
    settings = ScanSettings(
        listen=_typed(table.get("listen", ""), str, "[scan] listen"),
        hostname=_typed(table.get("hostname", defaults.hostname), str, "[scan] hostname"),
        recipients=frozenset(address.lower() for address in recipients),
        certificate=Path(certificate) if certificate is not None else None,
        key=Path(key) if key is not None else None,
        require_starttls=_typed(table.get("require_starttls", True), bool, "[scan] require_starttls"),
        data_bytes_max=_typed(
            table.get("data_bytes_max", defaults.data_bytes_max), int, "[scan] data_bytes_max"
        ),
        recipients_max=_typed(
            table.get("recipients_max", defaults.recipients_max), int, "[scan] recipients_max"
        ),
        connections_max=_typed(
            table.get("connections_max", defaults.connections_max), int, "[scan] connections_max"
        ),
        grace_s=float(_typed(table.get("grace_s", defaults.grace_s), (int, float), "[scan] grace_s")),
        no_session=NoSessionPolicy(_typed(table.get("no_session", "refuse"), str, "[scan] no_session")),
        unclaimed_destination=_typed(
            table.get("unclaimed_destination", ""), str, "[scan] unclaimed_destination"
        ),
        limits=limits,
        link_base_url=_typed(table.get("link_base_url", ""), str, "[scan] link_base_url"),
        link_ttl_s=_typed(table.get("link_ttl_s", defaults.link_ttl_s), int, "[scan] link_ttl_s"),
        email=_email(table["email"]) if "email" in table else None,
        print_recipients=frozenset(address.lower() for address in _addresses(table, "print_recipients")),
        print_relays=frozenset(_relays(table)),
        print_attachments_max=_typed(
            table.get("print_attachments_max", 10), int, "[scan] print_attachments_max"
        ),
        print_attachment_bytes_max=_typed(
            table.get("print_attachment_bytes_max", defaults.print_attachment_bytes_max),
            int,
            "[scan] print_attachment_bytes_max",
        ),
        print_guests=frozenset(_guest_domains(table)),
        print_guest_user=_typed(table.get("print_guest_user", ""), str, "[scan] print_guest_user"),
        print_guest_pages_max=_typed(
            table.get("print_guest_pages_max", defaults.print_guest_pages_max),
            int,
            "[scan] print_guest_pages_max",
        ),
        print_guest_price_max_cents=_typed(
            table.get("print_guest_price_max_cents", defaults.print_guest_price_max_cents),
            int,
            "[scan] print_guest_price_max_cents",
        ),
        destinations=tuple(
            _destination(entry, index)
            for index, entry in enumerate(_typed(table.get("destinations", []), list, "[scan] destinations"))
        ),
    )
    _check(settings)
    return settings


def _addresses(table: Mapping[str, Any], key: str) -> list[str]:
    addresses = _typed(table.get(key, []), list, f"[scan] {key}")
    if any(not isinstance(address, str) or "@" not in address for address in addresses):
        raise ValueError(f"[scan] {key} must be e-mail addresses")
    return [str(address) for address in addresses]


def _relays(table: Mapping[str, Any]) -> list[str]:
    relays = _typed(table.get("print_relays", []), list, "[scan] print_relays")
    try:
        return [str(ipaddress.ip_address(relay)) for relay in relays]
    except (TypeError, ValueError):
        raise ValueError("[scan] print_relays must be IP addresses") from None


def _guest_domains(table: Mapping[str, Any]) -> list[str]:
    domains = _typed(table.get("print_guests", []), list, "[scan] print_guests")
    if any(not isinstance(domain, str) or not domain or "@" in domain for domain in domains):
        raise ValueError('[scan] print_guests must be mail domains (or "*" for any sender)')
    return [str(domain).lower().lstrip(".") for domain in domains]


def _check(settings: ScanSettings) -> None:
    if not settings.enabled:
        return
    _host_port(settings.listen, "[scan] listen")
    if not settings.recipients and not settings.print_recipients:
        raise ValueError("[scan] recipients: at least one scan (or print) address is needed")
    if settings.print_recipients and (not settings.print_relays or settings.email is None):
        raise ValueError("[scan] print_recipients needs print_relays and [scan.email] (for the replies)")
    if settings.print_guests and (not settings.print_recipients or not settings.print_guest_user):
        raise ValueError("[scan] print_guests needs print_recipients and print_guest_user")
    if min(settings.print_guest_pages_max, settings.print_guest_price_max_cents) < 1:
        raise ValueError("[scan] print_guest_pages_max and print_guest_price_max_cents must be >= 1")
    if settings.print_recipients & settings.recipients:
        raise ValueError("[scan] an address is either for scans or for printing, not both")
    if (settings.certificate is None) != (settings.key is None):
        raise ValueError("[scan] certificate and key go together (neither: the hub's server certificate)")
    names = [destination.name for destination in settings.destinations]
    if len(set(names)) != len(names):
        raise ValueError(f"[scan] destination names must be unique: {names}")
    if settings.no_session is NoSessionPolicy.UNCLAIMED and settings.unclaimed_destination not in names:
        raise ValueError("[scan] no_session = 'unclaimed' needs unclaimed_destination naming a destination")
    if min(settings.data_bytes_max, settings.recipients_max, settings.connections_max) < 1:
        raise ValueError("[scan] data_bytes_max, recipients_max and connections_max must be >= 1")


def build_destinations(settings: ScanSettings, link_key: bytes, links: LinkStore) -> dict[str, Destination]:
    """The configured destinations by name: ``email`` (when ``[scan.email]`` is set) and the
    folder destinations, their passwords read from their files now."""
    built: dict[str, Destination] = {}
    if settings.email is not None:
        email = settings.email
        built["email"] = EmailDestination(
            email.relay_host,
            email.relay_port,
            email.sender,
            link_key,
            settings.link_base_url,
            links,
            attach_bytes_max=email.attach_bytes_max,
            link_ttl_s=settings.link_ttl_s,
            starttls=email.tls_context(),
        )
    for destination in settings.destinations:
        options = dict(destination.settings)
        if destination.kind == "smb":
            built[destination.name] = SmbDestination(
                str(options["server"]),
                str(options["share"]),
                str(options["username"]),
                destination.password(),
                name=destination.name,
                port=int(options.get("port", 445)),
                folder_template=options.get("folder_template"),
            )
        else:
            built[destination.name] = WebDavDestination(
                str(options["url"]),
                str(options["username"]),
                destination.password(),
                name=destination.name,
                folder_template=str(options.get("folder_template", "{user}")),
            )
    return built
