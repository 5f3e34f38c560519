"""The credential cache (one full verification per credentials and TTL, failures always asked
of the hub) and the IPPS certificate replaced without a restart."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path

import pytest

from hub_server.intake import (
    CredentialCache,
    InMemoryJobRegistry,
    Operation,
    PemTlsSource,
    Spool,
    start_intake,
)

from .conftest import PASSWORDS, FakeHubPasswords, make_tls_files
from .ipp_client import http_post, read_response, request

pytestmark = pytest.mark.asyncio


class Clock:
    def __init__(self) -> None:
        self.now_s = 1000.0

    def __call__(self) -> float:
        return self.now_s


async def test_a_multi_request_job_costs_one_verification_until_the_ttl_ends() -> None:
    hub = FakeHubPasswords(dict(PASSWORDS), [])
    clock = Clock()
    cache = CredentialCache(hub.check(), ttl_s=60.0, clock=clock)
    assert [await cache.verified("alice", "alice-pw") for _ in range(5)] == [True] * 5
    assert hub.verified == ["alice"]
    clock.now_s += 61.0
    assert await cache.verified("alice", "alice-pw")
    assert hub.verified == ["alice", "alice"]


async def test_failures_are_never_cached_and_a_password_change_drops_the_entry() -> None:
    hub = FakeHubPasswords(dict(PASSWORDS), [])
    cache = CredentialCache(hub.check(), ttl_s=60.0, clock=Clock())
    assert [await cache.verified("bob", "guess") for _ in range(3)] == [False] * 3
    assert hub.verified == ["bob"] * 3  # each failure reaches the hub's lockout count
    assert await cache.verified("bob", "bob-pw")
    hub.passwords["bob"] = "new-pw"
    assert not await cache.verified("bob", "bob-pw")  # the old password stops at once
    assert await cache.verified("bob", "new-pw")
    assert hub.verified == ["bob"] * 6


async def test_concurrent_requests_with_the_same_credentials_share_one_verification() -> None:
    hub = FakeHubPasswords(dict(PASSWORDS), [])
    cache = CredentialCache(hub.check(), ttl_s=60.0, clock=Clock())
    results = await asyncio.gather(*(cache.verified("alice", "alice-pw") for _ in range(10)))
    assert results == [True] * 10 and hub.verified == ["alice"]


async def _served_serial(port: int, ca: Path) -> int:
    context = ssl.create_default_context(cafile=str(ca))
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", port, ssl=context, server_hostname="localhost"
    )
    try:
        der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
        writer.write(http_post(request(Operation.GET_PRINTER_ATTRIBUTES)))
        status, _, _ = await read_response(reader)
        assert status == 200
    finally:
        writer.close()
    from cryptography import x509

    return x509.load_der_x509_certificate(der).serial_number


async def test_ipps_serves_a_replaced_certificate_without_a_restart(
    registry: InMemoryJobRegistry, spool: Spool, tmp_path: Path
) -> None:
    first = make_tls_files(tmp_path / "one", serial=11)
    material = {"pem": (first.key_pem, first.chain_pem)}
    source = PemTlsSource(lambda: material["pem"], check_interval_s=0.0)
    server = await start_intake(registry, spool, ipp_listen=None, ipps_listen=("127.0.0.1", 0), tls=source)
    try:
        assert await _served_serial(server.ipps_port, first.ca_path) == 11
        second = make_tls_files(tmp_path / "two", serial=22)
        material["pem"] = (second.key_pem, second.chain_pem)
        assert await _served_serial(server.ipps_port, second.ca_path) == 22
        material["pem"] = (b"not a key", second.chain_pem)  # broken material: the last good stays
        assert await _served_serial(server.ipps_port, second.ca_path) == 22
        assert source.generation == 1
    finally:
        await server.close()


async def test_a_queue_that_authenticates_refuses_to_start_without_the_hubs_check(
    registry: InMemoryJobRegistry, spool: Spool
) -> None:
    from dataclasses import replace

    from .conftest import FAST_CONFIG

    with pytest.raises(ValueError, match="password check"):
        await start_intake(registry, spool, config=replace(FAST_CONFIG, authentication="basic"))
