"""The device's outbox and reconnect policy: a day offline stays bounded, telemetry goes first,
dropped events are counted; backoff has jitter and a cap; commands are admitted once."""

from __future__ import annotations

import base64
import io
import json
import os
import random
import tarfile
from pathlib import Path

import pytest
from printgate import fleet_wire

from terminal_app.hub.values import FetchedConfig
from terminal_app.telemetry import (
    Backoff,
    CommandGuard,
    CommandRejected,
    CommandResult,
    ConfigSync,
    DeviceEvent,
    OfflineBuffer,
    build_bundle,
)
from terminal_app.telemetry.buffer import Entry
from terminal_app.telemetry.diagnostics import LOG_BYTES_MAX
from tests.fleet_rig import FleetRig, eventually


def event(n: int) -> Entry:
    return Entry("printgate/v1/devices/t/events", json.dumps({"n": n}).encode(), 1, False)


def snapshot(n: int) -> Entry:
    return Entry(
        "printgate/v1/devices/t/state", json.dumps({"seq": n}).encode(), 1, True, telemetry_key="state"
    )


def test_a_day_offline_keeps_the_newest_snapshot_and_counts_dropped_events() -> None:
    buffer = OfflineBuffer(max_entries=100)
    for minute in range(24 * 60):  # a snapshot a minute, an event every five
        buffer.put(snapshot(minute))
        if minute % 5 == 0:
            buffer.put(event(minute))
    entries = buffer.entries()
    assert len(entries) == 100
    states = [e for e in entries if not e.is_event]
    events = [json.loads(e.payload)["n"] for e in entries if e.is_event]
    assert [json.loads(s.payload)["seq"] for s in states] == [1439]
    assert events == list(range(24 * 60 - 99 * 5, 24 * 60, 5))  # the newest 99, in order
    assert buffer.events_dropped == 288 - 99
    assert buffer.telemetry_superseded + buffer.telemetry_dropped == 1439


def test_telemetry_is_dropped_before_any_event() -> None:
    buffer = OfflineBuffer(max_entries=3)
    buffer.put(snapshot(1))
    buffer.put(Entry("s", b"online", 1, True, telemetry_key="status"))
    buffer.put(event(1))
    buffer.put(event(2))
    assert [e.topic for e in buffer.entries()] == [
        "s",
        "printgate/v1/devices/t/events",
        "printgate/v1/devices/t/events",
    ]
    buffer.put(event(3))
    assert [json.loads(e.payload)["n"] for e in buffer.entries()] == [1, 2, 3]
    assert (buffer.telemetry_dropped, buffer.events_dropped) == (2, 0)
    buffer.put(event(4))
    assert buffer.events_dropped == 1


def test_the_byte_bound_holds() -> None:
    buffer = OfflineBuffer(max_entries=1000, max_bytes=1000)
    for _ in range(100):
        buffer.put(Entry("e", bytes(100), 1, False))
    assert buffer.size_bytes == 1000 and len(buffer) == 10 and buffer.events_dropped == 90


def test_in_flight_entries_return_after_a_lost_connection() -> None:
    buffer = OfflineBuffer()
    buffer.put(event(1))
    first = buffer.next_unsent()
    assert first is not None
    buffer.mark_in_flight(first)
    assert buffer.next_unsent() is None
    assert buffer.requeue_in_flight() == 1
    assert buffer.next_unsent() is first
    buffer.acknowledged(first)
    assert len(buffer) == 0


def test_backoff_is_exponential_capped_and_jittered() -> None:
    backoff = Backoff(1.0, 60.0, rng=random.Random(1))
    bounds = []
    for _ in range(10):
        bounds.append(backoff.bound_s())
        assert 0 <= backoff.next_delay_s() <= bounds[-1]
    assert bounds == [1, 2, 4, 8, 16, 32, 60, 60, 60, 60]
    delays = [Backoff(1.0, 60.0, rng=random.Random(seed)).next_delay_s() for seed in range(200)]
    assert len({round(d, 3) for d in delays}) > 150  # 5,000 devices do not retry in lockstep
    backoff.reset()
    assert backoff.bound_s() == 1


def test_the_guard_admits_once_even_across_restarts(tmp_path: Path) -> None:
    command = {"id": "c1", "verb": "set_log_level", "args": {"level": "INFO"}, "expires_s": 2000}
    guard = CommandGuard(tmp_path)
    assert guard.admit(dict(command), now_s=1000) is not None
    assert guard.admit(dict(command), now_s=1000) is None
    assert CommandGuard(tmp_path).admit(dict(command), now_s=1000) is None  # after a restart too
    with pytest.raises(CommandRejected, match="expired"):
        guard.admit({**command, "id": "c2"}, now_s=2001)
    with pytest.raises(CommandRejected, match="level must be"):
        guard.admit({**command, "id": "c3", "args": {"level": "LOUD"}}, now_s=1000)
    with pytest.raises(CommandRejected, match="unknown verb"):
        guard.admit({**command, "id": "c4", "verb": "format_disk"}, now_s=1000)


