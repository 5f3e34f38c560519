"""A sync killed with SIGKILL while it writes leaves the hub with all of it or none of it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from hub_server.domain import COMPONENTS, ledger
from hub_server.storage import SqliteDatabase
from tests.hub_server.dirsync.conftest import SITE_USERS, Directory

REPO = Path(__file__).resolve().parents[3]
CHILD = """
import sys
from hub_server.dirsync.config import DirectoryConfig, load_source
from hub_server.domain.dirsync_store import SqlUserStore
from hub_server.dirsync.sync import DirectorySync
from hub_server.domain import open_hub_database
from card_numbers import ConversionChain

class Announcing(SqlUserStore):
    # says when the plan is being computed inside the write transaction: the parent kills after that
    def apply(self, source, compute, now_us):
        def announced(state):
            print("in-transaction", flush=True)
            return compute(state)

        return super().apply(source, announced, now_us)


source = load_source(eval(sys.argv[2]), 0)
store = Announcing(open_hub_database("sqlite:///" + sys.argv[1]))
DirectorySync(DirectoryConfig(sources=(source,)), store, ConversionChain.parse).sync(source.name)
print("done", flush=True)
"""


def test_kill_9_during_the_write_leaves_nothing_half_applied(
    slapd_directory: Directory, tmp_path: Path
) -> None:
    database = tmp_path / "hub.db"
    values = {
        "name": "ad",
        "kind": "active_directory",
        "servers": [slapd_directory.server.ldaps_url],
        "ca_file": str(slapd_directory.server.tls.ca_file),
        "bind_dn": "cn=printgate,ou=service,dc=ad,dc=test",
        "bind_password_file": str(slapd_directory.password_file),
        "user_base_dns": ["ou=people,dc=ad,dc=test"],
        "group_base_dns": ["ou=groups,dc=ad,dc=test"],
        "card_conversion": "dec2hex|lpad:8:0",
    }
    outcomes = set()
    for delay_s in (0.0, 0.05, 0.1, 0.2, 0.4):
        database.unlink(missing_ok=True)
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(database), repr(values)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        assert child.stdout is not None and child.stderr is not None
        line = child.stdout.readline()
        if line != b"in-transaction\n":
            child.wait()
            raise AssertionError(f"the sync did not start its transaction: {child.stderr.read()!r}"[-2000:])
        time.sleep(delay_s)
        child.send_signal(signal.SIGKILL)
        child.wait()
        db = SqliteDatabase(database, COMPONENTS)
        try:
            users = db.read(lambda tx: tx.scalar("SELECT COUNT(*) FROM users"))
            links = db.read(lambda tx: tx.scalar("SELECT COUNT(*) FROM directory_links"))
            accounts = db.read(lambda tx: tx.scalar("SELECT COUNT(*) FROM accounts WHERE kind = 'prepaid'"))
            assert (users, links, accounts) in ((0, 0, 0), (SITE_USERS, SITE_USERS, SITE_USERS))
            assert db.read(ledger.check_ledger) == []
            outcomes.add(users)
        finally:
            db.close()
    assert 0 in outcomes  # the early kills landed inside the transaction
