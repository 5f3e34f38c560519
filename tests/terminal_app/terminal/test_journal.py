"""The journal survives kill -9 of the process that wrote it, and replays exactly once, in order."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from terminal_app.errors import JournalError
from terminal_app.hub import HubClient
from terminal_app.hub.values import Outcome, UsageReport
from terminal_app.session import open_store
from terminal_app.terminal import Journal, UsageSender
from tests.terminal_app.conftest import ALICE_CARD, Rig

REPO = Path(__file__).resolve().parents[3]


async def test_reports_journaled_before_a_kill_9_are_charged_once_each(rig: Rig, tmp_path: Path) -> None:
    token = (await rig.terminal.tap(ALICE_CARD)).session_token
    store = tmp_path / "child" / "terminal.db"
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.terminal_app.terminal.journal_child",
        str(store),
        token,
        "50",
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
    )
    assert child.stdout is not None
    confirmed = 0
    while confirmed < 20:  # kill it mid-stream: after 20 confirmed appends, others may be in flight
        confirmed = int((await asyncio.wait_for(child.stdout.readline(), 30)).split()[1])
    os.kill(child.pid, signal.SIGKILL)
    await child.wait()
    journal = Journal(open_store(store))
    pending = journal.pending()
    assert len(pending) >= confirmed
    assert [entry.key for entry in pending] == [f"crash-{n}" for n in range(1, len(pending) + 1)]
    client = HubClient(rig.terminal.credentials)
    sender = UsageSender(journal, client)
    first = await sender.flush()
    second = await sender.flush()
    await client.close()
    assert [reply.outcome for reply in first.acknowledged] == [Outcome.CREATED] * len(pending)
    assert second.acknowledged == [] and journal.pending_count() == 0
    assert await rig.hub.balance("alice") == 1000 - 5 * len(pending)


def test_a_report_without_a_key_is_refused(rig: Rig) -> None:
    with pytest.raises(JournalError, match="idempotency key"):
        rig.journal.append(UsageReport(session_token="x", idempotency_key=""), created_us=1)


def test_the_store_is_durable_by_setting(rig: Rig) -> None:
    assert rig.store.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert rig.store.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_an_unopenable_store_is_a_journal_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(JournalError, match="cannot open"):
        open_store(tmp_path / "file" / "terminal.db")
