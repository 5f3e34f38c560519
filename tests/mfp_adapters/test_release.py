"""Release transports (9100 + PJL, LPD, IPP) against the simulated MFP; PJL/IPP codecs; fuzzing."""

from __future__ import annotations

import asyncio
import contextlib
import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hw_sim.mfp import MfpSimServer
from mfp_adapters import ipp
from mfp_adapters.errors import (
    JobFormatError,
    ParseError,
    ReleaseError,
    ReleaseRefusedError,
    ReleaseTimeoutError,
)
from mfp_adapters.pjl import (
    UEL,
    EchoReply,
    InfoReply,
    JobOverrides,
    PjlReplyReader,
    PjlRewriter,
    PjlStatus,
    UstatusMessage,
    UstatusReader,
    query_block,
)
from mfp_adapters.release import (
    IppTransport,
    LpdTransport,
    Raw9100Transport,
    SendStart,
    ipp_job_status,
    pjl_status,
)
from tests.mfp_adapters.conftest import run

# pysnmp 7 calls its own deprecated pysmi helpers; that noise is not ours.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

JOB = (
    UEL + b"@PJL\r\n"
    b'@PJL JOB NAME="report.pdf"\r\n'
    b"@PJL SET COPIES=5\r\n"
    b"@PJL SET RESOLUTION=600\r\n"
    b"@PJL SET RENDERMODE=COLOR\r\n"
    b"@PJL ENTER LANGUAGE=PCL\r\n"
    b"\x1bEpage one\x0cpage two\x0cpage three\x0c" + UEL + b'@PJL EOJ NAME="report.pdf"\r\n' + UEL
)


async def chunks(data: bytes, size: int = 7):
    for start in range(0, len(data), size):
        yield data[start : start + size]


def rewrite(data: bytes, name: str, overrides: JobOverrides | None, size: int = 7) -> bytes:
    rewriter = PjlRewriter(name, overrides)
    out = b"".join(rewriter.feed(data[i : i + size]) for i in range(0, len(data), size))
    return out + rewriter.finish()


def test_header_rewrite_exact_bytes():
    out = rewrite(JOB, "rel-7", JobOverrides(copies=2, duplex=True, mono=True))
    header = (
        UEL + b"@PJL\r\n"
        b"@PJL USTATUS JOB=ON\r\n"
        b'@PJL JOB NAME="rel-7"\r\n'
        b"@PJL SET QTY=2\r\n"
        b"@PJL SET DUPLEX=ON\r\n"
        b"@PJL SET BINDING=LONGEDGE\r\n"
        b"@PJL SET RENDERMODE=GRAYSCALE\r\n"
        b"@PJL SET RESOLUTION=600\r\n"
        b"@PJL ENTER LANGUAGE=PCL\r\n"
    )
    assert out == header + JOB[JOB.index(b"\x1bE") :]


def test_header_rewrite_without_overrides_keeps_the_jobs_settings():
    out = rewrite(JOB, "x", None)
    assert b"@PJL SET COPIES=5\r\n" in out and b"RENDERMODE=COLOR" in out
    assert out.count(b"@PJL JOB") == 1 and b'NAME="x"' in out


def test_device_hold_settings_are_dropped_at_release():
    header = b'@PJL SET HOLD=ON\r\n@PJL SET HOLDKEY="1234"\r\n@PJL SET USERNAME="al"\r\n'
    job = UEL + header + b"@PJL ENTER LANGUAGE=PCL\r\nx"
    out = rewrite(job, "r", None)
    assert b"HOLD" not in out and b'@PJL SET USERNAME="al"\r\n' in out


def test_job_without_pjl_is_wrapped_with_sniffed_language():
    out = rewrite(b"%!PS-Adobe-3.0\nshowpage\n", 'we"ird\nname', JobOverrides(copies=3))
    assert out.startswith(
        UEL + b'@PJL\r\n@PJL USTATUS JOB=ON\r\n@PJL JOB NAME="we_ird_name"\r\n@PJL SET QTY=3\r\n'
    )
    assert b"@PJL ENTER LANGUAGE=POSTSCRIPT\r\n%!PS-Adobe-3.0\nshowpage\n" in out
    assert out.endswith(UEL + b'@PJL EOJ NAME="we_ird_name"\r\n' + UEL)


