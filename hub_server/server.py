"""Build and run a hub: storage, the PKI, the domain, gRPC services, print intake, health, graceful
shutdown. This is the hub's composition root: the one module that knows every layer.

**Two TLS ports.** The *device port* (``listen``) requires a client certificate from the hub CA
in the handshake: terminals and kiosks (TerminalService, KioskService, EnrollmentService.Renew).
The *admin port* (``admin_listen``) asks for none: enrollment (GetCaCertificate, Enroll) and the
admin services (their admin token). Why not one port with an optional client certificate: gRPC's
Python server can either not ask for a client certificate or require one, nothing between; and
requiring it means a client without one is refused before a single byte of a request is parsed,
on the port the money services listen on. Every service is registered on both ports (one
server); a device service reached over the admin port finds no certificate and refuses.

``dev_plaintext`` serves both ports in plaintext and names devices by id + key metadata: for
development and benchmarks only, logged as such at every start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import signal
import socket
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import grpc
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from printgate.v1 import (
    admin_pb2_grpc,
    directory_pb2_grpc,
    enrollment_pb2_grpc,
    fleet_pb2_grpc,
    kiosk_pb2_grpc,
    scan_pb2_grpc,
    sites_pb2_grpc,
    terminal_pb2_grpc,
)

from hub_server.clock import Clock, SystemClock
from hub_server.config import HubConfig
from hub_server.dirsync import DirectoryServicer, SyncScheduler, load_directory_config
from hub_server.domain import DatabaseSpoolStore, Hub, check_books, first_admin_token, open_hub_database
from hub_server.domain.enrollment import enrolled_device_binder
from hub_server.domain.guest_pins import GuestLimits
from hub_server.domain.release import PrintJobs
from hub_server.domain.scan_store import CounterCheck
from hub_server.domain.security import load_or_create_secret
from hub_server.domain.uploads import PrintUploads
from hub_server.errors import DeviceRefused, HubError
from hub_server.fleet import (
    BLOCKING_ERROR_BITS,
    AlertDispatcher,
    BrokerFiles,
    FleetAdminServicer,
    FleetComponent,
    FleetConfig,
    FleetDeviceServicer,
    HubMqtt,
    HubMqttSettings,
    PrinterPoller,
    hub_client_certificate,
    hub_username,
    write_broker_files,
    write_crl,
)
from hub_server.intake import (
    IntakeConfig,
    IntakeError,
    IntakeServer,
    PasswordCheck,
    PemTlsSource,
    QueuePolicy,
    Spool,
    SpoolLimits,
    Submission,
    parse_listen,
    server_ssl_context,
    sniff_format,
    start_intake,
)
from hub_server.pki import (
    AttemptLimiter,
    CertificateExpired,
    CertificateRevoked,
    EnrollmentServicer,
    HubPki,
    PeerRefused,
    PkiConfig,
    load_material,
)
from hub_server.scan import (
    DirectoryLinkStore,
    EmailPrintConfig,
    EmailPrinting,
    HeldPrint,
    Outbox,
    RelaySender,
    ReleaseCode,
    ScanDownloads,
    ScanIntake,
    ScanIntakeConfig,
    ScanOutcome,
    ScanProcessor,
    ScanSettings,
    ScanSmtpConfig,
    ScanSmtpServer,
    build_destinations,
    load_scan_config,
    start_scan_smtp,
)
from hub_server.services.admin import AdminServicer
from hub_server.services.common import (
    TERMINAL_ID_HEADER,
    TERMINAL_KEY_HEADER,
    DeviceCaller,
    DeviceGate,
    abort_for,
    bearer_token,
    metadata_value,
)
from hub_server.services.kiosk import KioskAdminServicer, KioskServicer
from hub_server.services.rules_admin import JobRulesServicer
from hub_server.services.scan_admin import ScanAdminServicer
from hub_server.services.site_admin import SiteAdminServicer
from hub_server.services.terminal import TerminalServicer
from hub_server.storage import Database
from hub_server.storage.private import private_directory, private_file, tighten
from hub_server.web import PrinterWatch, WebServer, start_web

log = logging.getLogger(__name__)

ADMIN_TOKEN_FILE = "admin-token"
HUB_CA_FILE = "hub-ca.pem"  # the trust anchor (and issuing CA) admins and tools pin
PKI_DIR = "pki"
FLEET_DIR = "fleet"  # the hub's MQTT client key and certificate, and the CA it checks the broker by
PARENT_CHECK_S = 1.0
SECRET_FILE = "hub-secret"
WILDCARD_HOSTS = ("", "0.0.0.0", "::", "[::]")
DAY_S = 86_400
# Paired with the terminal's client settings (terminal_app.core): clients may ping every 20 s.
SERVER_OPTIONS = [
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
    ("grpc.max_receive_message_length", 4 * 1024 * 1024),
]


def ensure_admin_credential(db: Database, data_dir: Path, now_us: int) -> Path | None:
    """On first start, create an admin token and write it (mode 0600) to the data directory.

    Returns the file's path when a token was created now, None when one existed already.
    """
    token = first_admin_token(db, now_us)
    if token is None:
        return None
    path = data_dir / ADMIN_TOKEN_FILE
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(token + "\n")
    return path


def refuse_bad_books(db: Database) -> None:
    """Refuse to serve from a ledger whose invariants do not hold."""
    problems = check_books(db)
    if problems:
        raise RuntimeError("ledger check failed: " + "; ".join(problems[:10]))


SPOOL_DIR = "spool"
QUEUE = "default"  # the one print queue intake offers
# Intake's own sweep would abort a job being released (it knows no "releasing"): the hub
# sweeps with PrintJobs.sweep instead and leaves intake's asleep for a year.
INTAKE_SWEEP_OFF_S = 365 * 24 * 3600.0
PRINT_SWEEP_S = 60.0
AUTHENTICATION: dict[str, Literal["none", "basic", "required"]] = {
    "none": "none",
    "basic": "basic",
    "required": "required",
}
RELEASE_DRAIN_S = 30.0


@dataclass
class PrintIntake:
    """Print intake and release of a running hub."""

    intake: IntakeServer
    jobs: PrintJobs
    tasks: list[asyncio.Task[None]]  # the expiry sweep and the heartbeat

    async def close(self) -> None:
        """Stop the listeners, the sweep and the heartbeat; let releases in progress finish (bounded)."""
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.intake.close()
        await self.jobs.wait_releases(RELEASE_DRAIN_S)


SCAN_DIR = "scan"
DOWNLOAD_PURGE_S = 3600.0  # how often scans whose download links expired are removed
COUNTER_CHECK_S = 60.0  # how often sessions' MFP scan counters are compared with their scans
# beyond the grace: a scan read the clock at arrival, before it was stored and counted in progress
COUNTER_CHECK_MARGIN_S = 60.0


@dataclass
class Scanning:
    """The scan intake of a running hub: its SMTP receiver, the task keeping the scan log, and
    the scans kept for download (served by the web portal; expired ones purged hourly)."""

    intake: ScanIntake
    smtp: ScanSmtpServer
    outcomes: asyncio.Queue[ScanOutcome]  # what the log keeper has still to write
    log_keeper: asyncio.Task[None]
    downloads: ScanDownloads
    purger: asyncio.Task[None]
    check_counters: Callable[[], Awaitable[list[CounterCheck]]]
    email_printing: EmailPrinting | None = None

    async def settle(self) -> None:
        """Wait until every scan taken is finished and its outcome is in the scan log."""
        await self.intake.drain()
        await self.outcomes.join()
        if self.email_printing is not None:
            await self.email_printing.drain()

    async def close(self) -> None:
        """Stop taking mail, let the scans taken finish and be logged."""
        await self.smtp.close()
        await self.settle()
        for task in (self.log_keeper, self.purger):
            task.cancel()
        await asyncio.gather(self.log_keeper, self.purger, return_exceptions=True)


@dataclass
class RunningOutbox:
    """The hub's notice mails (job rules' ``notify``) and the task sending them."""

    outbox: Outbox
    sender: asyncio.Task[None]

    async def close(self) -> None:
        """Stop sending; mails still queued are not sent (counted in the log)."""
        self.sender.cancel()
        await asyncio.gather(self.sender, return_exceptions=True)
        outbox = self.outbox
        log.info(
            "outbox: %d notice(s) sent, %d failed, %d dropped", outbox.sent, outbox.failed, outbox.dropped
        )


@dataclass
class RunningFleet:
    """Fleet management of a running hub: the component, its MQTT subscriber, the alert
    dispatcher, the SNMP poller of printers without a terminal, and their tasks."""

    component: FleetComponent
    mqtt: HubMqtt
    dispatcher: AlertDispatcher
    poller: PrinterPoller
    tasks: list[asyncio.Task[None]]

    async def close(self) -> None:
        """Disconnect from the broker, stop every task (awaited), close the SNMP clients."""
        await self.mqtt.stop()
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.poller.close()


@dataclass
class RunningHub:
    """A started hub: ``port`` is the device port, ``admin_port`` the admin and enrollment port.
    ``printing`` is None when no intake listener is configured."""

    server: grpc.aio.Server
    hub: Hub
    db: Database
    pki: HubPki
    port: int
    admin_port: int
    health: health.aio.HealthServicer
    printing: PrintIntake | None = None
    web: WebServer | None = None
    fleet: RunningFleet | None = None
    directory_schedule: SyncScheduler | None = None
    scanning: Scanning | None = None
    outbox: RunningOutbox | None = None

    @property
    def ipp_port(self) -> int:
        """The bound IPP port (0: off)."""
        return self.printing.intake.ipp_port if self.printing else 0

    @property
    def ipps_port(self) -> int:
        """The bound IPPS port (0: off)."""
        return self.printing.intake.ipps_port if self.printing else 0

    @property
    def lpd_port(self) -> int:
        """The bound LPD port (0: off)."""
        return self.printing.intake.lpd_port if self.printing else 0

    async def stop(self, grace_s: float = 2.0) -> None:
        """Stop taking calls and jobs, let running calls finish, close storage."""
        await self.health.enter_graceful_shutdown()
        if self.web is not None:
            await self.web.close()
        if self.directory_schedule is not None:
            await self.directory_schedule.stop()
        if self.scanning is not None:
            await self.scanning.close()
        if self.printing is not None:
            await self.printing.close()
        if self.outbox is not None:
            await self.outbox.close()
        await self.server.stop(grace_s)
        if self.fleet is not None:
            await self.fleet.close()
        await self.pki.stop()
        self.db.close()


def derive_key(secret: bytes, purpose: bytes) -> bytes:
    """A 32-byte key for one purpose, derived from the hub secret (HKDF-SHA256)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(secret)


