"""``printgate admin fleet ...`` against a hub with ``[fleet] enabled`` and a real Mosquitto: a
device (the real telemetry client with an enrolled certificate) publishes, the CLI lists and
shows it, sends it a command recorded with the admin's name, and reads alerts and history."""

from __future__ import annotations

import asyncio
import json
import shlex
from pathlib import Path
from typing import Any

import pytest

from terminal_app.hub.enrollment import CredentialStore
from terminal_app.telemetry import BrokerSettings, DeviceEvent, FleetClient, ReaderState, StateSnapshot
from terminal_app.telemetry.backoff import Backoff
from tests.admin_cli.test_admin_cli import Result, run_admin
from tests.fleet_hub import FleetHub, fleet_hub
from tests.fleet_rig import RecordingHandlers

__all__ = ["fleet_hub"]

pytestmark = pytest.mark.slow


async def cli(hub: FleetHub, command: str, json_output: bool = True) -> Result:
    """``printgate admin --hub ... --data-dir ... [--json] COMMAND`` in a thread (the hub runs on
    this event loop)."""
    login = ["--hub", hub.admin_address, "--data-dir", str(hub.config.data_dir)]
    argv = [*login, *(["--json"] if json_output else []), *shlex.split(command)]
    return await asyncio.to_thread(run_admin, argv)


async def ok(hub: FleetHub, command: str) -> Any:
    result = await cli(hub, command)
    assert (result.code, result.err) == (0, ""), result
    return result.json()


async def start_device(hub: FleetHub, device_id: str, handlers: RecordingHandlers) -> FleetClient:
    state_dir = await hub.enroll(device_id)
    credentials = CredentialStore(state_dir).current()
    assert credentials is not None
    settings = BrokerSettings.from_credentials(credentials, hub.broker.host, hub.broker.port)
    client = FleetClient(
        device_id, "terminal", settings, state_dir / "telemetry", handlers, backoff=Backoff(0.05, 0.5)
    )
    await client.start()
    return client


async def test_list_show_command_alerts_and_history(fleet_hub: FleetHub) -> None:
    handlers = RecordingHandlers()
    client = await start_device(fleet_hub, "term-cli", handlers)
    try:
        client.publish_state(StateSnapshot(kind="terminal", reader=ReaderState("rdm6300", True)))

        async def listed_online() -> bool:
            devices = (await ok(fleet_hub, "fleet list"))["devices"]
            listed = [(d["id"], d["online"], d["kind"]) for d in devices] == [("term-cli", True, "terminal")]
            return listed and (await ok(fleet_hub, "fleet show term-cli"))["state_json"] not in ("", "{}")

        await fleet_hub.until(listed_online, "term-cli online in `fleet list`")
        table = await cli(fleet_hub, "fleet list --offline", json_output=False)
        assert (table.code, table.out) == (0, "(none)\n")

        shown = await ok(fleet_hub, "fleet show term-cli")
        assert shown["device"]["id"] == "term-cli"
        assert json.loads(shown["state_json"])["reader"] == {"driver": "rdm6300", "present": True}

        sent = await ok(
            fleet_hub, "fleet command term-cli show_message 'text=Paper is on its way' duration_s=30"
        )
        assert (sent["verb"], sent["status"]) == ("show_message", "sent")
        assert sent["issued_by"].startswith("admin-token-")

        async def done() -> bool:
            return bool((await ok(fleet_hub, f"fleet command-status {sent['id']}"))["status"] == "done")

        await fleet_hub.until(done, "show_message done")
        assert handlers.calls == [("show_message", ("Paper is on its way", 30))]

        refused = await cli(fleet_hub, "fleet command term-cli set_log_level level=LOUD")
        assert refused.code == 1 and refused.err.startswith("printgate admin: INVALID_ARGUMENT:"), refused
        unknown = await cli(fleet_hub, "fleet command nobody set_log_level level=INFO")
        assert unknown.code == 1 and "NOT_FOUND" in unknown.err, unknown
        usage = await cli(fleet_hub, "fleet command term-cli set_log_level DEBUG")
        assert usage.code == 2 and "NAME=VALUE" in usage.err

        client.publish_state(StateSnapshot(kind="terminal", reader=ReaderState("rdm6300", False)))
        client.publish_event(DeviceEvent("reader_lost", "fault", {"driver": "rdm6300"}))

        async def history_has_event() -> bool:
            entries = (await ok(fleet_hub, "fleet history term-cli --limit 50"))["entries"]
            return any(
                entry["kind"] == "event" and "reader_lost" in entry["summary_json"] for entry in entries
            )

        await fleet_hub.until(history_has_event, "reader_lost in history")
        alerts = await ok(fleet_hub, "fleet alerts")
        assert alerts == {"alerts": []}  # reader_missing waits reader_missing_after_s (60 s)
    finally:
        await client.stop(timeout_s=1)


