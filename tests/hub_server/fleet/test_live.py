"""The whole path on real wires: device clients -> Mosquitto -> the hub's fleet component -> the
database; commands back; restarts of the broker and of the hub."""

from __future__ import annotations

import asyncio
import json

import paho.mqtt.client as mqtt
import pytest
from printgate import fleet_wire

from hub_server.fleet import (
    AlertThresholds,
    HubMqtt,
    HubMqttSettings,
    InvalidRequest,
    UnknownDevice,
    hub_username,
)
from hub_server.fleet.mqtt import READ_BURST_MAX
from terminal_app.telemetry import (
    DeviceEvent,
    MfpState,
    ReaderState,
    SoftwareState,
    StateSnapshot,
    SupplyLevel,
)
from tests.fleet_rig import FleetRig, eventually

pytestmark = pytest.mark.slow


def snapshot(*, reader_present: bool = True, toner: float = 80.0, backlog: int = 0) -> StateSnapshot:
    return StateSnapshot(
        kind="terminal",
        software=SoftwareState("1.0.0", "A"),
        uptime_s=120,
        config_version="",
        reader=ReaderState("rdm6300", reader_present),
        mfp=MfpState("running", (), (SupplyLevel("black", "toner", toner),), {"copy_mono": 12}),
        journal_backlog=backlog,
        free_space_bytes=10**9,
    )


async def test_state_events_and_presence_reach_the_database(rig: FleetRig) -> None:
    hub = await rig.start_hub()
    client, _ = await rig.device("term-001")
    client.publish_state(snapshot())
    event_id = client.publish_event(DeviceEvent("jam", "fault", {"tray": 1}))
    await eventually(
        lambda: (
            hub.stats.applied >= 2
            and rig.db.read(lambda tx: tx.scalar("SELECT COUNT(*) FROM fleet_events")) == 1
        ),
        what="state and event",
    )
    row = hub.device("term-001")
    assert (row["online"], row["kind"], row["software_version"]) == (1, "terminal", "1.0.0")
    state = json.loads(row["state_json"])
    assert state["reader"] == {"driver": "rdm6300", "present": True}
    assert state["mfp"]["supplies"] == [{"name": "black", "percent": 80.0, "type": "toner"}]
    assert state["session"] == client.session
    event = rig.db.read(lambda tx: tx.one("SELECT event_id, type, severity FROM fleet_events"))
    assert event is not None and dict(event) == {"event_id": event_id, "type": "jam", "severity": "fault"}
    await client.stop()
    await eventually(lambda: hub.device("term-001")["online"] == 0, what="clean offline")
    kinds = [entry["kind"] for entry in hub.history("term-001")]
    assert kinds.count("presence") == 2 and "event" in kinds and "state" in kinds


async def test_a_vanished_device_is_marked_offline_by_its_will(rig: FleetRig) -> None:
    hub = await rig.start_hub()
    client, _ = await rig.device("term-001")
    await eventually(lambda: hub.list_devices() and hub.device("term-001")["online"] == 1, what="online")
    # Cut the socket without DISCONNECT: the broker publishes the will.
    client._stopping.set()
    client._mqtt.socket().close()  # type: ignore[union-attr]
    await eventually(lambda: hub.device("term-001")["online"] == 0, what="will")
    assert hub.device("term-001")["session"] == client.session


async def test_commands_round_trip_with_an_audit_record(rig: FleetRig) -> None:
    hub = await rig.start_hub()
    _, handlers = await rig.device("term-001")
    await eventually(lambda: hub.list_devices(), what="device known")
    row = await hub.send_command(
        "term-001", "show_message", {"text": "Toner on its way", "duration_s": 60}, "alice"
    )
    await eventually(lambda: hub.command(row["id"])["status"] == "done", what="done")
    done = hub.command(row["id"])
    assert handlers.calls == [("show_message", ("Toner on its way", 60))]
    assert (done["issued_by"], done["verb"], done["detail"]) == ("alice", "show_message", "show_message ok")
    assert done["issued_us"] <= done["finished_us"]
    statuses = [
        json.loads(e["summary_json"])["status"] for e in hub.history("term-001") if e["kind"] == "command"
    ]
    assert statuses == ["done", "sent"]  # a quick verb is answered with its result only
    with pytest.raises(UnknownDevice):
        await hub.send_command("term-404", "reboot", {}, "alice")


