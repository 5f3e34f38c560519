"""Hostile clients on the authenticating IPPS listener: malformed or foreign credentials,
huge headers, a TLS handshake or a request head that never completes, plaintext on the TLS
port. Each gets a clear refusal (or a closed connection), costs no password verification
where there is nothing to verify, files nothing, and leaves the next honest client served."""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace

import pytest
import pytest_asyncio
from hypothesis import given
from hypothesis import strategies as st

from hub_server.intake import InMemoryJobRegistry, IntakeServer, Operation, Spool, Status, parse_message

from . import ipp_client
from .conftest import AUTHENTICATING_CONFIG, PASSWORDS, FakeHubPasswords, TlsFiles
from .ipp_client import basic_auth, connect, exchange, http_post, request
from .test_socket_fuzz import FUZZ, ThreadedIntake, post

pytestmark = pytest.mark.asyncio

HEAD_TIMEOUT_S = 1.0
DOCUMENT = request(Operation.PRINT_JOB, user="alice") + b"%!PS\nshowpage\n"


@pytest_asyncio.fixture
async def queue(
    registry: InMemoryJobRegistry, spool: Spool, tls_files: TlsFiles, hub_passwords: FakeHubPasswords
) -> AsyncIterator[IntakeServer]:
    server = await start(registry, spool, tls_files, hub_passwords)
    ipp_client.TLS_PORTS[server.ipps_port] = tls_files.client_context()
    yield server
    del ipp_client.TLS_PORTS[server.ipps_port]
    await server.close()


async def start(
    registry: InMemoryJobRegistry, spool: Spool, tls_files: TlsFiles, hub_passwords: FakeHubPasswords
) -> IntakeServer:
    from hub_server.intake import start_intake

    return await start_intake(
        registry,
        spool,
        ipp_listen=None,
        ipps_listen=("127.0.0.1", 0),
        tls=tls_files.server_context(),
        config=replace(AUTHENTICATING_CONFIG, authentication="required", keepalive_timeout_s=HEAD_TIMEOUT_S),
        passwords=hub_passwords.check(),
    )


async def honest_job_is_filed(queue: IntakeServer, registry: InMemoryJobRegistry) -> None:
    status, _, payload = await exchange(
        queue.ipps_port, http_post(DOCUMENT, extra=basic_auth("alice", PASSWORDS["alice"]))
    )
    assert (status, parse_message(payload)[0].code) == (200, Status.OK)
    assert [r.owner for r in registry.list_jobs()] == ["alice"]


@pytest.mark.parametrize(
    ("authorization", "asked"),
    [
        ("Basic !!!not-base64!!!", []),
        # A name without a password is a wrong password: the hub counts it (lockout).
        ("Basic " + base64.b64encode(b"no-colon-at-all").decode(), ["no-colon-at-all"]),
        ("Basic " + base64.b64encode(b"\xff\xfe:\xff").decode(), []),  # not UTF-8
        ("Basic " + base64.b64encode(b":only-a-password").decode(), []),
        ("Bearer " + base64.b64encode(b"alice:alice-pw").decode(), []),  # right secret, wrong scheme
        ("Digest username=alice", []),
        ("Basic", []),
    ],
)
async def test_malformed_or_foreign_credentials_are_refused_without_asking_the_hub(
    queue: IntakeServer,
    registry: InMemoryJobRegistry,
    hub_passwords: FakeHubPasswords,
    authorization: str,
    asked: list[str],
) -> None:
    status, headers, payload = await exchange(
        queue.ipps_port, http_post(DOCUMENT, extra=f"Authorization: {authorization}\r\n")
    )
    assert (status, parse_message(payload)[0].code) == (401, Status.NOT_AUTHENTICATED)
    assert headers["www-authenticate"].startswith("Basic realm=")
    assert hub_passwords.verified == asked
    assert registry.list_jobs() == []
    assert queue.service.counters["auth_failed"] == 1
    await honest_job_is_filed(queue, registry)


async def test_a_huge_authorization_header_is_refused_before_any_check(
    queue: IntakeServer, registry: InMemoryJobRegistry, hub_passwords: FakeHubPasswords
) -> None:
    huge = "Basic " + base64.b64encode(b"alice:" + b"x" * 64 * 1024).decode()
    status, _, _ = await exchange(queue.ipps_port, http_post(DOCUMENT, extra=f"Authorization: {huge}\r\n"))
    assert status in (400, 431)
    assert hub_passwords.verified == [] and registry.list_jobs() == []
    await honest_job_is_filed(queue, registry)


