"""The SQL JobRegistry: the intake contract (run from the intake's contract test through
``sql_registry``) plus what only the hub's registry does (analysis round trip, no cancel
while printing), on both backends."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from dataclasses import replace
from functools import partial
from pathlib import Path

import pytest

from hub_server.domain import open_hub_database, users
from hub_server.domain.jobs import SqlJobRegistry
from hub_server.domain.store import Store
from hub_server.intake import (
    DocumentSettings,
    JobAnalysis,
    JobNotCancelable,
    JobRecord,
    JobState,
    PageInfo,
    PrintTicket,
)
from hub_server.storage import Database


def add_users(db: Database, names: set[str]) -> None:
    for name in sorted(names):
        db.write_sync(partial(users.create_user, user=users.UserRecord(username=name), now_us=1))


def sql_registry(names: set[str]) -> SqlJobRegistry:
    """A registry over a fresh SQLite hub database holding users ``names`` (for the contract test)."""
    folder = Path(tempfile.mkdtemp(prefix="pg-jobs-"))
    atexit.register(shutil.rmtree, folder, True)
    db = open_hub_database(f"sqlite:///{folder / 'hub.db'}")
    atexit.register(db.close)
    add_users(db, names)
    return SqlJobRegistry(Store(db))


def job(owner: str | None, **changes: object) -> JobRecord:
    base = JobRecord(
        owner=owner,
        submitted_by="alice",
        job_name="report.pdf",
        document_format="application/pdf",
        queue="default",
        source="ipp",
        created_at_s=1000.5,
        expires_at_s=2000.25,
        ticket=PrintTicket(copies=3, sides="two-sided-long-edge", print_color_mode="monochrome", media="a4"),
        spool_id="abc",
        size_bytes=1234,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.fixture
def registry(db: Database) -> SqlJobRegistry:
    add_users(db, {"alice", "bob"})
    return SqlJobRegistry(Store(db))


def test_analysis_and_columns_round_trip(registry: SqlJobRegistry, db: Database) -> None:
    analysis = JobAnalysis(
        "application/pdf",
        2,
        (
            PageInfo(595.0, 842.0, (0.1, 0.0, 0.0, 0.2), True),
            PageInfo(595.0, 842.0, (0.0, 0.0, 0.0, 0.3), False),
        ),
        DocumentSettings(copies=2, duplex=True, grayscale=None, language="PDF"),
        thumbnail_png=b"\x89PNG-bytes",
    )
    job_id = registry.add_job(job("alice", analysis=analysis))
    stored = registry.get_job(job_id)
    assert stored == replace(job("alice", analysis=analysis), job_id=job_id)
    row = db.read(
        lambda tx: tx.one(
            "SELECT state, page_count, color_pages, paper_size, doc_copies, doc_duplex, doc_grayscale"
            " FROM print_jobs WHERE id = :i",
            {"i": job_id},
        )
    )
    assert dict(row or {}) == {
        "state": "held",
        "page_count": 2,
        "color_pages": 1,
        "paper_size": "A4",
        "doc_copies": 2,
        "doc_duplex": 1,
        "doc_grayscale": None,
    }


@pytest.mark.parametrize(
    ("ipp_state", "reasons", "word"),
    [
        (JobState.ABORTED, ("job-expired",), "expired"),
        (JobState.ABORTED, ("aborted-by-system",), "aborted"),
        (JobState.PENDING_HELD, ("job-incoming",), "held"),
        (JobState.COMPLETED, ("job-completed-successfully",), "printed"),
    ],
)
def test_state_words_follow_ipp_states(
    registry: SqlJobRegistry, db: Database, ipp_state: JobState, reasons: tuple[str, ...], word: str
) -> None:
    job_id = registry.add_job(job("alice"))
    registry.update_job(replace(job("alice"), job_id=job_id, state=ipp_state, state_reasons=reasons))
    assert db.read(lambda tx: tx.scalar("SELECT state FROM print_jobs WHERE id = :i", {"i": job_id})) == word


def test_a_job_being_printed_cannot_be_cancelled(registry: SqlJobRegistry, db: Database) -> None:
    job_id = registry.add_job(job("alice"))
    db.write_sync(
        lambda tx: tx.execute("UPDATE print_jobs SET state = 'releasing' WHERE id = :i", {"i": job_id})
    )
    with pytest.raises(JobNotCancelable) as refused:
        registry.cancel_job(job_id, "alice")
    assert not refused.value.not_owner
    assert "releasing" in str(refused.value)


def test_owner_resolution_ignores_inactive_users(registry: SqlJobRegistry, db: Database) -> None:
    assert registry.resolve_owner("BOB") == "bob"
    db.write_sync(lambda tx: tx.execute("UPDATE users SET active = 0 WHERE username = 'bob'"))
    assert registry.resolve_owner("bob") is None


def test_an_intake_update_racing_a_release_keeps_the_hub_state(
    registry: SqlJobRegistry, db: Database
) -> None:
    job_id = registry.add_job(job("alice"))
    stale = registry.get_job(job_id)
    assert stale is not None
    db.write_sync(
        lambda tx: tx.execute(
            "UPDATE print_jobs SET state = 'releasing', ipp_state = 5, state_reasons = 'job-printing'"
            " WHERE id = :i",
            {"i": job_id},
        )
    )
    analysis = JobAnalysis("application/pdf", 1, (PageInfo(595.0, 842.0, (0.0, 0.0, 0.0, 0.1), False),))
    registry.update_job(replace(stale, analysis=analysis))  # what intake does when analysis ends
    stored = registry.get_job(job_id)
    assert stored is not None and stored.analysis == analysis
    assert (stored.state, stored.state_reasons) == (JobState.PROCESSING, ("job-printing",))


def test_a_stale_update_does_not_bring_back_a_deleted_job(registry: SqlJobRegistry, db: Database) -> None:
    job_id = registry.add_job(job("alice"))
    stale = registry.get_job(job_id)
    assert stale is not None
    db.write_sync(
        lambda tx: tx.execute(
            "UPDATE print_jobs SET state = 'canceled', ipp_state = 7, spool_id = NULL WHERE id = :i",
            {"i": job_id},
        )
    )
    registry.update_job(stale)
    stored = registry.get_job(job_id)
    assert stored is not None and (stored.state, stored.spool_id) == (JobState.CANCELED, None)
