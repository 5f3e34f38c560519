"""``printgate.toml``: the one file a technician puts on the boot partition of a fresh terminal.

The file says what the device is (``role``: terminal or kiosk), its one-time enrollment token
from the hub (``printgate admin enrollment create``: it carries the hub's addresses and the
fingerprint of the CA the device pins; optional ``hub.addresses`` override the device port the
enrollment names), which printer it stands at, its card reader, network (wired DHCP/static, Wi-Fi with its
country), time servers, display rotation and panel, language, and the ssh keys for service
access (none: ssh stays off). ``recipe/printgate.example.toml`` is the commented example.

:func:`parse` checks everything at once and raises :class:`ProvisioningError` listing every
problem, so a technician fixes the file in one go. :func:`scrubbed` is the same document with
every secret replaced, which is what stays on the boot partition once the device has applied it.
This module is used on the build host (``printgate image provision``) and on the device
(first-boot provisioning); the token's format has its one home in
:mod:`printgate.enrollment_token`.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from printgate.enrollment_token import EnrollmentToken, MalformedToken, parse_token

from images.errors import ProvisioningError

__all__ = [
    "FILE_NAME",
    "SCRUBBED",
    "SECRET_KEYS",
    "Provisioning",
    "WiFi",
    "config_hash",
    "parse",
    "parse_text",
    "scrubbed",
]

FILE_NAME = "printgate.toml"
SCRUBBED = "<scrubbed>"
# dotted paths of the values that must never stay on the boot partition or appear in a log
SECRET_KEYS = ("hub.enrollment_token", "network.wifi.psk")
ROLES = ("terminal", "kiosk")
LANGUAGES = ("en", "de")
ROTATIONS = (0, 90, 180, 270)
# touch panels with a known Kivy input provider (one per panel: no duplicated touches)
PANELS = ("none", "official-7in", "official-touch2", "hdmi-usb-touch")
MAX_FILE_BYTES = 64 * 1024

_HOST_PORT = re.compile(r"^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\]):\d{1,5}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_SSH_KEY = re.compile(
    r"^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com) [A-Za-z0-9+/=]+( .*)?$"
)
_HOSTNAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


@dataclass(frozen=True)
class WiFi:
    """``[network.wifi]``: a NetworkManager Wi-Fi profile (WPA2/WPA3 personal)."""

    ssid: str
    psk: str
    country: str


@dataclass(frozen=True)
class Provisioning:
    """A checked ``printgate.toml``."""

    role: str
    site: str
    hub_addresses: tuple[str, ...]  # device-port overrides ("" = what the enrollment names)
    enrollment_token: str
    printer: dict[str, Any]
    reader: dict[str, Any]
    display_enabled: bool
    rotation: int
    panel: str
    language: str
    timezone: str
    network_mode: str
    address: str
    gateway: str
    dns: tuple[str, ...]
    hostname: str
    wifi: WiFi | None
    time_servers: tuple[str, ...]
    ssh_keys: tuple[str, ...]
    app: dict[str, Any] = field(default_factory=dict)

    @property
    def token(self) -> EnrollmentToken:
        """The parsed enrollment token (checked when the file was)."""
        return parse_token(self.enrollment_token)

    @property
    def hub_address(self) -> str:
        """Where the hub is, for people and health checks before the device is enrolled: the
        first override, else the first enrollment address the token names."""
        return (self.hub_addresses or self.token.addresses)[0]


class _Reader:
    """Takes values out of a table, recording a problem for each missing, unknown or bad one."""

    def __init__(self, document: dict[str, Any], problems: list[str]) -> None:
        self.document = document
        self.problems = problems
        self.seen: dict[str, set[str]] = {}

    def table(self, path: str) -> dict[str, Any]:
        node: Any = self.document
        for part in path.split(".") if path else []:
            node = node.get(part, {}) if isinstance(node, dict) else {}
            if not isinstance(node, dict):
                self.problems.append(f"[{path}] must be a table")
                return {}
        return node

    def get(
        self,
        path: str,
        key: str,
        kind: type | tuple[type, ...],
        default: Any = None,
        *,
        required: bool = False,
        check: Callable[[Any], str | None] | None = None,
    ) -> Any:
        self.seen.setdefault(path, set()).add(key)
        table = self.table(path)
        where = f"{path}.{key}" if path else key
        if key not in table:
            if required:
                self.problems.append(f"{where} is required")
            return default
        value = table[key]
        if isinstance(value, bool) and kind is not bool:  # TOML true is not a number
            self.problems.append(f"{where} must be {_kind_name(kind)}, not a boolean")
            return default
        if not isinstance(value, kind):
            self.problems.append(f"{where} must be {_kind_name(kind)}, not {type(value).__name__}")
            return default
        if check is not None:
            problem = check(value)
            if problem:
                self.problems.append(f"{where} {problem}")
                return default
        return value

    def unknown(self, path: str, known_tables: tuple[str, ...] = ()) -> None:
        table = self.table(path)
        for key in sorted(set(table) - self.seen.get(path, set()) - set(known_tables)):
            where = f"{path}.{key}" if path else key
            self.problems.append(f"unknown key {where}")


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {str: "a string", int: "an integer", bool: "true or false", list: "a list", dict: "a table"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def _one_of(choices: tuple[Any, ...]) -> Callable[[Any], str | None]:
    return lambda value: None if value in choices else f"must be one of {', '.join(map(str, choices))}"


def _matches(pattern: re.Pattern[str], what: str) -> Callable[[Any], str | None]:
    return lambda value: None if pattern.match(value) else f"must be {what}"


def _addresses(value: list[Any]) -> str | None:
    bad = [a for a in value if not isinstance(a, str) or not _HOST_PORT.match(a)]
    return f"has entries that are not host:port: {bad}" if bad else None


def _token(value: str) -> str | None:
    try:
        parse_token(value)
    except MalformedToken as exc:  # the message names the part, never the secret
        return f"is not an enrollment token from `printgate admin enrollment create`: {exc}"
    return None


def _ip_list(value: list[Any]) -> str | None:
    for item in value:
        try:
            ipaddress.ip_address(item)
        except (TypeError, ValueError):
            return f"has {item!r}, which is not an IP address"
    return None


def _interface(value: str) -> str | None:
    try:
        ipaddress.ip_interface(value)
    except ValueError:
        return "must be an address with prefix length, e.g. 192.0.2.50/24"
    return None if "/" in value else "needs a prefix length, e.g. /24"


def _ip(value: str) -> str | None:
    return _ip_list([value])


def _ssh_keys(value: list[Any]) -> str | None:
    bad = [i for i, key in enumerate(value) if not isinstance(key, str) or not _SSH_KEY.match(key.strip())]
    return f"entries {bad} are not ssh public keys (type base64 [comment])" if bad else None


def _strings(value: list[Any]) -> str | None:
    return None if all(isinstance(v, str) and v for v in value) else "must list non-empty strings"


def parse_text(text: str, *, applied: bool = False) -> Provisioning:
    """Check a ``printgate.toml`` given as text; :class:`ProvisioningError` lists every problem.
    ``applied``: the device's own scrubbed copy, whose secrets read ``"<scrubbed>"``."""
    if len(text.encode()) > MAX_FILE_BYTES:
        raise ProvisioningError([f"the file is larger than {MAX_FILE_BYTES // 1024} KiB"])
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProvisioningError([f"not valid TOML: {exc}"]) from exc
    return parse(document, applied=applied)


