"""Fleet management over MQTT, the hub's side: live state and history of every terminal, kiosk
and printer, alerts (webhook and e-mail), remote commands with an audit record, staged update
roll-outs and central configuration.

Of the rest of the hub it uses only the storage interface, the clock and the PKI's CA (for the
broker's files and the hub's own MQTT certificate). The hub wires (``hub_server.server``:
``start_fleet`` when ``[fleet] enabled``, its tables the ``fleet`` migration :data:`COMPONENT`):

* start-up: ``FleetComponent(db, clock, thresholds=..., channels=tuple(config.channels()),
  publisher=mqtt, is_revoked=..., blocking_errors=BLOCKING_ERROR_BITS)`` with its tasks
  ``run()``, ``run_sweeps()``, ``AlertDispatcher.run()``, ``PrinterPoller.run()``, and
  ``HubMqtt(settings, component.submit, loop).start()``;
* gRPC: :class:`FleetAdminServicer` and :class:`FleetDeviceServicer`;
* the broker: :func:`write_broker_files` / :func:`write_crl` (docs/fleet.md).
"""

from __future__ import annotations

from hub_server.fleet.alerts import ALERT_KINDS, AlertCondition, AlertThresholds
from hub_server.fleet.broker import (
    BrokerFiles,
    acl_text,
    hub_client_certificate,
    hub_username,
    write_broker_files,
    write_crl,
)
from hub_server.fleet.component import FleetComponent, FleetStats, Publisher
from hub_server.fleet.config import FleetConfig
from hub_server.fleet.delivery import AlertDispatcher, EmailChannel, EmailSettings, WebhookChannel
from hub_server.fleet.errors import (
    DeviceRevoked,
    FleetError,
    InvalidRequest,
    RolloutState,
    SourceConflict,
    UnknownCommand,
    UnknownDevice,
    UnknownRollout,
    grpc_status_for,
)
from hub_server.fleet.mqtt import HubMqtt, HubMqttSettings
from hub_server.fleet.rollouts import Wave
from hub_server.fleet.schema import COMPONENT
from hub_server.fleet.service import FleetAdminServicer, FleetDeviceServicer
from hub_server.fleet.snmp import BLOCKING_ERROR_BITS, PrinterPoller, PrinterTarget

__all__ = [
    "ALERT_KINDS",
    "BLOCKING_ERROR_BITS",
    "COMPONENT",
    "AlertCondition",
    "AlertDispatcher",
    "AlertThresholds",
    "BrokerFiles",
    "DeviceRevoked",
    "EmailChannel",
    "EmailSettings",
    "FleetAdminServicer",
    "FleetComponent",
    "FleetConfig",
    "FleetDeviceServicer",
    "FleetError",
    "FleetStats",
    "HubMqtt",
    "HubMqttSettings",
    "InvalidRequest",
    "PrinterPoller",
    "PrinterTarget",
    "Publisher",
    "RolloutState",
    "SourceConflict",
    "UnknownCommand",
    "UnknownDevice",
    "UnknownRollout",
    "Wave",
    "WebhookChannel",
    "acl_text",
    "grpc_status_for",
    "hub_client_certificate",
    "hub_username",
    "write_broker_files",
    "write_crl",
]
