"""The Mosquitto broker's configuration, made from the hub PKI: one home for the ACL.

The broker authenticates every client by its certificate (``require_certificate``), takes the
certificate's CN as the user name (``use_identity_as_username``) and confines each device to its
own topics with ``%u`` patterns: a device may write its status, state, events and command
answers, and read only its own command topic. The hub's fleet client has a certificate of its
own, signed by the hub CA, whose CN (:func:`hub_username`) contains ``@`` — a character no device
id may contain — so no enrolled device can ever hold the hub's rights.

``use_username_as_clientid`` makes every client's id its certificate's CN, so no client can take
over (disconnect) another one's session by claiming its client id; each hub replica therefore
has its own name (``printgate-hub@<replica>``) and its own line in the ACL.

Revoked device certificates are refused through ``crlfile``: the hub writes the CRL
(:func:`write_crl`) and the broker reads it again on SIGHUP (``systemctl reload mosquitto``).
"""

from __future__ import annotations

import datetime
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from hub_server.pki import CertificateAuthority, PkiMaterial

__all__ = [
    "BrokerFiles",
    "acl_text",
    "broker_config",
    "hub_client_certificate",
    "hub_username",
    "write_broker_files",
    "write_crl",
]

HUB_CERT_LIFETIME_S = 365 * 86_400
# The broker's own bound on one message; the hub refuses anything over the wire limit
# (printgate.fleet_wire.MAX_PAYLOAD_BYTES, smaller) itself.
BROKER_MESSAGE_LIMIT_BYTES = 256 * 1024


def hub_username(replica: str = "fleet") -> str:
    """The MQTT user name (certificate CN) of one hub replica's fleet client."""
    if not replica or any(c in replica for c in "+#/ \n"):
        raise ValueError(f"replica name {replica!r} must be non-empty without + # / or spaces")
    return f"printgate-hub@{replica}"


def acl_text(replicas: tuple[str, ...] = ("fleet",)) -> str:
    """The broker ACL: the hub reads and writes every fleet topic, a device only its own."""
    hub_lines = [
        line
        for replica in replicas
        for line in (f"user {hub_username(replica)}", "topic readwrite printgate/v1/#")
    ]
    return "\n".join(
        [
            "# printgate fleet ACL (generated). %u is the CN of the client certificate.",
            *hub_lines,
            "",
            "# every other client is a device: its own subtree, and only its own command topic to read",
            "pattern write printgate/v1/devices/%u/status",
            "pattern write printgate/v1/devices/%u/state",
            "pattern write printgate/v1/devices/%u/events",
            "pattern write printgate/v1/devices/%u/cmd/ack",
            "pattern read printgate/v1/devices/%u/cmd",
            "",
        ]
    )


@dataclass(frozen=True)
class BrokerFiles:
    """Where the broker's configuration and material are."""

    directory: Path

    @property
    def config(self) -> Path:
        return self.directory / "mosquitto.conf"

    @property
    def acl(self) -> Path:
        return self.directory / "acl"

    @property
    def ca(self) -> Path:
        return self.directory / "ca.pem"

    @property
    def certificate(self) -> Path:
        return self.directory / "broker.crt"

    @property
    def key(self) -> Path:
        return self.directory / "broker.key"

    @property
    def crl(self) -> Path:
        return self.directory / "crl.pem"

    @property
    def hub_certificate(self) -> Path:
        return self.directory / "hub-client.crt"

    @property
    def hub_key(self) -> Path:
        return self.directory / "hub-client.key"

    @property
    def persistence(self) -> Path:
        return self.directory / "data"

    @property
    def log(self) -> Path:
        return self.directory / "mosquitto.log"


