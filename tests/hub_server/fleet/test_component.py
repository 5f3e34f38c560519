"""The fleet component on both storage backends, fed as the subscriber feeds it (topic, payload):
presence by session, state ordering, alerts raised once and cleared once across instances,
delivery by a real webhook and a real SMTP sink, roll-outs, configuration, fuzzed input."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import pytest
from aiosmtpd.controller import Controller
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from printgate import fleet_wire

from hub_server.clock import FakeClock
from hub_server.fleet import COMPONENT as FLEET
from hub_server.fleet import (
    AlertDispatcher,
    AlertThresholds,
    EmailChannel,
    EmailSettings,
    FleetComponent,
    InvalidRequest,
    RolloutState,
    Wave,
    WebhookChannel,
)
from hub_server.fleet import commands as commands_module
from hub_server.fleet import component as component_module
from hub_server.fleet.delivery import Channel
from hub_server.storage import Database
from tests.conftest import free_tcp_port


class Published:
    def __init__(self) -> None:
        self.messages: list[tuple[str, dict]] = []

    def publish(self, topic: str, payload: bytes) -> None:
        self.messages.append((topic, json.loads(payload)))


def status(fleet: FleetComponent, device: str, online: bool, session: int, kind: str = "terminal") -> None:
    payload = fleet_wire.encode({"online": online, "session": session, "kind": kind})
    fleet.submit(fleet_wire.status_topic(device), payload)


def state(fleet: FleetComponent, device: str, session: int, seq: int, **fields) -> None:
    document = {"kind": "terminal", "session": session, "seq": seq, **fields}
    fleet.submit(fleet_wire.state_topic(device), fleet_wire.encode(document))


def ack(fleet: FleetComponent, device: str, command_id: str, status_: str, detail: str = "") -> None:
    payload = fleet_wire.encode({"id": command_id, "status": status_, "detail": detail})
    fleet.submit(fleet_wire.ack_topic(device), payload)


@pytest.fixture
def fleet(db: Database) -> FleetComponent:
    return FleetComponent(
        db, FakeClock(), publisher=Published(), thresholds=AlertThresholds(offline_after_s=600)
    )


async def test_presence_follows_sessions_and_ignores_a_stale_will(fleet: FleetComponent) -> None:
    status(fleet, "term-1", True, 5)
    await fleet.drain()
    status(fleet, "term-1", True, 6)  # reconnected before the broker noticed the old connection died
    status(fleet, "term-1", False, 5)  # ...whose will arrives now
    await fleet.drain()
    row = fleet.device("term-1")
    assert (row["online"], row["session"]) == (1, 6)
    assert fleet.stats.stale == 1
    status(fleet, "term-1", False, 6)
    await fleet.drain()
    assert fleet.device("term-1")["online"] == 0
    state(fleet, "term-1", 7, 1)  # a state of a newer connection: back online
    await fleet.drain()
    assert (fleet.device("term-1")["online"], fleet.device("term-1")["session"]) == (1, 7)


async def test_states_apply_in_order_only(fleet: FleetComponent) -> None:
    state(fleet, "term-1", 3, 10, journal_backlog=4)
    state(fleet, "term-1", 3, 9, journal_backlog=99)  # reordered older snapshot
    await fleet.drain()
    assert json.loads(fleet.device("term-1")["state_json"])["journal_backlog"] == 4
    assert fleet.stats.stale == 1


async def test_events_are_kept_once(fleet: FleetComponent, db: Database) -> None:
    event = fleet_wire.encode({"id": "e1", "type": "jam", "severity": "fault"})
    for _ in range(3):
        fleet.submit(fleet_wire.events_topic("term-1"), event)
    await fleet.drain()
    assert db.read(lambda tx: tx.scalar("SELECT COUNT(*) FROM fleet_events")) == 1
    assert fleet.stats.duplicate_events == 2


async def test_offline_alert_is_raised_once_and_cleared_once_across_instances(db: Database) -> None:
    clock = FakeClock()
    first = FleetComponent(db, clock, channels=("webhook",), thresholds=AlertThresholds(offline_after_s=600))
    status(first, "term-1", True, 1)
    status(first, "term-1", False, 1)
    await first.drain()
    clock.advance(599)
    await first.sweep()
    assert first.alerts() == []
    clock.advance(2)
    await first.sweep()
    await first.sweep()
    assert [a["kind"] for a in first.alerts()] == ["offline"]
    second = FleetComponent(db, clock, channels=("webhook",), thresholds=AlertThresholds(offline_after_s=600))
    await second.sweep()  # a restarted hub or a second replica
    status(second, "term-1", False, 1)  # the retained will again
    await second.drain()
    assert len(second.alerts(include_cleared=True)) == 1 and second.stats.alerts_raised == 0
    status(second, "term-1", True, 2)
    await second.drain()
    await first.sweep()
    cleared = second.alerts(include_cleared=True)
    assert len(cleared) == 1 and cleared[0]["cleared_us"] == clock.now_us()
    rows = db.read(lambda tx: tx.execute("SELECT transition FROM fleet_alert_outbox ORDER BY id"))
    assert [r["transition"] for r in rows] == ["raised", "cleared"]


async def test_state_conditions_raise_their_alerts(db: Database) -> None:
    clock = FakeClock()
    limits = AlertThresholds(
        reader_missing_after_s=60,
        mfp_error_after_s=300,
        toner_below_percent=10,
        certificate_within_s=7 * 86400,
        journal_growth_reports=3,
    )
    fleet = FleetComponent(db, clock, thresholds=limits, blocking_errors=frozenset({"jammed"}))
    now_s = clock.now_us() // 10**6
    mfp = {
        "status": "down",
        "errors": ["jammed", "lowToner"],
        "supplies": [
            {"name": "black", "type": "toner", "percent": 4},
            {"name": "drum", "type": "opc", "percent": 2},
        ],
    }
    for seq, backlog in enumerate([1, 2, 3, 4], start=1):
        state(
            fleet,
            "term-1",
            1,
            seq,
            reader={"driver": "pcsc", "present": False},
            mfp=mfp,
            journal_backlog=backlog,
            certificate_not_after_s=now_s + 3 * 86400,
        )
        await fleet.drain()
    assert sorted(a["kind"] for a in fleet.alerts()) == [
        "certificate_expiring",
        "journal_backlog",
        "toner_low",
    ]
    clock.advance(301)
    await fleet.sweep()
    kinds = sorted((a["kind"], a["subject"]) for a in fleet.alerts())
    assert kinds == [
        ("certificate_expiring", ""),
        ("journal_backlog", ""),
        ("mfp_error", ""),
        ("reader_missing", ""),
        ("toner_low", "black"),
    ]
    state(
        fleet,
        "term-1",
        1,
        9,
        reader={"driver": "pcsc", "present": True},
        journal_backlog=0,
        mfp={
            "status": "running",
            "errors": [],
            "supplies": [{"name": "black", "type": "toner", "percent": 90}],
        },
        certificate_not_after_s=now_s + 30 * 86400,
    )
    await fleet.drain()
    assert fleet.alerts() == []
    assert fleet.stats.alerts_cleared == 5


class Webhook(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[dict, dict, bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Webhook.received.append((dict(self.headers), json.loads(body), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


class Sink:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


async def test_alerts_are_delivered_by_webhook_and_email_exactly_once(db: Database) -> None:
    Webhook.received = []
    server = HTTPServer(("127.0.0.1", 0), Webhook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    sink = Sink()
    smtp_port = free_tcp_port()
    smtp = Controller(sink, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    try:
        clock = FakeClock()
        fleet = FleetComponent(
            db, clock, channels=("webhook", "email"), thresholds=AlertThresholds(reader_missing_after_s=0)
        )
        channels: dict[str, Channel] = {
            "webhook": WebhookChannel(f"http://127.0.0.1:{server.server_port}/hook", secret="s3"),
            "email": EmailChannel(
                EmailSettings(
                    "127.0.0.1",
                    smtp_port,
                    "hub@example.test",
                    ("ops@example.test",),
                )
            ),
        }
        dispatcher = AlertDispatcher(db, clock, channels)
        state(fleet, "kiosk-2", 1, 1, reader={"driver": "ccid", "present": False})
        await fleet.drain()
        assert await dispatcher.run_once() == 2
        assert await dispatcher.run_once() == 0
        state(fleet, "kiosk-2", 1, 2, reader={"driver": "ccid", "present": True})
        await fleet.drain()
        assert await dispatcher.run_once() == 2
        assert [(d["kind"], d["transition"]) for _, d, _ in Webhook.received] == [
            ("reader_missing", "raised"),
            ("reader_missing", "cleared"),
        ]
        headers, document, body = Webhook.received[0]
        assert headers["Idempotency-Key"] == document["delivery_id"] == f"{document['alert_id']}:raised"
        signature = hmac.new(b"s3", body, hashlib.sha256).hexdigest()
        assert headers["X-Printgate-Signature"] == f"sha256={signature}"
        subjects = [m.content.decode().split("Subject: ")[1].split("\r\n")[0] for m in sink.messages]
        assert subjects == [
            "[printgate] RAISED: reader_missing on kiosk-2",
            "[printgate] cleared: reader_missing on kiosk-2",
        ]
        assert sink.messages[0].rcpt_tos == ["ops@example.test"]
    finally:
        server.shutdown()
        smtp.stop()


async def test_a_failed_delivery_is_retried_later(db: Database) -> None:
    clock = FakeClock()
    fleet = FleetComponent(
        db, clock, channels=("webhook",), thresholds=AlertThresholds(reader_missing_after_s=0)
    )
    dispatcher = AlertDispatcher(
        db, clock, {"webhook": WebhookChannel("http://127.0.0.1:9/closed")}, retry_base_s=5
    )
    state(fleet, "t", 1, 1, reader={"driver": "x", "present": False})
    await fleet.drain()
    assert await dispatcher.run_once() == 0
    assert await dispatcher.run_once() == 0  # not due again yet
    row = db.read(lambda tx: tx.one("SELECT attempts, delivered_us, last_error FROM fleet_alert_outbox"))
    assert row is not None
    assert row["attempts"] == 1 and row["delivered_us"] is None and "URLError" in row["last_error"]


async def test_rollout_waves_pause_on_failures_and_resume(db: Database) -> None:
    published = Published()
    fleet = FleetComponent(db, FakeClock(), publisher=published)
    for number in range(10):
        status(fleet, f"t{number}", True, 1)
    await fleet.drain()
    rollout = await fleet.start_rollout(
        "alice",
        bundle_url="https://hub/b.raucb",
        bundle_version="2.0.0",
        bundle_sha256="a" * 64,
        waves=[Wave(20), Wave(60), Wave(100)],
        max_failure_percent=25,
        kind="",
    )
    first = [t for t in rollout["targets"] if t["wave"] == 0]
    assert len(first) == 2 and len(published.messages) == 2
    assert {t["status"] for t in first} == {"sent"}
    for target in first:
        ack(fleet, target["device_id"], target["command_id"], "done")
    await fleet.drain()
    second = [t for t in fleet.rollout(rollout["id"])["targets"] if t["wave"] == 1]
    assert len(second) == 4 and len(published.messages) == 6
    for index, target in enumerate(second):
        ack(
            fleet,
            target["device_id"],
            target["command_id"],
            "failed" if index < 2 else "done",
            "bad signature",
        )
    await fleet.drain()
    paused = fleet.rollout(rollout["id"])
    assert (paused["state"], paused["pause_reason"]) == ("paused", "wave 2: 2 of 4 devices failed")
    assert len(published.messages) == 6
    with pytest.raises(RolloutState):
        await fleet.pause_rollout(rollout["id"], "bob")
    resumed = await fleet.resume_rollout(rollout["id"])
    third = [t for t in resumed["targets"] if t["wave"] == 2]
    assert len(third) == 4 and {t["status"] for t in third} == {"sent"}
    for target in third:
        ack(fleet, target["device_id"], target["command_id"], "done")
    await fleet.drain()
    done = fleet.rollout(rollout["id"])
    assert done["state"] == "done"
    assert sorted(t["status"] for t in done["targets"]) == ["done"] * 8 + ["failed"] * 2
    assert {m[1]["verb"] for m in published.messages} == {"install_update"}


async def test_configuration_versions_and_notices(db: Database) -> None:
    published = Published()
    fleet = FleetComponent(db, FakeClock(), publisher=published)
    status(fleet, "t1", True, 1)
    status(fleet, "t2", True, 1)
    await fleet.drain()
    await fleet.set_group("t1", "lobby")
    first = await fleet.put_config(
        "group", "lobby", {"ui": {"language": "de", "idle_timeout_s": 60}}, "alice"
    )
    await fleet.put_config("device", "t1", {"ui": {"idle_timeout_s": 30}}, "alice")
    assert first["version"] == 1
    effective = fleet.effective_config("t1")
    assert effective.document == {"ui": {"language": "de", "idle_timeout_s": 30}}
    assert (effective.group_version, effective.device_version) == (1, 1)
    notices = [m for m in published.messages if m[1]["verb"] == "reload_config"]
    assert [n[0] for n in notices] == ["printgate/v1/devices/t1/cmd"] * 2
    assert notices[-1][1]["args"] == {"version": effective.version}
    state(fleet, "t1", 1, 1, config_version=effective.version)  # it applied the latest
    state(fleet, "t2", 1, 1)
    await fleet.drain()
    assert len([m for m in published.messages if m[1]["verb"] == "reload_config"]) == 2
    assert fleet.effective_config("t2").version == ""
    with pytest.raises(InvalidRequest):
        await fleet.put_config("group", "lobby", ["not", "an", "object"], "alice")


class CountingPublisher:
    """Publishes nothing; notes how many commands the database held at each message."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.sent: list[tuple[str, int]] = []

    def publish(self, topic: str, payload: bytes) -> None:
        recorded = self.db.read(lambda tx: tx.scalar("SELECT COUNT(*) FROM fleet_commands"))
        self.sent.append((json.loads(payload)["id"], recorded))


