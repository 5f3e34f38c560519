"""Hypothesis against the real IPP and LPD sockets: hostile bytes always get a clear answer,
are counted, and never create a job or disturb the next honest client."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import ssl
import struct
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub_server.intake import InMemoryJobRegistry, IntakeConfig, IntakeServer, Spool, start_intake

from .conftest import PASSWORDS, FakeHubPasswords, make_tls_files
from .test_ipp_codec import GOLDEN_REQUEST


class ThreadedIntake:
    """An intake running on its own event loop thread, for blocking-socket fuzzing."""

    def __init__(self, folder: Path, config: IntakeConfig | None = None) -> None:
        self.registry = InMemoryJobRegistry()
        self.spool = Spool(folder / "spool", os.urandom(32))
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        config = config or IntakeConfig(idle_timeout_s=0.5, analysis=None)
        # A queue that authenticates gets IPPS too (credentials are taken over TLS only).
        authenticates = config.authentication != "none"
        self.tls_files = make_tls_files(folder / "tls") if authenticates else None
        self.server: IntakeServer = asyncio.run_coroutine_threadsafe(
            start_intake(
                self.registry,
                self.spool,
                lpd_listen=("127.0.0.1", 0),
                ipps_listen=("127.0.0.1", 0) if self.tls_files else None,
                tls=self.tls_files.server_context() if self.tls_files else None,
                config=config,
                passwords=FakeHubPasswords(dict(PASSWORDS), []).check() if authenticates else None,
            ),
            self.loop,
        ).result(10)

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.server.close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture(scope="module")
def threaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedIntake]:
    intake = ThreadedIntake(tmp_path_factory.mktemp("fuzz-spool"))
    yield intake
    intake.close()


def post(port: int, body: bytes, extra_headers: str = "", tls: ssl.SSLContext | None = None) -> bytes:
    """One HTTP POST of ``body`` on a fresh blocking socket (TLS with ``tls``); the whole raw
    response (the server closes after it: ``Connection: close``)."""
    head = (
        f"POST /ipp/print HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/ipp\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n{extra_headers}\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=10) as plain:
        connection = tls.wrap_socket(plain, server_hostname="localhost") if tls else plain
        connection.sendall(head.encode() + body)
        data = b""
        while chunk := connection.recv(65536):
            data += chunk
    return data


FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(st.binary(max_size=600))
def test_random_ipp_bodies_get_an_ipp_error_status(threaded: ThreadedIntake, junk: bytes) -> None:
    jobs_before = len(threaded.registry.list_jobs())
    rejections_before = _rejections(threaded)
    response = post(threaded.server.ipp_port, junk)
    assert response.startswith(b"HTTP/1.1 200 OK\r\n")
    body = response.split(b"\r\n\r\n", 1)[1]
    status = struct.unpack(">H", body[2:4])[0]
    assert status >= 0x0400  # never a success for random bytes
    assert len(threaded.registry.list_jobs()) == jobs_before
    assert _rejections(threaded) == rejections_before + 1


def _rejections(threaded: ThreadedIntake) -> int:
    counters = threaded.server.service.counters
    return sum(count for name, count in counters.items() if name.startswith(("ipp_malformed", "ipp_status_")))


@FUZZ
@given(st.integers(min_value=8, max_value=len(GOLDEN_REQUEST) - 2), st.binary(min_size=1, max_size=6))
def test_mutated_requests_then_an_honest_client_is_served(
    threaded: ThreadedIntake, at: int, junk: bytes
) -> None:
    post(threaded.server.ipp_port, GOLDEN_REQUEST[:at] + junk + GOLDEN_REQUEST[at + len(junk) :])
    honest = post(threaded.server.ipp_port, GOLDEN_REQUEST.replace(b"ipp://localhost", b"ipp://127.0.0.1"))
    body = honest.split(b"\r\n\r\n", 1)[1]
    assert struct.unpack(">H", body[2:4])[0] == 0x0000


@FUZZ
@given(st.binary(min_size=1, max_size=300))
def test_random_lpd_bytes_get_error_byte_or_close(threaded: ThreadedIntake, junk: bytes) -> None:
    with socket.create_connection(("127.0.0.1", threaded.server.lpd_port), timeout=10) as connection:
        connection.sendall(junk)
        connection.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := connection.recv(4096):
            answer += chunk
    assert threaded.registry.list_jobs() == []
    # Acknowledgements, then at most one error byte; or the queue-state text.
    assert re.fullmatch(rb"\x00*\x01?", answer) or answer.startswith(b"printgate:")
