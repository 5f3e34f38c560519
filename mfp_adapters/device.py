"""One MFP seen over SNMP: identity, counters, status, supplies and paper trays, via its vendor profile.

Garbage from the agent (a string where a counter belongs, a negative counter, an
error-state octet string of absurd length) never becomes a value: it is skipped,
counted in :attr:`MfpSnmp.rejections` and logged with the OID.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from mfp_adapters.mib import (
    ALERT_CODES,
    COUNTER_UNITS,
    DEVICE_STATUS,
    INPUT_TYPE_MANUAL,
    INPUT_TYPES,
    LEVEL_OTHER,
    PAPER_LOW_PERCENT,
    PRINTER_STATUS,
    SEVERITY,
    STD,
    SUPPLY_TYPES,
    SupplyLevel,
    TrayState,
    decode_error_state,
    supply_level,
    tray_state,
)
from mfp_adapters.profiles import CounterSource, Profile, ValueSource, load_profiles, select_profile
from mfp_adapters.snmp import Oid, SnmpClient, SnmpValue, oid_str, parse_oid

__all__ = [
    "Alert",
    "Counters",
    "Identity",
    "MfpSnmp",
    "PaperTray",
    "ProbeResult",
    "Status",
    "Supply",
    "trays_needing_paper",
]

log = logging.getLogger(__name__)

_COUNTER_MAX = 2**64 - 1
_MAX_ERROR_STATE_OCTETS = 4  # the MIB defines 15 bits; a longer string is garbage
_MAX_TEXT = 1024
_STATUS_OIDS = (STD.hrDeviceStatus1, STD.hrPrinterStatus1, STD.hrPrinterDetectedErrorState1)
_UNIT_PERCENT = 19  # prtMarkerSuppliesSupplyUnit percent: the level is the percentage


@dataclass(frozen=True)
class Identity:
    """Who the device is and which profile reads it."""

    vendor: str
    model: str | None
    serial: str | None
    sys_object_id: str
    sys_descr: str
    profile: str


@dataclass(frozen=True)
class Counters:
    """Page counters keyed by the canonical keys of :mod:`mfp_adapters.profiles`.

    ``uptime_ticks`` (sysUpTime, 1/100 s) lets a meter see a reboot between two reads.
    """

    values: dict[str, int]
    life_count_unit: str | None = None
    uptime_ticks: int | None = None
    read_at_monotonic: float = 0.0


@dataclass(frozen=True)
class Supply:
    """One prtMarkerSupplies row.

    ``level`` and ``max`` are as the device reports them (-1 other, -2 unknown, -3 some
    remaining); ``percent`` is ``None`` where the device does not say, and ``estimated`` is true
    where it is a level read as a percentage of an unknown maximum (Sharp and others) or a
    vendor's coarse status code, not a measurement against a known capacity.
    """

    index: int
    description: str | None
    type: str | None
    level: int | None
    max: int | None
    percent: float | None
    estimated: bool = False


@dataclass(frozen=True)
class PaperTray:
    """One prtInputTable row: a paper tray, cassette or manual feed.

    ``name`` is prtInputName (else prtInputDescription); ``media`` prtInputMediaName ("A4",
    "PLAIN"); ``kind`` the prtInputType name; ``manual`` a bypass / manual feed (by its type, or
    by its name where the device gives no type), whose paper is loaded per job: it never makes
    the printer "low on paper". ``level`` and ``max`` are raw (sheets, or -1/-2/-3); ``percent``
    and ``state`` follow :func:`mfp_adapters.mib.tray_state`.
    """

    index: int
    name: str | None
    media: str | None
    kind: str | None
    manual: bool
    level: int | None
    max: int | None
    percent: float | None
    state: TrayState

    @property
    def needs_paper(self) -> bool:
        """An automatic tray that is low or empty: what "paper low" at a terminal means."""
        return not self.manual and self.state in (TrayState.LOW, TrayState.EMPTY)


def trays_needing_paper(trays: list[PaperTray]) -> list[PaperTray]:
    """The automatic trays that are low or empty, in index order (empty list: paper is fine)."""
    return [tray for tray in trays if tray.needs_paper]


@dataclass(frozen=True)
class Alert:
    """One prtAlertTable row."""

    index: int
    severity: str | None
    code: int | None
    code_name: str | None
    group: int | None
    description: str | None
    time_ticks: int | None


@dataclass(frozen=True)
class Status:
    """hrDeviceStatus / hrPrinterStatus names, decoded error bits and the alert table."""

    device: str | None
    printer: str | None
    errors: list[str]
    alerts: list[Alert] = field(default_factory=list)


@dataclass(frozen=True)
class ProbeResult:
    """Everything a probe learned; :meth:`to_json` gives the ``mfp probe --json`` object."""

    identity: Identity
    counters: Counters
    status: Status
    supplies: list[Supply]
    trays: list[PaperTray] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The probe as plain JSON types (keys as documented for ``printgate mfp probe``)."""
        ident = self.identity
        return {
            "vendor": ident.vendor,
            "model": ident.model,
            "serial": ident.serial,
            "profile": ident.profile,
            "sys_object_id": ident.sys_object_id,
            "sys_descr": ident.sys_descr,
            "counters": dict(sorted(self.counters.values.items())),
            "life_count_unit": self.counters.life_count_unit,
            "supplies": [
                {k: v for k, v in asdict(s).items() if k != "index"} | {"index": s.index}
                for s in self.supplies
            ],
            "trays": [asdict(tray) | {"state": tray.state.value} for tray in self.trays],
            "status": {
                "device": self.status.device,
                "printer": self.status.printer,
                "errors": self.status.errors,
                "alerts": [asdict(a) for a in self.status.alerts],
            },
        }


