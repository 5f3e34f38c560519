"""The IPP server over real loopback sockets: operations, streaming, framing, hostile clients."""

from __future__ import annotations

import asyncio
import struct
from dataclasses import replace

import pytest

from hub_server.intake import (
    InMemoryJobRegistry,
    IntakeServer,
    JobState,
    Operation,
    Spool,
    Status,
    Tag,
    parse_message,
    start_intake,
)
from hub_server.intake.http_server import HttpRequest

from . import ipp_client
from .conftest import FAST_CONFIG, PASSWORDS, FakeHubPasswords, TlsFiles
from .ipp_client import (
    attribute,
    basic_auth,
    exchange,
    http_post,
    ipp,
    raw_header,
    read_response,
    request,
    status_message,
)

pytestmark = pytest.mark.asyncio

PDF_ARGS = ((Tag.MIME_MEDIA_TYPE, "document-format", "application/pdf"), (Tag.NAME, "job-name", "report.pdf"))


async def test_get_printer_attributes_advertises_formats_and_ops(intake: IntakeServer) -> None:
    response = await ipp(intake.ipp_port, request(Operation.GET_PRINTER_ATTRIBUTES))
    assert response.code == Status.OK
    printer = response.group(Tag.PRINTER)
    assert printer is not None
    formats = [v.value for v in printer.get("document-format-supported").values]  # type: ignore[union-attr]
    assert formats == [
        "application/pdf",
        "application/postscript",
        "image/pwg-raster",
        "application/vnd.hp-pjl",
        "image/jpeg",
        "image/urf",
        "application/octet-stream",
    ]
    operations = {v.value for v in printer.get("operations-supported").values}  # type: ignore[union-attr]
    assert operations == {0x02, 0x04, 0x05, 0x06, 0x08, 0x09, 0x0A, 0x0B, 0x39, 0x3B, 0x3C}
    assert attribute(response, Tag.PRINTER, "printer-uri-supported") == "ipp://127.0.0.1/ipp/print"


async def test_requested_attributes_filter(intake: IntakeServer) -> None:
    body = request(Operation.GET_PRINTER_ATTRIBUTES, (Tag.KEYWORD, "requested-attributes", "printer-name"))
    response = await ipp(intake.ipp_port, body)
    assert [a.name for a in response.group(Tag.PRINTER).attributes] == ["printer-name"]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "framing", [{}, {"chunked": True}, {"expect": True}, {"chunked": True, "expect": True}]
)
async def test_print_job_is_held_for_the_user_and_analysed(
    intake: IntakeServer, registry: InMemoryJobRegistry, spool: Spool, documents: dict, framing: dict
) -> None:
    pdf = documents["pdf"].read_bytes()
    body = request(
        Operation.PRINT_JOB,
        *PDF_ARGS,
        job=[(Tag.INTEGER, "copies", 2), (Tag.KEYWORD, "sides", "two-sided-long-edge")],
    )
    response = await ipp(intake.ipp_port, body + pdf, **framing)
    assert response.code == Status.OK, status_message(response)
    job_id = attribute(response, Tag.JOB, "job-id")
    assert attribute(response, Tag.JOB, "job-state") == JobState.PENDING_HELD
    await intake.service.wait_idle()
    record = registry.get_job(job_id)  # type: ignore[arg-type]
    assert record is not None
    assert (record.owner, record.job_name, record.size_bytes) == ("alice", "report.pdf", len(pdf))
    assert (record.ticket.copies, record.ticket.sides) == (2, "two-sided-long-edge")
    assert b"".join(spool.open_reader(record.spool_id)) == pdf  # type: ignore[arg-type]
    assert record.analysis is not None and record.analysis.page_count == 2
    assert [p.color for p in record.analysis.pages] == [False, True]


async def test_octet_stream_is_sniffed(
    intake: IntakeServer, registry: InMemoryJobRegistry, documents: dict
) -> None:
    body = request(Operation.PRINT_JOB, (Tag.MIME_MEDIA_TYPE, "document-format", "application/octet-stream"))
    response = await ipp(intake.ipp_port, body + documents["ps"].read_bytes())
    record = registry.get_job(attribute(response, Tag.JOB, "job-id"))  # type: ignore[arg-type]
    assert record is not None and record.document_format == "application/postscript"


