"""Scale-out and failover: simulated terminals against one, then two hub replicas on PostgreSQL,
then a replica killed with -9 and the database primary killed with -9 and its standby promoted.

A PostgreSQL primary with a synchronous streaming standby, and ``printgate hub`` processes
sharing it through one URL naming both servers. Each simulated terminal (an asyncio task; many
share one gRPC channel) runs a morning-peak cycle back to back: card login (Authenticate), job
list (ListJobs), a metered copy (ReportUsage, 1 page, 1 cent, with its idempotency key), logout.
So the request mix is 1 : 1 : 1 : 1, and a login is a quarter of the calls. Between two cycles a
terminal waits ``--think-s`` on average (uniform between 0 and twice that; 0: back to back): at
a morning peak a terminal sees a user every minute or two, so ``--think-s 60`` offers
``terminals / 60`` logins per second.

The terminals dial like the real terminal client: one channel over every replica, round robin
over the healthy ones, the calls it may repeat retried by the channel on another replica
(``terminal_app.hub.channel.CHANNEL_OPTIONS``, ``printgate.hub_targets``). A call that still
fails reaches the "user": it is counted as a user-visible failure and tried again after a short
pause (a user tapping again; a usage report repeated with its key, as the journal does).

Phases: ``--seconds`` with one replica (``auth_rps_1``: logins per second), the same with two
(``auth_rps_2``, terminals split evenly), then, with two replicas, replica A killed with -9
(``failover_replica_s``: the longest a terminal waited for an answer, the channel's retries and
the terminal's repeats included), then the primary killed with -9
and the standby promoted (``failover_db_s``: the longest a terminal's copy could not be recorded,
promotion included). Finally every copy is replayed with its key and the books are counted:
``lost_cents`` (acknowledged copies not charged) and ``doubled_cents`` (charged more than once).

Run: ``.venv/bin/python benchmarks/scale.py [--terminals 5000] [--seconds 10] [--think-s 60]``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from printgate.hub_targets import balanced_target
from printgate.v1 import common_pb2, terminal_pb2, terminal_pb2_grpc

from hub_server.domain import open_hub_database
from hub_server.domain import users as directory
from hub_server.domain.cards import add_card
from hub_server.domain.devices import TerminalRecord, create_terminal
from hub_server.domain.pricing import PriceRecord, set_price
from hub_server.domain.security import load_or_create_secret
from hub_server.storage import Tx
from terminal_app.hub.channel import CHANNEL_OPTIONS
from tests.conftest import free_tcp_port
from tests.hub_server.processes import HubProcess
from tests.services import PostgresServer

TERMINALS_PER_CHANNEL = 50
CALL_TIMEOUT_S = 5.0
RETRY_PAUSE_S = 0.05
SYNCHRONOUS = "SELECT 1 FROM pg_stat_replication WHERE application_name = 'standby' AND sync_state = 'sync'"


@dataclass
class Terminal:
    """One simulated terminal: its identity, its card, the replicas it knows, what it did."""

    terminal_id: str
    key: str
    card: str
    stub: terminal_pb2_grpc.TerminalServiceStub
    copies: int = 0  # acknowledged copy reports
    logins: int = 0
    longest_gap_s: float = 0.0
    sent_keys: list[str] = field(default_factory=list)
    failures: int = 0  # calls that failed even after the channel's own retries

    @property
    def metadata(self) -> tuple[tuple[str, str], ...]:
        return (("x-printgate-terminal-id", self.terminal_id), ("x-printgate-terminal-key", self.key))

    async def call(self, method: str, request: object) -> object:
        """``method`` over the balanced channel; a failure the channel did not mend is counted
        and the call made again (same request, same key) until answered. ``longest_gap_s``
        keeps the longest a call waited for its answer, retries and repeats included."""
        asked = time.monotonic()
        while True:
            try:
                reply = await getattr(self.stub, method)(
                    request, metadata=self.metadata, timeout=CALL_TIMEOUT_S
                )
            except grpc.aio.AioRpcError as error:
                if error.code() not in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                    raise
                self.failures += 1
                await asyncio.sleep(RETRY_PAUSE_S)
                continue
            self.longest_gap_s = max(self.longest_gap_s, time.monotonic() - asked)
            return reply

    async def cycle(self) -> None:
        """Login, job list, one metered copy page, logout."""
        login = await self.call(
            "Authenticate",
            terminal_pb2.AuthenticateRequest(card=terminal_pb2.CardCredential(number=self.card)),
        )
        token = login.session_token  # type: ignore[attr-defined]
        self.logins += 1
        await self.call("ListJobs", terminal_pb2.ListJobsRequest(session_token=token))
        key = f"{self.terminal_id}-copy-{len(self.sent_keys)}"
        self.sent_keys.append(key)
        await self.call("ReportUsage", _copy(token, key))
        self.copies += 1
        await self.call("Logout", terminal_pb2.LogoutRequest(session_token=token))


def _copy(token: str, key: str) -> terminal_pb2.ReportUsageRequest:
    line = common_pb2.UsageLine(
        function=common_pb2.FUNCTION_COPY, color=common_pb2.COLOR_MODE_MONO, paper_size="A4", pages=1
    )
    return terminal_pb2.ReportUsageRequest(
        session_token=token, idempotency_key=key, lines=[line], performed=True
    )


def seed(url: str, secret_dir: Path, count: int) -> list[tuple[str, str, str]]:
    """Users, cards and terminals (id, key, card), a 1-cent copy price."""
    load_or_create_secret(secret_dir / "hub-secret")
    db = open_hub_database(url)

    def batch(tx: Tx) -> list[tuple[str, str, str]]:
        made = []
        for index in range(count):
            user_id = directory.create_user(tx, directory.UserRecord(username=f"u{index}"), 0)
            add_card(tx, user_id, f"C{index:08X}", "", 0)
            key = create_terminal(tx, TerminalRecord(id=f"t{index}"), 0)
            made.append((f"t{index}", key, f"C{index:08X}"))
        set_price(tx, PriceRecord("copy", "mono", 1))
        return made

    try:
        return db.write_sync(batch)
    finally:
        db.close()


def replica(root: Path, name: str, url: str, secret_dir: Path) -> HubProcess:
    """A ``printgate hub`` on ``url`` with the shared hub secret, started."""
    data_dir = root / name
    data_dir.mkdir()
    shutil.copy2(secret_dir / "hub-secret", data_dir / "hub-secret")
    config = root / f"{name}.toml"
    # Development plaintext (terminals named by id + key metadata): this measures replicas and
    # failover, not TLS; benchmarks/tls.py measures what TLS costs.
    config.write_text(
        f'[hub]\ndatabase = "{url}"\ndev_plaintext = true\n'
        f'[print]\nipp_listen = "127.0.0.1:{free_tcp_port()}"\n'
    )
    process = HubProcess(data_dir, free_tcp_port(), config)
    process.start()
    return process


async def run_for(terminals: list[Terminal], seconds: float, think_s: float) -> float:
    """Cycles for ``seconds``, each terminal pausing ``think_s`` on average between them; logins
    per second."""
    before = sum(t.logins for t in terminals)
    deadline = time.monotonic() + seconds
    started = time.monotonic()

    async def loop(terminal: Terminal) -> None:
        # The first pause is uniform over one mean think time, so the phase starts at the
        # steady rate (terminals / think_s) instead of ramping up; no pause runs past the end.
        pause = random.uniform(0, think_s)
        while pause < deadline - time.monotonic():
            await asyncio.sleep(pause)
            await terminal.cycle()
            pause = random.uniform(0, 2 * think_s)

    await asyncio.gather(*(loop(t) for t in terminals))
    return (sum(t.logins for t in terminals) - before) / (time.monotonic() - started)


def fleet(made: list[tuple[str, str, str]], addresses: list[str]) -> list[Terminal]:
    """The terminals, sharing channels (each over every replica in ``addresses``) by fifty."""
    target = balanced_target(addresses)
    count = max(1, len(made) // TERMINALS_PER_CHANNEL)
    stubs = [
        terminal_pb2_grpc.TerminalServiceStub(
            grpc.aio.insecure_channel(target.target, options=CHANNEL_OPTIONS)
        )
        for _ in range(count)
    ]
    return [Terminal(tid, key, card, stubs[i % count]) for i, (tid, key, card) in enumerate(made)]


def ledger(url: str) -> int:
    """Cents charged for copies (sum of the copy usage lines)."""
    with psycopg.connect(url, autocommit=True) as connection:
        row = connection.execute("SELECT COALESCE(SUM(amount_cents), 0) FROM usage_lines").fetchone()
        assert row is not None
        return int(row[0])


async def failover_phase(
    terminals: list[Terminal], fault: Callable[[], None], seconds: float, think_s: float
) -> tuple[float, int]:
    """Run ``seconds``; fire ``fault`` a third in; the longest gap any terminal saw, and how
    many calls failed for a user."""
    for terminal in terminals:
        terminal.longest_gap_s = 0.0
    failures_before = sum(t.failures for t in terminals)
    runner = asyncio.ensure_future(run_for(terminals, seconds, think_s))
    await asyncio.sleep(seconds / 3)
    await asyncio.to_thread(fault)
    await runner
    return max(t.longest_gap_s for t in terminals), sum(t.failures for t in terminals) - failures_before


async def main(count: int, seconds: float, think_s: float) -> None:
    root = Path(tempfile.mkdtemp(prefix="printgate-scale-"))
    os.chmod(root, 0o755)
    primary, standby = PostgresServer(root / "pg-primary"), PostgresServer(root / "pg-standby")
    hubs: list[HubProcess] = []
    try:
        primary.start({"wal_level": "replica"})
        with psycopg.connect(primary.url("postgres"), autocommit=True) as connection:
            connection.execute("CREATE DATABASE hub")
        url = f"postgresql://postgres@127.0.0.1:{primary.port},127.0.0.1:{standby.port}/hub"
        made = seed(primary.url("hub"), root, count)
        standby.start_standby(primary)
        with psycopg.connect(primary.url("postgres"), autocommit=True) as connection:
            connection.execute("ALTER SYSTEM SET synchronous_standby_names = 'standby'")
            connection.execute("SELECT pg_reload_conf()")
            while connection.execute(SYNCHRONOUS).fetchone() is None:
                time.sleep(0.1)
        hubs.append(replica(root, "a", url, root))
        one = fleet(made, [hubs[0].address])
        offered = f"offered {count / think_s:.0f} logins/s" if think_s else "back to back"
        auth_rps_1 = await run_for(one, seconds, think_s)
        print(
            f"one replica: auth_rps={auth_rps_1:.0f} calls_per_s={4 * auth_rps_1:.0f} ({offered})", flush=True
        )
        hubs.append(replica(root, "b", url, root))
        two = fleet(made, [hubs[0].address, hubs[1].address])
        for new, old in zip(two, one, strict=True):
            new.sent_keys, new.copies = old.sent_keys, old.copies
        auth_rps_2 = await run_for(two, seconds, think_s)
        print(f"two replicas: auth_rps={auth_rps_2:.0f} ratio={auth_rps_2 / auth_rps_1:.2f}", flush=True)
        failover_replica_s, failed = await failover_phase(two, hubs[0].kill, seconds, think_s)
        print(
            f"replica A killed -9: longest wait for an answer {failover_replica_s:.2f} s,"
            f" user-visible failures {failed}",
            flush=True,
        )

        def database_fault() -> None:
            primary.kill()
            standby.promote()

        failover_db_s, failed = await failover_phase(two, database_fault, max(seconds, 15.0), think_s)
        print(
            f"primary killed -9, standby promoted: longest wait for an answer {failover_db_s:.2f} s,"
            f" user-visible failures {failed}",
            flush=True,
        )
        acknowledged = sum(t.copies for t in two)
        for terminal in two:  # replay every copy with its key: none may charge again
            token = (
                await terminal.call(
                    "Authenticate",
                    terminal_pb2.AuthenticateRequest(card=terminal_pb2.CardCredential(number=terminal.card)),
                )
            ).session_token  # type: ignore[attr-defined]
            for key in terminal.sent_keys:
                await terminal.call("ReportUsage", _copy(token, key))
        charged = ledger(standby.url("hub"))
        lost_cents, doubled_cents = max(acknowledged - charged, 0), max(charged - acknowledged, 0)
        print(f"copies acknowledged={acknowledged} charged_cents={charged}", flush=True)
        print(
            f"terminals={count} replicas=2 auth_rps_1={auth_rps_1:.0f} auth_rps_2={auth_rps_2:.0f}"
            f" failover_replica_s={failover_replica_s:.2f} failover_db_s={failover_db_s:.2f}"
            f" lost_cents={lost_cents} doubled_cents={doubled_cents} cores={os.cpu_count()}",
            flush=True,
        )
    finally:
        for hub in hubs:
            hub.stop()
        standby.stop()
        primary.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--terminals", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--think-s", type=float, default=60.0, help="mean pause between a terminal's cycles")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.terminals, arguments.seconds, arguments.think_s))