def test_endless_pjl_header_is_refused():
    rewriter = PjlRewriter("x")
    rewriter.feed(UEL + b"@PJL\r\n")
    with pytest.raises(JobFormatError):
        for _ in range(2000):
            rewriter.feed(b"@PJL COMMENT padding padding padding\r\n")


def test_overrides_are_validated():
    with pytest.raises(JobFormatError):
        JobOverrides(copies=0)


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 200), st.binary(max_size=400))
def test_rewrite_does_not_depend_on_chunking(size, tail):
    data = JOB + tail
    assert rewrite(data, "n", JobOverrides(mono=True), size) == rewrite(
        data, "n", JobOverrides(mono=True), 10_000
    )


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600), st.integers(1, 64))
def test_rewriter_never_crashes_on_random_jobs(data, size):
    with contextlib.suppress(JobFormatError):
        out = rewrite(data, "n", JobOverrides(copies=2), size)
        assert out.startswith(UEL + b"@PJL\r\n@PJL USTATUS JOB=ON\r\n")


def test_ustatus_reader_parses_the_hp_example_split_anywhere():
    reply = (
        b'@PJL USTATUS JOB\r\nSTART\r\nNAME="X"\r\n\x0c'
        b'@PJL USTATUS JOB\r\nEND\r\nNAME="X"\r\nPAGES=3\r\nID=346\r\nRESULT=OK\r\n\x0c'
    )
    for cut in range(len(reply) + 1):
        reader = UstatusReader()
        messages = reader.feed(reply[:cut]) + reader.feed(reply[cut:])
        assert [(m.event, m.name, m.pages, m.job_id, m.result) for m in messages] == [
            ("START", "X", None, None, None),
            ("END", "X", 3, 346, "OK"),
        ]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=200), max_size=10))
def test_ustatus_reader_survives_garbage(pieces):
    reader = UstatusReader()
    for piece in pieces:
        for message in reader.feed(piece):
            assert message.event in ("START", "END")
            assert message.pages is None or 0 <= message.pages < 10**9


def test_ustatus_reader_bounds_a_runaway_message():
    reader = UstatusReader()
    assert reader.feed(b"@PJL USTATUS JOB\r\n" + b"A" * 100_000) == []
    assert reader.discarded_bytes > 0


def test_raw9100_release_reports_pages_and_applies_overrides():
    async def body():
        async with MfpSimServer("kyocera") as mfp:
            transport = Raw9100Transport("127.0.0.1", mfp.raw_port, end_timeout_s=10)
            result = await transport.send(
                chunks(JOB), "rel-1", JobOverrides(copies=2, duplex=True, mono=True)
            )
            return result, mfp.device.jobs[-1], mfp.device.counts()

    result, job, counts = run(body())
    assert (result.pages_reported, result.device_result, result.job_name) == (6, "OK", "rel-1")
    assert (job.name, job.pages, job.copies, job.color, job.duplex) == ("rel-1", 3, 2, False, True)
    # the connection carried the page-count query first, then the job
    assert job.bytes_received == len(query_block(("PAGECOUNT",), "printgate-" + "0" * 12)) + result.bytes_sent
    assert (counts["print_mono"], counts["print_color"], counts["duplex"]) == (6, 0, 6)


def test_raw9100_job_without_pjl_is_counted_in_colour():
    async def body():
        async with MfpSimServer("kyocera") as mfp:
            transport = Raw9100Transport("127.0.0.1", mfp.raw_port, end_timeout_s=10)
            result = await transport.send(chunks(b"hello\x0cworld"), "plain")
            return result, mfp.device.counts()

    result, counts = run(body())
    assert result.pages_reported == 2 and counts["print_color"] == 2


def test_raw9100_jammed_device_reports_cancel():
    async def body():
        async with MfpSimServer("kyocera") as mfp:
            mfp.device.jam()
            transport = Raw9100Transport("127.0.0.1", mfp.raw_port, end_timeout_s=10)
            return await transport.send(chunks(JOB), "j")

    result = run(body())
    assert (result.pages_reported, result.device_result) == (0, "RESOURCE_CANCELED")


