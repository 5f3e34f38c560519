"""Intake throughput: a 100 MB Print-Job over IPP on loopback into the encrypted spool.

The hub side runs in a child process (so its RSS is measured alone): IPP listener, AES-GCM
spool on a temporary directory, in-memory registry, analysis off (it runs in the background
after intake and is not part of the intake path). The client streams the job with chunked
transfer encoding in 1 MiB pieces, as CUPS does.

Prints per-run figures, the median and p99, and last:
``intake_mb_s=… intake_rss_growth_mb=… cores=…`` (median MB/s; peak RSS growth of the hub
process over its idle RSS across all runs).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

JOB_BYTES = 100 * 1024 * 1024
PIECE_BYTES = 1024 * 1024
RUNS = 5


def _serve(port_file: Path, spool_dir: Path) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from hub_server.intake import InMemoryJobRegistry, IntakeConfig, Spool, SpoolLimits, start_intake

    async def main() -> None:
        spool = Spool(spool_dir, os.urandom(32), limits=SpoolLimits(user_bytes_max=10 * JOB_BYTES * RUNS))
        server = await start_intake(InMemoryJobRegistry(), spool, config=IntakeConfig(analysis=None))
        port_file.write_text(str(server.ipp_port))
        await asyncio.Event().wait()

    asyncio.run(main())


def _ipp_print_job() -> bytes:
    def attribute(tag: int, name: str, value: bytes) -> bytes:
        return (
            bytes([tag])
            + struct.pack(">H", len(name))
            + name.encode()
            + struct.pack(">H", len(value))
            + value
        )

    return (
        b"\x02\x00\x00\x02\x00\x00\x00\x01\x01"
        + attribute(0x47, "attributes-charset", b"utf-8")
        + attribute(0x48, "attributes-natural-language", b"en")
        + attribute(0x45, "printer-uri", b"ipp://127.0.0.1/ipp/print")
        + attribute(0x42, "requesting-user-name", b"bench")
        + attribute(0x49, "document-format", b"application/octet-stream")
        + b"\x03"
    )


def _upload(port: int, piece: bytes) -> float:
    """Send one 100 MB job; return the seconds from first byte to the IPP response."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as connection:
        start = time.perf_counter()
        connection.sendall(
            b"POST /ipp/print HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/ipp\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        header = _ipp_print_job()
        connection.sendall(b"%x\r\n%s\r\n" % (len(header), header))
        framed = b"%x\r\n%s\r\n" % (len(piece), piece)
        for _ in range(JOB_BYTES // len(piece)):
            connection.sendall(framed)
        connection.sendall(b"0\r\n\r\n")
        response = b""
        while b"\r\n\r\n" not in response:
            response += connection.recv(65536)
        elapsed = time.perf_counter() - start
    if not response.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(f"upload failed: {response[:80]!r}")
    return elapsed


def _rss_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not in /proc/{pid}/status")


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", nargs=2, metavar=("PORT_FILE", "SPOOL_DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        _serve(Path(args.serve[0]), Path(args.serve[1]))
        return 0
    with tempfile.TemporaryDirectory(prefix="pg-intake-bench-") as folder:
        port_file = Path(folder) / "port"
        server = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(port_file), str(Path(folder) / "spool")]
        )
        try:
            deadline = time.monotonic() + 30
            while not port_file.exists() or not port_file.read_text():
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("intake server did not start")
                time.sleep(0.05)
            port = int(port_file.read_text())
            piece = b"%PDF-1.7\n" + os.urandom(PIECE_BYTES - 9)
            idle_rss_mb = _rss_mb(server.pid, "VmRSS")
            rates = []
            for run in range(RUNS):
                seconds = _upload(port, piece)
                rates.append(JOB_BYTES / 1e6 / seconds)
                print(f"run {run + 1}: {rates[-1]:.1f} MB/s ({seconds:.2f} s)", flush=True)
            growth_mb = _rss_mb(server.pid, "VmHWM") - idle_rss_mb
        finally:
            server.terminate()
            server.wait(10)
    cores = os.cpu_count() or 1
    print(
        f"median={statistics.median(rates):.1f} MB/s p99={_percentile(rates, 0.01):.1f} MB/s (slowest tail)"
    )
    print(f"intake_mb_s={statistics.median(rates):.1f} intake_rss_growth_mb={growth_mb:.1f} cores={cores}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
