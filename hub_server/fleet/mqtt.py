"""The hub's MQTT client: a subscriber like any other, with its own certificate.

paho runs its network loop in its own thread (``loop_start``) and reconnects by itself (one
client: no stampede to spread); received messages are handed to the event loop, where
:meth:`FleetComponent.submit` checks and queues them. The session is persistent (clean start
off, one hour of session expiry), so QoS 1 events and answers published while the hub restarts
wait for it at the broker; retained status and state arrive again on every subscription.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
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


class HubMqtt:
    """Subscribes for ``deliver(topic, payload)`` (called on ``loop``) and publishes commands."""

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
        # Received messages wait here for the event loop, which is woken once per burst rather
        # than once per message: a whole fleet answering a command is 10,000 messages in a second.
        self._inbox: collections.deque[tuple[str, bytes]] = collections.deque()
        self._inbox_lock = threading.Lock()
        self._wake_pending = False
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=settings.client_id, protocol=mqtt.MQTTv5
        )
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(settings.ca_path))
        context.load_cert_chain(str(settings.certificate_path), str(settings.key_path))
        client.tls_set_context(context)
        client.reconnect_delay_set(1, 30)
        client.max_queued_messages_set(100_000)
        # No window on the hub's own commands: their broker acknowledgements arrive behind a
        # whole fleet's answers on this one connection, and a window of 100 held a command to
        # 5,000 devices back until the answers ahead of them were read (docs/benchmarks.md).
        client.max_inflight_messages_set(0)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        self._client = client

    def start(self) -> None:
        """Connect in the background (paho's thread) and keep reconnecting."""
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]  # paho leaves it unannotated
        properties.SessionExpiryInterval = SESSION_EXPIRY_S
        self._client.connect_async(
            self.settings.host,
            self.settings.port,
            keepalive=self.settings.keepalive_s,
            clean_start=False,
            properties=properties,
        )
        self._client.loop_start()

    def stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def publish(self, topic: str, payload: bytes) -> None:
        """QoS 1, not retained; queued by paho while disconnected."""
        self._client.publish(topic, payload, qos=1, retain=False)

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
        with self._inbox_lock:
            self._inbox.append((message.topic, bytes(message.payload)))
            if self._wake_pending:
                return
            self._wake_pending = True
        with contextlib.suppress(RuntimeError):  # the loop is closing
            self._loop.call_soon_threadsafe(self._deliver_inbox)

    def _deliver_inbox(self) -> None:
        with self._inbox_lock:
            received = list(self._inbox)
            self._inbox.clear()
            self._wake_pending = False
        for topic, payload in received:
            self._deliver(topic, payload)
