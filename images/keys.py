"""Update signing keys: a CA the devices trust (the keyring) and a signing certificate for bundles.

RAUC checks a bundle's CMS signature against the keyring baked into the image. The CA key
belongs offline; the signing key (codeSigning purpose, which RAUC's ``check-purpose=codesign``
demands) is what a release pipeline uses. Made with the ``cryptography`` package.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["UpdateKeys", "create_update_keys"]

VALID_DAYS = 3650


@dataclass(frozen=True)
class UpdateKeys:
    """The files of one update key set."""

    directory: Path

    @property
    def keyring(self) -> Path:
        """The CA certificate: what images trust (``--keyring``)."""
        return self.directory / "ca.cert.pem"

    @property
    def cert(self) -> Path:
        """The signing certificate (``--cert``)."""
        return self.directory / "signing.cert.pem"

    @property
    def key(self) -> Path:
        """The signing key (``--key``), mode 0600."""
        return self.directory / "signing.key.pem"

    @property
    def ca_key(self) -> Path:
        """The CA key, mode 0600: keep it offline."""
        return self.directory / "ca.key.pem"


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "printgate"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    path.touch(mode=0o600)
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )


def create_update_keys(directory: Path, name: str = "printgate updates") -> UpdateKeys:
    """Create a CA and a codeSigning certificate it signed, in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    keys = UpdateKeys(directory)
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name(f"{name} CA"))
        .issuer_name(_name(f"{name} CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(f"{name} signing"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    _write_key(keys.ca_key, ca_key)
    _write_key(keys.key, key)
    keys.keyring.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    keys.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return keys
