"""The ``[directory]`` table of ``hub.toml``: sources, schedule and guards, with documented defaults.

Example (Active Directory, with every key a site usually sets)::

    [directory]
    sync_interval_s = 3600        # scheduled sync of every source; 0: only on demand
    max_disable_percent = 10.0    # a run disabling more than this share of a source's active
                                  # users (or all of them) stops unless forced
    password_outage = "refuse"    # no directory server answers a password check: "refuse", or
                                  # "local" (the hub's own password hash, where a user has one)

    [[directory.sources]]
    name = "campus"
    kind = "active_directory"     # or "openldap": chooses the defaults of everything below
    servers = ["ldaps://dc1.campus.example", "ldaps://dc2.campus.example"]  # tried in order
    start_tls = false             # ldap:// servers upgraded with StartTLS
    ca_file = "/etc/printgate/campus-ca.pem"   # empty: the system's trusted CAs
    bind_dn = "CN=printgate,OU=Service,DC=campus,DC=example"
    bind_password_file = "/etc/printgate/campus-bind.secret"  # not readable by others
    connect_timeout_s = 5.0
    operation_timeout_s = 60.0
    page_size = 500               # paged searches (RFC 2696)
    user_base_dns = ["OU=People,DC=campus,DC=example"]
    user_filter = "(&(objectClass=user)(!(objectClass=computer)))"
    group_base_dns = ["OU=Groups,DC=campus,DC=example"]   # default: user_base_dns
    group_filter = "(objectClass=group)"
    membership = "memberOf"       # "memberOf": users' memberOf; "member": group objects' members
    nested_groups = "auto"        # "auto", "in_chain" (AD's 1.2.840.113556.1.4.1941),
                                  # "computed" (resolved here) or "off"
    max_group_depth = 8           # nesting levels followed when computed
    card_conversion = "dec2hex|lpad:8:0"   # the readers' conversion chain, applied to badges
    password_login = true         # users of this source log in with their directory password
    adopt_local_users = false     # true: a hub user with the same username and no directory
                                  # link is taken over (first sync after a CSV import)

    [directory.sources.attributes]   # any key left out keeps the kind's default
    cards = ["employeeID"]

    [directory.sources.group_map]    # directory group (DN or cn) -> printgate group name
    "CN=Staff,OU=Groups,DC=campus,DC=example" = "staff"
    [directory.sources.role_map]     # directory group -> printgate role (must exist on the hub)
    "print-admins" = "admin"
    [directory.sources.department_map]  # directory group -> department, when the attribute is empty
    "physics" = "Physics"

Every group read by ``group_filter`` under ``group_base_dns`` becomes a printgate group named
by ``group_map`` or else by its ``cn``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from .errors import DirectoryConfigError

KINDS = ("active_directory", "openldap")
MEMBERSHIPS = ("memberOf", "member")
NESTED = ("auto", "in_chain", "computed", "off")
OUTAGE = ("refuse", "local")
ID_FORMATS = ("guid", "text")
SOURCE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
DISABLED_WHEN = re.compile(r"^(mask:\d{1,10}|present|value:.{1,64})$")
MAX_PAGE_SIZE = 5000


@dataclass(frozen=True)
class AttributeMap:
    """Which directory attribute holds which user field."""

    id: str
    id_format: str  # "guid": 16 bytes shown as AD does; "text": the value as it is (entryUUID)
    username: str
    full_name: str
    email: str
    department: str
    cards: tuple[str, ...]
    pin: str
    disabled: str
    disabled_when: str  # "mask:N" (any of these bits set: AD's userAccountControl), "present", "value:TEXT"
    group_name: str
    member: str  # DN-valued members of a group object (member, uniqueMember)
    member_uid: str  # username-valued members (posixGroup's memberUid); "" for none
    member_of: str

    def user_attributes(self) -> list[str]:
        """Attributes to request for each user."""
        wanted = [self.id, self.username, self.full_name, self.email, self.department, self.pin]
        wanted += [self.disabled, self.member_of, *self.cards]
        return sorted({name for name in wanted if name})


AD_ATTRIBUTES = AttributeMap(
    id="objectGUID",
    id_format="guid",
    username="sAMAccountName",
    full_name="displayName",
    email="mail",
    department="department",
    cards=("employeeID",),
    pin="",
    disabled="userAccountControl",
    disabled_when="mask:2",
    group_name="cn",
    member="member",
    member_uid="",
    member_of="memberOf",
)
OPENLDAP_ATTRIBUTES = AttributeMap(
    id="entryUUID",
    id_format="text",
    username="uid",
    full_name="cn",
    email="mail",
    department="departmentNumber",
    cards=("employeeNumber",),
    pin="",
    disabled="",
    disabled_when="present",
    group_name="cn",
    member="member",
    member_uid="memberUid",
    member_of="memberOf",
)
PRESETS: dict[str, dict[str, Any]] = {
    "active_directory": {
        "user_filter": "(&(objectClass=user)(!(objectClass=computer)))",
        "group_filter": "(objectClass=group)",
        "membership": "memberOf",
        "attributes": AD_ATTRIBUTES,
    },
    "openldap": {
        "user_filter": "(objectClass=inetOrgPerson)",
        "group_filter": (
            "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)(objectClass=posixGroup))"
        ),
        "membership": "member",
        "attributes": OPENLDAP_ATTRIBUTES,
    },
}


@dataclass(frozen=True)
class SourceConfig:
    """One directory the hub reads users from."""

    name: str
    kind: str
    servers: tuple[str, ...]
    bind_dn: str
    bind_password_file: str
    user_base_dns: tuple[str, ...]
    user_filter: str
    group_filter: str
    membership: str
    attributes: AttributeMap
    start_tls: bool = False
    allow_plaintext: bool = False
    ca_file: str = ""
    connect_timeout_s: float = 5.0
    operation_timeout_s: float = 60.0
    page_size: int = 500
    group_base_dns: tuple[str, ...] = ()
    nested_groups: str = "auto"
    max_group_depth: int = 8
    card_conversion: str = ""
    password_login: bool = True
    adopt_local_users: bool = False
    group_map: dict[str, str] = field(default_factory=dict)
    role_map: dict[str, str] = field(default_factory=dict)
    department_map: dict[str, str] = field(default_factory=dict)

    @property
    def group_bases(self) -> tuple[str, ...]:
        """Where groups are read: ``group_base_dns``, else ``user_base_dns``."""
        return self.group_base_dns or self.user_base_dns


@dataclass(frozen=True)
class DirectoryConfig:
    """The whole ``[directory]`` table."""

    sources: tuple[SourceConfig, ...] = ()
    sync_interval_s: int = 0
    max_disable_percent: float = 10.0
    password_outage: str = "refuse"

    def source(self, name: str) -> SourceConfig:
        """The source called ``name`` (``UnknownSource`` otherwise)."""
        from .errors import UnknownSource

        for source in self.sources:
            if source.name == name:
                return source
        raise UnknownSource(f"no directory source named {name!r} (have {[s.name for s in self.sources]})")


def _check_keys(values: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = set(values) - allowed
    if unknown:
        raise DirectoryConfigError(
            f"unknown key(s) in {where}: {', '.join(repr(k) for k in sorted(unknown))}"
        )


def _typed(value: Any, kind: type | tuple[type, ...], where: str) -> Any:
    # bool is an int in Python; a number where a flag belongs (or the reverse) is a mistake
    if isinstance(value, bool) != (kind is bool) or not isinstance(value, kind):
        raise DirectoryConfigError(f"{where} has the wrong type ({type(value).__name__})")
    return value


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise DirectoryConfigError(f"{where} must be a list of strings")
    return tuple(value)


def _string_table(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and k and v for k, v in value.items()
    ):
        raise DirectoryConfigError(f"{where} must map names to non-empty names")
    return dict(value)


def _attributes(base: AttributeMap, values: Any, where: str) -> AttributeMap:
    if not isinstance(values, dict):
        raise DirectoryConfigError(f"{where} must be a table")
    _check_keys(values, {f.name for f in fields(AttributeMap)}, where)
    changes: dict[str, Any] = {}
    for key, value in values.items():
        changes[key] = (
            _strings(value, f"{where}.{key}") if key == "cards" else _typed(value, str, f"{where}.{key}")
        )
    attributes = replace(base, **changes)
    if attributes.id_format not in ID_FORMATS:
        raise DirectoryConfigError(f"{where}.id_format must be one of {ID_FORMATS}")
    if not DISABLED_WHEN.fullmatch(attributes.disabled_when):
        raise DirectoryConfigError(f'{where}.disabled_when must be "mask:N", "present" or "value:TEXT"')
    if not attributes.id or not attributes.username:
        raise DirectoryConfigError(f"{where}: id and username attributes are required")
    return attributes


_SCALARS: dict[str, type | tuple[type, ...]] = {
    "name": str,
    "kind": str,
    "bind_dn": str,
    "bind_password_file": str,
    "user_filter": str,
    "group_filter": str,
    "membership": str,
    "start_tls": bool,
    "allow_plaintext": bool,
    "ca_file": str,
    "connect_timeout_s": (int, float),
    "operation_timeout_s": (int, float),
    "page_size": int,
    "nested_groups": str,
    "max_group_depth": int,
    "card_conversion": str,
    "password_login": bool,
    "adopt_local_users": bool,
}
_LISTS = ("servers", "user_base_dns", "group_base_dns")
_TABLES = ("group_map", "role_map", "department_map")


def load_source(values: Mapping[str, Any], index: int) -> SourceConfig:
    """One ``[[directory.sources]]`` table, with its kind's defaults filled in and checked."""
    where = f"[[directory.sources]] #{index + 1}"
    if not isinstance(values, Mapping):
        raise DirectoryConfigError(f"{where} must be a table")
    _check_keys(values, {*_SCALARS, *_LISTS, *_TABLES, "attributes"}, where)
    kind = values.get("kind", "")
    if kind not in KINDS:
        raise DirectoryConfigError(f"{where}: kind must be one of {KINDS}")
    settings: dict[str, Any] = dict(PRESETS[kind])
    for key, value in values.items():
        if key in _SCALARS:
            settings[key] = _typed(value, _SCALARS[key], f"{where}.{key}")
        elif key in _LISTS:
            settings[key] = _strings(value, f"{where}.{key}")
        elif key in _TABLES:
            settings[key] = _string_table(value, f"{where}.{key}")
    settings["attributes"] = _attributes(
        PRESETS[kind]["attributes"], values.get("attributes", {}), f"{where}.attributes"
    )
    for required in ("name", "servers", "bind_dn", "bind_password_file", "user_base_dns"):
        if not settings.get(required):
            raise DirectoryConfigError(f"{where}: {required} is required")
    source = SourceConfig(**settings)
    _check_source(source, where)
    return source


