"""The fleet in a running hub: ``[fleet] enabled`` starts the component, its MQTT subscriber, the
alert dispatcher and the sweeps; the two fleet services answer on the hub's TLS ports; a stopped
hub leaves no fleet task behind. A real Mosquitto made from the hub's own PKI, a device enrolled
through the real enrollment service, the admin over the admin port."""

from __future__ import annotations

import asyncio
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import grpc
import pytest
from cryptography import x509
from printgate.v1 import admin_pb2, fleet_pb2, fleet_pb2_grpc

from hub_server.config import load_config
from hub_server.server import start_hub
from terminal_app.hub.enrollment import CredentialStore
from terminal_app.telemetry import BrokerSettings, DeviceEvent, FleetClient, ReaderState, StateSnapshot
from terminal_app.telemetry.backoff import Backoff
from tests.conftest import free_tcp_port
from tests.fleet_hub import FleetHub, start_fleet_hub
from tests.fleet_rig import DeviceFiles, RecordingHandlers
from tests.hub_server.conftest import hub_config
from tests.hub_server.fleet.test_broker import mosquitto_pub

pytestmark = pytest.mark.slow


async def device_client(fleet_hub: FleetHub, device_id: str, handlers: RecordingHandlers) -> FleetClient:
    state_dir = await fleet_hub.enroll(device_id)
    credentials = CredentialStore(state_dir).current()
    assert credentials is not None
    settings = BrokerSettings.from_credentials(credentials, fleet_hub.broker.host, fleet_hub.broker.port)
    client = FleetClient(
        device_id, "terminal", settings, state_dir / "telemetry", handlers, backoff=Backoff(0.05, 0.5)
    )
    await client.start()
    return client


async def test_the_hub_serves_the_fleet_of_its_broker(fleet_hub: FleetHub) -> None:
    handlers = RecordingHandlers()
    client = await device_client(fleet_hub, "term-wired", handlers)
    try:
        client.publish_state(StateSnapshot(kind="terminal", reader=ReaderState("rdm6300", False)))
        client.publish_event(DeviceEvent("reader_lost", "fault", {"driver": "rdm6300"}))
        admin = fleet_hub.fleet_admin

        async def listed() -> list[fleet_pb2.FleetDevice]:
            reply = await admin.ListDevices(fleet_pb2.ListDevicesRequest(), metadata=fleet_hub.metadata)
            return list(reply.devices)

        async def online() -> bool:
            if [(d.id, d.online) for d in await listed()] != [("term-wired", True)]:
                return False
            shown = await admin.ShowDevice(fleet_pb2.DeviceRef(id="term-wired"), metadata=fleet_hub.metadata)
            return "reader" in json.loads(shown.state_json or "{}")

        await fleet_hub.until(online, "device online in ListDevices")
        detail = await admin.ShowDevice(fleet_pb2.DeviceRef(id="term-wired"), metadata=fleet_hub.metadata)
        assert json.loads(detail.state_json)["reader"] == {"driver": "rdm6300", "present": False}

        sent = await admin.SendCommand(
            fleet_pb2.SendCommandRequest(
                device_id="term-wired", verb="set_log_level", args_json='{"level": "DEBUG"}'
            ),
            metadata=fleet_hub.metadata,
        )
        assert sent.issued_by.startswith("admin-token-") and sent.status == "sent"

        async def done() -> bool:
            reply = await admin.GetCommand(fleet_pb2.CommandRef(id=sent.id), metadata=fleet_hub.metadata)
            return bool(reply.status == "done")

        await fleet_hub.until(done, "command done")
        assert handlers.calls == [("set_log_level", ("DEBUG",))]
    finally:
        await client.stop(timeout_s=1)


