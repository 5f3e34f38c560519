"""Web console speed: the dashboard, user search as you type and a month's report, with 100,000
users and 1,000,000 usage records, on SQLite and on PostgreSQL.

The data set is bulk-loaded straight into a freshly migrated hub database (executemany on
SQLite, COPY on PostgreSQL; not timed): 100 departments, 100,000 users with a card each, 20
printers with a terminal each, and usage records (a ``usage`` transaction with its usage line:
print or copy, mono or colour, simplex or duplex, 1-20 pages) spread evenly over the 365 days
before now. Usage records are what the console's pages read; their ledger entries are not (the
ledger has its own benchmark in ``hub_rpc.py``), so they are left out to keep the load fast.

A real hub process then serves the console on loopback (plain HTTP: TLS would measure the
cipher, not the console), and N concurrent admins (default 20, each its own browser session,
logged in first) loop for ``--seconds``: the dashboard, then a search typed letter by letter
(``/console/api/users?q=u``, ``us``, ... as the page's script asks). The dashboard is served as
shipped, with its figures cached for ``dashboard_cache_s`` (15 s); the uncached computation is
printed on its own line too. Then one admin opens last month's usage report by user
(``report_month_s``: the whole page, every row computed with its chart, totals and the ledger
check), and exports it as CSV and XLSX (``export_csv_s``, ``export_xlsx_s`` on the backend's
line).

Run: ``.venv/bin/python benchmarks/web.py [--users 100000] [--records 1000000] [--admins 20]
[--seconds 20] [--backend both|sqlite|postgresql]``. One line per backend, then the headline
(the worse of the two backends for each figure):

    web_dashboard_p95_ms=… user_search_p95_ms=… report_month_s=… cores=…
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from printgate.v1 import admin_pb2, admin_pb2_grpc

from hub_server.domain import open_hub_database
from hub_server.domain.reports import dashboard
from hub_server.domain.store import Store
from hub_server.server import HUB_CA_FILE
from tests.conftest import free_tcp_port
from tests.hub_server.devices import admin_channel
from tests.services import PostgresServer

BATCH = 50_000
DEPARTMENTS = 100
PRINTERS = 20
PRINTER_IDS = range(1, PRINTERS + 1)
DAY_US = 86_400_000_000
PASSWORD = "benchmark admin password"
LOGIN_TOKEN = re.compile(r'name="login_token" value="([^"]+)"')
FIRST_NAMES = ("Anna", "Ben", "Clara", "David", "Eva", "Felix", "Greta", "Hugo", "Ida", "Jonas")
TYPED = ("user0", "user12", "anna", "mayer", "felix.b", "user09999", "gre", "jonas s")


# -- the data set ---------------------------------------------------------------------------------


def _users(count: int, now_us: int) -> Iterator[tuple[Any, ...]]:
    for i in range(1, count + 1):
        first = FIRST_NAMES[i % len(FIRST_NAMES)]
        last = f"Mayer{i}" if i % 3 == 0 else f"Schmidt{i}"
        yield (
            i,
            f"user{i:06d}",
            f"{first} {last}",
            f"{first.lower()}.{last.lower()}@example.test",
            1 + i % DEPARTMENTS,
            now_us,
        )


def _cards(count: int) -> Iterator[tuple[Any, ...]]:
    for i in range(1, count + 1):
        yield (i, i, f"{0x10000000 + i:08X}", "badge", 0)


def _records(count: int, users: int, now_us: int) -> Iterator[tuple[tuple[Any, ...], tuple[Any, ...]]]:
    """(transaction, usage line) pairs, evenly over the year before ``now_us``."""
    rng = random.Random(16)
    span_us = 365 * DAY_US
    for i in range(1, count + 1):
        recorded_us = now_us - span_us + (span_us * i) // (count + 1)
        function = "print" if rng.random() < 0.7 else "copy"
        color = "color" if rng.random() < 0.25 else "mono"
        duplex = int(rng.random() < 0.5)
        pages = rng.randint(1, 20)
        unit = 50 if color == "color" else 10
        terminal = f"terminal-{1 + i % PRINTERS:02d}"
        yield (
            (i, "usage", rng.randint(1, users), terminal, recorded_us, recorded_us),
            (i, function, color, "A4", duplex, pages, unit, pages * unit),
        )


USER_COLUMNS = "id, username, full_name, email, department_id, created_us"
CARD_COLUMNS = "id, user_id, number, label, created_us"
TRANSACTION_COLUMNS = "id, kind, user_id, terminal_id, occurred_us, recorded_us"
MARKS = {n: ", ".join("?" * n) for n in (5, 6, 8)}
LINE_COLUMNS = "transaction_id, function, color, paper_size, duplex, pages, unit_price_cents, amount_cents"


def _fixed_rows(now_us: int) -> dict[str, tuple[str, list[tuple[Any, ...]]]]:
    return {
        "user_groups": (
            "id, name, kind",
            [(d, f"Department {d:03d}", "department") for d in range(1, DEPARTMENTS + 1)],
        ),
        "printers": (
            "id, name, location",
            [(p, f"printer-{p:02d}", f"Floor {p}") for p in range(1, PRINTERS + 1)],
        ),
        "terminals": (
            "id, kind, printer_id, key_sha256, created_us",
            [
                (f"terminal-{p:02d}", "terminal", p, secrets.token_hex(32), now_us)
                for p in range(1, PRINTERS + 1)
            ],
        ),
    }


def _chunks(rows: Iterator[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def load_sqlite(path: Path, users: int, records: int, now_us: int) -> None:
    """Bulk-load the data set into a migrated SQLite hub database."""
    open_hub_database(f"sqlite:///{path}").close()
    connection = sqlite3.connect(path)
    with connection:
        for table, (columns, rows) in _fixed_rows(now_us).items():
            marks = ", ".join("?" * len(rows[0]))
            connection.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)
        for rows in _chunks(_users(users, now_us), BATCH):
            connection.executemany(f"INSERT INTO users ({USER_COLUMNS}) VALUES ({MARKS[6]})", rows)
        for rows in _chunks(_cards(users), BATCH):
            connection.executemany(f"INSERT INTO cards ({CARD_COLUMNS}) VALUES ({MARKS[5]})", rows)
    for pairs in _chunks(_records(records, users, now_us), BATCH):
        with connection:
            connection.executemany(
                f"INSERT INTO transactions ({TRANSACTION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
                [p[0] for p in pairs],
            )
            connection.executemany(
                f"INSERT INTO usage_lines ({LINE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [p[1] for p in pairs],
            )
    connection.execute("ANALYZE")
    connection.close()


def load_postgres(url: str, users: int, records: int, now_us: int) -> None:
    """Bulk-load the data set into a migrated PostgreSQL hub database (COPY)."""
    open_hub_database(url).close()
    with psycopg.connect(url) as connection, connection.cursor() as cursor:
        fixed = _fixed_rows(now_us)
        loads: list[tuple[str, str, Iterator[Any]]] = [
            *((table, columns, iter(rows)) for table, (columns, rows) in fixed.items()),
            ("users", USER_COLUMNS, _users(users, now_us)),
            ("cards", CARD_COLUMNS, _cards(users)),
        ]
        for table, columns, rows in loads:
            with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        lines: list[tuple[Any, ...]] = []
        with cursor.copy(f"COPY transactions ({TRANSACTION_COLUMNS}) FROM STDIN") as copy:
            for transaction, line in _records(records, users, now_us):
                copy.write_row(transaction)
                lines.append(line)
        with cursor.copy(f"COPY usage_lines ({LINE_COLUMNS}) FROM STDIN") as copy:
            for line in lines:
                copy.write_row(line)
        for table in ("user_groups", "printers", "users", "cards", "transactions"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"
            )
        connection.commit()
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("ANALYZE")


# -- the hub and its admins -----------------------------------------------------------------------


@dataclass
class Hub:
    """A hub process serving the console on loopback."""

    process: subprocess.Popen[bytes]
    web: str


def start_hub(directory: Path, database: str) -> Hub:
    grpc_port, admin_port, web_port = free_tcp_port(), free_tcp_port(), free_tcp_port()
    config = directory / "hub.toml"
    config.write_text(
        f'[hub]\nlisten = "127.0.0.1:{grpc_port}"\nadmin_listen = "127.0.0.1:{admin_port}"\n'
        f'data_dir = "{directory / "hub"}"\n'
        f'database = "{database}"\n'
        f'[web]\nlisten = "127.0.0.1:{web_port}"\nplain_http = true\nlogins_per_minute = 1000\n'
    )
    ready = directory / "hub.ready"
    process = subprocess.Popen(
        [sys.executable, "-m", "printgate_cli", "hub", "--config", str(config), "--ready-file", str(ready)],
        stdout=(directory / "hub.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 120
    while not ready.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError((directory / "hub.log").read_text()[-2000:])
        time.sleep(0.1)
    token = (directory / "hub" / "admin-token").read_text().strip()

    async def first_admin() -> None:
        ca_file = directory / "hub" / HUB_CA_FILE  # the admin port is TLS, pinned to the hub's CA
        async with admin_channel(f"127.0.0.1:{admin_port}", ca_file) as channel:
            await admin_pb2_grpc.AdminServiceStub(channel).CreateConsoleUser(
                admin_pb2.CreateConsoleUserRequest(username="bench", role="admin", password=PASSWORD),
                metadata=(("authorization", f"Bearer {token}"),),
                timeout=30,
            )

    asyncio.run(first_admin())
    return Hub(process, f"http://127.0.0.1:{web_port}")


async def logged_in(base: str) -> aiohttp.ClientSession:
    """A browser-like session of the benchmark's admin."""
    # the cookies are Secure; a browser sends them to loopback over HTTP too, and so does this jar
    jar = aiohttp.CookieJar(unsafe=True, treat_as_secure_origin=[base])
    session = aiohttp.ClientSession(cookie_jar=jar)
    async with session.get(f"{base}/console/login") as reply:
        found = LOGIN_TOKEN.search(await reply.text())
    assert found is not None, "no login form"
    form = {"login_token": found.group(1), "username": "bench", "password": PASSWORD}
    async with session.post(f"{base}/console/login", data=form, headers={"Origin": base}) as reply:
        page = await reply.text()
        if reply.status != 200 or "Dashboard" not in page:
            raise RuntimeError(f"login failed: HTTP {reply.status}")
    return session


