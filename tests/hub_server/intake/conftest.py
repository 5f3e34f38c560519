"""Intake fixtures: a spool in tmp, the in-memory registry, a running intake on loopback,
and small documents generated here (one mono page + one colour page, A4)."""

from __future__ import annotations

import asyncio
import datetime
import os
import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
import pytest_asyncio
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from hub_server.intake import (
    AnalysisLimits,
    InMemoryJobRegistry,
    IntakeConfig,
    IntakeServer,
    PasswordCheck,
    Spool,
    start_intake,
)

from . import ipp_client

# Page 1: black text only (K ink). Page 2: a red square (M+Y ink), landscape A4.
MONO_COLOR_PS = b"""%!PS-Adobe-3.0
%%Pages: 2
<< /PageSize [595 842] >> setpagedevice
/Helvetica findfont 24 scalefont setfont
72 700 moveto (printgate mono page) show
showpage
<< /PageSize [842 595] >> setpagedevice
1 0 0 setrgbcolor 72 72 200 200 rectfill
showpage
"""


def require_binary(name: str) -> str:
    """The path of a required tool; fail loudly (setup.sh installs it) rather than skip."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed (scripts/setup.sh installs it)")
    return path


@pytest.fixture(scope="session")
def documents(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Sample documents: PostScript and PDF (mono page + colour page), letter variants."""
    require_binary("gs")
    folder = tmp_path_factory.mktemp("documents")
    ps = folder / "mono-color.ps"
    ps.write_bytes(MONO_COLOR_PS)
    pdf = folder / "mono-color.pdf"
    subprocess.run(
        ["gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=pdfwrite", "-o", str(pdf), str(ps)],
        check=True,
        timeout=60,
    )
    return {"ps": ps, "pdf": pdf}


@pytest.fixture
def hub_key() -> bytes:
    return os.urandom(32)


@pytest.fixture
def spool(tmp_path: Path, hub_key: bytes) -> Spool:
    return Spool(tmp_path / "spool", hub_key, chunk_bytes=64 * 1024)


@pytest.fixture
def registry() -> InMemoryJobRegistry:
    return InMemoryJobRegistry()


FAST_CONFIG = IntakeConfig(
    idle_timeout_s=1.0,
    keepalive_timeout_s=5.0,
    analysis=AnalysisLimits(timeout_s=30.0),
)
# HTTP Basic users of the intakes that can authenticate ("basic": optional credentials).
PASSWORDS = {"alice": "alice-pw", "bob": "bob-pw"}
AUTHENTICATING_CONFIG = replace(FAST_CONFIG, authentication="basic")


@dataclass
class FakeHubPasswords:
    """The hub's password check as intake sees it: a dict of passwords, and a history of the
    full verifications asked (the hub would run argon2 and count failures for each)."""

    passwords: dict[str, str]
    verified: list[str]

    async def verify(self, username: str, password: str) -> bool:
        self.verified.append(username)
        await asyncio.sleep(0)
        return self.passwords.get(username) == password

    def version(self, username: str) -> str | None:
        password = self.passwords.get(username)
        return None if password is None else str(hash(password))

    def check(self) -> PasswordCheck:
        return PasswordCheck(self.verify, self.version)


@dataclass(frozen=True)
class TlsFiles:
    """A test CA, a server certificate for localhost/127.0.0.1 it signed, and their PEMs."""

    ca_path: Path
    key_pem: bytes
    chain_pem: bytes

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        folder = self.ca_path.parent
        (folder / "server-key.pem").write_bytes(self.key_pem)
        (folder / "server-chain.pem").write_bytes(self.chain_pem)
        context.load_cert_chain(folder / "server-chain.pem", folder / "server-key.pem")
        return context

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_path))


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def make_tls_files(folder: Path, serial: int = 2) -> TlsFiles:
    """A fresh CA and a localhost server certificate (``serial``) in ``folder``."""
    import ipaddress

    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "intake test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(1)
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    ca_path = folder / "ca.pem"
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    chain = server.public_bytes(serialization.Encoding.PEM) + ca.public_bytes(serialization.Encoding.PEM)
    return TlsFiles(ca_path, _pem_key(key), chain)


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_tls_files(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def hub_passwords() -> FakeHubPasswords:
    return FakeHubPasswords(dict(PASSWORDS), [])


@pytest_asyncio.fixture
async def intake(registry: InMemoryJobRegistry, spool: Spool) -> AsyncIterator[IntakeServer]:
    """IPP and LPD on ephemeral loopback ports, 1 s idle timeout, analysis on."""
    server = await start_intake(
        registry, spool, ipp_listen=("127.0.0.1", 0), lpd_listen=("127.0.0.1", 0), config=FAST_CONFIG
    )
    yield server
    await server.close()


@pytest_asyncio.fixture
async def authenticating_intake(
    registry: InMemoryJobRegistry, spool: Spool, tls_files: TlsFiles, hub_passwords: FakeHubPasswords
) -> AsyncIterator[IntakeServer]:
    """Like ``intake`` plus IPPS, where IPP clients may authenticate (HTTP Basic,
    ``PASSWORDS``, ``authentication = "basic"``). The test client trusts its IPPS port."""
    server = await start_intake(
        registry,
        spool,
        ipp_listen=("127.0.0.1", 0),
        lpd_listen=("127.0.0.1", 0),
        ipps_listen=("127.0.0.1", 0),
        tls=tls_files.server_context(),
        config=AUTHENTICATING_CONFIG,
        passwords=hub_passwords.check(),
    )
    ipp_client.TLS_PORTS[server.ipps_port] = tls_files.client_context()
    yield server
    del ipp_client.TLS_PORTS[server.ipps_port]
    await server.close()
