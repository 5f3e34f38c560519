"""The hub's MQTT client: a subscriber like any other, with its own certificate.

paho is driven by the hub's event loop (its external-loop interface: the socket is watched with
``add_reader``/``add_writer``, ``loop_misc`` runs every second), not by a thread of its own. A
whole fleet answering a command is 5,000 messages in a second, on top of the hub's own 5,000
commands: in a thread of its own, paho woke itself through a socket pair for every packet it
queued and passed every message to the event loop, and the two threads took the interpreter
lock from each other for each of them (docs/benchmarks.md). Connecting (TCP and the TLS
handshake, which block) runs in the loop's executor; the client reconnects with a backoff of 1
to 30 s. The session is persistent (clean start off, one hour of session expiry), so QoS 1
events and answers published while the hub restarts wait for it at the broker; retained status
and state arrive again on every subscription.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from printgate.fleet_wire import TOPIC_ROOT

__all__ = ["SUBSCRIPTIONS", "HubMqtt", "HubMqttSettings"]

log = logging.getLogger(__name__)

SUBSCRIPTIONS = tuple(f"{TOPIC_ROOT}/+/{channel}" for channel in ("status", "state", "events", "cmd/ack"))
SESSION_EXPIRY_S = 3600
RECONNECT_DELAY_S = (1.0, 30.0)
MISC_INTERVAL_S = 1.0
# Packets read in one turn of the event loop at most, so a flood leaves the loop to others.
READ_BURST_MAX = 1000


@dataclass(frozen=True)
class HubMqttSettings:
    """The broker and the hub's client identity (``hub_server.fleet.broker.hub_client_certificate``)."""

    host: str
    port: int
    ca_path: Path
    certificate_path: Path
    key_path: Path
    client_id: str
    keepalive_s: int = 30
    connect_timeout_s: float = 5.0  # TCP connect, and the TLS handshake after it


