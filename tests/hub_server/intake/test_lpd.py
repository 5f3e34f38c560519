"""The LPD listener (RFC 1179) over loopback with a hand-written client, including hostile input."""

from __future__ import annotations

import asyncio

import pytest

from hub_server.intake import InMemoryJobRegistry, IntakeServer, JobState, Spool

pytestmark = pytest.mark.asyncio


class LpdClient:
    """A minimal RFC 1179 client that records the daemon's answer bytes."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def connect(cls, port: int) -> LpdClient:
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    async def send(self, data: bytes) -> bytes:
        self.writer.write(data)
        await self.writer.drain()
        return await asyncio.wait_for(self.reader.read(1), 10)

    async def file(self, code: bytes, name: bytes, data: bytes) -> tuple[bytes, bytes]:
        line_ack = await self.send(code + b"%d " % len(data) + name + b"\n")
        if line_ack != b"\x00":
            return line_ack, b""
        return line_ack, await self.send(data + b"\x00")

    async def finish(self) -> bytes:
        self.writer.write_eof()
        rest = await asyncio.wait_for(self.reader.read(), 10)
        self.writer.close()
        return rest


def control(*lines: str) -> bytes:
    return "".join(line + "\n" for line in lines).encode("latin-1")


async def submit(port: int, control_file: bytes, data: bytes, *, data_first: bool = False) -> list[bytes]:
    client = await LpdClient.connect(port)
    answers = [await client.send(b"\x02lp\n")]
    files = [(b"\x02", b"cfA123host", control_file), (b"\x03", b"dfA123host", data)]
    for code, name, payload in reversed(files) if data_first else files:
        answers.extend(await client.file(code, name, payload))
    answers.append(await client.finish())
    return answers


@pytest.mark.parametrize("data_first", [False, True])
async def test_receive_job_holds_it_for_the_user(
    intake: IntakeServer, registry: InMemoryJobRegistry, spool: Spool, documents: dict, data_first: bool
) -> None:
    pdf = documents["pdf"].read_bytes()
    cf = control("Hdesk-7", "Pbob", "JQuarterly report", "ldfA123host", "ldfA123host", "NQ3.pdf")
    answers = await submit(intake.lpd_port, cf, pdf, data_first=data_first)
    assert answers == [b"\x00"] * 5 + [b""]
    await intake.service.wait_idle()
    [record] = registry.list_jobs()
    assert (record.owner, record.submitted_by, record.job_name, record.source) == (
        "bob",
        "bob",
        "Quarterly report",
        "lpd",
    )
    assert (record.ticket.copies, record.document_format, record.state) == (
        2,
        "application/pdf",
        JobState.PENDING_HELD,
    )
    assert b"".join(spool.open_reader(record.spool_id)) == pdf  # type: ignore[arg-type]
    assert record.analysis is not None and record.analysis.page_count == 2


async def test_hostile_control_fields_are_sanitised(
    intake: IntakeServer, registry: InMemoryJobRegistry
) -> None:
    cf = control(
        "P../../root;`id`", "J\x1b%-12345X@PJL SET COPIES=999|rm -rf /", "Mvictim@example.com", "ldfA123host"
    )
    answers = await submit(intake.lpd_port, cf, b"%!PS\nshowpage\n")
    assert answers[-2:] == [b"\x00", b""]
    [record] = registry.list_jobs()
    assert (record.submitted_by, record.job_name) == ("rootid", "_PJL SET COPIES_999_rm -rf")


@pytest.mark.parametrize(
    ("control_file", "why"),
    [
        (control("P", "ldfA123host"), "no usable P"),
        (control("P$$$", "ldfA123host"), "no usable P"),
        (control("Palice", "l../../etc/passwd"), "bad df file name"),
    ],
)
async def test_bad_control_files_get_the_error_byte(
    intake: IntakeServer,
    registry: InMemoryJobRegistry,
    control_file: bytes,
    why: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = await LpdClient.connect(intake.lpd_port)
    assert await client.send(b"\x02lp\n") == b"\x00"
    assert await client.file(b"\x02", b"cfA001host", control_file) == (b"\x00", b"\x01")
    assert await client.finish() == b""
    assert registry.list_jobs() == []
    assert intake.service.counters["lpd_rejected"] == 1
    assert why in caplog.text


@pytest.mark.parametrize(
    "subcommand",
    [
        b"\x02999999 cfA001host\n",
        b"\x02 12 cfA001host\n",
        b"\x0212 cfA001/etc/x\n",
        b"\x0310 dfA001host/../x\n",
        b"\x030 dfA001host\n",
        b"\x09junk\n",
        b"\x02" + b"9" * 2000 + b"\n",
    ],
)
async def test_bad_subcommands_get_the_error_byte(intake: IntakeServer, subcommand: bytes) -> None:
    client = await LpdClient.connect(intake.lpd_port)
    assert await client.send(b"\x02lp\n") == b"\x00"
    assert await client.send(subcommand) == b"\x01"
    assert await client.finish() == b""


async def test_unsupported_command_and_queue_state(intake: IntakeServer) -> None:
    client = await LpdClient.connect(intake.lpd_port)
    assert await client.send(b"\x05lp root 12\n") == b"\x01"
    await client.finish()
    client = await LpdClient.connect(intake.lpd_port)
    client.writer.write(b"\x03lp\n")
    assert await client.finish() == b"printgate: jobs are held until released at a printer\n"


async def test_stalled_data_file_times_out_and_leaves_nothing(
    intake: IntakeServer, registry: InMemoryJobRegistry, spool: Spool
) -> None:
    client = await LpdClient.connect(intake.lpd_port)
    assert await client.send(b"\x02lp\n") == b"\x00"
    assert await client.file(b"\x02", b"cfA001host", control("Palice", "ldfA001host")) == (b"\x00", b"\x00")
    assert await client.send(b"\x03100000 dfA001host\n") == b"\x00"
    client.writer.write(b"x" * 1000)  # then stall past the 1 s idle timeout
    assert await asyncio.wait_for(client.reader.read(), 10) == b"\x01"
    client.writer.close()
    assert registry.list_jobs() == [] and spool.usage() == (0, 0)


async def test_abort_subcommand_discards_received_files(
    intake: IntakeServer, registry: InMemoryJobRegistry
) -> None:
    client = await LpdClient.connect(intake.lpd_port)
    assert await client.send(b"\x02lp\n") == b"\x00"
    assert await client.file(b"\x03", b"dfA001host", b"%PDF-1.4") == (b"\x00", b"\x00")
    assert await client.send(b"\x01\n") == b"\x00"
    assert await client.finish() == b""
    assert registry.list_jobs() == []


async def test_unknown_lpd_user_is_refused_with_the_error_byte(spool: Spool) -> None:
    from hub_server.intake import start_intake

    from .conftest import FAST_CONFIG

    known = InMemoryJobRegistry(users={"alice"})
    server = await start_intake(
        known, spool, ipp_listen=None, lpd_listen=("127.0.0.1", 0), config=FAST_CONFIG
    )
    try:
        client = await LpdClient.connect(server.lpd_port)
        assert await client.send(b"\x02lp\n") == b"\x00"
        assert await client.file(b"\x03", b"dfA001host", b"%PDF-1.4") == (b"\x00", b"\x00")
        assert await client.file(b"\x02", b"cfA001host", control("Pmallory", "ldfA001host")) == (
            b"\x00",
            b"\x01",
        )
        assert await client.finish() == b""
        assert known.list_jobs() == [] and spool.usage() == (0, 0)
        assert server.service.counters["owner_refused"] == 1
    finally:
        await server.close()
