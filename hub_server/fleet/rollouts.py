"""Staged roll-outs of an update bundle: waves, automatic pause, a result per device.

A roll-out fixes its targets when it starts (every terminal/kiosk the fleet knows, or one
kind) and splits them into waves, either by **cumulative percentage** (``[5, 25, 100]``: the
first 5 % of the targets, then up to 25 %, then the rest — the order is a hash of roll-out and
device id, so it is stable and differs between roll-outs) or by **group**. The first wave is
sent at once; each further wave only when every device of the previous one has a final result
and the share of failures (failed, rejected, timed out) is at most ``max_failure_percent``;
otherwise the roll-out **pauses** with the reason. ``resume`` continues with the next wave.
"""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hub_server.fleet import commands, devices
from hub_server.fleet.errors import InvalidRequest, RolloutState, UnknownRollout
from hub_server.storage.base import Tx

__all__ = ["Wave", "advance", "on_command", "pause", "resume", "rollout", "start"]

FAILED = frozenset({"failed", "rejected", "timed_out"})
ROLLOUT_ISSUER = "rollout"


@dataclass(frozen=True)
class Wave:
    """A cumulative percentage of the targets, or a group."""

    percent: int = 0
    group: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"percent": self.percent, "group": self.group}


def _check_waves(waves: Sequence[Wave]) -> None:
    if not waves or len(waves) > 20:
        raise InvalidRequest("a roll-out needs 1..20 waves")
    by_group = [bool(w.group) for w in waves]
    if any(by_group) and not all(by_group):
        raise InvalidRequest("waves are all by percentage or all by group")
    if not any(by_group):
        percents = [w.percent for w in waves]
        if any(not 1 <= p <= 100 for p in percents) or percents != sorted(percents) or percents[-1] != 100:
            raise InvalidRequest("wave percentages rise, are 1..100 and the last is 100")


def rollout(tx: Tx, rollout_id: str) -> dict[str, Any]:
    row = tx.one("SELECT * FROM fleet_rollouts WHERE id = :id", {"id": rollout_id})
    if row is None:
        raise UnknownRollout(f"no roll-out {rollout_id[:64]!r}")
    result = dict(row)
    result["targets"] = [
        dict(target)
        for target in tx.execute(
            "SELECT device_id, wave, status, detail, command_id FROM fleet_rollout_targets "
            "WHERE rollout_id = :id ORDER BY wave, device_id",
            {"id": rollout_id},
        )
    ]
    return result


def start(
    tx: Tx,
    *,
    bundle_url: str,
    bundle_version: str,
    bundle_sha256: str,
    waves: Sequence[Wave],
    max_failure_percent: int,
    kind: str,
    created_by: str,
    now_us: int,
) -> tuple[str, list[commands.Outgoing]]:
    """Create a roll-out, assign its targets to waves and send the first wave."""
    _check_waves(waves)
    if not 0 <= max_failure_percent <= 100:
        raise InvalidRequest("max_failure_percent must be 0..100")
    devices.check_commanded_kind(kind)
    rollout_id = uuid.uuid4().hex
    candidates = tx.execute(
        "SELECT device_id, group_name FROM fleet_devices "
        "WHERE source = 'mqtt' AND (:kind = '' OR kind = :kind)",
        {"kind": kind},
    )
    assignment: dict[str, int] = {}
    if waves[0].group:
        for row in candidates:
            for index, wave in enumerate(waves):
                if row["group_name"] == wave.group:
                    assignment[row["device_id"]] = index
                    break
    else:
        ordered = sorted(
            (row["device_id"] for row in candidates),
            key=lambda d: hashlib.sha256(f"{rollout_id}:{d}".encode()).digest(),
        )
        start_index = 0
        for index, wave in enumerate(waves):
            end = math.ceil(len(ordered) * wave.percent / 100)
            for device_id in ordered[start_index:end]:
                assignment[device_id] = index
            start_index = max(start_index, end)
    if not assignment:
        raise InvalidRequest("the roll-out has no target devices")
    tx.execute(
        "INSERT INTO fleet_rollouts (id, bundle_url, bundle_version, bundle_sha256, waves_json, "
        "max_failure_percent, kind, state, current_wave, created_by, created_us) VALUES "
        "(:id, :url, :version, :sha, :waves, :maxfail, :kind, 'running', -1, :by, :now)",
        {
            "id": rollout_id,
            "url": bundle_url,
            "version": bundle_version,
            "sha": bundle_sha256,
            "waves": json.dumps([w.to_json() for w in waves]),
            "maxfail": max_failure_percent,
            "kind": kind,
            "by": created_by,
            "now": now_us,
        },
    )
    for device_id, wave_index in sorted(assignment.items()):
        tx.execute(
            "INSERT INTO fleet_rollout_targets (rollout_id, device_id, wave, status) "
            "VALUES (:r, :d, :w, 'waiting')",
            {"r": rollout_id, "d": device_id, "w": wave_index},
        )
    return rollout_id, advance(tx, rollout_id, now_us)