class HubMqtt:
    """Subscribes for ``deliver(topic, payload)`` (called on ``loop``) and publishes commands.
    Every method is called on ``loop``'s thread."""

    def __init__(
        self,
        settings: HubMqttSettings,
        deliver: Callable[[str, bytes], None],
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self.settings = settings
        self._deliver = deliver
        self._loop = loop
        self.connected = threading.Event()
        self.connections = 0
        self._handled = 0  # messages and acknowledgements handled: progress of a read
        self._task: asyncio.Task[None] | None = None
        self._connecting: asyncio.Future[Any] | None = None
        self._loop_thread = 0
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=settings.client_id, protocol=mqtt.MQTTv5
        )
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(settings.ca_path))
        context.load_cert_chain(str(settings.certificate_path), str(settings.key_path))
        client.tls_set_context(context)
        client.connect_timeout = settings.connect_timeout_s
        client.max_queued_messages_set(100_000)
        # No window on the hub's own commands: their broker acknowledgements arrive behind a
        # whole fleet's answers on this one connection, and a window of 100 held a command to
        # 5,000 devices back until the answers ahead of them were read (docs/benchmarks.md).
        client.max_inflight_messages_set(0)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_publish = self._on_publish
        client.on_socket_open = self._on_socket_open
        client.on_socket_close = self._on_socket_close
        client.on_socket_register_write = self._on_socket_register_write
        client.on_socket_unregister_write = self._on_socket_unregister_write
        self._client = client

    def start(self) -> None:
        """Connect in the background and keep reconnecting (call on the loop's thread)."""
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]  # paho leaves it unannotated
        properties.SessionExpiryInterval = SESSION_EXPIRY_S
        self._client.connect_async(
            self.settings.host,
            self.settings.port,
            keepalive=self.settings.keepalive_s,
            clean_start=False,
            properties=properties,
        )
        self._loop_thread = threading.get_ident()
        self._task = self._loop.create_task(self._keep_connected(), name="fleet-mqtt")

    async def stop(self) -> None:
        """Disconnect cleanly (the broker keeps the session) and stop reconnecting."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._connecting is not None:  # a connect under way ends (connect_timeout_s at most)
            await asyncio.gather(self._connecting, return_exceptions=True)
            self._connecting = None
            await asyncio.sleep(0)  # its socket watched, to be unwatched below
        if self.connected.is_set():
            self._client.disconnect()
            self._client.loop_write()  # the DISCONNECT; paho closes the socket once it is written
        sock = self._client.socket()
        if sock is not None:  # no session yet, or the DISCONNECT did not fit: close anyway
            self._unwatch(sock)
            sock.close()
        self.connected.clear()

    def publish(self, topic: str, payload: bytes) -> None:
        """QoS 1, not retained; queued by paho while disconnected, written when the socket can take it."""
        self._client.publish(topic, payload, qos=1, retain=False)

    # -- the connection -------------------------------------------------------------------------

    async def _keep_connected(self) -> None:
        delay_s = 0.0  # before the next attempt: grows while attempts fail or sessions never start
        while True:
            if self._client.socket() is None:
                if delay_s:
                    await asyncio.sleep(delay_s)
                delay_s = min(max(delay_s * 2, RECONNECT_DELAY_S[0]), RECONNECT_DELAY_S[1])
                if not await self._connect():
                    continue
            elif self.connected.is_set():
                delay_s = 0.0
            self._client.loop_misc()  # keepalive pings; closes a connection whose broker went silent
            await asyncio.sleep(MISC_INTERVAL_S)

    async def _connect(self) -> bool:
        # Shielded: a stop while connecting waits for the connect to end rather than leave a
        # socket opening behind it.
        self._connecting = self._loop.run_in_executor(None, self._client.reconnect)
        try:
            await asyncio.shield(self._connecting)
        except (OSError, ssl.SSLError, ValueError) as error:
            log.warning("fleet broker %s:%d unreachable: %s", self.settings.host, self.settings.port, error)
            return False
        finally:
            if self._connecting.done():
                self._connecting = None
        return True

    def _read(self) -> None:
        # paho reads one packet per call when nothing of its own is in flight, and TLS may hold
        # decrypted bytes the socket no longer signals: read on while packets keep coming.
        for _ in range(READ_BURST_MAX):
            handled = self._handled
            if self._client.loop_read() != mqtt.MQTT_ERR_SUCCESS:
                return
            sock = self._client.socket()
            if sock is None:
                return
            if self._handled == handled and not getattr(sock, "pending", lambda: 0)():
                return

    def _on_loop(self, action: Callable[..., Any], *args: Any) -> None:
        # The socket callbacks also come from the executor thread that connects.
        if threading.get_ident() == self._loop_thread:
            action(*args)
        else:
            self._loop.call_soon_threadsafe(action, *args)

    def _watch(self, sock: Any) -> None:
        self._loop.add_reader(sock, self._read)

    def _unwatch(self, sock: Any) -> None:
        self._loop.remove_reader(sock)
        self._loop.remove_writer(sock)

    def _on_socket_open(self, client: mqtt.Client, userdata: Any, sock: Any) -> None:
        self._on_loop(self._watch, sock)

    def _on_socket_close(self, client: mqtt.Client, userdata: Any, sock: Any) -> None:
        # paho closes the socket right after this returns: stop watching it first.
        self._unwatch(sock)

    def _on_socket_register_write(self, client: mqtt.Client, userdata: Any, sock: Any) -> None:
        self._on_loop(self._loop.add_writer, sock, self._client.loop_write)

    def _on_socket_unregister_write(self, client: mqtt.Client, userdata: Any, sock: Any) -> None:
        self._on_loop(self._loop.remove_writer, sock)

    # -- MQTT callbacks (on the loop's thread) --------------------------------------------------

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: ReasonCode, properties: Any
    ) -> None:
        if reason.is_failure:
            log.warning("fleet broker refused the hub: %s", reason)
            return
        self.connections += 1
        client.subscribe([(topic, 1) for topic in SUBSCRIPTIONS])
        self.connected.set()
        log.info("fleet subscriber connected to %s:%d", self.settings.host, self.settings.port)

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: ReasonCode, properties: Any
    ) -> None:
        self.connected.clear()
        log.info("fleet subscriber disconnected: %s", reason)

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        self._handled += 1
        self._deliver(message.topic, bytes(message.payload))

    def _on_publish(self, client: mqtt.Client, userdata: Any, mid: int, reason: Any, properties: Any) -> None:
        self._handled += 1
