"""The device side of fleet management: MQTT presence, state and events, remote commands, and
central configuration. Imports only the ``printgate`` contract and third-party libraries.

Use::

    client = FleetClient(device_id, "terminal", BrokerSettings.from_credentials(creds, host, port),
                         state_dir, handlers, software_version=version)
    await client.start()                     # on the engine's event loop
    client.publish_state(snapshot)           # every 60 s and on change; never blocks
    client.publish_event(DeviceEvent("jam", "fault"))
    await client.stop()

Topics and payloads: ``printgate.fleet_wire`` and docs/fleet.md.
"""

from __future__ import annotations

from terminal_app.telemetry.backoff import Backoff
from terminal_app.telemetry.buffer import Entry, OfflineBuffer
from terminal_app.telemetry.client import BrokerSettings, ClientStats, FleetClient
from terminal_app.telemetry.commands import (
    Command,
    CommandGuard,
    CommandHandlers,
    CommandRejected,
    CommandResult,
)
from terminal_app.telemetry.config_sync import ConfigSync
from terminal_app.telemetry.diagnostics import build_bundle, redact_config, redact_text
from terminal_app.telemetry.snapshot import (
    EVENT_TYPES,
    DeviceEvent,
    MfpState,
    ReaderState,
    SoftwareState,
    StateSnapshot,
    SupplyLevel,
)

__all__ = [
    "EVENT_TYPES",
    "Backoff",
    "BrokerSettings",
    "ClientStats",
    "Command",
    "CommandGuard",
    "CommandHandlers",
    "CommandRejected",
    "CommandResult",
    "ConfigSync",
    "DeviceEvent",
    "Entry",
    "FleetClient",
    "MfpState",
    "OfflineBuffer",
    "ReaderState",
    "SoftwareState",
    "StateSnapshot",
    "SupplyLevel",
    "build_bundle",
    "redact_config",
    "redact_text",
]
