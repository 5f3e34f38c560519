"""Enrollment tokens, and exchanging a token or a current certificate for a device certificate.

**Tokens** carry a 128-bit random secret. The hub stores ``HMAC-SHA256(token key, id:secret)``,
not an argon2 hash: argon2 slows the guessing of low-entropy secrets people choose, while 2^128
random secrets cannot be guessed at any speed; on an unauthenticated endpoint argon2 would only
hand attackers a CPU and memory lever. The key means a copy of the database alone cannot even
check a guess. Every replica must use the same key.

**Enroll** checks, cheapest first: the attempt limit (per peer address and per token id), the
token format, the CSR (self-signature, key policy), the token (secret, expiry, uses, revocation,
kind), then that the CSR names nobody else; it signs outside the database transaction and, in
one transaction, uses the token once (a conditional UPDATE), locks or creates the device row,
records the certificate and calls the hub's ``on_enrolled`` hook (which creates or binds the
device's terminal record). **Retries are safe**: the same token with the same public key within
``retry_window_s`` answers the certificate issued the first time, without using the token again.

**Renew** needs the device's current certificate (mutual TLS, checked by the caller with
:class:`~hub_server.pki.peer.PeerAuthenticator`); the database decides, under the device's row
lock, that neither the certificate nor the device is revoked.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from printgate.enrollment_token import EnrollmentToken, MalformedToken, parse_token

from hub_server.clock import Clock
from hub_server.pki import store
from hub_server.pki.authority import as_us
from hub_server.pki.csr import check_csr_names, load_csr
from hub_server.pki.errors import (
    CertificateRevoked,
    EnrollmentDenied,
    InvalidEnrollment,
    TokenRefused,
)
from hub_server.pki.identity import DEVICE_KINDS, DeviceIdentity, DeviceKind, check_device_id
from hub_server.pki.keys import pem_of, public_key_sha256
from hub_server.pki.material import PkiConfig, PkiMaterial
from hub_server.pki.peer import PeerCertificate, serial_hex
from hub_server.pki.ratelimit import AttemptLimiter
from hub_server.pki.store import CertificateRecord, TokenRecord
from hub_server.storage.base import Database, Tx

__all__ = ["Enroller", "IssuedCertificate", "OnEnrolled", "token_hmac"]

log = logging.getLogger(__name__)
RETRY_WINDOW_S = 600
MAX_TOKEN_USES = 10_000
MAX_TOKEN_LIFETIME_S = 90 * 86_400
# Called inside the enrollment transaction: (tx, identity, printer named by the token).
OnEnrolled = Callable[[Tx, DeviceIdentity, str], None]


@dataclass(frozen=True)
class IssuedCertificate:
    """What a device receives: its identity, certificate and the chain up to the root."""

    identity: DeviceIdentity
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]

    @property
    def serial(self) -> str:
        """Lower-case hex serial."""
        return serial_hex(self.certificate)

    @property
    def not_after_us(self) -> int:
        """End of validity, microseconds since the epoch."""
        return as_us(self.certificate.not_valid_after_utc)

    def certificate_pem(self) -> bytes:
        """The certificate alone, PEM."""
        return self.certificate.public_bytes(Encoding.PEM)

    def chain_pem(self) -> bytes:
        """The CA certificates above it, PEM."""
        return pem_of(self.chain)


def token_hmac(key: bytes, token_id: str, secret: str) -> str:
    """The keyed hash a token's secret is stored as."""
    return hmac.new(key, f"{token_id}:{secret}".encode(), hashlib.sha256).hexdigest()


