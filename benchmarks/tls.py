"""What TLS costs the hub: card logins over mutual TLS against the same hub in plaintext, in one
run, and enrollment latency.

Seeds users with cards into a fresh SQLite hub database, then starts a real hub process
(``--workers``, default 2) twice on the same data: first with ``--dev-plaintext`` (terminals named
by id + key metadata), then on TLS as shipped. On the TLS hub, ``--enrollments`` devices enroll one
after another as a factory-fresh terminal does (``DeviceEnrollment``: fetch and pin the CA, own
key, CSR, token; the hub signs and commits before answering), each timed; the first
``--terminals`` of them then drive the load, each on its own mutual-TLS channel. Both hubs get
card logins offered at ``--rate`` per second (open loop, latency from each call's scheduled time)
by the same Python client. Run: ``.venv/bin/python benchmarks/tls.py [--users 100000]
[--rate 1000] [--seconds 10] [--enrollments 200]``. Last line:

    auth_tls_rps=… auth_tls_p99_ms=… tls_over_plain=… enroll_p50_ms=… enroll_p99_ms=… cores=…
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import grpc

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hub_rpc import ERRORS, offered_load, percentile, seed
from printgate.v1 import admin_pb2, admin_pb2_grpc, terminal_pb2, terminal_pb2_grpc

from terminal_app.hub.enrollment import DeviceEnrollment
from tests.conftest import free_tcp_port
from tests.hub_server.devices import device_channel

HUB_TOML = "[pki]\nenroll_burst = 100000\nenroll_per_minute = 100000\n"


def start_hub(data_dir: Path, workers: int, plaintext: bool) -> tuple[subprocess.Popen[bytes], str, str]:
    """A hub process; (process, device address, admin address)."""
    ready = data_dir / "ready"
    ready.unlink(missing_ok=True)
    config = data_dir / "hub.toml"
    config.write_text(HUB_TOML)
    device, admin = f"127.0.0.1:{free_tcp_port()}", f"127.0.0.1:{free_tcp_port()}"
    command = [sys.executable, "-m", "printgate_cli", "hub", "--config", str(config)]
    command += ["--data-dir", str(data_dir), "--listen", device, "--admin-listen", admin]
    command += ["--ready-file", str(ready), "--log-level", "ERROR", "--workers", str(workers)]
    process = subprocess.Popen([*command, *(["--dev-plaintext"] if plaintext else [])])
    while not ready.exists():
        if process.poll() is not None:
            raise RuntimeError("hub exited")
        time.sleep(0.05)
    return process, device, admin


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(30)


def card_login(users: int) -> Any:
    rng = random.Random(7)

    async def call(worker: tuple[Any, tuple[tuple[str, str], ...]]) -> None:
        stub, metadata = worker
        number = f"C{rng.randrange(users):08X}"
        request = terminal_pb2.AuthenticateRequest(card=terminal_pb2.CardCredential(number=number))
        await stub.Authenticate(request, metadata=metadata, timeout=10)

    return call


async def plaintext_logins(data_dir: Path, args: argparse.Namespace) -> tuple[float, list[float]]:
    process, device, admin_address = start_hub(data_dir, args.workers, plaintext=True)
    admin_md = (("authorization", f"Bearer {(data_dir / 'admin-token').read_text().strip()}"),)
    channels = []
    try:
        async with grpc.aio.insecure_channel(admin_address) as admin_channel:
            admin = admin_pb2_grpc.AdminServiceStub(admin_channel)
            workers = []
            for index in range(args.terminals):
                reply = await admin.CreateTerminal(admin_pb2.Terminal(id=f"plain-{index}"), metadata=admin_md)
                channel = grpc.aio.insecure_channel(device)
                channels.append(channel)
                metadata = (
                    ("x-printgate-terminal-id", f"plain-{index}"),
                    ("x-printgate-terminal-key", reply.key),
                )
                workers.append((terminal_pb2_grpc.TerminalServiceStub(channel), metadata))
        call = card_login(args.users)
        await offered_load(1.0, args.rate, workers, call)  # warm connections and caches
        return await offered_load(args.seconds, args.rate, workers, call)
    finally:
        for channel in channels:
            await channel.close()
        stop(process)


async def tls_logins(data_dir: Path, args: argparse.Namespace) -> tuple[float, list[float], list[float]]:
    """(logins per second, login latencies, enrollment latencies) on the TLS hub."""
    process, _, admin_address = start_hub(data_dir, args.workers, plaintext=False)
    admin_md = (("authorization", f"Bearer {(data_dir / 'admin-token').read_text().strip()}"),)
    anchor = (data_dir / "hub-ca.pem").read_bytes()
    channels = []
    try:
        async with grpc.aio.secure_channel(
            admin_address, grpc.ssl_channel_credentials(anchor)
        ) as admin_channel:
            admin = admin_pb2_grpc.AdminServiceStub(admin_channel)
            tokens = []
            for index in range(args.enrollments):
                request = admin_pb2.CreateEnrollmentTokenRequest(
                    kind=admin_pb2.TERMINAL_KIND_TERMINAL, terminal_id=f"tls-{index}"
                )
                tokens.append((await admin.CreateEnrollmentToken(request, metadata=admin_md)).token)
        enroll_ms, workers = [], []
        for index, token in enumerate(tokens):
            device = DeviceEnrollment(data_dir.parent / "devices" / str(index), "terminal")
            started = time.perf_counter()
            credentials = await device.enroll(token)
            enroll_ms.append((time.perf_counter() - started) * 1000)
            if index < args.terminals:
                channel = device_channel(credentials)
                channels.append(channel)
                workers.append((terminal_pb2_grpc.TerminalServiceStub(channel), ()))
        call = card_login(args.users)
        await offered_load(1.0, args.rate, workers, call)  # warm connections (handshakes) and caches
        rate, latencies = await offered_load(args.seconds, args.rate, workers, call)
        return rate, latencies, enroll_ms
    finally:
        for channel in channels:
            await channel.close()
        stop(process)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--rate", type=int, default=1000, help="card logins offered per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--terminals", type=int, default=50, help="load channels (one per terminal)")
    parser.add_argument("--enrollments", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2, help="hub processes on the port")
    args = parser.parse_args()
    args.enrollments = max(args.enrollments, args.terminals)
    with tempfile.TemporaryDirectory(prefix="printgate-tls-") as directory:
        data_dir = Path(directory) / "hub"
        data_dir.mkdir()
        seed(data_dir, args.users)
        plain_rate, plain_ms = asyncio.run(plaintext_logins(data_dir, args))
        tls_rate, tls_ms, enroll_ms = asyncio.run(tls_logins(data_dir, args))
    offered = (
        f"offered {args.rate}/s for {args.seconds:.0f} s, {args.terminals} terminals, {args.workers} workers"
    )
    for name, rate, latencies in (("plain", plain_rate, plain_ms), ("tls", tls_rate, tls_ms)):
        print(
            f"auth_{name}_rps={rate:.0f} auth_{name}_p50_ms={statistics.median(latencies):.2f} "
            f"auth_{name}_p99_ms={percentile(latencies, 0.99):.2f} ({offered})"
        )
    print(
        f"enrollments={len(enroll_ms)} enroll_mean_ms={statistics.fmean(enroll_ms):.1f} failed_calls={ERRORS}"
    )
    print(
        f"auth_tls_rps={tls_rate:.0f} auth_tls_p99_ms={percentile(tls_ms, 0.99):.2f} "
        f"tls_over_plain={tls_rate / plain_rate:.2f} enroll_p50_ms={statistics.median(enroll_ms):.1f} "
        f"enroll_p99_ms={percentile(enroll_ms, 0.99):.1f} cores={os.cpu_count()}"
    )


if __name__ == "__main__":
    main()
