"""The JobRegistry contract. Parametrized over implementations: the hub's SQLite registry
should be added to ``REGISTRIES`` so the same rules are checked against it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from hub_server.intake import (
    REASON_ANALYSING,
    REASON_ANALYSIS_QUEUED,
    REASON_HELD,
    InMemoryJobRegistry,
    JobNotCancelable,
    JobNotFound,
    JobRecord,
    JobRegistry,
    JobState,
    PrintTicket,
)
from tests.hub_server.test_jobs_registry import sql_registry

REGISTRIES: dict[str, Callable[[set[str]], JobRegistry]] = {
    "memory": InMemoryJobRegistry,
    "sql": sql_registry,
}


@pytest.fixture(params=sorted(REGISTRIES))
def registry(request: pytest.FixtureRequest) -> JobRegistry:
    return REGISTRIES[request.param]({"alice", "Bob"})


def record(owner: str | None, submitted_by: str = "alice", name: str = "doc") -> JobRecord:
    return JobRecord(
        owner=owner,
        submitted_by=submitted_by,
        job_name=name,
        document_format="application/pdf",
        queue="default",
        source="ipp",
        created_at_s=1000.0,
        expires_at_s=2000.0,
        ticket=PrintTicket(copies=2, sides="two-sided-long-edge"),
        spool_id="s1",
        size_bytes=10,
    )


def test_resolve_owner_is_case_insensitive_and_unknown_is_none(registry: JobRegistry) -> None:
    assert registry.resolve_owner("ALICE") == "alice"
    assert registry.resolve_owner("bob") == "Bob"
    assert registry.resolve_owner("mallory") is None


def test_ids_are_positive_unique_and_records_round_trip(registry: JobRegistry) -> None:
    first, second = registry.add_job(record("alice")), registry.add_job(record("Bob"))
    assert 0 < first < second
    stored = registry.get_job(first)
    assert stored == replace(record("alice"), job_id=first)
    assert registry.get_job(999_999) is None


def test_returned_records_are_copies(registry: JobRegistry) -> None:
    job_id = registry.add_job(record("alice"))
    copy = registry.get_job(job_id)
    assert copy is not None
    copy.job_name = "changed"
    assert registry.get_job(job_id).job_name == "doc"  # type: ignore[union-attr]


def test_update_replaces_and_unknown_update_fails(registry: JobRegistry) -> None:
    job_id = registry.add_job(record("alice"))
    registry.update_job(
        replace(record("alice"), job_id=job_id, state_reasons=("job-expired",), state=JobState.ABORTED)
    )
    assert registry.get_job(job_id).state == JobState.ABORTED  # type: ignore[union-attr]
    with pytest.raises(JobNotFound):
        registry.update_job(replace(record("alice"), job_id=424242))


def test_list_filters_by_owner_oldest_first(registry: JobRegistry) -> None:
    ids = [
        registry.add_job(record(owner, name=str(i)))
        for i, owner in enumerate(["alice", "Bob", "alice", None])
    ]
    assert [r.job_id for r in registry.list_jobs("alice")] == [ids[0], ids[2]]
    assert [r.job_id for r in registry.list_jobs()] == ids


def test_cancel_rules(registry: JobRegistry) -> None:
    owned = registry.add_job(record("alice"))
    unclaimed = registry.add_job(record(None, submitted_by="guest"))
    with pytest.raises(JobNotCancelable) as not_owner:
        registry.cancel_job(owned, "Bob")
    assert not_owner.value.not_owner
    cancelled = registry.cancel_job(owned, "alice")
    assert (cancelled.state, cancelled.state_reasons) == (JobState.CANCELED, ("job-canceled-by-user",))
    assert cancelled.completed_at_s is not None
    with pytest.raises(JobNotCancelable) as finished:
        registry.cancel_job(owned, "alice")
    assert not finished.value.not_owner
    assert registry.cancel_job(unclaimed, "guest").state == JobState.CANCELED
    with pytest.raises(JobNotFound):
        registry.cancel_job(777_777, "alice")


def test_analysis_state_reasons_round_trip(registry: JobRegistry) -> None:
    queued = replace(record("alice"), state_reasons=(REASON_HELD, REASON_ANALYSIS_QUEUED))
    job_id = registry.add_job(queued)
    assert registry.get_job(job_id).state_reasons == (REASON_HELD, REASON_ANALYSIS_QUEUED)  # type: ignore[union-attr]
    registry.update_job(replace(queued, job_id=job_id, state_reasons=(REASON_HELD, REASON_ANALYSING)))
    assert registry.get_job(job_id).state_reasons == (REASON_HELD, REASON_ANALYSING)  # type: ignore[union-attr]


def test_owner_verified_round_trips(registry: JobRegistry) -> None:
    """Whether the owner authenticated or only claimed the name: the terminal keeps claimed
    jobs out of "release all", so the hub's registry must keep the flag."""
    proven, claimed = (
        registry.add_job(replace(record("alice"), owner_verified=True)),
        registry.add_job(record("alice")),
    )
    assert [registry.get_job(j).owner_verified for j in (proven, claimed)] == [True, False]  # type: ignore[union-attr]
    assert [r.owner_verified for r in registry.list_jobs("alice")] == [True, False]