def _check_source(source: SourceConfig, where: str) -> None:
    if not SOURCE_NAME.fullmatch(source.name):
        raise DirectoryConfigError(f"{where}: name must be 1-32 of a-z 0-9 _ - ({source.name!r})")
    for url in source.servers:
        if not url.startswith(("ldap://", "ldaps://")):
            raise DirectoryConfigError(f"{where}: server {url!r} must be an ldap:// or ldaps:// URL")
        if url.startswith("ldap://") and not (source.start_tls or source.allow_plaintext):
            raise DirectoryConfigError(
                f"{where}: {url} would send passwords in clear: use ldaps://, start_tls = true, "
                "or (only on a trusted network) allow_plaintext = true"
            )
    if source.membership not in MEMBERSHIPS:
        raise DirectoryConfigError(f"{where}: membership must be one of {MEMBERSHIPS}")
    if source.nested_groups not in NESTED:
        raise DirectoryConfigError(f"{where}: nested_groups must be one of {NESTED}")
    if not 1 <= source.page_size <= MAX_PAGE_SIZE:
        raise DirectoryConfigError(f"{where}: page_size must be 1..{MAX_PAGE_SIZE}")
    if not 0 <= source.max_group_depth <= 64:
        raise DirectoryConfigError(f"{where}: max_group_depth must be 0..64")
    if source.connect_timeout_s <= 0 or source.operation_timeout_s <= 0:
        raise DirectoryConfigError(f"{where}: timeouts must be positive")
    for text in (source.user_filter, source.group_filter):
        if not (text.startswith("(") and text.endswith(")")):
            raise DirectoryConfigError(f"{where}: filter {text!r} must be parenthesised")


