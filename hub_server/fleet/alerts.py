"""Alerts: conditions computed from a device's stored facts, raised once and cleared once.

:func:`conditions` is pure: given a device row and the time, the set of alerts that should be
open. :func:`reconcile` compares that set with the open alerts in the database, inside the
caller's transaction: it raises the missing ones and clears the ones no longer true, and writes
one outbox row per delivery channel for each transition. Because the open alerts live in the
database (a partial unique index allows one open alert per key), a hub that restarts, or a
second replica, computes the same set and changes nothing: no alert is raised twice.

Kinds (thresholds in :class:`AlertThresholds`, the ``[fleet.alerts]`` table of hub.toml):

* ``offline`` — offline (will, clean ``online: false``, or SNMP silent) for ``offline_after_s``;
* ``reader_missing`` — the card reader absent for ``reader_missing_after_s``;
* ``mfp_error`` — the MFP in a blocking error, or unreachable, for ``mfp_error_after_s``;
* ``toner_low`` — a toner or ink supply below ``toner_below_percent`` (one alert per supply);
* ``certificate_expiring`` — the device certificate ends within ``certificate_within_s``;
* ``journal_backlog`` — the offline journal grew over ``journal_growth_reports`` state reports
  in a row, or holds ``journal_backlog_max`` entries or more.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from hub_server.fleet.facts import TONER_TYPES
from hub_server.storage.base import Tx

__all__ = ["ALERT_KINDS", "AlertCondition", "AlertThresholds", "conditions", "reconcile"]

ALERT_KINDS = (
    "offline",
    "reader_missing",
    "mfp_error",
    "toner_low",
    "certificate_expiring",
    "journal_backlog",
)
_US = 1_000_000


@dataclass(frozen=True)
class AlertThresholds:
    """When a condition becomes an alert (the ``[fleet.alerts]`` table of hub.toml)."""

    offline_after_s: int = 600
    reader_missing_after_s: int = 60
    mfp_error_after_s: int = 900
    toner_below_percent: float = 10.0
    certificate_within_s: int = 7 * 86_400
    journal_growth_reports: int = 3
    journal_backlog_max: int = 500

    def __post_init__(self) -> None:
        if min(self.offline_after_s, self.reader_missing_after_s, self.mfp_error_after_s) < 0:
            raise ValueError("[fleet.alerts] durations must be >= 0")
        if not 0 <= self.toner_below_percent <= 100:
            raise ValueError("[fleet.alerts] toner_below_percent must be 0..100")
        if self.journal_growth_reports < 1 or self.journal_backlog_max < 1:
            raise ValueError("[fleet.alerts] journal thresholds must be >= 1")


@dataclass(frozen=True)
class AlertCondition:
    """One alert that should be open."""

    device_id: str
    kind: str
    subject: str
    detail: str

    @property
    def key(self) -> str:
        return f"{self.device_id}|{self.kind}|{self.subject}"


def _held(since_us: int | None, now_us: int, after_s: int) -> bool:
    return since_us is not None and now_us - since_us >= after_s * _US


def conditions(device: Mapping[str, Any], now_us: int, limits: AlertThresholds) -> list[AlertCondition]:
    """The alerts that should be open for ``device`` (a ``fleet_devices`` row) at ``now_us``."""
    device_id = device["device_id"]
    found: list[AlertCondition] = []

    def add(kind: str, detail: str, subject: str = "") -> None:
        found.append(AlertCondition(device_id, kind, subject, detail))

    if not device["online"] and _held(device["offline_since_us"], now_us, limits.offline_after_s):
        minutes = (now_us - device["offline_since_us"]) // (60 * _US)
        add("offline", f"offline for {minutes} min")
    if _held(device["reader_missing_since_us"], now_us, limits.reader_missing_after_s):
        add("reader_missing", "the card reader is not present")
    summary = json.loads(device["summary_json"] or "{}")
    if _held(device["mfp_error_since_us"], now_us, limits.mfp_error_after_s):
        errors = ", ".join(summary.get("mfp_errors") or []) or "unreachable"
        add("mfp_error", f"MFP in error: {errors}")
    for name, supply_type, percent in summary.get("supplies") or []:
        if percent is not None and supply_type in TONER_TYPES and percent < limits.toner_below_percent:
            add("toner_low", f"{name} at {percent:.0f} %", subject=name)
    not_after_s = summary.get("certificate_not_after_s")
    if not_after_s is not None and not_after_s * _US - now_us <= limits.certificate_within_s * _US:
        days = max(0, (not_after_s * _US - now_us) // (86_400 * _US))
        add("certificate_expiring", f"device certificate ends in {days} days")
    backlog = device["journal_backlog"] or 0
    if backlog > 0 and (
        device["journal_growth"] >= limits.journal_growth_reports or backlog >= limits.journal_backlog_max
    ):
        add("journal_backlog", f"{backlog} journal entries waiting for the hub")
    return found


def reconcile(
    tx: Tx, device_id: str, wanted: Iterable[AlertCondition], now_us: int, channels: tuple[str, ...]
) -> list[tuple[str, AlertCondition]]:
    """Make the open alerts of ``device_id`` equal ``wanted``; the transitions made
    (``("raised"|"cleared", condition)``), each with an outbox row per channel."""
    wanted_by_key = {condition.key: condition for condition in wanted}
    open_rows = tx.execute(
        "SELECT id, alert_key, kind, subject, detail FROM fleet_alerts "
        "WHERE device_id = :device AND cleared_us IS NULL",
        {"device": device_id},
    )
    open_keys = {row["alert_key"] for row in open_rows}
    transitions: list[tuple[str, AlertCondition]] = []
    for row in open_rows:
        if row["alert_key"] not in wanted_by_key:
            tx.execute(
                "UPDATE fleet_alerts SET cleared_us = :now WHERE id = :id AND cleared_us IS NULL",
                {"now": now_us, "id": row["id"]},
            )
            condition = AlertCondition(device_id, row["kind"], row["subject"], row["detail"])
            _outbox(tx, row["id"], "cleared", channels, now_us)
            _history(tx, device_id, now_us, "cleared", condition)
            transitions.append(("cleared", condition))
    for key, condition in wanted_by_key.items():
        if key in open_keys:
            continue
        alert_id = uuid.uuid4().hex
        tx.execute(
            "INSERT INTO fleet_alerts (id, alert_key, device_id, kind, subject, detail, raised_us) "
            "VALUES (:id, :key, :device, :kind, :subject, :detail, :now)",
            {
                "id": alert_id,
                "key": key,
                "device": device_id,
                "kind": condition.kind,
                "subject": condition.subject,
                "detail": condition.detail,
                "now": now_us,
            },
        )
        _outbox(tx, alert_id, "raised", channels, now_us)
        _history(tx, device_id, now_us, "raised", condition)
        transitions.append(("raised", condition))
    return transitions


def _outbox(tx: Tx, alert_id: str, transition: str, channels: tuple[str, ...], now_us: int) -> None:
    for channel in channels:
        tx.execute(
            "INSERT INTO fleet_alert_outbox (alert_id, transition, channel, created_us, next_attempt_us) "
            "VALUES (:alert, :transition, :channel, :now, :now)",
            {"alert": alert_id, "transition": transition, "channel": channel, "now": now_us},
        )


def _history(tx: Tx, device_id: str, now_us: int, transition: str, condition: AlertCondition) -> None:
    summary = {"alert": condition.kind, "subject": condition.subject, "transition": transition}
    summary["detail"] = condition.detail
    tx.execute(
        "INSERT INTO fleet_history (device_id, at_us, kind, summary_json) VALUES (:d, :at, 'alert', :s)",
        {"d": device_id, "at": now_us, "s": json.dumps(summary, sort_keys=True)},
    )