async def test_a_command_to_the_fleet_reaches_each_device_of_its_kind_once(rig: FleetRig) -> None:
    revoked: set[str] = set()
    hub = await rig.start_hub(is_revoked=revoked.__contains__)
    devices = {
        device_id: (await rig.device(device_id, kind))[1]
        for device_id, kind in (("term-001", "terminal"), ("kiosk-01", "kiosk"), ("term-003", "terminal"))
    }
    await eventually(lambda: len(hub.list_devices()) == 3, what="three devices known")
    revoked.add("term-003")  # its certificate revoked since (the hub's CRL cache)
    before = rig.db.read(lambda tx: tx.scalar("SELECT COUNT(*) FROM fleet_commands"))
    with pytest.raises(InvalidRequest, match="level"):
        await hub.send_to_fleet("set_log_level", {"level": "LOUD"}, "alice")
    with pytest.raises(InvalidRequest, match="kind is terminal, kiosk"):
        await hub.send_to_fleet("reboot", {}, "alice", kind="printer")
    assert rig.db.read(lambda tx: tx.scalar("SELECT COUNT(*) FROM fleet_commands")) == before
    rows = await hub.send_to_fleet(
        "show_message", {"text": "Closed at 6", "duration_s": 60}, "alice", kind="terminal"
    )
    assert [(row["device_id"], row["status"], row["issued_by"]) for row in rows] == [
        ("term-001", "sent", "alice")
    ]
    await eventually(lambda: hub.command(rows[0]["id"])["status"] == "done", what="done")
    assert devices["term-001"].calls == [("show_message", ("Closed at 6", 60))]
    both = await hub.send_to_fleet("set_log_level", {"level": "WARNING"}, "bob")
    assert sorted(row["device_id"] for row in both) == ["kiosk-01", "term-001"]
    assert all(row == hub.command(row["id"]) | {"status": "sent", "finished_us": None} for row in both)
    await eventually(lambda: all(hub.command(row["id"])["status"] == "done" for row in both), what="done")
    assert devices["kiosk-01"].calls == [("set_log_level", ("WARNING",))]
    assert devices["term-003"].calls == []  # revoked: left out


async def test_a_replayed_command_runs_once(rig: FleetRig) -> None:
    hub = await rig.start_hub()
    client, handlers = await rig.device("term-001")
    await eventually(lambda: hub.list_devices(), what="device known")
    row = await hub.send_command("term-001", "set_log_level", {"level": "DEBUG"}, "alice")
    await eventually(lambda: hub.command(row["id"])["status"] == "done", what="done")
    # Publish the very same message again (a broker redelivery or a replay).
    payload = fleet_wire.encode(
        {
            "id": row["id"],
            "verb": "set_log_level",
            "args": {"level": "DEBUG"},
            "issued_s": row["issued_us"] // 10**6,
            "expires_s": row["deadline_us"] // 10**6,
        }
    )
    hub.publisher.publish(fleet_wire.command_topic("term-001"), payload)  # type: ignore[union-attr]
    await eventually(lambda: client.guard.replays == 1, what="replay seen")
    assert handlers.calls == [("set_log_level", ("DEBUG",))]
    assert hub.command(row["id"])["status"] == "done"


async def test_a_command_without_an_answer_times_out(rig: FleetRig) -> None:
    hub = await rig.start_hub()
    client, handlers = await rig.device("term-001")
    handlers.hold["collect_diagnostics"] = asyncio.Event()  # never released
    await eventually(lambda: hub.list_devices(), what="device known")
    row = await hub.send_command("term-001", "collect_diagnostics", {}, "bob", timeout_s=30)
    await eventually(lambda: hub.command(row["id"])["status"] == "accepted", what="accepted")
    with pytest.raises(InvalidRequest, match="at most"):  # larger than a device ever sends
        await hub.store_diagnostics("term-001", row["id"], b"x" * (fleet_wire.DIAGNOSTICS_MAX_BYTES + 1))
    with pytest.raises(InvalidRequest, match="no diagnostics were asked"):
        await hub.store_diagnostics("term-002", row["id"], b"x")
    assert rig.db.read(lambda tx: tx.scalar("SELECT COUNT(*) FROM fleet_diagnostics")) == 0
    await hub.sweep()
    assert hub.command(row["id"])["status"] == "accepted"
    rig.clock.advance(31)
    await hub.sweep()
    timed_out = hub.command(row["id"])
    assert (timed_out["status"], timed_out["detail"]) == ("timed_out", "no answer before the deadline")
    handlers.hold["collect_diagnostics"].set()  # the late answer changes nothing
    await eventually(lambda: client.stats.commands_run == 1, what="handler finished")
    await eventually(lambda: hub.stats.ignored_acks >= 1, what="late answer ignored")
    assert hub.command(row["id"])["status"] == "timed_out"