def broker_config(
    files: BrokerFiles,
    host: str,
    port: int,
    *,
    run_as: str | None = None,
    max_connections: int = -1,
    persistence: bool = True,
) -> str:
    """A mosquitto.conf for one TLS listener on ``host:port`` (see docs/fleet.md)."""
    lines = [
        "# printgate fleet broker (generated)",
        "per_listener_settings false",
        "allow_anonymous false",
        f"acl_file {files.acl}",
        f"message_size_limit {BROKER_MESSAGE_LIMIT_BYTES}",
        # Per client. The hub's subscription takes every device's messages: after a broker restart
        # 5,000 devices send status and state at once, and messages over the queue are dropped.
        "max_inflight_messages 100",
        "max_queued_messages 100000",
        f"persistence {'true' if persistence else 'false'}",
        f"persistence_location {files.persistence}/",
        "autosave_interval 60",
        "log_dest stderr",
        "log_type error",
        "log_type warning",
        "log_type notice",
        "connection_messages false",
        f"listener {port} {host}",
        f"max_connections {max_connections}",
        f"cafile {files.ca}",
        f"certfile {files.certificate}",
        f"keyfile {files.key}",
        f"crlfile {files.crl}",
        "require_certificate true",
        "use_identity_as_username true",
        "use_username_as_clientid true",
        "tls_version tlsv1.2",
    ]
    if run_as:
        lines.insert(1, f"user {run_as}")
    return "\n".join(lines) + "\n"


def _write(path: Path, data: bytes, mode: int) -> None:
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(descriptor, mode)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_crl(path: Path, crl_pem: bytes) -> None:
    """Replace the broker's CRL atomically (then reload the broker: SIGHUP)."""
    x509.load_pem_x509_crl(crl_pem)  # never hand the broker a file it cannot parse
    _write(path, crl_pem, 0o644)


def _pem(*certificates: x509.Certificate) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certificates)


def hub_client_certificate(
    authority: CertificateAuthority,
    now_us: int,
    replica: str = "fleet",
    lifetime_s: int = HUB_CERT_LIFETIME_S,
) -> tuple[bytes, bytes]:
    """(key PEM, certificate + chain PEM) of one hub replica's MQTT client identity (CN
    :func:`hub_username`), clientAuth only."""
    key = ec.generate_private_key(ec.SECP256R1())
    start = datetime.datetime.fromtimestamp(now_us / 1e6 - 300, datetime.UTC)
    end = min(
        datetime.datetime.fromtimestamp(now_us / 1e6 + lifetime_s, datetime.UTC),
        authority.certificate.not_valid_after_utc,
    )
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hub_username(replica))]))
        .issuer_name(authority.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(authority.private_key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return key_pem, _pem(certificate, *authority.chain)


def write_broker_files(
    directory: Path,
    material: PkiMaterial,
    crl_pem: bytes,
    host: str,
    port: int,
    now_us: int,
    *,
    run_as: str | None = None,
    max_connections: int = -1,
    persistence: bool = True,
    replicas: tuple[str, ...] = ("fleet",),
) -> BrokerFiles:
    """Write a complete broker set-up into ``directory`` (0700): config, ACL, the hub CA to verify
    clients with, the hub's server certificate and key for the listener, the CRL, and the hub's
    own MQTT client certificate and key (for the first of ``replicas``)."""
    files = BrokerFiles(directory)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    files.persistence.mkdir(exist_ok=True, mode=0o700)
    key_pem, chain_pem = hub_client_certificate(material.authority, now_us, replicas[0])
    _write(files.ca, _pem(material.authority.root), 0o644)
    _write(files.certificate, _pem(*material.server_chain), 0o644)
    _write(
        files.key,
        material.server_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
        0o600,
    )
    _write(files.hub_key, key_pem, 0o600)
    _write(files.hub_certificate, chain_pem, 0o644)
    write_crl(files.crl, crl_pem)
    _write(files.acl, acl_text(replicas).encode(), 0o644)
    config = broker_config(
        files, host, port, run_as=run_as, max_connections=max_connections, persistence=persistence
    )
    _write(files.config, config.encode(), 0o644)
    return files
