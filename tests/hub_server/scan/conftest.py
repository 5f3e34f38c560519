"""Scan intake fixtures: a TLS certificate made here, a session table standing in for the hub's
session registry (the hub side is not wired yet), a charge recorder with idempotency keys, a
private SMTP sink (aiosmtpd), a private Samba ``smbd`` and a private WebDAV server (wsgidav),
each started here and stopped by PID."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
import pytest_asyncio
from aiosmtpd.smtp import SMTP, Envelope, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from hub_server.scan import ScanSession
from tests.conftest import free_tcp_port

PRINTER_ADDRESS = "127.0.0.2"
SECOND_PRINTER_ADDRESS = "127.0.0.3"
STRANGER_ADDRESS = "127.0.0.9"
SCAN_ADDRESS = "scan@hub.printgate.test"


@dataclass(frozen=True)
class TlsMaterial:
    server: ssl.SSLContext
    client: ssl.SSLContext
    certificate: Path  # the server's, as files (for the hub's [scan] certificate and key)
    key: Path


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsMaterial:
    """A throw-away CA and a server certificate for 127.0.0.1."""
    folder = tmp_path_factory.mktemp("tls")
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "printgate test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hub")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    (folder / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (folder / "cert.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    client = ssl.create_default_context(cafile=str(folder / "ca.pem"))
    return TlsMaterial(server, client, folder / "cert.pem", folder / "key.pem")


@dataclass
class SessionRow:
    printer_id: str
    session: ScanSession
    login_us: int
    logout_us: int | None = None


@dataclass
class TableSessionLocator:
    """The hub's session registry as a small table: the rule of ``SessionLocator`` applied to
    rows the test writes (login/logout times), not a canned answer."""

    rows: list[SessionRow] = field(default_factory=list)
    asked: list[tuple[str, int, int]] = field(default_factory=list)

    def log_in(self, printer_id: str, session: ScanSession, at_us: int | None = None) -> None:
        self.rows.append(SessionRow(printer_id, session, at_us if at_us is not None else now_us()))

    def log_out(self, user: str, at_us: int | None = None) -> None:
        for row in self.rows:
            if row.session.user == user and row.logout_us is None:
                row.logout_us = at_us if at_us is not None else now_us()

    def who_is_at(self, printer_id: str, at_time_us: int, grace_us: int) -> ScanSession | None:
        self.asked.append((printer_id, at_time_us, grace_us))
        candidates = [
            row
            for row in self.rows
            if row.printer_id == printer_id
            and row.login_us <= at_time_us
            and (row.logout_us is None or at_time_us <= row.logout_us + grace_us)
        ]
        open_rows = [row for row in candidates if row.logout_us is None or row.logout_us >= at_time_us]
        if open_rows:
            return open_rows[-1].session
        candidates.sort(key=lambda row: row.logout_us or 0)
        return candidates[-1].session if candidates else None


def now_us() -> int:
    return time.time_ns() // 1000


@dataclass
class ChargeRecorder:
    """Charges by idempotency key, as the ledger applies them: a replay changes nothing."""

    charges: dict[str, tuple[str, str, int, int]] = field(default_factory=dict)
    calls: int = 0

    def charge_scan(
        self, *, user: str, printer_id: str, scan_id: str, pages: int, amount_cents: int, idempotency_key: str
    ) -> None:
        self.calls += 1
        previous = self.charges.setdefault(idempotency_key, (user, printer_id, pages, amount_cents))
        assert previous == (user, printer_id, pages, amount_cents), "a replayed key with another payload"


class MailSink:
    """A private SMTP server that keeps every message it is given."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.arrived_at: list[float] = []
        self.arrived: asyncio.Queue[EmailMessage] = asyncio.Queue()
        self.port = 0
        self._server: asyncio.Server | None = None

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.arrived_at.append(time.perf_counter())  # the whole message is here; parsing it is ours
        content = envelope.original_content or b""
        message = message_from_bytes(
            content if isinstance(content, bytes) else content.encode(), policy=policy.default
        )
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        self.arrived.put_nowait(message)
        return "250 OK"

    async def start(self, tls_context: ssl.SSLContext | None = None) -> None:
        """Listen on a free loopback port; with ``tls_context`` only after STARTTLS."""
        self._server = await asyncio.get_running_loop().create_server(
            lambda: SMTP(
                self,
                data_size_limit=200 * 1024 * 1024,
                tls_context=tls_context,
                require_starttls=tls_context is not None,
            ),
            "127.0.0.1",
            0,
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


@pytest_asyncio.fixture
async def mail_sink() -> AsyncIterator[MailSink]:
    sink = MailSink()
    await sink.start()
    yield sink
    await sink.close()


def _wait_for_port(port: int, process: subprocess.Popen[bytes], what: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on {port}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()


@dataclass(frozen=True)
class SambaServer:
    port: int
    share_dir: Path
    username: str
    password: str


@pytest.fixture(scope="session")
def smbd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SambaServer]:
    """A private Samba server with one share on a loopback port, stopped by PID."""
    binary = shutil.which("smbd")
    if binary is None:
        pytest.fail("smbd is not installed (scripts/setup.sh installs samba)")
    root = tmp_path_factory.mktemp("samba")
    for name in ("share", "state", "cache", "lock", "pid", "private", "log"):
        (root / name).mkdir()
    port = free_tcp_port()
    config = root / "smb.conf"
    config.write_text(
        f"""[global]
  server role = standalone server
  smb ports = {port}
  interfaces = lo
  bind interfaces only = yes
  lock directory = {root}/lock
  state directory = {root}/state
  cache directory = {root}/cache
  pid directory = {root}/pid
  private dir = {root}/private
  ncalrpc dir = {root}/state/ncalrpc
  log file = {root}/log/smbd.log
  passdb backend = tdbsam:{root}/private/passdb.tdb
  disable netbios = yes
  load printers = no
  printcap name = /dev/null
  disable spoolss = yes
  server min protocol = SMB3
  map to guest = never
[scans]
  path = {root}/share
  read only = no
  valid users = root
"""
    )
    password = "Smb-" + os.urandom(6).hex()
    subprocess.run(
        ["smbpasswd", "-c", str(config), "-s", "-a", "root"],
        input=f"{password}\n{password}\n".encode(),
        check=True,
        capture_output=True,
        timeout=30,
    )
    process = subprocess.Popen(
        [binary, "-F", "--no-process-group", "-s", str(config), "--debug-stdout", "-d", "0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # smbd signals its whole process group when it stops
    )
    try:
        _wait_for_port(port, process, "smbd")
        yield SambaServer(port, root / "share", "root", password)
    finally:
        _stop(process)


@dataclass(frozen=True)
class WebDavServer:
    url: str
    root_dir: Path
    username: str
    password: str


@pytest.fixture(scope="session")
def webdav(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDavServer]:
    """A private wsgidav server over a temporary folder, basic auth, stopped by PID."""
    root = tmp_path_factory.mktemp("webdav")
    share = root / "share"
    share.mkdir()
    port = free_tcp_port()
    password = "Dav-" + os.urandom(6).hex()
    config = root / "wsgidav.json"
    config.write_text(
        json.dumps(
            {
                "host": "127.0.0.1",
                "port": port,
                "provider_mapping": {"/": str(share)},
                "http_authenticator": {
                    "accept_basic": True,
                    "accept_digest": False,
                    "default_to_digest": False,
                },
                "simple_dc": {"user_mapping": {"*": {"scanner": {"password": password}}}},
                "verbose": 1,
                "logging": {"enable_loggers": []},
            }
        )
    )
    wsgidav = Path(sys.executable).with_name("wsgidav")
    process = subprocess.Popen(
        [str(wsgidav), "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        _wait_for_port(port, process, "wsgidav")
        yield WebDavServer(f"http://127.0.0.1:{port}/", share, "scanner", password)
    finally:
        _stop(process)