def test_raw9100_peer_that_never_answers_gives_no_page_count_in_bounded_time():
    async def body():
        async with MfpSimServer("kyocera") as mfp:
            mfp.behaviour.raw_silent = True
            transport = Raw9100Transport("127.0.0.1", mfp.raw_port, end_timeout_s=0.5)
            return await transport.send(chunks(JOB), "silent")

    result = run(body())
    assert result.pages_reported is None and result.bytes_sent > 0


def test_raw9100_peer_that_stops_reading_is_a_timeout():
    async def endless():
        block = b"\x00" * 65536
        for _ in range(4096):  # 256 MiB at most; the timeout fires long before
            yield block

    async def body():
        async with MfpSimServer("kyocera") as mfp:
            mfp.behaviour.raw_stall = True
            transport = Raw9100Transport("127.0.0.1", mfp.raw_port, write_timeout_s=0.5)
            with pytest.raises(ReleaseTimeoutError):
                await transport.send(endless(), "stalled")

    run(body())


def test_release_to_a_closed_port_is_a_release_error():
    async def body():
        async with MfpSimServer("kyocera") as mfp:
            port = mfp.raw_port
        with pytest.raises(ReleaseError):
            await Raw9100Transport("127.0.0.1", port, connect_timeout_s=2).send(chunks(JOB), "x")

    run(body())


