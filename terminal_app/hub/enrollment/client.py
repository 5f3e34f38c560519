"""Enrolling and renewing a device with the hub.

**Fetching the hub CA without prior trust.** A factory-fresh device trusts nothing but the
fingerprint in its token. For each hub address it:

1. opens TLS with verification off and takes the certificate the server presents (the
   ClientHello is all it sends);
2. calls ``GetCaCertificate`` over gRPC on a channel that trusts exactly that certificate — the
   request is empty, so nothing of value can leak to whoever answers;
3. looks for the certificate whose SHA-256 (of its DER) equals the token's fingerprint among the
   answer; if there is none, it stops (:class:`HubNotTrusted`) without sending anything else;
4. checks that the server's certificate from step 1 chains to that pinned certificate; a man in
   the middle who relays the real CA but presents his own server certificate stops here;
5. only then sends the token and its CSR (``Enroll``), on a channel that trusts only the pinned
   certificate and checks the host name — gRPC's own verification from here on.

The private key is made on the device and saved (0600) before the request is sent, so a retry
after a lost answer sends the same key and gets the same certificate back.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import socket
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import grpc
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from printgate.enrollment_token import EnrollmentToken, MalformedToken, certificate_fingerprint, parse_token
from printgate.v1 import enrollment_pb2, enrollment_pb2_grpc

from terminal_app.errors import EnrollmentRefused, HubNotTrusted, HubUnreachable, TokenInvalid
from terminal_app.hub.enrollment.state import Credentials, CredentialState, CredentialStore

__all__ = ["DeviceEnrollment", "fetch_trust_anchor"]

log = logging.getLogger(__name__)
T = TypeVar("T")
TIMEOUT_S = 10.0
_KINDS = {"terminal": enrollment_pb2.DEVICE_KIND_TERMINAL, "kiosk": enrollment_pb2.DEVICE_KIND_KIOSK}
_CHANNEL_OPTIONS = [("grpc.max_receive_message_length", 256 * 1024)]


def _split(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port)


def _presented_certificate(address: str, timeout_s: float) -> x509.Certificate:
    """The certificate a TLS server presents, not verified (step 1)."""
    host, port = _split(address)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(["h2"])
    with (
        socket.create_connection((host, port), timeout=timeout_s) as raw,
        context.wrap_socket(raw, server_hostname=host) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    if not der:
        raise HubNotTrusted(f"{address} presented no certificate")
    return x509.load_der_x509_certificate(der)


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def _chains_to(leaf: x509.Certificate, anchor: x509.Certificate, others: list[x509.Certificate]) -> bool:
    """Whether ``leaf`` is signed by ``anchor``, directly or through certificates of ``others``."""
    current, seen = leaf, 0
    while seen <= len(others):
        for issuer in [anchor, *others]:
            if issuer.subject != current.issuer:
                continue
            try:
                current.verify_directly_issued_by(issuer)
            except (ValueError, TypeError, InvalidSignature):
                continue
            if issuer == anchor:
                return True
            current = issuer
            break
        else:
            return False
        seen += 1
    return False


async def fetch_trust_anchor(token: EnrollmentToken, address: str, timeout_s: float = TIMEOUT_S) -> bytes:
    """Steps 1 to 4: the pinned anchor (PEM) after checking the hub at ``address`` against it."""
    presented = await asyncio.to_thread(_presented_certificate, address, timeout_s)
    credentials = grpc.ssl_channel_credentials(root_certificates=_pem(presented))
    async with grpc.aio.secure_channel(address, credentials, options=_CHANNEL_OPTIONS) as channel:
        stub = enrollment_pb2_grpc.EnrollmentServiceStub(channel)
        reply = await stub.GetCaCertificate(enrollment_pb2.GetCaCertificateRequest(), timeout=timeout_s)
    try:
        bundle = x509.load_pem_x509_certificates(reply.trust_bundle_pem.encode())
    except ValueError:
        raise HubNotTrusted(f"{address} answered no usable CA certificate") from None
    fingerprints = [certificate_fingerprint(c.public_bytes(serialization.Encoding.DER)) for c in bundle]
    pinned = [c for c, sha256 in zip(bundle, fingerprints, strict=True) if sha256 == token.anchor_sha256]
    if not pinned:
        raise HubNotTrusted(
            f"the hub at {address} has CA {fingerprints[0]}, not {token.anchor_sha256} as the token says: "
            "not sending anything"
        )
    if not _chains_to(presented, pinned[0], [c for c in bundle if c != pinned[0]]):
        raise HubNotTrusted(
            f"the server at {address} presents a certificate not issued by the token's CA "
            "(a man in the middle?): not sending anything"
        )
    return _pem(pinned[0])


def _csr(key: ec.EllipticCurvePrivateKey) -> str:
    # An empty subject: the hub names the device, the request only proves the key.
    request = x509.CertificateSigningRequestBuilder().subject_name(x509.Name([])).sign(key, hashes.SHA256())
    return request.public_bytes(serialization.Encoding.PEM).decode()


def _refused(error: grpc.aio.AioRpcError) -> EnrollmentRefused:
    return EnrollmentRefused(error.code().name, error.details() or "")


def _utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class DeviceEnrollment:
    """Enrollment and renewal of one device (``kind`` terminal or kiosk) into ``state_dir``."""

    def __init__(
        self,
        state_dir: Path,
        kind: str,
        *,
        timeout_s: float = TIMEOUT_S,
        now: Callable[[], datetime.datetime] = _utcnow,
    ) -> None:
        if kind not in _KINDS:
            raise ValueError(f"kind must be one of {sorted(_KINDS)}")
        self.store = CredentialStore(state_dir)
        self.kind = kind
        self._timeout_s = timeout_s
        self._now = now

    def state(self) -> CredentialState:
        """Unenrolled, valid, renewal due or expired (re-enroll)."""
        return self.store.state(self._now())

    async def _each_address(self, addresses: tuple[str, ...], call: Callable[[str], Awaitable[T]]) -> T:
        failures = []
        for address in addresses:
            try:
                return await call(address)
            except grpc.aio.AioRpcError as error:
                if error.code() not in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                    raise _refused(error) from None
                failures.append(f"{address}: {error.details()}")
            except OSError as error:
                failures.append(f"{address}: {error}")
        raise HubUnreachable("UNAVAILABLE", "no hub address answered: " + "; ".join(failures))

    async def enroll(self, token_text: str) -> Credentials:
        """Enroll with a token; the credentials are installed in the state directory."""
        try:
            token = parse_token(token_text)
        except MalformedToken as error:
            raise TokenInvalid(str(error)) from None
        return await self._each_address(
            token.addresses, lambda address: self._enroll_at(token, token_text, address)
        )

    async def _enroll_at(self, token: EnrollmentToken, token_text: str, address: str) -> Credentials:
        anchor_pem = await fetch_trust_anchor(token, address, self._timeout_s)
        key = self.store.pending_key()
        request = enrollment_pb2.EnrollRequest(
            token=token_text.strip(), kind=_KINDS[self.kind], csr_pem=_csr(key)
        )
        credentials = grpc.ssl_channel_credentials(root_certificates=anchor_pem)
        async with grpc.aio.secure_channel(address, credentials, options=_CHANNEL_OPTIONS) as channel:
            reply = await enrollment_pb2_grpc.EnrollmentServiceStub(channel).Enroll(
                request, timeout=self._timeout_s
            )
        return self._install(key, reply, anchor_pem, reply.device_endpoints or token.addresses)

    async def renew(self) -> Credentials:
        """A new certificate over mutual TLS with the current one (and a new key)."""
        current = self.store.require(self._now())
        key = self.store.pending_key()
        anchor_pem, own_key, own_chain = current.channel_material()
        credentials = grpc.ssl_channel_credentials(anchor_pem, own_key, own_chain)

        async def call(address: str) -> Credentials:
            async with grpc.aio.secure_channel(address, credentials, options=_CHANNEL_OPTIONS) as channel:
                stub = enrollment_pb2_grpc.EnrollmentServiceStub(channel)
                reply = await stub.Renew(
                    enrollment_pb2.RenewRequest(csr_pem=_csr(key)), timeout=self._timeout_s
                )
            return self._install(key, reply, anchor_pem, reply.device_endpoints or current.endpoints)

        return await self._each_address(current.endpoints, call)

    async def renew_if_due(self) -> Credentials | None:
        """Renew when two thirds of the certificate's life are past; the new credentials, or
        None when nothing was due. Raises ReenrollRequired once it has expired."""
        current = self.store.require(self._now())
        return await self.renew() if current.state(self._now()) is CredentialState.RENEW_DUE else None

    def _install(
        self,
        key: ec.EllipticCurvePrivateKey,
        reply: enrollment_pb2.EnrollResponse,
        anchor_pem: bytes,
        endpoints: tuple[str, ...] | list[str],
    ) -> Credentials:
        certificate = x509.load_pem_x509_certificate(reply.certificate_pem.encode())
        if certificate.public_key() != key.public_key():
            raise EnrollmentRefused("INTERNAL", "the hub answered a certificate for another key")
        meta = {"device_id": reply.device_id, "kind": self.kind, "endpoints": list(endpoints)}
        installed = self.store.install(key, certificate, reply.chain_pem.encode(), anchor_pem, meta)
        log.info(
            "device %s holds certificate %x until %s",
            reply.device_id,
            certificate.serial_number,
            certificate.not_valid_after_utc.isoformat(timespec="seconds"),
        )
        return installed
