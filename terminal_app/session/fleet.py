"""Fleet management on a terminal or kiosk: its telemetry client beside its engine.

Off unless the device's configuration names a broker (``[fleet] broker = "host:8883"``). Then a
:class:`FleetLink` runs the device's MQTT client (:class:`terminal_app.telemetry.FleetClient`,
the enrolled certificate as its identity) and

* publishes a state snapshot at start, every ``state_interval_s`` and at once on every change it
  watches (the reader's presence, the hub's reachability, the journal's backlog, the MFP's
  errors, the configuration version);
* publishes events on the changes: ``reader_lost``/``reader_back``, ``hub_unreachable``/
  ``hub_reachable``, ``journal_replayed``, ``jam``/``jam_cleared``, ``out_of_paper``/
  ``paper_loaded``, ``mfp_error``/``mfp_recovered``, and ``started``;
* runs remote commands (:class:`DeviceCommands`) through the hooks the role gives
  (:class:`DeviceHooks`);
* puts the last good central configuration back into force at start, before it connects (the
  version it reports is the one in force).

The engine tells it what it watches through :meth:`FleetLink.observe`, called from the engine's
state subscription: it only compares and hands messages to the client's buffer, which another
thread sends, so a card tap never waits on the network. The reader's presence is polled from
its health every ``reader_check_s``; until the reader's first attempt to open its device ends it
is neither present nor missing (the snapshot says nothing of it).
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import logging
import shutil
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from printgate.waiting import wait_at_most

from reader_drivers import CardReader, HealthState
from terminal_app.hub.enrollment import Credentials
from terminal_app.hub.enrollment.state import CURRENT
from terminal_app.hub.fleet_config import FleetCalls
from terminal_app.session.device_ops import DEFAULT_MAX_BUNDLE_BYTES, DeviceOps
from terminal_app.telemetry import (
    BrokerSettings,
    CommandHandlers,
    CommandResult,
    ConfigSync,
    DeviceEvent,
    FleetClient,
    MfpState,
    ReaderState,
    SoftwareState,
    StateSnapshot,
    build_bundle,
)

__all__ = [
    "DeviceCommands",
    "DeviceHooks",
    "FleetLink",
    "FleetSettings",
    "Observed",
    "broker_settings",
    "device_ops",
    "mfp_events",
    "software_version",
]

log = logging.getLogger(__name__)

# MFP error names (mfp_adapters.mib) with their own fault and recovery events; every other
# blocking error is an ``mfp_error``.
_NAMED_MFP_EVENTS = {"jammed": ("jam", "jam_cleared"), "noPaper": ("out_of_paper", "paper_loaded")}


def software_version() -> str:
    """This software's version (the installed printgate distribution)."""
    try:
        return importlib.metadata.version("printgate")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


@dataclass(frozen=True)
class FleetSettings:
    """``[fleet]`` of terminal.toml and kiosk.toml: off unless ``broker`` is set."""

    broker: str = ""  # HOST:PORT of the fleet's Mosquitto TLS listener (docs/fleet.md)
    state_interval_s: float = 60.0  # a state snapshot at least this often
    reader_check_s: float = 1.0  # how often the reader's presence is looked at
    log_files: tuple[str, ...] = ()  # their tails go into a diagnostics bundle (secrets redacted)
    # reboot and install_update through the device's root service (an image's /data/printgate/ops);
    # empty: the two verbs are not available on this device
    ops_dir: str = ""
    update_max_bytes: int = DEFAULT_MAX_BUNDLE_BYTES  # the largest bundle install_update downloads

    def __post_init__(self) -> None:
        if self.broker:
            host, _, port = self.broker.rpartition(":")
            if not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(f"[fleet] broker must be HOST:PORT, not {self.broker!r}")
        if self.state_interval_s <= 0 or self.reader_check_s <= 0:
            raise ValueError("[fleet] state_interval_s and reader_check_s must be more than 0")
        if self.ops_dir and not Path(self.ops_dir).is_absolute():
            raise ValueError(f"[fleet] ops_dir must be an absolute path, not {self.ops_dir!r}")
        if self.update_max_bytes <= 0:
            raise ValueError("[fleet] update_max_bytes must be more than 0")

    @property
    def enabled(self) -> bool:
        return bool(self.broker)

    @property
    def address(self) -> tuple[str, int]:
        host, _, port = self.broker.rpartition(":")
        return host.strip("[]"), int(port)


def broker_settings(credentials: Credentials, identity_dir: Path, settings: FleetSettings) -> BrokerSettings:
    """The broker and the device's enrolled identity, named through the identity directory's
    ``current`` link: a renewed certificate is what the next connection presents (the old
    generation's files are deleted after a renewal)."""
    current = identity_dir / CURRENT
    host, port = settings.address
    return BrokerSettings(
        host,
        port,
        current / credentials.anchor_path.name,
        current / credentials.certificate_path.name,
        current / credentials.key_path.name,
    )