def test_release_streams_with_bounded_memory():
    size = 16 * 1024 * 1024

    async def big():
        header = UEL + b"@PJL\r\n@PJL ENTER LANGUAGE=PCL\r\n"
        yield header
        block = (b"x" * 4095 + b"\x0c") * 16
        for _ in range(size // len(block)):
            yield block

    async def body():
        async with MfpSimServer("kyocera") as mfp:
            transport = Raw9100Transport("127.0.0.1", mfp.raw_port, end_timeout_s=30)
            tracemalloc.start()
            try:
                result = await transport.send(big(), "big")
                peak = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
            return result, peak

    result, peak = run(body())
    assert result.pages_reported == size // 4096
    assert peak < 4 * 1024 * 1024, peak  # 16 MiB went through; client and simulator both stream


def test_lpd_release_sends_rfc1179_control_and_data():
    async def body():
        async with MfpSimServer("kyocera") as mfp:
            transport = LpdTransport("127.0.0.1", mfp.lpd_port, queue="raw", user="alice")
            result = await transport.send(chunks(JOB), "rel-2", JobOverrides(copies=3))
            return result, mfp.device.jobs[-1], mfp.lpd.control_files[-1].decode()

    result, job, control = run(body())
    assert result.pages_reported is None and result.bytes_sent == job.bytes_received
    assert (job.protocol, job.user, job.name, job.pages, job.copies) == ("lpd", "alice", "rel-2", 3, 3)
    lines = control.splitlines()
    assert lines[1:3] == ["Palice", "Jrel-2"] and lines[3].startswith("ldfA")
    assert lines[0].startswith("H") and lines[4] == "Nrel-2"


def test_lpd_negative_acknowledgement_is_a_refusal():
    async def nak(reader, writer):
        await reader.readline()
        writer.write(b"\x01")
        await writer.drain()
        writer.close()

    async def body():
        server = await asyncio.start_server(nak, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            with pytest.raises(ReleaseRefusedError):
                await LpdTransport("127.0.0.1", port, timeout_s=2).send(chunks(JOB), "x")
        finally:
            server.close()
            await server.wait_closed()

    run(body())


def test_ipp_release_sends_overrides_as_attributes_and_reads_impressions():
    document = UEL + b"@PJL\r\n@PJL ENTER LANGUAGE=PCL\r\n\x1bEa\x0cb\x0c" + UEL

    async def body():
        async with MfpSimServer("kyocera") as mfp:
            transport = IppTransport(mfp.ipp_uri, user="bob", end_timeout_s=5)
            result = await transport.send(
                chunks(document), "rel-3", JobOverrides(copies=2, duplex=True, mono=True)
            )
            return result, mfp.device.jobs[-1], mfp.ipp.requests

    result, job, requests = run(body())
    attributes = requests[0]
    assert (result.pages_reported, result.job_id, result.bytes_sent) == (4, 1, len(document))
    assert (job.protocol, job.user, job.name, job.copies, job.color, job.duplex) == (
        "ipp",
        "bob",
        "rel-3",
        2,
        False,
        True,
    )
    # Create-Job carries the job's attributes, Send-Document the document, then Get-Job-Attributes
    assert [sorted(request) for request in requests] == [
        ["attributes-charset", "attributes-natural-language", "copies", "job-name", "print-color-mode",
         "printer-uri", "requesting-user-name", "sides"],
        ["attributes-charset", "attributes-natural-language", "document-format", "job-id", "last-document",
         "printer-uri", "requesting-user-name"],
        ["attributes-charset", "attributes-natural-language", "job-id", "printer-uri",
         "requesting-user-name"],
    ]  # fmt: skip
    assert requests[1]["job-id"] == [b"\x00\x00\x00\x01"] and requests[1]["last-document"] == [b"\x01"]
    assert attributes["copies"] == [b"\x00\x00\x00\x02"]
    assert attributes["print-color-mode"] == [b"monochrome"]
    assert attributes["sides"] == [b"two-sided-long-edge"]


def test_ipp_answer_on_a_kept_alive_connection_is_read_to_its_length():
    answer = ipp.encode(
        ipp.IppMessage(0x0000, 1, [(0x02, [ipp.IppAttribute(ipp.TAG_INTEGER, "job-id", (9,))])])
    )

    async def keep_alive(reader, writer):
        while (await reader.readline()) not in (b"0\r\n", b""):
            pass
        await reader.readline()
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(answer) + answer)
        await writer.drain()
        await asyncio.sleep(30)  # never closes on its own

    async def body():
        server = await asyncio.start_server(keep_alive, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            transport = IppTransport(f"ipp://127.0.0.1:{port}/ipp/print", timeout_s=5, end_timeout_s=0)
            return await asyncio.wait_for(transport.send(chunks(b"doc"), "k"), 10)
        finally:
            server.close()

    result = run(body())
    assert (result.job_id, result.pages_reported, result.device_result) == (9, None, "0x0000")


def test_ipp_error_status_is_a_refusal_and_an_aborted_job_reports_no_pages():
    refusal = ipp.encode(ipp.IppMessage(0x0400, 1, [(0x01, [])]))

    async def bad_request(reader, writer):
        while (await reader.readline()) not in (b"0\r\n", b""):
            pass
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(refusal) + refusal)
        await writer.drain()
        writer.close()

    async def body():
        server = await asyncio.start_server(bad_request, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            with pytest.raises(ReleaseRefusedError):
                await IppTransport(f"ipp://127.0.0.1:{port}/ipp/print", timeout_s=5).send(chunks(b"doc"), "r")
        finally:
            server.close()
        async with MfpSimServer("kyocera") as mfp:
            mfp.device.jam()
            return await IppTransport(mfp.ipp_uri, end_timeout_s=5).send(chunks(JOB), "jammed")

    result = run(body())
    assert (result.pages_reported, result.job_id) == (None, 1)


def test_ipp_codec_round_trip():
    message = ipp.IppMessage(
        0x0002,
        7,
        [
            (0x01, [ipp.IppAttribute(ipp.TAG_CHARSET, "attributes-charset", ("utf-8",))]),
            (
                0x02,
                [ipp.IppAttribute(ipp.TAG_INTEGER, "copies", (3,)), ipp.IppAttribute(0x44, "k", ("a", "b"))],
            ),
        ],
    )
    data = ipp.encode(message) + b"DOCUMENT"
    decoded, offset = ipp.decode(data)
    assert decoded == message and data[offset:] == b"DOCUMENT"
    assert decoded.get("copies") == 3


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=300))
def test_ipp_decoder_rejects_garbage_cleanly(data):
    with contextlib.suppress(ParseError):
        _message, offset = ipp.decode(data)
        assert 9 <= offset <= len(data)


def test_lpd_sink_survives_garbage_connections():
    garbage = [
        b"\x02q\n\x02abc cfA\n",
        b"\x03q\n",
        b"\x02q\n\x02999999999999999999 cfA1h\n",
        b"\xff" * 100,
        b"",
    ]

    async def body():
        async with MfpSimServer("kyocera") as mfp:
            for payload in garbage:
                reader, writer = await asyncio.open_connection("127.0.0.1", mfp.lpd_port)
                writer.write(payload)
                writer.write_eof()
                await asyncio.wait_for(reader.read(), 5)
                writer.close()
            result = await LpdTransport("127.0.0.1", mfp.lpd_port).send(chunks(JOB), "after")
            return result, len(mfp.device.jobs)

    result, jobs = run(body())
    assert jobs == 1 and result.job_name == "after"