def spool_key(secret: bytes) -> bytes:
    """The spool's key-wrapping key, derived from the hub secret (HKDF-SHA256)."""
    return derive_key(secret, b"printgate spool key v1")


def enrollment_token_key(secret: bytes) -> bytes:
    """The key enrollment token secrets are hashed with (HKDF-SHA256 of the hub secret: every
    replica derives the same one, and a copy of the database alone cannot check a guess)."""
    return derive_key(secret, b"printgate enrollment token key v1")


def pki_config(config: HubConfig) -> PkiConfig:
    """The PKI's configuration from ``[pki]``; its files live in ``data_dir/pki``."""
    settings = config.pki

    def path(text: str) -> Path | None:
        return Path(text) if text else None

    return PkiConfig(
        directory=config.data_dir / PKI_DIR,
        server_names=settings.server_names,
        organization=settings.organization,
        ca_cert_file=path(settings.ca_cert_file),
        ca_key_file=path(settings.ca_key_file),
        server_cert_file=path(settings.server_cert_file),
        server_key_file=path(settings.server_key_file),
        device_lifetime_s=settings.device_lifetime_days * DAY_S,
    )


def advertised(listen: str, port: int, server_names: tuple[str, ...]) -> str:
    """``host:port`` for clients to dial: the listen host (a wildcard becomes the first server
    name) with the bound port."""
    host = listen.rpartition(":")[0]
    if host in WILDCARD_HOSTS:
        host = server_names[0]
    if ":" in host.strip("[]"):
        host = f"[{host.strip('[]')}]"
    return f"{host}:{port}"