def device_ops(credentials: Credentials, identity_dir: Path, settings: FleetSettings) -> DeviceOps | None:
    """The client of the device's root service for ``reboot`` and ``install_update`` (None without
    ``ops_dir``), its directories made and cleared of an earlier run's leftovers. Downloads are
    checked against the hub CA the device enrolled with."""
    if not settings.ops_dir:
        return None
    ops = DeviceOps(
        Path(settings.ops_dir),
        identity_dir / CURRENT / credentials.anchor_path.name,
        settings.update_max_bytes,
    )
    ops.prepare()
    return ops


@dataclass(frozen=True)
class Observed:
    """What the fleet watches of an engine's state; ``mfp_errors`` None: no MFP status known."""

    offline: bool
    journal_backlog: int
    mfp_errors: tuple[str, ...] | None = None


def mfp_events(
    before: tuple[str, ...], after: tuple[str, ...], blocking: frozenset[str]
) -> list[DeviceEvent]:
    """The fault and recovery events between two sets of MFP errors (only blocking ones count)."""
    blocked_before, blocked_after = set(before) & blocking, set(after) & blocking
    gone, new = blocked_before - blocked_after, blocked_after - blocked_before
    events = []
    for name, (fault, recovery) in _NAMED_MFP_EVENTS.items():
        if name in new:
            events.append(DeviceEvent(fault, "fault", {"error": name}))
        if name in gone:
            events.append(DeviceEvent(recovery, "recovery", {"error": name}))
    other_new = sorted(new - set(_NAMED_MFP_EVENTS))
    other_gone = sorted(gone - set(_NAMED_MFP_EVENTS))
    if other_new:
        events.append(DeviceEvent("mfp_error", "fault", {"errors": other_new}))
    if other_gone and not blocked_after - set(_NAMED_MFP_EVENTS):
        events.append(DeviceEvent("mfp_recovered", "recovery", {"errors": other_gone}))
    return events


@dataclass
class DeviceHooks:
    """What a role does for the commands: show an operator notice, say what its configuration is
    (for a diagnostics bundle, redacted there), restart the app, reboot the machine and install
    an update (None: not available on this device; the last two: :class:`DeviceOps`). Central
    configuration goes through the role's ConfigSync."""

    show_notice: Callable[[str, float], None]
    config_document: Callable[[], Mapping[str, Any]]
    restart: Callable[[], Coroutine[Any, Any, None]] | None = None
    reboot: Callable[[], Awaitable[CommandResult]] | None = None
    install_update: Callable[[str, str, str], Awaitable[CommandResult]] | None = None
    resume_update: Callable[[str], Awaitable[CommandResult | None]] | None = None

    def use(self, ops: DeviceOps | None) -> DeviceHooks:
        """These hooks with ``reboot`` and ``install_update`` (and its resumption after a restart
        of the app) through ``ops`` (when there is one)."""
        if ops is not None:
            self.reboot, self.install_update = ops.reboot, ops.install_update
            self.resume_update = ops.resume_update
        return self


class DeviceCommands(CommandHandlers):
    """The command handlers of a terminal or kiosk (see :class:`DeviceHooks`)."""

    def __init__(
        self,
        hooks: DeviceHooks,
        calls: FleetCalls,
        config_sync: ConfigSync,
        versions: Mapping[str, str],
        log_files: tuple[Path, ...] = (),
    ) -> None:
        self.hooks = hooks
        self.calls = calls
        self.config_sync = config_sync
        self.versions = dict(versions)
        self.log_files = log_files
        self._restarting: asyncio.Task[None] | None = None

    def _after(self, action: Callable[[], Coroutine[Any, Any, None]] | None, what: str) -> CommandResult:
        if action is None:
            return CommandResult.failed(f"{what} is not available on this device")
        if self._restarting is None:  # answered after the restart, by the next start
            self._restarting = asyncio.get_running_loop().create_task(action(), name=f"fleet-{what}")
        return CommandResult.after_restart(f"{what} under way")

    async def restart_app(self) -> CommandResult:
        return self._after(self.hooks.restart, "restart")

    async def reboot(self) -> CommandResult:
        if self.hooks.reboot is None:
            return CommandResult.failed("reboot is not available on this device")
        return await self.hooks.reboot()

    async def reload_config(self, version: str) -> CommandResult:
        return await self.config_sync.sync(version)

    async def set_log_level(self, level: str) -> CommandResult:
        logging.getLogger().setLevel(level)
        log.warning("log level set to %s by the fleet", level)
        return CommandResult.done(f"log level {level}", level=level)

    async def show_message(self, text: str, duration_s: int) -> CommandResult:
        self.hooks.show_notice(text, float(duration_s))
        return CommandResult.done(f"shown for {duration_s} s")

    async def collect_diagnostics(self, command_id: str) -> CommandResult:
        bundle = await asyncio.to_thread(
            build_bundle, self.log_files, self.hooks.config_document(), self.versions
        )
        size = await self.calls.upload_diagnostics(command_id, bundle)
        return CommandResult.done(f"uploaded {size} bytes", size_bytes=size)

    async def install_update(self, url: str, version: str, sha256: str) -> CommandResult:
        if self.hooks.install_update is None:
            return CommandResult.failed("install_update is not available on this device")
        return await self.hooks.install_update(url, version, sha256)

    async def resume_update(self, version: str) -> CommandResult | None:
        if self.hooks.resume_update is None:
            return None
        return await self.hooks.resume_update(version)


