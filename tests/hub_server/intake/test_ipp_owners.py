"""Job owners over IPP (issue 19, finding 2): a client that merely claims a name
(``requesting-user-name``) sees no job's private attributes and cancels nothing, whatever the
authentication setting; only an authenticated owner does. Each attack below is the one the
audit ran; on the code before the fix the claimed name "alice" listed alice's job names and
cancelled (and shredded) her held jobs.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub_server.intake import (
    InMemoryJobRegistry,
    IntakeServer,
    IppMessage,
    JobState,
    Operation,
    Spool,
    Status,
    Tag,
    parse_message,
)

from .conftest import AUTHENTICATING_CONFIG, PASSWORDS, require_binary
from .ipp_client import attribute, basic_auth, exchange, http_post, ipp, request, status_message
from .test_lpd import control, submit
from .test_socket_fuzz import FUZZ, ThreadedIntake, post

pytestmark = pytest.mark.asyncio

SECRET_NAME = "payslip-alice.pdf"
DOCUMENT = b"%PDF-1.4 alice's payslip"
PUBLIC = {"job-id", "job-uri", "job-printer-uri", "job-state", "job-state-reasons"}
ALL = (Tag.KEYWORD, "requested-attributes", "all")
ALICE = ("alice", PASSWORDS["alice"])
CHALLENGE = 'Basic realm="printgate", charset="UTF-8"'
BOB = ("bob", PASSWORDS["bob"])


async def print_job(port: int, user: str = "alice", auth: tuple[str, str] | None = None) -> int:
    body = request(Operation.PRINT_JOB, (Tag.NAME, "job-name", SECRET_NAME), user=user) + DOCUMENT
    response = await ipp(port, body, auth=auth)
    assert response.code == Status.OK, status_message(response)
    return int(attribute(response, Tag.JOB, "job-id"))  # type: ignore[call-overload]


def job_groups(response: IppMessage) -> list[set[str]]:
    return [{a.name for a in group.attributes} for group in response.groups if group.tag == Tag.JOB]


def assert_untouched(registry: InMemoryJobRegistry, spool: Spool, job_id: int) -> None:
    record = registry.get_job(job_id)
    assert record is not None and record.state == JobState.PENDING_HELD
    assert record.spool_id is not None and b"".join(spool.open_reader(record.spool_id)) == DOCUMENT


@pytest.mark.parametrize("claimed", ["alice", "ALICE", "mallory", None])
async def test_a_claimed_name_sees_only_public_job_attributes(
    intake: IntakeServer, claimed: str | None
) -> None:
    """No authentication (the hub's setting today): alice prints from her desktop, anyone
    (alice's own name included) lists the queue. Nobody sees the job's name or owner."""
    job_id = await print_job(intake.ipp_port)
    for body in (
        request(Operation.GET_JOBS, ALL, user=claimed),
        request(Operation.GET_JOBS, ALL, (Tag.KEYWORD, "which-jobs", "all"), user=claimed),
        request(Operation.GET_JOB_ATTRIBUTES, (Tag.INTEGER, "job-id", job_id), ALL, user=claimed),
        request(
            Operation.GET_JOB_ATTRIBUTES,
            (Tag.INTEGER, "job-id", job_id),
            (Tag.KEYWORD, "requested-attributes", "job-name"),
            user=claimed,
        ),
    ):
        status, _, payload = await exchange(intake.ipp_port, http_post(body))
        response = parse_message(payload)[0]
        assert (status, response.code) == (200, Status.OK)
        assert all(names <= PUBLIC for names in job_groups(response)), job_groups(response)
        assert SECRET_NAME.encode() not in payload and b"alice" not in payload.lower()
    mine = await ipp(
        intake.ipp_port, request(Operation.GET_JOBS, (Tag.BOOLEAN, "my-jobs", True), user=claimed)
    )
    assert job_groups(mine) == []  # a claimed name has no jobs of its own to list


@pytest.mark.parametrize(
    ("operation", "status"),
    [
        (Operation.CANCEL_JOB, Status.NOT_AUTHORIZED),
        (Operation.CANCEL_MY_JOBS, Status.NOT_AUTHORIZED),
        (Operation.CANCEL_JOBS, Status.OPERATION_NOT_SUPPORTED),
    ],
)
async def test_a_claimed_name_cancels_nothing(
    intake: IntakeServer, registry: InMemoryJobRegistry, spool: Spool, operation: Operation, status: Status
) -> None:
    job_id = await print_job(intake.ipp_port)
    response = await ipp(intake.ipp_port, request(operation, (Tag.INTEGER, "job-id", job_id), user="alice"))
    assert response.code == status, status_message(response)
    if status == Status.NOT_AUTHORIZED:
        assert "terminal" in status_message(response)  # says where held jobs are deleted instead
    assert_untouched(registry, spool, job_id)


async def test_ipptool_claiming_alice_gets_neither_names_nor_a_cancel(
    intake: IntakeServer, registry: InMemoryJobRegistry, spool: Spool, tmp_path: Path
) -> None:
    """The same attack with CUPS's ipptool as the client (nothing of ours builds its requests)."""
    require_binary("ipptool")
    job_id = await print_job(intake.ipp_port)
    test_file = tmp_path / "claim.test"
    test_file.write_text(CLAIM_TEST)
    process = await asyncio.create_subprocess_exec(
        "ipptool",
        "-t",
        "-T",
        "10",
        "-d",
        f"victim_job={job_id}",
        f"ipp://127.0.0.1:{intake.ipp_port}/ipp/print",
        str(test_file),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "CUPS_USER": "alice"},
    )
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, output.decode()
    assert output.decode().count("[PASS]") == 3
    assert_untouched(registry, spool, job_id)


CLAIM_TEST = """
{
    NAME "Get-Jobs as a claimed alice: no names"
    OPERATION Get-Jobs
    GROUP operation-attributes-tag
    ATTR charset attributes-charset utf-8
    ATTR naturalLanguage attributes-natural-language en
    ATTR uri printer-uri $uri
    ATTR name requesting-user-name $user
    ATTR keyword requested-attributes all
    STATUS successful-ok
    EXPECT job-id OF-TYPE integer IN-GROUP job-attributes-tag WITH-VALUE $victim_job
    EXPECT !job-name
    EXPECT !job-originating-user-name
}
{
    NAME "Get-Job-Attributes as a claimed alice: no names"
    OPERATION Get-Job-Attributes
    GROUP operation-attributes-tag
    ATTR charset attributes-charset utf-8
    ATTR naturalLanguage attributes-natural-language en
    ATTR uri printer-uri $uri
    ATTR integer job-id $victim_job
    ATTR name requesting-user-name $user
    STATUS successful-ok
    EXPECT job-state OF-TYPE enum WITH-VALUE 4
    EXPECT !job-name
    EXPECT !job-originating-user-name
}
{
    NAME "Cancel-Job as a claimed alice: refused"
    OPERATION Cancel-Job
    GROUP operation-attributes-tag
    ATTR charset attributes-charset utf-8
    ATTR naturalLanguage attributes-natural-language en
    ATTR uri printer-uri $uri
    ATTR integer job-id $victim_job
    ATTR name requesting-user-name $user
    STATUS client-error-not-authorized
}
"""


async def test_when_the_queue_can_authenticate_a_claim_is_challenged_and_only_the_owner_cancels(
    authenticating_intake: IntakeServer, registry: InMemoryJobRegistry, spool: Spool
) -> None:
    port = authenticating_intake.ipps_port
    job_id = await print_job(port, auth=ALICE)
    record = registry.get_job(job_id)
    assert record is not None and (record.owner, record.owner_verified) == ("alice", True)
    cancel = request(Operation.CANCEL_JOB, (Tag.INTEGER, "job-id", job_id), user="alice")
    for extra in ("", basic_auth("alice", "guess")):
        status, headers, _ = await exchange(port, http_post(cancel, extra=extra))
        assert (status, headers["www-authenticate"]) == (401, CHALLENGE)
    assert_untouched(registry, spool, job_id)
    listed = await ipp(port, request(Operation.GET_JOBS, ALL, user="alice"))  # still only claimed
    assert job_groups(listed) and all(names <= PUBLIC for names in job_groups(listed))
    by_bob = await ipp(port, cancel, auth=BOB)
    assert by_bob.code == Status.NOT_AUTHORIZED
    assert_untouched(registry, spool, job_id)
    seen = await ipp(port, request(Operation.GET_JOB_ATTRIBUTES, (Tag.INTEGER, "job-id", job_id)), auth=ALICE)
    assert attribute(seen, Tag.JOB, "job-name") == SECRET_NAME
    assert (await ipp(port, cancel, auth=ALICE)).code == Status.OK
    assert registry.get_job(job_id).state == JobState.CANCELED  # type: ignore[union-attr]
    assert spool.entries() == []
    counters = authenticating_intake.service.counters
    assert (counters["auth_challenged"], counters["auth_failed"]) == (1, 1)


async def test_the_real_owner_sees_and_deletes_jobs_forged_in_her_name(
    authenticating_intake: IntakeServer, registry: InMemoryJobRegistry, spool: Spool
) -> None:
    port = authenticating_intake.ipps_port
    forged = await print_job(port, user="alice")  # mallory, claiming to be alice
    record = registry.get_job(forged)
    assert record is not None and (record.owner, record.owner_verified) == ("alice", False)
    mine = await ipp(port, request(Operation.GET_JOBS, ALL, (Tag.BOOLEAN, "my-jobs", True)), auth=ALICE)
    assert attribute(mine, Tag.JOB, "job-name") == SECRET_NAME
    assert (
        await ipp(port, request(Operation.CANCEL_JOB, (Tag.INTEGER, "job-id", forged)), auth=ALICE)
    ).code == Status.OK
    assert spool.entries() == []


async def test_cancel_my_jobs_cancels_the_authenticated_users_held_jobs_all_or_none(
    authenticating_intake: IntakeServer, registry: InMemoryJobRegistry, spool: Spool
) -> None:
    port = authenticating_intake.ipps_port
    alice_jobs = [await print_job(port, auth=ALICE), await print_job(port, user="alice")]
    bob_job = await print_job(port, user="bob", auth=BOB)
    mixed = request(Operation.CANCEL_MY_JOBS, (Tag.INTEGER, "job-ids", [alice_jobs[0], bob_job]))
    refused = await ipp(port, mixed, auth=ALICE)
    assert refused.code == Status.NOT_POSSIBLE
    assert attribute(refused, Tag.UNSUPPORTED_GROUP, "job-ids") == bob_job
    assert [registry.get_job(j).state for j in (*alice_jobs, bob_job)] == [JobState.PENDING_HELD] * 3  # type: ignore[union-attr]
    status, _, _ = await exchange(port, http_post(request(Operation.CANCEL_MY_JOBS, user="alice")))
    assert status == 401  # a claim, on a queue that can authenticate
    done = await ipp(port, request(Operation.CANCEL_MY_JOBS), auth=ALICE)
    assert done.code == Status.OK
    states = [registry.get_job(j).state for j in (*alice_jobs, bob_job)]  # type: ignore[union-attr]
    assert states == [JobState.CANCELED, JobState.CANCELED, JobState.PENDING_HELD]
    assert [entry.owner_key for entry in spool.entries()] == ["bob"]


async def test_a_document_for_an_authenticated_users_job_needs_her_credentials(
    authenticating_intake: IntakeServer, registry: InMemoryJobRegistry
) -> None:
    port = authenticating_intake.ipps_port
    created = await ipp(port, request(Operation.CREATE_JOB, (Tag.NAME, "job-name", "two-step")), auth=ALICE)
    job_id = attribute(created, Tag.JOB, "job-id")
    send = (
        request(
            Operation.SEND_DOCUMENT, (Tag.INTEGER, "job-id", job_id), (Tag.BOOLEAN, "last-document", True)
        )
        + b"%!PS\nshowpage\n"
    )
    assert (await exchange(port, http_post(send)))[0] == 401
    assert (await ipp(port, send, auth=BOB)).code == Status.NOT_AUTHORIZED
    assert registry.get_job(job_id).spool_id is None  # type: ignore[arg-type,union-attr]
    assert (await ipp(port, send, auth=ALICE)).code == Status.OK
    assert registry.get_job(job_id).spool_id is not None  # type: ignore[arg-type,union-attr]


async def test_only_authenticated_submissions_are_marked_verified(
    authenticating_intake: IntakeServer, registry: InMemoryJobRegistry
) -> None:
    port = authenticating_intake.ipps_port
    claimed, proven = await print_job(port, user="alice"), await print_job(port, user="bob", auth=ALICE)
    answers = await submit(authenticating_intake.lpd_port, control("Palice", "ldfA123host"), DOCUMENT)
    assert answers[-2:] == [b"\x00", b""]
    lpd_job = max(record.job_id for record in registry.list_jobs())
    verified = {job_id: registry.get_job(job_id).owner_verified for job_id in (claimed, proven, lpd_job)}  # type: ignore[union-attr]
    assert verified == {claimed: False, proven: True, lpd_job: False}
    assert registry.get_job(proven).owner == "alice"  # type: ignore[union-attr]  # credentials win over the claim


# ---------------------------------------------------------------------------------- fuzzing

NAMES = st.sampled_from(["alice", "ALICE", "bob", "mallory", ""])
CREDENTIALS = st.sampled_from(["none", "right", "wrong"])
OPERATIONS = st.sampled_from(
    [Operation.GET_JOBS, Operation.GET_JOB_ATTRIBUTES, Operation.CANCEL_JOB, Operation.CANCEL_MY_JOBS]
)
REQUESTED = st.lists(
    st.sampled_from(
        ["all", "job-name", "job-originating-user-name", "job-description", "job-template", "job-id"]
    ),
    max_size=3,
)


@pytest.fixture(scope="module")
def owners_queue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedIntake]:
    queue = ThreadedIntake(tmp_path_factory.mktemp("owners"), AUTHENTICATING_CONFIG)
    yield queue
    queue.close()


