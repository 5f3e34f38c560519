"""Where the hub's CA, server certificate and keys come from, and how they are kept on disk.

Three set-ups, chosen by :class:`PkiConfig`:

1. **The hub is its own CA** (default). On first start it makes, in ``directory`` (mode 0700):
   ``ca.key`` (0600) and ``ca.crt`` (0644), ``server.key`` (0600) and ``server.crt`` (0644, the
   server certificate then the CA). The server certificate names ``server_names`` and is made
   again when the names change, when the CA changes or when a third of its life is left.
2. **The site's CA or intermediate signs**: ``ca_cert_file`` (the issuing CA first, then up to
   its root) and ``ca_key_file``. The hub still makes its server certificate as in 1.
3. **The site's server certificate**: ``server_cert_file`` (server certificate first, then up to
   the root) and ``server_key_file``; device certificates are signed by the CA of 1 or 2.

Every file is written atomically with its final mode; a lock file keeps two hub processes on one
data directory from both making a CA. Replicas on other machines must be given the same CA files.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.hazmat.primitives.serialization import Encoding
from printgate.enrollment_token import certificate_fingerprint

from hub_server.clock import Clock
from hub_server.pki.authority import DAY_S, CertificateAuthority, as_us, server_names
from hub_server.pki.errors import PkiConfigError
from hub_server.pki.keys import (
    PRIVATE_MODE,
    PUBLIC_MODE,
    load_certificates,
    load_private_key,
    new_private_key,
    pem_of,
    private_key_pem,
    write_file_atomic,
)

__all__ = ["CA_CERT", "CA_KEY", "SERVER_CERT", "SERVER_KEY", "PkiConfig", "PkiMaterial", "load_material"]

CA_KEY = "ca.key"
CA_CERT = "ca.crt"
SERVER_KEY = "server.key"
SERVER_CERT = "server.crt"
LOCK = ".lock"


@dataclass(frozen=True)
class PkiConfig:
    """What the hub PKI is told (the ``[pki]`` table of hub.toml)."""

    directory: Path
    # Host names and IP addresses devices reach the hub by (server certificate SANs).
    server_names: tuple[str, ...] = ("localhost", "127.0.0.1")
    organization: str = "printgate"
    ca_cert_file: Path | None = None
    ca_key_file: Path | None = None
    server_cert_file: Path | None = None
    server_key_file: Path | None = None
    device_lifetime_s: int = 30 * DAY_S
    server_lifetime_s: int = 365 * DAY_S
    ca_lifetime_s: int = 10 * 365 * DAY_S
    # Where enrolled devices call the hub with mutual TLS (host:port), told to them on enrollment.
    device_endpoints: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if (self.ca_cert_file is None) != (self.ca_key_file is None):
            raise PkiConfigError("give both ca_cert_file and ca_key_file, or neither")
        if (self.server_cert_file is None) != (self.server_key_file is None):
            raise PkiConfigError("give both server_cert_file and server_key_file, or neither")
        if not 3600 <= self.device_lifetime_s <= 397 * DAY_S:
            raise PkiConfigError("device_lifetime_s must be between one hour and 397 days")

    def watched_files(self) -> tuple[Path, ...]:
        """The files whose change means the server's TLS material must be read again."""
        ca = (
            (self.ca_cert_file, self.ca_key_file)
            if self.ca_cert_file
            else (self.directory / CA_CERT, self.directory / CA_KEY)
        )
        server = (
            (self.server_cert_file, self.server_key_file)
            if self.server_cert_file
            else (self.directory / SERVER_CERT, self.directory / SERVER_KEY)
        )
        return tuple(path for path in (*ca, *server) if path is not None)


