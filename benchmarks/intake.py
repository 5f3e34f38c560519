"""Intake throughput, ListJobs latency and release-to-first-byte latency of the print hub.

Part 1, intake: a 100 MB Print-Job over IPP on loopback into the encrypted spool.

The hub side runs in a child process (so its RSS is measured alone): IPP listener, AES-GCM
spool on a temporary directory, in-memory registry, analysis off (it runs in the background
after intake and is not part of the intake path). The client streams the job with chunked
transfer encoding in 1 MiB pieces, as CUPS does.

Part 2, ListJobs: a real ``printgate hub`` process (SQLite, print intake on) over a database
seeded with 20,000 held jobs, 2,000 of them one user's; that user's terminal calls ListJobs
(every job priced at the terminal's printer group) sequentially; client-side latency.

Part 3, release: jobs submitted over IPP to that hub, released one at a time with ReleaseJobs
to a raw 9100 "printer" in this process; latency from sending the request to the first byte of
the job at the printer (after the durable release record, the printer's PJL page counter
asked on the same connection and recorded; no SNMP agent configured: no status query).

Prints per-run figures, medians and p99s, and last: ``intake_mb_s=… intake_rss_growth_mb=…
listjobs_p99_ms=… listjobs_page_p99_ms=… release_first_byte_ms=… cores=…``
(median MB/s; peak RSS growth of the intake process over its idle RSS across all runs; ListJobs
p99 with all the user's jobs in one answer, and with the page the terminal asks for
(``terminal_app.hub.client.LIST_JOBS_PAGE_SIZE``: the figure users feel); release-to-first-byte
median).

Run: ``.venv/bin/python benchmarks/intake.py [--skip-intake] [--small]`` (``--small``: 2,000 held
jobs, 500 of them the user's, 50 calls per figure, 10 releases; the same last line, in about a
minute without the intake part).
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
from dataclasses import dataclass
from functools import partial
from pathlib import Path

JOB_BYTES = 100 * 1024 * 1024
PIECE_BYTES = 1024 * 1024
RUNS = 5
HELD_JOBS = 20_000
USER_JOBS = 2_000
OTHER_USERS = 100
LIST_CALLS = 200
RELEASES = 30
SMALL_PS = b"%!PS\n/Helvetica findfont 24 scalefont setfont 72 700 moveto (bench) show showpage\n"


def _serve(port_file: Path, spool_dir: Path) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from hub_server.intake import InMemoryJobRegistry, IntakeConfig, Spool, SpoolLimits, start_intake

    async def main() -> None:
        spool = Spool(spool_dir, os.urandom(32), limits=SpoolLimits(user_bytes_max=10 * JOB_BYTES * RUNS))
        server = await start_intake(InMemoryJobRegistry(), spool, config=IntakeConfig(analysis=None))
        port_file.write_text(str(server.ipp_port))
        await asyncio.Event().wait()

    asyncio.run(main())


def _ipp_print_job(user: bytes = b"bench", document_format: bytes = b"application/octet-stream") -> bytes:
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
        + attribute(0x42, "requesting-user-name", user)
        + attribute(0x49, "document-format", document_format)
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


def _intake_part() -> tuple[float, float]:
    """Part 1: (median MB/s, RSS growth MB)."""
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
    print(
        f"intake: median={statistics.median(rates):.1f} MB/s p99={_percentile(rates, 0.01):.1f} MB/s"
        " (slowest tail)"
    )
    return statistics.median(rates), growth_mb


@dataclass(frozen=True)
class _Sizes:
    held_jobs: int = HELD_JOBS
    user_jobs: int = USER_JOBS
    list_calls: int = LIST_CALLS
    releases: int = RELEASES


SMALL = _Sizes(held_jobs=2_000, user_jobs=500, list_calls=50, releases=10)


def _seed_jobs(data_dir: Path, sizes: _Sizes) -> None:
    """Users bench, releaser and OTHER_USERS others; held jobs, ``user_jobs`` of them bench's."""
    from hub_server.domain import open_hub_database, users

    db = open_hub_database(f"sqlite:///{data_dir / 'hub.db'}")
    try:
        names = ["bench", "releaser", *(f"user{i}" for i in range(OTHER_USERS))]
        ids = [
            db.write_sync(partial(users.create_user, user=users.UserRecord(username=name), now_us=1))
            for name in names
        ]
        bench_id, others = ids[0], ids[2:]
        now_us = time.time_ns() // 1000
        rows = [
            {
                "owner": bench_id if i < sizes.user_jobs else others[i % len(others)],
                "name": f"document {i}.pdf",
                "created": now_us,
                "expires": now_us + 3_600_000_000,
                "pages": 1 + i % 20,
                "color": i % 3,
                "spool": f"seeded-{i}",
            }
            for i in range(sizes.held_jobs)
        ]
        insert = """INSERT INTO print_jobs (owner_user_id, submitted_by, job_name, document_format, queue,
                source, created_us, expires_us, state, ipp_state, state_reasons, copies, sides, color_mode,
                spool_id, size_bytes, page_count, color_pages, paper_size)
            VALUES (:owner, 'bench', :name, 'application/pdf', 'default', 'ipp', :created, :expires,
                'held', 4, 'job-hold-until-specified', 1, 'one-sided', 'auto', :spool, 100000, :pages,
                :color, 'A4')"""
        for start in range(0, sizes.held_jobs, 2000):

            def batch(tx: object, chunk: list[dict[str, object]] = rows[start : start + 2000]) -> None:
                for row in chunk:
                    tx.execute(insert, row)  # type: ignore[attr-defined]

            db.write_sync(batch)
    finally:
        db.close()