class CertificateGate:
    """Which device calls: its verified client certificate (:class:`hub_server.pki.HubPki`)."""

    def __init__(self, pki: HubPki) -> None:
        self._pki = pki

    def identify(self, context: grpc.aio.ServicerContext) -> DeviceCaller:
        """The calling device, or :class:`DeviceRefused` (logged here, once per refusal)."""
        try:
            peer = self._pki.authenticator.identify(context)
        except PeerRefused as error:
            reason = (
                "revoked"
                if isinstance(error, CertificateRevoked)
                else "expired"
                if isinstance(error, CertificateExpired)
                else "unknown"
            )
            log.warning("device refused from %s: %s", context.peer(), error)
            raise DeviceRefused(str(error), reason) from None
        return DeviceCaller(peer.identity.device_id, peer.serial)

    async def wait_revoked(self, caller: DeviceCaller) -> None:
        """Return once the caller's certificate is revoked."""
        await self._pki.revocations.wait_revoked(caller.serial)


class PlaintextGate:
    """Development plaintext mode: devices named by their id and key metadata."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub

    def identify(self, context: grpc.aio.ServicerContext) -> DeviceCaller:
        """The device the metadata names, if its key is right."""
        terminal_id = metadata_value(context, TERMINAL_ID_HEADER)
        self._hub.auth.check_terminal(terminal_id, metadata_value(context, TERMINAL_KEY_HEADER))
        return DeviceCaller(terminal_id)

    async def wait_revoked(self, caller: DeviceCaller) -> None:
        """Never: a plaintext caller has no certificate to revoke."""
        await asyncio.Event().wait()


def _warn_plaintext(config: HubConfig) -> None:
    for line in (
        "DEVELOPMENT PLAINTEXT MODE (dev_plaintext): no TLS on any port",
        f"every PIN, password, card number, session and admin token to {config.listen} and "
        f"{config.admin_listen} crosses the network in clear",
        "devices are named by id + key metadata, not certificates: never run a site like this",
    ):
        log.warning("%s", line)


def open_spool(config: HubConfig, clock: Clock, secret: bytes, db: Database) -> Spool:
    """The encrypted spool of held jobs: in the database when it is PostgreSQL (so every replica
    sharing it takes jobs in and releases them), else in the data directory."""
    printing = config.printing
    queue = QueuePolicy(QUEUE, printing.expiry_hours * 3600.0, printing.private)

    def seconds() -> float:
        return clock.now_us() / 1_000_000

    shared = db.dialect == "postgresql"
    return Spool(
        DatabaseSpoolStore(db, seconds) if shared else private_directory(config.data_dir / SPOOL_DIR),
        spool_key(secret),
        limits=SpoolLimits(
            job_bytes_max=printing.job_mb_max * 1024 * 1024, user_bytes_max=printing.user_mb_max * 1024 * 1024
        ),
        queues={queue.name: queue},
        clock=seconds,
    )


def server_certificate_tls(config: HubConfig, clock: Clock) -> PemTlsSource:
    """The TLS source of IPPS and the web listener: the hub PKI's server key and chain, read
    again every few seconds (a replaced certificate is served without a restart)."""
    pki = pki_config(config)

    def load() -> tuple[bytes, bytes]:
        material = load_material(pki, clock)
        key = material.server_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        chain = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in material.server_chain)
        return key, chain

    return PemTlsSource(load)


async def start_printing(config: HubConfig, hub: Hub, spool: Spool) -> PrintIntake:
    """Recover interrupted releases, start IPP/IPPS/LPD intake and the expiry sweep."""
    printing = config.printing

    def seconds() -> float:
        return hub.clock.now_us() / 1_000_000

    jobs = hub.printing
    jobs.heartbeat()
    await jobs.recover()
    jobs.shred_orphans()
    intake = await start_intake(
        hub.job_registry,
        spool,
        ipp_listen=parse_listen(printing.ipp_listen) if printing.ipp_listen else None,
        lpd_listen=parse_listen(printing.lpd_listen) if printing.lpd_listen else None,
        ipps_listen=parse_listen(printing.ipps_listen) if printing.ipps_listen else None,
        tls=server_certificate_tls(config, hub.clock) if printing.ipps_listen else None,
        config=IntakeConfig(
            queue=QUEUE,
            unknown_owner="hold" if printing.unknown_owner == "hold" else "refuse",
            expiry_sweep_s=INTAKE_SWEEP_OFF_S,
            analysis_workers=printing.analysis_workers,
            connections_per_address_max=printing.connections_per_address_max,
            body_min_bytes_per_s=printing.body_min_bytes_per_s,
            body_deadline_s=printing.body_deadline_s,
            authentication=AUTHENTICATION[printing.authentication],
        ),
        passwords=PasswordCheck(hub.auth.verify_password, hub.auth.password_version),
        dnssd_dir=Path(printing.dnssd_services_dir) if printing.dnssd_services_dir else None,
    )
    intake.service.clock = seconds  # job times on the hub's clock, like every other record
    # A job the hub deletes or expires has its analysis (its Ghostscript) killed at once.
    jobs.withdrawn = intake.service.stop_analysis
    loop = asyncio.get_running_loop()
    sweeper = loop.create_task(jobs.sweep_forever(PRINT_SWEEP_S))
    heartbeat = loop.create_task(jobs.heartbeat_forever())
    return PrintIntake(intake, jobs, [sweeper, heartbeat])


def write_trust_bundle(config: HubConfig) -> Path:
    """Make the CA and server certificate if missing (first start) and write the certificates
    admins and tools verify the hub with to ``data_dir/hub-ca.pem`` (0644)."""
    material = load_material(pki_config(config), SystemClock())
    path = config.data_dir / HUB_CA_FILE
    bundle = material.trust_bundle_pem()
    if not path.exists() or path.read_bytes() != bundle:
        temporary = path.with_name(f".{path.name}.new")
        temporary.write_bytes(bundle)
        temporary.chmod(0o644)
        os.replace(temporary, path)
    return path


def web_tls(config: HubConfig, clock: Clock) -> ssl.SSLContext | None:
    """The web listener's TLS: ``[web] tls_cert_file``/``tls_key_file`` where given, else the
    hub's server certificate (None: ``plain_http``, which the configuration allows on loopback
    only)."""
    if config.web.plain_http:
        return None
    if not config.web.tls_cert_file:
        return server_ssl_context(server_certificate_tls(config, clock))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(config.web.tls_cert_file, config.web.tls_key_file)
    return context


async def start_web_apps(
    config: HubConfig,
    hub: Hub,
    printing: PrintIntake | None,
    ssl_context: ssl.SSLContext | None,
    share_port: bool,
    scan_downloads: ScanDownloads | None = None,
) -> WebServer | None:
    """The console and portal when ``[web] listen`` is set (web print when intake runs, scan
    downloads when the scan intake runs)."""
    if not config.web.listen:
        return None
    host, port = parse_listen(config.web.listen)
    agents = config.printing.printer_snmp
    watch = (
        PrinterWatch(agents, config.printing.snmp_community, config.printing.snmp_timeout_s)
        if agents
        else None
    )
    uploads = PrintUploads(printing.intake.service) if printing is not None else None
    return await start_web(
        hub,
        config.web,
        host,
        port,
        ssl_context or web_tls(config, hub.clock),
        uploads,
        watch,
        reuse_port=share_port,
        scan_downloads=scan_downloads,
    )


def _tighten_pki(directory: Path) -> None:
    """The PKI's keys (and its directory) readable by the hub only, even when an older hub or a
    copied backup left them looser; certificates are public and keep their mode."""
    if not directory.is_dir():
        return
    private_directory(directory)
    for path in directory.iterdir():
        if path.suffix not in (".crt", ".pem"):
            tighten(path)


class IntakeMailbox:
    """E-mail printing's :class:`~hub_server.scan.PrintMailbox`: the hub's users and its print
    intake (the same spool, analysis and prices as IPP and LPD jobs; source ``email``)."""

    def __init__(self, hub: Hub, printing: PrintIntake) -> None:
        self.hub = hub
        self.service = printing.intake.service

    def user_for_address(self, address: str) -> str | None:
        return self.hub.scans.user_for_address(address)

    async def hold(self, user: str, file_name: str, data: bytes) -> int:
        submission = Submission(user, file_name, sniff_format(data[:4096]), "email", verified=True)
        try:
            with self.service.open_writer(user, user) as writer:
                writer.write(data)
                return self.service.add_stored_job(self.service.new_record(submission, user), writer).job_id
        except IntakeError as error:
            raise ValueError(str(error)) from None

    async def priced(self, job_id: int) -> HeldPrint:
        await self.service.wait_idle()  # the job's analysis (pages, colour) decides its price
        quote = self.hub.printing.quote(job_id)
        if quote is None:
            refused = self.hub.rules.deleted_reason(job_id) or "the job was deleted meanwhile"
            return HeldPrint(job_id, 0, 0, 0, refused=refused)
        return HeldPrint(
            job_id, quote.pages, quote.copies, quote.price_cents, quote.estimate_note, quote.rule_note
        )

    def is_user(self, username: str) -> bool:
        return self.hub.scans.is_active_user(username)

    async def release_code(self, job_id: int, pages_max: int, price_max_cents: int) -> ReleaseCode:
        issued = await self.hub.guests.issue(job_id, GuestLimits(pages_max, price_max_cents))
        return ReleaseCode(issued.code, issued.expires_us)

    async def withdraw(self, job_id: int) -> None:
        await self.hub.printing.delete(None, [job_id])


def start_email_printing(
    settings: ScanSettings, hub: Hub, printing: PrintIntake | None, images: ScanProcessor
) -> EmailPrinting | None:
    """E-mail printing (``[scan] print_recipients``); it needs the print intake."""
    if not settings.print_recipients:
        return None
    if printing is None or settings.email is None:
        raise ValueError("e-mail printing needs the print intake ([print] ipp_listen or lpd_listen)")
    email = settings.email
    return EmailPrinting(
        EmailPrintConfig(
            settings.print_recipients,
            settings.print_relays,
            settings.print_attachments_max,
            settings.print_attachment_bytes_max,
            settings.print_guests,
            settings.print_guest_user,
            settings.print_guest_pages_max,
            settings.print_guest_price_max_cents,
        ),
        IntakeMailbox(hub, printing),
        RelaySender(email.relay_host, email.relay_port, email.sender, email.tls_context()),
        images,
    )


def start_outbox(config: HubConfig, hub: Hub) -> RunningOutbox | None:
    """Notice mails through the site's relay (``[scan.email]``): job rules' ``notify`` lines
    go to the job's owner. Without a relay they are logged only."""
    email = load_scan_config(config.scan).email
    if email is None:
        return None
    relay = RelaySender(email.relay_host, email.relay_port, email.sender, email.tls_context())
    outbox = Outbox(relay)
    hub.rules.mailer = outbox.offer
    return RunningOutbox(outbox, asyncio.get_running_loop().create_task(outbox.run()))