def advance(tx: Tx, rollout_id: str, now_us: int, *, check_failures: bool = True) -> list[commands.Outgoing]:
    """Send the next wave when the current one is complete and good enough (``check_failures``
    off: an admin resumed past it); pause or finish."""
    row = rollout(tx, rollout_id)
    if row["state"] != "running":
        return []
    targets = row["targets"]
    current = row["current_wave"]
    if current >= 0:
        wave_targets = [t for t in targets if t["wave"] == current]
        if any(t["status"] not in commands.FINAL for t in wave_targets):
            return []
        failures = sum(1 for t in wave_targets if t["status"] in FAILED)
        too_many = failures * 100 > row["max_failure_percent"] * len(wave_targets)
        if check_failures and wave_targets and too_many:
            reason = f"wave {current + 1}: {failures} of {len(wave_targets)} devices failed"
            tx.execute(
                "UPDATE fleet_rollouts SET state = 'paused', pause_reason = :r WHERE id = :id",
                {"r": reason, "id": rollout_id},
            )
            return []
    waves_count = len(json.loads(row["waves_json"]))
    following = current + 1
    while following < waves_count and not any(t["wave"] == following for t in targets):
        following += 1
    if following >= waves_count:
        tx.execute(
            "UPDATE fleet_rollouts SET state = 'done', current_wave = :w WHERE id = :id",
            {"w": following - 1, "id": rollout_id},
        )
        return []
    outgoing = []
    args = {"url": row["bundle_url"], "version": row["bundle_version"], "sha256": row["bundle_sha256"]}
    for target in (t for t in targets if t["wave"] == following):
        try:
            command, message = commands.issue(
                tx, target["device_id"], "install_update", args, ROLLOUT_ISSUER, now_us, rollout_id=rollout_id
            )
        except InvalidRequest as error:
            _set_target(tx, rollout_id, target["device_id"], "rejected", str(error), None)
            continue
        _set_target(tx, rollout_id, target["device_id"], "sent", "", command["id"])
        outgoing.append(message)
    tx.execute(
        "UPDATE fleet_rollouts SET current_wave = :w WHERE id = :id", {"w": following, "id": rollout_id}
    )
    if not outgoing:
        return advance(tx, rollout_id, now_us)
    return outgoing


def _set_target(
    tx: Tx, rollout_id: str, device_id: str, status: str, detail: str, command_id: str | None
) -> None:
    tx.execute(
        "UPDATE fleet_rollout_targets SET status = :s, detail = :detail, "
        "command_id = COALESCE(:c, command_id) WHERE rollout_id = :r AND device_id = :d",
        {"s": status, "detail": detail, "c": command_id, "r": rollout_id, "d": device_id},
    )


def on_command(tx: Tx, command: dict[str, Any], now_us: int) -> list[commands.Outgoing]:
    """A roll-out's command changed: update its target, and advance when it became final."""
    rollout_id = command.get("rollout_id")
    if not rollout_id:
        return []
    _set_target(tx, rollout_id, command["device_id"], command["status"], command["detail"], None)
    if command["status"] not in commands.FINAL:
        return []
    return advance(tx, rollout_id, now_us)


def pause(tx: Tx, rollout_id: str, reason: str) -> dict[str, Any]:
    row = rollout(tx, rollout_id)
    if row["state"] != "running":
        raise RolloutState(f"roll-out {rollout_id} is {row['state']}")
    tx.execute(
        "UPDATE fleet_rollouts SET state = 'paused', pause_reason = :r WHERE id = :id",
        {"r": reason, "id": rollout_id},
    )
    return rollout(tx, rollout_id)


def resume(tx: Tx, rollout_id: str, now_us: int) -> tuple[dict[str, Any], list[commands.Outgoing]]:
    """Run again from the next wave; the wave that paused the roll-out keeps its results."""
    row = rollout(tx, rollout_id)
    if row["state"] != "paused":
        raise RolloutState(f"roll-out {rollout_id} is {row['state']}")
    tx.execute(
        "UPDATE fleet_rollouts SET state = 'running', pause_reason = '' WHERE id = :id", {"id": rollout_id}
    )
    outgoing = advance(tx, rollout_id, now_us, check_failures=False)
    return rollout(tx, rollout_id), outgoing
