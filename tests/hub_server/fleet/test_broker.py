"""The broker as configured from the hub PKI: identity from the certificate, the ACL, the CRL.
Checked with an independent client (mosquitto_pub) and with paho."""

from __future__ import annotations

import subprocess
import threading

import paho.mqtt.client as mqtt
import pytest

from tests.fleet_rig import DeviceFiles, FleetRig, eventually
from tests.mosquitto import MosquittoBroker

pytestmark = pytest.mark.slow


def mosquitto_pub(
    broker: MosquittoBroker, files: DeviceFiles, topic: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            "mosquitto_pub", "-h", broker.host, "-p", str(broker.port), "-V", "mqttv5", "-q", "1",
            "--cafile", str(files.ca), "--cert", str(files.certificate), "--key", str(files.key),
            "-t", topic, "-m", '{"v":1,"online":true}',
        ],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip


async def test_mosquitto_pub_may_publish_only_under_its_own_id(rig: FleetRig) -> None:
    one = await rig.device_files("term-001")
    await rig.device_files("term-002")
    own = mosquitto_pub(rig.broker, one, "printgate/v1/devices/term-001/status")
    assert own.returncode == 0, own.stderr
    assert own.stderr == ""
    foreign = mosquitto_pub(rig.broker, one, "printgate/v1/devices/term-002/status")
    assert "Not authorized" in foreign.stderr
    commands = mosquitto_pub(rig.broker, one, "printgate/v1/devices/term-001/cmd")
    assert "Not authorized" in commands.stderr  # a device never writes commands, not even its own


def paho_client(rig: FleetRig, files: DeviceFiles, client_id: str) -> tuple[mqtt.Client, dict]:
    seen: dict = {"puback": {}, "suback": [], "connected": threading.Event()}
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    client.tls_set(ca_certs=str(files.ca), certfile=str(files.certificate), keyfile=str(files.key))
    client.on_connect = lambda c, u, f, rc, p: seen["connected"].set()
    client.on_publish = lambda c, u, mid, rc, p: seen["puback"].__setitem__(mid, rc.value)
    client.on_subscribe = lambda c, u, mid, rcs, p: seen["suback"].extend(r.value for r in rcs)
    client.connect(rig.broker.host, rig.broker.port)
    client.loop_start()
    assert seen["connected"].wait(10)
    return client, seen


async def test_paho_sees_not_authorized_for_another_devices_topics(rig: FleetRig) -> None:
    one = await rig.device_files("term-001")
    await rig.device_files("term-002")
    client, seen = paho_client(rig, one, "term-001")
    try:
        own = client.publish("printgate/v1/devices/term-001/events", b"{}", qos=1)
        foreign = client.publish("printgate/v1/devices/term-002/events", b"{}", qos=1)
        own.wait_for_publish(10)
        foreign.wait_for_publish(10)
        assert seen["puback"][own.mid] in (0, 16)  # success / no matching subscribers
        assert seen["puback"][foreign.mid] == 135  # Not authorized
    finally:
        client.disconnect()
        client.loop_stop()


async def test_a_device_reads_only_its_own_command_topic(rig: FleetRig) -> None:
    one = await rig.device_files("term-001")
    two = await rig.device_files("term-002")
    hub = DeviceFiles("hub", rig.broker.files.hub_key, rig.broker.files.hub_certificate, one.ca)
    snooper, _ = paho_client(rig, one, "term-001")
    owner, _ = paho_client(rig, two, "term-002")
    publisher, _ = paho_client(rig, hub, "hub")
    received: dict[str, list[bytes]] = {"term-001": [], "term-002": []}
    owner_got = threading.Event()
    snooper.on_message = lambda c, u, m: received["term-001"].append(bytes(m.payload))

    def owner_message(client, userdata, message):
        received["term-002"].append(bytes(message.payload))
        owner_got.set()

    owner.on_message = owner_message
    try:
        # mosquitto grants the SUBSCRIBE and enforces read access on every delivery
        snooper.subscribe("printgate/v1/devices/+/cmd", 1)
        owner.subscribe("printgate/v1/devices/term-002/cmd", 1)
        threading.Event().wait(0.5)
        publisher.publish("printgate/v1/devices/term-002/cmd", b"for two", qos=1).wait_for_publish(10)
        assert owner_got.wait(10)
        threading.Event().wait(0.5)
        assert received == {"term-001": [], "term-002": [b"for two"]}
    finally:
        for client in (snooper, owner, publisher):
            client.disconnect()
            client.loop_stop()


async def test_client_id_is_the_certificate_cn_so_no_session_can_be_taken_over(rig: FleetRig) -> None:
    one = await rig.device_files("term-001")
    two = await rig.device_files("term-002")
    victim, victim_seen = paho_client(rig, one, "term-001")
    victim_seen["connected"].clear()
    disconnected = threading.Event()
    victim.on_disconnect = lambda c, u, f, rc, p: disconnected.set()
    attacker, _ = paho_client(rig, two, "term-001")  # claims the victim's client id
    try:
        assert not disconnected.wait(1.5)
    finally:
        for client in (victim, attacker):
            client.disconnect()
            client.loop_stop()


async def test_revoked_device_is_refused_after_the_crl_is_refreshed(rig: FleetRig) -> None:
    revoked = await rig.device_files("kiosk-7", "kiosk")
    kept = await rig.device_files("term-001")
    topic = "printgate/v1/devices/kiosk-7/status"
    assert mosquitto_pub(rig.broker, revoked, topic).returncode == 0
    assert await rig.pki.revoke_device("kiosk-7", "stolen") == 1
    assert mosquitto_pub(rig.broker, revoked, topic).returncode == 0  # the broker has the old CRL
    rig.broker.refresh_crl()
    refused = mosquitto_pub(rig.broker, revoked, topic)
    assert refused.returncode != 0, refused.stderr
    await eventually(lambda: "certificate verify failed" in rig.broker.log_tail(), 10, "the broker's refusal")
    assert mosquitto_pub(rig.broker, kept, "printgate/v1/devices/term-001/status").returncode == 0