async def test_create_job_send_document_get_and_cancel(
    authenticating_intake: IntakeServer, registry: InMemoryJobRegistry, spool: Spool
) -> None:
    port, alice = authenticating_intake.ipps_port, ("alice", PASSWORDS["alice"])
    created = await ipp(port, request(Operation.CREATE_JOB, (Tag.NAME, "job-name", "two-step")), auth=alice)
    job_id = attribute(created, Tag.JOB, "job-id")
    missing_last = await ipp(
        port, request(Operation.SEND_DOCUMENT, (Tag.INTEGER, "job-id", job_id)), auth=alice
    )
    assert missing_last.code == Status.BAD_REQUEST
    sent = await ipp(
        port,
        request(
            Operation.SEND_DOCUMENT, (Tag.INTEGER, "job-id", job_id), (Tag.BOOLEAN, "last-document", True)
        )
        + b"%!PS\nshowpage\n",
        auth=alice,
    )
    assert sent.code == Status.OK
    bob = await ipp(
        port,
        request(Operation.CANCEL_JOB, (Tag.INTEGER, "job-id", job_id), user="bob"),
        auth=("bob", PASSWORDS["bob"]),
    )
    assert bob.code == Status.NOT_AUTHORIZED
    details = await ipp(
        port, request(Operation.GET_JOB_ATTRIBUTES, (Tag.INTEGER, "job-id", job_id)), auth=alice
    )
    assert attribute(details, Tag.JOB, "job-name") == "two-step"
    assert attribute(details, Tag.JOB, "document-format") == "application/postscript"
    record = registry.get_job(job_id)  # type: ignore[arg-type]
    assert record is not None and record.owner_verified and record.spool_id
    cancelled = await ipp(port, request(Operation.CANCEL_JOB, (Tag.INTEGER, "job-id", job_id)), auth=alice)
    assert cancelled.code == Status.OK
    assert registry.get_job(job_id).state == JobState.CANCELED  # type: ignore[arg-type,union-attr]
    assert spool.entries() == []
    again = await ipp(port, request(Operation.CANCEL_JOB, (Tag.INTEGER, "job-id", job_id)), auth=alice)
    assert again.code == Status.NOT_POSSIBLE
    unknown = await ipp(port, request(Operation.GET_JOB_ATTRIBUTES, (Tag.INTEGER, "job-id", 999)))
    assert unknown.code == Status.NOT_FOUND


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (raw_header(version=b"\x00\x00") + b"\x01\x03", Status.VERSION_NOT_SUPPORTED),
        (request(Operation.GET_PRINTER_ATTRIBUTES, request_id=0), Status.BAD_REQUEST),
        (request(0x4001), Status.OPERATION_NOT_SUPPORTED),
        (
            request(Operation.PRINT_JOB, (Tag.MIME_MEDIA_TYPE, "document-format", "image/gif")) + b"GIF89a",
            Status.DOCUMENT_FORMAT_NOT_SUPPORTED,
        ),
        (
            request(Operation.PRINT_JOB, (Tag.KEYWORD, "compression", "gzip")) + b"x",
            Status.COMPRESSION_NOT_SUPPORTED,
        ),
        (
            request(
                Operation.PRINT_JOB,
                (Tag.BOOLEAN, "ipp-attribute-fidelity", True),
                job=[(Tag.INTEGER, "copies", 0)],
            )
            + b"%PDF",
            Status.ATTRIBUTES_OR_VALUES_NOT_SUPPORTED,
        ),
        (request(Operation.PRINT_JOB), Status.BAD_REQUEST),  # no document data
        (raw_header() + b"\x01\x03", Status.BAD_REQUEST),  # no charset/language
        (raw_header() + b"\x01\x47\x00", Status.BAD_REQUEST),  # truncated
        (
            raw_header() + b"\x01\x41\x00\x01t\xff\xff" + b"x" * 65535 + b"\x03",
            Status.REQUEST_ENTITY_TOO_LARGE,
        ),
    ],
)
async def test_bad_requests_get_clear_statuses(intake: IntakeServer, body: bytes, status: int) -> None:
    response = await ipp(intake.ipp_port, body)
    assert response.code == status, status_message(response)
    assert status_message(response)