# -- the start hook and asking the printer afterwards ------------------------------------------


def test_pjl_back_channel_replies_are_parsed_split_anywhere():
    stream = (
        b"@PJL INFO PAGECOUNT\r\n1234\r\n\x0c"
        b'@PJL INFO STATUS\r\nCODE=10023\r\nDISPLAY="Processing job"\r\nONLINE=TRUE\r\n\x0c'
        b"@PJL INFO PAGECOUNT\r\nPAGECOUNT=99\r\n\x0c"
        b"@PJL ECHO printgate-1\r\n\x0c"
        b'@PJL USTATUS JOB\r\nEND\r\nNAME="x"\r\nPAGES=2\r\n\x0c'
    )
    for size in (1, 3, 7, len(stream)):
        reader = PjlReplyReader()
        messages = [m for i in range(0, len(stream), size) for m in reader.feed(stream[i : i + size])]
        first, status, second, echo, end = messages
        assert (
            isinstance(first, InfoReply) and isinstance(status, InfoReply) and isinstance(second, InfoReply)
        )
        assert isinstance(end, UstatusMessage)
        assert (first.category, first.number, second.number) == ("PAGECOUNT", 1234, 99)
        pjl = PjlStatus.from_replies(status, first)
        assert (pjl.code, pjl.display, pjl.online, pjl.page_count) == (10023, "Processing job", True, 1234)
        assert pjl.busy and not pjl.needs_attention
        assert echo == EchoReply("printgate-1") and (end.event, end.pages) == ("END", 2)
    assert PjlStatus(40021, "Cover open", False).needs_attention
    assert not PjlStatus(10001, "Ready", True).busy


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=80), max_size=20))
def test_pjl_reply_reader_survives_garbage(pieces):
    reader = PjlReplyReader()
    for piece in pieces:
        for message in reader.feed(piece):
            if isinstance(message, InfoReply):
                assert message.number is None or 0 <= message.number < 10**9


def test_query_block_refuses_tokens_that_would_break_the_line():
    assert query_block(("STATUS",), "tok") == UEL + b"@PJL\r\n@PJL INFO STATUS\r\n@PJL ECHO tok\r\n"
    for token in ("two words", "x\r\n@PJL SET", ""):
        with pytest.raises(JobFormatError):
            query_block(("STATUS",), token)


def test_raw9100_start_hook_gets_the_page_counter_before_the_first_byte():
    seen = []

    async def body():
        async with MfpSimServer("kyocera") as mfp:
            mfp.device.print_pages(41)

            async def on_start(start: SendStart) -> None:
                seen.append((start, len(mfp.device.jobs)))

            transport = Raw9100Transport("127.0.0.1", mfp.raw_port, end_timeout_s=10)
            return await transport.send(chunks(JOB), "hooked", on_start=on_start)

    result = run(body())
    assert seen == [(SendStart("raw9100", "hooked", page_count=41), 0)]
    assert result.pages_reported == 15


def test_a_start_hook_that_fails_sends_nothing_and_cancels_the_ipp_job():
    async def refuse(start: SendStart) -> None:
        raise RuntimeError("cannot record")

    async def body():
        async with MfpSimServer("kyocera") as mfp:
            for transport in (
                Raw9100Transport("127.0.0.1", mfp.raw_port),
                LpdTransport("127.0.0.1", mfp.lpd_port),
                IppTransport(mfp.ipp_uri),
            ):
                with pytest.raises(RuntimeError):
                    await transport.send(chunks(JOB), "refused", on_start=refuse)
            await asyncio.sleep(0.2)  # the printer handles the closed connections
            return mfp.device.jobs, mfp.device.counts()["print_total"], mfp.ipp.jobs[1].state

    jobs, printed, ipp_state = run(body())
    assert jobs == [] and printed == 0
    assert ipp_state == ipp.JOB_CANCELED