class Enroller:
    """Tokens, enrollment and renewal on one database, signing with the current material."""

    def __init__(
        self,
        db: Database,
        config: PkiConfig,
        material: Callable[[], PkiMaterial],
        clock: Clock,
        token_key: bytes,
        *,
        on_enrolled: OnEnrolled | None = None,
        limiter: AttemptLimiter | None = None,
        retry_window_s: int = RETRY_WINDOW_S,
    ) -> None:
        if len(token_key) < 32:
            raise ValueError("the token key must be at least 32 bytes")
        self._db = db
        self._config = config
        self._material = material
        self._clock = clock
        self._token_key = token_key
        self._on_enrolled = on_enrolled
        self._limiter = limiter or AttemptLimiter()
        self._retry_window_us = retry_window_s * 1_000_000

    # -- tokens ---------------------------------------------------------------------------

    async def create_token(
        self,
        kind: DeviceKind,
        addresses: list[str] | tuple[str, ...],
        *,
        device_id: str | None = None,
        printer: str = "",
        expires_s: int = 86_400,
        uses: int = 1,
        note: str = "",
    ) -> tuple[EnrollmentToken, TokenRecord]:
        """A new token (shown once: only its hash is kept) and its record."""
        if kind not in DEVICE_KINDS:
            raise InvalidEnrollment(f"kind must be one of {DEVICE_KINDS}")
        if device_id is not None:
            check_device_id(device_id)
        if not 1 <= uses <= MAX_TOKEN_USES or not 60 <= expires_s <= MAX_TOKEN_LIFETIME_S:
            raise InvalidEnrollment("uses must be 1..10000 and expiry between a minute and 90 days")
        if device_id is not None and uses != 1:
            raise InvalidEnrollment("a token naming a device id enrolls one device: uses must be 1")
        token = EnrollmentToken.new(self._material().anchor_sha256, addresses)
        now_us = self._clock.now_us()
        record = TokenRecord(
            token_id=token.token_id,
            kind=kind,
            device_id=device_id,
            printer=printer,
            uses_max=uses,
            uses_count=0,
            created_us=now_us,
            expires_us=now_us + expires_s * 1_000_000,
            revoked_us=None,
            note=note,
        )
        secret_hmac = token_hmac(self._token_key, token.token_id, token.secret)
        await self._db.write(lambda tx: store.insert_token(tx, record, secret_hmac))
        log.info("enrollment token %s created for a %s (%d uses)", token.token_id, kind, uses)
        return token, record

    def list_tokens(self) -> list[TokenRecord]:
        """Every token, oldest first."""
        return self._db.read(store.list_tokens)

    async def revoke_token(self, token_id: str) -> bool:
        """Revoke a token; False when it is unknown or revoked already."""
        done = await self._db.write(lambda tx: store.revoke_token(tx, token_id, self._clock.now_us()))
        if done:
            log.info("enrollment token %s revoked", token_id)
        return done

    # -- enrollment -----------------------------------------------------------------------

    def _checked_token(self, token: EnrollmentToken, kind: str) -> TokenRecord:
        found = self._db.read(lambda tx: store.token_with_hmac(tx, token.token_id))
        expected = token_hmac(self._token_key, token.token_id, token.secret)
        if found is None or not hmac.compare_digest(found[1], expected):
            raise TokenRefused("enrollment token not recognised")
        record = found[0]
        if token.anchor_sha256 != self._material().anchor_sha256:
            raise TokenRefused("enrollment token was made for another hub CA")
        if record.kind != kind:
            raise EnrollmentDenied(f"enrollment token is for a {record.kind}, not a {kind}")
        return record

    def _usable(self, record: TokenRecord) -> None:
        state = record.state(self._clock.now_us())
        if state != "active":
            raise TokenRefused(f"enrollment token {record.token_id} is {state}")

    async def enroll(self, token_text: str, kind: str, csr_pem: str | bytes, peer: str) -> IssuedCertificate:
        """A device certificate for a token and a CSR (see the module docstring)."""
        self._limiter.attempt(f"peer:{_host(peer)}")
        try:
            token = parse_token(token_text)
        except MalformedToken as error:
            raise InvalidEnrollment(str(error)) from None
        self._limiter.attempt(f"token:{token.token_id}")
        csr = load_csr(csr_pem)
        record = self._checked_token(token, kind)
        key_sha256 = public_key_sha256(csr.public_key())
        since_us = self._clock.now_us() - self._retry_window_us
        earlier = self._db.read(
            lambda tx: store.recent_issue(tx, "token_id", token.token_id, key_sha256, since_us)
        )
        if earlier is not None:
            return self._reissued(earlier)
        self._usable(record)
        identity = DeviceIdentity(
            cast(DeviceKind, record.kind), record.device_id or f"{record.kind}-{secrets.token_hex(4)}"
        )
        check_csr_names(csr, identity if record.device_id else None)
        issued = self._sign(identity, csr)

        def write(tx: Tx) -> CertificateRecord:
            if not store.consume_token(tx, token.token_id, self._clock.now_us()):
                # A concurrent retry may have used it for this very key a moment ago.
                again = store.recent_issue(tx, "token_id", token.token_id, key_sha256, since_us)
                if again is not None:
                    return again
                raise TokenRefused(f"enrollment token {token.token_id} is used, expired or revoked")
            self._lock_device(tx, identity, record.created_us)
            row = self._record(issued, key_sha256, token_id=token.token_id)
            store.insert_certificate(tx, row)
            if self._on_enrolled is not None:
                self._on_enrolled(tx, identity, record.printer)
            return row

        row = await self._db.write(write)
        if row.serial != issued.serial:
            return self._reissued(row)
        log.info(
            "enrolled %s %s (certificate %s) with token %s",
            identity.kind,
            identity.device_id,
            issued.serial,
            token.token_id,
        )
        return issued

    def _lock_device(self, tx: Tx, identity: DeviceIdentity, token_created_us: int) -> None:
        device = store.lock_device(tx, identity.device_id, identity.kind, self._clock.now_us())
        if device["kind"] != identity.kind:
            raise EnrollmentDenied(f"device {identity.device_id} is a {device['kind']}")
        revoked_us = device["revoked_us"]
        if revoked_us is not None:
            if revoked_us >= token_created_us:
                raise EnrollmentDenied(f"device {identity.device_id} was revoked after this token was made")
            store.reinstate_device(tx, identity.device_id)  # a token made after the revocation

    async def renew(self, peer: PeerCertificate, csr_pem: str | bytes) -> IssuedCertificate:
        """A new certificate for the device that ``peer`` (its verified current certificate) names."""
        self._limiter.attempt(f"device:{peer.identity.device_id}")
        csr = load_csr(csr_pem)
        check_csr_names(csr, peer.identity)
        key_sha256 = public_key_sha256(csr.public_key())
        since_us = self._clock.now_us() - self._retry_window_us
        earlier = self._db.read(
            lambda tx: store.recent_issue(tx, "renewed_serial", peer.serial, key_sha256, since_us)
        )
        if earlier is not None:
            return self._reissued(earlier)
        issued = self._sign(peer.identity, csr)

        def write(tx: Tx) -> None:
            device = store.lock_device(tx, peer.identity.device_id, peer.identity.kind, self._clock.now_us())
            if store.is_revoked(tx, peer.serial) or device["revoked_us"] is not None:
                raise CertificateRevoked(f"certificate {peer.serial} of {peer.identity.device_id} is revoked")
            store.insert_certificate(tx, self._record(issued, key_sha256, renewed_serial=peer.serial))

        await self._db.write(write)
        log.info(
            "renewed %s %s: certificate %s replaces %s",
            peer.identity.kind,
            peer.identity.device_id,
            issued.serial,
            peer.serial,
        )
        return issued

    def _sign(self, identity: DeviceIdentity, csr: x509.CertificateSigningRequest) -> IssuedCertificate:
        authority = self._material().authority
        certificate = authority.issue_device(
            identity, csr.public_key(), self._clock.now_us(), self._config.device_lifetime_s
        )
        return IssuedCertificate(identity, certificate, authority.chain)

    def _record(
        self,
        issued: IssuedCertificate,
        key_sha256: str,
        *,
        token_id: str | None = None,
        renewed_serial: str | None = None,
    ) -> CertificateRecord:
        return CertificateRecord(
            serial=issued.serial,
            device_id=issued.identity.device_id,
            public_key_sha256=key_sha256,
            certificate_pem=issued.certificate_pem().decode(),
            not_before_us=as_us(issued.certificate.not_valid_before_utc),
            not_after_us=issued.not_after_us,
            issued_us=self._clock.now_us(),
            token_id=token_id,
            renewed_serial=renewed_serial,
        )

    def _reissued(self, record: CertificateRecord) -> IssuedCertificate:
        certificate = x509.load_pem_x509_certificate(record.certificate_pem.encode())
        identity = DeviceIdentity.from_uri(
            certificate.extensions.get_extension_for_class(
                x509.SubjectAlternativeName
            ).value.get_values_for_type(x509.UniformResourceIdentifier)[0]
        )
        log.info("answered a retry of %s with certificate %s again", identity.device_id, record.serial)
        return IssuedCertificate(identity, certificate, self._material().authority.chain)


def _host(peer: str) -> str:
    """The address part of a gRPC peer string (``ipv4:1.2.3.4:5678``, ``ipv6:[::1]:5678``)."""
    address = peer.split(":", 1)[1] if peer.startswith(("ipv4:", "ipv6:")) else peer
    return address.rsplit(":", 1)[0]