async def test_unsupported_value_without_fidelity_is_ignored_and_reported(intake: IntakeServer) -> None:
    body = request(Operation.PRINT_JOB, job=[(Tag.KEYWORD, "sides", "three-sided")]) + b"%PDF-1.4"
    response = await ipp(intake.ipp_port, body)
    assert response.code == Status.OK_IGNORED_OR_SUBSTITUTED
    assert attribute(response, Tag.UNSUPPORTED_GROUP, "sides") == "three-sided"


async def test_ten_megabytes_of_attributes_bounded(intake: IntakeServer) -> None:
    values = (b"\x41\x00\x00\xea\x60" + b"x" * 60_000) * 170  # 10 MB of additional text values
    body = (
        raw_header()
        + b"\x01\x47\x00\x12attributes-charset\x00\x05utf-8\x41\x00\x03big\x00\x01x"
        + values
        + b"\x03"
    )
    status, headers, payload = await exchange(intake.ipp_port, http_post(body))
    assert status == 200
    assert struct.unpack(">H", payload[2:4])[0] == Status.REQUEST_ENTITY_TOO_LARGE
    assert headers["connection"] == "close"  # the rest was not drained
    assert intake.service.counters["ipp_malformed"] == 1


async def test_keep_alive_serves_two_requests_on_one_connection(intake: IntakeServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", intake.ipp_port)
    try:
        for request_id in (1, 2):
            writer.write(http_post(request(Operation.GET_PRINTER_ATTRIBUTES, request_id=request_id)))
            status, headers, payload = await read_response(reader)
            # HTTP/1.1 keeps the connection unless the server says "Connection: close"
            assert (status, headers.get("connection", "keep-alive")) == (200, "keep-alive")
            assert struct.unpack(">i", payload[4:8])[0] == request_id
    finally:
        writer.close()


async def test_stalled_upload_is_dropped_and_leaves_no_job(
    intake: IntakeServer, registry: InMemoryJobRegistry, spool: Spool
) -> None:
    raw = http_post(request(Operation.PRINT_JOB) + b"%PDF-1.4" + b"x" * 100_000)
    reader, writer = await asyncio.open_connection("127.0.0.1", intake.ipp_port)
    writer.write(raw[: len(raw) // 2])  # then silence
    status, _, _ = await read_response(reader)
    assert status == 408
    assert await reader.read() == b""  # closed by the server
    writer.close()
    assert registry.list_jobs() == [] and spool.usage() == (0, 0)
    assert intake.service.counters["upload_aborted"] == 1


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        # aiohttp answers a header line over the limit and a transfer coding it does not know
        # with 400 (the hand-written server said 431 and 501).
        (b"POST /ipp/print HTTP/1.1\r\nHost: h\r\nX: " + b"a" * 20_000 + b"\r\n\r\n", 400),
        (
            b"POST /ipp/print HTTP/1.1\r\nHost: h\r\nContent-Type: application/ipp\r\n"
            b"Content-Length: x\r\n\r\n",
            400,
        ),
        (
            b"POST /ipp/print HTTP/1.1\r\nHost: h\r\nContent-Type: application/ipp\r\n"
            b"Transfer-Encoding: gzip\r\n\r\n",
            400,
        ),
        (
            b"POST /ipp/print HTTP/1.1\r\nHost: h\r\nContent-Type: text/plain\r\nContent-Length: 0\r\n\r\n",
            415,
        ),
        (
            b"POST /ipp/print HTTP/1.1\r\nHost: h\r\nContent-Type: application/ipp\r\n"
            b"Transfer-Encoding: chunked\r\n\r\nzz\r\n",
            400,
        ),
        (b"DELETE /ipp/print HTTP/1.1\r\nHost: h\r\n\r\n", 405),
        (b"GET /nowhere HTTP/1.1\r\nHost: h\r\n\r\n", 404),
        # no Host header (RFC 9112 requires it of HTTP/1.1)
        (b"POST /ipp/print HTTP/1.1\r\nContent-Type: application/ipp\r\nContent-Length: 0\r\n\r\n", 400),
        (b"GARBAGE\r\n\r\n", 400),
    ],
)
async def test_bad_http_gets_http_errors(intake: IntakeServer, raw: bytes, status: int) -> None:
    assert (await exchange(intake.ipp_port, raw))[0] == status


async def test_unknown_owner_refused_or_held(registry: InMemoryJobRegistry, spool: Spool) -> None:
    known = InMemoryJobRegistry(users={"Alice"})
    for policy, expected in (("refuse", Status.NOT_AUTHORIZED), ("hold", Status.OK)):
        config = FAST_CONFIG.__class__(**{**FAST_CONFIG.__dict__, "unknown_owner": policy, "analysis": None})
        server = await start_intake(known, spool, config=config)
        try:
            response = await ipp(server.ipp_port, request(Operation.PRINT_JOB, user="stranger") + b"%PDF")
            assert response.code == expected
        finally:
            await server.close()
    [held] = known.list_jobs()
    assert (held.owner, held.submitted_by) == (None, "stranger")
    ok = await start_intake(known, spool, config=FAST_CONFIG)
    try:
        response = await ipp(ok.ipp_port, request(Operation.PRINT_JOB, user="alice") + b"%PDF")
        assert known.get_job(attribute(response, Tag.JOB, "job-id")).owner == "Alice"  # type: ignore[arg-type,union-attr]
    finally:
        await ok.close()


async def test_hostile_job_and_user_names_are_sanitised(
    intake: IntakeServer, registry: InMemoryJobRegistry
) -> None:
    names = []
    for job_name in ('Q3 "report"; rm -rf $HOME\x1b%-12345X@PJL SET COPIES=99', "..\\..\\etc/passwd"):
        body = request(Operation.PRINT_JOB, (Tag.NAME, "job-name", job_name), user="eve$(reboot)\n")
        response = await ipp(intake.ipp_port, body + b"%PDF")
        record = registry.get_job(attribute(response, Tag.JOB, "job-id"))  # type: ignore[arg-type]
        assert record is not None
        names.append((record.job_name, record.submitted_by))
    assert names == [("Q3 _report__ rm -rf _HOME@PJL SET COPIES_99", "evereboot"), ("passwd", "evereboot")]


async def test_ipps_with_tls(registry: InMemoryJobRegistry, spool: Spool, tls_files: TlsFiles) -> None:
    server = await start_intake(
        registry,
        spool,
        ipp_listen=None,
        ipps_listen=("127.0.0.1", 0),
        tls=tls_files.server_context(),
        config=FAST_CONFIG,
    )
    try:
        assert server.ipp_port == 0
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", server.ipps_port, ssl=tls_files.client_context(), server_hostname="localhost"
        )
        writer.write(http_post(request(Operation.GET_PRINTER_ATTRIBUTES)))
        status, _, payload = await read_response(reader)
        writer.close()
        response = parse_message(payload)[0]
        assert status == 200
        assert attribute(response, Tag.PRINTER, "printer-uri-supported") == "ipps://127.0.0.1/ipp/print"
        assert attribute(response, Tag.PRINTER, "uri-security-supported") == "tls"
    finally:
        await server.close()


