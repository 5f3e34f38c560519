"""MFP adapter benchmark: probe latency, polling 100 devices, release throughput over 9100.

Run: ``.venv/bin/python benchmarks/mfp.py``. The simulated MFPs run in a child process
(their own event loop and CPU), the adapters in this one, all on loopback.

* probe: one full probe (identity, counters, status, supplies, paper trays) of one simulated Kyocera,
  with a warm pysnmp engine (its one-off ~0.7 s warm-up is excluded); median and p99.
* poll100: ``MfpSnmp.poll()`` (counters + status) of 100 simulated devices concurrently,
  one shared engine.
* release: a 64 MiB job streamed over raw 9100 with PJL rewrite and USTATUS feedback;
  the peak resident-memory growth shows the send is bounded.

Last line: ``probe_ms=… poll100_s=… release_mb_s=… cores=…``.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pysnmp.hlapi.v3arch.asyncio import SnmpEngine

from hw_sim.mfp import MfpSimServer
from mfp_adapters.device import MfpSnmp
from mfp_adapters.pjl import UEL
from mfp_adapters.release import Raw9100Transport
from mfp_adapters.snmp import CommunityAuth, SnmpClient

DEVICES = 100
PROBES = 40
POLL_ROUNDS = 5
RELEASE_MIB = 64


def _serve(count: int, conn) -> None:  # type: ignore[no-untyped-def]
    async def main() -> None:
        servers = [MfpSimServer("kyocera") for _ in range(count)]
        for server in servers:
            await server.start()
            server.device.copy(3, color=True)
        conn.send([(s.snmp_port, s.raw_port) for s in servers])
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)
        for server in servers:
            await server.stop()

    asyncio.run(main())


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


async def bench(ports: list[tuple[int, int]]) -> tuple[float, float, float]:
    engine = SnmpEngine()
    auth = CommunityAuth("public")
    snmp_port, raw_port = ports[0]
    async with SnmpClient("127.0.0.1", snmp_port, auth, engine=engine) as warm:
        await MfpSnmp(warm).identify()
    probe_ms = []
    for _ in range(PROBES):
        started = time.perf_counter()
        async with SnmpClient("127.0.0.1", snmp_port, auth, engine=engine) as client:
            await MfpSnmp(client).probe()
        probe_ms.append((time.perf_counter() - started) * 1000)
    print(f"probe: median {statistics.median(probe_ms):.1f} ms  p99 {_p99(probe_ms):.1f} ms  (n={PROBES})")

    # A poller keeps one client per device; the first round also sets up 100 targets.
    readers = [
        MfpSnmp(SnmpClient("127.0.0.1", snmp, auth, engine=engine, timeout_s=5.0)) for snmp, _ in ports
    ]
    poll_s = []
    for _ in range(POLL_ROUNDS + 1):
        started = time.perf_counter()
        await asyncio.gather(*(reader.poll() for reader in readers))
        poll_s.append(time.perf_counter() - started)
    first, poll_s = poll_s[0], poll_s[1:]
    print(
        f"poll{len(ports)}: median {statistics.median(poll_s):.2f} s  p99 {_p99(poll_s):.2f} s  "
        f"(n={POLL_ROUNDS}; first round with target set-up {first:.2f} s)"
    )
    engine.close_dispatcher()

    async def job():  # type: ignore[no-untyped-def]
        yield UEL + b"@PJL\r\n@PJL ENTER LANGUAGE=PCL\r\n"
        block = b"x" * 65535 + b"\x0c"  # one page per 64 KiB keeps the toner model alive
        for _ in range(RELEASE_MIB * 16):
            yield block

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rates = []
    for _ in range(3):
        started = time.perf_counter()
        result = await Raw9100Transport("127.0.0.1", raw_port, end_timeout_s=60).send(job(), "bench")
        rates.append(result.bytes_sent / (time.perf_counter() - started) / 1e6)
        assert result.pages_reported == RELEASE_MIB * 16, result
    growth_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    print(
        f"release 9100: median {statistics.median(rates):.0f} MB/s  worst {min(rates):.0f} MB/s  "
        f"(n=3 x {RELEASE_MIB} MiB, peak RSS growth {growth_mb:.1f} MiB)"
    )
    return statistics.median(probe_ms), statistics.median(poll_s), statistics.median(rates)


def main() -> int:
    parent, child = multiprocessing.Pipe()
    simulators = multiprocessing.get_context("spawn").Process(target=_serve, args=(DEVICES, child))
    simulators.start()
    try:
        ports = parent.recv()
        probe_ms, poll_s, release = asyncio.run(bench(ports))
    finally:
        parent.send("stop")
        simulators.join(timeout=30)
    print(f"probe_ms={probe_ms:.1f} poll100_s={poll_s:.2f} release_mb_s={release:.0f} cores={os.cpu_count()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
