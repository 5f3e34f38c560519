"""The device's credentials on disk, replaced atomically as a whole.

Layout of the state directory (mode 0700)::

    pending.key            0600  key of a request in flight (kept so a retry sends the same key)
    current -> gen-<serial>      symlink, swapped atomically (rename) to a new generation
    gen-<serial>/
        device.key         0600  the private key (made here, never sent anywhere)
        device.crt         0644  the device certificate
        chain.pem          0644  the CA certificates above it
        hub-ca.pem         0644  the pinned trust anchor the hub is verified with
        device.json        0644  device id, kind, hub endpoints

A crash leaves either the old generation or the new one current, never a mix of both.
"""

from __future__ import annotations

import contextlib
import datetime
import enum
import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from terminal_app.errors import ReenrollRequired

__all__ = ["CredentialState", "CredentialStore", "Credentials"]

PENDING_KEY = "pending.key"
CURRENT = "current"
KEY, CERT, CHAIN, ANCHOR, META = "device.key", "device.crt", "chain.pem", "hub-ca.pem", "device.json"
PRIVATE_MODE, PUBLIC_MODE = 0o600, 0o644


class CredentialState(enum.Enum):
    """Where the device stands with its certificate."""

    UNENROLLED = "unenrolled"
    VALID = "valid"
    RENEW_DUE = "renew due"  # two thirds of its life are past
    EXPIRED = "expired: re-enroll with a new token"


def _write(path: Path, data: bytes, mode: int) -> None:
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


def _fsync_directory(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    """Unencrypted PKCS#8 PEM of a private key."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@dataclass(frozen=True)
class Credentials:
    """One generation: what the device calls the hub with."""

    directory: Path
    device_id: str
    kind: str
    endpoints: tuple[str, ...]
    certificate: x509.Certificate

    @property
    def key_path(self) -> Path:
        return self.directory / KEY

    @property
    def certificate_path(self) -> Path:
        return self.directory / CERT

    @property
    def chain_path(self) -> Path:
        return self.directory / CHAIN

    @property
    def anchor_path(self) -> Path:
        return self.directory / ANCHOR

    def state(self, now: datetime.datetime) -> CredentialState:
        """Valid, due for renewal (two thirds of its life past) or expired."""
        begin, end = self.certificate.not_valid_before_utc, self.certificate.not_valid_after_utc
        if now >= end or now < begin:
            return CredentialState.EXPIRED
        return CredentialState.RENEW_DUE if now >= begin + (end - begin) * 2 / 3 else CredentialState.VALID

    def channel_material(self) -> tuple[bytes, bytes, bytes]:
        """(anchor, private key, certificate + chain) PEM for ``grpc.ssl_channel_credentials``."""
        return (
            self.anchor_path.read_bytes(),
            self.key_path.read_bytes(),
            self.certificate_path.read_bytes() + self.chain_path.read_bytes(),
        )


class CredentialStore:
    """The state directory of one device."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _ensure(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.directory, 0o700)

    def pending_key(self) -> ec.EllipticCurvePrivateKey:
        """The key of the request in flight: the one kept from an unanswered try, else a new
        EC P-256 key, saved (0600) before anything is sent."""
        self._ensure()
        path = self.directory / PENDING_KEY
        if path.exists():
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if isinstance(key, ec.EllipticCurvePrivateKey):
                return key
        key = ec.generate_private_key(ec.SECP256R1())
        _write(path, key_pem(key), PRIVATE_MODE)
        _fsync_directory(self.directory)
        return key

    def current(self) -> Credentials | None:
        """The credentials in force, or None before the first enrollment."""
        link = self.directory / CURRENT
        if not link.exists():
            return None
        directory = link.resolve()
        meta = json.loads((directory / META).read_text())
        certificate = x509.load_pem_x509_certificate((directory / CERT).read_bytes())
        return Credentials(directory, meta["device_id"], meta["kind"], tuple(meta["endpoints"]), certificate)

    def state(self, now: datetime.datetime) -> CredentialState:
        """Unenrolled, valid, renewal due, or expired (re-enroll)."""
        credentials = self.current()
        return CredentialState.UNENROLLED if credentials is None else credentials.state(now)

    def require(self, now: datetime.datetime) -> Credentials:
        """The credentials, if still valid; :class:`ReenrollRequired` otherwise."""
        credentials = self.current()
        if credentials is None:
            raise ReenrollRequired("this device is not enrolled: enroll it with a token from the hub admin")
        if credentials.state(now) is CredentialState.EXPIRED:
            end = credentials.certificate.not_valid_after_utc.isoformat(timespec="seconds")
            raise ReenrollRequired(f"the device certificate expired at {end}: enroll again with a new token")
        return credentials

    def install(
        self,
        key: ec.EllipticCurvePrivateKey,
        certificate: x509.Certificate,
        chain_pem: bytes,
        anchor_pem: bytes,
        meta: Mapping[str, object],
    ) -> Credentials:
        """Make a new generation current, atomically, and forget the pending key and old ones."""
        self._ensure()
        serial = format(certificate.serial_number, "x")
        generation = self.directory / f"gen-{serial}"
        staging = Path(tempfile.mkdtemp(dir=self.directory, prefix=".gen-"))
        os.chmod(staging, 0o700)
        _write(staging / KEY, key_pem(key), PRIVATE_MODE)
        _write(staging / CERT, certificate.public_bytes(serialization.Encoding.PEM), PUBLIC_MODE)
        _write(staging / CHAIN, chain_pem, PUBLIC_MODE)
        _write(staging / ANCHOR, anchor_pem, PUBLIC_MODE)
        _write(staging / META, json.dumps(meta, sort_keys=True).encode(), PUBLIC_MODE)
        _fsync_directory(staging)
        if generation.exists():
            shutil.rmtree(generation)
        os.rename(staging, generation)
        link = self.directory / f".{CURRENT}.new"
        with contextlib.suppress(FileNotFoundError):
            link.unlink()
        link.symlink_to(generation.name)
        os.replace(link, self.directory / CURRENT)
        _fsync_directory(self.directory)
        with contextlib.suppress(FileNotFoundError):
            (self.directory / PENDING_KEY).unlink()
        for old in self.directory.glob("gen-*"):
            if old != generation:
                shutil.rmtree(old, ignore_errors=True)
        _fsync_directory(self.directory)
        credentials = self.current()
        assert credentials is not None
        return credentials
