"""The certificate authority: the key and chain that sign device and server certificates.

The hub makes its own CA on first start (:meth:`CertificateAuthority.create`), or signs with the
site's CA or intermediate. Certificates are built only from what the hub decides — the identity,
the key usages, the lifetime; of a CSR only the public key is ever used.
"""

from __future__ import annotations

import datetime
import ipaddress
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes, PublicKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from hub_server.pki.errors import PkiConfigError
from hub_server.pki.identity import DeviceIdentity

__all__ = ["CertificateAuthority", "RevokedSerial", "as_datetime", "as_us", "server_names"]

# Clocks of devices and hubs differ a little: certificates start valid slightly in the past.
BACKDATE_S = 300
DAY_S = 86_400


def as_datetime(now_us: int) -> datetime.datetime:
    """Microseconds since the epoch as an aware UTC datetime."""
    return datetime.datetime.fromtimestamp(now_us / 1_000_000, datetime.UTC)


def server_names(names: Iterable[str]) -> list[x509.GeneralName]:
    """SAN entries for host names and IP literals as written in configuration."""
    entries: list[x509.GeneralName] = []
    for name in names:
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(name.strip("[]"))))
        except ValueError:
            entries.append(x509.DNSName(name))
    return entries


@dataclass(frozen=True)
class RevokedSerial:
    """One entry of a revocation list."""

    serial: int
    revoked_us: int


def _key_usage(*, signature: bool = False, certificates: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=signature,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=certificates,
        crl_sign=certificates,
        encipher_only=False,
        decipher_only=False,
    )


@dataclass(frozen=True)
class CertificateAuthority:
    """A signing CA: its key, and its chain from itself (first) up to the root (last)."""

    private_key: CertificateIssuerPrivateKeyTypes
    chain: tuple[x509.Certificate, ...]

    def __post_init__(self) -> None:
        if not self.chain:
            raise PkiConfigError("a CA needs its certificate")
        if self.certificate.public_key() != self.private_key.public_key():
            raise PkiConfigError("the CA key does not belong to the CA certificate")
        constraints = self.certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
        if not constraints.ca:
            raise PkiConfigError("the CA certificate is not a CA (basicConstraints CA:FALSE)")
        for child, parent in zip(self.chain, self.chain[1:], strict=False):
            try:
                child.verify_directly_issued_by(parent)
            except (ValueError, TypeError, InvalidSignature) as error:
                raise PkiConfigError(f"CA chain is broken at {child.subject.rfc4514_string()}") from error
        if self.root.issuer != self.root.subject:
            raise PkiConfigError("the CA chain must end with its self-signed root: append the root")

    @property
    def certificate(self) -> x509.Certificate:
        """The certificate that issues (the first of the chain)."""
        return self.chain[0]

    @property
    def root(self) -> x509.Certificate:
        """The self-signed root the chain ends in: what verifiers trust."""
        return self.chain[-1]

    @classmethod
    def create(
        cls, private_key: CertificateIssuerPrivateKeyTypes, organization: str, now_us: int, lifetime_s: int
    ) -> CertificateAuthority:
        """A new self-signed root CA (path length 0: it signs end entities only)."""
        # A random suffix keeps two hubs' CAs from sharing a name (chain building goes by name).
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
                x509.NameAttribute(NameOID.COMMON_NAME, f"printgate hub CA {secrets.token_hex(4)}"),
            ]
        )
        public_key = private_key.public_key()
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(as_datetime(now_us - BACKDATE_S * 1_000_000))
            .not_valid_after(as_datetime(now_us + lifetime_s * 1_000_000))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_key_usage(signature=True, certificates=True), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .sign(private_key, hashes.SHA256())
        )
        return cls(private_key, (certificate,))

    def _builder(
        self, public_key: PublicKeyTypes, not_before_us: int, not_after_us: int
    ) -> x509.CertificateBuilder:
        issuer_key = self.private_key.public_key()
        return (
            x509.CertificateBuilder()
            .issuer_name(self.certificate.subject)
            .public_key(public_key)  # type: ignore[arg-type]
            .serial_number(x509.random_serial_number())
            .not_valid_before(as_datetime(not_before_us))
            .not_valid_after(as_datetime(min(not_after_us, as_us(self.certificate.not_valid_after_utc))))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)  # type: ignore[arg-type]
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key), critical=False)
        )

    def issue_device(
        self, identity: DeviceIdentity, public_key: PublicKeyTypes, now_us: int, lifetime_s: int
    ) -> x509.Certificate:
        """A client certificate naming ``identity`` for ``public_key`` (never past the CA's end)."""
        return (
            self._builder(public_key, now_us - BACKDATE_S * 1_000_000, now_us + lifetime_s * 1_000_000)
            .subject_name(identity.subject())
            .add_extension(
                x509.SubjectAlternativeName([x509.UniformResourceIdentifier(identity.uri)]), critical=False
            )
            .add_extension(_key_usage(signature=True), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .sign(self.private_key, hashes.SHA256())
        )

    def issue_server(
        self, names: Iterable[str], public_key: PublicKeyTypes, now_us: int, lifetime_s: int
    ) -> x509.Certificate:
        """A TLS server certificate for host names and IP addresses ``names`` (the first is the CN)."""
        entries = server_names(names)
        if not entries:
            raise PkiConfigError("the server certificate needs at least one host name or address")
        first = entries[0].value
        return (
            self._builder(public_key, now_us - BACKDATE_S * 1_000_000, now_us + lifetime_s * 1_000_000)
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, str(first))]))
            .add_extension(x509.SubjectAlternativeName(entries), critical=False)
            .add_extension(_key_usage(signature=True), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(self.private_key, hashes.SHA256())
        )

    def revocation_list(
        self, revoked: Iterable[RevokedSerial], now_us: int, next_update_s: int = DAY_S
    ) -> x509.CertificateRevocationList:
        """A CRL of ``revoked`` (for Mosquitto's ``crlfile``; gRPC checks revocation itself)."""
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.certificate.subject)
            .last_update(as_datetime(now_us - BACKDATE_S * 1_000_000))
            .next_update(as_datetime(now_us + next_update_s * 1_000_000))
        )
        for entry in revoked:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder()
                .serial_number(entry.serial)
                .revocation_date(as_datetime(entry.revoked_us))
                .build()
            )
        return builder.sign(self.private_key, hashes.SHA256())


def as_us(moment: datetime.datetime) -> int:
    """An aware datetime as microseconds since the epoch."""
    return int(moment.timestamp() * 1_000_000)
