"""Bounded analyses (issue 19, finding 5): at most ``analysis_workers`` Ghostscript processes
at once, the other jobs visibly queued, and a deleted job's analysis killed with its whole
process group. Before the fix every job started its own ``gs`` at once and deleting the job
left it running for its full timeout.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace

import pytest
import pytest_asyncio
from hypothesis import given, settings
from hypothesis import strategies as st

from hub_server.intake import (
    AnalysisLimits,
    InMemoryJobRegistry,
    IntakeServer,
    JobState,
    Operation,
    Spool,
    Status,
    Tag,
    start_intake,
)
from hub_server.intake.analysis_queue import AnalysisQueue

from . import ipp_client
from .conftest import AUTHENTICATING_CONFIG, PASSWORDS, FakeHubPasswords, TlsFiles
from .ipp_client import attribute, ipp, request
from .processes import PeakCounter, live_descendants, own_nice, until

HOSTILE_PS = b"%!PS\n{} loop\n"  # 13 bytes that keep Ghostscript busy until it is killed
ALICE = ("alice", PASSWORDS["alice"])
WORKERS = 2


# ------------------------------------------------------------------------- the queue alone


class Analyses:
    """Fake analyses with domain verbs: each run lasts until ``finish(job_id)``. Runs are
    numbered in submission order, so a job submitted twice has two runs."""

    def __init__(self) -> None:
        self.gates: dict[int, asyncio.Event] = {}
        self.started: list[int] = []  # run numbers
        self.finished: list[int] = []
        self.cancelled: list[int] = []
        self.concurrent_peak = 0
        self.runs = 0
        self._now = 0

    def analyse(self, job_id: int) -> Callable[[], Awaitable[None]]:
        self.runs += 1
        run_number = self.runs

        async def run() -> None:
            self.started.append(run_number)
            self._now += 1
            self.concurrent_peak = max(self.concurrent_peak, self._now)
            gate = self.gates[job_id] = asyncio.Event()
            try:
                await gate.wait()
                self.finished.append(run_number)
            except asyncio.CancelledError:
                self.cancelled.append(run_number)
                raise
            finally:
                self._now -= 1

        return run

    def finish(self, job_id: int) -> None:
        self.gates[job_id].set()


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


@pytest.mark.asyncio
async def test_at_most_workers_run_the_rest_wait_in_order() -> None:
    queue, fake = AnalysisQueue(WORKERS), Analyses()
    for job_id in range(1, 6):
        queue.submit(job_id, fake.analyse(job_id))
    await settle()
    assert (queue.running, queue.waiting) == ({1, 2}, [3, 4, 5])
    fake.finish(2)
    await settle()
    assert (queue.running, queue.waiting, fake.finished) == ({1, 3}, [4, 5], [2])
    assert queue.stop(4) and not queue.stop(4)  # waiting: it never starts
    assert queue.stop(1)  # running: cancelled, its worker freed
    await settle()
    assert (queue.running, queue.waiting, fake.cancelled) == ({3, 5}, [], [1])
    fake.finish(3)
    fake.finish(5)
    await queue.wait_idle()
    assert (fake.started, fake.finished, fake.concurrent_peak) == ([1, 2, 3, 5], [2, 3, 5], WORKERS)


def test_a_queue_needs_a_worker() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        AnalysisQueue(0)


ACTIONS = st.lists(
    st.tuples(st.sampled_from(["submit", "stop", "finish"]), st.integers(min_value=1, max_value=5)),
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(st.integers(min_value=1, max_value=3), ACTIONS)
def test_fuzz_the_bound_holds_and_stopped_analyses_never_finish(
    workers: int, actions: list[tuple[str, int]]
) -> None:
    async def scenario() -> None:
        queue, fake = AnalysisQueue(workers), Analyses()
        current: dict[int, int] = {}  # job id -> its latest run number
        stopped: set[int] = set()  # run numbers stopped (or replaced) before they finished
        for verb, job_id in actions:
            if verb == "submit":
                if job_id in queue and job_id in current:
                    stopped.add(current[job_id])  # a new submission replaces the entry
                queue.submit(job_id, fake.analyse(job_id))
                current[job_id] = fake.runs
            elif verb == "stop":
                if queue.stop(job_id):
                    stopped.add(current[job_id])
            elif job_id in queue.running:
                fake.finish(job_id)
            await settle()
            assert len(queue.running) <= workers and queue.busy_workers <= workers
            assert fake.concurrent_peak <= workers
        while queue.running or queue.waiting:
            for job_id in queue.running:
                fake.finish(job_id)
            await settle()
        assert len(fake.started) == len(set(fake.started))  # no run started twice
        assert sorted(fake.finished + fake.cancelled) == sorted(fake.started)  # each run ended once
        assert not stopped & set(fake.finished)  # a stopped analysis never completes
        assert set(fake.finished) | stopped == set(range(1, fake.runs + 1))  # the rest all did

    asyncio.run(scenario())


# -------------------------------------------------------------- real Ghostscript over IPP


@pytest_asyncio.fixture
async def bounded(
    registry: InMemoryJobRegistry, spool: Spool, tls_files: TlsFiles, hub_passwords: FakeHubPasswords
) -> AsyncIterator[IntakeServer]:
    config = replace(
        AUTHENTICATING_CONFIG,
        analysis=AnalysisLimits(timeout_s=120.0),
        analysis_workers=WORKERS,
        analysis_check_s=0.2,
    )
    server = await start_intake(
        registry,
        spool,
        ipp_listen=None,
        ipps_listen=("127.0.0.1", 0),
        tls=tls_files.server_context(),
        config=config,
        passwords=hub_passwords.check(),
    )
    ipp_client.TLS_PORTS[server.ipps_port] = tls_files.client_context()
    yield server
    del ipp_client.TLS_PORTS[server.ipps_port]
    await server.close()


def gs_of(spool_id: str | None) -> list[int]:
    return [p.pid for p in live_descendants(os.getpid(), "gs") if spool_id and spool_id in p.cmdline]


def reasons(registry: InMemoryJobRegistry, job_id: int) -> tuple[str, ...]:
    record = registry.get_job(job_id)
    assert record is not None
    return record.state_reasons


@pytest.mark.asyncio
async def test_hostile_postscript_runs_bounded_queued_visibly_and_dies_with_its_job(
    bounded: IntakeServer, registry: InMemoryJobRegistry, spool: Spool
) -> None:
    peak = PeakCounter(os.getpid()).start()
    port = bounded.ipps_port
    jobs = []
    for _ in range(6):
        response = await ipp(port, request(Operation.PRINT_JOB) + HOSTILE_PS, auth=ALICE)
        jobs.append(int(attribute(response, Tag.JOB, "job-id")))  # type: ignore[call-overload]
    await until(lambda: len(live_descendants(os.getpid(), "gs")) == WORKERS)
    await until(lambda: sum("job-interpreting" in reasons(registry, j) for j in jobs) == WORKERS)
    queued = [j for j in jobs if reasons(registry, j) == ("job-hold-until-specified", "job-queued")]
    running = [j for j in jobs if reasons(registry, j) == ("job-hold-until-specified", "job-interpreting")]
    assert (sorted(running + queued), len(queued)) == (jobs, len(jobs) - WORKERS)
    # Anyone sees where a job is (the reasons are public), over IPP too.
    public = await ipp(
        port, request(Operation.GET_JOB_ATTRIBUTES, (Tag.INTEGER, "job-id", queued[0]), user=None)
    )
    assert [v.value for v in public.group(Tag.JOB).get("job-state-reasons").values] == [  # type: ignore[union-attr]
        "job-hold-until-specified",
        "job-queued",
    ]
    helpers = live_descendants(os.getpid(), "gs")
    assert {p.nice for p in helpers} == {min(19, own_nice() + 10)}  # logins win the CPU

    # 1. The owner cancels a running job over IPP: its gs dies, a queued job takes the worker.
    first = running[0]
    first_spool = registry.get_job(first).spool_id  # type: ignore[union-attr]
    victim_pids = gs_of(first_spool)
    assert len(victim_pids) == 1
    cancel = await ipp(port, request(Operation.CANCEL_JOB, (Tag.INTEGER, "job-id", first)), auth=ALICE)
    assert cancel.code == Status.OK
    await until(lambda: not any(p.pid in victim_pids for p in live_descendants(os.getpid(), "gs")))
    await until(
        lambda: len(bounded.service.analyses.running) == WORKERS and first not in bounded.service.analyses
    )

    # 2. The hub deletes a running job behind intake's back (its own SQL, as PrintJobs.delete does).
    second = running[1]
    record = registry.get_job(second)
    assert record is not None
    second_pids = gs_of(record.spool_id)
    registry.update_job(
        replace(record, state=JobState.CANCELED, state_reasons=("job-canceled-by-user",), spool_id=None)
    )
    await until(lambda: not any(p.pid in second_pids for p in live_descendants(os.getpid(), "gs")))

    # 3. A queued job the hub deleted never starts; 4. the hub's stop_analysis kills at once.
    gone = registry.get_job(bounded.service.analyses.waiting[0])  # next in line
    assert gone is not None and gone.spool_id is not None
    registry.update_job(replace(gone, state=JobState.CANCELED, spool_id=None))
    third = sorted(bounded.service.analyses.running)[0]
    third_pids = gs_of(registry.get_job(third).spool_id)  # type: ignore[union-attr]
    assert bounded.service.stop_analysis(third)
    await until(lambda: not any(p.pid in third_pids for p in live_descendants(os.getpid(), "gs")))
    await until(lambda: gone.job_id not in bounded.service.analyses)
    await until(lambda: len(bounded.service.analyses.running) == WORKERS)

    await bounded.close()  # shutdown: every remaining analysis killed, nothing orphaned
    assert live_descendants(os.getpid(), "gs") == []
    assert await peak.stop() == WORKERS
    assert not any(gone.spool_id in cmdline for cmdline in peak.commands)  # never started
    assert any(f"{first_spool}.doc" in cmdline for cmdline in peak.commands)  # the sampler saw them