@dataclass
class FleetLink:
    """One device's telemetry beside its engine (see the module docstring)."""

    client: FleetClient
    reader: CardReader | None  # None: a kiosk without a card reader
    reader_driver: str
    settings: FleetSettings
    software_version: str
    config_sync: ConfigSync
    data_dir: Path
    certificate_not_after_s: int | None = None
    blocking_errors: frozenset[str] = frozenset()
    monotonic: Callable[[], float] = time.monotonic
    _observed: Observed | None = None
    _reader_present: bool | None = None
    _started_s: float = 0.0
    _published_config: str | None = None
    _next_state_s: float = 0.0
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    def observe(self, observed: Observed) -> None:
        """The engine's watched facts now (cheap, never blocks): events on what changed."""
        before, self._observed = self._observed, observed
        if before is None or before == observed:
            if before is None:
                self._changed.set()
            return
        if observed.offline != before.offline:
            self._event(
                DeviceEvent("hub_unreachable", "fault")
                if observed.offline
                else DeviceEvent("hub_reachable", "recovery")
            )
        if before.journal_backlog and not observed.journal_backlog and not observed.offline:
            self._event(DeviceEvent("journal_replayed", "info", {"reports": before.journal_backlog}))
        for event in mfp_events(before.mfp_errors or (), observed.mfp_errors or (), self.blocking_errors):
            self._event(event)
        self._changed.set()

    def _event(self, event: DeviceEvent) -> None:
        self.client.publish_event(event)

    def _check_reader(self) -> None:
        if self.reader is None or self.reader.health.state is HealthState.CONNECTING:
            return  # its first attempt is under way: neither there nor missing yet
        present = self.reader.health.state is HealthState.READY
        before, self._reader_present = self._reader_present, present
        if before is None:
            self._changed.set()
        elif before != present:
            self._event(
                DeviceEvent("reader_back", "recovery", {"driver": self.reader_driver})
                if present
                else DeviceEvent("reader_lost", "fault", {"driver": self.reader_driver})
            )
            self._changed.set()

    def snapshot(self) -> StateSnapshot:
        """The device's state now."""
        observed, present = self._observed, self._reader_present
        mfp = None
        if observed is not None and observed.mfp_errors is not None:
            blocked = set(observed.mfp_errors) & self.blocking_errors
            mfp = MfpState("error" if blocked else "running", tuple(observed.mfp_errors))
        try:
            free = shutil.disk_usage(self.data_dir).free
        except OSError:
            free = None
        return StateSnapshot(
            kind=self.client.kind,
            software=SoftwareState(self.software_version),
            uptime_s=int(self.monotonic() - self._started_s),
            config_version=self.config_sync.version,
            reader=None if present is None else ReaderState(self.reader_driver, present),
            mfp=mfp,
            journal_backlog=observed.journal_backlog if observed else None,
            certificate_not_after_s=self.certificate_not_after_s,
            free_space_bytes=free,
        )

    async def run(self) -> None:
        """Put the last good central configuration back into force, then connect and publish
        until cancelled (then call :meth:`stop`)."""
        self._started_s = self.monotonic()
        try:
            await self.config_sync.restore()
        except ValueError as error:  # terminal.toml changed under it: the local settings stay
            log.error("the last good central configuration no longer applies: %s", error)
        await self.client.start()
        self._event(DeviceEvent("started", "info", {"version": self.software_version}))
        while True:
            self._check_reader()
            now = self.monotonic()
            if self.config_sync.version != self._published_config:  # a reload_config applied
                self._changed.set()
            if self._changed.is_set() or now >= self._next_state_s:
                self._changed.clear()
                self._next_state_s = now + self.settings.state_interval_s
                snapshot = self.snapshot()
                self._published_config = snapshot.config_version
                self.client.publish_state(snapshot)
            await wait_at_most(self._changed.wait(), self.settings.reader_check_s)

    async def stop(self) -> None:
        """Say offline to the broker and disconnect."""
        await self.client.stop()