async def start_scanning(
    config: HubConfig, hub: Hub, secret: bytes, printing: PrintIntake | None = None
) -> Scanning | None:
    """The scan intake (``[scan] listen``): finish scans a stopped hub left in its spool, then
    take mail from the registered printers; every outcome goes to the scan log."""
    settings = load_scan_config(config.scan)
    if not settings.enabled:
        return None
    root = config.data_dir / SCAN_DIR
    links = DirectoryLinkStore(root / "links")
    link_key = derive_key(secret, b"printgate scan link key v1")
    downloads = ScanDownloads(link_key, links)
    processor = ScanProcessor(root / "work", settings.limits)
    email_printing = start_email_printing(settings, hub, printing, processor)
    intake = ScanIntake(
        sessions=hub.scans,
        profiles=hub.scans.live_profiles,
        destinations=build_destinations(settings, link_key, links),
        processor=processor,
        spool_dir=root / "spool",
        spool_key=derive_key(secret, b"printgate scan spool key v1"),
        meter=hub.scans,
        config=ScanIntakeConfig(
            grace_s=settings.grace_s,
            no_session=settings.no_session,
            unclaimed_destination=settings.unclaimed_destination or None,
        ),
        clock_us=hub.clock.now_us,
    )
    outcomes = intake.subscribe()
    counter_wait_us = int((settings.grace_s + COUNTER_CHECK_MARGIN_S) * 1_000_000)

    async def check_counters() -> list[CounterCheck]:
        """Compare the sessions that are over; call it when every outcome taken is logged."""
        return await hub.scans.check_scan_counters(counter_wait_us, intake.sessions_in_progress())

    async def keep_log() -> None:
        # The comparison runs in this task, between outcomes, so every outcome published is
        # already in the scan log; scans not yet finished keep their sessions pending.
        loop = asyncio.get_running_loop()
        next_check = loop.time() + COUNTER_CHECK_S
        while True:
            outcome = None
            with contextlib.suppress(TimeoutError):
                outcome = await asyncio.wait_for(outcomes.get(), max(0.0, next_check - loop.time()))
            if outcome is not None:
                try:
                    await hub.scans.record_outcome(outcome)
                except Exception:
                    log.exception("scan %s: its outcome could not be logged", outcome.scan_id)
                finally:
                    outcomes.task_done()
            if loop.time() >= next_check and outcomes.empty():
                next_check = loop.time() + COUNTER_CHECK_S
                try:
                    await check_counters()
                except Exception:
                    log.exception("scan counter check failed; it runs again")

    log_keeper = asyncio.get_running_loop().create_task(keep_log())
    recovered = await intake.recover()
    if recovered:
        log.warning("scan intake: %d scan(s) from before the restart are being finished", recovered)
    host, port = parse_listen(settings.listen)
    smtp = await start_scan_smtp(
        intake,
        hub.scans.printer_directory(),
        ScanSmtpConfig(
            settings.recipients,
            host,
            port,
            settings.hostname,
            settings.tls_context() or server_ssl_context(server_certificate_tls(config, hub.clock)),
            settings.require_starttls,
            settings.data_bytes_max,
            settings.recipients_max,
            settings.connections_max,
        ),
        email_printing,
    )
    purger = asyncio.get_running_loop().create_task(_purge_downloads(downloads))
    return Scanning(intake, smtp, outcomes, log_keeper, downloads, purger, check_counters, email_printing)