async def test_an_expired_command_is_rejected_by_the_device(rig: FleetRig) -> None:
    hub = await rig.start_hub()
    _, handlers = await rig.device("term-001")
    await eventually(lambda: hub.list_devices(), what="device known")
    rig.clock.advance(-3600)  # the hub's clock is an hour behind: the command is stale on arrival
    row = await hub.send_command("term-001", "reboot", {}, "carol", timeout_s=60)
    await eventually(lambda: hub.command(row["id"])["status"] == "rejected", what="rejected")
    assert hub.command(row["id"])["detail"] == "command expired before it arrived"
    assert handlers.calls == []


def raw_device(rig: FleetRig, files) -> mqtt.Client:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=files.device_id, protocol=mqtt.MQTTv5)
    client.tls_set(ca_certs=str(files.ca), certfile=str(files.certificate), keyfile=str(files.key))
    client.connect(rig.broker.host, rig.broker.port)
    client.loop_start()
    return client


async def test_bad_payloads_are_counted_and_change_nothing(rig: FleetRig) -> None:
    hub = await rig.start_hub()
    files = await rig.device_files("term-001")
    client = raw_device(rig, files)
    topic = fleet_wire.state_topic("term-001")
    try:
        for payload in [
            b"\xff\xfe not utf-8",
            b"[1, 2]",
            b'{"v": 1, "kind": "toaster"}',
            b'{"v": 1, "kind": "terminal", "journal_backlog": -5}',
            b'{"v": 2, "kind": "terminal"}',
            b'{"kind": "terminal"}',
            b'{"v": 1, "kind": "terminal", "pad": "' + b"x" * 40_000 + b'"}',
        ]:
            client.publish(topic, payload, qos=1).wait_for_publish(10)
        oversized = client.publish(topic, b"x" * 300_000, qos=1)  # over the broker's own limit
        oversized.wait_for_publish(10)
        await eventually(
            lambda: (hub.stats.malformed, hub.stats.unsupported_version, hub.stats.oversized) == (5, 1, 1),
            what="refusals counted",
        )
    finally:
        client.disconnect()
        client.loop_stop()
    assert hub.list_devices() == []
    assert hub.stats.by_device_refused == {"term-001": 7}


async def test_personal_data_is_never_published(rig: FleetRig) -> None:
    client, _ = await rig.device("term-001")
    with pytest.raises(ValueError, match="personal data"):
        client.publish_event(DeviceEvent("reader_lost", "fault", {"card_number": "0004213370"}))
    with pytest.raises(ValueError, match="personal data"):
        client.publish_event(DeviceEvent("hub_unreachable", "fault", {"last": {"username": "alice"}}))
    assert len(client.buffer) == 0 or all(b"0004213370" not in e.payload for e in client.buffer.entries())


async def test_broker_restart_brings_every_device_back_with_complete_state(rig: FleetRig) -> None:
    hub = await rig.start_hub()
    clients = []
    for number in range(4):
        client, _ = await rig.device(f"term-{number:03}")
        client.publish_state(snapshot(toner=50.0 + number))
        clients.append(client)
    await eventually(lambda: len(hub.list_devices()) == 4 and all(d["online"] for d in hub.list_devices()))
    sessions = {c.device_id: c.session for c in clients}
    rig.broker.kill()
    rig.broker.start()
    await eventually(
        lambda: all(c.connected and c.session > sessions[c.device_id] for c in clients),
        timeout_s=30,
        what="devices reconnected",
    )
    by_id = {c.device_id: c for c in clients}
    await eventually(
        lambda: all(
            d["online"]
            and d["session"] == by_id[d["device_id"]].session
            and json.loads(d["state_json"])["session"] == by_id[d["device_id"]].session
            for d in hub.list_devices()
        ),
        timeout_s=40,
        what="hub saw them back",
    )
    for device in hub.list_devices():
        number = int(device["device_id"][-3:])
        state = json.loads(device["state_json"])
        assert state["mfp"]["supplies"][0]["percent"] == 50.0 + number
        assert state["session"] > sessions[device["device_id"]]  # republished on the new session


