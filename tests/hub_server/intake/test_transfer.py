"""Slow clients and connection caps (issue 19, finding 7). Before the fix a client that
declared a 1 GB body and sent a byte every few seconds kept its connection for ever (only
the idle time between two reads was bounded), and one address could hold every connection.

The socket tests use small configured limits (1 s grace, 1000 bytes/s) so they end in
seconds; their timeouts only bound a hang and assert no speed.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
import pytest_asyncio
from hypothesis import given
from hypothesis import strategies as st

from hub_server.intake import InMemoryJobRegistry, IntakeServer, Operation, Spool, Status, start_intake
from hub_server.intake.connections import client_address
from hub_server.intake.transfer import TransferBudget, TransferLimits, TransferTooSlow

from .conftest import FAST_CONFIG
from .ipp_client import ipp, read_response, request
from .processes import until
from .test_lpd import control

LIMITS = TransferLimits(idle_timeout_s=30.0, min_bytes_per_s=1000, rate_grace_s=10.0, deadline_s=3600.0)


class FakeClock:
    def __init__(self) -> None:
        self.now_s = 100.0

    def __call__(self) -> float:
        return self.now_s


# ------------------------------------------------------------------------- the budget alone


def test_the_floor_the_idle_timeout_and_the_deadline() -> None:
    clock = FakeClock()
    budget = TransferBudget(LIMITS, clock)
    assert budget.timeout_s() == 10.0  # nothing received: the grace period is all there is
    budget.received(5000)  # 5 s worth at the floor rate
    assert budget.timeout_s() == 15.0
    clock.now_s += 14
    assert budget.timeout_s() == 1.0
    clock.now_s += 2
    assert budget.timeout_s() == 0.0  # 5000 bytes in 16 s: below 1000 bytes/s after 10 s
    budget.received(10**9)
    assert budget.timeout_s() == 30.0  # fast again: only the idle timeout bounds a read
    clock.now_s = budget.started_s + 3590
    assert budget.timeout_s() == 10.0  # the deadline comes first
    clock.now_s += 10
    assert budget.timeout_s() == 0.0


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("received", "elapsed_s", "why"),
    [
        (0, 0.0, "too slow: 0 bytes in 0.0 s (at least 1000 bytes/s are needed after 0 s)"),
        (10**9, 3600.0, "transfer still running at the 3600 s deadline"),
    ],
)
async def test_a_read_out_of_time_fails_at_once_saying_why(received: int, elapsed_s: float, why: str) -> None:
    clock = FakeClock()
    budget = TransferBudget(replace(LIMITS, rate_grace_s=0.0), clock)
    budget.received(received)
    clock.now_s += elapsed_s
    never: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
    with pytest.raises(TransferTooSlow) as failure:
        await budget.wait(never)
    assert str(failure.value) == why
    assert never.cancelled()


@given(
    st.lists(
        st.tuples(st.floats(min_value=0.0, max_value=50.0), st.integers(min_value=0, max_value=10**6)),
        max_size=60,
    ),
    st.integers(min_value=1, max_value=10**5),
)
def test_fuzz_an_honest_client_always_gets_its_grace_and_a_bound_is_never_negative(
    events: list[tuple[float, int]], min_rate: int
) -> None:
    """A client that has always sent at least the floor rate since the start may always wait
    the grace period (or the idle timeout, or what is left to the deadline) for its next read."""
    limits = replace(LIMITS, min_bytes_per_s=min_rate)
    clock = FakeClock()
    budget = TransferBudget(limits, clock)
    honest = True
    for pause_s, count in events:
        clock.now_s += pause_s
        elapsed = clock.now_s - budget.started_s
        timeout = budget.timeout_s()
        assert 0.0 <= timeout <= limits.idle_timeout_s
        honest = honest and budget.received_bytes >= min_rate * elapsed
        if honest:
            left = budget.started_s + limits.deadline_s - clock.now_s
            assert timeout >= min(limits.idle_timeout_s, limits.rate_grace_s, max(0.0, left)) - 1e-6
        if elapsed > limits.rate_grace_s and budget.received_bytes < min_rate * (
            elapsed - limits.rate_grace_s
        ):
            assert timeout == 0.0  # below the floor after the grace period: no more waiting
        budget.received(count)


@given(st.ip_addresses(v=4))
def test_fuzz_an_ipv4_client_counts_as_itself_however_it_arrives(address: ipaddress.IPv4Address) -> None:
    mapped = ipaddress.IPv6Address(f"::ffff:{address}")
    assert client_address((str(address), 631)) == client_address((str(mapped), 631, 0, 0)) == str(address)


def test_ipv6_clients_count_by_address() -> None:
    assert client_address(("2001:db8::1", 631, 0, 0)) == "2001:db8::1"
    assert client_address("unix") == "unix"


# ------------------------------------------------------------------------- real sockets

SLOW = replace(
    FAST_CONFIG,
    idle_timeout_s=5.0,  # never what ends these clients: each sends a byte every 0.2 s
    body_min_bytes_per_s=1000,
    body_rate_grace_s=1.0,
    body_deadline_s=60.0,
    analysis=None,
)
TRICKLE_S = 0.2


@pytest_asyncio.fixture
async def slow_intake(registry: InMemoryJobRegistry, spool: Spool) -> AsyncIterator[IntakeServer]:
    server = await start_intake(registry, spool, lpd_listen=("127.0.0.1", 0), config=SLOW)
    yield server
    await server.close()


async def trickle(writer: asyncio.StreamWriter, data: bytes, chunk: int = 1) -> None:
    """Send ``data`` ``chunk`` bytes at a time, one piece every TRICKLE_S, until it is gone
    or the server hangs up."""
    try:
        for start in range(0, len(data), chunk):
            writer.write(data[start : start + chunk])
            await writer.drain()
            await asyncio.sleep(TRICKLE_S)
    except ConnectionError:
        pass


def ipp_head(length: int | None) -> bytes:
    framing = "Transfer-Encoding: chunked" if length is None else f"Content-Length: {length}"
    head = (
        f"POST /ipp/print HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/ipp\r\n{framing}\r\n\r\n"
    )
    return head.encode()


@pytest.mark.asyncio
@pytest.mark.parametrize("phase", ["ipp-header", "document", "chunked"])
async def test_a_trickled_ipp_body_gets_408_and_leaves_nothing(
    slow_intake: IntakeServer,
    registry: InMemoryJobRegistry,
    spool: Spool,
    caplog: pytest.LogCaptureFixture,
    phase: str,
) -> None:
    header = request(Operation.PRINT_JOB)
    reader, writer = await asyncio.open_connection("127.0.0.1", slow_intake.ipp_port)
    if phase == "chunked":
        writer.write(ipp_head(None) + b"%x\r\n%s\r\n" % (len(header), header))
        body = b"".join(b"1\r\n%c\r\n" % byte for byte in b"%PDF-1.4" * 1000)
    else:
        writer.write(ipp_head(10**9))  # "a 1 GB document follows"
        body = (header + b"%PDF-1.4" * 1000) if phase == "ipp-header" else b"%PDF-1.4" * 1000
        if phase == "document":
            writer.write(header)
    sender = asyncio.create_task(trickle(writer, body, chunk=6 if phase == "chunked" else 1))
    status, _, text = await asyncio.wait_for(read_response(reader), 30)
    sender.cancel()
    writer.close()
    assert status == 408 and text.startswith(b"request body: too slow: ")
    assert b"(at least 1000 bytes/s are needed after 1 s)" in text
    assert registry.list_jobs() == [] and spool.usage() == (0, 0)
    assert slow_intake.service.counters["http_408"] == 1
    assert [r.levelname for r in caplog.records if "http: 408" in r.getMessage()] == ["WARNING"]


@pytest.mark.asyncio
async def test_a_fast_enough_body_still_ends_at_the_deadline(
    registry: InMemoryJobRegistry, spool: Spool
) -> None:
    server = await start_intake(registry, spool, config=replace(SLOW, body_deadline_s=2.0))
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.ipp_port)
        writer.write(ipp_head(10**9) + request(Operation.PRINT_JOB))
        sender = asyncio.create_task(trickle(writer, b"%PDF" * 100_000, chunk=1000))  # 5000 bytes/s
        status, _, text = await asyncio.wait_for(read_response(reader), 30)
        sender.cancel()
        writer.close()
        assert (status, text) == (408, b"request body: transfer still running at the 2 s deadline\n")
        assert registry.list_jobs() == [] and spool.usage() == (0, 0)
    finally:
        await server.close()


@pytest.mark.asyncio
async def test_a_trickled_lpd_data_file_gets_the_error_byte_and_leaves_nothing(
    slow_intake: IntakeServer, registry: InMemoryJobRegistry, spool: Spool, caplog: pytest.LogCaptureFixture
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", slow_intake.lpd_port)
    writer.write(b"\x02lp\n")
    assert await asyncio.wait_for(reader.readexactly(1), 10) == b"\x00"
    control_file = control("Palice", "ldfA001host")
    writer.write(b"\x02%d cfA001host\n" % len(control_file))
    assert await asyncio.wait_for(reader.readexactly(1), 10) == b"\x00"
    writer.write(control_file + b"\x00")
    assert await asyncio.wait_for(reader.readexactly(1), 10) == b"\x00"
    writer.write(b"\x03%d dfA001host\n" % 10**9)
    assert await asyncio.wait_for(reader.readexactly(1), 10) == b"\x00"
    sender = asyncio.create_task(trickle(writer, b"%!PS\n" * 1000))
    assert await asyncio.wait_for(reader.read(), 30) == b"\x01"  # the error byte, then EOF
    sender.cancel()
    writer.close()
    assert registry.list_jobs() == [] and spool.usage() == (0, 0)
    counters = slow_intake.service.counters
    assert (counters["lpd_rejected"], counters["lpd_too_slow"]) == (1, 1)
    assert any(
        "lpd: rejected job from" in r.getMessage() and "too slow" in r.getMessage() for r in caplog.records
    )


@pytest.mark.asyncio
async def test_one_address_cannot_take_every_connection(
    registry: InMemoryJobRegistry, spool: Spool, caplog: pytest.LogCaptureFixture
) -> None:
    config = replace(SLOW, connections_per_address_max=3, connections_max=50)
    server = await start_intake(registry, spool, lpd_listen=("127.0.0.1", 0), config=config)
    caplog.set_level(logging.WARNING, logger="hub_server.intake.server")
    try:
        stalled = [await asyncio.open_connection("127.0.0.1", server.ipp_port) for _ in range(3)]
        for _, writer in stalled:
            writer.write(b"POST /ipp/print HTTP/1.1\r\n")  # and never finish the head
        await until(lambda: len(server.connections) == 3)
        # A fourth IPP connection from the same address is closed unanswered, an LPD one
        # gets the LPD error byte; one refusal line is logged for both.
        reader, writer = await asyncio.open_connection("127.0.0.1", server.ipp_port)
        assert await asyncio.wait_for(reader.read(), 10) == b""
        writer.close()
        reader, writer = await asyncio.open_connection("127.0.0.1", server.lpd_port)
        assert await asyncio.wait_for(reader.read(), 10) == b"\x01"
        writer.close()
        assert server.service.counters["connections_refused"] == 2
        refusals = [r.getMessage() for r in caplog.records if "refused a connection" in r.getMessage()]
        assert refusals == [
            "intake: refused a connection from 127.0.0.1:"
            " 3 connections from this address are open (per-address cap)"
        ]
        # Another client address is served meanwhile.
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", server.ipp_port, local_addr=("127.0.0.2", 0)
        )
        writer.write(ipp_request(request(Operation.GET_PRINTER_ATTRIBUTES)))
        status, _, _ = await asyncio.wait_for(read_response(reader), 10)
        writer.close()
        assert status == 200
        await until(lambda: dict(server.per_address) == {"127.0.0.1": 3})
        for _, stalled_writer in stalled:
            stalled_writer.close()
        await until(lambda: not server.per_address)
        assert (await ipp(server.ipp_port, request(Operation.GET_PRINTER_ATTRIBUTES))).code == Status.OK
    finally:
        await server.close()


def ipp_request(body: bytes) -> bytes:
    return ipp_head(len(body)) + body