async def test_a_failed_command_exits_1(fleet_hub: FleetHub) -> None:
    handlers = RecordingHandlers()
    client = await start_device(fleet_hub, "term-bad", handlers)
    try:

        async def known() -> bool:
            return bool((await ok(fleet_hub, "fleet list"))["devices"])

        await fleet_hub.until(known, "device known")
        sent = await ok(
            fleet_hub,
            "fleet command term-bad install_update url=https://u/b version=2.0-bad sha256=" + "a" * 64,
        )

        async def finished() -> bool:
            result = await cli(fleet_hub, f"fleet command-status {sent['id']}")
            return bool(result.json()["status"] == "failed")

        await fleet_hub.until(finished, "install_update failed")
        result = await cli(fleet_hub, f"fleet command-status {sent['id']}", json_output=False)
        assert result.code == 1
        assert result.err == f"printgate admin: command {sent['id']} failed: bundle signature refused\n"
    finally:
        await client.stop(timeout_s=1)


async def test_one_command_to_the_whole_fleet_or_a_group(fleet_hub: FleetHub) -> None:
    first, second = RecordingHandlers(), RecordingHandlers()
    clients = [
        await start_device(fleet_hub, "term-all-1", first),
        await start_device(fleet_hub, "term-all-2", second),
    ]
    try:

        async def both_known() -> bool:
            return len((await ok(fleet_hub, "fleet list"))["devices"]) == 2

        await fleet_hub.until(both_known, "both devices known")
        sent = (await ok(fleet_hub, "fleet command-all set_log_level level=DEBUG"))["commands"]
        assert [(c["device_id"], c["verb"], c["status"]) for c in sent] == [
            ("term-all-1", "set_log_level", "sent"),
            ("term-all-2", "set_log_level", "sent"),
        ]
        assert len({c["id"] for c in sent}) == 2
        assert all(c["issued_by"].startswith("admin-token-") for c in sent)

        async def all_done() -> bool:
            statuses = [(await ok(fleet_hub, f"fleet command-status {c['id']}"))["status"] for c in sent]
            return statuses == ["done", "done"]

        await fleet_hub.until(all_done, "both answered done")
        assert first.calls == second.calls == [("set_log_level", ("DEBUG",))]

        await ok(fleet_hub, "fleet group term-all-2 floor-2")
        grouped = await cli(
            fleet_hub,
            "fleet command-all show_message text=Hi duration_s=5 --group floor-2",
            json_output=False,
        )
        lines = grouped.out.splitlines()
        assert grouped.code == 0 and len(lines) == 3, grouped
        assert lines[0].split() == ["ID", "DEVICE_ID", "VERB", "STATUS"]
        assert lines[1].split()[1:] == ["term-all-2", "show_message", "sent"]
        assert lines[2] == "1 commands sent (each one's result: printgate admin fleet command-status ID)"

        async def shown() -> bool:
            return second.calls[-1:] == [("show_message", ("Hi", 5))]

        await fleet_hub.until(shown, "the group's device showed the message")
        assert first.calls == [("set_log_level", ("DEBUG",))]

        nobody = await cli(fleet_hub, "fleet command-all reboot --group nowhere")
        assert nobody.code == 1 and nobody.err == (
            "printgate admin: INVALID_ARGUMENT: no terminal or kiosk matches\n"
        ), nobody
        refused = await cli(fleet_hub, "fleet command-all set_log_level level=LOUD")
        assert refused.code == 1 and refused.err.startswith("printgate admin: INVALID_ARGUMENT:"), refused
        history = (await ok(fleet_hub, "fleet history term-all-1 --limit 50"))["entries"]
        sent_lines = [e for e in history if e["kind"] == "command" and '"sent"' in e["summary_json"]]
        assert len(sent_lines) == 1  # the refused and the group's commands left no record here
    finally:
        for client in clients:
            await client.stop(timeout_s=1)