def test_a_handed_over_update_stays_pending_until_its_version_runs_or_it_expires(tmp_path: Path) -> None:
    update = {
        "id": "u1",
        "verb": "install_update",
        "args": {"url": "file:///b.raucb", "version": "1.1", "sha256": "ab" * 32},
        "expires_s": 2000,
    }
    guard = CommandGuard(tmp_path)
    command = guard.admit(dict(update), now_s=1000)
    assert command is not None and command.expires_s == 2000
    guard.hand_over(command)
    # the app restarted while the root service installs: still the old version, not answered
    assert CommandGuard(tmp_path).take_pending("1.0", now_s=1500) == []
    assert CommandGuard(tmp_path).take_pending("1.1", now_s=1600) == [("u1", "done", "back, running 1.1")]
    assert CommandGuard(tmp_path).take_pending("1.1", now_s=1601) == []  # answered once

    second = guard.admit({**update, "id": "u2"}, now_s=1000)
    assert second is not None
    guard.hand_over(second)
    rolled_back = ("failed", "running 1.0, not 1.1")
    assert CommandGuard(tmp_path).take_pending("1.0", now_s=2000) == [("u2", *rolled_back)]

    third = guard.admit({**update, "id": "u3"}, now_s=1000)
    assert third is not None
    guard.hand_over(third)
    guard.keep_pending(third, CommandResult.after_restart("rebooting", "1.1"))  # the handler returned
    # the root service rebooted into the new slot, which fell back: answered at once
    assert CommandGuard(tmp_path).take_pending("1.0", now_s=1500) == [("u3", *rolled_back)]

    fourth = guard.admit({**update, "id": "u4"}, now_s=1000)
    assert fourth is not None
    guard.hand_over(fourth)
    guard.settle("u4")  # the handler answered itself (a refused download)
    assert CommandGuard(tmp_path).take_pending("1.0", now_s=1500) == []


def test_the_diagnostics_bundle_holds_no_secret(tmp_path: Path) -> None:
    log = tmp_path / "printgate.log"
    log.write_text(
        "started\nenroll with pge1-0123456789-abcdef@hub:50052\nlogin password=hunter2 ok\n"
        "-----BEGIN PRIVATE KEY-----\nMIGH\n-----END PRIVATE KEY-----\n"
    )
    config = {
        "hub": {"address": "hub:50051", "enrollment_token": "pge1-x"},
        "mfp": {"snmp_community": "s3cret"},
        "ui": {"language": "de"},
    }
    bundle = build_bundle([log], config, {"printgate": "1.0.0"})
    with tarfile.open(fileobj=io.BytesIO(bundle)) as archive:
        files = {m.name: archive.extractfile(m).read().decode() for m in archive.getmembers()}  # type: ignore[union-attr]
    assert set(files) == {"config.json", "versions.json", "logs/printgate.log"}
    everything = "".join(files.values())
    for secret in ("pge1-0123456789", "hunter2", "MIGH", "s3cret", "pge1-x"):
        assert secret not in everything
    assert json.loads(files["config.json"])["ui"] == {"language": "de"}
    assert "started" in files["logs/printgate.log"]


def log_cut_at(path: Path, text: str, cut: int) -> None:
    """A log whose last :data:`LOG_BYTES_MAX` bytes (what a bundle reads) begin at ``text[cut:]``."""
    filler_len = LOG_BYTES_MAX - len(text[cut:]) - len("tail\n")
    path.write_text("an older line\n" + text + "x" * (filler_len - 1) + "\ntail\n")
    assert path.read_text()[-LOG_BYTES_MAX:].startswith(text[cut:])


def logged(bundle: bytes) -> str:
    with tarfile.open(fileobj=io.BytesIO(bundle)) as archive:
        member = archive.extractfile("logs/printgate.log")
        assert member is not None
        return member.read().decode()


@pytest.mark.parametrize("cut_at", ["word=", "secret-value"])
def test_a_secret_line_cut_by_the_start_of_the_tail_is_left_out(tmp_path: Path, cut_at: str) -> None:
    log = tmp_path / "printgate.log"
    line = "login password=hunter2-secret-value ok\n"
    log_cut_at(log, line, line.index(cut_at))
    kept = logged(build_bundle([log], {}, {}))
    assert "hunter2" not in kept and "secret-value" not in kept
    assert kept.startswith("x") and kept.endswith("tail\n")


def test_a_private_key_cut_by_the_start_of_the_tail_is_left_out(tmp_path: Path) -> None:
    log = tmp_path / "printgate.log"
    text = (
        "-----BEGIN CERTIFICATE-----\nMIIBcert\n-----END CERTIFICATE-----\n"
        "-----BEGIN PRIVATE KEY-----\nMIGHkeybody1\nMIGHkeybody2\nMIGHkeybody3\n-----END PRIVATE KEY-----\n"
        "after the key\n"
    )
    log_cut_at(log, text, text.index("MIGHkeybody2") + 4)
    kept = logged(build_bundle([log], {}, {}))
    assert "keybody" not in kept and "PRIVATE KEY" not in kept
    assert kept.startswith("***\nafter the key\n") and kept.endswith("tail\n")


