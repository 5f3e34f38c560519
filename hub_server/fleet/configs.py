"""Central configuration: versions per device and per group, and a device's effective document.

Every ``put`` stores a new version (1, 2, ...) of one scope (``device`` or ``group``) and name;
old versions stay for the record. A device's **effective** configuration is its group's latest
document overlaid (deeply, key by key) with its own latest document; its version is the start of
the SHA-256 of the canonical JSON, so the same content has the same version on every replica.
A device reports the version it runs in its state; when that differs from its effective version
the hub tells it once per version (a ``reload_config`` command) — at once when it is online,
otherwise when it is back.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from hub_server.fleet.errors import InvalidRequest
from hub_server.storage.base import Tx

__all__ = ["MAX_DOCUMENT_BYTES", "Effective", "effective", "get", "notification_due", "put"]

MAX_DOCUMENT_BYTES = 64 * 1024
SCOPES = ("device", "group")


def _canonical(document: Any) -> str:
    return json.dumps(document, sort_keys=True, separators=(",", ":"))


def _check(scope: str, name: str, document: Any) -> str:
    if scope not in SCOPES:
        raise InvalidRequest("scope is device or group")
    if not name or len(name) > 64:
        raise InvalidRequest("a configuration needs a device id or group name of 1..64 characters")
    if not isinstance(document, dict):
        raise InvalidRequest("a configuration is a JSON object")
    text = _canonical(document)
    if len(text.encode()) > MAX_DOCUMENT_BYTES:
        raise InvalidRequest(f"a configuration is at most {MAX_DOCUMENT_BYTES} bytes")
    return text


def put(tx: Tx, scope: str, name: str, document: Any, created_by: str, now_us: int) -> dict[str, Any]:
    """Store a new version; returns its row."""
    text = _check(scope, name, document)
    latest = tx.scalar(
        "SELECT MAX(version) FROM fleet_configs WHERE scope = :s AND name = :n", {"s": scope, "n": name}
    )
    version = (latest or 0) + 1
    tx.execute(
        "INSERT INTO fleet_configs (scope, name, version, document_json, created_by, created_us) "
        "VALUES (:s, :n, :v, :doc, :by, :now)",
        {"s": scope, "n": name, "v": version, "doc": text, "by": created_by, "now": now_us},
    )
    found = get(tx, scope, name, version)
    assert found is not None
    return found


def get(tx: Tx, scope: str, name: str, version: int = 0) -> dict[str, Any] | None:
    """A version (0: the latest) of one scope and name, or None."""
    if version:
        row = tx.one(
            "SELECT * FROM fleet_configs WHERE scope = :s AND name = :n AND version = :v",
            {"s": scope, "n": name, "v": version},
        )
    else:
        row = tx.one(
            "SELECT * FROM fleet_configs WHERE scope = :s AND name = :n ORDER BY version DESC LIMIT 1",
            {"s": scope, "n": name},
        )
    return dict(row) if row is not None else None


def _overlay(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _overlay(merged[key], value)
        else:
            merged[key] = value
    return merged


class Effective:
    """A device's effective configuration."""

    def __init__(self, document: dict[str, Any], group_version: int, device_version: int) -> None:
        self.document = document
        self.group_version = group_version
        self.device_version = device_version
        configured = group_version or device_version
        self.version = hashlib.sha256(_canonical(document).encode()).hexdigest()[:16] if configured else ""


def effective(tx: Tx, device_id: str, group: str) -> Effective:
    """The group's latest document overlaid with the device's latest."""
    group_row = get(tx, "group", group) if group else None
    device_row = get(tx, "device", device_id)
    document: dict[str, Any] = {}
    if group_row is not None:
        document = json.loads(group_row["document_json"])
    if device_row is not None:
        document = _overlay(document, json.loads(device_row["document_json"]))
    return Effective(
        document,
        group_row["version"] if group_row else 0,
        device_row["version"] if device_row else 0,
    )


def notification_due(tx: Tx, device: dict[str, Any]) -> str | None:
    """The version to tell ``device`` (a fleet_devices row) of, once; None when nothing is due."""
    if device["source"] != "mqtt" or not device["online"]:
        return None
    version = effective(tx, device["device_id"], device["group_name"]).version
    if not version or version == device["config_version"] or version == device["config_notified"]:
        return None
    tx.execute(
        "UPDATE fleet_devices SET config_notified = :v WHERE device_id = :d",
        {"v": version, "d": device["device_id"]},
    )
    return version