def parse(document: dict[str, Any], *, applied: bool = False) -> Provisioning:
    """Check a parsed ``printgate.toml``; :class:`ProvisioningError` lists every problem."""
    problems: list[str] = []
    r = _Reader(document, problems)
    role = r.get("", "role", str, "terminal", required=True, check=_one_of(ROLES))
    site = r.get("", "site", str, "")
    language = r.get("", "language", str, "en", check=_one_of(LANGUAGES))
    timezone = r.get(
        "", "timezone", str, "UTC", check=_matches(re.compile(r"^[A-Za-z0-9_+/-]+$"), "a zone name")
    )
    r.unknown("", ("hub", "printer", "reader", "display", "network", "time", "service", "app"))

    addresses = r.get("hub", "addresses", list, [], check=_addresses)
    token_check = (lambda value: None if value == SCRUBBED else _token(value)) if applied else _token
    token = r.get("hub", "enrollment_token", str, "", required=True, check=token_check)
    if {"terminal_id", "terminal_key"} & set(r.table("hub")):
        problems.append(
            "hub.terminal_id and hub.terminal_key are gone: devices enroll with an enrollment_token"
        )
        r.seen.setdefault("hub", set()).update(("terminal_id", "terminal_key"))
    r.unknown("hub")

    printer = {
        "name": r.get("printer", "name", str, ""),
        "address": r.get("printer", "address", str, ""),
        "counter": r.get("printer", "counter", str, "fih", check=_one_of(("fih", "snmp"))),
        "community": r.get("printer", "community", str, "public"),
    }
    r.unknown("printer")
    if role == "terminal" and printer["counter"] == "snmp" and not printer["address"]:
        problems.append('printer.address is required when printer.counter is "snmp"')
    reader = {
        "driver": r.get(
            "reader",
            "driver",
            str,
            "rdm6300",
            check=_one_of(("rdm6300", "id12la", "twn4", "wedge", "pcsc", "nfc")),
        ),
        "url": r.get("reader", "url", str, "/dev/ttyUSB0"),
        "convert": r.get("reader", "convert", str, ""),
    }
    r.unknown("reader")

    display_enabled = r.get("display", "enabled", bool, True)
    rotation = r.get("display", "rotation", int, 0, check=_one_of(ROTATIONS))
    panel = r.get("display", "panel", str, "official-7in", check=_one_of(PANELS))
    r.unknown("display")

    mode = r.get("network", "mode", str, "dhcp", check=_one_of(("dhcp", "static")))
    address = r.get("network", "address", str, "", check=_interface)
    gateway = r.get("network", "gateway", str, "", check=_ip)
    dns = r.get("network", "dns", list, [], check=_ip_list)
    hostname = r.get("network", "hostname", str, "", check=_matches(_HOSTNAME, "a host name (a-z, 0-9, -)"))
    r.unknown("network", ("wifi",))
    if mode == "static" and not address:
        problems.append('network.address is required when network.mode is "static"')
    if mode == "dhcp" and (address or gateway):
        problems.append('network.address and network.gateway need network.mode = "static"')
    wifi = None
    if "wifi" in r.table("network"):
        ssid = r.get(
            "network.wifi",
            "ssid",
            str,
            "",
            required=True,
            check=lambda v: None if 0 < len(v.encode()) <= 32 else "must be 1 to 32 bytes",
        )
        psk = r.get(
            "network.wifi",
            "psk",
            str,
            "",
            required=True,
            check=lambda v: None if 8 <= len(v) <= 63 else "must be 8 to 63 characters",
        )
        country = r.get(
            "network.wifi",
            "country",
            str,
            "",
            required=True,
            check=_matches(_COUNTRY, "a two-letter country code in capitals, e.g. DE"),
        )
        r.unknown("network.wifi")
        wifi = WiFi(ssid, psk, country)

    servers = r.get("time", "servers", list, [], check=_strings)
    r.unknown("time")
    ssh_keys = r.get("service", "ssh_authorized_keys", list, [], check=_ssh_keys)
    r.unknown("service")
    app = r.get("", "app", dict, {})

    if problems:
        raise ProvisioningError(problems)
    return Provisioning(
        role=role,
        site=site,
        hub_addresses=tuple(addresses),
        enrollment_token=token,
        printer=printer,
        reader=reader,
        display_enabled=display_enabled,
        rotation=rotation,
        panel=panel,
        language=language,
        timezone=timezone,
        network_mode=mode,
        address=address,
        gateway=gateway,
        dns=tuple(dns),
        hostname=hostname,
        wifi=wifi,
        time_servers=tuple(servers),
        ssh_keys=tuple(key.strip() for key in ssh_keys),
        app=app,
    )


