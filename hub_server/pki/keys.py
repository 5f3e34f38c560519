"""Keys and PEM files: the key policy, fingerprints, and private files written atomically.

The hub makes EC P-256 keys (ECDSA with SHA-256): the one choice every party here accepts —
gRPC's BoringSSL, OpenSSL clients (``openssl s_client``, CUPS, Python's ``ssl``), Mosquitto,
RAUC's CMS signatures, browsers opening the web console, and the TPM 2.0 chips and secure
elements (ATECC608) a terminal may keep its key in. Ed25519 would be smaller but is missing
from TPMs, browsers' TLS and many embedded TLS stacks.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes, PublicKeyTypes

from hub_server.pki.errors import PkiConfigError, WeakKey

__all__ = [
    "check_key_policy",
    "load_certificates",
    "load_private_key",
    "new_private_key",
    "pem_of",
    "private_key_pem",
    "public_key_sha256",
    "write_file_atomic",
]

ACCEPTED_CURVES = (ec.SECP256R1, ec.SECP384R1)
RSA_MIN_BITS = 2048
PRIVATE_MODE = 0o600
PUBLIC_MODE = 0o644


def new_private_key() -> ec.EllipticCurvePrivateKey:
    """A fresh EC P-256 key."""
    return ec.generate_private_key(ec.SECP256R1())


def check_key_policy(public_key: PublicKeyTypes) -> None:
    """Refuse keys TLS peers here may not accept or that are too weak: EC P-256 or P-384, or
    RSA of at least 2048 bits with exponent 65537."""
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        if not isinstance(public_key.curve, ACCEPTED_CURVES):
            raise WeakKey(f"EC curve {public_key.curve.name} is not accepted: use P-256")
        return
    if isinstance(public_key, rsa.RSAPublicKey):
        if public_key.key_size < RSA_MIN_BITS or public_key.public_numbers().e != 65537:
            raise WeakKey(f"RSA key of {public_key.key_size} bits is not accepted: use EC P-256")
        return
    raise WeakKey(f"{type(public_key).__name__.lstrip('_')} keys are not accepted: use EC P-256")


def public_key_sha256(public_key: PublicKeyTypes) -> str:
    """Hex SHA-256 of the DER SubjectPublicKeyInfo (the key's fingerprint)."""
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def private_key_pem(key: CertificateIssuerPrivateKeyTypes) -> bytes:
    """Unencrypted PKCS#8 PEM (the file holding it is 0600)."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def pem_of(certificates: list[x509.Certificate] | tuple[x509.Certificate, ...]) -> bytes:
    """Certificates as concatenated PEM."""
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certificates)


def write_file_atomic(path: Path, data: bytes, mode: int) -> None:
    """Replace ``path`` with ``data`` so a reader sees the old or the new file, never half of
    one; the file has ``mode`` from its first byte (a key is never world-readable)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(descriptor, mode)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def load_private_key(path: Path) -> CertificateIssuerPrivateKeyTypes:
    """An unencrypted PEM private key usable for signing certificates."""
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as error:
        raise PkiConfigError(f"cannot load private key {path}: {error}") from error
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise PkiConfigError(f"private key {path} is neither EC nor RSA")
    check_key_policy(key.public_key())
    return key


def load_certificates(path: Path) -> list[x509.Certificate]:
    """Every certificate of a PEM file, in file order (at least one)."""
    try:
        certificates = x509.load_pem_x509_certificates(path.read_bytes())
    except (OSError, ValueError) as error:
        raise PkiConfigError(f"cannot load certificates from {path}: {error}") from error
    return certificates