async def _purge_downloads(downloads: ScanDownloads) -> None:
    while True:
        try:
            removed = await asyncio.to_thread(downloads.purge)
        except OSError as error:
            log.warning("scan downloads: expired scans not removed: %s", error)
        else:
            if removed:
                log.info("scan downloads: %d expired scan(s) removed", removed)
        await asyncio.sleep(DOWNLOAD_PURGE_S)


def start_directory_schedule(hub: Hub) -> SyncScheduler | None:
    """Scheduled directory syncs (``[directory] sync_interval_s``): every process starts the
    scheduler; the schedule lease in the database lets one process of the site run the rounds."""
    interval_s = hub.directory.config.sync_interval_s
    if not interval_s or not hub.directory.config.sources:
        return None
    scheduler = SyncScheduler(hub.directory, interval_s)
    scheduler.start()
    return scheduler


def check_config(config: HubConfig) -> None:
    """Refuse capability tables that cannot work before anything starts (``ValueError``)."""
    load_directory_config(config.directory)
    if load_scan_config(config.scan).print_recipients and not config.printing.enabled:
        raise ValueError("[scan] print_recipients needs the print intake ([print] ipp_listen or lpd_listen)")


def prepare(config: HubConfig, clock: Clock) -> Database:
    """Open (and migrate) storage, check the books, create the first admin credential, the hub
    secret and the PKI's CA and server certificate."""
    private_directory(config.data_dir)
    for name in (SECRET_FILE, ADMIN_TOKEN_FILE):
        tighten(config.data_dir / name)
    _tighten_pki(config.data_dir / PKI_DIR)
    db = open_hub_database(config.database_url)
    refuse_bad_books(db)
    created = ensure_admin_credential(db, config.data_dir, clock.now_us())
    if created:
        log.warning("first start: admin credential written to %s", created)
    load_or_create_secret(config.data_dir / SECRET_FILE)
    write_trust_bundle(config)
    return db