async def timed_get(session: aiohttp.ClientSession, url: str, expect: str) -> float:
    started = time.perf_counter()
    async with session.get(url) as reply:
        body = await reply.read()
    elapsed_ms = (time.perf_counter() - started) * 1000
    if reply.status != 200 or expect.encode() not in body:
        raise RuntimeError(f"{url}: HTTP {reply.status}")
    return elapsed_ms


async def admin_loop(
    base: str, session: aiohttp.ClientSession, until: float, dashboards: list[float], searches: list[float]
) -> None:
    rng = random.Random(id(session))
    while time.monotonic() < until:
        dashboards.append(await timed_get(session, f"{base}/console/", "Dashboard"))
        word = rng.choice(TYPED)
        for typed in range(1, len(word) + 1):
            query = word[:typed]
            searches.append(await timed_get(session, f"{base}/console/api/users?q={query}", "["))


async def drive(
    base: str, admins: int, seconds: float, exports: dict[str, float]
) -> tuple[list[float], list[float], float]:
    sessions = [await logged_in(base) for _ in range(admins)]
    try:
        dashboards: list[float] = []
        searches: list[float] = []
        until = time.monotonic() + seconds
        await asyncio.gather(*(admin_loop(base, s, until, dashboards, searches) for s in sessions))
        last = (datetime.now(UTC).date().replace(day=1)) - timedelta(days=1)
        query = f"kind=usage&by=user&first={last.replace(day=1).isoformat()}&last={last.isoformat()}"
        report_ms = await timed_get(sessions[0], f"{base}/console/reports?{query}", "</svg>")
        for fmt, magic in (("csv", ","), ("xlsx", "PK")):
            exports[fmt] = (
                await timed_get(sessions[0], f"{base}/console/reports/export?{query}&format={fmt}", magic)
                / 1000
            )
        return dashboards, searches, report_ms / 1000
    finally:
        for session in sessions:
            await session.close()


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


