"""Build a running terminal from a :class:`TerminalConfig`: reader, panel lock, copy counter, hub, engine.

:class:`Terminal` owns the pieces and the background tasks around the engine: the reader pump
(card reads become :class:`CardPresented` intents), the printer-status poll (SNMP), the
certificate renewal, fleet telemetry when ``[fleet] broker`` is set
(:mod:`terminal_app.session.fleet`), and a log line per state change (the headless runner; the
Kivy UI subscribes the same way). A terminal that was never enrolled does not start
(:class:`~terminal_app.errors.ReenrollRequired`); one whose certificate expired starts and
shows that it must be enrolled again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from mfp_adapters import CommunityAuth, FihPanelLock, MfpError, MfpSnmp, PanelLock, SnmpClient
from mfp_adapters.mib import BLOCKING_ERROR_BITS
from reader_drivers import CardReader, open_reader
from terminal_app.errors import ConfigError, ReenrollRequired
from terminal_app.hub import HubClient
from terminal_app.hub.enrollment import Credentials, DeviceEnrollment
from terminal_app.hub.fleet_config import FleetCalls
from terminal_app.hub.renewal import CertificateRenewal
from terminal_app.session.clock import Clock, SystemClock
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
from terminal_app.session.reader import pump_cards
from terminal_app.session.store import open_store
from terminal_app.telemetry import ConfigSync, FleetClient
from terminal_app.terminal.config import TerminalConfig, central_settings
from terminal_app.terminal.copying import CopyCounter, PulseCopyCounter, SnmpCopyCounter
from terminal_app.terminal.engine import TerminalEngine
from terminal_app.terminal.journal import Journal
from terminal_app.terminal.offline_cache import OfflineCache, load_or_create_key
from terminal_app.terminal.state import TerminalState

__all__ = ["Terminal", "build_terminal", "describe"]

log = logging.getLogger("terminal_app.terminal")


def describe(state: TerminalState) -> str:
    """One log line for a state."""
    parts = [f"screen={state.screen}"]
    if state.username:
        parts.append(f"user={state.username}")
    if state.balance_cents is not None:
        parts.append(f"balance={state.balance_cents}")
    if state.panel_unlocked:
        parts.append(f"unlocked pages={state.copy_pages} cost={state.copy_cost_cents}")
    if state.idle_warning:  # the countdown itself changes every second: logged only as a warning
        parts.append(f"idle_warning countdown={state.countdown_s}")
    if state.message:
        parts.append(f"message={state.message}")
    if state.offline:
        parts.append("offline")
    if state.pending_reports:
        parts.append(f"journal={state.pending_reports}")
    return " ".join(parts)


@dataclass
class Terminal:
    """A wired terminal; ``await run()`` until ``await stop()``."""

    config: TerminalConfig
    engine: TerminalEngine
    reader: CardReader
    panel: PanelLock
    snmp: MfpSnmp | None
    client: HubClient
    store: sqlite3.Connection
    renewal: CertificateRenewal
    fleet: FleetLink | None = None
    _tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    _last_line: str = ""

    def _log_state(self, state: TerminalState) -> None:
        line = describe(state)
        if line != self._last_line:
            self._last_line = line
            log.info("%s", line)

    async def run(self) -> None:
        """Run the engine with its reader pump and printer-status poll until :meth:`stop`."""
        self.engine.subscribe(self._log_state)
        await self.reader.start()
        self._tasks = [
            asyncio.create_task(pump_cards(self.reader, self.engine.submit), name="reader-pump"),
            asyncio.create_task(self.renewal.run(), name="certificate-renewal"),
        ]
        if self.snmp is not None and self.config.mfp.status_poll_s > 0:
            self._tasks.append(asyncio.create_task(self._poll_status(), name="printer-status"))
        if self.fleet is not None:
            self.engine.subscribe(self._observe)
            self._tasks.append(asyncio.create_task(self.fleet.run(), name="fleet-telemetry"))
        try:
            await self.engine.run()
        finally:
            for task in self._tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if self.fleet is not None:
                await self.fleet.stop()
            await self.reader.stop()

    def _observe(self, state: TerminalState) -> None:
        assert self.fleet is not None
        errors = state.printer_errors if self.snmp is not None else None
        self.fleet.observe(Observed(state.offline, state.pending_reports, errors))

    async def stop(self) -> None:
        """End a live session (panel locked, usage journaled), stop the engine, release devices."""
        await self.engine.close()

    async def close(self) -> None:
        """Release what :func:`build_terminal` opened (after :meth:`run` returned)."""
        await self.client.close()
        if self.snmp is not None:
            await self.snmp.client.aclose()
        if isinstance(self.panel, FihPanelLock):
            self.panel.close()
        self.store.close()

    async def _poll_status(self) -> None:
        assert self.snmp is not None
        while True:
            try:
                self.engine.printer_status((await self.snmp.status()).errors)
                self.engine.printer_trays(await self.snmp.trays())
            except MfpError as exc:
                log.warning("printer status not read: %s", exc)
            await asyncio.sleep(self.config.mfp.status_poll_s)


def _pin_factory(name: str) -> Any:
    """A gpiozero pin factory by entry-point name ("mock", "lgpio" ...); "" = gpiozero's own choice."""
    if not name:
        return None
    for point in entry_points(group="gpiozero_pin_factories"):
        if point.name == name:
            return point.load()()
    raise ConfigError(f"[mfp.fih] unknown gpiozero pin factory {name!r}")


