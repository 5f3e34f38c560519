"""A tiny raw-socket IPP client for tests: exact control over framing, chunking and stalls."""

from __future__ import annotations

import asyncio
import base64
import ssl
import struct

from hub_server.intake import IppMessage, Tag, encode_message, parse_message


def request(
    operation: int,
    *attributes: tuple[int, str, object],
    job: list[tuple[int, str, object]] | None = None,
    request_id: int = 1,
    user: str | None = "alice",
) -> bytes:
    """An IPP/1.1 request with charset, language, printer-uri, optional user and attributes
    (a list value becomes a 1setOf attribute)."""
    message = IppMessage((1, 1), operation, request_id)
    group = message.new_group(Tag.OPERATION)
    group.add("attributes-charset", Tag.CHARSET, "utf-8")
    group.add("attributes-natural-language", Tag.NATURAL_LANGUAGE, "en")
    group.add("printer-uri", Tag.URI, "ipp://127.0.0.1/ipp/print")
    if user is not None:
        group.add("requesting-user-name", Tag.NAME, user)
    for tag, name, value in attributes:
        group.add(name, tag, *(value if isinstance(value, list) else [value]))
    if job:
        job_group = message.new_group(Tag.JOB)
        for tag, name, value in job:
            job_group.add(name, tag, value)
    return encode_message(message)


def http_post(body: bytes, *, chunked: bool = False, expect: bool = False, extra: str = "") -> bytes:
    """The bytes of an HTTP/1.1 POST carrying ``body``."""
    head = "POST /ipp/print HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/ipp\r\n" + extra
    if expect:
        head += "Expect: 100-continue\r\n"
    if chunked:
        framed = (
            b"".join(
                b"%x\r\n%s\r\n" % (len(body[i : i + 8192]), body[i : i + 8192])
                for i in range(0, len(body), 8192)
            )
            + b"0\r\n\r\n"
        )
        return (head + "Transfer-Encoding: chunked\r\n\r\n").encode() + framed
    return (head + f"Content-Length: {len(body)}\r\n\r\n").encode() + body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    """One HTTP response (skipping 100 Continue): status, headers, body."""
    while True:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        if status != 100:
            break
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
    body = await asyncio.wait_for(reader.readexactly(int(headers.get("content-length", "0"))), 10)
    return status, headers, body


# Ports that speak TLS (IPPS), and the client context trusting their certificate: the
# fixtures that start an IPPS listener register it here, so every helper speaks TLS to it.
TLS_PORTS: dict[int, ssl.SSLContext] = {}


async def connect(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A connection to the loopback ``port``, over TLS when it is an IPPS port."""
    tls = TLS_PORTS.get(port)
    return await asyncio.open_connection(
        "127.0.0.1", port, ssl=tls, server_hostname="localhost" if tls else None
    )


async def exchange(port: int, raw: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send raw HTTP bytes on a fresh connection and read one response."""
    reader, writer = await connect(port)
    try:
        writer.write(raw)
        await writer.drain()
        return await read_response(reader)
    finally:
        writer.close()


def basic_auth(user: str, password: str) -> str:
    """An HTTP Basic ``Authorization`` header line."""
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return f"Authorization: Basic {token}\r\n"


async def ipp(
    port: int,
    body: bytes,
    *,
    chunked: bool = False,
    expect: bool = False,
    auth: tuple[str, str] | None = None,
) -> IppMessage:
    """POST an IPP request (plus any document bytes), as ``auth`` (user, password) if given,
    and parse the IPP response."""
    extra = basic_auth(*auth) if auth else ""
    status, _, payload = await exchange(port, http_post(body, chunked=chunked, expect=expect, extra=extra))
    assert status == 200
    return parse_message(payload)[0]


def attribute(message: IppMessage, group_tag: int, name: str) -> object:
    """The first value of ``name`` in the first group with ``group_tag``."""
    group = message.group(group_tag)
    assert group is not None, f"no group 0x{group_tag:02x}"
    found = group.get(name)
    assert found is not None, f"no {name}"
    return found.first


def status_message(message: IppMessage) -> str:
    return str(attribute(message, Tag.OPERATION, "status-message"))


def raw_header(operation: int = 0x000B, request_id: int = 1, version: bytes = b"\x01\x01") -> bytes:
    return version + struct.pack(">Hi", operation, request_id)
