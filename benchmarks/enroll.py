"""Enrollment latency: devices enrolling one after another against a hub PKI on loopback.

Each enrollment is what a factory-fresh device does (terminal_app.hub.enrollment): an unverified TLS
handshake to see the server certificate, GetCaCertificate on a channel trusting it, the
fingerprint and chain checks, a new P-256 key and CSR, and Enroll on a channel trusting the
pinned CA; the hub checks the token and CSR, signs, and commits (SQLite, fsync) before answering.
Tokens are made beforehand and are not timed. Run: ``.venv/bin/python benchmarks/enroll.py``.
Last line: ``enroll_p50_ms=… enroll_p99_ms=… enrollments=… cores=…``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hub_server.clock import SystemClock
from hub_server.pki import COMPONENT as PKI
from hub_server.pki import AttemptLimiter
from hub_server.storage import open_database
from terminal_app.hub.enrollment import DeviceEnrollment
from tests.hub_server.pki.rig import running_pki


async def run(count: int, directory: Path) -> list[float]:
    db = open_database(f"sqlite:///{directory / 'hub.db'}", [PKI])
    # One client address enrolls everything here: lift the per-address attempt limit.
    limiter = AttemptLimiter(burst=count + 10, per_minute=60_000)
    try:
        async with running_pki(db, directory / "pki", SystemClock(), limiter=limiter) as rig:
            tokens = [await rig.token("terminal") for _ in range(count)]
            latencies_ms = []
            for index, token in enumerate(tokens):
                device = DeviceEnrollment(directory / "devices" / str(index), "terminal")
                started = time.perf_counter()
                await device.enroll(token)
                latencies_ms.append((time.perf_counter() - started) * 1000)
            return latencies_ms
    finally:
        db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="printgate-enroll-") as directory:
        latencies_ms = asyncio.run(run(arguments.count, Path(directory)))
    percentiles = statistics.quantiles(latencies_ms, n=100, method="inclusive")
    mean_ms, max_ms = statistics.fmean(latencies_ms), max(latencies_ms)
    print(f"enrollments: {len(latencies_ms)}, mean {mean_ms:.1f} ms, max {max_ms:.1f} ms")
    print(
        f"enroll_p50_ms={percentiles[49]:.1f} enroll_p99_ms={percentiles[98]:.1f} "
        f"enrollments={len(latencies_ms)} cores={os.cpu_count()}"
    )


if __name__ == "__main__":
    main()