async def test_a_command_to_the_fleet_goes_out_chunk_by_chunk(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(component_module, "FLEET_CHUNK", 2)
    publisher = CountingPublisher(db)
    clock = FakeClock(now_us=1_800_000_000_000_000)
    fleet = FleetComponent(db, clock, publisher=publisher)
    for number in range(5):
        status(fleet, f"t{number}", True, 1)
    await fleet.drain()
    rows = await fleet.send_to_fleet("set_log_level", {"level": "DEBUG"}, "alice")
    assert [row["device_id"] for row in rows] == ["t0", "t1", "t2", "t3", "t4"]
    # The first two were on their way before the others were recorded.
    assert publisher.sent == [
        (row["id"], recorded) for row, recorded in zip(rows, [2, 2, 4, 4, 5], strict=True)
    ]
    # One command, one issue time and deadline, whichever chunk recorded it.
    assert {(row["issued_us"], row["deadline_us"]) for row in rows} == {
        (clock.now_us(), clock.now_us() + 60_000_000)
    }


async def test_a_fleet_command_that_fails_part_way_went_only_to_the_devices_recorded(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(component_module, "FLEET_CHUNK", 2)
    record = commands_module.record
    calls = []

    def failing_second(tx, command, device_ids):
        calls.append(list(device_ids))
        if len(calls) == 2:
            raise RuntimeError("the database went away")
        return record(tx, command, device_ids)

    monkeypatch.setattr(commands_module, "record", failing_second)
    published = Published()
    fleet = FleetComponent(db, FakeClock(), publisher=published)
    for number in range(5):
        status(fleet, f"t{number}", True, 1)
    await fleet.drain()
    with pytest.raises(RuntimeError, match="went away"):
        await fleet.send_to_fleet("show_message", {"text": "Closed", "duration_s": 60}, "alice")
    recorded = db.read(lambda tx: tx.execute("SELECT device_id FROM fleet_commands ORDER BY device_id"))
    assert [row["device_id"] for row in recorded] == ["t0", "t1"]
    assert [topic for topic, _ in published.messages] == [fleet_wire.command_topic(d) for d in ("t0", "t1")]
    assert calls == [["t0", "t1"], ["t2", "t3"]]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    topic=st.sampled_from(["status", "state", "events", "cmd/ack", "cmd", "other"]),
    payload=st.binary(max_size=300)
    | st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
        max_leaves=20,
    ).map(lambda v: json.dumps({"v": 1, "kind": "terminal", "x": v}).encode()),
)
def test_submit_never_raises_on_garbage(fleet_fuzz: FleetComponent, topic: str, payload: bytes) -> None:
    fleet_fuzz.submit(f"printgate/v1/devices/fuzz-1/{topic}", payload)
    asyncio.run(fleet_fuzz.drain())


@pytest.fixture
def fleet_fuzz(tmp_path) -> FleetComponent:
    from hub_server.storage import open_database

    return FleetComponent(open_database(f"sqlite:///{tmp_path / 'fuzz.db'}", [FLEET]), FakeClock())
