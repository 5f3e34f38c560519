"""Vendor profiles: DATA files (``profiles/*.toml``, one per vendor) and their loader.

A profile says how to recognise a vendor (sysObjectID prefixes, sysDescr patterns),
where its model and serial live, and where its page counters live. Table counters are
matched by a row's *type or name column* (or by its index suffix where the vendor's
index is the type), never by a fixed row number: rows move between models.

Canonical counter keys (only what the device reports is returned):
``total, total_mono, total_color, print_total, print_mono, print_color, copy_total,
copy_mono, copy_color, fax, fax_mono, fax_color, scan, scan_sent, duplex, life_count,
power_on_count``. Several sources mapped to one key are summed (Kyocera full + single colour =
colour). ``scan`` is every scanned side the device counts (on many models the originals read for
copies and faxes too); ``scan_sent`` only where the device counts the scans it sent (to e-mail,
FTP, a network folder) apart; such rows feed both keys.

Profile file format (TOML)::

    name = "ricoh"                      # file stem, unique
    vendor = "Ricoh"                    # shown to people
    sys_object_id_prefixes = ["1.3.6.1.4.1.367."]
    sys_descr_patterns = ["(?i)^ricoh"] # regexes, tried when no prefix matched
    brands = { "(?i)savin" = "Savin" }  # OEM names found in sysDescr
    [[model]]                           # tried in order, then the generic sources
    oid = "1.3.6.1.4.1.367.3.2.1.1.1.1.0"
    regex = "^(.+)$"                     # optional; group 1 is the value
    [[model]]
    sys_descr_regex = "^Xerox ([^;]+)"   # take the value from sysDescr
    [[serial]]
    oid = "..."
    [[counters]]                        # a scalar
    key = "total"
    oid = "1.3.6.1.4.1.367.3.2.1.2.19.1.0"
    [[counters]]                        # a table: walk `table` (the value column) ...
    table = "1.3.6.1.4.1.367.3.2.1.2.19.5.1.9"
    match_column = "1.3.6.1.4.1.367.3.2.1.2.19.5.1.2"  # ... and match rows by this column's value
    rows = { "10" = "total", "201" = "copy_mono" }  # no match_column: by index suffix; "*" = all
    # a row may feed several keys: "1" = ["scan", "scan_sent"]
    [[derived]]                         # computed only if `key` is missing and every part is present
    key = "total"
    sum = ["total_mono", "total_color"]
    [supplies]
    description_cut = ", PN "           # drop part numbers appended to descriptions
    level_codes = { "0" = 100 }          # level -> percent when max capacity is unknown
    [trays]
    manual_name_patterns = ["(?i)bypass"]  # a tray without prtInputType is a manual feed if named so
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from mfp_adapters.errors import ProfileError
from mfp_adapters.snmp import Oid, parse_oid

__all__ = [
    "COUNTER_KEYS",
    "CounterSource",
    "Profile",
    "ValueSource",
    "load_profiles",
    "parse_profile",
    "select_profile",
]

COUNTER_KEYS = frozenset(
    {
        "total",
        "total_mono",
        "total_color",
        "print_total",
        "print_mono",
        "print_color",
        "copy_total",
        "copy_mono",
        "copy_color",
        "fax",
        "fax_mono",
        "fax_color",
        "scan",
        "scan_sent",
        "duplex",
        "life_count",
        "power_on_count",
    }
)


@dataclass(frozen=True)
class ValueSource:
    """Where an identity string comes from: an OID or sysDescr, optionally through a regex."""

    oid: Oid | None
    regex: re.Pattern[str] | None

    def extract(self, text: str) -> str | None:
        """Apply the regex (group 1) to ``text``; ``None`` if it does not match or is empty."""
        if self.regex is not None:
            found = self.regex.search(text)
            text = found.group(1) if found else ""
        text = text.strip()
        return text or None


@dataclass(frozen=True)
class CounterSource:
    """A scalar counter (``oid``) or a table walked at ``table`` and matched via ``rows``."""

    key: str | None = None
    oid: Oid | None = None
    table: Oid | None = None
    match_column: Oid | None = None
    rows: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def keys_for_row(self, index: str, match_value: str | None) -> tuple[str, ...]:
        """The counter keys a table row feeds (none if the row is not ours)."""
        lookup = index if self.match_column is None else match_value
        if lookup is not None and lookup in self.rows:
            return self.rows[lookup]
        return self.rows.get("*", ())


@dataclass(frozen=True)
class Profile:
    """One vendor's profile; see the module docstring for the file format."""

    name: str
    vendor: str
    sys_object_id_prefixes: tuple[str, ...] = ()
    sys_descr_patterns: tuple[re.Pattern[str], ...] = ()
    brands: tuple[tuple[re.Pattern[str], str], ...] = ()
    model: tuple[ValueSource, ...] = ()
    serial: tuple[ValueSource, ...] = ()
    counters: tuple[CounterSource, ...] = ()
    derived: tuple[tuple[str, tuple[str, ...]], ...] = ()
    description_cut: str | None = None
    level_codes: dict[int, int] | None = None
    manual_tray_patterns: tuple[re.Pattern[str], ...] = ()

    def matches(self, sys_object_id: str, sys_descr: str) -> bool:
        """Does this profile describe the device with these system values?"""
        oid = sys_object_id.lstrip(".") + "."
        if any(oid.startswith(prefix) for prefix in self.sys_object_id_prefixes):
            return True
        return any(pattern.search(sys_descr) for pattern in self.sys_descr_patterns)

    def brand(self, sys_descr: str) -> str:
        """The OEM brand named in sysDescr (UTAX for a Kyocera), else the vendor."""
        for pattern, brand in self.brands:
            if pattern.search(sys_descr):
                return brand
        return self.vendor


