"""Real TLS on loopback: reloadable server credentials, the identity of mutual-TLS callers, and
every kind of client certificate the device listener must refuse."""

from __future__ import annotations

import asyncio
import shutil
import socket
import ssl
import subprocess
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from hub_server.pki import DeviceIdentity, PkiConfig
from hub_server.pki.authority import CertificateAuthority
from tests.hub_server.pki.rig import csr_pem, key_pem, make_ca, running_pki

PEER = "ipv4:127.0.0.1:40000"


def presented_serial(port: int) -> int:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    context.set_alpn_protocols(["h2"])
    with socket.create_connection(("127.0.0.1", port)) as raw, context.wrap_socket(raw) as tls:
        der = tls.getpeercert(binary_form=True)
    assert der
    return x509.load_der_x509_certificate(der).serial_number


async def enrolled(rig, device_id: str = "t1", kind: str = "terminal"):
    key = ec.generate_private_key(ec.SECP256R1())
    issued = await rig.pki.enroller.enroll(
        await rig.token(kind, device_id=device_id), kind, csr_pem(key), PEER
    )
    return key, issued


async def test_the_server_certificate_is_replaced_without_a_restart(sqlite_db, tmp_path: Path, clock) -> None:
    config = PkiConfig(directory=tmp_path / "pki", server_names=("localhost",))
    async with running_pki(sqlite_db, tmp_path, clock, config=config) as rig:
        before = presented_serial(rig.enrollment_port)
        assert before == rig.pki.material.server_chain[0].serial_number
        # Explicit reload: the admin changed the names the hub is reached by.
        rig.pki.tls._config = PkiConfig(directory=tmp_path / "pki", server_names=("localhost", "127.0.0.1"))
        configuration = rig.pki.tls.reload()
        assert configuration is not None
        after = presented_serial(rig.enrollment_port)
        assert after == rig.pki.material.server_chain[0].serial_number != before
        assert presented_serial(rig.device_port) == after  # both listeners follow
        # A trusted client verifying by IP now succeeds (the new certificate names it).
        key, issued = await enrolled(rig)
        seen = await rig.check_health(key_pem(key), issued.certificate_pem() + issued.chain_pem())
        assert seen["device-id"] == "t1"


async def test_changed_files_are_picked_up_by_the_next_handshake(sqlite_db, tmp_path: Path, clock) -> None:
    async with running_pki(sqlite_db, tmp_path, clock) as rig:
        rig.pki.tls._check_interval_s = 0.0
        before = presented_serial(rig.enrollment_port)
        # Another tool (or an admin) put a new server certificate in place.
        authority = rig.pki.material.authority
        key = ec.generate_private_key(ec.SECP256R1())
        leaf = authority.issue_server(
            ["localhost", "127.0.0.1"], key.public_key(), clock.now_us(), 86_400 * 365
        )
        from hub_server.pki.keys import pem_of, write_file_atomic

        directory = rig.pki.config.directory
        write_file_atomic(directory / "server.key", key_pem(key), 0o600)
        write_file_atomic(directory / "server.crt", pem_of([leaf, *authority.chain]), 0o644)
        assert presented_serial(rig.enrollment_port) == leaf.serial_number != before
        # A broken file is logged and ignored: the last good certificate stays.
        (directory / "server.crt").write_bytes(b"not a certificate")
        assert presented_serial(rig.enrollment_port) == leaf.serial_number


async def test_a_device_is_identified_by_its_certificate(sqlite_db, tmp_path: Path, clock) -> None:
    async with running_pki(sqlite_db, tmp_path, clock) as rig:
        key, issued = await enrolled(rig, "kiosk-7", "kiosk")
        seen = await rig.check_health(key_pem(key), issued.certificate_pem() + issued.chain_pem())
        assert seen == {"device-kind": "kiosk", "device-id": "kiosk-7", "serial": issued.serial}
        assert issued.identity == DeviceIdentity("kiosk", "kiosk-7")


async def refused(rig, key_pem_bytes, chain_pem_bytes) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await rig.check_health(key_pem_bytes, chain_pem_bytes)
    return caught.value


async def test_no_client_certificate_is_refused_at_the_handshake(sqlite_db, tmp_path, clock) -> None:
    async with running_pki(sqlite_db, tmp_path, clock) as rig:
        error = await refused(rig, None, None)
        assert error.code() == grpc.StatusCode.UNAVAILABLE