async def test_fleet_services_refuse_a_wrong_admin_token(fleet_hub: FleetHub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await fleet_hub.fleet_admin.ListDevices(
            fleet_pb2.ListDevicesRequest(), metadata=(("authorization", "Bearer not-a-token"),)
        )
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_a_stopped_hub_leaves_no_fleet_task(fleet_hub: FleetHub) -> None:
    running = fleet_hub.running
    assert running.fleet is not None
    tasks = list(running.fleet.tasks)
    assert {task.get_name() for task in tasks} == {"fleet-intake", "fleet-sweeps", "fleet-alerts"}
    await fleet_hub.stop_hub()
    assert all(task.done() for task in tasks)
    assert not [t for t in asyncio.all_tasks() if t.get_name().startswith("fleet-")]
    assert not running.fleet.mqtt.connected.is_set()


async def test_without_a_fleet_section_nothing_changes(tmp_path: Path) -> None:
    running = await start_hub(hub_config(tmp_path / "hub"))
    try:
        assert running.fleet is None
        channel = grpc.aio.secure_channel(
            f"127.0.0.1:{running.admin_port}",
            grpc.ssl_channel_credentials((tmp_path / "hub" / "hub-ca.pem").read_bytes()),
        )
        async with channel:
            with pytest.raises(grpc.aio.AioRpcError) as missing:
                stub = fleet_pb2_grpc.FleetAdminServiceStub(channel)
                await stub.ListDevices(fleet_pb2.ListDevicesRequest())
        assert missing.value.code() == grpc.StatusCode.UNIMPLEMENTED
    finally:
        await running.stop(0)


def test_the_fleet_section_is_read_and_needs_one_worker(tmp_path: Path) -> None:
    path = tmp_path / "hub.toml"
    path.write_text(
        '[fleet]\nenabled = true\nbroker = "127.0.0.1:8883"\n[fleet.alerts]\noffline_after_s = 60\n'
    )
    assert load_config(path).fleet == {
        "enabled": True,
        "broker": "127.0.0.1:8883",
        "alerts": {"offline_after_s": 60},
    }
    path.write_text("[hub]\nworkers = 2\n[fleet]\nenabled = true\n")
    with pytest.raises(ValueError, match="workers = 1"):
        load_config(path)


async def test_a_revoked_device_gets_no_command_until_it_enrolls_again(fleet_hub: FleetHub) -> None:
    handlers = RecordingHandlers()
    client = await device_client(fleet_hub, "term-stolen", handlers)
    admin = fleet_hub.fleet_admin
    request = fleet_pb2.SendCommandRequest(
        device_id="term-stolen", verb="set_log_level", args_json='{"level":"INFO"}'
    )
    try:

        async def known() -> bool:
            reply = await admin.ListDevices(fleet_pb2.ListDevicesRequest(), metadata=fleet_hub.metadata)
            return [d.id for d in reply.devices] == ["term-stolen"]

        await fleet_hub.until(known, "device known")
        await fleet_hub.call_admin(
            "RevokeTerminal", admin_pb2.RevokeTerminalRequest(terminal_id="term-stolen")
        )
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await admin.SendCommand(request, metadata=fleet_hub.metadata)
        assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert "revoked" in (refused.value.details() or "")
    finally:
        await client.stop(timeout_s=1)
    await fleet_hub.enroll("term-stolen")  # a new token after the revocation reinstates it
    revocations = fleet_hub.running.pki.revocations

    async def reinstated() -> bool:
        return not revocations.is_device_revoked("term-stolen")

    await fleet_hub.until(reinstated, "the revocation cache polled")
    sent = await admin.SendCommand(request, metadata=fleet_hub.metadata)
    assert sent.status == "sent"
    assert handlers.calls == []


class Webhook(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[str, dict[str, Any]]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Webhook.received.append((self.headers["Idempotency-Key"], json.loads(body)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


async def test_the_running_hub_delivers_alerts_by_webhook(tmp_path: Path) -> None:
    Webhook.received = []
    port = free_tcp_port()
    server = HTTPServer(("127.0.0.1", port), Webhook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    hub = await start_fleet_hub(
        tmp_path,
        alerts={"reader_missing_after_s": 0, "webhook_url": f"http://127.0.0.1:{port}/alerts"},
    )
    client = await device_client(hub, "term-hook", RecordingHandlers())
    try:
        client.publish_state(StateSnapshot(kind="terminal", reader=ReaderState("rdm6300", False)))

        async def raised() -> bool:
            return len(Webhook.received) == 1

        await hub.until(raised, "the raised alert delivered")
        client.publish_state(StateSnapshot(kind="terminal", reader=ReaderState("rdm6300", True)))

        async def cleared() -> bool:
            return len(Webhook.received) == 2

        await hub.until(cleared, "the cleared alert delivered")
        keys = [key for key, _ in Webhook.received]
        documents = [(d["transition"], d["kind"], d["device_id"]) for _, d in Webhook.received]
        assert documents == [
            ("raised", "reader_missing", "term-hook"),
            ("cleared", "reader_missing", "term-hook"),
        ]
        assert keys == [
            f"{Webhook.received[0][1]['alert_id']}:raised",
            f"{Webhook.received[0][1]['alert_id']}:cleared",
        ]
    finally:
        await client.stop(timeout_s=1)
        await hub.stop_hub()
        hub.broker.stop()
        server.shutdown()
        server.server_close()


async def test_the_hub_keeps_the_brokers_crl_and_a_revoked_device_is_refused(tmp_path: Path) -> None:
    hub = await start_fleet_hub(tmp_path / "site", crl_file=str(tmp_path / "site" / "broker" / "crl.pem"))
    try:
        files = {}
        for device_id in ("term-stolen", "term-kept"):
            credentials = CredentialStore(await hub.enroll(device_id)).current()
            assert credentials is not None
            files[device_id] = DeviceFiles(
                device_id, credentials.key_path, credentials.certificate_path, credentials.anchor_path
            )
        topic = "printgate/v1/devices/term-stolen/status"
        assert mosquitto_pub(hub.broker, files["term-stolen"], topic).returncode == 0
        await hub.call_admin("RevokeTerminal", admin_pb2.RevokeTerminalRequest(terminal_id="term-stolen"))
        serial = x509.load_pem_x509_certificate(files["term-stolen"].certificate.read_bytes()).serial_number

        async def in_crl() -> bool:
            crl = x509.load_pem_x509_crl(hub.broker.files.crl.read_bytes())
            return crl.get_revoked_certificate_by_serial_number(serial) is not None

        await hub.until(in_crl, "the revoked certificate in the broker's CRL")
        hub.broker.reload()
        refused = mosquitto_pub(hub.broker, files["term-stolen"], topic)
        assert refused.returncode != 0, refused.stderr
        kept_topic = "printgate/v1/devices/term-kept/status"
        assert mosquitto_pub(hub.broker, files["term-kept"], kept_topic).returncode == 0
    finally:
        await hub.stop_hub()
        hub.broker.stop()