def uncached_dashboard_ms(url: str, now_us: int) -> float:
    database = open_hub_database(url)
    try:
        started = time.perf_counter()
        Store(database).read(lambda tx: dashboard(tx, now_us, "UTC"))
        return (time.perf_counter() - started) * 1000
    finally:
        database.close()


def run_backend(name: str, url: str, directory: Path, args: argparse.Namespace) -> tuple[float, float, float]:
    now_us = time.time_ns() // 1000
    started = time.perf_counter()
    if name == "sqlite":
        load_sqlite(Path(url.removeprefix("sqlite:///")), args.users, args.records, now_us)
    else:
        load_postgres(url, args.users, args.records, now_us)
    load_s = time.perf_counter() - started
    uncached_ms = uncached_dashboard_ms(url, now_us)
    hub = start_hub(directory, url)
    try:
        exports: dict[str, float] = {}
        dashboards, searches, report_s = asyncio.run(drive(hub.web, args.admins, args.seconds, exports))
    finally:
        hub.process.terminate()
        hub.process.wait(30)
    figures = (p95(dashboards), p95(searches), report_s)
    print(
        f"{name}: users={args.users} records={args.records} load_s={load_s:.1f} admins={args.admins} "
        f"dashboards={len(dashboards)} dashboard_p95_ms={figures[0]:.1f} "
        f"dashboard_uncached_ms={uncached_ms:.1f} searches={len(searches)} search_p95_ms={figures[1]:.1f} "
        f"report_month_s={report_s:.2f} export_csv_s={exports['csv']:.2f} "
        f"export_xlsx_s={exports['xlsx']:.2f}",
        flush=True,
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--admins", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--backend", choices=("both", "sqlite", "postgresql"), default="both")
    args = parser.parse_args()
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    results = []
    with tempfile.TemporaryDirectory(prefix="printgate-bench-web-") as scratch:
        for name in backends:
            directory = Path(scratch) / name
            directory.mkdir()
            if name == "sqlite":
                results.append(run_backend(name, f"sqlite:///{directory / 'hub.db'}", directory, args))
                continue
            server = PostgresServer(Path(tempfile.mkdtemp(prefix="printgate-bench-pg-")))
            try:
                server.start()
                results.append(run_backend(name, server.new_database(), directory, args))
            finally:
                server.stop()
                shutil.rmtree(server.directory, ignore_errors=True)
    dashboard_ms, search_ms, report_s = (max(r[i] for r in results) for i in range(3))
    print(
        f"web_dashboard_p95_ms={dashboard_ms:.1f} user_search_p95_ms={search_ms:.1f} "
        f"report_month_s={report_s:.2f} cores={os.cpu_count()}"
    )


if __name__ == "__main__":
    main()