def load_directory_config(table: Mapping[str, Any] | None) -> DirectoryConfig:
    """Parse the ``[directory]`` table of ``hub.toml`` (None or empty: no directory)."""
    if not table:
        return DirectoryConfig()
    _check_keys(
        table, {"sources", "sync_interval_s", "max_disable_percent", "password_outage"}, "[directory]"
    )
    raw_sources = table.get("sources", [])
    if not isinstance(raw_sources, list):
        raise DirectoryConfigError("[directory] sources must be an array of tables ([[directory.sources]])")
    sources = tuple(load_source(values, index) for index, values in enumerate(raw_sources))
    names = [source.name for source in sources]
    if len(set(names)) != len(names):
        raise DirectoryConfigError(f"[directory] source names must be unique: {names}")
    config = DirectoryConfig(
        sources=sources,
        sync_interval_s=_typed(table.get("sync_interval_s", 0), int, "[directory] sync_interval_s"),
        max_disable_percent=float(
            _typed(table.get("max_disable_percent", 10.0), (int, float), "[directory] max_disable_percent")
        ),
        password_outage=_typed(table.get("password_outage", "refuse"), str, "[directory] password_outage"),
    )
    if config.password_outage not in OUTAGE:
        raise DirectoryConfigError(f"[directory] password_outage must be one of {OUTAGE}")
    if config.sync_interval_s < 0 or not 0 <= config.max_disable_percent <= 100:
        raise DirectoryConfigError("[directory] sync_interval_s must be >= 0, max_disable_percent 0..100")
    return config
