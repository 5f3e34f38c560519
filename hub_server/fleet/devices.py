"""Current state and history of devices, in the caller's transaction.

Presence follows the session numbers devices put into their status and will: a message of an
older session than the one recorded is stale (the will of a connection that a newer one already
replaced) and changes nothing; a state snapshot of a newer session is proof of presence. State
snapshots apply only in (session, seq) order, so a reordered or replayed older one is ignored.
A history line is written when presence or the state's summary changes, not for every snapshot.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from hub_server.fleet.errors import InvalidRequest, SourceConflict
from hub_server.fleet.facts import Event, Presence, StateFacts
from hub_server.storage.base import Tx

__all__ = [
    "device_row",
    "history",
    "list_devices",
    "record_event",
    "record_history",
    "record_presence",
    "record_state",
    "set_group",
]

_COLUMNS = (
    "device_id, kind, source, group_name, online, session, last_seen_us, offline_since_us, state_json, "
    "state_session, state_seq, state_us, software_version, config_version, config_notified, "
    "reader_missing_since_us, mfp_error_since_us, journal_backlog, journal_growth, summary_json, created_us"
)


def device_row(tx: Tx, device_id: str) -> dict[str, Any] | None:
    row = tx.one(f"SELECT {_COLUMNS} FROM fleet_devices WHERE device_id = :d", {"d": device_id})
    return dict(row) if row is not None else None


_INSERT_HISTORY = "INSERT INTO fleet_history (device_id, at_us, kind, summary_json) VALUES (:d, :at, :k, :s)"


def record_history(tx: Tx, device_id: str, now_us: int, kind: str, summary: Mapping[str, Any]) -> None:
    tx.execute(
        _INSERT_HISTORY, {"d": device_id, "at": now_us, "k": kind, "s": json.dumps(summary, sort_keys=True)}
    )


def record_history_many(
    tx: Tx, now_us: int, kind: str, entries: Sequence[tuple[str, Mapping[str, Any]]]
) -> None:
    """One history line per (device id, summary), in one statement."""
    tx.execute_many(
        _INSERT_HISTORY,
        [
            {"d": device_id, "at": now_us, "k": kind, "s": json.dumps(summary, sort_keys=True)}
            for device_id, summary in entries
        ],
    )


def _ensure(tx: Tx, device_id: str, kind: str, source: str, now_us: int) -> dict[str, Any]:
    row = device_row(tx, device_id)
    if row is None:
        tx.execute(
            "INSERT INTO fleet_devices (device_id, kind, source, last_seen_us, offline_since_us, created_us) "
            "VALUES (:d, :k, :s, :now, :now, :now) ON CONFLICT (device_id) DO NOTHING",
            {"d": device_id, "k": kind, "s": source, "now": now_us},
        )
        row = device_row(tx, device_id)
        assert row is not None
    if row["source"] != source:
        raise SourceConflict(f"{device_id} is a {row['kind']} reported by {row['source']}, not by {source}")
    return row


def record_presence(
    tx: Tx, device_id: str, presence: Presence, now_us: int, *, source: str = "mqtt"
) -> dict[str, Any] | None:
    """Apply a status message; the updated row, or None when it was stale."""
    row = _ensure(tx, device_id, presence.kind or "terminal", source, now_us)
    if presence.session < row["session"]:
        return None
    changed = bool(row["online"]) != presence.online
    if presence.online:
        offline_since = None
    elif changed or row["offline_since_us"] is None:
        offline_since = now_us
    else:
        offline_since = row["offline_since_us"]
    tx.execute(
        "UPDATE fleet_devices SET online = :online, session = :session, last_seen_us = :now, "
        "offline_since_us = :since, kind = :kind, "
        "software_version = CASE WHEN :version = '' THEN software_version ELSE :version END "
        "WHERE device_id = :d",
        {
            "online": int(presence.online),
            "session": presence.session,
            "now": now_us,
            "since": offline_since,
            "kind": presence.kind or row["kind"],
            "version": presence.software_version or "",
            "d": device_id,
        },
    )
    if changed:
        record_history(
            tx, device_id, now_us, "presence", {"online": presence.online, "session": presence.session}
        )
    return device_row(tx, device_id)


def _since(current: int | None, active: bool, now_us: int) -> int | None:
    if not active:
        return None
    return current if current is not None else now_us


def record_state(
    tx: Tx,
    device_id: str,
    facts: StateFacts,
    state_json: str,
    now_us: int,
    *,
    source: str = "mqtt",
    blocking_errors: frozenset[str] = frozenset(),
) -> dict[str, Any] | None:
    """Apply a state snapshot; the updated row, or None when it was older than the stored one."""
    row = _ensure(tx, device_id, facts.kind, source, now_us)
    if (facts.session, facts.seq) <= (row["state_session"], row["state_seq"]) and source == "mqtt":
        return None
    if facts.session > row["session"] and not row["online"]:
        # A snapshot of a newer connection than the last will: the device is back.
        tx.execute(
            "UPDATE fleet_devices SET online = 1, session = :s, offline_since_us = NULL WHERE device_id = :d",
            {"s": facts.session, "d": device_id},
        )
        record_history(tx, device_id, now_us, "presence", {"online": True, "session": facts.session})
    backlog = facts.journal_backlog
    previous = row["journal_backlog"]
    if backlog is None or backlog == 0:
        growth = 0
    elif previous is not None and backlog > previous:
        growth = row["journal_growth"] + 1
    elif previous is not None and backlog < previous:
        growth = 0
    else:
        growth = row["journal_growth"]
    in_error = bool(set(facts.mfp_errors) & blocking_errors) or facts.mfp_reachable is False
    summary = facts.summary()
    tx.execute(
        "UPDATE fleet_devices SET state_json = :json, state_session = :session, state_seq = :seq, "
        "state_us = :now, last_seen_us = :now, kind = :kind, "
        "software_version = :version, config_version = :config, "
        "reader_missing_since_us = :reader_since, mfp_error_since_us = :mfp_since, "
        "journal_backlog = :backlog, journal_growth = :growth, summary_json = :summary "
        "WHERE device_id = :d",
        {
            "json": state_json,
            "session": facts.session,
            "seq": facts.seq,
            "now": now_us,
            "kind": facts.kind,
            "version": facts.software_version or row["software_version"],
            "config": facts.config_version or "",
            "reader_since": _since(row["reader_missing_since_us"], facts.reader_present is False, now_us),
            "mfp_since": _since(row["mfp_error_since_us"], in_error, now_us),
            "backlog": backlog,
            "growth": growth,
            "summary": json.dumps(summary, sort_keys=True),
            "d": device_id,
        },
    )
    if json.loads(row["summary_json"] or "{}") != summary:
        record_history(tx, device_id, now_us, "state", summary)
    return device_row(tx, device_id)


def record_event(tx: Tx, device_id: str, event: Event, payload_json: str, now_us: int) -> bool:
    """Keep an event once; False for a duplicate (QoS 1 redelivery, replay)."""
    _ensure(tx, device_id, "terminal", "mqtt", now_us)
    inserted = tx.execute(
        "INSERT INTO fleet_events (device_id, event_id, at_us, type, severity, payload_json) "
        "VALUES (:d, :e, :at, :t, :s, :p) ON CONFLICT (device_id, event_id) DO NOTHING RETURNING event_id",
        {
            "d": device_id,
            "e": event.event_id,
            "at": now_us,
            "t": event.type,
            "s": event.severity,
            "p": payload_json,
        },
    )
    if not inserted:
        return False
    summary: dict[str, Any] = {"type": event.type, "severity": event.severity}
    if event.detail:
        summary["detail"] = event.detail
    record_history(tx, device_id, now_us, "event", summary)
    return True


def set_group(tx: Tx, device_id: str, group: str) -> dict[str, Any] | None:
    tx.execute("UPDATE fleet_devices SET group_name = :g WHERE device_id = :d", {"g": group, "d": device_id})
    return device_row(tx, device_id)


def list_devices(tx: Tx, kind: str = "", group: str = "", offline_only: bool = False) -> list[dict[str, Any]]:
    rows = tx.execute(
        f"SELECT {_COLUMNS}, (SELECT COUNT(*) FROM fleet_alerts a WHERE a.device_id = d.device_id "
        "AND a.cleared_us IS NULL) AS open_alerts FROM fleet_devices d "
        "WHERE (:kind = '' OR kind = :kind) AND (:grp = '' OR group_name = :grp) "
        "AND (:offline = 0 OR online = 0) ORDER BY device_id",
        {"kind": kind, "grp": group, "offline": int(offline_only)},
    )
    return [dict(row) for row in rows]


def check_commanded_kind(kind: str) -> None:
    """Commands go to terminals, kiosks, or (empty) both; printers the hub polls take none."""
    if kind not in ("", "terminal", "kiosk"):
        raise InvalidRequest("kind is terminal, kiosk or empty for both")


def command_targets(tx: Tx, kind: str = "", group: str = "") -> list[str]:
    """The ids of the devices that take commands (terminals and kiosks), of ``kind`` and ``group``
    when given."""
    check_commanded_kind(kind)
    rows = tx.execute(
        "SELECT device_id FROM fleet_devices WHERE source = 'mqtt' AND (:kind = '' OR kind = :kind) "
        "AND (:grp = '' OR group_name = :grp) ORDER BY device_id",
        {"kind": kind, "grp": group},
    )
    return [row["device_id"] for row in rows]


def history(tx: Tx, device_id: str, limit: int) -> list[dict[str, Any]]:
    rows = tx.execute(
        "SELECT at_us, kind, summary_json FROM fleet_history WHERE device_id = :d "
        "ORDER BY at_us DESC, id DESC LIMIT :limit",
        {"d": device_id, "limit": limit},
    )
    return [dict(row) for row in rows]