@FUZZ
@given(OPERATIONS, NAMES, CREDENTIALS, REQUESTED, st.integers(min_value=0, max_value=8), st.booleans())
def test_fuzz_nobody_but_the_authenticated_owner_sees_or_cancels(
    owners_queue: ThreadedIntake,
    operation: Operation,
    name: str,
    credentials: str,
    requested: list[str],
    job_pick: int,
    my_jobs: bool,
) -> None:
    port = owners_queue.server.ipps_port
    assert owners_queue.tls_files is not None
    tls = owners_queue.tls_files.client_context()
    if len([r for r in owners_queue.registry.list_jobs() if r.state == JobState.PENDING_HELD]) < 3:
        for user, auth in (("alice", basic_auth(*ALICE)), ("alice", ""), ("bob", basic_auth(*BOB))):
            body = request(Operation.PRINT_JOB, (Tag.NAME, "job-name", SECRET_NAME), user=user) + DOCUMENT
            assert post(port, body, auth, tls).startswith(b"HTTP/1.1 200")
    jobs = owners_queue.registry.list_jobs()
    target = jobs[job_pick % len(jobs)].job_id
    before = {record.job_id: (record.state, record.owner) for record in jobs}
    password = {"right": PASSWORDS.get(name, ""), "wrong": "wrong"}.get(credentials)
    verified_as = name if credentials == "right" and name in PASSWORDS else None
    attributes: list[tuple[int, str, object]] = [(Tag.KEYWORD, "requested-attributes", r) for r in requested]
    if operation in (Operation.GET_JOB_ATTRIBUTES, Operation.CANCEL_JOB):
        attributes.append((Tag.INTEGER, "job-id", target))
    if my_jobs and operation == Operation.GET_JOBS:
        attributes.append((Tag.BOOLEAN, "my-jobs", True))
    headers = basic_auth(name, password) if password is not None else ""
    raw = post(port, request(operation, *attributes, user=name or None), headers, tls)
    after = {record.job_id: (record.state, record.owner) for record in owners_queue.registry.list_jobs()}
    for job_id, (state, owner) in after.items():
        if state != before[job_id][0]:  # only the authenticated owner changes a job
            assert verified_as is not None and owner == verified_as
    status = int(raw.split(b" ", 2)[1])
    if status != 200:
        assert status == 401 and verified_as is None
        return
    response = parse_message(raw.split(b"\r\n\r\n", 1)[1])[0]
    for group in response.groups:
        if group.tag != Tag.JOB:
            continue
        names = {a.name for a in group.attributes}
        listed = group.get("job-id")
        if names - PUBLIC:  # private attributes: only of the authenticated requester's own job
            assert verified_as is not None
            if listed is not None and isinstance(listed.first, int):
                assert after[listed.first][1] == verified_as
    if verified_as is None:
        assert SECRET_NAME.encode() not in raw