class _FirstByteSink:
    """A raw 9100 printer that answers the hub's PJL questions (``@PJL INFO PAGECOUNT``, ``@PJL
    ECHO``, asked before the job), notes when the job's first byte arrives, then reads to EOF."""

    def __init__(self) -> None:
        self.first_byte_at: list[float] = []
        self.arrived = asyncio.Event()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = b""
        while b"@PJL ECHO" not in head or not head.endswith(b"\n"):
            chunk = await reader.read(65536)
            if not chunk:
                writer.close()
                return
            head += chunk
        writer.write(b"@PJL INFO PAGECOUNT\r\n0\r\n\x0c")
        echo = head[head.index(b"@PJL ECHO") :].split(b"\n", 1)[0].rstrip(b"\r")
        writer.write(echo + b"\r\n\x0c")
        await writer.drain()
        if await reader.read(65536):  # the job follows the answered questions
            self.first_byte_at.append(time.perf_counter())
            self.arrived.set()
        while await reader.read(65536):
            pass
        writer.close()


async def _hub_parts(folder: Path, sizes: _Sizes) -> tuple[float, float, float]:
    """Parts 2 and 3: (ListJobs p99 ms all jobs, the same for the terminal's page,
    release-to-first-byte median ms)."""
    import grpc
    from printgate.v1 import admin_pb2, admin_pb2_grpc, terminal_pb2, terminal_pb2_grpc

    from terminal_app.hub.client import LIST_JOBS_PAGE_SIZE
    from terminal_app.hub.enrollment import DeviceEnrollment
    from tests.conftest import free_tcp_port

    data_dir = folder / "hub"
    data_dir.mkdir()
    _seed_jobs(data_dir, sizes)
    sink = _FirstByteSink()
    printer = await asyncio.start_server(sink.handle, "127.0.0.1", 0)
    printer_port = printer.sockets[0].getsockname()[1]
    ipp_port, grpc_port, admin_port = free_tcp_port(), free_tcp_port(), free_tcp_port()
    config = folder / "hub.toml"
    config.write_text(f'[print]\nipp_listen = "127.0.0.1:{ipp_port}"\n')
    ready = folder / "ready"
    command = [sys.executable, "-m", "printgate_cli", "hub", "--data-dir", str(data_dir)]
    command += ["--listen", f"127.0.0.1:{grpc_port}", "--admin-listen", f"127.0.0.1:{admin_port}"]
    command += ["--config", str(config), "--ready-file", str(ready)]
    command += ["--log-level", "WARNING"]
    hub = subprocess.Popen(command, stdout=subprocess.DEVNULL, cwd=Path(__file__).resolve().parents[1])
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            if time.monotonic() > deadline or hub.poll() is not None:
                raise RuntimeError("hub did not start")
            await asyncio.sleep(0.05)
        admin_channel = grpc.aio.secure_channel(
            f"127.0.0.1:{admin_port}", grpc.ssl_channel_credentials((data_dir / "hub-ca.pem").read_bytes())
        )
        admin = admin_pb2_grpc.AdminServiceStub(admin_channel)
        auth = (("authorization", f"Bearer {(data_dir / 'admin-token').read_text().strip()}"),)
        await admin.UpsertPrinter(
            admin_pb2.Printer(name="p", address=f"127.0.0.1:{printer_port}", transport="raw9100"),
            metadata=auth,
        )
        enrollment = admin_pb2.CreateEnrollmentTokenRequest(
            kind=admin_pb2.TERMINAL_KIND_TERMINAL, printer="p", terminal_id="t"
        )
        token_text = (await admin.CreateEnrollmentToken(enrollment, metadata=auth)).token
        credentials = await DeviceEnrollment(folder / "terminal", "terminal").enroll(token_text)
        anchor, key, chain = credentials.channel_material()
        channel = grpc.aio.secure_channel(
            f"127.0.0.1:{grpc_port}", grpc.ssl_channel_credentials(anchor, key, chain)
        )
        for user, card in (("bench", "BENCH"), ("releaser", "RELEASER")):
            await admin.AddCard(
                admin_pb2.Card(user=admin_pb2.UserRef(username=user), number=card), metadata=auth
            )
        stub = terminal_pb2_grpc.TerminalServiceStub(channel)
        meta: tuple[tuple[str, str], ...] = ()  # the terminal's certificate names it

        async def token(card: str) -> str:
            reply = await stub.Authenticate(
                terminal_pb2.AuthenticateRequest(card=terminal_pb2.CardCredential(number=card)), metadata=meta
            )
            return str(reply.session_token)

        bench = await token("BENCH")
        figures = {}
        page = min(LIST_JOBS_PAGE_SIZE, sizes.user_jobs)
        for page_size, wanted in ((0, sizes.user_jobs), (LIST_JOBS_PAGE_SIZE, page)):
            latencies = []
            for _ in range(sizes.list_calls):
                start = time.perf_counter()
                request = terminal_pb2.ListJobsRequest(session_token=bench, page_size=page_size)
                reply = await stub.ListJobs(request, metadata=meta)
                latencies.append((time.perf_counter() - start) * 1000)
                assert len(reply.jobs) == wanted, len(reply.jobs)
            figures[page_size] = _percentile(latencies, 0.99)
            print(
                f"listjobs ({wanted} jobs in one answer; {sizes.user_jobs} of {sizes.held_jobs} held jobs"
                f" are the user's): median={statistics.median(latencies):.1f} ms"
                f" p99={figures[page_size]:.1f} ms"
            )
        for _ in range(sizes.releases):
            await asyncio.to_thread(_submit_small, ipp_port)
        releaser = await token("RELEASER")
        listed = await stub.ListJobs(terminal_pb2.ListJobsRequest(session_token=releaser), metadata=meta)
        first_bytes = []
        for job in listed.jobs:
            sink.arrived.clear()
            start = time.perf_counter()
            release = terminal_pb2.ReleaseJobsRequest(
                session_token=releaser,
                jobs=[terminal_pb2.JobRelease(job_id=job.id)],
                idempotency_key=f"bench-{job.id}",
            )
            states = [p.state async for p in stub.ReleaseJobs(release, metadata=meta)]
            assert states[-1] == terminal_pb2.RELEASE_STATE_PRINTED, states
            await asyncio.wait_for(sink.arrived.wait(), 10)
            first_bytes.append((sink.first_byte_at[-1] - start) * 1000)
        print(
            f"release to first byte ({len(first_bytes)} jobs): median={statistics.median(first_bytes):.1f} ms"
            f" p99={_percentile(first_bytes, 0.99):.1f} ms"
        )
        await channel.close()
        await admin_channel.close()
    finally:
        hub.terminate()
        hub.wait(10)
        printer.close()
    return figures[0], figures[LIST_JOBS_PAGE_SIZE], statistics.median(first_bytes)


