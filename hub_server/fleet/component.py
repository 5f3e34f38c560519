"""The hub's fleet component: what devices report, in the database, and what the admin does.

MQTT messages come in through :meth:`FleetComponent.submit` (from the subscriber, on the event
loop thread); they are checked at once (topic, size, JSON, schema version, fields) and queued.
:meth:`FleetComponent.run` writes them in batches, one transaction per batch, recomputing the
alerts of every device a batch touched in the same transaction; command messages made inside
a transaction are published only after it committed. :meth:`FleetComponent.sweep` (every
``sweep_interval_s``) raises the time-based alerts (offline, reader missing, MFP in error), times
commands out and moves roll-outs on.

Everything the component knows lives in the database, so a restarted hub — or a second replica —
carries on where it was: retained status and state messages bring it up to date, duplicated
events are dropped by their ids, and open alerts are not raised again.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from printgate import fleet_wire

from hub_server.clock import Clock
from hub_server.fleet import commands, configs, devices, rollouts
from hub_server.fleet.alerts import AlertThresholds, conditions, reconcile
from hub_server.fleet.errors import DeviceRevoked, InvalidRequest, SourceConflict, UnknownDevice
from hub_server.fleet.facts import (
    Presence,
    StateFacts,
    parse_ack,
    parse_event,
    parse_presence,
    parse_state,
)
from hub_server.storage.base import Database, Tx

__all__ = ["FleetComponent", "FleetStats", "Publisher"]

log = logging.getLogger(__name__)
BATCH_MAX = 500
# Devices per transaction of a command to the fleet: small enough that the first are on their
# way within milliseconds, large enough that 5,000 devices are ten commits (docs/benchmarks.md).
FLEET_CHUNK = 500
CONFIG_ISSUER = "config"


class Publisher(Protocol):
    """Where command messages go (the MQTT subscriber's client)."""

    def publish(self, topic: str, payload: bytes) -> None:
        """Publish with QoS 1, not retained; must not block."""


@dataclass
class FleetStats:
    """What the component received and refused, by reason."""

    received: int = 0
    applied: int = 0
    malformed: int = 0
    oversized: int = 0
    unsupported_version: int = 0
    foreign_topic: int = 0
    stale: int = 0
    duplicate_events: int = 0
    ignored_acks: int = 0
    source_conflicts: int = 0
    revoked: int = 0
    commands_published: int = 0
    alerts_raised: int = 0
    alerts_cleared: int = 0
    by_device_refused: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class _Message:
    device_id: str
    channel: str
    document: dict[str, Any]
    raw: str
    parsed: Any


def _record_chunk(
    command: commands.Prepared, device_ids: list[str], tx: Tx
) -> list[tuple[dict[str, Any], commands.Outgoing]]:
    return commands.record(tx, command, device_ids)


class FleetComponent:
    """See the module docstring. ``db`` is migrated with the fleet's component
    (:data:`hub_server.fleet.COMPONENT`; the hub's databases are). ``is_revoked`` answers from the
    PKI's revocation cache; ``blocking_errors`` are the MFP error names that count as "in error"
    (the hub passes ``mfp_adapters.mib.BLOCKING_ERROR_BITS``); ``on_alerts`` wakes the alert dispatcher."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        thresholds: AlertThresholds | None = None,
        channels: tuple[str, ...] = (),
        publisher: Publisher | None = None,
        is_revoked: Callable[[str], bool] = lambda device_id: False,
        blocking_errors: frozenset[str] = frozenset(),
        on_alerts: Callable[[], None] = lambda: None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.thresholds = thresholds or AlertThresholds()
        self.channels = channels
        self.publisher = publisher
        self.is_revoked = is_revoked
        self.blocking_errors = blocking_errors
        self.on_alerts = on_alerts
        self.stats = FleetStats()
        self._queue: asyncio.Queue[_Message] = asyncio.Queue()
        self.processed = asyncio.Event()

    # -- intake -----------------------------------------------------------------------------

    def _refuse(self, device_id: str, counter: str, reason: str) -> None:
        setattr(self.stats, counter, getattr(self.stats, counter) + 1)
        refused = self.stats.by_device_refused
        refused[device_id] = refused.get(device_id, 0) + 1
        if refused[device_id] in (1, 10, 100, 1000):  # log a flood, but not every message of it
            log.warning("fleet message from %s refused (%s): %s", device_id, counter, reason)

    def submit(self, topic: str, payload: bytes) -> None:
        """Check one MQTT message and queue it for :meth:`run` (never blocks)."""
        self.stats.received += 1
        parsed_topic = fleet_wire.parse_topic(topic)
        if parsed_topic is None or parsed_topic[1] == "cmd":
            self.stats.foreign_topic += 1
            return
        device_id, channel = parsed_topic
        if not payload:
            return  # a cleared retained message (a decommissioned device)
        try:
            document = fleet_wire.decode(payload)
            parsed: Any
            if channel == "status":
                parsed = parse_presence(document)
            elif channel == "state":
                parsed = parse_state(document)
            elif channel == "events":
                parsed = parse_event(document)
            else:
                parsed = parse_ack(document)
        except fleet_wire.OversizedPayload as error:
            self._refuse(device_id, "oversized", str(error))
            return
        except fleet_wire.UnsupportedVersion as error:
            self._refuse(device_id, "unsupported_version", str(error))
            return
        except fleet_wire.PayloadError as error:
            self._refuse(device_id, "malformed", str(error))
            return
        if self.is_revoked(device_id):
            self._refuse(device_id, "revoked", "the device's certificate is revoked")
            return
        # What is stored of a state or an event; an answer is applied, not stored.
        raw = (
            json.dumps(document, sort_keys=True, separators=(",", ":"))
            if channel in ("state", "events")
            else ""
        )
        self._queue.put_nowait(_Message(device_id, channel, document, raw, parsed))

    async def run(self) -> None:
        """Write queued messages in batches until cancelled."""
        while True:
            batch = [await self._queue.get()]
            while len(batch) < BATCH_MAX and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            await self._apply_batch(batch)
            if self._queue.empty():
                self.processed.set()

    async def drain(self) -> None:
        """Apply everything queued so far (tests and tools; :meth:`run` does this in service)."""
        batch = []
        while not self._queue.empty():
            batch.append(self._queue.get_nowait())
        if batch:
            await self._apply_batch(batch)

    async def _apply_batch(self, batch: list[_Message]) -> None:
        try:
            outgoing = await self.db.write(lambda tx: self._apply_all(tx, batch))
        except Exception:
            # One message the database refuses must not take its batch with it: one by one.
            log.exception("fleet batch of %d failed; applying one by one", len(batch))
            outgoing = []
            for message in batch:
                try:
                    outgoing += await self.db.write(self._single(message))
                except Exception:
                    self._refuse(message.device_id, "malformed", "the database refused it")
        self._publish(outgoing)

    def _single(self, message: _Message) -> Callable[[Tx], list[commands.Outgoing]]:
        return lambda tx: self._apply_all(tx, [message])

    def _apply_all(self, tx: Tx, batch: list[_Message]) -> list[commands.Outgoing]:
        now_us = self.clock.now_us()
        touched: set[str] = set()
        outgoing: list[commands.Outgoing] = []
        for message in batch:
            try:
                changed = self._apply_one(tx, message, now_us, outgoing)
            except SourceConflict as error:
                self._refuse(message.device_id, "source_conflicts", str(error))
                continue
            if changed:
                touched.add(message.device_id)
                self.stats.applied += 1
        for device_id in sorted(touched):
            outgoing += self._after_change(tx, device_id, now_us)
        return outgoing

    def _apply_one(self, tx: Tx, message: _Message, now_us: int, outgoing: list[commands.Outgoing]) -> bool:
        device_id, parsed = message.device_id, message.parsed
        if message.channel == "status":
            row = devices.record_presence(tx, device_id, parsed, now_us)
            if row is None:
                self.stats.stale += 1
            return row is not None
        if message.channel == "state":
            row = devices.record_state(
                tx, device_id, parsed, message.raw, now_us, blocking_errors=self.blocking_errors
            )
            if row is None:
                self.stats.stale += 1
            return row is not None
        if message.channel == "events":
            if not devices.record_event(tx, device_id, parsed, message.raw, now_us):
                self.stats.duplicate_events += 1
                return False
            return False
        command = commands.record_ack(tx, device_id, parsed, now_us)
        if command is None:
            self.stats.ignored_acks += 1
            return False
        outgoing += rollouts.on_command(tx, command, now_us)
        return False

    def _after_change(self, tx: Tx, device_id: str, now_us: int) -> list[commands.Outgoing]:
        """Alerts of a device whose facts changed, and a configuration notice if one is due."""
        row = devices.device_row(tx, device_id)
        assert row is not None
        self._reconcile(tx, row, now_us)
        version = configs.notification_due(tx, row)
        if version is None:
            return []
        _, message = commands.issue(
            tx, device_id, "reload_config", {"version": version}, CONFIG_ISSUER, now_us
        )
        return [message]

    def _reconcile(self, tx: Tx, row: Mapping[str, Any], now_us: int) -> None:
        transitions = reconcile(
            tx, row["device_id"], conditions(row, now_us, self.thresholds), now_us, self.channels
        )
        for transition, _ in transitions:
            if transition == "raised":
                self.stats.alerts_raised += 1
            else:
                self.stats.alerts_cleared += 1

    def _publish(self, outgoing: list[commands.Outgoing]) -> None:
        for message in outgoing:
            if self.publisher is None:
                log.warning(
                    "no MQTT publisher: command %s for %s not sent", message.command_id, message.device_id
                )
                continue
            self.publisher.publish(fleet_wire.command_topic(message.device_id), message.payload)
            self.stats.commands_published += 1
        self.on_alerts()

    # -- local sources (the SNMP poller) ------------------------------------------------------

    async def record_local(self, device_id: str, presence: Presence, facts: StateFacts | None) -> None:
        """Presence and state of a device the hub observes itself (a printer over SNMP)."""

        def write(tx: Tx) -> None:
            now_us = self.clock.now_us()
            devices.record_presence(tx, device_id, presence, now_us, source="snmp")
            if facts is not None:
                raw = json.dumps({"kind": facts.kind, **facts.summary()}, sort_keys=True)
                devices.record_state(
                    tx, device_id, facts, raw, now_us, source="snmp", blocking_errors=self.blocking_errors
                )
            row = devices.device_row(tx, device_id)
            assert row is not None
            self._reconcile(tx, row, now_us)

        try:
            await self.db.write(write)
        except SourceConflict as error:
            self._refuse(device_id, "source_conflicts", str(error))
        self.on_alerts()

    # -- periodic work ------------------------------------------------------------------------

    async def sweep(self) -> None:
        """Time-based alerts for every device, command time-outs, roll-outs moving on."""

        def write(tx: Tx) -> list[commands.Outgoing]:
            now_us = self.clock.now_us()
            outgoing: list[commands.Outgoing] = []
            for command in commands.expire(tx, now_us):
                outgoing += rollouts.on_command(tx, command, now_us)
            for row in devices.list_devices(tx):
                self._reconcile(tx, row, now_us)
            return outgoing

        self._publish(await self.db.write(write))

    async def run_sweeps(self, interval_s: float = 15.0) -> None:
        """:meth:`sweep` every ``interval_s`` until cancelled."""
        while True:
            try:
                await self.sweep()
            except Exception:
                log.exception("fleet sweep failed")
            await asyncio.sleep(interval_s)

    # -- admin verbs --------------------------------------------------------------------------

    def _check_device(self, device_id: str) -> None:
        if self.is_revoked(device_id):
            raise DeviceRevoked(f"{device_id} is revoked: it gets no commands")

    async def send_command(
        self, device_id: str, verb: str, args: Any, issued_by: str, *, timeout_s: int = 0
    ) -> dict[str, Any]:
        """Record and publish one command; its audit row."""
        self._check_device(device_id)
        row, message = await self.db.write(
            lambda tx: commands.issue(
                tx, device_id, verb, args, issued_by, self.clock.now_us(), timeout_s=timeout_s
            )
        )
        self._publish([message])
        return row

    async def send_to_fleet(
        self, verb: str, args: Any, issued_by: str, *, kind: str = "", group: str = "", timeout_s: int = 0
    ) -> list[dict[str, Any]]:
        """The same command to every unrevoked terminal and kiosk of ``kind`` and ``group`` (empty:
        all). It is checked first (a bad argument records nothing), then recorded for
        :data:`FLEET_CHUNK` devices per transaction, each chunk published as soon as it has
        committed: the first devices have it while the rest are recorded. Every command carries
        the same issue time and deadline. A hub that stops part way has sent it to the devices
        recorded so far (each with its audit row) and to no other."""
        command = commands.prepare(verb, args, issued_by, self.clock.now_us(), timeout_s=timeout_s)
        targets = [  # command_targets checks the kind
            device_id
            for device_id in self.db.read(lambda tx: devices.command_targets(tx, kind, group))
            if not self.is_revoked(device_id)
        ]
        if not targets:
            raise InvalidRequest("no terminal or kiosk matches")
        rows: list[dict[str, Any]] = []
        for start in range(0, len(targets), FLEET_CHUNK):
            chunk = targets[start : start + FLEET_CHUNK]
            issued = await self.db.write(functools.partial(_record_chunk, command, chunk))
            self._publish([message for _, message in issued])
            rows += [row for row, _ in issued]
        return rows

    def command(self, command_id: str) -> dict[str, Any]:
        return self.db.read(lambda tx: commands.command_row(tx, command_id))

    def device(self, device_id: str) -> dict[str, Any]:
        row = self.db.read(lambda tx: devices.device_row(tx, device_id))
        if row is None:
            raise UnknownDevice(f"no device {device_id[:64]!r}")
        return row

    def list_devices(
        self, kind: str = "", group: str = "", offline_only: bool = False
    ) -> list[dict[str, Any]]:
        return self.db.read(lambda tx: devices.list_devices(tx, kind, group, offline_only))

    def history(self, device_id: str, limit: int = 100) -> list[dict[str, Any]]:
        self.device(device_id)
        return self.db.read(lambda tx: devices.history(tx, device_id, max(1, min(limit or 100, 1000))))

    def alerts(self, *, include_cleared: bool = False, device_id: str = "") -> list[dict[str, Any]]:
        return [
            dict(row)
            for row in self.db.read(
                lambda tx: tx.execute(
                    "SELECT id, device_id, kind, subject, detail, raised_us, cleared_us FROM fleet_alerts "
                    "WHERE (:all = 1 OR cleared_us IS NULL) AND (:d = '' OR device_id = :d) "
                    "ORDER BY raised_us, id",
                    {"all": int(include_cleared), "d": device_id},
                )
            )
        ]

    def recent_commands(self, device_id: str, limit: int = 20) -> list[dict[str, Any]]:
        ids = self.db.read(
            lambda tx: tx.execute(
                "SELECT id FROM fleet_commands WHERE device_id = :d ORDER BY issued_us DESC, id LIMIT :n",
                {"d": device_id, "n": limit},
            )
        )
        return [self.command(row["id"]) for row in ids]

    async def set_group(self, device_id: str, group: str) -> dict[str, Any]:
        if len(group) > 64:
            raise InvalidRequest("a group name is at most 64 characters")

        def write(tx: Tx) -> tuple[dict[str, Any] | None, list[commands.Outgoing]]:
            row = devices.set_group(tx, device_id, group)
            if row is None:
                return None, []
            return row, self._notify_config(tx, [row])

        row, outgoing = await self.db.write(write)
        if row is None:
            raise UnknownDevice(f"no device {device_id[:64]!r}")
        self._publish(outgoing)
        return row

    def _notify_config(self, tx: Tx, rows: list[dict[str, Any]]) -> list[commands.Outgoing]:
        now_us = self.clock.now_us()
        outgoing = []
        for row in rows:
            version = configs.notification_due(tx, row)
            if version is not None and not self.is_revoked(row["device_id"]):
                _, message = commands.issue(
                    tx, row["device_id"], "reload_config", {"version": version}, CONFIG_ISSUER, now_us
                )
                outgoing.append(message)
        return outgoing

    async def put_config(self, scope: str, name: str, document: Any, created_by: str) -> dict[str, Any]:
        """Store a new configuration version and tell the affected online devices."""

        def write(tx: Tx) -> tuple[dict[str, Any], list[commands.Outgoing]]:
            row = configs.put(tx, scope, name, document, created_by, self.clock.now_us())
            if scope == "device":
                affected = [r for r in [devices.device_row(tx, name)] if r is not None]
            else:
                affected = [r for r in devices.list_devices(tx, group=name)]
            return row, self._notify_config(tx, affected)

        row, outgoing = await self.db.write(write)
        self._publish(outgoing)
        return row

    def get_config(self, scope: str, name: str, version: int = 0) -> dict[str, Any] | None:
        return self.db.read(lambda tx: configs.get(tx, scope, name, version))

    def effective_config(self, device_id: str) -> configs.Effective:
        row = self.device(device_id)
        return self.db.read(lambda tx: configs.effective(tx, device_id, row["group_name"]))

    async def start_rollout(self, created_by: str, **options: Any) -> dict[str, Any]:
        def write(tx: Tx) -> tuple[dict[str, Any], list[commands.Outgoing]]:
            rollout_id, outgoing = rollouts.start(
                tx, created_by=created_by, now_us=self.clock.now_us(), **options
            )
            return rollouts.rollout(tx, rollout_id), outgoing

        row, outgoing = await self.db.write(write)
        self._publish(outgoing)
        return row

    def rollout(self, rollout_id: str) -> dict[str, Any]:
        return self.db.read(lambda tx: rollouts.rollout(tx, rollout_id))

    async def pause_rollout(self, rollout_id: str, who: str) -> dict[str, Any]:
        return await self.db.write(lambda tx: rollouts.pause(tx, rollout_id, f"paused by {who}"))

    async def resume_rollout(self, rollout_id: str) -> dict[str, Any]:
        row, outgoing = await self.db.write(lambda tx: rollouts.resume(tx, rollout_id, self.clock.now_us()))
        self._publish(outgoing)
        return row

    async def store_diagnostics(self, device_id: str, command_id: str, bundle: bytes) -> int:
        """Keep the bundle a collect_diagnostics command of this device asked for."""
        if len(bundle) > fleet_wire.DIAGNOSTICS_MAX_BYTES:
            raise InvalidRequest(f"a diagnostics bundle is at most {fleet_wire.DIAGNOSTICS_MAX_BYTES} bytes")

        def write(tx: Tx) -> None:
            command = commands.command_row(tx, command_id)
            if command["device_id"] != device_id or command["verb"] != "collect_diagnostics":
                raise InvalidRequest("no diagnostics were asked of this device under that command")
            tx.execute(
                "INSERT INTO fleet_diagnostics (command_id, device_id, bundle, size_bytes, received_us) "
                "VALUES (:c, :d, :b, :n, :now) ON CONFLICT (command_id) DO NOTHING",
                {"c": command_id, "d": device_id, "b": bundle, "n": len(bundle), "now": self.clock.now_us()},
            )

        await self.db.write(write)
        return len(bundle)
