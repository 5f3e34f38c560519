"""The simulated MFP's jobs as a printer keeps them, driven with raw protocol bytes (no driver).

PJL (HP PJL reference): ``@PJL INFO`` and ``@PJL ECHO`` are answered on the 9100 back channel,
each reply ended by a form feed; PJL commands without page data print nothing. IPP (RFC 8011):
Create-Job makes a pending job, Send-Document gives it its document, Get-Job-Attributes reports
``job-state`` and ``job-impressions-completed``; a document cut off aborts the job. LPD (RFC
1179): a job prints once both files came whole. SNMP: hrPrinterStatus is printing(4) while jobs
wait for the engine.
"""

from __future__ import annotations

import asyncio
import struct

import pytest

from hw_sim.mfp import MfpSimServer
from hw_sim.mfp.sinks import decode_ipp_attributes

UEL = b"\x1b%-12345X"
JOB = UEL + b'@PJL\r\n@PJL USTATUS JOB=ON\r\n@PJL JOB NAME="j1"\r\n@PJL ENTER LANGUAGE=PCL\r\n'
JOB += b"\x1bEone\x0ctwo\x0c" + UEL + b'@PJL EOJ NAME="j1"\r\n' + UEL
HR_PRINTER_STATUS = (1, 3, 6, 1, 2, 1, 25, 3, 5, 1, 1, 1)


def run(coroutine):
    return asyncio.run(coroutine)


async def _raw(port: int, data: bytes, *, until: bytes = b"", half_close: bool = True) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    if half_close:
        writer.write_eof()
    answer = b""
    while until not in answer or not until:
        more = await asyncio.wait_for(reader.read(4096), 5)
        if not more:
            break
        answer += more
    writer.close()
    return answer


def _attr(tag: int, name: str, value: bytes) -> bytes:
    return bytes([tag]) + struct.pack(">H", len(name)) + name.encode() + struct.pack(">H", len(value)) + value


def _request(operation: int, *job_attributes: bytes, job_id: int | None = None) -> bytes:
    group = _attr(0x47, "attributes-charset", b"utf-8") + _attr(0x48, "attributes-natural-language", b"en")
    group += _attr(0x45, "printer-uri", b"ipp://127.0.0.1/ipp/print")
    if job_id is not None:
        group += _attr(0x21, "job-id", struct.pack(">i", job_id))
    if operation == 0x0006:
        group += _attr(0x22, "last-document", b"\x01")
    return struct.pack(">BBHI", 1, 1, operation, 7) + b"\x01" + group + b"".join(job_attributes) + b"\x03"