async def test_a_certificate_from_another_ca_is_refused(sqlite_db, tmp_path, clock) -> None:
    async with running_pki(sqlite_db, tmp_path, clock) as rig:
        ca_key, ca_certificate = make_ca()
        other = CertificateAuthority(ca_key, (ca_certificate,))
        key = ec.generate_private_key(ec.SECP256R1())
        forged = other.issue_device(
            DeviceIdentity("terminal", "t1"), key.public_key(), clock.now_us(), 86_400
        )
        from hub_server.pki.keys import pem_of

        error = await refused(rig, key_pem(key), pem_of([forged, ca_certificate]))
        assert error.code() == grpc.StatusCode.UNAVAILABLE  # the handshake fails


@pytest.mark.parametrize("shift_s", [-40 * 86_400, 3 * 86_400], ids=["expired", "not-yet-valid"])
async def test_expired_and_future_certificates_are_refused(sqlite_db, tmp_path, clock, shift_s) -> None:
    async with running_pki(sqlite_db, tmp_path, clock) as rig:
        clock.advance(shift_s)
        key, issued = await enrolled(rig)
        clock.advance(-shift_s)
        error = await refused(rig, key_pem(key), issued.certificate_pem() + issued.chain_pem())
        assert error.code() == grpc.StatusCode.UNAVAILABLE  # BoringSSL checks the dates


async def test_a_certificate_that_expires_on_an_open_connection_is_refused(
    sqlite_db, tmp_path, clock
) -> None:
    async with running_pki(sqlite_db, tmp_path, clock) as rig:
        key, issued = await enrolled(rig)
        from grpc_health.v1 import health_pb2, health_pb2_grpc

        async with rig.device_channel(key_pem(key), issued.certificate_pem() + issued.chain_pem()) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            await stub.Check(health_pb2.HealthCheckRequest(), timeout=10)
            clock.advance(31 * 86_400)  # the hub's clock passes the end on the same connection
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await stub.Check(health_pb2.HealthCheckRequest(), timeout=10)
        assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert "is not valid now" in (caught.value.details() or "")


async def test_a_revoked_certificate_is_refused_on_the_next_call(sqlite_db, tmp_path, clock) -> None:
    async with running_pki(sqlite_db, tmp_path, clock) as rig:
        key, issued = await enrolled(rig)
        from grpc_health.v1 import health_pb2, health_pb2_grpc

        async with rig.device_channel(key_pem(key), issued.certificate_pem() + issued.chain_pem()) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            await stub.Check(health_pb2.HealthCheckRequest(), timeout=10)
            assert await rig.pki.revoke_device("t1", "stolen") == 1
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await stub.Check(health_pb2.HealthCheckRequest(), timeout=10)
        assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert caught.value.details() == f"certificate {issued.serial} of t1 is revoked"


async def test_the_hubs_own_server_certificate_cannot_pass_as_a_device(sqlite_db, tmp_path, clock) -> None:
    async with running_pki(sqlite_db, tmp_path, clock) as rig:
        from hub_server.pki.keys import pem_of, private_key_pem

        material = rig.pki.material
        error = await refused(rig, private_key_pem(material.server_key), pem_of(material.server_chain))
        assert error.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.UNAUTHENTICATED)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is installed by Debian's base system")
async def test_openssl_s_client_without_a_certificate_is_refused(sqlite_db, tmp_path, clock) -> None:
    async with running_pki(sqlite_db, tmp_path, clock) as rig:
        (tmp_path / "ca.pem").write_bytes(rig.anchor_pem)

        def s_client(port: int, *version: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [
                    "openssl",
                    "s_client",
                    "-connect",
                    f"127.0.0.1:{port}",
                    "-alpn",
                    "h2",
                    "-CAfile",
                    str(tmp_path / "ca.pem"),
                    "-verify_return_error",
                    "-brief",
                    *version,
                ],
                input="",
                capture_output=True,
                text=True,
                errors="replace",
                timeout=30,
            )

        device_tls12 = await asyncio.to_thread(s_client, rig.device_port, "-tls1_2")
        enrollment = await asyncio.to_thread(s_client, rig.enrollment_port)
    # TLS 1.2, where the refusal is part of the handshake (in TLS 1.3 the client may finish and
    # quit before the server's refusal arrives, so its exit status says nothing).
    device_output = device_tls12.stdout + device_tls12.stderr
    assert device_tls12.returncode == 1 and "CONNECTION ESTABLISHED" not in device_output
    # The enrollment listener serves anyone and asks for no certificate.
    enrollment_output = enrollment.stdout + enrollment.stderr
    assert enrollment.returncode == 0 and "Verification: OK" in enrollment_output
    assert "Requested Signature Algorithms" not in enrollment_output
