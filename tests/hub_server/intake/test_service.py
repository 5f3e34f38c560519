"""IntakeService without a network: expiry, cancel shredding, unclaimed jobs, listen parsing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hub_server.intake import (
    InMemoryJobRegistry,
    IntakeConfig,
    IntakeService,
    JobNotCancelable,
    JobState,
    OwnerRefused,
    QueuePolicy,
    Spool,
    parse_listen,
)
from hub_server.intake.service import Submission


class Clock:
    def __init__(self) -> None:
        self.now_s = 1_000_000.0

    def __call__(self) -> float:
        return self.now_s


@pytest.fixture
def clock() -> Clock:
    return Clock()


def make_service(tmp_path: Path, clock: Clock, **config: object) -> IntakeService:
    spool = Spool(tmp_path, os.urandom(32), queues={"default": QueuePolicy(expiry_s=600)}, clock=clock)
    registry = InMemoryJobRegistry(users={"alice"})
    return IntakeService(registry, spool, IntakeConfig(analysis=None, **config), clock=clock)  # type: ignore[arg-type]


def store(service: IntakeService, submitted_by: str, data: bytes = b"%PDF-1.4") -> int:
    owner = service.resolve(submitted_by)
    submission = Submission(submitted_by, "doc", "application/pdf", "ipp")
    with service.open_writer(owner, submitted_by) as writer:
        writer.write(data)
        return service.add_stored_job(service.new_record(submission, owner), writer).job_id


@pytest.mark.asyncio
async def test_expiry_aborts_held_jobs_and_shreds_them(tmp_path: Path, clock: Clock) -> None:
    service = make_service(tmp_path, clock)
    first = store(service, "alice")
    clock.now_s += 300
    second = store(service, "alice")
    clock.now_s += 300  # first is exactly 600 s old
    assert service.expire() == [first]
    expired = service.registry.get_job(first)
    assert expired is not None and (expired.state, expired.state_reasons) == (
        JobState.ABORTED,
        ("job-expired",),
    )
    kept = service.registry.get_job(second)
    assert kept is not None and [entry.spool_id for entry in service.spool.entries()] == [kept.spool_id]
    assert service.expire() == []


@pytest.mark.asyncio
async def test_unknown_owner_policy(tmp_path: Path, clock: Clock) -> None:
    refusing = make_service(tmp_path / "a", clock)
    with pytest.raises(OwnerRefused, match="'mallory' is not a hub user"):
        store(refusing, "mallory")
    assert refusing.counters == {"owner_refused": 1}
    holding = make_service(tmp_path / "b", clock, unknown_owner="hold")
    job_id = store(holding, "mallory")
    record = holding.registry.get_job(job_id)
    assert record is not None and (record.owner, record.submitted_by) == (None, "mallory")
    assert holding.spool.usage("unclaimed:mallory") == (8, 1)
    with pytest.raises(JobNotCancelable):
        holding.cancel(job_id, "alice")
    assert holding.cancel(job_id, "mallory").state == JobState.CANCELED
    assert holding.spool.entries() == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [("127.0.0.1:631", ("127.0.0.1", 631)), (":8631", ("0.0.0.0", 8631)), ("[::1]:0", ("::1", 0))],
)
def test_parse_listen(text: str, expected: tuple[str, int]) -> None:
    assert parse_listen(text) == expected


@pytest.mark.parametrize("text", ["localhost", "host:http", "host:70000", ""])
def test_parse_listen_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="HOST:PORT"):
        parse_listen(text)


@pytest.mark.asyncio
@pytest.mark.parametrize(("private", "kept"), [(False, True), (True, False)])
async def test_mark_printed_shreds_only_private_queues(
    tmp_path: Path, clock: Clock, private: bool, kept: bool
) -> None:
    spool = Spool(tmp_path, os.urandom(32), queues={"default": QueuePolicy(private=private)}, clock=clock)
    service = IntakeService(InMemoryJobRegistry(), spool, IntakeConfig(analysis=None), clock=clock)
    job_id = store(service, "alice", b"%PDF-1.4 payslip")
    clock.now_s += 5
    record = service.mark_printed(job_id)
    assert (record.state, record.state_reasons, record.completed_at_s) == (
        JobState.COMPLETED,
        ("job-completed-successfully",),
        clock.now_s,
    )
    assert (record.spool_id is not None) is kept
    assert len(spool.entries()) == (1 if kept else 0)
    assert service.registry.get_job(job_id) == record


@pytest.mark.parametrize(
    "bound",
    [
        "analysis_workers",
        "analysis_check_s",
        "idle_timeout_s",
        "body_min_bytes_per_s",
        "body_deadline_s",
        "connections_max",
        "connections_per_address_max",
    ],
)
def test_bounds_that_would_switch_a_protection_off_are_refused(bound: str) -> None:
    with pytest.raises(ValueError, match=f"intake: {bound} must be positive"):
        IntakeConfig(**{bound: 0})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="body_rate_grace_s"):
        IntakeConfig(body_rate_grace_s=-1)