def _submit_small(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        body = _ipp_print_job(b"releaser", b"application/postscript") + SMALL_PS
        connection.sendall(
            b"POST /ipp/print HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/ipp\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
        )
        response = b""
        while b"\r\n\r\n" not in response:
            response += connection.recv(65536)
    if not response.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(f"submission failed: {response[:80]!r}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", nargs=2, metavar=("PORT_FILE", "SPOOL_DIR"), help=argparse.SUPPRESS)
    parser.add_argument("--skip-intake", action="store_true", help="only the ListJobs and release parts")
    parser.add_argument("--small", action="store_true", help="fewer jobs and calls (see the docstring)")
    args = parser.parse_args()
    if args.serve:
        _serve(Path(args.serve[0]), Path(args.serve[1]))
        return 0
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    rate, growth_mb = (float("nan"), float("nan")) if args.skip_intake else _intake_part()
    with tempfile.TemporaryDirectory(prefix="pg-release-bench-") as folder:
        list_p99_ms, page_p99_ms, first_byte_ms = asyncio.run(
            _hub_parts(Path(folder), SMALL if args.small else _Sizes())
        )
    cores = os.cpu_count() or 1
    print(
        f"intake_mb_s={rate:.1f} intake_rss_growth_mb={growth_mb:.1f} listjobs_p99_ms={list_p99_ms:.1f}"
        f" listjobs_page_p99_ms={page_p99_ms:.1f} release_first_byte_ms={first_byte_ms:.1f} cores={cores}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
