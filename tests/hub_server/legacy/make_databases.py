"""Make the legacy hub databases the migration tests start from (run once, by hand, on old code).

The files beside this script were made by the hub of commit f2e94d7 (before migrations were
recorded per component): that commit's tree was unpacked on its own and this script run with
it first on the path::

    git archive f2e94d7 | tar -x -C /tmp/old-hub
    PYTHONPATH=/tmp/old-hub:/tmp/old-hub/proto .venv/bin/python tests/hub_server/legacy/make_databases.py

It starts that hub on SQLite and on a private PostgreSQL cluster, fills it through its public
gRPC API (users, cards, a PIN, a password, prices, a quota, a project, a terminal and a kiosk,
credit, usage, a recharge with a coin, a cash-box emptying, vouchers, a delegation, a failed
login) plus one held print job through the job registry, and dumps each database as SQL:
``hub-f2e94d7.sqlite.sql`` (``sqlite3`` ``iterdump``) and ``hub-f2e94d7.postgres.sql``
(``pg_dump``, restored with ``psql``). ``hub-f2e94d7.json`` keeps what a test needs to use
them: the hub secret (test-only) and each dump's unredeemed voucher code.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from printgate.v1 import (
    admin_pb2,
    admin_pb2_grpc,
    common_pb2,
    kiosk_pb2,
    kiosk_pb2_grpc,
    terminal_pb2,
    terminal_pb2_grpc,
)

from hub_server.clock import FakeClock  # the old hub's modules, from PYTHONPATH
from hub_server.config import AuthConfig, HubConfig
from hub_server.intake import JobRecord
from hub_server.server import start_hub

HERE = Path(__file__).resolve().parent

COMMIT = "f2e94d7"
SECRET = b"printgate legacy fixture secret!"  # 32 bytes; test data only
ADMIN = (("authorization", "Bearer {token}"),)


async def fill(data_dir: Path, database: str) -> str:
    """Start the old hub, fill it, stop it; returns the voucher code left unredeemed."""
    data_dir.mkdir(parents=True)
    (data_dir / "hub-secret").write_bytes(SECRET)
    config = HubConfig(
        listen="127.0.0.1:0",
        data_dir=data_dir,
        database=database,
        auth=AuthConfig(argon2_time_cost=1, argon2_memory_kib=1024),
    )
    clock = FakeClock()
    running = await start_hub(config, clock)
    token = (data_dir / "admin-token").read_text().strip()
    metadata = (("authorization", f"Bearer {token}"),)
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{running.port}")
    admin = admin_pb2_grpc.AdminServiceStub(channel)
    kiosk_admin = kiosk_pb2_grpc.KioskAdminServiceStub(channel)
    try:

        async def call(method: str, request: object, stub: object = admin) -> object:
            return await getattr(stub, method)(request, metadata=metadata)

        alice, bob, carol = (admin_pb2.UserRef(username=name) for name in ("alice", "bob", "carol"))
        await call(
            "CreateUser", admin_pb2.User(username="alice", full_name="Alice Example", groups=["staff"])
        )
        await call("CreateUser", admin_pb2.User(username="bob", initial_password="bob-password-1"))
        await call(
            "CreateUser",
            admin_pb2.User(username="carol", department="Physics", billing=admin_pb2.BILLING_DEPARTMENT),
        )
        await call("AddCard", admin_pb2.Card(user=alice, number="A11CE001"))
        await call("AddCard", admin_pb2.Card(user=carol, number="CA201"))
        await call("SetPin", admin_pb2.SetPinRequest(user=alice, pin="4711"))
        for function, cents in ((common_pb2.FUNCTION_COPY, 5), (common_pb2.FUNCTION_PRINT, 10)):
            await call(
                "SetPrice",
                admin_pb2.Price(
                    printer_group="default",
                    function=function,
                    color=common_pb2.COLOR_MODE_MONO,
                    paper_size="*",
                    price_cents_per_page=cents,
                ),
            )
        await call(
            "CreateQuotaRule",
            admin_pb2.QuotaRule(
                name="monthly",
                everyone=True,
                period=common_pb2.QUOTA_PERIOD_MONTH,
                unit=common_pb2.QUOTA_UNIT_PAGES,
                limit=1000,
            ),
        )
        await call("CreateProject", admin_pb2.Project(code="P1", name="Project one", groups=["staff"]))
        await call("UpsertPrinter", admin_pb2.Printer(name="floor-1", address="127.0.0.1:9"))
        terminal = await call(
            "CreateTerminal",
            admin_pb2.Terminal(id="t1", kind=admin_pb2.TERMINAL_KIND_TERMINAL, printer="floor-1"),
        )
        kiosk = await call("CreateTerminal", admin_pb2.Terminal(id="k1", kind=admin_pb2.TERMINAL_KIND_KIOSK))
        await call(
            "AdjustCredit",
            admin_pb2.AdjustCreditRequest(
                user=alice, amount_cents=1000, reason="opening", idempotency_key="a-1"
            ),
        )
        await call("DelegateJobs", admin_pb2.Delegation(owner=alice, delegate_user=bob))

        def identity(reply: object, terminal_id: str) -> tuple[tuple[str, str], ...]:
            return (("x-printgate-terminal-id", terminal_id), ("x-printgate-terminal-key", reply.key))  # type: ignore[attr-defined]

        at_t1, at_k1 = identity(terminal, "t1"), identity(kiosk, "k1")
        terminals = terminal_pb2_grpc.TerminalServiceStub(channel)
        card = terminal_pb2.AuthenticateRequest(card=terminal_pb2.CardCredential(number="A11CE001"))
        session = (await terminals.Authenticate(card, metadata=at_t1)).session_token
        copy = common_pb2.UsageLine(
            function=common_pb2.FUNCTION_COPY, color=common_pb2.COLOR_MODE_MONO, paper_size="A4", pages=3
        )
        await terminals.ReportUsage(
            terminal_pb2.ReportUsageRequest(session_token=session, idempotency_key="u-1", lines=[copy]),
            metadata=at_t1,
        )
        carol_session = (
            await terminals.Authenticate(
                terminal_pb2.AuthenticateRequest(card=terminal_pb2.CardCredential(number="CA201")),
                metadata=at_t1,
            )
        ).session_token
        await terminals.ReportUsage(
            terminal_pb2.ReportUsageRequest(session_token=carol_session, idempotency_key="u-2", lines=[copy]),
            metadata=at_t1,
        )
        wrong = terminal_pb2.AuthenticateRequest(card=terminal_pb2.CardCredential(number="DEADBEEF"))
        with contextlib.suppress(grpc.aio.AioRpcError):  # recorded as a failure of terminal t1
            await terminals.Authenticate(wrong, metadata=at_t1)
        kiosks = kiosk_pb2_grpc.KioskServiceStub(channel)
        session = (await terminals.Authenticate(card, metadata=at_k1)).session_token
        recharge = await kiosks.OpenRecharge(
            kiosk_pb2.OpenRechargeRequest(session_token=session), metadata=at_k1
        )
        await kiosks.CreditCashEvent(
            kiosk_pb2.CreditCashEventRequest(
                recharge_id=recharge.recharge_id,
                idempotency_key="C/0/1",
                value_minor=200,
                currency="EUR",
                device_kind=kiosk_pb2.CASH_DEVICE_KIND_COIN,
            ),
            metadata=at_k1,
        )
        await kiosks.CloseRecharge(
            kiosk_pb2.CloseRechargeRequest(recharge_id=recharge.recharge_id), metadata=at_k1
        )
        counted = kiosk_pb2.DenominationCount(
            device_kind=kiosk_pb2.CASH_DEVICE_KIND_COIN, value_cents=200, count=1
        )
        await call(
            "EmptyCashBox",
            kiosk_pb2.EmptyCashBoxRequest(kiosk_id="k1", counted=[counted], idempotency_key="e-1"),
            kiosk_admin,
        )
        expires = Timestamp()
        expires.FromMicroseconds(clock.now_us() + 3650 * 24 * 3600 * 1_000_000)
        batch = await call(
            "CreateVoucherBatch",
            kiosk_pb2.CreateVoucherBatchRequest(value_cents=500, count=2, expires_at=expires, label="legacy"),
            kiosk_admin,
        )
        codes = list(batch.codes)  # type: ignore[attr-defined]
        await kiosks.RedeemVoucher(
            kiosk_pb2.RedeemVoucherRequest(session_token=session, code=codes[0]), metadata=at_k1
        )
        now_s = clock.now_us() / 1_000_000
        # The old hub's registry module (it moved since): this script runs on that hub only.
        importlib.import_module("hub_server.jobs").SqlJobRegistry(running.db).add_job(
            JobRecord(
                owner="alice",
                submitted_by="alice",
                job_name="report.pdf",
                document_format="application/pdf",
                queue="default",
                source="ipp",
                created_at_s=now_s,
                expires_at_s=now_s + 3650 * 24 * 3600,
            )
        )
        return codes[1]
    finally:
        await channel.close()
        await running.stop(0)


def dump_sqlite(path: Path) -> str:
    with sqlite3.connect(path) as connection:
        return "\n".join(connection.iterdump()) + "\n"


async def main() -> None:
    import hub_server

    print(f"hub code from {Path(hub_server.__file__).parent}")
    from tests.services import PostgresServer, _postgres_bin

    work = Path(tempfile.mkdtemp(prefix="printgate-legacy-"))
    os.chmod(work, 0o755)
    facts: dict[str, object] = {"commit": COMMIT, "secret_hex": SECRET.hex()}
    server = PostgresServer(work / "pg")
    try:
        sqlite_dir = work / "sqlite"
        facts["sqlite_voucher"] = await fill(sqlite_dir, "")
        (HERE / f"hub-{COMMIT}.sqlite.sql").write_text(dump_sqlite(sqlite_dir / "hub.db"))
        server.start()
        url = server.new_database()
        facts["postgres_voucher"] = await fill(work / "postgres", url)
        dumped = subprocess.run(
            [_postgres_bin("pg_dump"), "--no-owner", "--no-privileges", url],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        # pg_dump's \restrict/\unrestrict guard lines need a psql of 2025 or later: left out, so
        # any PostgreSQL 15 client restores the dump.
        guards = ("\\restrict", "\\unrestrict")
        plain = "".join(line for line in dumped.splitlines(keepends=True) if not line.startswith(guards))
        (HERE / f"hub-{COMMIT}.postgres.sql").write_text(plain)
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    (HERE / f"hub-{COMMIT}.json").write_text(json.dumps(facts, indent=2, sort_keys=True) + "\n")
    print(f"written in {time.process_time():.1f} s CPU")


if __name__ == "__main__":
    asyncio.run(main())
