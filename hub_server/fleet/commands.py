"""Remote commands: the audit record (who, when, what, result), answers and time-outs.

A command is recorded (``sent``) in the same transaction that checks its device and arguments;
it is published after that transaction commits, with a fresh random id and an expiry (its
deadline) so a device refuses it after the hub has given up on it. Answers move it from ``sent``
to ``accepted`` and to a final ``done``/``failed``/``rejected``; a command without a final
answer by its deadline becomes ``timed_out``. Final states never change again: a late or
duplicated answer, or an answer from a device the command was not sent to, is ignored.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from printgate import fleet_wire

from hub_server.fleet import devices
from hub_server.fleet.errors import InvalidRequest, UnknownCommand, UnknownDevice
from hub_server.fleet.facts import Ack
from hub_server.storage.base import Tx

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "FINAL",
    "Outgoing",
    "Prepared",
    "command_row",
    "expire",
    "issue",
    "prepare",
    "record",
    "record_ack",
]

DEFAULT_TIMEOUT_S = {
    "restart_app": 180,
    "reboot": 600,
    "reload_config": 120,
    "set_log_level": 60,
    "show_message": 60,
    "collect_diagnostics": 300,
    "install_update": 3600,
}
MAX_TIMEOUT_S = 86_400
FINAL = frozenset({"done", "failed", "rejected", "timed_out"})
_US = 1_000_000
_COLUMNS = (
    "id, device_id, verb, args_json, issued_by, issued_us, deadline_us, status, detail, result_json, "
    "finished_us, rollout_id"
)


@dataclass(frozen=True)
class Outgoing:
    """A command message to publish once its transaction has committed."""

    device_id: str
    command_id: str
    payload: bytes


def command_row(tx: Tx, command_id: str) -> dict[str, Any]:
    row = tx.one(f"SELECT {_COLUMNS} FROM fleet_commands WHERE id = :id", {"id": command_id})
    if row is None:
        raise UnknownCommand(f"no command {command_id[:64]!r}")
    return dict(row)


def issue(
    tx: Tx,
    device_id: str,
    verb: str,
    args: Any,
    issued_by: str,
    now_us: int,
    *,
    timeout_s: int = 0,
    rollout_id: str | None = None,
) -> tuple[dict[str, Any], Outgoing]:
    """Record a command for ``device_id`` and make its message."""
    device = devices.device_row(tx, device_id)
    if device is None:
        raise UnknownDevice(f"no device {device_id[:64]!r} has reported to the fleet")
    if device["source"] != "mqtt":
        raise InvalidRequest(f"{device_id} is a printer the hub polls; it takes no commands")
    command = prepare(verb, args, issued_by, now_us, timeout_s=timeout_s, rollout_id=rollout_id)
    return record(tx, command, [device_id])[0]


@dataclass(frozen=True)
class Prepared:
    """A command whose arguments and deadline are checked, to record for any number of devices."""

    verb: str
    args: Any
    issued_by: str
    issued_us: int
    deadline_us: int
    rollout_id: str | None


def prepare(
    verb: str,
    args: Any,
    issued_by: str,
    now_us: int,
    *,
    timeout_s: int = 0,
    rollout_id: str | None = None,
) -> Prepared:
    """Check a command's arguments and time-out (:class:`InvalidRequest`) before anything is recorded."""
    try:
        checked = fleet_wire.check_command_args(verb, args)
    except ValueError as error:
        raise InvalidRequest(str(error)) from None
    timeout_s = timeout_s or DEFAULT_TIMEOUT_S[verb]
    if not 1 <= timeout_s <= MAX_TIMEOUT_S:
        raise InvalidRequest(f"timeout_s must be 1..{MAX_TIMEOUT_S}")
    return Prepared(verb, checked, issued_by, now_us, now_us + timeout_s * _US, rollout_id)


def record(tx: Tx, command: Prepared, device_ids: Sequence[str]) -> list[tuple[dict[str, Any], Outgoing]]:
    """Record ``command`` for each of ``device_ids`` and make their messages: one statement for
    all the commands and one for their history lines, so a whole fleet costs milliseconds, not
    a round trip per device."""
    args_json = json.dumps(command.args, sort_keys=True)
    rows: list[dict[str, Any]] = [
        {
            "id": secrets.token_hex(16),
            "device_id": device_id,
            "verb": command.verb,
            "args_json": args_json,
            "issued_by": command.issued_by,
            "issued_us": command.issued_us,
            "deadline_us": command.deadline_us,
            "status": "sent",
            "detail": "",
            "result_json": "{}",
            "finished_us": None,
            "rollout_id": command.rollout_id,
        }
        for device_id in device_ids
    ]
    tx.execute_many(
        f"INSERT INTO fleet_commands ({_COLUMNS}) VALUES (:id, :device_id, :verb, :args_json, :issued_by, "
        ":issued_us, :deadline_us, :status, :detail, :result_json, :finished_us, :rollout_id)",
        rows,
    )
    devices.record_history_many(
        tx,
        command.issued_us,
        "command",
        [
            (
                row["device_id"],
                {"id": row["id"], "verb": command.verb, "status": "sent", "by": command.issued_by},
            )
            for row in rows
        ],
    )
    return [
        (
            row,
            Outgoing(
                row["device_id"],
                row["id"],
                fleet_wire.encode(
                    {
                        "id": row["id"],
                        "verb": command.verb,
                        "args": command.args,
                        "issued_s": command.issued_us // _US,
                        "expires_s": command.deadline_us // _US,
                    }
                ),
            ),
        )
        for row in rows
    ]


def record_ack(tx: Tx, device_id: str, ack: Ack, now_us: int) -> dict[str, Any] | None:
    """Apply a device's answer; the updated command, or None when it changes nothing (one
    conditional update: the hub's hottest statement when a whole fleet answers at once)."""
    if ack.status == "accepted":
        rows = tx.execute(
            "UPDATE fleet_commands SET status = 'accepted' "
            f"WHERE id = :id AND device_id = :d AND status = 'sent' RETURNING {_COLUMNS}",
            {"id": ack.command_id, "d": device_id},
        )
    else:
        rows = tx.execute(
            "UPDATE fleet_commands SET status = :status, detail = :detail, result_json = :result, "
            "finished_us = :now WHERE id = :id AND device_id = :d AND status IN ('sent', 'accepted') "
            f"RETURNING {_COLUMNS}",
            {
                "status": ack.status,
                "detail": ack.detail,
                "result": json.dumps(ack.result, sort_keys=True),
                "now": now_us,
                "id": ack.command_id,
                "d": device_id,
            },
        )
    if not rows:
        return None
    row = dict(rows[0])
    summary = {"id": ack.command_id, "verb": row["verb"], "status": ack.status}
    if ack.detail:
        summary["detail"] = ack.detail
    devices.record_history(tx, device_id, now_us, "command", summary)
    return row


def expire(tx: Tx, now_us: int) -> list[dict[str, Any]]:
    """Mark every command past its deadline without a final answer ``timed_out``."""
    rows = tx.execute(
        f"UPDATE fleet_commands SET status = 'timed_out', finished_us = :now, "
        "detail = 'no answer before the deadline' "
        f"WHERE status IN ('sent', 'accepted') AND deadline_us < :now RETURNING {_COLUMNS}",
        {"now": now_us},
    )
    for row in rows:
        devices.record_history(
            tx,
            row["device_id"],
            now_us,
            "command",
            {"id": row["id"], "verb": row["verb"], "status": "timed_out"},
        )
    return [dict(row) for row in rows]