def _regex(text: Any, where: str) -> re.Pattern[str]:
    if not isinstance(text, str):
        raise ProfileError(f"{where}: expected a regex string, got {text!r}")
    try:
        return re.compile(text)
    except re.error as exc:
        raise ProfileError(f"{where}: bad regex {text!r}: {exc}") from None


def _oid(text: Any, where: str) -> Oid:
    try:
        return parse_oid(str(text))
    except ValueError as exc:
        raise ProfileError(f"{where}: {exc}") from None


def _value_sources(items: Any, where: str) -> tuple[ValueSource, ...]:
    sources = []
    for item in items or ():
        regex_text = item.get("regex") or item.get("sys_descr_regex")
        oid = _oid(item["oid"], where) if "oid" in item else None
        if oid is None and "sys_descr_regex" not in item:
            raise ProfileError(f"{where}: each entry needs oid or sys_descr_regex")
        sources.append(ValueSource(oid, _regex(regex_text, where) if regex_text else None))
    return tuple(sources)


def _row_keys(value: Any) -> tuple[str, ...]:
    return tuple(str(key) for key in value) if isinstance(value, list) else (str(value),)


def _counter_sources(items: Any, where: str) -> tuple[CounterSource, ...]:
    sources = []
    for item in items or ():
        rows = {str(k): _row_keys(v) for k, v in (item.get("rows") or {}).items()}
        keys = {key for row in rows.values() for key in row} | ({item["key"]} if "key" in item else set())
        unknown = keys - COUNTER_KEYS
        if unknown:
            raise ProfileError(f"{where}: unknown counter keys {sorted(unknown)}")
        if "oid" in item and "key" in item:
            sources.append(CounterSource(key=item["key"], oid=_oid(item["oid"], where)))
        elif "table" in item and rows:
            column = _oid(item["match_column"], where) if "match_column" in item else None
            sources.append(CounterSource(table=_oid(item["table"], where), match_column=column, rows=rows))
        else:
            raise ProfileError(f"{where}: a counter needs key+oid or table+rows")
    return tuple(sources)


def parse_profile(data: dict[str, Any], where: str) -> Profile:
    """Build a :class:`Profile` from parsed TOML; raises :class:`ProfileError`."""
    try:
        supplies = data.get("supplies", {})
        codes = supplies.get("level_codes")
        manual_names = data.get("trays", {}).get("manual_name_patterns", ())
        return Profile(
            name=str(data["name"]),
            vendor=str(data["vendor"]),
            sys_object_id_prefixes=tuple(str(p) for p in data.get("sys_object_id_prefixes", ())),
            sys_descr_patterns=tuple(_regex(p, where) for p in data.get("sys_descr_patterns", ())),
            brands=tuple((_regex(p, where), str(b)) for p, b in data.get("brands", {}).items()),
            model=_value_sources(data.get("model"), where),
            serial=_value_sources(data.get("serial"), where),
            counters=_counter_sources(data.get("counters"), where),
            derived=tuple((str(d["key"]), tuple(str(p) for p in d["sum"])) for d in data.get("derived", ())),
            description_cut=supplies.get("description_cut"),
            level_codes={int(k): int(v) for k, v in codes.items()} if codes else None,
            manual_tray_patterns=tuple(_regex(pattern, where) for pattern in manual_names),
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise ProfileError(f"{where}: malformed profile ({exc!r})") from None


@cache
def load_profiles() -> dict[str, Profile]:
    """Every profile shipped in ``mfp_adapters/profiles``, keyed by name (``generic`` included)."""
    profiles: dict[str, Profile] = {}
    for entry in sorted(resources.files(__name__).iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            try:
                data = tomllib.loads(entry.read_text(encoding="utf-8"))
            except tomllib.TOMLDecodeError as exc:
                raise ProfileError(f"{entry.name}: {exc}") from None
            profile = parse_profile(data, entry.name)
            profiles[profile.name] = profile
    if "generic" not in profiles:
        raise ProfileError("the generic Printer-MIB profile is missing")
    return profiles


def select_profile(sys_object_id: str, sys_descr: str) -> Profile:
    """The vendor profile for a device: sysObjectID prefix first, then sysDescr, else generic."""
    vendors = [p for name, p in load_profiles().items() if name != "generic"]
    oid = sys_object_id.lstrip(".") + "."
    for profile in vendors:
        if any(oid.startswith(prefix) for prefix in profile.sys_object_id_prefixes):
            return profile
    for profile in vendors:
        if profile.matches("", sys_descr):
            return profile
    return load_profiles()["generic"]