async def test_required_authentication_files_the_job_under_the_authenticated_user(
    registry: InMemoryJobRegistry, spool: Spool, tls_files: TlsFiles, hub_passwords: FakeHubPasswords
) -> None:
    server = await start_intake(
        registry,
        spool,
        ipps_listen=("127.0.0.1", 0),
        tls=tls_files.server_context(),
        config=replace(FAST_CONFIG, authentication="required"),
        passwords=hub_passwords.check(),
    )
    ipp_client.TLS_PORTS[server.ipps_port] = tls_files.client_context()
    try:
        port = server.ipps_port
        body = request(Operation.PRINT_JOB, user="bob") + b"%PDF-1.4"
        status, headers, payload = await exchange(port, http_post(body))
        assert (status, headers["www-authenticate"]) == (401, 'Basic realm="printgate", charset="UTF-8"')
        assert parse_message(payload)[0].code == Status.NOT_AUTHENTICATED
        bad = http_post(body, extra=basic_auth("alice", "wrong"))
        assert (await exchange(port, bad))[0] == 401
        status, _, payload = await exchange(
            port, http_post(body, extra=basic_auth("alice", PASSWORDS["alice"]))
        )
        assert status == 200
        job_id = attribute(parse_message(payload)[0], Tag.JOB, "job-id")
        record = registry.get_job(job_id)  # type: ignore[arg-type]
        assert record is not None and (record.owner, record.owner_verified) == ("alice", True)
        assert registry.list_jobs() == [record]  # the refused attempts filed nothing
        assert server.service.counters["auth_failed"] == 1
        assert hub_passwords.verified == ["alice", "alice"]
    finally:
        del ipp_client.TLS_PORTS[server.ipps_port]
        await server.close()