def fleet_mqtt_settings(config: HubConfig, fleet: FleetConfig, pki: HubPki) -> HubMqttSettings:
    """The hub's MQTT identity: a client certificate (CN ``printgate-hub@<replica>``) issued by the
    hub CA at every start, kept in ``data_dir/fleet`` with the trust bundle the broker is checked by."""
    directory = private_directory(config.data_dir / FLEET_DIR)
    key_pem, chain_pem = hub_client_certificate(pki.material.authority, pki.clock.now_us(), fleet.replica)
    key_path = private_file(directory / "hub-client.key")
    key_path.write_bytes(key_pem)
    certificate_path = directory / "hub-client.crt"
    certificate_path.write_bytes(chain_pem)
    ca_path = directory / "ca.pem"
    ca_path.write_bytes(pki.material.trust_bundle_pem())
    host, port = fleet.broker_address
    return HubMqttSettings(host, port, ca_path, certificate_path, key_path, hub_username(fleet.replica))


def write_fleet_broker_files(config: HubConfig, directory: Path, run_as: str | None = None) -> BrokerFiles:
    """Write the Mosquitto set-up of ``[fleet] broker`` from the hub's PKI (made now on a first
    start): configuration, ACL, CA, the hub's server certificate and key for the listener, the
    CRL (docs/fleet.md). ``run_as`` is the broker's ``user`` line (None: its default)."""
    fleet = FleetConfig.from_toml(config.fleet)
    clock = SystemClock()
    db = prepare(config, clock)
    try:
        secret = load_or_create_secret(config.data_dir / SECRET_FILE)
        pki = HubPki(pki_config(config), db, clock, enrollment_token_key(secret))
        host, port = fleet.broker_address
        return write_broker_files(
            directory,
            pki.material,
            pki.revocation_list_pem(),
            host,
            port,
            clock.now_us(),
            run_as=run_as,
            replicas=(fleet.replica,),
        )
    finally:
        db.close()


async def keep_broker_crl(pki: HubPki, path: Path, poll_s: float = 1.0) -> None:
    """Write the broker's CRL at start and after every revocation this hub learns of (its own or
    another replica's), until cancelled; the broker reads it again on SIGHUP (docs/fleet.md)."""
    written = None
    while True:
        version = pki.revocations.version
        if version != written:
            write_crl(path, await asyncio.to_thread(pki.revocation_list_pem))
            written = version
            log.info("fleet: broker CRL written to %s (revocation version %d)", path, version)
        await asyncio.sleep(poll_s)


