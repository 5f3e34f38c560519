"""Databases made by the hub before migrations were recorded per component (commit f2e94d7, see
``legacy/make_databases.py``) open on this hub, on SQLite and on PostgreSQL: the old series
becomes the core component's, every account keeps its balance to the cent, and what was stored
with the hub secret (PINs, vouchers, idempotency answers) still works."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from printgate.v1 import admin_pb2, kiosk_pb2

from hub_server.clock import FakeClock
from hub_server.domain import credentials, open_hub_database
from hub_server.domain.schema import CORE
from hub_server.domain.store import Store
from hub_server.server import ADMIN_TOKEN_FILE, SECRET_FILE, start_hub
from tests.hub_server.conftest import HubClients, admin_channel_of, hub_config
from tests.hub_server.kiosk_clients import kiosk, kiosk_admin
from tests.services import PostgresServer, _postgres_bin

LEGACY = Path(__file__).resolve().parent / "legacy"
COMMIT = "f2e94d7"
FACTS = json.loads((LEGACY / f"hub-{COMMIT}.json").read_text())
# Every account of the old database and its balance: alice 1000 credit - 15 copies + 200 coin
# + 500 voucher; carol's copies on her department; the hub's own books.
BALANCES = {
    "user:alice": 1685,
    "user:bob": 0,
    "user:carol": 0,
    "department:Physics": -15,
    "project:P1": 0,
    "system:adjustments": -1000,
    "system:revenue": 30,
    "system:cashbox:k1": 0,
    "system:cash-collected": -200,
    "system:cash-differences": 0,
    "system:vouchers": -500,
}


def restore(backend: str, data_dir: Path, postgres: PostgresServer | None) -> str:
    """Load the old dump into a new database; returns the hub's ``database`` setting."""
    data_dir.mkdir(parents=True)
    (data_dir / SECRET_FILE).write_bytes(bytes.fromhex(FACTS["secret_hex"]))
    if backend == "sqlite":
        with sqlite3.connect(data_dir / "hub.db") as connection:
            connection.executescript((LEGACY / f"hub-{COMMIT}.sqlite.sql").read_text())
        return ""
    assert postgres is not None
    url = postgres.new_database()
    subprocess.run(
        [
            _postgres_bin("psql"),
            "--quiet",
            "--set",
            "ON_ERROR_STOP=1",
            "--file",
            str(LEGACY / f"hub-{COMMIT}.postgres.sql"),
            url,
        ],
        check=True,
        capture_output=True,
    )
    return url


@pytest_asyncio.fixture(params=["sqlite", "postgresql"])
async def legacy(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[HubClients]:
    """A hub started on the old database (migrated as it opens), with a new admin token."""
    postgres = request.getfixturevalue("postgres") if request.param == "postgresql" else None
    data_dir = tmp_path / "hub"
    database = restore(request.param, data_dir, postgres)
    config = hub_config(data_dir, database)
    # Admin tokens are kept hashed: the old one is unknown here, so this test adds its own.
    db = open_hub_database(config.database_url)
    try:
        token = Store(db).write_sync(lambda tx: credentials.create_admin_token(tx, "legacy test", 0))
    finally:
        db.close()
    (data_dir / ADMIN_TOKEN_FILE).write_text(token + "\n")
    clock = FakeClock()
    running = await start_hub(config, clock)
    clients = HubClients(running=running, channel=admin_channel_of(running), admin_token=token, clock=clock)
    yield clients
    await clients.close()
    await running.stop(0)


def test_the_dumps_are_what_the_old_hub_made(tmp_path: Path) -> None:
    restore("sqlite", tmp_path / "hub", None)
    with sqlite3.connect(tmp_path / "hub" / "hub.db") as connection:
        versions = [row[0] for row in connection.execute("SELECT version FROM schema_migrations ORDER BY 1")]
        names = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert versions == [1, 2, 3]
    assert "schema_versions" not in names


async def test_an_old_database_migrates_and_keeps_every_cent(legacy: HubClients) -> None:
    db = legacy.running.db
    rows = db.read(
        lambda tx: tx.execute(
            "SELECT component, number FROM schema_versions WHERE component = 'core' ORDER BY number"
        )
    )
    # the old series adopted as core 1-3, the core's later migrations applied on top
    assert [(row["component"], row["number"]) for row in rows] == [
        ("core", number) for number in range(1, len(CORE.migrations) + 1)
    ]
    with pytest.raises(Exception, match="schema_migrations"):  # adopted, then dropped
        db.read(lambda tx: tx.execute("SELECT version FROM schema_migrations"))
    accounts = await legacy.call_admin("ListAccounts", admin_pb2.ListAccountsRequest())
    assert {a.name: a.balance_cents for a in accounts.accounts} == BALANCES
    checked = await legacy.check_ledger()
    assert (checked.ok, checked.transactions, list(checked.problems)) == (True, 6, [])


async def test_what_the_old_hub_stored_still_works(legacy: HubClients) -> None:
    terminal = await legacy.create_terminal("t9", printer="floor-1")
    by_pin = await terminal.pin("4711")  # the PIN lookup key is keyed by the hub secret
    assert (by_pin.session.user.username, by_pin.session.balance_cents) == ("alice", 1685)
    by_card = await terminal.tap("a11ce001")
    assert by_card.session.user.username == "alice"
    by_password = await terminal.password("bob", "bob-password-1")
    assert by_password.session.user.username == "bob"
    # The first adjustment replayed with its key: the stored answer, nothing moves.
    replay = await legacy.call_admin(
        "AdjustCredit",
        admin_pb2.AdjustCreditRequest(
            user=admin_pb2.UserRef(username="alice"),
            amount_cents=1000,
            reason="opening",
            idempotency_key="a-1",
        ),
    )
    assert (replay.transaction_id, replay.balance_cents, replay.already_applied) == (1, 1000, True)
    # The unredeemed voucher opens (lookup and sealing keys come from the hub secret).
    k2 = await kiosk(legacy, "k2")
    code = FACTS["sqlite_voucher" if legacy.running.db.dialect == "sqlite" else "postgres_voucher"]
    redeemed = await k2.redeem(await k2.login("A11CE001"), code)
    assert (redeemed.credited_cents, redeemed.balance_cents, redeemed.batch_id) == (500, 2185, 1)
    export = await kiosk_admin(
        legacy, "ExportVoucherBatch", kiosk_pb2.ExportVoucherBatchRequest(batch_id=1, include_redeemed=True)
    )
    assert [line.split(",")[3] for line in export.csv.splitlines()[1:]] == ["redeemed", "redeemed"]
    jobs = await legacy.call_admin("ListPrintJobs", admin_pb2.ListPrintJobsRequest())
    assert [(j.id, j.owner, j.name, j.state) for j in jobs.jobs] == [(1, "alice", "report.pdf", "held")]
    delegations = await legacy.call_admin("ListDelegations", admin_pb2.ListDelegationsRequest())
    assert [(d.owner.username, d.delegate_user.username) for d in delegations.delegations] == [
        ("alice", "bob")
    ]
    # New rows continue the old sequences (PostgreSQL identities restored with the dump).
    await legacy.create_user(f"new-{uuid.uuid4().hex[:8]}", card="C0FFEE")
    users = await legacy.call_admin("ListUsers", admin_pb2.ListUsersRequest())
    assert sorted(u.id for u in users.users) == [1, 2, 3, 4]
    assert (await legacy.check_ledger()).ok
