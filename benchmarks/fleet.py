"""Fleet at scale: 5,000 simulated devices, one Mosquitto, the hub's fleet component.

* The **devices** are an asyncio MQTT load generator (gmqtt on uvloop) in this process, each with its own
  TLS client certificate from the hub CA (made once and cached under ``--cache``): status with a
  last will, retained state every 60 s (spread over the minute), an event now and then, and
  answers (accepted, done) to every command. Reconnects use the devices' own policy
  (``terminal_app.telemetry.Backoff``: exponential with full jitter).
* The **hub** is a separate process (its CPU is measured): ``FleetComponent`` on SQLite with its
  real paho subscriber, sweeps every 15 s.
* Phases: connect everyone; steady state for ``--steady-s`` (hub CPU measured); one command to the
  whole fleet (round trip = hub issue to the hub having the final answer, p99); kill and restart
  the broker (time until every device is connected again, and the hub's view complete).

Run: ``.venv/bin/python benchmarks/fleet.py`` (about 6 minutes). Last line:
``fleet_devices= cmd_rtt_p99_ms= reconnect_all_s= hub_cpu_pct= broker_rss_mb= cores=``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import gmqtt
import uvloop
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from printgate import fleet_wire

from hub_server.clock import SystemClock
from hub_server.fleet import COMPONENT as FLEET
from hub_server.pki import COMPONENT as PKI
from hub_server.pki import DeviceIdentity, HubPki, PkiConfig
from hub_server.storage import open_database
from terminal_app.telemetry import Backoff
from terminal_app.telemetry.commands import ANSWERED_AT_ONCE_VERBS
from tests.mosquitto import MosquittoBroker

STATE_INTERVAL_S = 60.0
CONNECT_CONCURRENCY = 100
CONNECT_TIMEOUT_S = 10.0


class DeviceClient(gmqtt.Client):
    """gmqtt's client without its own reconnect.

    gmqtt reconnects a lost client by itself once even with ``reconnect_retries`` 0, under the
    same client id, while :meth:`SimDevice.run` connects a new client for the device's next
    session: the broker then hands the id back and forth between the two and a broker restart
    never settles. The device's loop alone reconnects, as the real client does."""

    async def reconnect(self, delay: bool = False) -> None:
        return None


def quiet_gmqtt() -> None:
    import logging

    logging.getLogger("gmqtt").setLevel(logging.CRITICAL)