def start_fleet(
    config: HubConfig, db: Database, clock: Clock, pki: HubPki, fleet: FleetConfig
) -> RunningFleet:
    """Start fleet management (``[fleet] enabled``): everything on the running event loop, the
    MQTT client too."""
    loop = asyncio.get_running_loop()
    channels = fleet.channels()
    dispatcher = AlertDispatcher(db, clock, channels)
    component = FleetComponent(
        db,
        clock,
        thresholds=fleet.thresholds,
        channels=tuple(channels),
        is_revoked=pki.revocations.is_device_revoked,
        blocking_errors=BLOCKING_ERROR_BITS,
        on_alerts=dispatcher.wake,
    )
    mqtt = HubMqtt(fleet_mqtt_settings(config, fleet, pki), component.submit, loop)
    component.publisher = mqtt
    poller = PrinterPoller(component, fleet.printer_targets(), interval_s=fleet.snmp_poll_s)
    tasks = [
        loop.create_task(component.run(), name="fleet-intake"),
        loop.create_task(component.run_sweeps(fleet.sweep_interval_s), name="fleet-sweeps"),
        loop.create_task(dispatcher.run(), name="fleet-alerts"),
    ]
    if poller.printers:
        tasks.append(loop.create_task(poller.run(), name="fleet-snmp"))
    if fleet.crl_file:
        tasks.append(loop.create_task(keep_broker_crl(pki, Path(fleet.crl_file)), name="fleet-crl"))
    mqtt.start()
    log.info("fleet: subscribing at %s as %s", fleet.broker, hub_username(fleet.replica))
    return RunningFleet(component, mqtt, dispatcher, poller, tasks)


def _admin_authorizer(hub: Hub, service: str) -> Callable[[grpc.aio.ServicerContext], Awaitable[str]]:
    """The admin check of AdminService for a capability's own admin service: the admin's name,
    or the call ended with UNAUTHENTICATED."""

    async def authorize(context: grpc.aio.ServicerContext) -> str:
        try:
            return hub.auth.admin_name(bearer_token(context))
        except HubError as error:
            await abort_for(context, service, error)
            raise

    return authorize


def _device_identifier(gate: DeviceGate) -> Callable[[grpc.aio.ServicerContext], Awaitable[str]]:
    async def identify(context: grpc.aio.ServicerContext) -> str:
        try:
            return gate.identify(context).device_id
        except HubError as error:
            await abort_for(context, "FleetDeviceService", error)
            raise

    return identify


def _add_port(server: grpc.aio.Server, address: str, credentials: grpc.ServerCredentials | None) -> int:
    if credentials is None:
        return int(server.add_insecure_port(address))
    return int(server.add_secure_port(address, credentials))


def _serve_services(
    server: grpc.aio.Server, hub: Hub, pki: HubPki, config: HubConfig, fleet: RunningFleet | None
) -> None:
    gate = PlaintextGate(hub) if config.dev_plaintext else CertificateGate(pki)
    if fleet is not None:
        fleet_pb2_grpc.add_FleetAdminServiceServicer_to_server(
            FleetAdminServicer(fleet.component, _admin_authorizer(hub, "FleetAdminService")), server
        )
        fleet_pb2_grpc.add_FleetDeviceServiceServicer_to_server(
            FleetDeviceServicer(fleet.component, _device_identifier(gate)), server
        )
    terminal_pb2_grpc.add_TerminalServiceServicer_to_server(TerminalServicer(hub, gate), server)
    kiosk_pb2_grpc.add_KioskServiceServicer_to_server(KioskServicer(hub, gate), server)
    admin_pb2_grpc.add_AdminServiceServicer_to_server(AdminServicer(hub), server)
    kiosk_pb2_grpc.add_KioskAdminServiceServicer_to_server(KioskAdminServicer(hub), server)
    enrollment_pb2_grpc.add_EnrollmentServiceServicer_to_server(EnrollmentServicer(pki), server)
    directory_pb2_grpc.add_DirectoryServiceServicer_to_server(
        DirectoryServicer(hub.directory, _admin_authorizer(hub, "DirectoryService")), server
    )
    scan_pb2_grpc.add_ScanAdminServiceServicer_to_server(ScanAdminServicer(hub), server)
    admin_pb2_grpc.add_JobRulesServiceServicer_to_server(JobRulesServicer(hub), server)
    sites_pb2_grpc.add_SiteAdminServiceServicer_to_server(SiteAdminServicer(hub), server)


