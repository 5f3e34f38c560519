"""A device identity for tests that need an enrolled terminal but no hub to enroll with."""

from __future__ import annotations

import datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from terminal_app.hub.enrollment.state import Credentials, CredentialStore


def install_self_signed_identity(state_dir: Path, device_id: str, endpoint: str) -> Credentials:
    """A self-signed certificate for ``device_id`` (also its own anchor), installed the way an
    enrollment installs one, naming ``endpoint`` as the hub's device port. A real hub would not
    accept it; a device with it starts, and finds the hub unreachable or refusing."""
    store = CredentialStore(state_dir)
    key = store.pending_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, device_id)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    pem = certificate.public_bytes(serialization.Encoding.PEM)
    meta = {"device_id": device_id, "kind": "terminal", "endpoints": [endpoint]}
    return store.install(key, certificate, b"", pem, meta)
