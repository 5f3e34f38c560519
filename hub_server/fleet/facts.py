"""What the hub takes from a device's messages: checked, typed facts.

Payloads have passed ``printgate.fleet_wire.decode`` (size, JSON object, schema version). Here
each message kind is read field by field; a field of the wrong type or out of range makes the
whole message :class:`~printgate.fleet_wire.MalformedPayload` (a device that sends garbage is
reported, not half-believed). Unknown keys are ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from printgate.fleet_wire import ACK_STATUSES, MalformedPayload, finite

__all__ = [
    "Ack",
    "Event",
    "Presence",
    "StateFacts",
    "Supply",
    "parse_ack",
    "parse_event",
    "parse_presence",
    "parse_state",
]

DEVICE_KINDS = ("terminal", "kiosk")
TONER_TYPES = frozenset({"toner", "tonerCartridge", "ink", "inkCartridge"})
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._:/+()-]{0,63}$")
_IDENT = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_MAX_COUNT = 2**53


def _int(document: dict[str, Any], key: str, *, low: int = 0, high: int = _MAX_COUNT) -> int | None:
    value = document.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise MalformedPayload(f"{key} must be an integer in {low}..{high}")
    return value


def _text(document: dict[str, Any], key: str, limit: int = 64) -> str | None:
    value = document.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise MalformedPayload(f"{key} must be text of at most {limit} characters")
    return value


def _object(document: dict[str, Any], key: str) -> dict[str, Any] | None:
    value = document.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise MalformedPayload(f"{key} must be an object")
    return value


@dataclass(frozen=True)
class Presence:
    """A status message."""

    online: bool
    session: int
    kind: str | None
    software_version: str | None


def parse_presence(document: dict[str, Any]) -> Presence:
    online = document.get("online")
    if not isinstance(online, bool):
        raise MalformedPayload("online must be true or false")
    kind = _text(document, "kind")
    if kind is not None and kind not in DEVICE_KINDS:
        raise MalformedPayload(f"kind must be one of {DEVICE_KINDS}")
    return Presence(online, _int(document, "session") or 0, kind, _text(document, "software_version"))


@dataclass(frozen=True)
class Supply:
    name: str
    type: str | None
    percent: float | None


@dataclass(frozen=True)
class StateFacts:
    """A state snapshot, as far as the hub acts on it."""

    kind: str
    session: int
    seq: int
    software_version: str | None
    boot_slot: str | None
    config_version: str | None
    reader_driver: str | None
    reader_present: bool | None
    mfp_status: str | None
    mfp_errors: tuple[str, ...]
    mfp_reachable: bool | None
    supplies: tuple[Supply, ...]
    journal_backlog: int | None
    certificate_not_after_s: int | None
    events_dropped: int | None

    def summary(self) -> dict[str, Any]:
        """The facts whose change is worth a history line (not counters or uptime)."""
        return {
            "software_version": self.software_version,
            "boot_slot": self.boot_slot,
            "config_version": self.config_version,
            "reader_present": self.reader_present,
            "mfp_status": self.mfp_status,
            "mfp_errors": list(self.mfp_errors),
            "mfp_reachable": self.mfp_reachable,
            "supplies": [[s.name, s.type, s.percent] for s in self.supplies],
            "certificate_not_after_s": self.certificate_not_after_s,
        }


def _supplies(raw: Any) -> tuple[Supply, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or len(raw) > 64:
        raise MalformedPayload("mfp.supplies must be a list of at most 64")
    supplies = []
    for item in raw:
        if not isinstance(item, dict):
            raise MalformedPayload("a supply must be an object")
        name = _text(item, "name")
        if name is None or not _NAME.match(name):
            raise MalformedPayload("a supply needs a printable name")
        percent = item.get("percent")
        if percent is not None and (not finite(percent) or not 0 <= percent <= 100):
            raise MalformedPayload("supply percent must be 0..100")
        supplies.append(Supply(name, _text(item, "type"), None if percent is None else float(percent)))
    return tuple(supplies)


def _errors(raw: Any) -> tuple[str, ...]:
    if raw is None:
        return ()
    if (
        not isinstance(raw, list)
        or len(raw) > 32
        or not all(isinstance(e, str) and _NAME.match(e) for e in raw)
    ):
        raise MalformedPayload("mfp.errors must be a list of at most 32 names")
    return tuple(sorted(set(raw)))


def parse_state(document: dict[str, Any], *, kinds: tuple[str, ...] = DEVICE_KINDS) -> StateFacts:
    kind = _text(document, "kind")
    if kind not in kinds:
        raise MalformedPayload(f"kind must be one of {kinds}")
    software = _object(document, "software") or {}
    reader = _object(document, "reader")
    mfp = _object(document, "mfp")
    present = reader.get("present") if reader else None
    if present is not None and not isinstance(present, bool):
        raise MalformedPayload("reader.present must be true or false")
    reachable = mfp.get("reachable") if mfp else None
    if reachable is not None and not isinstance(reachable, bool):
        raise MalformedPayload("mfp.reachable must be true or false")
    return StateFacts(
        kind=kind,
        session=_int(document, "session") or 0,
        seq=_int(document, "seq") or 0,
        software_version=_text(software, "version"),
        boot_slot=_text(software, "boot_slot", 8),
        config_version=_text(document, "config_version"),
        reader_driver=_text(reader, "driver") if reader else None,
        reader_present=present,
        mfp_status=_text(mfp, "status") if mfp else None,
        mfp_errors=_errors(mfp.get("errors")) if mfp else (),
        mfp_reachable=reachable,
        supplies=_supplies(mfp.get("supplies")) if mfp else (),
        journal_backlog=_int(document, "journal_backlog"),
        certificate_not_after_s=_int(document, "certificate_not_after_s"),
        events_dropped=_int(document, "events_dropped"),
    )


@dataclass(frozen=True)
class Event:
    event_id: str
    type: str
    severity: str
    detail: dict[str, Any]


def parse_event(document: dict[str, Any]) -> Event:
    event_id = _text(document, "id")
    if event_id is None or not _ID.match(event_id):
        raise MalformedPayload("an event needs an id of 1..64 letters, digits, - or _")
    kind = _text(document, "type")
    if kind is None or not _IDENT.match(kind):
        raise MalformedPayload("an event needs a type (lower-case identifier)")
    severity = _text(document, "severity")
    if severity not in ("fault", "recovery", "info"):
        raise MalformedPayload("severity must be fault, recovery or info")
    return Event(event_id, kind, severity, _object(document, "detail") or {})


@dataclass(frozen=True)
class Ack:
    command_id: str
    status: str
    detail: str
    result: dict[str, Any]


def parse_ack(document: dict[str, Any]) -> Ack:
    command_id = _text(document, "id")
    if command_id is None or not _ID.match(command_id):
        raise MalformedPayload("an answer needs the command id")
    status = _text(document, "status")
    if status not in ACK_STATUSES:
        raise MalformedPayload(f"status must be one of {ACK_STATUSES}")
    return Ack(command_id, status, _text(document, "detail", 500) or "", _object(document, "result") or {})