def test_ipp_job_id_reaches_the_hook_and_the_job_state_can_be_asked_later():
    seen: list[object] = []

    async def body():
        async with MfpSimServer("kyocera") as mfp:
            mfp.device.pause_engine()

            async def on_start(start: SendStart) -> None:
                assert start.printer_job_id is not None
                seen.append(start)
                seen.append((await ipp_job_status(mfp.ipp_uri, start.printer_job_id)).state)

            transport = IppTransport(mfp.ipp_uri, end_timeout_s=0.3, poll_interval_s=0.1)
            result = await transport.send(chunks(JOB), "later", on_start=on_start)
            busy = await ipp_job_status(mfp.ipp_uri, 1)
            mfp.device.resume_engine()
            done = await ipp_job_status(mfp.ipp_uri, 1)
            mfp.ipp.forget_jobs()
            return result, busy, done, await ipp_job_status(mfp.ipp_uri, 1)

    result, busy, done, forgotten = run(body())
    assert seen == [SendStart("ipp", "later", printer_job_id=1), 3]  # pending: no document yet
    assert result.pages_reported is None  # still printing when the transport stopped asking
    assert (busy.state, busy.reasons, busy.finished) == (5, ("job-printing",), False)
    assert (done.state, done.impressions, done.finished) == (9, 15, True)
    assert not forgotten.known and forgotten.state is None


def test_ipp_printer_without_create_job_gets_print_job():
    answers = iter([0x0501, 0x0000, 0x0000])
    operations = []

    async def printer(reader, writer):
        head = await reader.readuntil(b"\r\n\r\n")
        assert b"chunked" in head.lower()
        body = b""
        while (size := int((await reader.readline()).strip(), 16)) != 0:
            body += await reader.readexactly(size + 2)
        operations.append(int.from_bytes(body[2:4], "big"))
        groups = [(0x02, [ipp.IppAttribute(ipp.TAG_INTEGER, "job-id", (5,)),
                          ipp.IppAttribute(ipp.TAG_ENUM, "job-state", (9,)),
                          ipp.IppAttribute(ipp.TAG_INTEGER, "job-impressions-completed", (2,))])]  # fmt: skip
        answer = ipp.encode(ipp.IppMessage(next(answers), 1, groups))
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(answer) + answer)
        await writer.drain()
        writer.close()

    starts = []

    async def on_start(start: SendStart) -> None:
        starts.append(start)

    async def body():
        server = await asyncio.start_server(printer, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            transport = IppTransport(f"ipp://127.0.0.1:{port}/ipp/print", timeout_s=5)
            return await transport.send(chunks(b"doc"), "old", on_start=on_start)
        finally:
            server.close()

    result = run(body())
    assert operations == [0x0005, 0x0002, 0x0009]  # Create-Job refused as unsupported
    assert starts == [SendStart("ipp", "old")] and (result.job_id, result.pages_reported) == (5, 2)


def test_pjl_status_asks_a_connection_of_its_own_and_prints_nothing():
    async def body():
        async with MfpSimServer("kyocera") as mfp:
            mfp.device.print_pages(7)
            idle = await pjl_status("127.0.0.1", mfp.raw_port)
            mfp.device.pause_engine()
            await Raw9100Transport("127.0.0.1", mfp.raw_port, end_timeout_s=0.2).send(chunks(JOB), "q")
            busy = await pjl_status("127.0.0.1", mfp.raw_port)
            mfp.device.jam()
            jammed = await pjl_status("127.0.0.1", mfp.raw_port)
            mfp.behaviour.hold_answers()
            with pytest.raises(ReleaseTimeoutError):
                await pjl_status("127.0.0.1", mfp.raw_port, timeout_s=0.3)
            return idle, busy, jammed, mfp.device.jobs, mfp.device.queued

    idle, busy, jammed, printed, queued = run(body())
    assert (idle.code, idle.online, idle.page_count, idle.busy) == (10001, True, 7, False)
    assert (busy.code, busy.busy, busy.page_count) == (10023, True, 7)  # the job waits: not counted yet
    assert (jammed.code, jammed.online, jammed.needs_attention) == (42000, False, True)
    assert printed == [] and [job.name for job in queued] == ["q"]
