"""What a device tells the fleet: its state snapshot and its events, as plain data.

The engines fill a :class:`StateSnapshot` (every field optional but ``kind``: a device reports
what it can read) and raise :class:`DeviceEvent` on faults and recoveries. Neither carries a
card number, a PIN or a user name: there is no field for one, and the encoder refuses
documents with such keys anyway (``printgate.fleet_wire.check_no_personal_data``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "EVENT_SEVERITIES",
    "EVENT_TYPES",
    "DeviceEvent",
    "MfpState",
    "ReaderState",
    "SoftwareState",
    "StateSnapshot",
    "SupplyLevel",
]

# Faults come with their recovery, so the hub can pair them.
EVENT_TYPES: frozenset[str] = frozenset(
    {
        "started",
        "reader_lost",
        "reader_back",
        "jam",
        "jam_cleared",
        "out_of_paper",
        "paper_loaded",
        "mfp_error",
        "mfp_recovered",
        "hub_unreachable",
        "hub_reachable",
        "journal_replayed",
        "config_applied",
        "config_rejected",
        "buffer_overflow",
    }
)
EVENT_SEVERITIES: tuple[str, ...] = ("fault", "recovery", "info")


def _drop_none(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


@dataclass(frozen=True)
class SoftwareState:
    """The running software and the A/B slot it booted from."""

    version: str
    boot_slot: str | None = None

    def to_document(self) -> dict[str, Any]:
        return _drop_none({"version": self.version, "boot_slot": self.boot_slot})


@dataclass(frozen=True)
class ReaderState:
    """The card reader: which driver, and whether it is there."""

    driver: str
    present: bool

    def to_document(self) -> dict[str, Any]:
        return {"driver": self.driver, "present": self.present}


@dataclass(frozen=True)
class SupplyLevel:
    """One supply (toner, drum, waste...) with its level in percent where the MFP says."""

    name: str
    type: str | None = None
    percent: float | None = None

    def to_document(self) -> dict[str, Any]:
        return _drop_none({"name": self.name, "type": self.type, "percent": self.percent})


@dataclass(frozen=True)
class MfpState:
    """The MFP as its SNMP agent reports it (``mfp_adapters.Status``/``Supply``/``Counters``)."""

    status: str | None = None
    errors: tuple[str, ...] = ()
    supplies: tuple[SupplyLevel, ...] = ()
    counters: dict[str, int] = field(default_factory=dict)
    reachable: bool = True

    def to_document(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "errors": sorted(self.errors),
            "supplies": [supply.to_document() for supply in self.supplies],
            "counters": dict(sorted(self.counters.items())),
            "reachable": self.reachable,
        }


@dataclass(frozen=True)
class StateSnapshot:
    """One device's state; ``to_document`` is the body of its retained ``state`` message."""

    kind: str
    software: SoftwareState | None = None
    uptime_s: int | None = None
    config_version: str | None = None
    reader: ReaderState | None = None
    mfp: MfpState | None = None
    journal_backlog: int | None = None
    offline_cache_age_s: int | None = None
    certificate_not_after_s: int | None = None  # Unix time the device certificate expires
    free_space_bytes: int | None = None
    temperature_c: float | None = None

    def to_document(self) -> dict[str, Any]:
        return _drop_none(
            {
                "kind": self.kind,
                "software": self.software.to_document() if self.software else None,
                "uptime_s": self.uptime_s,
                "config_version": self.config_version,
                "reader": self.reader.to_document() if self.reader else None,
                "mfp": self.mfp.to_document() if self.mfp else None,
                "journal_backlog": self.journal_backlog,
                "offline_cache_age_s": self.offline_cache_age_s,
                "certificate_not_after_s": self.certificate_not_after_s,
                "free_space_bytes": self.free_space_bytes,
                "temperature_c": self.temperature_c,
            }
        )


@dataclass(frozen=True)
class DeviceEvent:
    """A fault, a recovery or a notable moment; ``detail`` holds device facts only."""

    type: str
    severity: str
    detail: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.type not in EVENT_TYPES:
            raise ValueError(f"unknown event type {self.type!r}")
        if self.severity not in EVENT_SEVERITIES:
            raise ValueError(f"severity must be one of {EVENT_SEVERITIES}")