async def test_central_configuration_groups_and_a_rollout(fleet_hub: FleetHub, tmp_path: Path) -> None:
    handlers = RecordingHandlers()
    client = await start_device(fleet_hub, "term-cfg", handlers)
    try:

        async def known() -> bool:
            return bool((await ok(fleet_hub, "fleet list"))["devices"])

        await fleet_hub.until(known, "device known")
        grouped = await ok(fleet_hub, "fleet group term-cfg lab")
        assert grouped["group"] == "lab"
        assert [d["id"] for d in (await ok(fleet_hub, "fleet list --group lab"))["devices"]] == ["term-cfg"]

        document = tmp_path / "lab.json"
        document.write_text('{"session": {"idle_timeout_s": 45}}')
        stored = await ok(fleet_hub, f"fleet config-put --group lab --file {document}")
        assert (stored["scope"], stored["name"], stored["version"]) == ("CONFIG_SCOPE_GROUP", "lab", 1)
        assert stored["created_by"].startswith("admin-token-")
        shown = await ok(fleet_hub, "fleet config-show --group lab")
        assert json.loads(shown["document_json"]) == {"session": {"idle_timeout_s": 45}}

        async def told_to_reload() -> bool:  # the hub tells the group's device of its new version
            return any(verb == "reload_config" for verb, _ in handlers.calls)

        await fleet_hub.until(told_to_reload, "reload_config sent to the group's device")
        missing = await cli(fleet_hub, f"fleet config-put --group lab --file {tmp_path / 'nope.json'}")
        assert missing.code == 2 and "cannot read" in missing.err
        document.write_text("[1, 2]")
        refused = await cli(fleet_hub, f"fleet config-put --device term-cfg --file {document}")
        assert refused.code == 1 and "INVALID_ARGUMENT" in refused.err

        bundle = f"--url https://updates.example/b.raucb --version 2.0 --sha256 {'a' * 64}"
        started = await ok(fleet_hub, f"fleet rollout-start {bundle} --wave 100 --kind terminal")
        assert (started["bundle_version"], started["state"]) == ("2.0", "running")

        async def rolled_out() -> bool:
            return bool((await ok(fleet_hub, f"fleet rollout-show {started['id']}"))["state"] == "done")

        await fleet_hub.until(rolled_out, "the roll-out done")
        shown_rollout = await ok(fleet_hub, f"fleet rollout-show {started['id']}")
        assert [(t["device_id"], t["status"]) for t in shown_rollout["targets"]] == [("term-cfg", "done")]
        assert ("install_update", ("https://updates.example/b.raucb", "2.0", "a" * 64)) in handlers.calls
        text = await cli(fleet_hub, f"fleet rollout-show {started['id']}", json_output=False)
        assert text.code == 0 and "waves" in text.out and "100 %" in text.out
        assert any(line.split()[:3] == ["term-cfg", "0", "done"] for line in text.out.splitlines()), text.out
        config_text = await cli(fleet_hub, "fleet config-show --group lab", json_output=False)
        assert config_text.code == 0 and "scope" in config_text.out and "group" in config_text.out
        bad_wave = await cli(fleet_hub, f"fleet rollout-start {bundle} --wave 0")
        assert bad_wave.code == 2 and "a wave is a percent" in bad_wave.err
    finally:
        await client.stop(timeout_s=1)
