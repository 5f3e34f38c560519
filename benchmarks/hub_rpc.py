"""Hub RPC speed: card/PIN/password logins and durable ReportUsage over loopback gRPC.

Seeds 100,000 users with 100,000 cards straight into a fresh SQLite hub database, starts a real
hub process (in its plaintext development mode: terminals named by id + key metadata;
``benchmarks/tls.py`` measures the same logins over mutual TLS), and drives it from N
concurrent simulated terminals (default 200) in this process.
Prints one line per login kind, then the headline:

    auth_rps=… auth_p50_ms=… auth_p99_ms=… usage_rps=… usage_p99_ms=… cores=…

Run: ``.venv/bin/python benchmarks/hub_rpc.py [--users 100000] [--terminals 200] [--seconds 10]``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import grpc

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from printgate.v1 import admin_pb2, admin_pb2_grpc, common_pb2, terminal_pb2, terminal_pb2_grpc

from hub_server.domain import open_hub_database
from hub_server.domain import users as directory
from hub_server.domain.cards import add_card
from hub_server.domain.pricing import PriceRecord, set_price
from hub_server.domain.security import Hasher, load_or_create_secret, pin_lookup_key
from hub_server.storage import Tx
from tests.conftest import free_tcp_port

BATCH = 5000
PIN_USERS = 10_000
PASSWORD_USERS = 200
CHANNELS = 8
AUTH_RATE = 1000  # offered card/PIN logins per second (the target)
USAGE_RATE = 500  # offered durable usage reports per second (the target)
PASSWORD_RATE = 5  # offered password logins per second (argon2id, 64 MiB each)


def seed(data_dir: Path, count: int) -> None:
    """Users u0..uN with cards C0..CN, PINs for some, passwords for a few; straight into SQLite."""
    secret = load_or_create_secret(data_dir / "hub-secret")
    hasher = Hasher()
    password_hash = hasher.hash("benchmark-password")
    db = open_hub_database(f"sqlite:///{data_dir / 'hub.db'}")
    started = time.perf_counter()
    for start in range(0, count, BATCH):

        def batch(tx: Tx, start: int = start) -> None:
            for index in range(start, min(start + BATCH, count)):
                user_id = directory.create_user(
                    tx,
                    directory.UserRecord(username=f"u{index}"),
                    0,
                    password_hash if index < PASSWORD_USERS else None,
                )
                add_card(tx, user_id, f"C{index:08X}", "", 0)
                if index < PIN_USERS:
                    tx.execute(
                        "UPDATE users SET pin_lookup = :k WHERE id = :u",
                        {"k": pin_lookup_key(secret, f"{index:06d}"), "u": user_id},
                    )

        db.write_sync(batch)
    db.write_sync(lambda tx: set_price(tx, PriceRecord("copy", "mono", 1)))
    db.write_sync(lambda tx: directory.create_user(tx, directory.UserRecord(username="rich"), 0))
    db.close()
    print(f"seeded {count} users and cards in {time.perf_counter() - started:.1f} s", flush=True)


def start_hub(data_dir: Path, port: int, workers: int) -> subprocess.Popen[bytes]:
    ready = data_dir / "ready"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "printgate_cli",
            "hub",
            "--data-dir",
            str(data_dir),
            "--listen",
            f"127.0.0.1:{port}",
            "--admin-listen",
            f"127.0.0.1:{free_tcp_port()}",
            "--dev-plaintext",  # the RPC cost without TLS; benchmarks/tls.py compares the two
            "--ready-file",
            str(ready),
            "--log-level",
            "WARNING",
            "--workers",
            str(workers),
        ],
    )
    while not ready.exists():
        if process.poll() is not None:
            raise RuntimeError("hub exited")
        time.sleep(0.05)
    return process


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


ERRORS: dict[str, int] = {}


async def _counted(call, worker) -> bool:  # type: ignore[no-untyped-def]
    """Make one call; a failed call is counted by status (and reported), not fatal."""
    try:
        await call(worker)
    except grpc.aio.AioRpcError as error:
        ERRORS[error.code().name] = ERRORS.get(error.code().name, 0) + 1
        return False
    return True


async def saturate(seconds: float, workers: list, call) -> float:  # type: ignore[no-untyped-def]
    """Closed loop: every worker calls back to back; returns the completed calls per second."""
    done = 0
    deadline = time.perf_counter() + seconds

    async def loop(worker) -> None:  # type: ignore[no-untyped-def]
        nonlocal done
        while time.perf_counter() < deadline:
            if await _counted(call, worker):
                done += 1

    began = time.perf_counter()
    await asyncio.gather(*(loop(w) for w in workers))
    return done / (time.perf_counter() - began)


async def offered_load(seconds: float, rate: float, workers: list, call) -> tuple[float, list[float]]:  # type: ignore[no-untyped-def]
    """Open loop: calls arrive at ``rate`` per second spread over the workers (terminals), whatever
    the hub's speed; latency counts from each call's scheduled time, so a slow hub cannot hide
    its queue. Returns (completed per second, latencies in ms)."""
    latencies: list[float] = []
    tasks = []
    interval = 1.0 / rate
    began = time.perf_counter()

    async def one(worker, scheduled: float) -> None:  # type: ignore[no-untyped-def]
        if not await _counted(call, worker):
            return
        latencies.append((time.perf_counter() - scheduled) * 1000)

    for index in range(int(seconds * rate)):
        scheduled = began + index * interval
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(one(workers[index % len(workers)], scheduled)))
    await asyncio.gather(*tasks)
    return len(latencies) / (time.perf_counter() - began), latencies


H2LOAD_CONNECTIONS = 20


def h2load_auth(address: str, metadata: tuple[tuple[str, str], ...], card: str, rate: int, seconds: float):  # type: ignore[no-untyped-def]
    """Card logins offered at ``rate`` by h2load (nghttp2's C load generator speaking raw HTTP/2 gRPC
    frames), so the measuring side costs next to nothing on the shared cores. Returns
    (completed per second, latencies in ms) from h2load's per-request log."""
    body = terminal_pb2.AuthenticateRequest(card=terminal_pb2.CardCredential(number=card)).SerializeToString()
    with tempfile.TemporaryDirectory() as scratch:
        request, log_file = Path(scratch) / "auth.bin", Path(scratch) / "log.tsv"
        request.write_bytes(b"\x00" + len(body).to_bytes(4, "big") + body)  # gRPC message frame
        headers = [("content-type", "application/grpc"), ("te", "trailers"), *metadata]
        command = [
            "h2load",
            f"--requests={int(rate * seconds)}",
            f"--clients={H2LOAD_CONNECTIONS}",
            "--max-concurrent-streams=10",
            f"--rps={rate // H2LOAD_CONNECTIONS}",
            f"--data={request}",
            f"--log-file={log_file}",
            *[f"--header={name}: {value}" for name, value in headers],
            f"http://{address}/printgate.v1.TerminalService/Authenticate",
        ]
        began = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        elapsed = time.perf_counter() - began
        rows = [row.split("\t") for row in log_file.read_text().splitlines() if row]
    latencies = [int(row[2]) / 1000 for row in rows if row[1] == "200"]
    return len(latencies) / elapsed, latencies


