"""A real hub PKI on loopback for tests: an enrollment listener (server TLS only) and a device
listener (client certificate required), with the enrollment service on both and, on the device
listener, a health service that answers only identified devices (the identity comes back as
trailing metadata)."""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from printgate.v1 import enrollment_pb2_grpc

from hub_server.clock import Clock
from hub_server.pki import EnrollmentServicer, HubPki, PkiConfig
from hub_server.storage.base import Database

TOKEN_KEY = b"k" * 32
SERVER_OPTIONS = [("grpc.so_reuseport", 0)]


class IdentifiedHealth(health.aio.HealthServicer):
    """The standard health service, answering only calls from an identified, unrevoked device."""

    def __init__(self, pki: HubPki) -> None:
        super().__init__()
        self._pki = pki

    async def Check(self, request, context):
        peer = await self._pki.authenticator.identify_or_abort(context)
        context.set_trailing_metadata(
            (
                ("device-kind", peer.identity.kind),
                ("device-id", peer.identity.device_id),
                ("serial", peer.serial),
            )
        )
        return health_pb2.HealthCheckResponse(status=health_pb2.HealthCheckResponse.SERVING)


@dataclass
class PkiRig:
    pki: HubPki
    enrollment_port: int
    device_port: int

    @property
    def enrollment_address(self) -> str:
        return f"127.0.0.1:{self.enrollment_port}"

    @property
    def device_address(self) -> str:
        return f"127.0.0.1:{self.device_port}"

    @property
    def anchor_pem(self) -> bytes:
        return self.pki.material.anchor.public_bytes(serialization.Encoding.PEM)

    async def token(self, kind: str = "terminal", **options) -> str:
        token, _ = await self.pki.enroller.create_token(kind, [self.enrollment_address], **options)  # type: ignore[arg-type]
        return str(token)

    def device_channel(self, key_pem: bytes | None, chain_pem: bytes | None) -> grpc.aio.Channel:
        credentials = grpc.ssl_channel_credentials(self.anchor_pem, key_pem, chain_pem)
        return grpc.aio.secure_channel(self.device_address, credentials)

    async def check_health(self, key_pem: bytes | None, chain_pem: bytes | None) -> dict[str, str]:
        """Call the identified health service; the identity the hub saw."""
        async with self.device_channel(key_pem, chain_pem) as channel:
            call = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
            await call
            return {key: value for key, value in await call.trailing_metadata()}


@asynccontextmanager
async def running_pki(
    db: Database, directory: Path, clock: Clock, *, config: PkiConfig | None = None, **options
) -> AsyncIterator[PkiRig]:
    pki = HubPki(config or PkiConfig(directory=directory), db, clock, TOKEN_KEY, **options)
    server = grpc.aio.server(options=SERVER_OPTIONS)
    servicer = EnrollmentServicer(pki)
    enrollment_pb2_grpc.add_EnrollmentServiceServicer_to_server(servicer, server)
    health_pb2_grpc.add_HealthServicer_to_server(IdentifiedHealth(pki), server)
    enrollment_port = server.add_secure_port("127.0.0.1:0", pki.tls.credentials(require_client_auth=False))
    device_port = server.add_secure_port("127.0.0.1:0", pki.tls.credentials(require_client_auth=True))
    assert enrollment_port and device_port
    await server.start()
    await pki.start()
    try:
        yield PkiRig(pki, enrollment_port, device_port)
    finally:
        await pki.stop()
        await server.stop(0)


def make_ca(name: str = "other CA") -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """An unrelated CA (another hub, an attacker)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return key, certificate


def key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def csr_pem(key, subject: x509.Name | None = None, extensions=()) -> str:
    builder = x509.CertificateSigningRequestBuilder().subject_name(subject or x509.Name([]))
    for extension in extensions:
        builder = builder.add_extension(extension, critical=False)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()
