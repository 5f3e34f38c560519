"""The device's MQTT client: presence, state and events to the broker, commands from the hub.

* **Identity**: TLS with the device certificate from enrollment; the broker takes the
  certificate's CN as user name and client id and confines the device to its own topics.
* **Presence**: on every connection a new *session* number (persisted, increasing) goes into
  the retained ``status`` (``online: true``) and into the last will (``online: false``), so the
  hub can tell a stale will of an earlier connection from the current presence.
* **Never blocks its caller**: :meth:`FleetClient.publish_state` and
  :meth:`FleetClient.publish_event` only put a message into the bounded
  :class:`~terminal_app.telemetry.buffer.OfflineBuffer` and wake the client's own thread; they
  are safe from any thread and from the card-tap path.
* **Delivery**: at least once (QoS 1); an entry leaves the buffer on the broker's PUBACK, and is
  sent again after a reconnect. The retained state is sent again on every connection.
* **Reconnect**: exponential backoff with full jitter (:class:`~terminal_app.telemetry.backoff.Backoff`).
* **Commands**: only on the device's own topic; admitted once by
  :class:`~terminal_app.telemetry.commands.CommandGuard`, answered ``accepted`` and then
  ``done``/``failed``; handlers run on the event loop that called :meth:`FleetClient.start`.

One thread owns the paho client (paho's callbacks are not safe to mix with calls from other
threads), waiting in ``select`` on the broker socket and a wake-up socket pair.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import select
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.reasoncodes import ReasonCode
from printgate import fleet_wire

from terminal_app.telemetry.backoff import Backoff
from terminal_app.telemetry.buffer import Entry, OfflineBuffer
from terminal_app.telemetry.commands import (
    ANSWERED_AT_ONCE_VERBS,
    HANDED_OVER_VERBS,
    Command,
    CommandGuard,
    CommandHandlers,
    CommandRejected,
    CommandResult,
    run_handler,
)
from terminal_app.telemetry.snapshot import DeviceEvent, StateSnapshot

__all__ = ["BrokerSettings", "ClientStats", "FleetClient"]

log = logging.getLogger(__name__)

SESSION_FILE = "mqtt-session"
MAX_IN_FLIGHT = 20
_SELECT_TIMEOUT_S = 1.0


@dataclass(frozen=True)
class BrokerSettings:
    """Where the broker is and what the device proves itself with (the enrollment files)."""

    host: str
    port: int
    ca_path: Path
    certificate_path: Path
    key_path: Path
    keepalive_s: int = 30

    @classmethod
    def from_credentials(cls, credentials: Any, host: str, port: int) -> BrokerSettings:
        """From :class:`terminal_app.enrollment.Credentials` (certificate + chain are one file
        for TLS: the broker needs the chain only when the device's issuer is an intermediate)."""
        return cls(host, port, credentials.anchor_path, credentials.certificate_path, credentials.key_path)


@dataclass
class ClientStats:
    """Counters for the state snapshot and for tests."""

    connects: int = 0
    connect_failures: int = 0
    disconnects: int = 0
    published: int = 0
    refused_by_broker: int = 0
    commands_run: int = 0
    commands_rejected: int = 0


class _SessionCounter:
    """An increasing number per connection, kept across restarts."""

    def __init__(self, path: Path) -> None:
        self._path = path

    def next(self) -> int:
        try:
            current = int(self._path.read_text().strip() or 0)
        except (FileNotFoundError, ValueError):
            current = 0
        value = current + 1
        temporary = self._path.with_name(f".{self._path.name}.new")
        temporary.write_text(str(value))
        os.replace(temporary, self._path)
        return value


class FleetClient:
    """One device's connection to the fleet broker. ``await start()`` on the engine's event loop,
    ``await stop()`` at shutdown."""

    def __init__(
        self,
        device_id: str,
        kind: str,
        broker: BrokerSettings,
        state_dir: Path,
        handlers: CommandHandlers,
        *,
        software_version: str = "",
        buffer: OfflineBuffer | None = None,
        backoff: Backoff | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.device_id = device_id
        self.kind = kind
        self.broker = broker
        self.handlers = handlers
        self.software_version = software_version
        self.buffer = buffer if buffer is not None else OfflineBuffer()
        self.backoff = backoff or Backoff()
        self.stats = ClientStats()
        self._clock = clock
        state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._sessions = _SessionCounter(state_dir / SESSION_FILE)
        self.guard = CommandGuard(state_dir)
        self.session = 0
        self._sequence = itertools.count(1)
        self._last_state: dict[str, Any] | None = None
        self._topics = {
            "status": fleet_wire.status_topic(device_id),
            "state": fleet_wire.state_topic(device_id),
            "events": fleet_wire.events_topic(device_id),
            "cmd": fleet_wire.command_topic(device_id),
            "ack": fleet_wire.ack_topic(device_id),
        }
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._stopping = threading.Event()
        self._connected = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._in_flight: dict[int, Entry] = {}
        self._resuming: set[asyncio.Task[None]] = set()
        self._mqtt: mqtt.Client | None = None
        self._connack_failed = False

    # -- the caller's side: never blocks ------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout_s: float) -> bool:
        """Block (a test or tool thread, never the event loop) until connected."""
        return self._connected.wait(timeout_s)

    def publish_state(self, snapshot: StateSnapshot) -> None:
        """Queue the retained state snapshot (replacing an unsent older one)."""
        document = snapshot.to_document()
        self._last_state = document
        self._queue_state(document)

    def _queue_state(self, document: dict[str, Any]) -> None:
        body = {
            **document,
            "session": self.session,
            "seq": next(self._sequence),
            "ts": round(self._clock(), 3),
            "events_dropped": self.buffer.events_dropped,
        }
        self._put(Entry(self._topics["state"], fleet_wire.encode(body), 1, True, telemetry_key="state"))

    def publish_event(self, event: DeviceEvent) -> str:
        """Queue an event; returns its id (the hub keeps each id once)."""
        event_id = uuid.uuid4().hex
        body = {
            "id": event_id,
            "type": event.type,
            "severity": event.severity,
            "detail": event.detail,
            "session": self.session,
            "seq": next(self._sequence),
            "ts": round(self._clock(), 3),
            "events_dropped": self.buffer.events_dropped,
        }
        self._put(Entry(self._topics["events"], fleet_wire.encode(body), 1, False))
        return event_id

    def _ack(
        self, command_id: str, status: str, detail: str = "", result: dict[str, Any] | None = None
    ) -> None:
        body = {"id": command_id, "status": status, "detail": detail[:500], "ts": round(self._clock(), 3)}
        if result:
            body["result"] = result
        self._put(Entry(self._topics["ack"], fleet_wire.encode(body), 1, False))

    def _put(self, entry: Entry) -> None:
        self.buffer.put(entry)
        self._wake()

    def _wake(self) -> None:
        with contextlib.suppress(BlockingIOError, OSError):
            self._wake_w.send(b"\0")

    # -- life cycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the client thread; command handlers will run on the calling event loop."""
        self._loop = asyncio.get_running_loop()
        for command_id, status, detail in self.guard.take_pending(self.software_version, self._clock()):
            self._ack(command_id, status, detail)
        for command_id, version in self.guard.handed_over():
            task = self._loop.create_task(self._resume(command_id, version), name=f"resume-{command_id}")
            self._resuming.add(task)
            task.add_done_callback(self._resuming.discard)
        self._thread = threading.Thread(target=self._run, name=f"fleet-{self.device_id}", daemon=True)
        self._thread.start()

    async def _resume(self, command_id: str, version: str) -> None:
        """Answer a handed-over command once the device says how it ended (see
        :meth:`CommandHandlers.resume_update`); a reboot into the new version is answered by
        the start after it."""
        try:
            result = await self.handlers.resume_update(version)
        except Exception:
            log.exception("the outcome of handed-over command %s is unknown", command_id)
            return
        if result is None or result.restart_pending:
            return
        self.guard.settle(command_id)
        self._ack(command_id, result.status, result.detail, result.result)

    async def stop(self, timeout_s: float = 5.0) -> None:
        """Say ``online: false`` (a clean disconnect suppresses the will), then disconnect."""
        for task in list(self._resuming):
            task.cancel()
        if self.connected:
            self._put(self._status_entry(online=False))
            deadline = time.monotonic() + timeout_s
            while self.buffer.next_unsent(()) is not None or self._in_flight:
                if time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.02)
        self._stopping.set()
        self._wake()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, timeout_s)
        self._wake_r.close()
        self._wake_w.close()

    # -- the client thread ----------------------------------------------------------------------

    def _status_entry(self, *, online: bool) -> Entry:
        body = {"online": online, "session": self.session, "kind": self.kind, "ts": round(self._clock(), 3)}
        if online:
            body["software_version"] = self.software_version
        return Entry(self._topics["status"], fleet_wire.encode(body), 1, True, telemetry_key="status")

    def _sleep(self, seconds: float) -> None:
        self._stopping.wait(seconds)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                client = self._connect()
            except (OSError, ssl.SSLError, ValueError) as error:
                self.stats.connect_failures += 1
                delay = self.backoff.next_delay_s()
                log.info("fleet broker not reachable (%s); next try in %.1f s", type(error).__name__, delay)
                self._sleep(delay)
                continue
            self._serve(client)
            self._lost(client)
            if not self._stopping.is_set():
                self._sleep(self.backoff.next_delay_s())

    def _connect(self) -> mqtt.Client:
        self.session = self._sessions.next()
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=self.device_id, protocol=mqtt.MQTTv5)
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(self.broker.ca_path))
        context.load_cert_chain(str(self.broker.certificate_path), str(self.broker.key_path))
        client.tls_set_context(context)
        will = fleet_wire.encode({"online": False, "session": self.session, "kind": self.kind})
        client.will_set(self._topics["status"], will, qos=1, retain=True)
        client.on_connect = self._on_connect
        client.on_publish = self._on_publish
        client.on_message = self._on_message
        client.on_disconnect = self._on_disconnect
        self._connack_failed = False
        self._mqtt = client
        client.connect(self.broker.host, self.broker.port, keepalive=self.broker.keepalive_s)
        return client

    def _serve(self, client: mqtt.Client) -> None:
        while not self._stopping.is_set() and not self._connack_failed:
            if self._connected.is_set():
                self._drain(client)
            sock = client.socket()
            if sock is None:
                return
            pending = isinstance(sock, ssl.SSLSocket) and sock.pending() > 0
            writers = [sock] if client.want_write() else []
            readable, writable, _ = select.select(
                [sock, self._wake_r], writers, [], 0 if pending else _SELECT_TIMEOUT_S
            )
            if self._wake_r in readable:
                with contextlib.suppress(BlockingIOError):
                    self._wake_r.recv(4096)
            if (pending or sock in readable) and client.loop_read() != mqtt.MQTT_ERR_SUCCESS:
                return
            if sock in writable and client.loop_write() != mqtt.MQTT_ERR_SUCCESS:
                return
            if client.loop_misc() != mqtt.MQTT_ERR_SUCCESS:
                return
        if self._stopping.is_set() and self._connected.is_set():
            client.disconnect()
            with contextlib.suppress(OSError):
                client.loop_write()

    def _lost(self, client: mqtt.Client) -> None:
        was_connected = self._connected.is_set()
        self._connected.clear()
        self._in_flight.clear()
        self.buffer.requeue_in_flight()
        sock = client.socket()
        if sock is not None:
            with contextlib.suppress(OSError, ssl.SSLError):
                sock.close()
        if was_connected:
            self.stats.disconnects += 1
            log.info("fleet broker connection lost")

    def _drain(self, client: mqtt.Client) -> None:
        priority = (self._topics["status"], self._topics["ack"])
        while len(self._in_flight) < MAX_IN_FLIGHT:
            entry = self.buffer.next_unsent(priority)
            if entry is None:
                return
            info = client.publish(entry.topic, entry.payload, qos=entry.qos, retain=entry.retain)
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                return
            self.buffer.mark_in_flight(entry)
            self._in_flight[info.mid] = entry

    # -- paho callbacks (on the client thread) --------------------------------------------------

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: ReasonCode, properties: Any
    ) -> None:
        if reason.is_failure:
            log.warning("fleet broker refused the connection: %s", reason)
            self.stats.connect_failures += 1
            self._connack_failed = True
            return
        self.stats.connects += 1
        self.backoff.reset()
        client.subscribe(self._topics["cmd"], qos=1)
        # Presence first, then the state as it is now (retained state may be gone after a
        # broker restart without persistence).
        self.buffer.put(self._status_entry(online=True))
        if self._last_state is not None:
            self._queue_state(self._last_state)
        self._connected.set()
        log.info("fleet broker connected (session %d)", self.session)

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: ReasonCode, properties: Any
    ) -> None:
        self._connected.clear()

    def _on_publish(
        self, client: mqtt.Client, userdata: Any, mid: int, reason: ReasonCode, properties: Any
    ) -> None:
        entry = self._in_flight.pop(mid, None)
        if entry is None:
            return
        if reason.is_failure:
            # Not authorized, too large...: sending it again would fail again.
            self.stats.refused_by_broker += 1
            log.warning("broker refused a message on %s: %s", entry.topic, reason)
        else:
            self.stats.published += 1
        self.buffer.acknowledged(entry)

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        if message.topic != self._topics["cmd"]:
            return
        try:
            document = fleet_wire.decode(bytes(message.payload))
            command = self.guard.admit(document, self._clock())
        except fleet_wire.PayloadError as error:
            log.warning("unreadable command ignored: %s", error)
            return
        except CommandRejected as error:
            self.stats.commands_rejected += 1
            command_id = document.get("id")
            if isinstance(command_id, str) and 0 < len(command_id) <= 64:
                self._ack(command_id, "rejected", str(error))
            return
        if command is None:
            log.info("replayed command dropped")
            return
        if command.verb in HANDED_OVER_VERBS:
            self.guard.hand_over(command)
        if command.verb not in ANSWERED_AT_ONCE_VERBS:
            self._ack(command.id, "accepted")
        assert self._loop is not None
        future = asyncio.run_coroutine_threadsafe(run_handler(self.handlers, command), self._loop)
        future.add_done_callback(lambda done: self._finished(command, done))

    def _finished(self, command: Command, done: Any) -> None:
        try:
            result: CommandResult = done.result()
        except BaseException as error:  # cancelled at shutdown: say so rather than nothing
            if command.verb in HANDED_OVER_VERBS:
                return  # still pending: the next start answers for the device's own work
            result = CommandResult.failed(f"not completed: {type(error).__name__}")
        self.stats.commands_run += 1
        if result.restart_pending:
            self.guard.keep_pending(command, result)
            return
        self.guard.settle(command.id)
        self._ack(command.id, result.status, result.detail, result.result)
