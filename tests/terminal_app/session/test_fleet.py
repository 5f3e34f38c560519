"""The device's fleet link without a broker: which events a change of the engine's state makes,
what a snapshot says, the command handlers, the ``[fleet]`` settings and central configuration of
both roles. The link's client here records what it is handed (the real client and broker are in
tests/terminal_app/terminal/test_fleet_e2e.py)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import tarfile
from pathlib import Path
from typing import Any

import pytest

from mfp_adapters.mib import BLOCKING_ERROR_BITS
from reader_drivers import HealthState
from terminal_app.errors import ConfigError
from terminal_app.hub.enrollment import Credentials
from terminal_app.hub.values import FetchedConfig
from terminal_app.kiosk.config import central_settings as kiosk_central_settings
from terminal_app.kiosk.config import load_kiosk_config
from terminal_app.session.fleet import (
    DeviceCommands,
    DeviceHooks,
    FleetLink,
    FleetSettings,
    Observed,
    broker_settings,
    mfp_events,
)
from terminal_app.telemetry import ConfigSync, DeviceEvent, StateSnapshot
from terminal_app.terminal.config import central_settings, config_from_document


class RecordingClient:
    """What the link hands the telemetry client."""

    kind = "terminal"

    def __init__(self, on_start: Any = None) -> None:
        self.events: list[DeviceEvent] = []
        self.states: list[StateSnapshot] = []
        self.on_start = on_start

    async def start(self) -> None:
        if self.on_start is not None:
            self.on_start()

    def publish_event(self, event: DeviceEvent) -> str:
        self.events.append(event)
        return "id"

    def publish_state(self, snapshot: StateSnapshot) -> None:
        self.states.append(snapshot)


class Health:
    def __init__(self, state: HealthState) -> None:
        self.state = state


class Reader:
    def __init__(self) -> None:
        self.health = Health(HealthState.READY)


def kept_config(state_dir: Path, version: str, document: dict[str, Any]) -> ConfigSync:
    """A ConfigSync whose last good version is ``version`` (as a device keeps it on disk)."""
    state_dir.mkdir(parents=True, exist_ok=True)
    (state_dir / "config-good.json").write_text(json.dumps({"version": version, "document": document}))
    applied: list[dict[str, Any]] = []
    return ConfigSync(state_dir, Calls(document).fetch_config, lambda document: None, applied.append)


def link(tmp_path: Path, reader: Reader | None = None) -> tuple[FleetLink, RecordingClient]:
    client = RecordingClient()
    fleet_link = FleetLink(
        client,  # type: ignore[arg-type]
        reader,  # type: ignore[arg-type]
        "rdm6300",
        FleetSettings(broker="127.0.0.1:8883"),
        "1.2.3",
        kept_config(tmp_path / "telemetry", "cfg1", {}),
        tmp_path,
        certificate_not_after_s=1_900_000_000,
        blocking_errors=BLOCKING_ERROR_BITS,
        monotonic=lambda: 100.0,
    )
    return fleet_link, client


def kinds(client: RecordingClient) -> list[tuple[str, str, dict[str, Any]]]:
    return [(e.type, e.severity, e.detail) for e in client.events]


def test_engine_changes_become_events(tmp_path: Path) -> None:
    fleet, client = link(tmp_path)
    fleet.observe(Observed(offline=False, journal_backlog=0, mfp_errors=()))
    assert client.events == []  # the first observation is the starting point
    fleet.observe(Observed(offline=True, journal_backlog=2, mfp_errors=("jammed", "lowToner")))
    fleet.observe(Observed(offline=True, journal_backlog=2, mfp_errors=("jammed", "lowToner")))
    fleet.observe(Observed(offline=False, journal_backlog=0, mfp_errors=("doorOpen",)))
    fleet.observe(Observed(offline=False, journal_backlog=0, mfp_errors=()))
    assert kinds(client) == [
        ("hub_unreachable", "fault", {}),
        ("jam", "fault", {"error": "jammed"}),
        ("hub_reachable", "recovery", {}),
        ("journal_replayed", "info", {"reports": 2}),
        ("jam_cleared", "recovery", {"error": "jammed"}),
        ("mfp_error", "fault", {"errors": ["doorOpen"]}),
        ("mfp_recovered", "recovery", {"errors": ["doorOpen"]}),
    ]


def test_a_journal_emptied_while_offline_is_no_replay(tmp_path: Path) -> None:
    fleet, client = link(tmp_path)
    fleet.observe(Observed(offline=True, journal_backlog=3))
    fleet.observe(Observed(offline=True, journal_backlog=0))
    assert client.events == []


def test_paper_and_warnings() -> None:
    assert [(e.type, e.detail) for e in mfp_events((), ("noPaper", "lowPaper"), BLOCKING_ERROR_BITS)] == [
        ("out_of_paper", {"error": "noPaper"})
    ]
    assert [e.type for e in mfp_events(("noPaper",), (), BLOCKING_ERROR_BITS)] == ["paper_loaded"]
    assert mfp_events((), ("lowToner",), BLOCKING_ERROR_BITS) == []  # a warning is no fault


def test_reader_presence_and_the_snapshot(tmp_path: Path) -> None:
    reader = Reader()
    reader.health = Health(HealthState.CONNECTING)
    fleet, client = link(tmp_path, reader)
    fleet._check_reader()
    assert "reader" not in fleet.snapshot().to_document()  # still opening its device: not known yet
    reader.health = Health(HealthState.READY)
    fleet._check_reader()
    reader.health = Health(HealthState.RECONNECTING)
    fleet._check_reader()
    fleet._check_reader()
    reader.health = Health(HealthState.READY)
    fleet._check_reader()
    assert kinds(client) == [
        ("reader_lost", "fault", {"driver": "rdm6300"}),
        ("reader_back", "recovery", {"driver": "rdm6300"}),
    ]
    fleet.observe(Observed(offline=False, journal_backlog=4, mfp_errors=("jammed",)))
    document = fleet.snapshot().to_document()
    assert document["reader"] == {"driver": "rdm6300", "present": True}
    assert document["mfp"]["status"] == "error" and document["mfp"]["errors"] == ["jammed"]
    assert (document["journal_backlog"], document["config_version"]) == (4, "cfg1")
    assert document["software"] == {"version": "1.2.3"}
    assert document["certificate_not_after_s"] == 1_900_000_000 and document["free_space_bytes"] > 0


def test_without_a_reader_or_mfp_the_snapshot_says_nothing_of_them(tmp_path: Path) -> None:
    fleet, _ = link(tmp_path)
    fleet.observe(Observed(offline=False, journal_backlog=0))
    document = fleet.snapshot().to_document()
    assert "reader" not in document and "mfp" not in document


class Calls:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.uploads: list[tuple[str, bytes]] = []

    async def fetch_config(self, known_version: str) -> FetchedConfig:
        return FetchedConfig("v2", self.document)

    async def upload_diagnostics(self, command_id: str, bundle: bytes) -> int:
        self.uploads.append((command_id, bundle))
        return len(bundle)


async def test_command_handlers(tmp_path: Path) -> None:
    notices: list[tuple[str, float]] = []
    applied: list[dict[str, Any]] = []
    calls = Calls({"session": {"idle_timeout_s": 30}})
    sync = ConfigSync(tmp_path, calls.fetch_config, lambda document: None, applied.append)
    log_file = tmp_path / "app.log"
    log_file.write_text("started\npassword=hunter2\n")
    hooks = DeviceHooks(
        show_notice=lambda text, duration_s: notices.append((text, duration_s)),
        config_document=lambda: {"mfp": {"community": "private"}, "reader": {"driver": "rdm6300"}},
    )
    commands = DeviceCommands(hooks, calls, sync, {"printgate": "1.2.3"}, (log_file,))  # type: ignore[arg-type]
    root = logging.getLogger()
    level = root.level
    try:
        assert (await commands.set_log_level("ERROR")).status == "done" and root.level == logging.ERROR
    finally:
        root.setLevel(level)
    assert (await commands.show_message("Back at 2", 90)).status == "done"
    assert notices == [("Back at 2", 90.0)]
    reloaded = await commands.reload_config("v2")
    assert (reloaded.status, applied, sync.version) == ("done", [{"session": {"idle_timeout_s": 30}}], "v2")
    collected = await commands.collect_diagnostics("cmd-1")
    assert collected.status == "done" and [c for c, _ in calls.uploads] == ["cmd-1"]
    with tarfile.open(fileobj=io.BytesIO(calls.uploads[0][1]), mode="r:gz") as archive:
        config = json.loads(archive.extractfile("config.json").read())  # type: ignore[union-attr]
        log_text = archive.extractfile("logs/app.log").read().decode()  # type: ignore[union-attr]
    assert config["mfp"]["community"] == "***" and "hunter2" not in log_text
    assert (await commands.restart_app()).status == "failed"  # no restart hook on this device
    assert (await commands.install_update("https://x/b", "2.0", "a" * 64)).status == "failed"


async def test_restart_runs_the_hook_once_and_answers_after_it(tmp_path: Path) -> None:
    stopped = asyncio.Event()

    async def restart() -> None:
        stopped.set()

    sync = ConfigSync(tmp_path, Calls({}).fetch_config, lambda document: None, lambda document: None)
    hooks = DeviceHooks(show_notice=lambda text, duration_s: None, config_document=dict, restart=restart)
    commands = DeviceCommands(hooks, Calls({}), sync, {})  # type: ignore[arg-type]
    result = await commands.restart_app()
    assert result.status == "accepted" and result.restart_pending
    await asyncio.wait_for(stopped.wait(), 5)


def test_fleet_settings() -> None:
    assert not FleetSettings().enabled
    assert FleetSettings(broker="[::1]:8883").address == ("::1", 8883)
    for bad in ("hub", "hub:0", "hub:x"):
        with pytest.raises(ValueError, match="HOST:PORT"):
            FleetSettings(broker=bad)
    with pytest.raises(ValueError, match="more than 0"):
        FleetSettings(broker="hub:8883", state_interval_s=0)


def test_terminal_central_configuration_is_laid_over_terminal_toml(tmp_path: Path) -> None:
    config = config_from_document(
        {"session": {"idle_timeout_s": 120, "language": "de"}, "fleet": {"broker": "hub:8883"}}, tmp_path
    )
    assert config.fleet.address == ("hub", 8883)
    settings = central_settings(config, {"session": {"idle_timeout_s": 45}, "prices": {"copy_mono_cents": 7}})
    assert (settings.idle_timeout_s, settings.language, settings.prices.copy_mono_cents) == (45.0, "de", 7)
    for bad in ({"hub": {"address": "x:1"}}, {"session": {"idle_timeout_s": 1}}, {"session": "fast"}):
        with pytest.raises(ConfigError):
            central_settings(config, bad)


def test_kiosk_fleet_section_and_central_configuration(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_text('[kiosk]\nidle_timeout_s = 90\n[fleet]\nbroker = "hub:8883"\nlog_files = ["a.log"]\n')
    config = load_kiosk_config(path)
    assert (config.fleet.broker, config.fleet.log_files) == ("hub:8883", ("a.log",))
    settings = kiosk_central_settings(config, {"kiosk": {"recharge_timeout_s": 30}})
    assert (settings.idle_timeout_s, settings.recharge_timeout_s) == (90.0, 30)
    refused: list[dict[str, Any]] = [
        {"printer": {}},
        {"kiosk": {"journal": "x.db"}},
        {"kiosk": {"idle_timeout_s": 1}},
    ]
    for bad in refused:
        with pytest.raises(ConfigError):
            kiosk_central_settings(config, bad)
    path.write_text('[fleet]\nbroker = "nowhere"\n')
    with pytest.raises(ConfigError, match="HOST:PORT"):
        load_kiosk_config(path)


def test_the_broker_sees_a_renewed_certificate_on_the_next_connection(tmp_path: Path) -> None:
    for generation in ("gen-1", "gen-2"):
        (tmp_path / generation).mkdir()
        for name in ("device.key", "device.crt", "hub-ca.pem"):
            (tmp_path / generation / name).write_text(f"{generation} {name}")
    (tmp_path / "current").symlink_to("gen-1")
    first = Credentials(tmp_path / "gen-1", "term-1", "terminal", (), None)  # type: ignore[arg-type]
    settings = broker_settings(first, tmp_path, FleetSettings(broker="hub:8883"))
    assert (settings.host, settings.port) == ("hub", 8883)
    names = (settings.key_path, settings.certificate_path, settings.ca_path)
    assert [path.name for path in names] == [
        first.key_path.name,
        first.certificate_path.name,
        first.anchor_path.name,
    ]
    assert [path.read_text() for path in names] == [
        "gen-1 device.key",
        "gen-1 device.crt",
        "gen-1 hub-ca.pem",
    ]
    (tmp_path / "current.new").symlink_to("gen-2")  # a renewal swaps the link, then drops gen-1
    (tmp_path / "current.new").replace(tmp_path / "current")
    assert [path.read_text() for path in names] == [
        "gen-2 device.key",
        "gen-2 device.crt",
        "gen-2 hub-ca.pem",
    ]


async def test_the_last_good_configuration_is_in_force_before_the_device_connects(tmp_path: Path) -> None:
    applied: list[dict[str, Any]] = []
    state_dir = tmp_path / "telemetry"
    state_dir.mkdir()
    document = {"session": {"idle_timeout_s": 45}}
    (state_dir / "config-good.json").write_text(json.dumps({"version": "v7", "document": document}))
    sync = ConfigSync(state_dir, Calls({}).fetch_config, lambda document: None, applied.append)
    at_start: list[list[dict[str, Any]]] = []
    client = RecordingClient(on_start=lambda: at_start.append(list(applied)))
    settings = FleetSettings(broker="hub:8883", reader_check_s=0.01)
    fleet = FleetLink(client, None, "", settings, "1.2.3", sync, tmp_path)  # type: ignore[arg-type]
    task = asyncio.create_task(fleet.run())
    try:
        while not client.states:
            await asyncio.sleep(0.01)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert at_start == [[document]]
    assert client.states[0].config_version == "v7"
    assert [(e.type, e.detail) for e in client.events] == [("started", {"version": "1.2.3"})]