def _text(value: SnmpValue) -> str | None:
    if isinstance(value, bytes):
        text = value[:_MAX_TEXT].decode("utf-8", errors="replace").replace("\x00", "").strip()
        return text or None
    if isinstance(value, str | int):
        return str(value)
    return None


def _chain(profile: Profile, attribute: str) -> Any:
    """The profile's entries for ``attribute`` followed by the generic profile's (once)."""
    generic = load_profiles()["generic"]
    own = getattr(profile, attribute)
    return own if profile is generic else own + getattr(generic, attribute)


class MfpSnmp:
    """Read one device through :class:`SnmpClient` and its vendor :class:`Profile`.

    ``profile=None`` selects the profile from sysObjectID/sysDescr on first use.
    """

    def __init__(self, client: SnmpClient, profile: Profile | None = None) -> None:
        self.client = client
        self.profile = profile
        self.rejections = 0

    def _reject(self, oid: Oid, value: SnmpValue, why: str) -> None:
        self.rejections += 1
        log.warning("%s: rejected %s = %r: %s", self.client.host, oid_str(oid), value, why)

    def _int(self, oid: Oid, value: SnmpValue, *, counter: bool = False) -> int | None:
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool):
            self._reject(oid, value, "expected an integer")
            return None
        if counter and not 0 <= value <= _COUNTER_MAX:
            self._reject(oid, value, "counter out of range")
            return None
        return value

    async def identify(self) -> Identity:
        """sysObjectID, sysDescr, vendor, model and serial; selects the profile."""
        system = await self.client.get([STD.sysObjectID, STD.sysDescr])
        sys_object_id = system.get(STD.sysObjectID)
        if sys_object_id is not None and not isinstance(sys_object_id, str):
            self._reject(STD.sysObjectID, sys_object_id, "expected an OBJECT IDENTIFIER")
            sys_object_id = None
        sys_descr = _text(system.get(STD.sysDescr)) or ""
        profile = self.profile or select_profile(sys_object_id or "", sys_descr)
        self.profile = profile
        model_sources = _chain(profile, "model")
        serial_sources = _chain(profile, "serial")
        wanted = [s.oid for s in (*model_sources, *serial_sources) if s.oid is not None]
        values = await self.client.get(list(dict.fromkeys(wanted)))
        return Identity(
            vendor=profile.brand(sys_descr),
            model=self._first(model_sources, values, sys_descr),
            serial=self._first(serial_sources, values, sys_descr),
            sys_object_id=sys_object_id or "",
            sys_descr=sys_descr,
            profile=profile.name,
        )

    @staticmethod
    def _first(sources: tuple[ValueSource, ...], values: dict[Oid, SnmpValue], sys_descr: str) -> str | None:
        for source in sources:
            raw = sys_descr if source.oid is None else _text(values.get(source.oid))
            found = source.extract(raw) if raw else None
            if found:
                return found
        return None

    async def _profile(self) -> Profile:
        if self.profile is None:
            await self.identify()
        assert self.profile is not None
        return self.profile

    async def counters(self) -> Counters:
        """Read every counter the profile (plus the generic Printer-MIB) knows."""
        return (await self._counters_and(()))[0]

    async def poll(self) -> tuple[Counters, Status]:
        """Counters and status with as few requests as possible (one GET shared by both)."""
        counters, values = await self._counters_and(_STATUS_OIDS)
        return counters, await self._status_from(values)

    async def _counters_and(self, extra: tuple[Oid, ...]) -> tuple[Counters, dict[Oid, SnmpValue]]:
        profile = await self._profile()
        sources: tuple[CounterSource, ...] = _chain(profile, "counters")
        # Scalars and tables whose rows are known by index are read with one GET;
        # only tables matched by a column (or "*") need a walk.
        wanted: list[tuple[Oid, str]] = []
        walked: list[CounterSource] = []
        for source in sources:
            if source.oid is not None and source.key is not None:
                wanted.append((source.oid, source.key))
            elif source.table is not None and source.match_column is None and "*" not in source.rows:
                wanted.extend(
                    (source.table + parse_oid(index), key)
                    for index, keys in source.rows.items()
                    for key in keys
                )
            else:
                walked.append(source)
        oids = list(dict.fromkeys(oid for oid, _ in wanted))  # a row feeding two keys is read once
        values = await self.client.get([*oids, STD.prtMarkerCounterUnit11, STD.sysUpTime, *extra])
        totals: dict[str, int] = defaultdict(int)
        for oid, key in wanted:
            number = self._int(oid, values.get(oid), counter=True)
            if number is not None:
                totals[key] += number
        for source in walked:
            for key, number in (await self._table(source)).items():
                totals[key] += number
        for key, parts in _chain(profile, "derived"):
            if key not in totals and all(p in totals for p in parts):
                totals[key] = sum(totals[p] for p in parts)
        unit = self._int(STD.prtMarkerCounterUnit11, values.get(STD.prtMarkerCounterUnit11))
        counters = Counters(
            values=dict(totals),
            life_count_unit=COUNTER_UNITS.get(unit, str(unit)) if unit is not None else None,
            uptime_ticks=self._int(STD.sysUpTime, values.get(STD.sysUpTime), counter=True),
            read_at_monotonic=time.monotonic(),
        )
        return counters, values

    async def _table(self, source: CounterSource) -> dict[str, int]:
        assert source.table is not None
        cells = await self.client.walk(source.table)
        labels: dict[str, str] = {}
        if source.match_column is not None:
            column = source.match_column
            for oid, value in await self.client.walk(column):
                label = _text(value)
                if label is not None:
                    labels[oid_str(oid[len(column) :])] = label
        totals: dict[str, int] = defaultdict(int)
        for oid, value in cells:
            index = oid_str(oid[len(source.table) :])
            keys = source.keys_for_row(index, labels.get(index))
            number = self._int(oid, value, counter=True) if keys else None
            if number is not None:
                for key in keys:
                    totals[key] += number
        return totals

    async def status(self) -> Status:
        """Device and printer status names, error bits by name, and the alert table."""
        return await self._status_from(await self.client.get(list(_STATUS_OIDS)))

    async def _status_from(self, values: dict[Oid, SnmpValue]) -> Status:
        device = self._int(STD.hrDeviceStatus1, values.get(STD.hrDeviceStatus1))
        printer = self._int(STD.hrPrinterStatus1, values.get(STD.hrPrinterStatus1))
        return Status(
            device=DEVICE_STATUS.get(device, f"unknown({device})") if device is not None else None,
            printer=PRINTER_STATUS.get(printer, f"unknown({printer})") if printer is not None else None,
            errors=self._errors(values.get(STD.hrPrinterDetectedErrorState1)),
            alerts=await self.alerts(),
        )

    def _errors(self, raw: SnmpValue) -> list[str]:
        oid = STD.hrPrinterDetectedErrorState1
        if raw is None:
            return []
        if not isinstance(raw, bytes):
            self._reject(oid, raw, "expected an OCTET STRING")
            return []
        if len(raw) > _MAX_ERROR_STATE_OCTETS:
            self._reject(oid, raw, f"error state of {len(raw)} octets")
            return []
        return decode_error_state(raw)

    async def _rows(self, entry: Oid) -> dict[int, dict[int, SnmpValue]]:
        """Walk a Printer-MIB table entry: {row index: {column: value}} (row = last sub-id)."""
        rows: dict[int, dict[int, SnmpValue]] = defaultdict(dict)
        for oid, value in await self.client.walk(entry):
            tail = oid[len(entry) :]
            if len(tail) < 2:
                self._reject(oid, value, "table cell without an index")
                continue
            rows[tail[-1]][tail[0]] = value
        return dict(sorted(rows.items()))

    async def alerts(self) -> list[Alert]:
        """The prtAlertTable, where the device has one."""
        alerts = []
        for index, cols in (await self._rows(STD.prtAlertEntry)).items():
            code = self._int((*STD.prtAlertEntry, 7), cols.get(7))
            severity = self._int((*STD.prtAlertEntry, 2), cols.get(2))
            alerts.append(
                Alert(
                    index=index,
                    severity=SEVERITY.get(severity, str(severity)) if severity is not None else None,
                    code=code,
                    code_name=ALERT_CODES.get(code) if code is not None else None,
                    group=self._int((*STD.prtAlertEntry, 4), cols.get(4)),
                    description=_text(cols.get(8)),
                    time_ticks=self._int((*STD.prtAlertEntry, 9), cols.get(9)),
                )
            )
        return alerts

    async def supplies(self) -> list[Supply]:
        """The prtMarkerSupplies table with percentages that respect -1/-2/-3."""
        profile = await self._profile()
        supplies = []
        for index, cols in (await self._rows(STD.prtMarkerSuppliesEntry)).items():
            level = self._int((*STD.prtMarkerSuppliesEntry, 9), cols.get(9))
            maximum = self._int((*STD.prtMarkerSuppliesEntry, 8), cols.get(8))
            type_code = self._int((*STD.prtMarkerSuppliesEntry, 5), cols.get(5))
            description = _text(cols.get(6))
            if description and profile.description_cut and profile.description_cut in description:
                description = description.split(profile.description_cut, 1)[0].strip()
            share = SupplyLevel(None)
            if level is not None:  # a missing maximum is not a known one: "other" (-1)
                capacity = maximum if maximum is not None else LEVEL_OTHER
                unit_percent = cols.get(7) == _UNIT_PERCENT
                share = supply_level(level, capacity, profile.level_codes, unit_percent=unit_percent)
            supplies.append(
                Supply(
                    index=index,
                    description=description,
                    type=SUPPLY_TYPES.get(type_code, str(type_code)) if type_code is not None else None,
                    level=level,
                    max=maximum,
                    percent=share.percent,
                    estimated=share.estimated,
                )
            )
        return supplies

    async def trays(self, low_percent: float = PAPER_LOW_PERCENT) -> list[PaperTray]:
        """The prtInputTable: every paper input with its level, capacity, media and state.

        A tray at or below ``low_percent`` of its capacity is ``LOW``. Where the device gives no
        prtInputType, a tray is taken for a manual feed when its name matches the profile's
        ``manual_tray_patterns`` (``bypass``, ``MP tray``, ...).
        """
        profile = await self._profile()
        patterns = _chain(profile, "manual_tray_patterns")
        entry = STD.prtInputEntry
        trays = []
        for index, cols in (await self._rows(entry)).items():
            level = self._int((*entry, 10), cols.get(10))
            maximum = self._int((*entry, 9), cols.get(9))
            type_code = self._int((*entry, 2), cols.get(2))
            name = _text(cols.get(13)) or _text(cols.get(18))
            if type_code is not None:
                manual = type_code == INPUT_TYPE_MANUAL
            else:
                manual = name is not None and any(pattern.search(name) for pattern in patterns)
            percent, state = tray_state(level, maximum, low_percent)
            trays.append(
                PaperTray(
                    index=index,
                    name=name,
                    media=_text(cols.get(12)),
                    kind=INPUT_TYPES.get(type_code, str(type_code)) if type_code is not None else None,
                    manual=manual,
                    level=level,
                    max=maximum,
                    percent=percent,
                    state=state,
                )
            )
        return trays

    async def probe(self) -> ProbeResult:
        """Identity, counters, status, supplies and paper trays in one go."""
        identity = await self.identify()
        return ProbeResult(
            identity=identity,
            counters=await self.counters(),
            status=await self.status(),
            supplies=await self.supplies(),
            trays=await self.trays(),
        )
