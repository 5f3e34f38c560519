"""The kiosk under fleet management (``[fleet] broker`` in kiosk.toml): its telemetry client and
command handlers, as :mod:`terminal_app.session.fleet` describes; the journal's backlog is its
cash events waiting for the hub, and central configuration sets its ``[kiosk]`` rules."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from reader_drivers import CardReader
from terminal_app.hub import HubClient
from terminal_app.hub.enrollment import Credentials
from terminal_app.hub.fleet_config import FleetCalls
from terminal_app.kiosk.config import KioskConfig, central_settings
from terminal_app.kiosk.engine import KioskEngine
from terminal_app.kiosk.state import KioskState
from terminal_app.session.fleet import (
    DeviceCommands,
    DeviceHooks,
    FleetLink,
    Observed,
    broker_settings,
    device_ops,
    software_version,
)
from terminal_app.session.intents import ShowNotice
from terminal_app.telemetry import ConfigSync, FleetClient

__all__ = ["kiosk_fleet_link", "observe_kiosk"]


def observe_kiosk(link: FleetLink) -> Callable[[KioskState], None]:
    """The engine subscription that tells ``link`` what the fleet watches of a kiosk."""
    return lambda state: link.observe(Observed(state.offline, state.pending_events))


def kiosk_fleet_link(
    config: KioskConfig,
    engine: KioskEngine,
    hub: HubClient,
    credentials: Credentials,
    reader: CardReader | None,
    restart: Callable[[], Coroutine[Any, Any, None]],
) -> FleetLink:
    """The kiosk's telemetry client and command handlers; ``restart`` stops it cleanly (the
    service manager starts it again)."""
    state_dir = config.journal.parent / "telemetry"
    calls = FleetCalls(hub.channel)

    def validate(document: dict[str, Any]) -> None:
        central_settings(config, document)

    def apply(document: dict[str, Any]) -> None:
        engine.apply_settings(central_settings(config, document))

    sync = ConfigSync(
        state_dir, calls.fetch_config, validate, apply, lambda event: client.publish_event(event)
    )
    hooks = DeviceHooks(
        show_notice=lambda text, duration_s: engine.submit(ShowNotice(text, duration_s)),
        config_document=lambda: {"kiosk": vars(config.settings), "reader": config.reader},
        restart=restart,
    ).use(device_ops(credentials, config.identity_dir, config.fleet))
    version = software_version()
    log_files = tuple(Path(name) for name in config.fleet.log_files)
    commands = DeviceCommands(hooks, calls, sync, {"printgate": version}, log_files)
    client = FleetClient(
        credentials.device_id,
        "kiosk",
        broker_settings(credentials, config.identity_dir, config.fleet),
        state_dir,
        commands,
        software_version=version,
    )
    return FleetLink(
        client,
        reader,
        str(config.reader.get("driver", "")),
        config.fleet,
        version,
        sync,
        config.journal.parent,
        certificate_not_after_s=int(credentials.certificate.not_valid_after_utc.timestamp()),
    )