def build_terminal(
    config: TerminalConfig, *, pin_factory: Any = None, clock: Clock | None = None
) -> Terminal:
    """Open every device and the store; ``pin_factory`` overrides ``[mfp.fih] pin_factory`` (tests)."""
    enrollment = DeviceEnrollment(config.identity_dir, "terminal")
    credentials = enrollment.store.current()
    if credentials is None:
        raise ReenrollRequired(
            f"this terminal is not enrolled (nothing in {config.identity_dir}): "
            "printgate terminal enroll --token TOKEN --config terminal.toml"
        )
    if credentials.kind != "terminal":
        raise ConfigError(f"{config.identity_dir} holds the identity of a {credentials.kind}, not a terminal")
    fih = config.mfp.fih
    panel = FihPanelLock(
        enable_pin=fih.enable_pin,
        count_mono_pin=fih.count_mono_pin,
        count_color_pin=fih.count_color_pin,
        count_large_pin=fih.count_large_pin,
        pin_factory=pin_factory or _pin_factory(fih.pin_factory),
        grace_s=fih.grace_s,
    )
    snmp = None
    if config.mfp.address:
        auth = CommunityAuth(config.mfp.community)
        client = SnmpClient(
            config.mfp.address, config.mfp.snmp_port, auth, timeout_s=config.mfp.snmp_timeout_s
        )
        snmp = MfpSnmp(client)
    counter: CopyCounter = PulseCopyCounter(panel)
    if config.mfp.counter == "snmp":
        assert snmp is not None
        counter = SnmpCopyCounter(snmp)
    hub = HubClient(credentials, address=config.hub.address, deadline_s=config.hub.deadline_s)
    renewal = CertificateRenewal(enrollment, hub.channel, check_s=config.hub.renew_check_s)
    store = open_store(config.store_path)
    key = load_or_create_key(config.cache_key_path)
    engine = TerminalEngine(
        hub=hub,
        panel=panel,
        counter=counter,
        journal=Journal(store),
        cache=OfflineCache(
            store, key, clock or SystemClock(), ttl_s=config.cache_ttl_s, max_users=config.cache_max_users
        ),
        settings=config.settings,
        clock=clock,
    )
    reader = open_reader(
        config.reader.driver,
        url=config.reader.url,
        convert=config.reader.convert or None,
        debounce_s=config.reader.debounce_s,
    )
    terminal = Terminal(config, engine, reader, panel, snmp, hub, store, renewal)
    if config.fleet.enabled:
        terminal.fleet = fleet_link(terminal, credentials)
    return terminal


def fleet_link(terminal: Terminal, credentials: Credentials) -> FleetLink:
    """The terminal's telemetry client and command handlers (``[fleet]``, docs/fleet.md)."""
    config, engine = terminal.config, terminal.engine
    state_dir = config.data_dir / "telemetry"
    calls = FleetCalls(terminal.client.channel)

    def validate(document: dict[str, Any]) -> None:
        central_settings(config, document)

    def apply(document: dict[str, Any]) -> None:
        engine.apply_settings(central_settings(config, document))

    # config_applied / config_rejected go out as events (the client exists by then)
    sync = ConfigSync(
        state_dir, calls.fetch_config, validate, apply, lambda event: client.publish_event(event)
    )
    hooks = DeviceHooks(
        show_notice=lambda text, duration_s: engine.submit(ShowNotice(text, duration_s)),
        config_document=lambda: config.document,
        restart=terminal.stop,  # the service manager starts it again (Restart=always)
    ).use(device_ops(credentials, config.identity_dir, config.fleet))
    version = software_version()
    commands = DeviceCommands(
        hooks, calls, sync, {"printgate": version}, tuple(Path(name) for name in config.fleet.log_files)
    )
    client = FleetClient(
        credentials.device_id,
        "terminal",
        broker_settings(credentials, config.identity_dir, config.fleet),
        state_dir,
        commands,
        software_version=version,
    )
    return FleetLink(
        client,
        terminal.reader,
        config.reader.driver,
        config.fleet,
        version,
        sync,
        config.data_dir,
        certificate_not_after_s=int(credentials.certificate.not_valid_after_utc.timestamp()),
        blocking_errors=BLOCKING_ERROR_BITS,
    )