async def _ipp(port: int, body: bytes, *, cut_after: int | None = None) -> tuple[int, dict[str, list[bytes]]]:
    """POST one request (chunked); ``cut_after`` drops the connection after that many body bytes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        b"POST /ipp/print HTTP/1.1\r\nContent-Type: application/ipp\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    sent = body if cut_after is None else body[:cut_after]
    writer.write(b"%x\r\n%s\r\n" % (len(sent), sent))
    if cut_after is not None:
        await writer.drain()
        writer.transport.abort()
        return 0, {}
    writer.write(b"0\r\n\r\n")
    answer = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    head, _, payload = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    parsed = decode_ipp_attributes(payload)
    assert parsed is not None
    return parsed[0], parsed[2]


def _int(attributes: dict[str, list[bytes]], name: str) -> int:
    return int(struct.unpack(">i", attributes[name][0])[0])


def test_pjl_queries_are_answered_at_once_and_print_nothing() -> None:
    async def body():
        async with MfpSimServer("kyocera") as mfp:
            mfp.device.print_pages(12)
            query = (
                UEL
                + b"@PJL\r\n@PJL INFO PAGECOUNT\r\n@PJL INFO STATUS\r\n@PJL INFO FONTS\r\n@PJL ECHO tok 1\r\n"
            )
            # answered before the connection ends: a driver may wait for them before its job
            answer = await _raw(mfp.raw_port, query, until=b"@PJL ECHO tok 1\r\n\x0c", half_close=False)
            return answer, mfp.device.jobs, mfp.device.counts()["life_count"]

    answer, jobs, life = run(body())
    assert answer == (
        b"@PJL INFO PAGECOUNT\r\n12\r\n\x0c"
        b'@PJL INFO STATUS\r\nCODE=10001\r\nDISPLAY="Ready"\r\nONLINE=TRUE\r\n\x0c'
        b"@PJL INFO FONTS\r\n?\r\n\x0c"
        b"@PJL ECHO tok 1\r\n\x0c"
    )
    assert jobs == [] and life == 12


def test_a_paused_engine_keeps_jobs_waiting_and_says_so() -> None:
    async def body():
        async with MfpSimServer("kyocera") as mfp:
            mfp.device.pause_engine()
            started = await _raw(mfp.raw_port, JOB, until=b"START")
            waiting = list(mfp.device.queued), mfp.device.counts()["print_total"]
            status = await _raw(mfp.raw_port, UEL + b"@PJL INFO STATUS\r\n" + UEL, until=b"\x0c")
            _, mib = mfp.device.mib()
            busy_snmp = mib[HR_PRINTER_STATUS][1]
            mfp.device.resume_engine()
            _, mib = mfp.device.mib()
            return started, waiting, status, busy_snmp, mib[HR_PRINTER_STATUS][1], mfp.device.jobs

    started, (queued, printed_while_paused), status, busy_snmp, idle_snmp, jobs = run(body())
    assert started == b'@PJL USTATUS JOB\r\nSTART\r\nNAME="j1"\r\n\x0c'
    assert [job.name for job in queued] == ["j1"] and printed_while_paused == 0
    assert b"CODE=10023" in status and (busy_snmp, idle_snmp) == (4, 3)
    assert [(job.name, job.impressions) for job in jobs] == [("j1", 2)]


def test_raw_job_end_is_sent_once_printed() -> None:
    async def body():
        async with MfpSimServer("kyocera") as mfp:
            return await _raw(mfp.raw_port, JOB, until=b"RESULT=OK\r\n\x0c")

    assert run(body()).endswith(
        b'@PJL USTATUS JOB\r\nEND\r\nNAME="j1"\r\nPAGES=2\r\nID=1\r\nRESULT=OK\r\n\x0c'
    )


def test_ipp_create_job_send_document_and_job_states() -> None:
    async def body():
        async with MfpSimServer("kyocera") as mfp:
            port = mfp.ipp_port
            status, created = await _ipp(
                port, _request(0x0005, b"\x02" + _attr(0x21, "copies", struct.pack(">i", 2)))
            )
            job_id = _int(created, "job-id")
            _, pending = await _ipp(port, _request(0x0009, job_id=job_id))
            mfp.device.pause_engine()
            sent_status, _ = await _ipp(port, _request(0x0006, job_id=job_id) + JOB)
            _, processing = await _ipp(port, _request(0x0009, job_id=job_id))
            again, _ = await _ipp(port, _request(0x0006, job_id=job_id) + JOB)
            mfp.device.resume_engine()
            _, completed = await _ipp(port, _request(0x0009, job_id=job_id))
            missing, _ = await _ipp(port, _request(0x0009, job_id=99))
            return status, pending, sent_status, processing, again, completed, missing

    status, pending, sent_status, processing, again, completed, missing = run(body())
    assert (status, sent_status) == (0, 0)
    assert (_int(pending, "job-state"), pending["job-state-reasons"]) == (3, [b"job-incoming"])
    assert (_int(processing, "job-state"), _int(processing, "job-impressions-completed")) == (5, 0)
    assert again == 0x040C  # a second document for a job that has its one: not possible
    assert (_int(completed, "job-state"), _int(completed, "job-impressions-completed")) == (9, 4)
    assert completed["job-state-reasons"] == [b"job-completed-successfully"]
    assert missing == 0x0406


def test_ipp_document_cut_off_aborts_the_job_and_prints_nothing() -> None:
    async def body():
        async with MfpSimServer("kyocera") as mfp:
            _, created = await _ipp(mfp.ipp_port, _request(0x0005))
            job_id = _int(created, "job-id")
            request = _request(0x0006, job_id=job_id)
            await _ipp(mfp.ipp_port, request + JOB, cut_after=len(request) + 40)
            for _ in range(100):
                _, state = await _ipp(mfp.ipp_port, _request(0x0009, job_id=job_id))
                if _int(state, "job-state") != 3:
                    break
                await asyncio.sleep(0.02)
            cancel_status, _ = await _ipp(mfp.ipp_port, _request(0x0008, job_id=job_id))
            return state, mfp.device.jobs, cancel_status

    state, jobs, cancel_status = run(body())
    assert (_int(state, "job-state"), state["job-state-reasons"]) == (8, [b"aborted-by-system"])
    assert _int(state, "job-impressions-completed") == 0 and jobs == []
    assert cancel_status == 0x040C  # aborted already


def test_ipp_job_without_its_document_is_aborted_after_the_operation_timeout() -> None:
    async def body():
        async with MfpSimServer("kyocera") as mfp:
            mfp.ipp.multiple_operation_timeout_s = 0.1
            _, created = await _ipp(mfp.ipp_port, _request(0x0005))
            await asyncio.sleep(0.2)
            _, state = await _ipp(mfp.ipp_port, _request(0x0009, job_id=_int(created, "job-id")))
            return state

    assert _int(run(body()), "job-state") == 8


def test_lpd_job_prints_when_whole_even_if_its_last_acknowledgement_is_held() -> None:
    data = b"\x1bEone\x0c"
    control = b"Hhost\nPalice\nJlp-1\nldfA001host\n"

    async def body():
        async with MfpSimServer("kyocera") as mfp:
            reader, writer = await asyncio.open_connection("127.0.0.1", mfp.lpd_port)
            acks = b""
            for line, payload in (
                (b"\x02lp\n", None),
                (b"\x02%d cfA001host\n" % len(control), control + b"\x00"),
                (b"\x03%d dfA001host\n" % len(data), None),
            ):
                writer.write(line)
                acks += await asyncio.wait_for(reader.readexactly(1), 5)
                if payload:
                    writer.write(payload)
                    acks += await asyncio.wait_for(reader.readexactly(1), 5)
            mfp.behaviour.hold_answers()
            writer.write(data + b"\x00")
            await writer.drain()
            for _ in range(100):
                if mfp.device.jobs:
                    break
                await asyncio.sleep(0.02)
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(reader.read(1), 0.2)  # printed, not acknowledged
            mfp.behaviour.release_answers()
            last = await asyncio.wait_for(reader.readexactly(1), 5)
            writer.close()
            return acks, last, [(job.name, job.user, job.pages) for job in mfp.device.jobs]

    acks, last, jobs = run(body())
    assert acks == b"\x00" * 4 and last == b"\x00"
    assert jobs == [("lp-1", "alice", 1)]


def test_lpd_data_file_cut_off_prints_nothing() -> None:
    async def body():
        async with MfpSimServer("kyocera") as mfp:
            control = b"Pbob\nldfA002host\n"
            payload = (
                b"\x02lp\n\x02%d cfA002host\n" % len(control) + control + b"\x00" + b"\x03100 dfA002host\nabc"
            )
            await _raw(mfp.lpd_port, payload)
            await asyncio.sleep(0.1)
            return mfp.device.jobs

    assert run(body()) == []


def test_stall_after_bytes_holds_a_job_until_cleared() -> None:
    big = UEL + b"@PJL\r\n@PJL ENTER LANGUAGE=PCL\r\n" + b"x" * 200_000 + b"\x0c"

    async def body():
        async with MfpSimServer("kyocera") as mfp:
            mfp.behaviour.stall_after_bytes = 65536
            reader, writer = await asyncio.open_connection("127.0.0.1", mfp.raw_port)
            writer.write(big)
            writer.write_eof()  # all of it is on its way (the kernel buffers it)
            await asyncio.sleep(0.3)
            stalled = list(mfp.device.jobs)
            mfp.behaviour.stall_after_bytes = None
            await asyncio.wait_for(reader.read(), 10)
            writer.close()
            return stalled, [(job.pages, job.bytes_received) for job in mfp.device.jobs]

    stalled, jobs = run(body())
    assert stalled == [] and jobs == [(1, len(big))]