def line(prefix: str, rate: float, latencies: list[float]) -> str:
    return (
        f"{prefix}_rps={rate:.0f} {prefix}_p50_ms={statistics.median(latencies):.2f} "
        f"{prefix}_p99_ms={percentile(latencies, 0.99):.2f}"
    )


async def run(address: str, admin_token: str, users: int, terminals: int, seconds: float) -> None:
    channels = [grpc.aio.insecure_channel(address) for _ in range(CHANNELS)]
    admin = admin_pb2_grpc.AdminServiceStub(channels[0])
    admin_md = (("authorization", f"Bearer {admin_token}"),)
    workers = []
    for index in range(terminals):
        reply = await admin.CreateTerminal(admin_pb2.Terminal(id=f"bench-{index}"), metadata=admin_md)
        metadata = (("x-printgate-terminal-id", f"bench-{index}"), ("x-printgate-terminal-key", reply.key))
        workers.append((terminal_pb2_grpc.TerminalServiceStub(channels[index % CHANNELS]), metadata))
    await admin.AdjustCredit(
        admin_pb2.AdjustCreditRequest(
            account="user:rich", amount_cents=10**12, reason="bench", idempotency_key="b"
        ),
        metadata=admin_md,
    )
    rng = random.Random(7)

    async def card(worker) -> None:  # type: ignore[no-untyped-def]
        stub, metadata = worker
        number = f"C{rng.randrange(users):08X}"
        request = terminal_pb2.AuthenticateRequest(card=terminal_pb2.CardCredential(number=number))
        await stub.Authenticate(request, metadata=metadata)

    async def pin(worker) -> None:  # type: ignore[no-untyped-def]
        stub, metadata = worker
        request = terminal_pb2.AuthenticateRequest(
            pin=terminal_pb2.PinCredential(pin=f"{rng.randrange(PIN_USERS):06d}")
        )
        await stub.Authenticate(request, metadata=metadata)

    async def password(worker) -> None:  # type: ignore[no-untyped-def]
        stub, metadata = worker
        credential = terminal_pb2.PasswordCredential(
            username=f"u{rng.randrange(PASSWORD_USERS)}", password="benchmark-password"
        )
        await stub.Authenticate(terminal_pb2.AuthenticateRequest(password=credential), metadata=metadata)

    await saturate(1.0, workers, card)  # warm connections and caches
    h2load = None
    if shutil.which("h2load"):
        h2load = await asyncio.to_thread(h2load_auth, address, workers[0][1], "C00000007", AUTH_RATE, seconds)
    results = {
        "auth_max": (await saturate(seconds, workers, card), []),
        "auth": await offered_load(seconds, AUTH_RATE, workers, card),
        "pin_auth_max": (await saturate(seconds, workers, pin), []),
        "pin_auth": await offered_load(seconds, AUTH_RATE, workers, pin),
        "password_auth_max": (await saturate(seconds, workers[:20], password), []),
        "password_auth": await offered_load(seconds, PASSWORD_RATE, workers, password),
    }
    tokens = {}
    await admin.AddCard(
        admin_pb2.Card(user=admin_pb2.UserRef(username="rich"), number="RICH"), metadata=admin_md
    )
    for stub, metadata in workers:
        reply = await stub.Authenticate(
            terminal_pb2.AuthenticateRequest(card=terminal_pb2.CardCredential(number="RICH")),
            metadata=metadata,
        )
        tokens[metadata[0][1]] = reply.session_token
    counter = iter(range(10**9))
    line_message = common_pb2.UsageLine(
        function=common_pb2.FUNCTION_COPY, color=common_pb2.COLOR_MODE_MONO, paper_size="A4", pages=1
    )

    async def usage(worker) -> None:  # type: ignore[no-untyped-def]
        stub, metadata = worker
        request = terminal_pb2.ReportUsageRequest(
            session_token=tokens[metadata[0][1]],
            idempotency_key=f"u{next(counter)}",
            lines=[line_message],
            performed=True,
        )
        await stub.ReportUsage(request, metadata=metadata)

    results["usage_max"] = (await saturate(seconds, workers, usage), [])
    results["usage"] = await offered_load(seconds, USAGE_RATE, workers, usage)
    check = await admin.CheckLedger(admin_pb2.Empty(), metadata=admin_md)
    assert check.ok, check.problems
    for channel in channels:
        await channel.close()
    for name in ("auth_max", "pin_auth_max", "password_auth_max", "usage_max"):
        print(f"{name}_rps={results[name][0]:.0f} (saturated, {len(workers)} terminals back to back)")
    print(f"failed_calls={sum(ERRORS.values())} {ERRORS}")
    print(line("pin_auth", *results["pin_auth"]) + f" offered={AUTH_RATE}/s")
    print(line("password_auth", *results["password_auth"]) + f" offered={PASSWORD_RATE}/s")
    auth_rate, auth_ms = results["auth"]
    print(line("python_client_auth", auth_rate, auth_ms) + f" offered={AUTH_RATE}/s (client in Python)")
    if h2load is not None:
        auth_rate, auth_ms = h2load
        print(f"auth load generator: h2load, {H2LOAD_CONNECTIONS} connections, offered {AUTH_RATE}/s")
    usage_rate, usage_ms = results["usage"]
    print(
        f"auth_rps={auth_rate:.0f} auth_p50_ms={statistics.median(auth_ms):.2f} "
        f"auth_p99_ms={percentile(auth_ms, 0.99):.2f} usage_rps={usage_rate:.0f} "
        f"usage_p99_ms={percentile(usage_ms, 0.99):.2f} cores={os.cpu_count()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--terminals", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=1, help="hub processes on the port")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory_name:
        data_dir = Path(directory_name) / "hub"
        data_dir.mkdir()
        seed(data_dir, args.users)
        port = free_tcp_port()
        hub = start_hub(data_dir, port, args.workers)
        try:
            token = (data_dir / "admin-token").read_text().strip()
            asyncio.run(run(f"127.0.0.1:{port}", token, args.users, args.terminals, args.seconds))
        finally:
            hub.terminate()
            hub.wait()


if __name__ == "__main__":
    main()
