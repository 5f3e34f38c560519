"""Who is calling: the device identity of a gRPC call, from its verified client certificate.

The TLS handshake (``require_client_auth``) has verified the chain to the hub's client roots and
the validity dates at connection time. :meth:`PeerAuthenticator.identify` then, per call:

* takes the leaf from ``auth_context()['x509_pem_cert']`` (never from metadata);
* checks it was issued directly by the hub's issuing CA (with a site root, other CAs under the
  same root could otherwise pass the handshake) and names a device (:func:`identity_of`);
* checks it is valid *now* (a connection outlives the handshake);
* checks its serial against the :class:`RevocationCache`.

The first two are cached per certificate, so a call costs a dict and a set lookup.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import grpc
from cryptography import x509
from cryptography.exceptions import InvalidSignature

from hub_server.clock import Clock
from hub_server.pki.authority import as_us
from hub_server.pki.errors import CertificateExpired, CertificateRevoked, PeerRefused, PkiError
from hub_server.pki.identity import DeviceIdentity, identity_of
from hub_server.pki.material import PkiMaterial
from hub_server.pki.revocation import RevocationCache

__all__ = ["PeerAuthenticator", "PeerCertificate", "serial_hex"]

log = logging.getLogger(__name__)
MAX_CACHED = 4096


def serial_hex(certificate: x509.Certificate) -> str:
    """A certificate's serial as the PKI stores it: lower-case hex."""
    return format(certificate.serial_number, "x")


@dataclass(frozen=True)
class PeerCertificate:
    """A caller's verified device certificate."""

    identity: DeviceIdentity
    serial: str
    not_before_us: int
    not_after_us: int
    certificate: x509.Certificate


class PeerAuthenticator:
    """Identifies devices from their client certificates."""

    def __init__(
        self, material: Callable[[], PkiMaterial], revocations: RevocationCache, clock: Clock
    ) -> None:
        self._material = material
        self._revocations = revocations
        self._clock = clock
        self._verified: dict[tuple[bytes, x509.Certificate], PeerCertificate] = {}

    def _verify(self, pem: bytes) -> PeerCertificate:
        issuer = self._material().authority.certificate
        key = (pem, issuer)
        known = self._verified.get(key)
        if known is not None:
            return known
        try:
            certificate = x509.load_pem_x509_certificate(pem)
            certificate.verify_directly_issued_by(issuer)
        except (ValueError, TypeError, InvalidSignature):
            raise PeerRefused("client certificate was not issued by this hub's CA") from None
        peer = PeerCertificate(
            identity=identity_of(certificate),
            serial=serial_hex(certificate),
            not_before_us=as_us(certificate.not_valid_before_utc),
            not_after_us=as_us(certificate.not_valid_after_utc),
            certificate=certificate,
        )
        if len(self._verified) >= MAX_CACHED:
            self._verified.clear()
        self._verified[key] = peer
        return peer

    def check(self, pem: bytes) -> PeerCertificate:
        """The device a PEM client certificate names, if it is ours, valid now and not revoked."""
        peer = self._verify(pem)
        now_us = self._clock.now_us()
        if not peer.not_before_us <= now_us < peer.not_after_us:
            raise CertificateExpired(
                f"certificate {peer.serial} of {peer.identity.device_id} is not valid now"
            )
        if self._revocations.is_revoked(peer.serial):
            raise CertificateRevoked(f"certificate {peer.serial} of {peer.identity.device_id} is revoked")
        return peer

    def identify(self, context: grpc.aio.ServicerContext) -> PeerCertificate:
        """The calling device; :class:`PeerRefused` (or a subclass) when there is none."""
        auth = context.auth_context()
        pems = auth.get("x509_pem_cert") or []
        if auth.get("transport_security_type") != [b"ssl"] or not pems:
            raise PeerRefused("no client certificate: this call needs the device's certificate (mutual TLS)")
        return self.check(pems[0])

    async def identify_or_abort(self, context: grpc.aio.ServicerContext) -> PeerCertificate:
        """:meth:`identify`, or end the call with UNAUTHENTICATED (logged once, here)."""
        try:
            return self.identify(context)
        except PkiError as error:
            log.warning("refused %s: %s", context.peer(), error)
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, str(error))
            raise  # abort raises; this keeps type checkers sure we never return None