@dataclass(frozen=True)
class PkiMaterial:
    """The CA that signs devices, and the certificate and key the hub serves TLS with."""

    authority: CertificateAuthority
    server_chain: tuple[x509.Certificate, ...]
    server_key: CertificateIssuerPrivateKeyTypes

    def __post_init__(self) -> None:
        leaf = self.server_chain[0]
        if leaf.public_key() != self.server_key.public_key():
            raise PkiConfigError("the server key does not belong to the server certificate")
        for child, parent in zip(self.server_chain, self.server_chain[1:], strict=False):
            try:
                child.verify_directly_issued_by(parent)
            except (ValueError, TypeError, InvalidSignature) as error:
                raise PkiConfigError("the server certificate chain is broken") from error
        if self.anchor.issuer != self.anchor.subject:
            raise PkiConfigError("the server certificate chain must end with its self-signed root")

    @property
    def anchor(self) -> x509.Certificate:
        """The root devices verify the hub with; enrollment tokens pin its fingerprint."""
        return self.server_chain[-1]

    @property
    def anchor_sha256(self) -> str:
        """Hex SHA-256 of the anchor's DER (what tokens carry)."""
        return certificate_fingerprint(self.anchor.public_bytes(Encoding.DER))

    def trust_bundle_pem(self) -> bytes:
        """What GetCaCertificate answers: the anchor, then the issuing CA chain."""
        certificates = [self.anchor, *(c for c in self.authority.chain if c != self.anchor)]
        return pem_of(certificates)

    def client_roots_pem(self) -> bytes:
        """The roots the server verifies client certificates against."""
        return pem_of([self.authority.root])


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor = os.open(directory / LOCK, os.O_RDWR | os.O_CREAT, PRIVATE_MODE)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


def _load_or_create_authority(config: PkiConfig, now_us: int) -> CertificateAuthority:
    if config.ca_cert_file and config.ca_key_file:
        return CertificateAuthority(
            load_private_key(config.ca_key_file), tuple(load_certificates(config.ca_cert_file))
        )
    key_path, cert_path = config.directory / CA_KEY, config.directory / CA_CERT
    if key_path.exists() and cert_path.exists():
        return CertificateAuthority(load_private_key(key_path), tuple(load_certificates(cert_path)))
    if key_path.exists() or cert_path.exists():
        raise PkiConfigError(
            f"{key_path} and {cert_path} must both exist or neither: restore the missing one"
        )
    key = new_private_key()
    authority = CertificateAuthority.create(key, config.organization, now_us, config.ca_lifetime_s)
    write_file_atomic(key_path, private_key_pem(key), PRIVATE_MODE)
    write_file_atomic(cert_path, pem_of(authority.chain), PUBLIC_MODE)
    return authority


def _still_good(
    chain: list[x509.Certificate], authority: CertificateAuthority, config: PkiConfig, now_us: int
) -> bool:
    leaf = chain[0]
    if tuple(chain[1:]) != authority.chain:
        return False
    names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    if set(names) != set(server_names(config.server_names)):
        return False
    begin, end = as_us(leaf.not_valid_before_utc), as_us(leaf.not_valid_after_utc)
    return now_us < end - (end - begin) // 3


def _hub_made_server(config: PkiConfig, authority: CertificateAuthority, now_us: int) -> PkiMaterial:
    key_path, cert_path = config.directory / SERVER_KEY, config.directory / SERVER_CERT
    if key_path.exists() and cert_path.exists():
        existing = load_certificates(cert_path)
        with contextlib.suppress(PkiConfigError):
            if _still_good(existing, authority, config, now_us):
                return PkiMaterial(authority, tuple(existing), load_private_key(key_path))
    key = new_private_key()
    leaf = authority.issue_server(config.server_names, key.public_key(), now_us, config.server_lifetime_s)
    chain = (leaf, *authority.chain)
    write_file_atomic(key_path, private_key_pem(key), PRIVATE_MODE)
    write_file_atomic(cert_path, pem_of(chain), PUBLIC_MODE)
    return PkiMaterial(authority, chain, key)


def load_material(config: PkiConfig, clock: Clock) -> PkiMaterial:
    """Load the CA and server material, making what the hub makes itself and is missing or due."""
    now_us = clock.now_us()
    with _locked(config.directory):
        authority = _load_or_create_authority(config, now_us)
        if config.server_cert_file and config.server_key_file:
            site_chain = tuple(load_certificates(config.server_cert_file))
            return PkiMaterial(authority, site_chain, load_private_key(config.server_key_file))
        return _hub_made_server(config, authority, now_us)