async def test_hub_restart_rebuilds_state_and_raises_no_alert_twice(rig: FleetRig) -> None:
    rig.thresholds = AlertThresholds(reader_missing_after_s=0, toner_below_percent=20)
    hub = await rig.start_hub(channels=("webhook",))
    client, _ = await rig.device("term-001")
    client.publish_state(snapshot(reader_present=False, toner=5.0))
    await eventually(lambda: len(hub.alerts()) == 2, what="alerts raised")
    assert sorted((a["kind"], a["subject"]) for a in hub.alerts()) == [
        ("reader_missing", ""),
        ("toner_low", "black"),
    ]
    await rig.stop_hub(hub)
    # A fresh hub process on the same database: retained messages arrive again.
    restarted = await rig.start_hub(channels=("webhook",))
    await eventually(lambda: restarted.stats.received >= 2, what="retained status and state")
    await restarted.drain()
    await asyncio.sleep(0.2)
    await restarted.sweep()
    outbox = rig.db.read(lambda tx: tx.scalar("SELECT COUNT(*) FROM fleet_alert_outbox"))
    assert outbox == 2 and len(hub.alerts(include_cleared=True)) == 2
    assert restarted.stats.alerts_raised == 0
    client.publish_state(snapshot(reader_present=True, toner=90.0))
    await eventually(lambda: hub.alerts() == [], what="cleared")
    assert restarted.stats.alerts_cleared == 2
    transitions = rig.db.read(
        lambda tx: tx.execute(
            "SELECT transition, COUNT(*) AS n FROM fleet_alert_outbox GROUP BY transition ORDER BY transition"
        )
    )
    assert [tuple(r.values()) for r in transitions] == [("cleared", 2), ("raised", 2)]


async def test_a_command_sent_while_the_broker_is_down_arrives_once_it_is_back(rig: FleetRig) -> None:
    hub = await rig.start_hub()
    _, handlers = await rig.device("term-001")
    await eventually(lambda: len(hub.list_devices()) == 1, what="device known")
    subscriber = rig.hubs[0][1]
    rig.broker.kill()
    await eventually(lambda: not subscriber.connected.is_set(), what="the hub saw the broker go")
    row = await hub.send_command("term-001", "set_log_level", {"level": "DEBUG"}, "alice")
    assert hub.command(row["id"])["status"] == "sent"
    rig.broker.start()
    await eventually(lambda: hub.command(row["id"])["status"] == "done", timeout_s=40, what="done")
    assert handlers.calls == [("set_log_level", ("DEBUG",))]
    assert subscriber.connections == 2


async def test_a_burst_longer_than_one_read_turn_arrives_whole(rig: FleetRig) -> None:
    """More QoS 1 messages at once than the subscriber reads in one turn of the event loop
    (``READ_BURST_MAX``): every one is read, and kept once."""
    hub = await rig.start_hub()
    count = READ_BURST_MAX * 3
    files = await rig.device_files("term-001")
    source = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="term-001", protocol=mqtt.MQTTv5)
    source.tls_set(ca_certs=str(files.ca), certfile=str(files.certificate), keyfile=str(files.key))
    source.max_inflight_messages_set(0)
    source.connect(rig.broker.host, rig.broker.port)
    source.loop_start()
    try:
        infos = [
            source.publish(
                fleet_wire.events_topic("term-001"),
                fleet_wire.encode({"id": f"e{n}", "type": "paper_loaded", "severity": "info"}),
                qos=1,
            )
            for n in range(count)
        ]
        await asyncio.to_thread(infos[-1].wait_for_publish, 30)
        await eventually(lambda: hub.stats.received == count, timeout_s=30, what="every message read")
    finally:
        source.disconnect()
        source.loop_stop()

    def kept() -> int:
        return rig.db.read(lambda tx: tx.scalar("SELECT COUNT(*) FROM fleet_events"))

    await eventually(lambda: kept() == count, what="every event kept")
    assert (hub.stats.received, hub.stats.malformed, hub.stats.duplicate_events) == (count, 0, 0)


async def test_a_hub_stopped_while_connecting_does_not_connect_afterwards(rig: FleetRig) -> None:
    """The TCP connect and TLS handshake run in a worker thread; a stop meanwhile waits for them
    and closes what they opened, instead of leaving a connection that would go on reading the
    hub's session behind the hub's back."""
    accepted = asyncio.Event()

    async def slow_proxy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.set()
        await asyncio.sleep(0.5)  # the handshake is slow to start
        upstream_reader, upstream_writer = await asyncio.open_connection(rig.broker.host, rig.broker.port)

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            while data := await source.read(65536):
                sink.write(data)
            sink.close()

        await asyncio.gather(
            pipe(reader, upstream_writer), pipe(upstream_reader, writer), return_exceptions=True
        )

    proxy = await asyncio.start_server(slow_proxy, "127.0.0.1", 0)
    port = proxy.sockets[0].getsockname()[1]
    files = rig.broker.files
    settings = HubMqttSettings(
        "127.0.0.1", port, files.ca, files.hub_certificate, files.hub_key, client_id=hub_username()
    )
    subscriber = HubMqtt(settings, lambda topic, payload: None, asyncio.get_running_loop())
    subscriber.start()
    await asyncio.wait_for(accepted.wait(), 10)
    await subscriber.stop()
    await asyncio.sleep(1.5)  # time enough for a connection left behind to be accepted
    assert not subscriber.connected.is_set()
    assert subscriber.connections == 0
    proxy.close()