def raise_open_files() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def device_certificates(pki: HubPki, cache: Path, count: int) -> list[tuple[str, Path, Path]]:
    """(device id, certificate, key) for ``count`` devices, made once per CA and kept in ``cache``."""
    out = cache / f"devices-{pki.material.anchor_sha256[:16]}"
    out.mkdir(parents=True, exist_ok=True)
    now_us = SystemClock().now_us()
    result = []
    for index in range(count):
        device_id = f"sim-{index:05}"
        cert, key = out / f"{device_id}.crt", out / f"{device_id}.key"
        if not cert.exists():
            private = ec.generate_private_key(ec.SECP256R1())
            issued = pki.material.authority.issue_device(
                DeviceIdentity("terminal", device_id), private.public_key(), now_us, 30 * 86_400
            )
            key.write_bytes(
                private.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
            cert.write_bytes(issued.public_bytes(serialization.Encoding.PEM))
        result.append((device_id, cert, key))
    return result


class SimDevice:
    """One simulated device: its connection loop and its answers."""

    def __init__(self, device_id: str, context: ssl.SSLContext, host: str, port: int) -> None:
        self.device_id = device_id
        self.context = context
        self.host, self.port = host, port
        self.session = 0
        self.seq = 0
        self.connected = asyncio.Event()
        self.lost = asyncio.Event()
        self.client: Any = None
        self.backoff = Backoff(1.0, 30.0)
        self.commands = 0
        self.received_s = 0.0

    def _state(self) -> bytes:
        self.seq += 1
        return fleet_wire.encode(
            {
                "kind": "terminal",
                "session": self.session,
                "seq": self.seq,
                "ts": time.time(),
                "software": {"version": "1.0.0", "boot_slot": "A"},
                "reader": {"driver": "rdm6300", "present": True},
                "mfp": {
                    "status": "running",
                    "errors": [],
                    "supplies": [{"name": "black", "type": "toner", "percent": 70.0}],
                    "counters": {"copy_mono": self.seq},
                },
                "journal_backlog": 0,
                "uptime_s": self.seq * 60,
            }
        )

    def _on_message(self, client: Any, topic: str, payload: bytes, qos: int, properties: Any) -> int:
        document = json.loads(payload)
        self.commands += 1
        self.received_s = time.time()  # when the command reached the device (hub and devices share a clock)
        # As the real client (terminal_app.telemetry.client) answers.
        answers = ("done",) if document["verb"] in ANSWERED_AT_ONCE_VERBS else ("accepted", "done")
        for status in answers:
            ack = fleet_wire.encode({"id": document["id"], "status": status, "ts": time.time()})
            client.publish(fleet_wire.ack_topic(self.device_id), ack, qos=1)
        return 0

    def _on_disconnect(self, client: Any, packet: Any, exc: Any = None) -> None:
        self.connected.clear()
        self.lost.set()

    async def connect_once(self) -> None:
        self.session += 1
        will = gmqtt.Message(
            fleet_wire.status_topic(self.device_id),
            fleet_wire.encode({"online": False, "session": self.session, "kind": "terminal"}),
            qos=1,
            retain=True,
        )
        client = DeviceClient(self.device_id, will_message=will)
        client.set_config({"reconnect_retries": 0})
        client.on_message = self._on_message
        client.on_disconnect = self._on_disconnect
        # A connect the broker left hanging must not hold its place in the gate for long.
        await asyncio.wait_for(
            client.connect(self.host, self.port, ssl=self.context, keepalive=60), CONNECT_TIMEOUT_S
        )
        client.subscribe(fleet_wire.command_topic(self.device_id), qos=1)
        client.publish(
            fleet_wire.status_topic(self.device_id),
            fleet_wire.encode(
                {"online": True, "session": self.session, "kind": "terminal", "software_version": "1.0.0"}
            ),
            qos=1,
            retain=True,
        )
        client.publish(fleet_wire.state_topic(self.device_id), self._state(), qos=1, retain=True)
        self.client = client
        self.lost.clear()
        self.connected.set()
        self.backoff.reset()

    async def run(self, gate: asyncio.Semaphore) -> None:
        while True:
            try:
                async with gate:
                    await self.connect_once()
            except (OSError, TimeoutError, ssl.SSLError, Exception):  # broker away: back off
                await asyncio.sleep(self.backoff.next_delay_s())
                continue
            await self.lost.wait()
            await asyncio.sleep(self.backoff.next_delay_s())

    async def telemetry(self, rng: random.Random) -> None:
        await asyncio.sleep(rng.uniform(0, STATE_INTERVAL_S))
        while True:
            if self.connected.is_set():
                self.client.publish(fleet_wire.state_topic(self.device_id), self._state(), qos=1, retain=True)
                if rng.random() < 0.1:  # an event per device every ten minutes on average
                    event = {
                        "id": os.urandom(8).hex(),
                        "type": "paper_loaded",
                        "severity": "recovery",
                        "session": self.session,
                        "seq": self.seq,
                        "ts": time.time(),
                    }
                    self.client.publish(
                        fleet_wire.events_topic(self.device_id), fleet_wire.encode(event), qos=1
                    )
            await asyncio.sleep(STATE_INTERVAL_S)


def process_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def phase_cpu_s(hub_pid: int, broker_pid: int) -> dict[str, float]:
    """CPU seconds so far of the three parties sharing the machine's cores."""
    return {
        "hub": process_cpu_s(hub_pid),
        "broker": process_cpu_s(broker_pid),
        "devices": time.process_time(),
    }


# ------------------------------------------------------------------------- the hub process


async def hub_main(directory: Path, port: int) -> None:
    from hub_server.fleet import BLOCKING_ERROR_BITS, FleetComponent, HubMqtt, HubMqttSettings, hub_username

    db = open_database(f"sqlite:///{directory / 'fleet.db'}", [FLEET])
    component = FleetComponent(db, SystemClock(), blocking_errors=BLOCKING_ERROR_BITS)
    files = directory / "broker"
    settings = HubMqttSettings(
        "127.0.0.1",
        port,
        files / "ca.pem",
        files / "hub-client.crt",
        files / "hub-client.key",
        hub_username(),
    )
    mqtt = HubMqtt(settings, component.submit, asyncio.get_running_loop())
    component.publisher = mqtt
    mqtt.start()
    tasks = [asyncio.create_task(component.run()), asyncio.create_task(component.run_sweeps(15))]
    reader = asyncio.StreamReader()
    await asyncio.get_running_loop().connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), sys.stdin
    )
    while line := (await reader.readline()).decode().strip():
        if line == "online":
            devices = component.list_devices()
            answer: dict[str, Any] = {
                "online": sum(1 for d in devices if d["online"]),
                "known": len(devices),
                "current": sum(
                    1
                    for d in devices
                    if d["online"] and json.loads(d["state_json"] or "{}").get("session") == d["session"]
                ),
                "sessions": sum(d["session"] for d in devices if d["online"]),
            }
        elif line == "command":
            started = time.time()
            rows = await component.send_to_fleet("set_log_level", {"level": "INFO"}, "benchmark")
            issued_s = time.time() - started
            ids = [row["id"] for row in rows]
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                await asyncio.sleep(0.25)
                final = db.read(
                    lambda tx: tx.scalar(
                        "SELECT COUNT(*) FROM fleet_commands WHERE status IN ('done', 'failed', 'rejected')"
                    )
                )
                if final >= len(ids):
                    break
            rtts = db.read(
                lambda tx: [
                    r["rtt"]
                    for r in tx.execute(
                        "SELECT finished_us - issued_us AS rtt FROM fleet_commands "
                        "WHERE status = 'done' ORDER BY 1"
                    )
                ]
            )
            answer = {
                "sent": len(ids),
                "done": len(rtts),
                "p99_ms": rtts[max(0, int(len(rtts) * 0.99) - 1)] / 1000 if rtts else -1,
                "p50_ms": rtts[len(rtts) // 2] / 1000 if rtts else -1,
                "first_ms": rtts[0] / 1000 if rtts else -1,
                "send_to_all_ms": round(issued_s * 1000, 1),
                "issued_us": rows[0]["issued_us"] if rows else 0,
            }
        else:
            answer = {"error": line}
        print(json.dumps(answer), flush=True)
    for task in tasks:
        task.cancel()
    await mqtt.stop()


class HubProcess:
    def __init__(self, directory: Path, port: int) -> None:
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--hub", str(directory), "--port", str(port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def ask(self, line: str) -> dict[str, Any]:
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def stop(self) -> None:
        assert self.process.stdin
        self.process.stdin.close()
        self.process.wait(30)


# ------------------------------------------------------------------------- the driver


async def wait_for(predicate: Any, timeout_s: float, poll_s: float = 0.5) -> float:
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout_s:
            raise TimeoutError
        await asyncio.sleep(poll_s)
    return time.monotonic() - start


async def main(args: argparse.Namespace) -> None:
    raise_open_files()
    quiet_gmqtt()
    directory = Path(tempfile.mkdtemp(prefix="printgate-fleet-bench-"))
    clock = SystemClock()
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    pki_db = open_database(f"sqlite:///{directory / 'pki.db'}", [PKI])
    pki = HubPki(PkiConfig(directory=cache / "pki"), pki_db, clock, b"k" * 32)
    broker = MosquittoBroker(directory / "broker", pki, clock)
    broker.start()
    certificates = device_certificates(pki, cache, args.devices)
    hub = HubProcess(directory, broker.port)
    ca = str(broker.files.ca)
    devices = []
    for device_id, cert, key in certificates:
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca)
        context.load_cert_chain(str(cert), str(key))
        devices.append(SimDevice(device_id, context, broker.host, broker.port))
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    rng = random.Random(7)
    tasks = [asyncio.create_task(d.run(gate)) for d in devices]
    connect_s = await wait_for(lambda: all(d.connected.is_set() for d in devices), 600)
    print(f"connected {len(devices)} devices in {connect_s:.1f} s", flush=True)
    tasks += [asyncio.create_task(d.telemetry(rng)) for d in devices]
    await wait_for(lambda: hub.ask("online")["online"] == len(devices), 300, 2)
    cpu_before, wall_before = process_cpu_s(hub.process.pid), time.monotonic()
    await asyncio.sleep(args.steady_s)
    hub_cpu_pct = 100 * (process_cpu_s(hub.process.pid) - cpu_before) / (time.monotonic() - wall_before)
    print(f"steady: hub {hub_cpu_pct:.1f} % of one core, broker {broker.rss_mb():.0f} MiB", flush=True)
    broker_rss_mb = broker.rss_mb()
    cpu_s = phase_cpu_s(hub.process.pid, broker.pid)
    commands = await asyncio.to_thread(hub.ask, "command")
    spent = {name: after - cpu_s[name] for name, after in phase_cpu_s(hub.process.pid, broker.pid).items()}
    print(f"command to the whole fleet: {commands}", flush=True)
    print(
        "command phase CPU (s): " + ", ".join(f"{name} {seconds:.2f}" for name, seconds in spent.items()),
        flush=True,
    )
    arrivals_ms = sorted((d.received_s * 1e6 - commands["issued_us"]) / 1000 for d in devices)
    print(
        f"command reached the devices after (ms from issue): first {arrivals_ms[0]:.0f}, "
        f"p50 {arrivals_ms[len(arrivals_ms) // 2]:.0f}, "
        f"p99 {arrivals_ms[int(len(arrivals_ms) * 0.99) - 1]:.0f}, "
        f"last {arrivals_ms[-1]:.0f}",
        flush=True,
    )
    before = {d.device_id: d.session for d in devices}
    broker.kill()
    broker.start()
    restarted = time.monotonic()
    reconnect_s = await wait_for(
        lambda: all(d.connected.is_set() and d.session > before[d.device_id] for d in devices), 300, 0.25
    )
    print(f"broker restart: every device connected again in {reconnect_s:.1f} s", flush=True)
    sessions = sum(d.session for d in devices)
    hub_view_s = (
        time.monotonic()
        - restarted
        + await wait_for(
            lambda: (
                (answer := hub.ask("online"))["online"] == len(devices)
                and answer["current"] == len(devices)
                and answer["sessions"] == sessions
            ),
            300,
            1,
        )
    )
    print(
        f"broker restart: devices back in {reconnect_s:.1f} s, hub view complete in {hub_view_s:.1f} s",
        flush=True,
    )
    for task in tasks:
        task.cancel()
    hub.stop()
    broker.stop()
    await asyncio.sleep(1)  # the clients see the broker go before the loop closes: no stray tasks
    shutil.rmtree(directory)  # the run's databases, broker files and persistence
    print(
        f"fleet_devices={len(devices)} cmd_rtt_p99_ms={commands['p99_ms']:.0f} "
        f"reconnect_all_s={reconnect_s:.1f} hub_cpu_pct={hub_cpu_pct:.1f} "
        f"broker_rss_mb={broker_rss_mb:.0f} cores={os.cpu_count()}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--devices", type=int, default=5000)
    parser.add_argument("--steady-s", type=float, default=120.0)
    parser.add_argument("--cache", default=str(Path.home() / ".cache" / "printgate" / "fleet-bench"))
    parser.add_argument("--hub", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.hub:
        asyncio.run(hub_main(Path(arguments.hub), arguments.port))
    else:
        # The simulated devices share one event loop on uvloop: their TLS and MQTT cost a third
        # less CPU than on asyncio's own loop, CPU this machine's hub and broker share with them
        # and real devices would not take (docs/benchmarks.md). The hub runs asyncio's loop.
        uvloop.run(main(arguments))