class BrokenRegistry(InMemoryJobRegistry):
    """A registry whose storage fails, as a full disk would make SQLite fail."""

    def add_job(self, record):
        raise OSError("disk I/O error")


async def test_registry_failure_is_an_internal_error_and_the_server_survives(spool: Spool) -> None:
    server = await start_intake(BrokenRegistry(), spool, config=FAST_CONFIG)
    try:
        failed = await ipp(server.ipp_port, request(Operation.PRINT_JOB) + b"%PDF-1.4")
        assert (failed.code, status_message(failed)) == (Status.INTERNAL_ERROR, "internal error")
        assert spool.usage() == (0, 0)  # nothing orphaned in the spool
        assert (await ipp(server.ipp_port, request(Operation.GET_PRINTER_ATTRIBUTES))).code == Status.OK
    finally:
        await server.close()


async def test_connections_beyond_the_limit_are_closed_and_others_still_served(
    registry: InMemoryJobRegistry, spool: Spool
) -> None:
    config = FAST_CONFIG.__class__(**{**FAST_CONFIG.__dict__, "connections_max": 3, "idle_timeout_s": 5.0})
    server = await start_intake(registry, spool, config=config)
    try:
        stalled = [await asyncio.open_connection("127.0.0.1", server.ipp_port) for _ in range(3)]
        for _, writer in stalled:
            writer.write(b"POST /ipp/print HTTP/1.1\r\n")  # and never finish the head
        await until(lambda: len(server.connections) == 3)
        reader, writer = await asyncio.open_connection("127.0.0.1", server.ipp_port)
        assert await asyncio.wait_for(reader.read(), 10) == b""  # closed without an answer
        writer.close()
        assert server.service.counters["connections_refused"] == 1
        for _, stalled_writer in stalled:
            stalled_writer.close()
        await until(lambda: not server.connections)
        assert (await ipp(server.ipp_port, request(Operation.GET_PRINTER_ATTRIBUTES))).code == Status.OK
    finally:
        await server.close()


async def until(condition, timeout_s: float = 10.0) -> None:
    """Poll ``condition`` (server-side state) instead of sleeping a guessed time."""
    async with asyncio.timeout(timeout_s):
        while not condition():
            await asyncio.sleep(0.01)


async def test_oversized_attribute_section_is_refused_after_a_bounded_read(spool: Spool) -> None:
    """The IPP header reader stops at the attribute limit; it never buffers the 10 MB."""
    from hub_server.intake.http_server import BodyReader
    from hub_server.intake.ipp_printer import IppPrinter
    from hub_server.intake.service import IntakeService
    from hub_server.intake.transfer import TransferLimits

    service = IntakeService(InMemoryJobRegistry(), spool, FAST_CONFIG)
    values = (b"\x41\x00\x00\x10\x00" + b"x" * 4096) * 2560  # 10.5 MB of 4 KB text values
    body = raw_header() + b"\x01\x47\x00\x12attributes-charset\x00\x05utf-8\x41\x00\x03big\x00\x01x" + values
    stream = asyncio.StreamReader(limit=64 * 1024)
    stream.feed_data(body)
    stream.feed_eof()
    reader = BodyReader(stream, limits=TransferLimits(idle_timeout_s=1.0))
    response = await IppPrinter(service).handle_http(
        HttpRequest("POST", "/ipp/print", {"Content-Type": "application/ipp"}, reader)
    )
    assert struct.unpack(">H", response.body[2:4])[0] == Status.REQUEST_ENTITY_TOO_LARGE
    limit = FAST_CONFIG.ipp_limits.max_attributes_bytes
    assert limit < reader.bytes_read <= limit + 64 * 1024  # one read past the limit, not 10 MB
