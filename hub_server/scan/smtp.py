"""The SMTP receiver MFPs send their scans to (aiosmtpd, on the hub's own event loop).

* STARTTLS with the certificate it is given (the hub's); with ``require_starttls`` nothing but
  EHLO/STARTTLS/QUIT is accepted in clear.
* A printer is known by its registered address, or by SMTP AUTH (PLAIN/LOGIN, over TLS only)
  with the login registered for it; a printer that has a login must use it. Anybody else is
  refused at ``MAIL FROM`` (550), whatever the ``From`` header says.
* Bounded: message size (``data_bytes_max``, larger ones get 552 and are discarded as they
  arrive), recipients per message (452 past ``recipients_max``; only the configured scan
  addresses are taken), open connections, and an idle timeout per connection.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from dataclasses import dataclass
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from .attribution import PrinterDirectory, RegisteredPrinter
from .email_print import EmailPrinting
from .errors import ScanRefused
from .service import ScanIntake

__all__ = ["ScanSmtpConfig", "ScanSmtpServer", "start_scan_smtp"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScanSmtpConfig:
    """Where and how the receiver listens."""

    recipients: frozenset[str]  # the scan addresses MFPs are configured with, lower case
    host: str = "127.0.0.1"
    port: int = 2525
    hostname: str = "printgate-hub"
    tls_context: ssl.SSLContext | None = None
    require_starttls: bool = True
    data_bytes_max: int = 64 * 1024 * 1024
    recipients_max: int = 5
    connections_max: int = 64
    idle_timeout_s: float = 60.0


class _Handler:
    """aiosmtpd handler hooks: identify the printer, bound the envelope, hand over the data."""

    def __init__(
        self,
        intake: ScanIntake,
        printers: PrinterDirectory,
        config: ScanSmtpConfig,
        printing: EmailPrinting | None = None,
    ) -> None:
        self._intake = intake
        self._printers = printers
        self._config = config
        self._printing = printing

    def from_relay(self, session: Session) -> EmailPrinting | None:
        """E-mail printing, when this connection comes from the site's relay (print mail)."""
        peer = session.peer[0] if isinstance(session.peer, tuple) else ""
        if self._printing is None or session.authenticated or not self._printing.accepts_relay(peer):
            return None
        return self._printing

    def printer_of(self, session: Session) -> RegisteredPrinter | str:
        """The sending printer, or the SMTP reply refusing the sender."""
        if session.authenticated and isinstance(session.auth_data, str):
            printer = self._printers.get(session.auth_data)
            return printer if printer is not None else "550 5.7.1 unknown printer"
        peer = session.peer[0] if isinstance(session.peer, tuple) else ""
        printer = self._printers.by_address(peer)
        if printer is None:
            log.warning("scan SMTP: refused a sender from %s (not a registered printer)", peer)
            return "550 5.7.1 not a registered printer"
        if printer.smtp_login is not None:
            return "530 5.7.0 authentication required"
        return printer

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, mail_options: list[str]
    ) -> str:
        if self.from_relay(session) is None:
            printer = self.printer_of(session)
            if isinstance(printer, str):
                return printer
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if len(envelope.rcpt_tos) >= self._config.recipients_max:
            return "452 4.5.3 too many recipients"
        printing = self.from_relay(session)
        if printing is not None:
            if not printing.accepts_recipient(address):
                return "550 5.1.1 not a print address"
        elif address.lower() not in self._config.recipients:
            return "550 5.1.1 not a scan address"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        if not isinstance(raw, bytes):
            raw = raw.encode("utf-8", errors="surrogateescape")
        printing = self.from_relay(session)
        if printing is not None:
            try:
                return await printing.receive(envelope.mail_from or "", raw)
            except ScanRefused as refusal:
                return refusal.reply
        printer = self.printer_of(session)
        if isinstance(printer, str):
            return printer
        try:
            return await self._intake.receive(printer, raw)
        except ScanRefused as refusal:
            log.warning("scan from %s refused: %s", printer.printer_id, refusal)
            return refusal.reply

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        """aiosmtpd authenticator: a printer's SMTP login; ``auth_data`` becomes its id."""
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode("utf-8", errors="replace")
        printer = self._printers.by_credential(login, auth_data.password.decode("utf-8", errors="replace"))
        if printer is None:
            log.warning("scan SMTP: failed AUTH for login %r", login)  # never the password
            return AuthResult(success=False, handled=False)
        return AuthResult(success=True, auth_data=printer.printer_id)


class ScanSmtpServer:
    """A listening receiver; ``close()`` stops it."""

    def __init__(self, server: asyncio.Server, config: ScanSmtpConfig) -> None:
        self._server = server
        self.config = config

    @property
    def port(self) -> int:
        """The bound port (useful when configured as 0)."""
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def close(self) -> None:
        """Stop listening and close the open connections."""
        self._server.close()
        await self._server.wait_closed()


async def start_scan_smtp(
    intake: ScanIntake,
    printers: PrinterDirectory,
    config: ScanSmtpConfig,
    printing: EmailPrinting | None = None,
) -> ScanSmtpServer:
    """Listen for MFPs on ``config.host:config.port`` (and, with ``printing``, for print mail
    from the site's relay)."""
    handler = _Handler(intake, printers, config, printing)
    open_connections = 0

    class _Protocol(SMTP):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            nonlocal open_connections
            open_connections += 1
            super().connection_made(transport)
            if open_connections > config.connections_max:
                transport.close()

        def connection_lost(self, error: Exception | None) -> None:
            nonlocal open_connections
            open_connections -= 1
            super().connection_lost(error)

    def factory() -> SMTP:
        return _Protocol(
            handler,
            data_size_limit=config.data_bytes_max,
            hostname=config.hostname,
            tls_context=config.tls_context,
            require_starttls=config.tls_context is not None and config.require_starttls,
            timeout=config.idle_timeout_s,
            auth_require_tls=True,
            authenticator=handler.authenticate,
            auth_exclude_mechanism=["CRAM-MD5"],
        )

    server = await asyncio.get_running_loop().create_server(factory, config.host, config.port)
    return ScanSmtpServer(server, config)