async def start_hub(
    config: HubConfig,
    clock: Clock | None = None,
    share_port: bool = False,
    web_ssl: ssl.SSLContext | None = None,
) -> RunningHub:
    """Open storage (migrating it) and the PKI, and serve the device port (``config.listen``)
    and the admin port (``config.admin_listen``), both TLS unless ``dev_plaintext``.

    ``share_port`` lets several worker processes serve the ports (SO_REUSEPORT). It is off
    otherwise, so a second hub started on a busy port fails instead of silently sharing it.
    The PKI runs on the real time whatever ``clock`` says: TLS checks certificates against it.
    ``web_ssl`` is the web listener's TLS (else as :func:`web_tls` says).
    """
    clock = clock or SystemClock()
    db = prepare(config, clock)
    secret = load_or_create_secret(config.data_dir / SECRET_FILE)
    limits = config.pki
    pki = HubPki(
        pki_config(config),
        db,
        SystemClock(),
        enrollment_token_key(secret),
        on_enrolled=enrolled_device_binder(clock),
        limiter=AttemptLimiter(burst=limits.enroll_burst, per_minute=limits.enroll_per_minute),
    )
    spool = open_spool(config, clock, secret, db) if config.printing.enabled else None
    hub = Hub(db, config, clock, secret, spool, pki)
    fleet_config = FleetConfig.from_toml(config.fleet)
    if hub.sites.ensure_own_site():
        log.warning(
            "site %r created: this hub's [hub] site; its jobs roam until it says otherwise", config.site
        )
    outbox = start_outbox(config, hub)
    printing = await start_printing(config, hub, spool) if spool is not None else None
    scanning = await start_scanning(config, hub, secret, printing)
    fleet = start_fleet(config, db, clock, pki, fleet_config) if fleet_config.enabled else None
    server = grpc.aio.server(options=[*SERVER_OPTIONS, ("grpc.so_reuseport", int(share_port))])
    _serve_services(server, hub, pki, config, fleet)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    if config.dev_plaintext:
        _warn_plaintext(config)
    plain = config.dev_plaintext
    port = _add_port(server, config.listen, None if plain else pki.tls.credentials(require_client_auth=True))
    admin_port = port and _add_port(
        server, config.admin_listen, None if plain else pki.tls.credentials(require_client_auth=False)
    )
    if not admin_port:
        if printing is not None:
            await printing.close()
        if scanning is not None:
            await scanning.close()
        if outbox is not None:
            await outbox.close()
        if fleet is not None:
            await fleet.close()
        db.close()
        raise OSError(f"cannot listen on {config.listen if not port else config.admin_listen}")
    names = config.pki.server_names
    pki.advertise(config.pki.device_addresses or (advertised(config.listen, port, names),))
    enroll_at = config.pki.enroll_addresses or (advertised(config.admin_listen, admin_port, names),)
    hub.enrollment.addresses = enroll_at
    await server.start()
    await pki.start()
    downloads = scanning.downloads if scanning is not None else None
    web_server = await start_web_apps(config, hub, printing, web_ssl, share_port, downloads)
    await health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    return RunningHub(
        server=server,
        hub=hub,
        db=db,
        pki=pki,
        port=port,
        admin_port=admin_port,
        health=health_servicer,
        printing=printing,
        web=web_server,
        fleet=fleet,
        directory_schedule=start_directory_schedule(hub),
        scanning=scanning,
        outbox=outbox,
    )


def _resolve_port(listen: str) -> str:
    host, _, port = listen.rpartition(":")
    if port != "0":
        return listen
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.bind((host.strip("[]"), 0))
        return f"{host}:{probe.getsockname()[1]}"


def _worker_main(config: HubConfig, parent_pid: int) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(_serve_until_signalled(config, share_port=True, parent_pid=parent_pid))


async def _exit_with_parent(parent_pid: int, stop: asyncio.Event) -> None:
    # A parent killed with SIGKILL cannot stop its workers: they notice and stop themselves.
    while os.getppid() == parent_pid:
        await asyncio.sleep(PARENT_CHECK_S)
    stop.set()


async def _serve_until_signalled(
    config: HubConfig,
    share_port: bool,
    ready_file: Path | None = None,
    parent_pid: int | None = None,
) -> None:
    running = await start_hub(config, share_port=share_port)
    if parent_pid is None:
        address = f"{config.listen.rsplit(':', 1)[0]}:{running.port}"
        admin = f"{config.admin_listen.rsplit(':', 1)[0]}:{running.admin_port}"
        security = "PLAINTEXT (development)" if config.dev_plaintext else "TLS"
        print(
            f"printgate hub: devices on {address}, admin and enrollment on {admin}, {security} "
            f"(data in {config.data_dir}, CA in {config.data_dir / HUB_CA_FILE})",
            flush=True,
        )
        if running.printing is not None:
            print(
                f"print intake: IPP port {running.ipp_port or 'off'}, IPPS port {running.ipps_port or 'off'},"
                f" LPD port {running.lpd_port or 'off'}",
                flush=True,
            )
        if running.web is not None:
            print(f"web console and portal on port {running.web.port}", flush=True)
        if ready_file:
            ready_file.write_text(f"{address}\n{admin}\n")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    watchdog = asyncio.ensure_future(_exit_with_parent(parent_pid, stop)) if parent_pid else None
    await stop.wait()
    if watchdog:
        watchdog.cancel()
    await running.stop()


async def serve(config: HubConfig, ready_file: Path | None = None) -> None:
    """Run a hub until SIGTERM or SIGINT, with ``config.workers`` processes on one port.

    Storage is prepared once here, before any worker starts, so migrations and the first admin
    credential never race. Workers are spawned (not forked) before any gRPC object exists.
    """
    check_config(config)
    prepare(config, SystemClock()).close()
    if config.workers <= 1:
        await _serve_until_signalled(config, share_port=False, ready_file=ready_file)
        return
    config = replace(
        config, listen=_resolve_port(config.listen), admin_listen=_resolve_port(config.admin_listen)
    )
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=_worker_main, args=(config, os.getpid()), daemon=True)
        for _ in range(config.workers - 1)
    ]
    for worker in workers:
        worker.start()
    try:
        await _serve_until_signalled(config, share_port=True, ready_file=ready_file)
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.join(10)