def test_a_bundle_of_logs_that_do_not_compress_keeps_their_newest_part_under_the_limit(
    tmp_path: Path,
) -> None:
    logs = []
    for index in range(3):  # 3 x 2 MiB of random text: about 4.5 MiB gzipped, over the limit
        log = tmp_path / f"app-{index}.log"
        lines = [base64.b64encode(os.urandom(57)).decode() for _ in range(2 * 1024 * 1024 // 77 + 1)]
        log.write_text("\n".join(lines) + f"\nthe last line of log {index}\n")
        logs.append(log)
    bundle = build_bundle(logs, {"ui": {"language": "en"}}, {"printgate": "1.0.0"})
    assert len(bundle) <= fleet_wire.DIAGNOSTICS_MAX_BYTES
    with tarfile.open(fileobj=io.BytesIO(bundle)) as archive:
        files = {m.name: archive.extractfile(m).read().decode() for m in archive.getmembers()}  # type: ignore[union-attr]
    for index, log in enumerate(logs):
        kept = files[f"logs/{log.name}"]
        assert 0 < len(kept) < log.stat().st_size // 2 and log.read_text().endswith(kept)
        assert kept.endswith(f"the last line of log {index}\n")
    assert json.loads(files["versions.json"]) == {"printgate": "1.0.0"}
    tiny = build_bundle(logs, {"ui": {}}, {"printgate": "1.0.0"}, max_bytes=600)
    with tarfile.open(fileobj=io.BytesIO(tiny)) as archive:
        sizes = {m.name: m.size for m in archive.getmembers()}
    assert sizes["logs/app-0.log"] == 0 and sizes["config.json"] > 0  # no room for any log: none


async def test_config_sync_keeps_the_last_good_version(tmp_path: Path) -> None:
    served = {"doc": FetchedConfig("v1", {"idle_timeout_s": 60})}
    applied: list[dict] = []
    events: list[DeviceEvent] = []

    async def fetch(known: str) -> FetchedConfig:
        return served["doc"]

    def validate(document: dict) -> None:
        if not isinstance(document.get("idle_timeout_s"), int):
            raise ValueError("idle_timeout_s must be an integer")

    sync = ConfigSync(tmp_path, fetch, validate, applied.append, events.append)
    assert (await sync.sync("v1")).status == "done"
    served["doc"] = FetchedConfig("v2", {"idle_timeout_s": "soon"})
    result = await sync.sync("v2")
    assert (result.status, result.detail) == (
        "failed",
        "configuration v2 refused: idle_timeout_s must be an integer; keeping v1",
    )
    assert sync.version == "v1"
    assert applied == [{"idle_timeout_s": 60}, {"idle_timeout_s": 60}]
    assert [e.type for e in events] == ["config_applied", "config_rejected"]
    restarted = ConfigSync(tmp_path, fetch, validate, applied.append)
    assert (await restarted.restore()) == FetchedConfig("v1", {"idle_timeout_s": 60})


async def test_an_unreachable_broker_never_blocks_publishing(rig: FleetRig) -> None:
    rig.broker.stop()
    client, _ = await rig.device("term-9", buffer=OfflineBuffer(max_entries=20))
    for n in range(500):
        client.publish_event(DeviceEvent("hub_unreachable", "fault", {"n": n}))
    assert len(client.buffer) == 20 and client.buffer.events_dropped == 480
    await eventually(lambda: client.stats.connect_failures >= 2, what="retries")
    rig.broker.start()
    await eventually(lambda: len(client.buffer) == 0, timeout_s=30, what="buffer drained")
    # On connect the online status took one slot of the full buffer: one more event went.
    assert (client.stats.published, client.buffer.events_dropped) == (20, 481)


def nested_payload(levels: int, container: str = "{}") -> bytes:
    """A payload whose objects (or lists) nest ``levels`` deep, the top object included."""
    inner = "1"
    for _ in range(levels - 1):
        inner = f'{{"x":{inner}}}' if container == "{}" else f"[{inner}]"
    return f'{{"v":1,"x":{inner}}}'.encode()


@pytest.mark.parametrize("container", ["{}", "[]"])
def test_decode_refuses_nesting_deeper_than_the_limit(container: str) -> None:
    assert fleet_wire.decode(nested_payload(fleet_wire.MAX_DEPTH, container))["v"] == 1
    with pytest.raises(fleet_wire.MalformedPayload, match="nested deeper"):
        fleet_wire.decode(nested_payload(fleet_wire.MAX_DEPTH + 1, container))


def test_brackets_inside_strings_are_not_nesting() -> None:
    text = "{[" * 40
    assert fleet_wire.decode(json.dumps({"v": 1, "text": text, "list": [[1]]}).encode())["text"] == text


def test_payloads_refuse_personal_keys_at_any_depth() -> None:
    with pytest.raises(ValueError):
        fleet_wire.encode({"detail": {"nested": [{"PIN": "1234"}]}})
    assert fleet_wire.decode(fleet_wire.encode({"detail": {"tray": 2}})) == {"v": 1, "detail": {"tray": 2}}