def _secret_values(document: dict[str, Any]) -> list[str]:
    values = []
    for path in SECRET_KEYS:
        node: Any = document
        for part in path.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, str) and node and node != SCRUBBED:
            values.append(node)
    return values


def scrubbed(text: str) -> str:
    """``text`` with the value of every secret key replaced by ``"<scrubbed>"``.

    Plain ``key = "value"`` lines under their table header are rewritten in place, so the file
    still shows what was applied. If a secret is written some other way (an inline table, a
    multi-line string) and would survive, the whole content is dropped instead: a secret never
    stays behind.
    """
    table = ""
    lines = []
    for line in text.splitlines(keepends=True):
        header = re.match(r"^\s*\[+\s*([A-Za-z0-9_.\s\"-]+?)\s*\]+", line)
        if header:
            table = re.sub(r"\s+", "", header.group(1)).replace('"', "")
        assignment = re.match(r"^(\s*)([A-Za-z0-9_\"-]+)(\s*=\s*)(.*?)(\s*)$", line)
        if assignment and f"{table}.{assignment.group(2).strip(chr(34))}".lstrip(".") in SECRET_KEYS:
            indent, key, equals, _, _ = assignment.groups()
            line = f'{indent}{key}{equals}"{SCRUBBED}"\n'
        lines.append(line)
    result = "".join(lines)
    try:
        secrets = _secret_values(tomllib.loads(text))
        left = _secret_values(tomllib.loads(result))
    except tomllib.TOMLDecodeError:
        secrets, left = [], ["unparseable"]
    if left or any(secret in result for secret in secrets):
        return "# the applied printgate.toml was removed: its secrets could not be scrubbed in place\n"
    return result


def config_hash(text: str) -> str:
    """A short identifier of one provisioning file's content (which file was applied)."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]