async def test_a_handshake_that_never_starts_or_a_head_that_never_ends_is_dropped(
    queue: IntakeServer, registry: InMemoryJobRegistry
) -> None:
    silent_reader, silent_writer = await asyncio.open_connection("127.0.0.1", queue.ipps_port)  # no TLS
    slow_reader, slow_writer = await connect(queue.ipps_port)  # TLS, then a trickled head
    started = time.monotonic()
    slow_writer.write(b"POST /ipp/print HTTP/1.1\r\n")
    for _ in range(int(HEAD_TIMEOUT_S * 10)):
        slow_writer.write(b"X-Slow: 1\r\n")
        await asyncio.sleep(0.3)
        if slow_writer.is_closing() or slow_reader.at_eof():
            break
    assert await asyncio.wait_for(silent_reader.read(), 30) == b""
    with pytest.raises((ConnectionError, asyncio.IncompleteReadError)):
        await asyncio.wait_for(slow_reader.readexactly(1), 30)
    assert time.monotonic() - started < 30  # bounded by the head timeout, not by the client
    for writer in (silent_writer, slow_writer):
        writer.close()
    await honest_job_is_filed(queue, registry)


async def test_plaintext_http_on_the_tls_port_is_refused(
    queue: IntakeServer, registry: InMemoryJobRegistry
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", queue.ipps_port)
    writer.write(http_post(DOCUMENT, extra=basic_auth("alice", PASSWORDS["alice"])))
    answer = await asyncio.wait_for(reader.read(), 30)
    writer.close()
    assert not answer.startswith(b"HTTP/")  # no HTTP answer, and the password was never read
    assert registry.list_jobs() == []
    await honest_job_is_filed(queue, registry)


async def test_no_password_or_token_reaches_the_logs(
    queue: IntakeServer, registry: InMemoryJobRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secrets = ["alice-pw", "wrong-but-secret-guess"]
    for password in secrets:
        await exchange(queue.ipps_port, http_post(DOCUMENT, extra=basic_auth("alice", password)))
    assert len(registry.list_jobs()) == 1
    tokens = [base64.b64encode(f"alice:{p}".encode()).decode() for p in secrets]
    assert "credentials refused" in caplog.text  # the failure is logged, without its secret
    for secret in (*secrets, *tokens):
        assert secret not in caplog.text


@pytest.fixture(scope="module")
def fuzzed_queue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedIntake]:
    queue = ThreadedIntake(
        tmp_path_factory.mktemp("auth-fuzz"), replace(AUTHENTICATING_CONFIG, authentication="required")
    )
    yield queue
    queue.close()


@FUZZ
@given(
    st.one_of(
        st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=200),
        st.binary(max_size=120).map(lambda raw: "Basic " + base64.b64encode(raw).decode()),
        st.tuples(
            st.sampled_from(["alice", "bob", "", "ALICE"]), st.sampled_from(["alice-pw", "bob-pw", "x", ""])
        ).map(lambda pair: "Basic " + base64.b64encode(f"{pair[0]}:{pair[1]}".encode()).decode()),
    )
)
def test_fuzz_any_authorization_header_is_a_job_for_its_proven_user_or_a_401(
    fuzzed_queue: ThreadedIntake, authorization: str
) -> None:
    assert fuzzed_queue.tls_files is not None
    before = len(fuzzed_queue.registry.list_jobs())
    raw = post(
        fuzzed_queue.server.ipps_port,
        DOCUMENT,
        f"Authorization: {authorization}\r\n",
        fuzzed_queue.tls_files.client_context(),
    )
    status = int(raw.split(b" ", 2)[1])
    jobs = fuzzed_queue.registry.list_jobs()
    scheme, _, token = authorization.partition(" ")
    try:
        user, _, password = base64.b64decode(token, validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        user = password = ""
    proven = scheme == "Basic" and user in PASSWORDS and PASSWORDS[user] == password
    if proven:
        assert status == 200 and len(jobs) == before + 1 and jobs[-1].owner == user
    else:
        assert status == 401 and len(jobs) == before
